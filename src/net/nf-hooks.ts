/**
 * The IPv4 netfilter hooks of a netns, in the kernel's priority order (nf_hook_slow over the
 * functions registered on each hook, enum nf_ip_hook_priorities):
 *
 *   PREROUTING   defrag (-400), raw (-300), conntrack (-200), mangle (-150), nat DNAT (-100)
 *   INPUT        mangle (-150), filter (0), nat SNAT (100), conntrack confirm (last)
 *   FORWARD      mangle (-150), filter (0)
 *   OUTPUT       raw (-300), conntrack (-200), mangle (-150), nat DNAT (-100), filter (0)
 *   POSTROUTING  mangle (-150), nat SNAT (100), conntrack confirm (last)
 *
 * A table's function runs only when the table exists (iptables registers a table's hooks when it
 * is first used); conntrack and the defragmenter only once conntrack is enabled. The nat table
 * is walked only for the first packet of a connection per manip type (nf_nat_inet_fn); every
 * packet then gets the connection's binding applied to its bytes (nf_nat_packet).
 *
 * Each function returns the skb to continue with — a defragmented datagram replaces its
 * fragments — or null when the packet was dropped, stolen or is being held.
 */
import { formatIpv4 } from '../packet/addr.js';
import * as icmp from '../packet/icmp.js';
import * as ipv4 from '../packet/ipv4.js';
import * as tcp from '../packet/tcp.js';
import type { NetDevice } from './device.js';
import { IpDefrag } from './ip-defrag.js';
import { icmpSend } from './icmp-proto.js';
import { CtInfo, DIR_ORIGINAL, DIR_REPLY, MANIP_DST, MANIP_SRC, Verdict, natInitialized } from './netfilter/conntrack.js';
import { natIcmpError, natPacket } from './netfilter/conntrack-nat.js';
import type { Netfilter } from './netfilter/netfilter.js';
import { ADDR_TYPES, type HookName, type MasqueradeTarget, type NatTarget, type RejectWith, type Rule } from './netfilter/rules.js';
import { renderRuleSpec } from './netfilter/rule-spec.js';
import { packetId, tracing } from './trace.js';
import type { CompiledTable } from './netfilter/chain-index.js';
import { NF_ACCEPT, NF_DROP, type XtEnv, type XtPacket } from './netfilter/xt-eval.js';
import type { RecentTables } from './netfilter/xt-recent.js';
import type { Netns } from './netns.js';
import type { Skb } from './skb.js';
import { buildReset } from './tcp-output.js';
import { ipOutput, routeOutput } from './ip-output.js';

const RTN = (name: (typeof ADDR_TYPES)[number]): number => 1 << ADDR_TYPES.indexOf(name);
const RTN_UNICAST = RTN('UNICAST');
const RTN_LOCAL = RTN('LOCAL');
const RTN_BROADCAST = RTN('BROADCAST');
const RTN_MULTICAST = RTN('MULTICAST');

const REJECT_ICMP_CODE: Readonly<Record<Exclude<RejectWith, 'tcp-reset'>, number>> = {
  'icmp-net-unreachable': icmp.NET_UNREACHABLE,
  'icmp-host-unreachable': icmp.HOST_UNREACHABLE,
  'icmp-port-unreachable': icmp.PORT_UNREACHABLE,
  'icmp-proto-unreachable': 2,
  'icmp-net-prohibited': 9,
  'icmp-host-prohibited': 10,
  'icmp-admin-prohibited': 13,
};

/**
 * One hook invocation: the packet as the rules see it, and the world the targets act on. Hooks
 * nest (a REJECT in FORWARD sends an ICMP error through OUTPUT), so invocations come from a small
 * pool indexed by depth rather than one shared object — no allocation per packet either way.
 */
class HookCall implements XtPacket, XtEnv {
  buf!: Uint8Array;
  ip = 0;
  hook: HookName = 'PREROUTING';
  hookIndex = 0;
  inDev = '';
  outDev = '';
  physIn = '';
  physOut = '';
  mark = 0;
  ct: XtPacket['ct'] = null;
  ctinfo = 0;
  ns!: Netns;
  nf!: Netfilter;
  skb!: Skb;
  inDevice: NetDevice | undefined;
  outDevice: NetDevice | undefined;
  nexthop = 0;
  /** The rule that bound NAT during this hook call, and its chain (for the trace's nat event). */
  natRule: Rule | null = null;
  natChain = '';

