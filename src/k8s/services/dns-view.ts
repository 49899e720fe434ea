/**
 * What CoreDNS's informers see of the cluster (apps/kubernetes-dns.ts KubernetesDnsView), read
 * from the Service registry: Services with their ClusterIP (null when headless) and ports, the
 * ready addresses of their EndpointSlices, and the namespaces that exist. The SOA serial is the
 * Unix time of the last change the registry reported, as CoreDNS's APIConn.Modified is.
 */
import type { DnsEndpoint, DnsService, KubernetesDnsView } from '../../apps/kubernetes-dns.js';
import { unixSeconds } from '../../apps/wall-clock.js';
import type { Scheduler } from '../../sim/scheduler.js';
import type { Service } from './model.js';
import type { ServiceRegistry } from './registry.js';

/** Namespaces every kubeadm cluster has. */
export const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function dnsService(s: Service): DnsService {
  return {
    namespace: s.namespace,
    name: s.name,
    clusterIp: typeof s.clusterIP === 'number' ? s.clusterIP : null,
    ports: s.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port })),
    ...(s.type === 'ExternalName' && s.externalName !== undefined ? { externalName: s.externalName } : {}),
  };
}

export class RegistryDnsView implements KubernetesDnsView {
  private modifiedNs: number;

  constructor(
    private readonly registry: ServiceRegistry,
    private readonly sched: Scheduler,
    /** Namespaces of the cluster's pods (they exist too). */
    private readonly podNamespaces: () => Iterable<string>,
  ) {
    this.modifiedNs = sched.nowNs;
    registry.onChange(() => (this.modifiedNs = sched.nowNs));
  }

  namespaceExists(namespace: string): boolean {
    if (BUILTIN_NAMESPACES.includes(namespace)) return true;
    if (this.registry.services().some((s) => s.namespace === namespace)) return true;
    for (const ns of this.podNamespaces()) if (ns === namespace) return true;
    return false;
  }

  service(namespace: string, name: string): DnsService | undefined {
    const s = this.registry.service(namespace, name);
    return s === undefined ? undefined : dnsService(s);
  }

  endpoints(namespace: string, name: string): readonly DnsEndpoint[] {
    const out: DnsEndpoint[] = [];
    for (const slice of this.registry.endpointSlices(namespace, name)) {
      const ports = slice.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port }));
      for (const e of slice.endpoints) {
        if (!e.conditions.ready) continue;
        for (const ip of e.addresses) {
          out.push({ ip, ports, ...(e.nodeName !== undefined ? { nodeName: e.nodeName } : {}), ...(e.targetRef !== undefined ? { podName: e.targetRef.name } : {}) });
        }
      }
    }
    return out;
  }

  services(): readonly DnsService[] {
    return this.registry.services().map(dnsService);
  }

  modifiedUnixSec(): number {
    return unixSeconds(this.modifiedNs);
  }
}
