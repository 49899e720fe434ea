/**
 * The Kubernetes DNS schema (kubernetes/dns docs/specification.md) as CoreDNS's kubernetes plugin
 * answers it (plugin/kubernetes: parse.go parseRequest, kubernetes.go findServices / findPods /
 * Reverse, plugin/backend_lookup.go A/SRV/PTR): the records for one question, or why there are
 * none (NXDOMAIN, NODATA, or not ours and so to the next plugin). The cluster's objects come
 * through KubernetesDnsView, which the k8s layer implements from its registry.
 */
import { formatIpv4, parseIpv4, type Ipv4Addr } from '../packet/addr.js';
import * as dns from '../packet/dns.js';

export interface DnsServicePort {
  /** The port's name; '' when unnamed (no SRV for it then). */
  readonly name: string;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly port: number;
}

export interface DnsService {
  readonly namespace: string;
  readonly name: string;
  /** spec.clusterIP; null for a headless service (clusterIP: None). */
  readonly clusterIp: Ipv4Addr | null;
  readonly ports: readonly DnsServicePort[];
  /** spec.externalName of a type ExternalName service. */
  readonly externalName?: string;
}

/** One ready address of a service's EndpointSlices. */
export interface DnsEndpoint {
  readonly ip: Ipv4Addr;
  /** The pod's spec.hostname when set (with spec.subdomain = the service name). */
  readonly hostname?: string;
  readonly nodeName?: string;
  readonly podName?: string;
  /** The endpoint ports (targetPorts with the service port names). */
  readonly ports: readonly DnsServicePort[];
}

/** What CoreDNS's informers give the kubernetes plugin; the k8s layer implements it. */
export interface KubernetesDnsView {
  namespaceExists(namespace: string): boolean;
  service(namespace: string, name: string): DnsService | undefined;
  /** Ready endpoints of a service, in EndpointSlice order. */
  endpoints(namespace: string, name: string): readonly DnsEndpoint[];
  /** Every service (for PTR of ClusterIPs and endpoint IPs). */
  services(): readonly DnsService[];
  /** Unix seconds of the last change the informers saw: the SOA serial (k.APIConn.Modified). */
  modifiedUnixSec(): number;
}

export type KubernetesLookup =
  | { readonly kind: 'answer'; readonly answers: dns.DnsRecord[]; readonly extra: dns.DnsRecord[] }
  | { readonly kind: 'nxdomain' | 'nodata' };

/** The zone's SOA as plugin.SOA builds it: TTL min(ttl, 300), minimum = ttl. */
export function kubernetesSoa(zone: string, ttl: number, serial: number): dns.DnsRecord {
  return {
    name: zone, type: dns.TYPE_SOA, class: dns.CLASS_IN, ttl: Math.min(ttl, 300),
    data: { kind: 'soa', mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial: serial >>> 0, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl },
  };
}

/** A plugin endpoint's DNS label: its hostname, else its IP with dashes (endpointHostname). */
function endpointLabel(e: DnsEndpoint): string {
  return e.hostname ?? formatIpv4(e.ip).replaceAll('.', '-');
}

const wildcard = (s: string) => s === '*' || s === 'any';
const match = (want: string, have: string) => want === '' || wildcard(want) || want.toLowerCase() === have.toLowerCase();

/**
 * The answer for `qname` (lower-cased, no trailing dot) of `qtype` in `zone`, owner names as
 * asked (`asked`, the question's own case). `pods`: the plugin's pods mode.
 */