  get nowNs(): number {
    return this.ns.sched.nowNs;
  }

  get recent(): RecentTables {
    return this.nf.recent;
  }

  randomU32(): number {
    return this.nf.random.nextU32();
  }

  /** inet_addr_type: what the local table says of the address; anything else is unicast. */
  addrTypeBit(addr: number): number {
    if (addr === 0 || addr === 0xffff_ffff) return RTN_BROADCAST;
    if ((addr >>> 28) === 0xe) return RTN_MULTICAST;
    const r = this.ns.fib.lookup(addr);
    if (r?.table === 'local') return r.type === 'local' ? RTN_LOCAL : r.type === 'broadcast' ? RTN_BROADCAST : RTN_UNICAST;
    return RTN_UNICAST;
  }

  /** xt_nat's DNAT/SNAT and MASQUERADE: bind the new connection, then let nf_nat_packet rewrite. */
  nat(t: NatTarget | MasqueradeTarget, pkt: XtPacket, rule: Rule, chain: string): number {
    this.natRule = rule;
    this.natChain = chain;
    const e = pkt.ct;
    const table = this.nf.conntrack;
    if (e === null || table === null) return NF_DROP;
    const b = pkt.buf;
    const ip = pkt.ip;
    const hasPorts = ipv4.protocol(b, ip) === ipv4.PROTO_TCP || ipv4.protocol(b, ip) === ipv4.PROTO_UDP;
    if (t.kind === 'DNAT') {
      if (natInitialized(e, MANIP_DST)) return NF_ACCEPT;
      const addr = t.range.addr?.min ?? ipv4.dst(b, ip);
      const port = t.range.ports !== null && hasPorts ? t.range.ports.min : e.original.dstPort;
      return table.setDnat(e, addr, port) ? NF_ACCEPT : NF_DROP;
    }
    if (natInitialized(e, MANIP_SRC)) return NF_ACCEPT;
    let addr: number;
    if (t.kind === 'SNAT') {
      addr = t.range.addr?.min ?? ipv4.src(b, ip);
    } else {
      // nf_nat_masquerade_ipv4: the out device's address towards the next hop.
      const a = this.ns.selectSourceAddress(this.outDevice, this.nexthop);
      if (a === undefined) return NF_DROP;
      addr = a;
    }
    const ports = t.kind === 'MASQUERADE' ? t.ports : t.range.ports;
    const port = ports !== null && hasPorts ? ports.min : undefined;
    return table.setSnat(e, addr, port, t.randomFully) ? NF_ACCEPT : NF_DROP;
  }

  /** REJECT (ipt_REJECT.c): an ICMP error (nf_send_unreach) or a TCP reset (nf_send_reset). */
  reject(how: RejectWith, pkt: XtPacket): void {
    if (how === 'tcp-reset') return sendReset(this.ns, pkt.buf, pkt.ip);
    icmpSend(this.ns, this.skb, icmp.TYPE_DEST_UNREACHABLE, REJECT_ICMP_CODE[how], 0, this.inDevice);
  }

  log(prefix: string, pkt: XtPacket): void {
    const b = pkt.buf;
    this.ns.trace.event({
      timeNs: this.ns.sched.nowNs, netns: this.ns.name, event: 'info',
      detail: `${prefix}IN=${pkt.inDev} OUT=${pkt.outDev} SRC=${formatIpv4(ipv4.src(b, pkt.ip))} DST=${formatIpv4(ipv4.dst(b, pkt.ip))} PROTO=${ipv4.protocol(b, pkt.ip)}`,
    });
  }
}

const HOOK_INDEX: Readonly<Record<HookName, number>> = { PREROUTING: 0, INPUT: 1, FORWARD: 2, OUTPUT: 3, POSTROUTING: 4 };

const pool: HookCall[] = [];
let depth = 0;

