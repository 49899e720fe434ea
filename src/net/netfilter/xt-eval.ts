/**
 * ipt_do_table (net/ipv4/netfilter/ip_tables.c) over the rule model: the packet walks a table's
 * built-in chain for its hook, rule by rule; a rule whose header and matches all hold counts the
 * packet and runs its target — a verdict ends the walk, a jump pushes a return point, RETURN pops
 * one (or, in a built-in chain, applies its policy), MARK and LOG continue. Targets that act on
 * the world (NAT bindings, REJECT) are the caller's: they come back through `XtEnv`.
 *
 * Everything is read from the packet's bytes; the walk allocates nothing (a reused jump stack).
 */
import * as ipv4 from '../../packet/ipv4.js';
import * as tcp from '../../packet/tcp.js';
import { CtInfo, IPS, type CtEntry } from './conntrack.js';
import { CompiledTable, portalKey, type CompiledChain } from './chain-index.js';
import { CT_STATE, type AddrMatch, type HookName, type IfaceMatch, type Match, type NatTarget, type MasqueradeTarget, type RejectWith, type Rule, type StatisticMatch } from './rules.js';
import type { RecentTables } from './xt-recent.js';

/** Netfilter verdicts (include/uapi/linux/netfilter.h). */
export const NF_DROP = 0;
export const NF_ACCEPT = 1;
export const NF_STOLEN = 2;

/** What a rule's matches look at: the packet and what the hook knows about it. Reused per hook call. */
export interface XtPacket {
  buf: Uint8Array;
  /** Offset of the IPv4 header. */
  ip: number;
  hook: HookName;
  /** The hook's index in HOOKS (enum nf_inet_hooks). */
  hookIndex: number;
  /** Interface names ('' when the hook has none: -i on OUTPUT, -o on PREROUTING). */
  inDev: string;
  outDev: string;
  /** br_netfilter: the bridge ports the frame came in / goes out on ('' otherwise). */
  physIn: string;
  physOut: string;
  mark: number;
  ct: CtEntry | null;
  ctinfo: number;
}

/** What the walk needs from the netns around it. */
export interface XtEnv {
  readonly nowNs: number;
  /** prandom_u32() for the statistic match. */
  randomU32(): number;
  /** inet_addr_type's answer as a bit of ADDR_TYPES (1 << RTN_*). */
  addrTypeBit(addr: number): number;
  readonly recent: RecentTables;
  /**
   * DNAT / SNAT / MASQUERADE for the packet's NEW connection: a netfilter verdict. `rule` and
   * `chain` say which rule chose the binding (for the trace; nothing else depends on them).
   */
  nat(target: NatTarget | MasqueradeTarget, pkt: XtPacket, rule: Rule, chain: string): number;
  /** REJECT: send the error; the packet is then dropped. */
  reject(how: RejectWith, pkt: XtPacket): void;
  /** LOG: the line the kernel would write to its log. */
  log(prefix: string, pkt: XtPacket): void;
}

/** Counts kept by a walk, for the benchmark: rules the kernel's linear walk would have visited. */
export interface WalkStats {
  traversed: number;
}

const MAX_DEPTH = 64;

/** The evaluator of one netns: reused stacks, the table compilations of the current ruleset. */
export class XtEvaluator {
  private readonly stackChain: CompiledChain[] = new Array<CompiledChain>(MAX_DEPTH);
  private readonly stackIndex = new Int32Array(MAX_DEPTH);
  readonly stats: WalkStats = { traversed: 0 };