export function kubernetesLookup(
  view: KubernetesDnsView,
  zone: string,
  /** The plugin's first forward zone (cluster.local): PTR targets are named in it. */
  clusterDomain: string,
  asked: string,
  qtype: number,
  ttl: number,
  pods: 'disabled' | 'insecure' | 'verified',
): KubernetesLookup {
  const qname = asked.toLowerCase();
  if (zone.endsWith('in-addr.arpa') || zone.endsWith('ip6.arpa')) return reverse(view, clusterDomain, asked, qtype, ttl);
  const rel = qname === zone ? [] : qname.slice(0, -(zone.length + 1)).split('.');
  const record = (type: number, data: dns.RData, name = asked): dns.DnsRecord => ({ name, type, class: dns.CLASS_IN, ttl, data });
  const answerOf = (records: dns.DnsRecord[], extra: dns.DnsRecord[] = []): KubernetesLookup =>
    records.length ? { kind: 'answer', answers: records, extra } : { kind: 'nodata' };
  if (rel.length === 0) return { kind: 'nodata' }; // the apex: SOA/NS are answered by the caller
  const kind = rel[rel.length - 1];
  if (kind === 'pod') {
    if (rel.length !== 3 || pods === 'disabled') return rel.length === 1 ? { kind: 'nodata' } : { kind: 'nxdomain' };
    const [podLabel, namespace] = rel as [string, string];
    if (!view.namespaceExists(namespace)) return { kind: 'nxdomain' };
    let ip: Ipv4Addr;
    try {
      ip = parseIpv4(podLabel.replaceAll('-', '.'));
    } catch {
      return { kind: 'nxdomain' };
    }
    return answerOf(qtype === dns.TYPE_A ? [record(dns.TYPE_A, { kind: 'a', address: ip })] : []);
  }
  if (kind !== 'svc') return { kind: 'nxdomain' };
  if (rel.length === 1) return { kind: 'nodata' };
  const namespace = rel[rel.length - 2]!;
  if (!view.namespaceExists(namespace)) return { kind: 'nxdomain' };
  if (rel.length === 2) return { kind: 'nodata' };
  const serviceName = rel[rel.length - 3]!;
  const left = rel.slice(0, -3);
  let endpoint = '';
  let port = '';
  let protocol = '';
  if (left.length === 1) endpoint = left[0]!;
  else if (left.length === 2) {
    port = left[0]!.replace(/^_/, '');
    protocol = left[1]!.replace(/^_/, '');
  } else if (left.length > 2) return { kind: 'nxdomain' };
  const svc = view.service(namespace, serviceName);
  if (!svc) return { kind: 'nxdomain' };
  const svcFqdn = `${svc.name}.${svc.namespace}.svc.${zone}`;

  if (svc.externalName !== undefined) {
    if (endpoint) return { kind: 'nxdomain' };
    if (qtype === dns.TYPE_A || qtype === dns.TYPE_AAAA || qtype === dns.TYPE_CNAME) {
      return answerOf([record(dns.TYPE_CNAME, { kind: 'cname', target: svc.externalName })]);
    }
    return { kind: 'nodata' };
  }

  if (svc.clusterIp === null || endpoint) {
    // Headless, or an endpoint's own name: one record per ready address that matches.
    const eps = view.endpoints(namespace, serviceName).filter((e) => endpoint === '' || endpointLabel(e) === endpoint);
    if (eps.length === 0) return { kind: 'nxdomain' };
    if (qtype === dns.TYPE_A) {
      const seen = new Set<number>();
      return answerOf(eps.filter((e) => !seen.has(e.ip) && seen.add(e.ip)).map((e) => record(dns.TYPE_A, { kind: 'a', address: e.ip })));
    }
    if (qtype === dns.TYPE_SRV) {
      const items = eps.flatMap((e) => e.ports.filter((p) => match(port, p.name) && match(protocol, p.protocol)).map((p) => ({ e, p })));
      const weight = srvWeight(items.length);
      return answerOf(
        items.map(({ e, p }) => record(dns.TYPE_SRV, { kind: 'srv', priority: 0, weight, port: p.port, target: `${endpointLabel(e)}.${svcFqdn}` })),
        dedupe(items.map(({ e }) => record(dns.TYPE_A, { kind: 'a', address: e.ip }, `${endpointLabel(e)}.${svcFqdn}`))),
      );
    }
    return { kind: 'nodata' };
  }

  const ports = svc.ports.filter((p) => match(port, p.name) && match(protocol, p.protocol));
  if ((port || protocol) && ports.length === 0) return { kind: 'nxdomain' };
  if (qtype === dns.TYPE_A) return answerOf([record(dns.TYPE_A, { kind: 'a', address: svc.clusterIp })]);
  if (qtype === dns.TYPE_SRV) {
    const weight = srvWeight(ports.length);
    return answerOf(
      ports.map((p) => record(dns.TYPE_SRV, { kind: 'srv', priority: 0, weight, port: p.port, target: svcFqdn })),
      ports.length ? [record(dns.TYPE_A, { kind: 'a', address: svc.clusterIp }, svcFqdn)] : [],
    );
  }
  return { kind: 'nodata' };
}

/** plugin.SRV: every target has priority 0, so weight floor(100 / N), at least 1. */
function srvWeight(n: number): number {
  return Math.max(1, Math.floor(100 / Math.max(n, 1)));
}

function dedupe(records: dns.DnsRecord[]): dns.DnsRecord[] {
  const seen = new Set<string>();
  return records.filter((r) => {
    const key = `${r.name}/${r.data.kind === 'a' ? r.data.address : ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Reverse (PTR) for ClusterIPs and endpoint addresses; anything else is not ours. */
function reverse(view: KubernetesDnsView, domain: string, asked: string, qtype: number, ttl: number): KubernetesLookup {
  const labels = asked.toLowerCase().split('.');
  if (!asked.toLowerCase().endsWith('.in-addr.arpa') || labels.length !== 6) return { kind: 'nxdomain' };
  let ip: Ipv4Addr;
  try {
    ip = parseIpv4(labels.slice(0, 4).reverse().join('.'));
  } catch {
    return { kind: 'nxdomain' };
  }
  const targets: string[] = [];
  for (const s of view.services()) {
    if (s.clusterIp === ip) targets.push(`${s.name}.${s.namespace}.svc.${domain}`);
    for (const e of view.endpoints(s.namespace, s.name)) if (e.ip === ip) targets.push(`${endpointLabel(e)}.${s.name}.${s.namespace}.svc.${domain}`);
  }
  if (targets.length === 0) return { kind: 'nxdomain' };
  if (qtype !== dns.TYPE_PTR) return { kind: 'nodata' };
  return { kind: 'answer', answers: [...new Set(targets)].map((t) => ({ name: asked, type: dns.TYPE_PTR, class: dns.CLASS_IN, ttl, data: { kind: 'ptr', target: t } })), extra: [] };
}