function begin(ns: Netns, nf: Netfilter, skb: Skb, hook: HookName, inDev: NetDevice | undefined, outDev: NetDevice | undefined): HookCall {
  const c = pool[depth] ?? (pool[depth] = new HookCall());
  depth++;
  c.ns = ns;
  c.nf = nf;
  c.skb = skb;
  c.buf = skb.buf;
  c.ip = skb.networkOffset;
  c.hook = hook;
  c.hookIndex = HOOK_INDEX[hook];
  c.inDevice = inDev;
  c.outDevice = outDev;
  c.inDev = inDev?.name ?? '';
  c.outDev = outDev?.name ?? '';
  const br = skb.nfBridge;
  c.physIn = br?.physIn.name ?? '';
  c.physOut = br?.physOut?.name ?? '';
  c.mark = skb.mark;
  c.ct = skb.ct;
  c.ctinfo = skb.ctinfo;
  c.nexthop = 0;
  c.natRule = null;
  return c;
}

function end(c: HookCall): void {
  c.skb.mark = c.mark;
  depth--;
}

/** Walks one table's chain for the hook, if the table exists. */
function runTable(c: HookCall, t: CompiledTable | undefined): number {
  if (t === undefined) return NF_ACCEPT;
  return c.nf.evaluator.run(t, c, c);
}

/** The packet dies in a hook: its unconfirmed connection goes with it. */
function dropped(c: HookCall, what: string): null {
  const skb = c.skb;
  c.nf.conntrack?.discard(skb.ct);
  c.ns.drop(c.inDevice ?? c.outDevice, skb, `netfilter: ${what} dropped the packet in ${c.hook}`);
  end(c);
  return null;
}

/** ipv4_conntrack_in / _local: attach the packet's connection (nf_conntrack_in). */
function conntrackIn(c: HookCall): boolean {
  const table = c.nf.conntrack;
  const skb = c.skb;
  // A packet that already carries a connection (looped back through lo) is not tracked again.
  if (table === null || skb.ct !== null) return true;
  const r = table.track(skb.buf, skb.networkOffset, c.ns.sched.nowNs);
  if (r.verdict === Verdict.DROP) return false;
  skb.ct = r.entry;
  skb.ctinfo = r.verdict === Verdict.ACCEPT ? r.ctinfo : 0;
  c.ct = skb.ct;
  c.ctinfo = skb.ctinfo;
  return true;
}

/** nf_nat_inet_fn + nf_nat_packet for one manip type. */
function natHook(c: HookCall, manip: number): number {
  const e = c.skb.ct;
  const table = c.nf.conntrack;
  if (e === null || table === null) return NF_ACCEPT;
  const ctinfo = c.skb.ctinfo;
  const dir = ctinfo >= CtInfo.ESTABLISHED_REPLY ? DIR_REPLY : DIR_ORIGINAL;
  const b = c.skb.buf;
  const ip = c.skb.networkOffset;
  if (ctinfo === CtInfo.RELATED || ctinfo === CtInfo.RELATED_REPLY) {
    // nf_nat_icmp_reply_translation: an error about a translated flow is translated back.
    if (ipv4.protocol(b, ip) === ipv4.PROTO_ICMP) natIcmpError(e, dir, manip, b, ip);
    return NF_ACCEPT;
  }
  if (ctinfo === CtInfo.NEW && !natInitialized(e, manip)) {
    const v = runTable(c, c.nf.nat);
    if (v !== NF_ACCEPT) return v;
    if (!natInitialized(e, manip) && !table.nullBinding(e, manip)) return NF_DROP;
  }
  if (!tracing(c.ns.trace)) {
    natPacket(e, dir, manip, b, ip);
    return NF_ACCEPT;
  }
  const before = flowText(b, ip);
  if (natPacket(e, dir, manip, b, ip)) traceNat(c, dir, manip, before);
  return NF_ACCEPT;
}

/**
 * The trace's nat event: what the binding did to this packet, and on the connection's first
 * packet the rule that chose it, as iptables-save prints it. The detail reads
 * `LABEL PROTO SRC → DST to SRC → DST in HOOK[ by -A CHAIN …]`.
 */
