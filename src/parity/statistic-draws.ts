/**
 * The statistic draws that make kube-proxy's iptables rules pick given endpoints. A Service's
 * chain (KUBE-SVC-… or KUBE-SVL-…) tries its endpoint rules in order; a rule with
 * `-m statistic --mode random --probability P` takes one draw, xt_statistic's
 * `(get_random_u32() & 0x7FFFFFFF) < probability` (probability = P·2^31, `!` inverts it), and the
 * rule without one (the last) takes none. To pick the j-th endpoint, the rules before it each get a
 * draw that fails and the j-th, if it has a statistic match, one that succeeds.
 *
 * The chain is found by reading the rules as the kernel walks them — nat KUBE-SERVICES' rule for
 * the ClusterIP, port and protocol, the chain it jumps to, the rules there that jump to a chain
 * with a DNAT — never by assuming how kube-proxy names or sorts them. Only what a connection's
 * first packet meets in that chain is modelled: an endpoint rule with any match besides comment
 * and statistic (session affinity's `recent`) cannot be steered by draws alone and is refused.
 */
import type { Chain, Rule, Ruleset, StatisticMatch } from '../net/netfilter/rules.js';
import { statisticHolds } from '../net/netfilter/xt-eval.js';
import { formatIpv4, parseIpv4 } from '../packet/addr.js';
import { PROTO_TCP, PROTO_UDP } from '../packet/ipv4.js';
import type { DnatChoice } from './endpoints.js';

/** One endpoint rule of a Service's chain, in chain order. */
export interface EndpointRule {
  /** IP:port of the DNAT in the chain the rule jumps to. */
  readonly endpoint: string;
  /** Its statistic match; null: the rule always matches (the last one). */
  readonly statistic: StatisticMatch | null;
  /** The chain the rule is in and the one it jumps to, for messages. */
  readonly chain: string;
  readonly target: string;
  /** Matches other than comment and statistic (e.g. `recent`): draws alone do not decide it. */
  readonly unsteerable: readonly string[];
}

export type DrawsResult =
  | { readonly ok: true; readonly draws: ReadonlyMap<string, readonly number[]> }
  | { readonly ok: false; readonly reason: string };

/** A draw that fails or passes every non-negated probability below 1 (and the reverse for `!`). */
const HIGH_DRAW = 0x7fff_ffff;
const LOW_DRAW = 0;

/** A draw for which the match says `want`, or undefined when the probability allows none (0 or 1). */
function drawFor(m: StatisticMatch, want: boolean): number | undefined {
  return [HIGH_DRAW, LOW_DRAW].find((d) => statisticHolds(m, d) === want);
}

const MAX_JUMPS = 8;

/**
 * The endpoint rules a new connection to `service` meets on a node with these rules, in the order
 * it meets them; a string says why there are none to follow.
 */
export function serviceEndpointRules(rules: Ruleset, service: string, protocol: 'tcp' | 'udp' = 'tcp'): EndpointRule[] | string {
  const nat = rules.tables.get('nat');
  const services = nat?.chains.get('KUBE-SERVICES');
  if (nat === undefined || services === undefined) return 'no nat KUBE-SERVICES chain';
  const [ipText, portText] = service.split(':');
  const ip = parseIpv4(ipText ?? '');
  const port = Number(portText);
  const proto = protocol === 'tcp' ? PROTO_TCP : PROTO_UDP;
  const entry = services.rules.find((r) => admitsService(r, ip, port, proto));
  const first = entry === undefined ? undefined : jumpOf(entry);
  if (first === undefined) return `no KUBE-SERVICES rule jumps for ${protocol} ${service}`;
  // A KUBE-EXT-… style chain may lead to the one holding the endpoint rules: follow the first jump
  // that reaches endpoint rules.
  let chain = nat.chains.get(first);
  for (let hop = 0; chain !== undefined && hop < MAX_JUMPS; hop++) {
    const found = endpointRulesOf(nat.chains, chain);
    if (found.length > 0) return found;
    chain = chain.rules.map((r) => nat.chains.get(jumpOf(r) ?? '')).find((c) => c !== undefined && endpointRulesOf(nat.chains, c).length > 0);
  }
  return `no endpoint rules behind KUBE-SERVICES' rule for ${protocol} ${service} (-j ${first})`;
}

