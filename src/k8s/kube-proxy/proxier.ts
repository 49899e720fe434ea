/**
 * kube-proxy's iptables mode: one full sync (k/k pkg/proxy/iptables/proxier.go syncProxyRules)
 * written into the netfilter model. As the real proxier does, it first makes sure the jump rules
 * from the built-in chains exist (EnsureChain + EnsureRule Prepend, one `iptables` call each), then
 * builds the filter and nat tables' kube-proxy chains as iptables-restore text and loads it with
 * --noflush, so rules of other programs (flannel, kubelet) stay where they are.
 *
 * Modelled: ClusterIP service ports with Cluster or Local internal traffic policy, the
 * off-cluster-source masquerade (`! -s <clusterCIDR>`, or every source with --masquerade-all),
 * random endpoint selection, hairpin masquerade, sessionAffinity ClientIP with `-m recent`, the
 * REJECT/DROP for ports without (local) endpoints, KUBE-POSTROUTING / KUBE-MARK-MASQ /
 * KUBE-FORWARD / KUBE-FIREWALL and the KUBE-NODEPORTS tail jump. Not modelled: NodePort,
 * externalIPs, LoadBalancer (no KUBE-EXT-/KUBE-FW- chains), topology hints, nfacct counters
 * (the `-m nfacct` matches need the nfacct subsystem) and partial syncs. Large-cluster mode (over
 * 1000 endpoints: no per-endpoint comments) is.
 */
import { formatIpv4 } from '../../packet/addr.js';
import type { Ruleset, TableName } from '../../net/netfilter/rules.js';
import { ensureChain, ensureRule, restoreNoFlush } from './iptables-client.js';
import { sepChainName, servicePortName, svcChainName, svlChainName } from './chain-names.js';
import { categorizeEndpoints, sortedEndpoints, type EndpointInfo } from './endpoints.js';
import type { KubeProxyConfig, KubeProxyInput, ProxyService, ProxyServicePort } from './model.js';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_FIREWALL = 'KUBE-FIREWALL';
export const KUBE_PROXY_CANARY = 'KUBE-PROXY-CANARY';

/** sessionAffinityConfig.clientIP.timeoutSeconds default (core/v1 DefaultClientIPServiceAffinitySeconds). */
export const DEFAULT_AFFINITY_SECONDS = 10800;

interface JumpChain {
  table: TableName;
  dst: string;
  src: string;
  comment: string;
  extra: readonly string[];
}

const CT_NEW = ['-m', 'conntrack', '--ctstate', 'NEW'] as const;

/** iptablesJumpChains, in proxier.go's order (each is prepended, so later ones end up first). */
const JUMP_CHAINS: readonly JumpChain[] = [
  { table: 'filter', dst: KUBE_EXTERNAL_SERVICES, src: 'INPUT', comment: 'kubernetes externally-visible service portals', extra: CT_NEW },
  { table: 'filter', dst: KUBE_EXTERNAL_SERVICES, src: 'FORWARD', comment: 'kubernetes externally-visible service portals', extra: CT_NEW },
  { table: 'filter', dst: KUBE_NODEPORTS, src: 'INPUT', comment: 'kubernetes health check service ports', extra: [] },
  { table: 'filter', dst: KUBE_SERVICES, src: 'FORWARD', comment: 'kubernetes service portals', extra: CT_NEW },
  { table: 'filter', dst: KUBE_SERVICES, src: 'OUTPUT', comment: 'kubernetes service portals', extra: CT_NEW },
  { table: 'filter', dst: KUBE_FORWARD, src: 'FORWARD', comment: 'kubernetes forwarding rules', extra: [] },
  { table: 'filter', dst: KUBE_PROXY_FIREWALL, src: 'INPUT', comment: 'kubernetes load balancer firewall', extra: CT_NEW },
  { table: 'filter', dst: KUBE_PROXY_FIREWALL, src: 'OUTPUT', comment: 'kubernetes load balancer firewall', extra: CT_NEW },
  { table: 'filter', dst: KUBE_PROXY_FIREWALL, src: 'FORWARD', comment: 'kubernetes load balancer firewall', extra: CT_NEW },
  { table: 'nat', dst: KUBE_SERVICES, src: 'OUTPUT', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', dst: KUBE_SERVICES, src: 'PREROUTING', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', dst: KUBE_POSTROUTING, src: 'POSTROUTING', comment: 'kubernetes postrouting rules', extra: [] },
  // iptablesKubeletJumpChains: duplicates of kubelet's, no comment.
  { table: 'filter', dst: KUBE_FIREWALL, src: 'INPUT', comment: '', extra: [] },
  { table: 'filter', dst: KUBE_FIREWALL, src: 'OUTPUT', comment: '', extra: [] },
];