function traceNat(c: HookCall, dir: number, manip: number, before: string): void {
  const rule = c.natRule;
  const b = c.skb.buf;
  const ip = c.skb.networkOffset;
  let label: string;
  if (rule !== null && rule.target !== null) label = rule.target.kind;
  else if (dir === DIR_ORIGINAL) label = manip === MANIP_DST ? 'conntrack DNAT' : 'conntrack SNAT';
  // A reply's source is rewritten back where the original's destination was translated, and so on.
  else label = manip === MANIP_SRC ? 'conntrack reverse DNAT' : 'conntrack reverse SNAT';
  const by = rule !== null ? ` by -A ${c.natChain}${renderRuleSpec(rule)}` : '';
  const ns = c.ns;
  ns.trace.event(
    { timeNs: ns.sched.nowNs, netns: ns.name, ...(c.inDev || c.outDev ? { dev: c.inDev || c.outDev } : {}), event: 'nat', pkt: packetId(ns.sched, c.skb), detail: `${label} ${before} to ${flowText(b, ip).slice(before.indexOf(' ') + 1)} in ${c.hook}${by}` },
    c.skb,
  );
}

/** `tcp 10.244.1.2:45678 → 10.96.0.100:80`: the packet's protocol and addresses (ports for TCP and UDP). */
function flowText(b: Uint8Array, ip: number): string {
  const proto = ipv4.protocol(b, ip);
  const src = formatIpv4(ipv4.src(b, ip));
  const dst = formatIpv4(ipv4.dst(b, ip));
  if ((proto === ipv4.PROTO_TCP || proto === ipv4.PROTO_UDP) && ipv4.fragmentOffset(b, ip) === 0) {
    const l4 = ipv4.payloadOffset(b, ip);
    const sp = (b[l4]! << 8) | b[l4 + 1]!;
    const dp = (b[l4 + 2]! << 8) | b[l4 + 3]!;
    return `${proto === ipv4.PROTO_TCP ? 'tcp' : 'udp'} ${src}:${sp} → ${dst}:${dp}`;
  }
  return `${proto === ipv4.PROTO_ICMP ? 'icmp' : `proto ${proto}`} ${src} → ${dst}`;
}

function confirm(c: HookCall): void {
  c.nf.conntrack?.confirm(c.skb.ct);
}

/** The conntrack defragmenter's queues (IP_DEFRAG_CONNTRACK_IN: apart from local delivery's, and it sends no ICMP). */
const ctDefrag = new WeakMap<Netns, IpDefrag>();

/**
 * ipv4_conntrack_defrag: with conntrack on, fragments are gathered before anything looks at
 * them; the whole datagram goes on (remembering its largest fragment for refragmentation).
 * Returns the skb to continue with, or null while fragments are outstanding.
 */
function defrag(ns: Netns, skb: Skb): Skb | null {
  if (!ipv4.isFragment(skb.buf, skb.networkOffset)) return skb;
  let q = ctDefrag.get(ns);
  if (q === undefined) {
    q = new IpDefrag(ns.sched, () => undefined, (reason) => ns.trace.event({ timeNs: ns.sched.nowNs, netns: ns.name, event: 'drop', detail: reason }));
    ctDefrag.set(ns, q);
  }
  const whole = q.defrag(skb);
  if (whole === undefined) return null;
  whole.ingressIfindex = skb.ingressIfindex;
  if (skb.nfBridge !== null) Object.assign(whole.enterBridge(skb.nfBridge.physIn), skb.nfBridge);
  whole.mark = skb.mark;
  return whole;
}

/** NF_INET_PRE_ROUTING. `skb.networkOffset` is at the validated IPv4 header. */
export function nfPreRouting(ns: Netns, skb: Skb, inDev: NetDevice): Skb | null {
  const nf = ns.netfilter;
  if (nf === null) return skb;
  if (nf.conntrack !== null) {
    const whole = defrag(ns, skb);
    if (whole === null) return null;
    skb = whole;
  }
  const c = begin(ns, nf, skb, 'PREROUTING', inDev, undefined);
  if (runTable(c, c.nf.raw) !== NF_ACCEPT) return dropped(c, 'raw');
  if (!conntrackIn(c)) return dropped(c, 'conntrack (table full)');
  if (runTable(c, c.nf.mangle) !== NF_ACCEPT) return dropped(c, 'mangle');
  if (natHook(c, MANIP_DST) !== NF_ACCEPT) return dropped(c, 'nat');
  end(c);
  return skb;
}

