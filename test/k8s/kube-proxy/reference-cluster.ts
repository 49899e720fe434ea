/** The Services of the kernel reference journeys (fixtures/kernel/README.md) as kube-proxy input. */
import { parseIpv4 } from '../../../src/packet/addr.js';
import type { KubeProxyInput, ProxyEndpoint } from '../../../src/k8s/kube-proxy/model.js';

export const CLUSTER_CIDR = { addr: parseIpv4('10.244.0.0'), prefixLen: 16 };
export const NODES = [
  { name: 'n1', ip: parseIpv4('192.168.1.10'), subnet: { addr: parseIpv4('10.244.1.0'), prefixLen: 24 } },
  { name: 'n2', ip: parseIpv4('192.168.1.11'), subnet: { addr: parseIpv4('10.244.2.0'), prefixLen: 24 } },
] as const;

function ep(ip: string, port: number, node: string, self: string): ProxyEndpoint {
  return { ip: parseIpv4(ip), port, ready: true, isLocal: node === self };
}

export function referenceInput(self: string): KubeProxyInput {
  return {
    config: { clusterCidr: CLUSTER_CIDR },
    services: [
      {
        namespace: 'default', name: 'web', clusterIP: parseIpv4('10.96.0.100'),
        // Listed in the opposite order on purpose: kube-proxy sorts endpoints by "IP:port".
        ports: [{ name: 'http', protocol: 'TCP', port: 80, endpoints: [ep('10.244.2.2', 8080, 'n2', self), ep('10.244.1.3', 8080, 'n1', self)] }],
      },
      {
        namespace: 'kube-system', name: 'kube-dns', clusterIP: parseIpv4('10.96.0.10'),
        ports: [
          { name: 'dns', protocol: 'UDP', port: 53, endpoints: [ep('10.244.2.3', 53, 'n2', self)] },
          { name: 'dns-tcp', protocol: 'TCP', port: 53, endpoints: [ep('10.244.2.3', 53, 'n2', self)] },
        ],
      },
      { namespace: 'default', name: 'noep', clusterIP: parseIpv4('10.96.0.200'), ports: [{ name: 'http', protocol: 'TCP', port: 80, endpoints: [] }] },
    ],
  };
}
