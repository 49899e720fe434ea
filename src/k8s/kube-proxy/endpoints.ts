/**
 * Which endpoints of a service port kube-proxy uses, and in what order.
 *
 * Order: the endpoints cache sorts each port's endpoints by their "IP:port" string
 * (pkg/proxy/endpointslicecache.go, `sort.Sort(byEndpoint(...))`), so 10.244.10.2 comes before
 * 10.244.2.2. Choice: proxy.CategorizeEndpoints (pkg/proxy/topology.go) without topology hints —
 * Cluster policy uses the ready endpoints, or when there are none the serving-and-terminating
 * ones; Local policy does the same among this node's endpoints.
 */
import { formatIpv4 } from '../../packet/addr.js';
import type { ProxyEndpoint, TrafficPolicy } from './model.js';

export interface EndpointInfo {
  readonly ep: ProxyEndpoint;
  /** BaseEndpointInfo.String(): "IP:port". */
  readonly text: string;
}

const isServing = (ep: ProxyEndpoint): boolean => ep.serving ?? ep.ready;
const isTerminating = (ep: ProxyEndpoint): boolean => ep.terminating ?? false;

/** Endpoints as the cache holds them: one per "IP:port" (the first wins), sorted by that string. */
export function sortedEndpoints(endpoints: readonly ProxyEndpoint[]): EndpointInfo[] {
  const seen = new Map<string, EndpointInfo>();
  for (const ep of endpoints) {
    const text = `${formatIpv4(ep.ip)}:${ep.port}`;
    if (!seen.has(text)) seen.set(text, { ep, text });
  }
  return [...seen.values()].sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
}

export interface Categorized {
  readonly cluster: EndpointInfo[];
  readonly local: EndpointInfo[];
  /** Endpoints that get a KUBE-SEP chain on this node. */
  readonly reachable: EndpointInfo[];
  readonly hasAny: boolean;
}

function readyOrTerminating(eps: readonly EndpointInfo[]): EndpointInfo[] {
  const ready = eps.filter((e) => e.ep.ready);
  return ready.length > 0 ? ready : eps.filter((e) => isServing(e.ep) && isTerminating(e.ep));
}

/** CategorizeEndpoints for a ClusterIP service (no external destinations). */
export function categorizeEndpoints(eps: readonly EndpointInfo[], internalPolicy: TrafficPolicy): Categorized {
  if (internalPolicy === 'Cluster') {
    const cluster = readyOrTerminating(eps);
    return { cluster, local: [], reachable: cluster, hasAny: cluster.length > 0 };
  }
  const hasAny = eps.some((e) => e.ep.ready || (isServing(e.ep) && isTerminating(e.ep)));
  const local = readyOrTerminating(eps.filter((e) => e.ep.isLocal));
  return { cluster: [], local, reachable: local, hasAny };
}