/** NF_INET_LOCAL_IN; false when the packet was dropped. */
export function nfLocalIn(ns: Netns, skb: Skb, inDev: NetDevice): boolean {
  const nf = ns.netfilter;
  if (nf === null) return true;
  const c = begin(ns, nf, skb, 'INPUT', inDev, undefined);
  if (runTable(c, c.nf.mangle) !== NF_ACCEPT) return dropped(c, 'mangle') !== null;
  if (runTable(c, c.nf.filter) !== NF_ACCEPT) return dropped(c, 'filter') !== null;
  if (natHook(c, MANIP_SRC) !== NF_ACCEPT) return dropped(c, 'nat') !== null;
  confirm(c);
  end(c);
  return true;
}

/** NF_INET_FORWARD; false when the packet was dropped. */
export function nfForward(ns: Netns, skb: Skb, inDev: NetDevice, outDev: NetDevice): boolean {
  const nf = ns.netfilter;
  if (nf === null) return true;
  const c = begin(ns, nf, skb, 'FORWARD', inDev, outDev);
  if (runTable(c, c.nf.mangle) !== NF_ACCEPT) return dropped(c, 'mangle') !== null;
  if (runTable(c, c.nf.filter) !== NF_ACCEPT) return dropped(c, 'filter') !== null;
  end(c);
  return true;
}

/**
 * NF_INET_LOCAL_OUT for a packet this host sends (its header at skb.head). Returns null when
 * dropped; the caller re-routes when the destination changed (ip_route_me_harder).
 */
export function nfLocalOut(ns: Netns, skb: Skb, outDev: NetDevice | undefined): Skb | null {
  const nf = ns.netfilter;
  if (nf === null) return skb;
  const c = begin(ns, nf, skb, 'OUTPUT', undefined, outDev);
  if (runTable(c, c.nf.raw) !== NF_ACCEPT) return dropped(c, 'raw');
  if (!conntrackIn(c)) return dropped(c, 'conntrack (table full)');
  if (runTable(c, c.nf.mangle) !== NF_ACCEPT) return dropped(c, 'mangle');
  if (natHook(c, MANIP_DST) !== NF_ACCEPT) return dropped(c, 'nat');
  if (runTable(c, c.nf.filter) !== NF_ACCEPT) return dropped(c, 'filter');
  end(c);
  return skb;
}

/** NF_INET_POST_ROUTING towards `nexthop` on `outDev`; false when dropped. */
export function nfPostRouting(ns: Netns, skb: Skb, inDev: NetDevice | undefined, outDev: NetDevice, nexthop: number): boolean {
  const nf = ns.netfilter;
  if (nf === null) return true;
  const c = begin(ns, nf, skb, 'POSTROUTING', inDev, outDev);
  c.nexthop = nexthop;
  if (runTable(c, c.nf.mangle) !== NF_ACCEPT) return dropped(c, 'mangle') !== null;
  if (natHook(c, MANIP_SRC) !== NF_ACCEPT) return dropped(c, 'nat') !== null;
  confirm(c);
  end(c);
  return true;
}

/** nf_send_reset (net/ipv4/netfilter/nf_reject_ipv4.c): the RST with TOS 0, never about a RST or a later fragment. */
function sendReset(ns: Netns, b: Uint8Array, ip: number): void {
  if (ipv4.protocol(b, ip) !== ipv4.PROTO_TCP || ipv4.fragmentOffset(b, ip) !== 0) return;
  const t = ipv4.payloadOffset(b, ip);
  if (tcp.flags(b, t) & tcp.RST) return;
  const route = routeOutput(ns, ipv4.src(b, ip));
  if (!route || (route.type !== 'unicast' && route.type !== 'local')) return;
  const dataLen = ipv4.totalLength(b, ip) - (t - ip) - tcp.headerLen(b, t);
  ipOutput(ns, buildReset(b, ip, dataLen, ns.sysctl.defaultTtl, 0), route);
}
