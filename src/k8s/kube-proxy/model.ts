/**
 * What kube-proxy's iptables proxier works from, as plain data: the service ports it proxies
 * (proxy.ServicePort) with their endpoints (proxy.Endpoint from EndpointSlices), and the node's
 * own settings. A later step derives this from Service and EndpointSlice objects.
 */
import type { Ipv4Addr } from '../../packet/addr.js';

export type ServiceProtocol = 'TCP' | 'UDP' | 'SCTP';
export type TrafficPolicy = 'Cluster' | 'Local';

/** One endpoint of one service port (discovery/v1 Endpoint + EndpointPort). */
export interface ProxyEndpoint {
  readonly ip: Ipv4Addr;
  readonly port: number;
  /** conditions.ready (unset means ready). */
  readonly ready: boolean;
  /** conditions.serving; defaults to `ready`. */
  readonly serving?: boolean;
  /** conditions.terminating; defaults to false. */
  readonly terminating?: boolean;
  /** nodeName equals this node's name. */
  readonly isLocal: boolean;
}

export interface ProxyServicePort {
  /** ServicePort.name; '' for a service's single unnamed port. */
  readonly name: string;
  readonly protocol: ServiceProtocol;
  readonly port: number;
  readonly endpoints: readonly ProxyEndpoint[];
}

export interface ProxyService {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIP: Ipv4Addr;
  readonly ports: readonly ProxyServicePort[];
  readonly sessionAffinity?: 'None' | 'ClientIP';
  /** sessionAffinityConfig.clientIP.timeoutSeconds; the API default is 10800. */
  readonly affinityTimeoutSeconds?: number;
  readonly internalTrafficPolicy?: TrafficPolicy;
}

export interface KubeProxyConfig {
  /** --cluster-cidr: the local-traffic detector (LocalTrafficDetector "ClusterCIDR"). */
  readonly clusterCidr: { readonly addr: Ipv4Addr; readonly prefixLen: number } | null;
  /** --masquerade-all. */
  readonly masqueradeAll?: boolean;
  /** --iptables-masquerade-bit, 14 by default → mark 0x4000. */
  readonly masqueradeBit?: number;
  /** --iptables-localhost-nodeports, true by default (adds the KUBE-FIREWALL localnet rule). */
  readonly localhostNodePorts?: boolean;
  /** nf_conntrack_tcp_be_liberal != 0 drops the `--ctstate INVALID -j DROP` rule. */
  readonly conntrackTcpBeLiberal?: boolean;
  /** iptables' HasRandomFully(); true for any iptables ≥ 1.6.2. */
  readonly randomFully?: boolean;
}

export interface KubeProxyInput {
  readonly services: readonly ProxyService[];
  readonly config: KubeProxyConfig;
}