/** Go's %q-free quoting kube-proxy uses for comments with spaces: the text inside "…". */
const q = (text: string): string => `"${text}"`;

/** proxier.probability(n) = computeProbability: fmt.Sprintf("%0.10f", 1.0/float64(n)). */
export function computeProbability(n: number): string {
  return (1 / n).toFixed(10);
}

/** LineBuffer.Write: arguments joined by single spaces, one line. */
class LineBuffer {
  readonly lines: string[] = [];
  write(...args: readonly string[]): void {
    this.lines.push(args.join(' '));
  }
}

/**
 * Adds kube-proxy's canary chain (iptables.Monitor creates KUBE-PROXY-CANARY in mangle, nat and
 * filter at start-up and recreates everything if one disappears).
 */
export function ensureKubeProxyCanaries(ruleset: Ruleset): void {
  for (const table of ['mangle', 'nat', 'filter'] as const) ensureChain(ruleset, table, KUBE_PROXY_CANARY);
}

/** The iptables-restore input one full sync writes (filter then nat), for the given input. */
export function buildRestoreInput(input: KubeProxyInput): string {
  const cfg = input.config;
  const mark = `0x${(1 << (cfg.masqueradeBit ?? 14)).toString(16)}`;
  const localhostNodePorts = cfg.localhostNodePorts ?? true;
  const filterChains = new LineBuffer();
  const filterRules = new LineBuffer();
  const natChains = new LineBuffer();
  const natRules = new LineBuffer();
  const chainLine = (name: string): string => `:${name} - [0:0]`;

  for (const c of [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL]) filterChains.write(chainLine(c));
  for (const c of [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]) natChains.write(chainLine(c));

  natRules.write('-A', KUBE_POSTROUTING, '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN');
  // Clear the mark so a packet that re-traverses the stack is not masqueraded twice.
  natRules.write('-A', KUBE_POSTROUTING, '-j', 'MARK', '--xor-mark', mark);
  natRules.write('-A', KUBE_POSTROUTING, '-m', 'comment', '--comment', q('kubernetes service traffic requiring SNAT'), '-j', 'MASQUERADE',
    ...(cfg.randomFully ?? true ? ['--random-fully'] : []));
  natRules.write('-A', KUBE_MARK_MASQ, '-j', 'MARK', '--or-mark', mark);

  if (localhostNodePorts) {
    // route_localnet=1 for localhost NodePorts opens https://issue.k8s.io/90259; this closes it.
    filterChains.write(chainLine(KUBE_FIREWALL));
    filterRules.write('-A', KUBE_FIREWALL, '-m', 'comment', '--comment', q('block incoming localnet connections'),
      '-d', '127.0.0.0/8', '!', '-s', '127.0.0.0/8', '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'DROP');
  }

  const ports: Array<{ svc: ProxyService; port: ProxyServicePort; eps: EndpointInfo[] }> = [];
  for (const svc of input.services) for (const port of svc.ports) ports.push({ svc, port, eps: sortedEndpoints(port.endpoints) });
  const totalEndpoints = ports.reduce((n, p) => n + p.eps.length, 0);
  // largeClusterEndpointsThreshold: above 1000 endpoints per-endpoint comments are dropped.
  const largeCluster = totalEndpoints > 1000;

  for (const { svc, port, eps } of ports) {
    writeServicePort(svc, port, eps, cfg, largeCluster, { filterRules, natChains, natRules });
  }

  // Last rule of nat KUBE-SERVICES (nodePortAddresses match all addresses).
  natRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', q('kubernetes service nodeports; NOTE: this must be the last rule in this chain'),
    '-m', 'addrtype', '--dst-type', 'LOCAL', ...(localhostNodePorts ? [] : ['!', '-d', '127.0.0.0/8']), '-j', KUBE_NODEPORTS);

  if (!(cfg.conntrackTcpBeLiberal ?? false)) {
    // kubernetes#74839: INVALID packets would otherwise reach the pod un-NATed and get a RST.
    filterRules.write('-A', KUBE_FORWARD, '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP');
  }
  filterRules.write('-A', KUBE_FORWARD, '-m', 'comment', '--comment', q('kubernetes forwarding rules'), '-m', 'mark', '--mark', `${mark}/${mark}`, '-j', 'ACCEPT');
  filterRules.write('-A', KUBE_FORWARD, '-m', 'comment', '--comment', q('kubernetes forwarding conntrack rule'), '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT');

  return ['*filter', ...filterChains.lines, ...filterRules.lines, 'COMMIT', '*nat', ...natChains.lines, ...natRules.lines, 'COMMIT', ''].join('\n');
}