  /** Walks `table`'s chain for `pkt.hook`; returns NF_ACCEPT / NF_DROP / NF_STOLEN. */
  run(table: CompiledTable, pkt: XtPacket, env: XtEnv): number {
    const base = table.byHook[pkt.hookIndex];
    if (base === undefined) return NF_ACCEPT;
    const len = ipv4.totalLength(pkt.buf, pkt.ip);
    if (base.rules.length === 0) {
      // An empty built-in chain (mangle's, most of the time): straight to its policy.
      base.chain.counters.packets++;
      base.chain.counters.bytes += len;
      return base.chain.policy === 'DROP' ? NF_DROP : NF_ACCEPT;
    }
    let chain = base;
    let i = 0;
    let depth = 0;
    for (;;) {
      if (i >= chain.rules.length) {
        if (chain === base) {
          // Fell off the end of the built-in chain: its policy, counted on the chain.
          base.chain.counters.packets++;
          base.chain.counters.bytes += len;
          return base.chain.policy === 'DROP' ? NF_DROP : NF_ACCEPT;
        }
        if (depth === 0) return NF_ACCEPT;
        depth--;
        chain = this.stackChain[depth]!;
        i = this.stackIndex[depth]!;
        continue;
      }
      const run = chain.runAt[i];
      if (run !== undefined) {
        // A run of portal rules: only those keyed like the packet can match.
        const next = nextInRun(run.byKey.get(packetKey(pkt)), i);
        if (next < 0) {
          this.stats.traversed += run.end - i; // every rule of the run, tested and failed
          i = run.end;
          continue;
        }
        this.stats.traversed += next - i + 1; // the ones skipped, and this one
        i = next;
      } else {
        this.stats.traversed++;
      }
      const rule = chain.rules[i]!;
      if (!ruleMatches(rule, pkt, env)) {
        i++;
        continue;
      }
      rule.counters.packets++;
      rule.counters.bytes += len;
      const t = rule.target;
      if (t === null) {
        i++;
        continue;
      }
      switch (t.kind) {
        case 'verdict':
          if (t.verdict === 'ACCEPT') return NF_ACCEPT;
          if (t.verdict === 'DROP') return NF_DROP;
          // RETURN: back to the caller's next rule; from a built-in chain, its policy.
          if (depth === 0) {
            if (chain === base) {
              base.chain.counters.packets++;
              base.chain.counters.bytes += len;
              return base.chain.policy === 'DROP' ? NF_DROP : NF_ACCEPT;
            }
            return NF_ACCEPT;
          }
          depth--;
          chain = this.stackChain[depth]!;
          i = this.stackIndex[depth]!;
          continue;
        case 'jump': {
          let target = chain.jumps[i];
          if (target === undefined) {
            target = table.chain(t.chain);
            if (target === undefined) return NF_DROP; // iptables-restore refuses this; be safe
            chain.jumps[i] = target;
          }
          if (!t.goto) {
            if (depth >= MAX_DEPTH) return NF_DROP;
            this.stackChain[depth] = chain;
            this.stackIndex[depth] = i + 1;
            depth++;
          }
          chain = target;
          i = 0;
          continue;
        }
        case 'MARK':
          pkt.mark = ((pkt.mark & ~t.mask) ^ t.value) >>> 0;
          i++;
          continue;
        case 'DNAT':
        case 'SNAT':
        case 'MASQUERADE':
          return env.nat(t, pkt, rule, chain.chain.name);
        case 'REJECT':
          env.reject(t.with, pkt);
          return NF_DROP;
        case 'LOG':
          env.log(t.prefix, pkt);
          i++;
          continue;
      }
    }
  }
}

/** The first index ≥ from in an ascending list, or -1. */
function nextInRun(list: number[] | undefined, from: number): number {
  if (list === undefined) return -1;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < list.length ? list[lo]! : -1;
}

/** The (dst, proto, dport) key of the packet; a non-first fragment or a portless protocol has port -1 → no key matches. */
function packetKey(pkt: XtPacket): number {
  const b = pkt.buf;
  const ip = pkt.ip;
  const proto = ipv4.protocol(b, ip);
  if ((proto !== ipv4.PROTO_TCP && proto !== ipv4.PROTO_UDP) || ipv4.fragmentOffset(b, ip) !== 0) return -1;
  return portalKey(ipv4.dst(b, ip), proto, tcp.dstPort(b, ipv4.payloadOffset(b, ip)));
}

function addrMatches(m: AddrMatch | null, addr: number): boolean {
  return m === null || ((((addr & m.mask) >>> 0) === m.addr) !== m.negated);
}