/** The chain a rule jumps or goes to. */
function jumpOf(r: Rule): string | undefined {
  return r.target?.kind === 'jump' ? r.target.chain : undefined;
}

/** The header and port match of a KUBE-SERVICES rule admit a new packet to ip:port. */
function admitsService(r: Rule, ip: number, port: number, proto: number): boolean {
  if (r.dst === null || r.dst.negated || ((ip & r.dst.mask) >>> 0) !== r.dst.addr >>> 0) return false;
  if (r.protocol !== null && (r.protocol.proto === proto) === r.protocol.negated) return false;
  for (const m of r.matches) {
    if ((m.kind === 'tcp' || m.kind === 'udp') && m.dport !== null && (port >= m.dport.min && port <= m.dport.max) === m.dport.negated) return false;
  }
  return true;
}

function endpointRulesOf(chains: ReadonlyMap<string, Chain>, chain: Chain): EndpointRule[] {
  const out: EndpointRule[] = [];
  for (const r of chain.rules) {
    const target = jumpOf(r);
    if (target === undefined) continue;
    const dnat = chains.get(target)?.rules.map((x) => x.target).find((t) => t?.kind === 'DNAT');
    if (dnat?.kind !== 'DNAT') continue;
    const range = dnat.range;
    if (range.addr === null || range.ports === null) continue;
    const statistic = r.matches.find((m): m is StatisticMatch => m.kind === 'statistic') ?? null;
    const unsteerable = [
      ...(r.src !== null ? ['-s'] : []), ...(r.dst !== null ? ['-d'] : []), ...(r.inIface !== null ? ['-i'] : []), ...(r.outIface !== null ? ['-o'] : []),
      ...r.matches.filter((m) => m.kind !== 'comment' && m.kind !== 'statistic').map((m) => `-m ${m.kind}`),
    ];
    out.push({ endpoint: `${formatIpv4(range.addr.min)}:${range.ports.min}`, statistic, chain: chain.name, target, unsteerable });
  }
  return out;
}

/** The draws, in order, that make `rules` pick `endpoint`; a string says why none do. */
export function drawsToPick(rules: readonly EndpointRule[], endpoint: string): number[] | string {
  const j = rules.findIndex((r) => r.endpoint === endpoint);
  if (j < 0) return `${endpoint} is not among the endpoints of ${rules[0]?.chain ?? 'the chain'} (${rules.map((r) => r.endpoint).join(', ')})`;
  const draws: number[] = [];
  for (const [i, r] of rules.slice(0, j + 1).entries()) {
    if (r.unsteerable.length > 0) return `${r.chain}'s rule for ${r.endpoint} also has ${r.unsteerable.join(' ')}: statistic draws alone do not decide it`;
    if (r.statistic === null) {
      if (i < j) return `${r.chain}'s rule for ${r.endpoint} has no statistic match: ${endpoint} after it is never chosen`;
      continue;
    }
    const d = drawFor(r.statistic, i === j);
    if (d === undefined) return `${r.chain}'s rule for ${r.endpoint} (probability ${r.statistic.probability}/2^31) cannot ${i === j ? 'match' : 'fail'}`;
    draws.push(d);
  }
  return draws;
}

/**
 * Per node netns, the draws for its `statistic/<node>` stream that make each connection, in the
 * order given, pick its endpoint, from each node's own rules.
 */
export function statisticDraws(choices: readonly DnatChoice[], rulesByNode: ReadonlyMap<string, Ruleset>): DrawsResult {
  const draws = new Map<string, number[]>();
  for (const c of choices) {
    const rules = rulesByNode.get(c.node);
    if (rules === undefined) return { ok: false, reason: `no iptables rules for ${c.node}` };
    const chain = serviceEndpointRules(rules, c.service, c.protocol);
    const picked = typeof chain === 'string' ? chain : drawsToPick(chain, c.endpoint);
    if (typeof picked === 'string') return { ok: false, reason: `${c.node}: ${picked}` };
    const list = draws.get(c.node) ?? [];
    list.push(...picked);
    draws.set(c.node, list);
  }
  return { ok: true, draws };
}
