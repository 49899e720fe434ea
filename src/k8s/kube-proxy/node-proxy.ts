/**
 * kube-proxy running on one node in iptables mode: at start it sets the conntrack timeouts it
 * owns (the conntrack section of KubeProxyConfiguration: tcpEstablishedTimeout 24h,
 * tcpCloseWaitTimeout 1h) and creates its canary chains; each sync writes the node's rules for
 * the Services it is given through the netfilter model (syncIptables) and commits them, as
 * iptables-restore does, so the next packet is evaluated against the new rules.
 */
import type { Netns } from '../../net/netns.js';
import { KUBE_PROXY_TCP_TIMEOUTS } from '../../net/netfilter/conntrack-tcp.js';
import type { KubeProxyConfig, ProxyService } from './model.js';
import { ensureKubeProxyCanaries, syncIptables } from './proxier.js';

export class NodeKubeProxy {
  /** How many syncs ran (each is one iptables-restore). */
  syncs = 0;

  constructor(
    readonly nodeName: string,
    private readonly ns: Netns,
    private readonly config: KubeProxyConfig,
  ) {
    const nf = ns.ensureNetfilter();
    nf.enableConntrack({ timeouts: { tcp: KUBE_PROXY_TCP_TIMEOUTS } });
    ensureKubeProxyCanaries(nf.ruleset);
    nf.commit();
  }

  /** syncProxyRules with the Services and endpoints as this node sees them. */
  sync(services: readonly ProxyService[]): void {
    const nf = this.ns.ensureNetfilter();
    syncIptables(nf.ruleset, { services, config: this.config });
    nf.commit();
    this.syncs++;
  }
}