interface Buffers {
  filterRules: LineBuffer;
  natChains: LineBuffer;
  natRules: LineBuffer;
}

function writeServicePort(svc: ProxyService, port: ProxyServicePort, eps: readonly EndpointInfo[], cfg: KubeProxyConfig, largeCluster: boolean, b: Buffers): void {
  const protocol = port.protocol.toLowerCase();
  const spn = servicePortName(svc.namespace, svc.name, port.name);
  const internalPolicy = svc.internalTrafficPolicy ?? 'Cluster';
  const { cluster, local, reachable, hasAny } = categorizeEndpoints(eps, internalPolicy);
  const clusterChain = svcChainName(spn, protocol);
  const localChain = svlChainName(spn, protocol);
  const internalChain = internalPolicy === 'Local' ? localChain : clusterChain;
  const hasInternal = internalPolicy === 'Local' ? local.length > 0 : hasAny;
  const clusterIP = formatIpv4(svc.clusterIP);
  const dport = String(port.port);
  const affinity = svc.sessionAffinity === 'ClientIP';
  const sepOf = (e: EndpointInfo): string => sepChainName(spn, protocol, e.text);

  if (hasInternal) {
    b.natRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', q(`${spn} cluster IP`), '-m', protocol, '-p', protocol,
      '-d', clusterIP, '--dport', dport, '-j', internalChain);
  } else {
    // No endpoints at all: REJECT (ICMP port unreachable); Local policy without local ones: DROP.
    const [target, comment] = hasAny ? ['DROP', `${spn} has no local endpoints`] : ['REJECT', `${spn} has no endpoints`];
    b.filterRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', q(comment), '-m', protocol, '-p', protocol,
      '-d', clusterIP, '--dport', dport, '-j', target);
  }

  if (hasInternal) {
    const args = ['-m', 'comment', '--comment', q(`${spn} cluster IP`), '-m', protocol, '-p', protocol, '-d', clusterIP, '--dport', dport];
    if (cfg.masqueradeAll ?? false) {
      b.natRules.write('-A', internalChain, ...args, '-j', KUBE_MARK_MASQ);
    } else if (cfg.clusterCidr !== null) {
      // Off-cluster sources reaching a ClusterIP (a static route to the service range via a node)
      // may be bounced to another node, so they are masqueraded (LocalTrafficDetector.IfNotLocal).
      const cidr = `${formatIpv4(cfg.clusterCidr.addr)}/${cfg.clusterCidr.prefixLen}`;
      b.natRules.write('-A', internalChain, ...args, '!', '-s', cidr, '-j', KUBE_MARK_MASQ);
    }
  }

  const comment = (text: string): string[] => (largeCluster ? [] : ['-m', 'comment', '--comment', text]);
  const writeServiceToEndpointRules = (chain: string, endpoints: readonly EndpointInfo[]): void => {
    b.natChains.write(`:${chain} - [0:0]`);
    if (affinity) {
      const seconds = String(svc.affinityTimeoutSeconds ?? DEFAULT_AFFINITY_SECONDS);
      for (const e of endpoints) {
        b.natRules.write('-A', chain, ...comment(q(`${spn} -> ${e.text}`)), '-m', 'recent', '--name', sepOf(e), '--rcheck', '--seconds', seconds, '--reap', '-j', sepOf(e));
      }
    }
    endpoints.forEach((e, i) => {
      const stat = i < endpoints.length - 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', computeProbability(endpoints.length - i)] : [];
      b.natRules.write('-A', chain, ...comment(q(`${spn} -> ${e.text}`)), ...stat, '-j', sepOf(e));
    });
  };
  if (cluster.length > 0 && internalPolicy === 'Cluster') writeServiceToEndpointRules(clusterChain, cluster);
  if (local.length > 0 && internalPolicy === 'Local') writeServiceToEndpointRules(localChain, local);

  for (const e of reachable) {
    const chain = sepOf(e);
    b.natChains.write(`:${chain} - [0:0]`);
    const args = ['-A', chain, ...comment(spn)];
    // Hairpin: a pod reaching itself through its Service must see the node as the source.
    b.natRules.write(...args, '-s', formatIpv4(e.ep.ip), '-j', KUBE_MARK_MASQ);
    const recent = affinity ? ['-m', 'recent', '--name', chain, '--set'] : [];
    b.natRules.write(...args, ...recent, '-m', protocol, '-p', protocol, '-j', 'DNAT', '--to-destination', e.text);
  }
}