/** ip_packet_match's interface test: `+` at the end makes the name a prefix. */
function ifaceMatches(m: IfaceMatch | null, name: string): boolean {
  if (m === null) return true;
  const wild = m.name.endsWith('+');
  const hit = wild ? name.startsWith(m.name.slice(0, -1)) && name !== '' : name === m.name;
  return hit !== m.negated;
}

function ruleMatches(r: Rule, pkt: XtPacket, env: XtEnv): boolean {
  const b = pkt.buf;
  const ip = pkt.ip;
  if (!addrMatches(r.src, ipv4.src(b, ip)) || !addrMatches(r.dst, ipv4.dst(b, ip))) return false;
  if (!ifaceMatches(r.inIface, pkt.inDev) || !ifaceMatches(r.outIface, pkt.outDev)) return false;
  if (r.protocol !== null && r.protocol.proto !== 0 && (ipv4.protocol(b, ip) === r.protocol.proto) === r.protocol.negated) return false;
  const ms = r.matches;
  for (let k = 0; k < ms.length; k++) if (!matchHolds(ms[k]!, pkt, env)) return false;
  return true;
}

/** XT_CONNTRACK_STATE_BIT and the SNAT/DNAT bits (xt_conntrack.c conntrack_mt). */
function ctStateBits(pkt: XtPacket, withNat: boolean): number {
  const ct = pkt.ct;
  if (ct === null) return CT_STATE.INVALID;
  let bits = 1 << ((pkt.ctinfo % CtInfo.ESTABLISHED_REPLY) + 1);
  if (withNat) {
    if (ct.has(IPS.SRC_NAT)) bits |= CT_STATE.SNAT;
    if (ct.has(IPS.DST_NAT)) bits |= CT_STATE.DNAT;
  }
  return bits;
}

function portInRange(p: number, r: { min: number; max: number; negated: boolean } | null): boolean {
  return r === null || ((p >= r.min && p <= r.max) !== r.negated);
}

/** statistic_mt, random mode: (prandom_u32() & 0x7FFFFFFF) < probability, inverted by `!`. */
export function statisticHolds(m: StatisticMatch, draw: number): boolean {
  return ((draw & 0x7fff_ffff) < m.probability) !== m.negated;
}

function matchHolds(m: Match, pkt: XtPacket, env: XtEnv): boolean {
  const b = pkt.buf;
  const ip = pkt.ip;
  switch (m.kind) {
    case 'comment':
      return true;
    case 'tcp':
    case 'udp': {
      // tcp_mt / udp_mt: the protocol must be right, and later fragments never match.
      if (ipv4.protocol(b, ip) !== (m.kind === 'tcp' ? ipv4.PROTO_TCP : ipv4.PROTO_UDP) || ipv4.fragmentOffset(b, ip) !== 0) return false;
      const l4 = ipv4.payloadOffset(b, ip);
      return portInRange(tcp.srcPort(b, l4), m.sport) && portInRange(tcp.dstPort(b, l4), m.dport);
    }
    case 'mark':
      return (((pkt.mark & m.mask) >>> 0) === m.mark) !== m.negated;
    case 'conntrack':
      return ((ctStateBits(pkt, true) & m.states) !== 0) !== m.negated;
    case 'state':
      return ((ctStateBits(pkt, false) & m.states) !== 0) !== m.negated;
    case 'statistic':
      return statisticHolds(m, env.randomU32());
    case 'addrtype': {
      if (m.src !== null && ((env.addrTypeBit(ipv4.src(b, ip)) & m.src.types) !== 0) === m.src.negated) return false;
      if (m.dst !== null && ((env.addrTypeBit(ipv4.dst(b, ip)) & m.dst.types) !== 0) === m.dst.negated) return false;
      return true;
    }
    case 'recent': {
      const addr = m.side === 'source' ? ipv4.src(b, ip) : ipv4.dst(b, ip);
      return env.recent.match(m, addr, ipv4.ttl(b, ip), env.nowNs);
    }
    case 'physdev':
      // physdev_mt --physdev-is-bridged: the frame is being bridged out of a port.
      return (pkt.physOut !== '') !== m.negated;
  }
}
