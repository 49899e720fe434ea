/**
 * flannel's iptables rules (flannel-io/flannel pkg/trafficmngr/iptables/iptables.go: masqRules,
 * forwardRules), put in place as flanneld does with `iptables -A` after an `-C` check
 * (setupAndEnsureIP4Tables): the FLANNEL-POSTRTG chain hooked at the end of nat POSTROUTING, which
 * masquerades pod → outside traffic (and host → pod over the overlay) but neither pod ↔ pod
 * traffic nor what kube-proxy already marked for KUBE-POSTROUTING; and FLANNEL-FWD hooked into
 * filter FORWARD, accepting anything from or to the cluster network whatever the FORWARD policy.
 */
import { formatIpv4, type Ipv4Addr } from '../packet/addr.js';
import type { Ruleset, TableName } from '../net/netfilter/rules.js';
import { ensureChain, ensureRule } from './kube-proxy/iptables-client.js';

/** trafficmngr.KubeProxyMark: kube-proxy's masquerade bit 14, "0x4000/0x4000". */
export const FLANNEL_KUBE_PROXY_MARK = '0x4000/0x4000';

export interface FlannelIptablesConfig {
  /** The flannel network (net-conf.json Network), e.g. 10.244.0.0/16. */
  readonly network: { readonly addr: Ipv4Addr; readonly prefixLen: number };
  /** This node's lease (its pod subnet). */
  readonly subnet: { readonly addr: Ipv4Addr; readonly prefixLen: number };
  /** --ip-masq (true in the stock kube-flannel manifest). */
  readonly ipMasq?: boolean;
  /** iptables HasRandomFully() and not --ip-masq-random-fully-disable (flannel ≥ 0.25). */
  readonly randomFully?: boolean;
}

type RuleSpec = { table: TableName; chain: string; args: string[] };

const cidr = (n: { addr: Ipv4Addr; prefixLen: number }): string => `${formatIpv4(n.addr)}/${n.prefixLen}`;

/** masqRules(clusterCIDR, lease), in flannel's order. */
export function flannelMasqRules(cfg: FlannelIptablesConfig): RuleSpec[] {
  const cluster = cidr(cfg.network);
  const pod = cidr(cfg.subnet);
  const c = ['-m', 'comment', '--comment', 'flanneld masq'];
  const masq = ['-j', 'MASQUERADE', ...(cfg.randomFully ?? true ? ['--random-fully'] : [])];
  const r = (chain: string, args: string[]): RuleSpec => ({ table: 'nat', chain, args });
  return [
    r('POSTROUTING', [...c, '-j', 'FLANNEL-POSTRTG']),
    // kube-proxy marked it: KUBE-POSTROUTING masquerades it (avoids a double NAT on some kernels).
    r('FLANNEL-POSTRTG', ['-m', 'mark', '--mark', FLANNEL_KUBE_PROXY_MARK, ...c, '-j', 'RETURN']),
    // No NAT inside the overlay.
    r('FLANNEL-POSTRTG', ['-s', pod, '-d', cluster, ...c, '-j', 'RETURN']),
    r('FLANNEL-POSTRTG', ['-s', cluster, '-d', pod, ...c, '-j', 'RETURN']),
    // External traffic arriving from the node that owns the pod address is left alone.
    r('FLANNEL-POSTRTG', ['!', '-s', cluster, '-d', pod, ...c, '-j', 'RETURN']),
    // NAT unless multicast.
    r('FLANNEL-POSTRTG', ['-s', cluster, '!', '-d', '224.0.0.0/4', ...c, ...masq]),
    // Masquerade anything headed towards flannel from the host.
    r('FLANNEL-POSTRTG', ['!', '-s', cluster, '-d', cluster, ...c, ...masq]),
  ];
}

/** forwardRules(flannelNetwork). */
export function flannelForwardRules(cfg: FlannelIptablesConfig): RuleSpec[] {
  const cluster = cidr(cfg.network);
  const c = ['-m', 'comment', '--comment', 'flanneld forward'];
  return [
    { table: 'filter', chain: 'FORWARD', args: [...c, '-j', 'FLANNEL-FWD'] },
    { table: 'filter', chain: 'FLANNEL-FWD', args: ['-s', cluster, ...c, '-j', 'ACCEPT'] },
    { table: 'filter', chain: 'FLANNEL-FWD', args: ['-d', cluster, ...c, '-j', 'ACCEPT'] },
  ];
}

/** What flanneld sets up on a node at start: FLANNEL-POSTRTG (with --ip-masq) and FLANNEL-FWD. */
export function programFlannelIptables(ruleset: Ruleset, cfg: FlannelIptablesConfig): void {
  ensureChain(ruleset, 'filter', 'FLANNEL-FWD');
  const rules = flannelForwardRules(cfg);
  if (cfg.ipMasq ?? true) {
    ensureChain(ruleset, 'nat', 'FLANNEL-POSTRTG');
    rules.unshift(...flannelMasqRules(cfg));
  }
  for (const r of rules) ensureRule(ruleset, 'append', r.table, r.chain, r.args);
}