/**
 * One full syncProxyRules: jump rules (EnsureRule Prepend), then the restore. Stale KUBE-SVC-/
 * KUBE-SVL-/KUBE-EXT-/KUBE-FW-/KUBE-SEP- chains of the nat table are deleted (flush + -X), as the
 * real sync does after comparing with iptables-save.
 */
export function syncIptables(ruleset: Ruleset, input: KubeProxyInput): void {
  for (const j of JUMP_CHAINS) {
    ensureChain(ruleset, j.table, j.dst);
    const args = [...j.extra, ...(j.comment === '' ? [] : ['-m', 'comment', '--comment', j.comment]), '-j', j.dst];
    ensureRule(ruleset, 'prepend', j.table, j.src, args);
  }
  let text = buildRestoreInput(input);
  const nat = ruleset.tables.get('nat');
  if (nat !== undefined) {
    const active = new Set(/^:(\S+)/gm[Symbol.match](text.slice(text.indexOf('*nat')))?.map((l) => l.slice(1)) ?? []);
    const stale = [...nat.chains.keys()].filter((c) => /^KUBE-(SVC|SVL|EXT|FW|SEP)-/.test(c) && !active.has(c));
    if (stale.length > 0) {
      const natStart = text.indexOf('*nat\n') + '*nat\n'.length;
      const commit = text.lastIndexOf('COMMIT');
      text = text.slice(0, natStart) + stale.map((c) => `:${c} - [0:0]\n`).join('') + text.slice(natStart, commit) +
        stale.map((c) => `-X ${c}\n`).join('') + text.slice(commit);
    }
  }
  restoreNoFlush(ruleset, text);
}
