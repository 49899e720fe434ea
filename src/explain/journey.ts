/**
 * `podwire journey`: one packet's path through the cluster, in order — every device it crossed
 * (host, netns, interface, direction, virtual time), the frame it was there (its number in that
 * interface's pcap, decoded), and what changed from the hop before and why: the trace's events
 * about the packet (NAT with the rule that bound it, the route and neighbour behind a MAC
 * rewrite, VXLAN encapsulation and decapsulation, fragmentation), ending with its delivery, its
 * drop and the reason, or the ICMP error it caused.
 */
import type { InterfaceRecord } from '../capture/index.js';
import { frameMatches, type FlowTerm } from './journey-filter.js';
import { viewFrame, type FrameView } from './journey-frame.js';
import { JourneyInputError, type EventLine, type HopLine, type JourneyRun } from './journey-run.js';

export interface JourneyChange {
  /** What changed: `dst`, `src`, `ttl`, `MACs`, `outer headers`, `outer ttl` … */
  readonly field: string;
  readonly from: string;
  readonly to: string;
  /** Why, when the trace says: the NAT rule, the route, the tunnel device. */
  readonly why?: string;
}

export interface JourneyEvent {
  readonly event: string;
  readonly netns: string;
  readonly dev?: string;
  readonly detail: string;
  readonly related?: number;
}

export interface JourneyHop {
  readonly timeNs: number;
  /** Microseconds since the packet's first hop. */
  readonly sinceFirstUs: number;
  readonly host: string;
  readonly hostKind: string;
  readonly netns: string;
  readonly dev: string;
  readonly devKind: string;
  readonly dir: 'rx' | 'tx';
  /** The interface's capture file in the run folder and the frame's number in it (Wireshark's frame number). */
  readonly file: string;
  readonly frame: number;
  readonly len: number;
  readonly summary: string;
  readonly view: FrameView;
  readonly changes: JourneyChange[];
  /** The trace's events about the packet since the previous hop. */
  readonly events: JourneyEvent[];
}

export interface JourneyOutcome {
  readonly kind: 'delivered' | 'dropped' | 'icmp-error' | 'fragmented' | 'last-seen' | 'not-captured';
  readonly text: string;
}

export interface Journey {
  readonly packet: number;
  readonly summary: string;
  readonly hops: JourneyHop[];
  /** Events after the last hop (a drop, an ICMP error sent). */
  readonly after: JourneyEvent[];
  readonly outcome: JourneyOutcome;
  /** The fragments it was cut into, the packet a fragment came from, the ICMP error it caused. */
  readonly fragments: number[];
  readonly parent?: number;
  readonly icmpError?: number;
}

/** The journey of packet `id`. */
export function packetJourney(run: JourneyRun, id: number): Journey {
  const lines = run.byPacket.get(id);
  if (lines === undefined) throw new JourneyInputError(`no packet ${id} in this run (packets are numbered 1..${run.byPacket.size === 0 ? 0 : Math.max(...run.byPacket.keys())})`);
  const hops: JourneyHop[] = [];
  let pending: JourneyEvent[] = [];
  let first = -1;
  let prev: FrameView | undefined;
  let parent: number | undefined;
  let icmpError: number | undefined;
  for (const l of lines) {
    if (l.kind === 'event') {
      pending.push(eventOf(l));
      if (l.event === 'fragment' && l.related !== undefined) parent = l.related;
      if (l.event === 'icmp-error' && l.related !== undefined) icmpError = l.related;
      continue;
    }
    const rec = interfaceOf(run, l);
    const bytes = run.frameBytes(rec, l.frame);
    if (bytes === undefined) throw new JourneyInputError(`${rec.file} has no frame ${l.frame} (trace.jsonl names it)`);
    const view = viewFrame(bytes);
    if (first < 0) first = l.t;
    hops.push({
      timeNs: l.t, sinceFirstUs: (l.t - first) / 1000, host: rec.host, hostKind: rec.hostKind, netns: l.netns, dev: l.dev, devKind: rec.kind,
      dir: l.dir, file: rec.file, frame: l.frame, len: l.len, summary: view.summary, view,
      changes: prev === undefined ? [] : diff(prev, view, pending), events: pending,
    });
    pending = [];
    prev = view;
  }
  const fragments: number[] = [];
  for (const l of run.lines) if (l.kind === 'event' && l.event === 'fragment' && l.related === id && l.pkt !== undefined) fragments.push(l.pkt);
  const outcome = outcomeOf(run, hops, pending, fragments, icmpError);
  return {
    packet: id, summary: hops[0]?.summary ?? '(never captured)', hops, after: pending, outcome, fragments,
    ...(parent !== undefined ? { parent } : {}), ...(icmpError !== undefined ? { icmpError } : {}),
  };
}

/** Packet numbers whose frames match the filter at some hop, in the order they were first seen. */
export function findPackets(run: JourneyRun, terms: readonly FlowTerm[], limit = Infinity): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  for (const l of run.lines) {
    if (l.kind !== 'hop' || seen.has(l.pkt)) continue;
    const bytes = run.frameBytes(interfaceOf(run, l), l.frame);
    if (bytes === undefined || !frameMatches(terms, viewFrame(bytes))) continue;
    seen.add(l.pkt);
    out.push(l.pkt);
    if (out.length >= limit) break;
  }
  return out;
}

/** The packet a user saw as frame `frame` of `file` (a capture file of the run). */
export function packetAtFrame(run: JourneyRun, file: string, frame: number): number {
  const rec = run.interfaceByFile(file);
  if (rec === undefined) throw new JourneyInputError(`no capture file ${file} in this run (see interfaces.json)`);
  for (const l of run.lines) if (l.kind === 'hop' && l.frame === frame && l.netns === rec.netns && l.dev === rec.name) return l.pkt;
  throw new JourneyInputError(`${rec.file} has no frame ${frame}`);
}

function interfaceOf(run: JourneyRun, l: HopLine): InterfaceRecord {
  const rec = run.device(l.netns, l.dev);
  if (rec === undefined) throw new JourneyInputError(`trace.jsonl names ${l.netns}/${l.dev}, which interfaces.json does not list`);
  return rec;
}

function eventOf(l: EventLine): JourneyEvent {
  return { event: l.event, netns: l.netns, ...(l.dev !== undefined ? { dev: l.dev } : {}), detail: l.detail, ...(l.related !== undefined ? { related: l.related } : {}) };
}

const NAT_DETAIL = /^(.*?) (?:tcp|udp|icmp|proto \d+) .+? to .+? in (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)(?: by (.*))?$/;

/** Why an address or port changed: the nat event's label, and the rule on a connection's first packet. */
function natWhy(e: JourneyEvent): string {
  const m = NAT_DETAIL.exec(e.detail);
  if (m === null) return `${e.netns}: ${e.detail}`;
  return `${m[1]} in ${e.netns} ${m[2]}${m[3] !== undefined ? `: ${m[3]}` : ''}`;
}

function endpoint(addr: string | undefined, port: number | undefined): string {
  return port === undefined ? (addr ?? '?') : `${addr ?? '?'}:${port}`;
}

/** The fields that differ between two frames of the packet, each with the event that explains it. */
function diff(a: FrameView, b: FrameView, events: readonly JourneyEvent[]): JourneyChange[] {
  const out: JourneyChange[] = [];
  const find = (kind: string): JourneyEvent | undefined => events.find((e) => e.event === kind);
  const nats = events.filter((e) => e.event === 'nat');
  const natFor = (field: 'src' | 'dst'): string | undefined => {
    // DNAT and reverse SNAT rewrite the destination; SNAT, MASQUERADE and reverse DNAT the source.
    const e = nats.find((n) => (/^(DNAT|conntrack DNAT|conntrack reverse SNAT)\b/.test(n.detail) ? 'dst' : 'src') === field);
    return e === undefined ? undefined : natWhy(e);
  };
  if (!a.outer && b.outer) {
    const e = find('encap');
    const o = b.outer;
    out.push({
      field: 'outer headers', from: '—', to: `outer Ethernet/IPv4/UDP ${o.dstPort}/VXLAN vni ${o.vni}: ${o.src} → ${o.dst} UDP ${o.srcPort}→${o.dstPort}`,
      ...(e ? { why: `${e.netns} ${e.dev ?? 'the VXLAN device'} encapsulates for ${o.dst}` } : {}),
    });
  } else if (a.outer && !b.outer) {
    const e = find('decap');
    const o = a.outer;
    out.push({ field: 'outer headers', from: `outer Ethernet/IPv4/UDP ${o.dstPort}/VXLAN vni ${o.vni}: ${o.src} → ${o.dst} UDP ${o.srcPort}→${o.dstPort}`, to: '—', ...(e ? { why: `${e.netns} ${e.dev ?? 'the VXLAN device'} decapsulates` } : {}) });
  } else if (a.outer && b.outer) {
    if (a.outer.ttl !== b.outer.ttl) out.push({ field: 'outer ttl', from: String(a.outer.ttl), to: String(b.outer.ttl) });
    if (a.outer.ethSrc !== b.outer.ethSrc || a.outer.ethDst !== b.outer.ethDst) {
      out.push({ field: 'outer MACs', from: `${a.outer.ethSrc} → ${a.outer.ethDst}`, to: `${b.outer.ethSrc} → ${b.outer.ethDst}` });
    }
  }
  const srcA = endpoint(a.src, a.srcPort);
  const srcB = endpoint(b.src, b.srcPort);
  const dstA = endpoint(a.dst, a.dstPort);
  const dstB = endpoint(b.dst, b.dstPort);
  if (srcA !== srcB) {
    const why = natFor('src');
    out.push({ field: 'src', from: srcA, to: srcB, ...(why ? { why } : {}) });
  }
  if (dstA !== dstB) {
    const why = natFor('dst');
    out.push({ field: 'dst', from: dstA, to: dstB, ...(why ? { why } : {}) });
  }
  if (a.ttl !== undefined && b.ttl !== undefined && a.ttl !== b.ttl) {
    const fwd = events.find((e) => e.event === 'route' && e.detail.startsWith('forward '));
    out.push({ field: 'ttl', from: String(a.ttl), to: String(b.ttl), why: fwd ? `forwarded by ${fwd.netns}` : 'forwarded' });
  }
  if (a.ethSrc !== b.ethSrc || a.ethDst !== b.ethDst) {
    const routes = events.filter((e) => e.event === 'route');
    // In a tunnel the inner frame's MACs are the ones the route before encapsulation chose.
    const r = routes[0];
    out.push({
      field: 'MACs', from: `src ${a.ethSrc} dst ${a.ethDst}`, to: `src ${b.ethSrc} dst ${b.ethDst}`,
      ...(r ? { why: `${r.netns}: route ${r.detail.replace(/^(output|forward) /, '')}` } : {}),
    });
  }
  return out;
}

function outcomeOf(run: JourneyRun, hops: readonly JourneyHop[], after: readonly JourneyEvent[], fragments: readonly number[], icmpError: number | undefined): JourneyOutcome {
  const drop = after.find((e) => e.event === 'drop');
  const err = after.find((e) => e.event === 'icmp-error');
  if (drop) {
    const tail = err ? `; ${err.netns} sent ${err.detail}${icmpError !== undefined ? ` (packet ${icmpError})` : ''}` : '';
    return { kind: 'dropped', text: `dropped in ${drop.netns}${drop.dev ? ` at ${drop.dev}` : ''}: ${drop.detail}${tail}` };
  }
  if (err) return { kind: 'icmp-error', text: `${err.netns} sent ${err.detail}${icmpError !== undefined ? ` (packet ${icmpError})` : ''}` };
  if (fragments.length > 0) return { kind: 'fragmented', text: `cut into ${fragments.length} fragments: packets ${fragments.join(', ')}` };
  const last = hops[hops.length - 1];
  if (last === undefined) return { kind: 'not-captured', text: 'never captured' };
  if (last.dir === 'rx' && last.view.dst !== undefined) {
    const local = run.interfaces.some((i) => i.netns === last.netns && i.addresses.some((a) => a.split('/')[0] === last.view.dst));
    if (local) {
      const port = last.view.dstPort !== undefined ? ` port ${last.view.dstPort}` : '';
      return { kind: 'delivered', text: `delivered in ${last.hostKind} ${last.host}: ${last.view.dst} is its address (${(last.view.proto ?? 'ip').toUpperCase()}${port})` };
    }
  }
  return { kind: 'last-seen', text: `last seen ${last.dir === 'rx' ? 'arriving on' : 'leaving'} ${last.host} ${last.dev}` };
}
