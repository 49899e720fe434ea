/**
 * `parity --replay`, the frames: which of the frames a pod sent in podwire's run can be injected
 * into the kernel's realization, and how to recognise a frame, its answer and its ICMP error in
 * either side's captures.
 *
 * Injected frames come from a packet socket, not from a socket of the pod's stack, so only frames
 * the far end answers without state on the injecting side are replayable: an ARP request, an
 * ICMP query (echo …), a UDP datagram, a first TCP SYN. A later TCP segment's sequence numbers
 * belong to a connection only a live stack holds. What the pod's stack sends *in answer* (an ARP
 * reply, an echo reply, an ICMP error) is not injected: on the kernel side the pod's own kernel
 * is there, receives what is sent to it and answers itself — injecting podwire's answer too
 * would send it twice.
 *
 * Frames are read with the packet codecs' accessors, bounds-checked, never trusting a length
 * field: a corrupt frame is exactly what the replay is for.
 */
import { formatIpv4, formatMac, type Ipv4Addr, type MacAddr } from '../packet/addr.js';
import * as arp from '../packet/arp.js';
import * as ethernet from '../packet/ethernet.js';
import * as icmp from '../packet/icmp.js';
import * as ipv4 from '../packet/ipv4.js';
import * as tcp from '../packet/tcp.js';
import * as udp from '../packet/udp.js';
import * as vxlan from '../packet/vxlan.js';

/** An IPv4 datagram's header fields and where its transport header starts. */
export interface Ipv4View {
  readonly src: Ipv4Addr;
  readonly dst: Ipv4Addr;
  readonly id: number;
  readonly proto: number;
  readonly ttl: number;
  /** Offset of the transport header, or -1 for a later fragment (no transport header). */
  readonly l4: number;
  /** End of the datagram within the buffer (the smaller of the total length and the bytes there). */
  readonly end: number;
}

export type FrameView =
  | { readonly kind: 'arp'; readonly op: number; readonly sha: MacAddr; readonly spa: Ipv4Addr; readonly tha: MacAddr; readonly tpa: Ipv4Addr }
  | ({ readonly kind: 'ipv4' } & Ipv4View)
  | { readonly kind: 'other'; readonly ethertype: number };

/** The IPv4 header at `off`, or undefined when there is not one there (bounds-checked). */
export function ipv4At(b: Uint8Array, off: number, limit = b.length): Ipv4View | undefined {
  if (off + ipv4.HEADER_LEN > limit || ipv4.version(b, off) !== 4) return undefined;
  const hl = ipv4.headerLen(b, off);
  if (hl < ipv4.HEADER_LEN || off + hl > limit) return undefined;
  const end = Math.min(limit, off + Math.max(hl, ipv4.totalLength(b, off)));
  return {
    src: ipv4.src(b, off),
    dst: ipv4.dst(b, off),
    id: ipv4.id(b, off),
    proto: ipv4.protocol(b, off),
    ttl: ipv4.ttl(b, off),
    l4: ipv4.fragmentOffset(b, off) === 0 ? off + hl : -1,
    end,
  };
}

/** What an Ethernet frame carries (no VLAN tags in podwire's or the references' captures). */
export function viewFrame(b: Uint8Array): FrameView | undefined {
  if (b.length < ethernet.HEADER_LEN) return undefined;
  const type = (b[12]! << 8) | b[13]!;
  const off = ethernet.HEADER_LEN;
  if (type === ethernet.ETHERTYPE_ARP) {
    if (b.length < off + arp.HEADER_LEN) return { kind: 'other', ethertype: type };
    return { kind: 'arp', op: arp.op(b, off), sha: arp.senderMac(b, off), spa: arp.senderIp(b, off), tha: arp.targetMac(b, off), tpa: arp.targetIp(b, off) };
  }
  if (type === ethernet.ETHERTYPE_IPV4) {
    const ip = ipv4At(b, off);
    return ip ? { kind: 'ipv4', ...ip } : { kind: 'other', ethertype: type };
  }
  return { kind: 'other', ethertype: type };
}

const has = (ip: Ipv4View, n: number): boolean => ip.l4 >= 0 && ip.l4 + n <= ip.end;

/** Why a frame the pod sent is not injected; `spoils` when its absence changes what follows on the wire. */
export interface Skip {
  readonly reason: string;
  /**
   * False for an answer the pod's own kernel sends on the kernel side too; true when the kernel's
   * run will lack it and what follows it (the interface comparison then does not apply).
   */
  readonly spoils: boolean;
}

/** Injected, with a one-line description; or skipped, with the reason. */
export type Replayability = { readonly replay: true; readonly what: string } | ({ readonly replay: false } & Skip);

/** Whether the frame a pod sent can be injected, and why not. */
export function replayability(b: Uint8Array): Replayability {
  const v = viewFrame(b);
  if (v === undefined) return { replay: false, reason: 'a runt frame (shorter than an Ethernet header)', spoils: true };
  if (v.kind === 'other') return { replay: false, reason: `ethertype 0x${v.ethertype.toString(16).padStart(4, '0')} (only ARP and IPv4 are replayed)`, spoils: true };
  if (v.kind === 'arp') {
    if (v.op === arp.OP_REQUEST) return { replay: true, what: describeFrame(b) };
    return { replay: false, reason: "an ARP reply: the pod's own kernel answers on the kernel side", spoils: false };
  }
  if (v.proto === ipv4.PROTO_ICMP) {
    if (has(v, icmp.HEADER_LEN)) {
      const t = icmp.type(b, v.l4);
      if (t === icmp.TYPE_ECHO_REPLY || icmp.isErrorType(t)) return { replay: false, reason: `an ICMP ${t === icmp.TYPE_ECHO_REPLY ? 'echo reply' : 'error'}: the pod's own kernel answers on the kernel side`, spoils: false };
    }
    return { replay: true, what: describeFrame(b) };
  }
  if (v.proto === ipv4.PROTO_UDP) return { replay: true, what: describeFrame(b) };
  if (v.proto === ipv4.PROTO_TCP) {
    if (has(v, tcp.HEADER_LEN) && (tcp.flags(b, v.l4) & (tcp.SYN | tcp.ACK | tcp.RST)) === tcp.SYN) return { replay: true, what: describeFrame(b) };
    return { replay: false, reason: 'a TCP segment after the first SYN: its sequence numbers belong to a connection only a live stack holds', spoils: true };
  }
  return { replay: false, reason: `IP protocol ${v.proto} (only ICMP, UDP and TCP SYNs are replayed)`, spoils: true };
}

const ip4 = formatIpv4;

function tcpFlags(f: number): string {
  const names: [number, string][] = [[tcp.SYN, 'S'], [tcp.FIN, 'F'], [tcp.RST, 'R'], [tcp.PSH, 'P'], [tcp.ACK, '.']];
  return names.filter(([bit]) => (f & bit) !== 0).map(([, n]) => n).join('') || 'none';
}

/** One line for a frame, in tcpdump's words where it has them. */
export function describeFrame(b: Uint8Array): string {
  const v = viewFrame(b);
  if (v === undefined) return `runt frame (${b.length} bytes)`;
  if (v.kind === 'other') return `ethertype 0x${v.ethertype.toString(16).padStart(4, '0')}`;
  if (v.kind === 'arp') {
    if (v.op === arp.OP_REQUEST) return `ARP who-has ${ip4(v.tpa)} tell ${ip4(v.spa)}`;
    if (v.op === arp.OP_REPLY) return `ARP reply ${ip4(v.spa)} is-at ${formatMac(v.sha)}`;
    return `ARP op ${v.op}`;
  }
  const ttl = `ttl ${v.ttl}`;
  const bad = ipv4.hasValidChecksum(b, ethernet.HEADER_LEN) ? '' : ', bad IPv4 header checksum';
  if (v.proto === ipv4.PROTO_ICMP && has(v, icmp.HEADER_LEN)) {
    const t = icmp.type(b, v.l4);
    const c = icmp.code(b, v.l4);
    let what = `ICMP type ${t} code ${c}`;
    if (icmp.isEcho(t)) what = `ICMP echo ${t === icmp.TYPE_ECHO_REQUEST ? 'request' : 'reply'} id ${icmp.echoId(b, v.l4)} seq ${icmp.echoSeq(b, v.l4)}`;
    else if (t === icmp.TYPE_TIME_EXCEEDED) what = `ICMP time exceeded${c === 0 ? ' in-transit' : ` code ${c}`}`;
    else if (t === icmp.TYPE_DEST_UNREACHABLE) what = `ICMP ${['net', 'host', 'protocol', 'port'][c] ?? `code ${c}`} unreachable`;
    return `${ip4(v.src)} > ${ip4(v.dst)}: ${what}, ${ttl}${bad}`;
  }
  if (v.proto === ipv4.PROTO_UDP && has(v, udp.HEADER_LEN)) {
    return `${ip4(v.src)}.${udp.srcPort(b, v.l4)} > ${ip4(v.dst)}.${udp.dstPort(b, v.l4)}: UDP, length ${udp.length(b, v.l4) - udp.HEADER_LEN}, ${ttl}${bad}`;
  }
  if (v.proto === ipv4.PROTO_TCP && has(v, tcp.HEADER_LEN)) {
    return `${ip4(v.src)}.${tcp.srcPort(b, v.l4)} > ${ip4(v.dst)}.${tcp.dstPort(b, v.l4)}: Flags [${tcpFlags(tcp.flags(b, v.l4))}], ${ttl}${bad}`;
  }
  return `${ip4(v.src)} > ${ip4(v.dst)}: IP protocol ${v.proto}, ${ttl}${bad}`;
}

/**
 * What identifies one datagram wherever it travels — forwarded, NATed (addresses and ports
 * rewritten) or VXLAN-encapsulated: its IP ID and protocol, which a router and NAT keep, and a
 * transport field NAT keeps (the TCP sequence number, the ICMP echo sequence, the UDP payload's
 * length and first bytes). ARP: the request's sender and target.
 */
export function travelKey(b: Uint8Array): string | undefined {
  const v = viewFrame(b);
  if (v === undefined || v.kind === 'other') return undefined;
  if (v.kind === 'arp') return `arp ${v.op} ${formatMac(v.sha)} ${v.spa} ${v.tpa}`;
  return ipTravelKey(b, v);
}

function ipTravelKey(b: Uint8Array, v: Ipv4View): string {
  let l4 = '';
  if (v.proto === ipv4.PROTO_TCP && has(v, tcp.HEADER_LEN)) l4 = `seq ${tcp.seq(b, v.l4)} flags ${tcp.flags(b, v.l4)}`;
  else if (v.proto === ipv4.PROTO_ICMP && has(v, icmp.HEADER_LEN)) l4 = `icmp ${icmp.type(b, v.l4)} ${icmp.isEcho(icmp.type(b, v.l4)) ? icmp.echoSeq(b, v.l4) : ''}`;
  else if (v.proto === ipv4.PROTO_UDP && has(v, udp.HEADER_LEN)) l4 = `udp ${Buffer.from(b.subarray(v.l4 + udp.HEADER_LEN, Math.min(v.end, v.l4 + udp.HEADER_LEN + 16))).toString('hex')} ${v.end - v.l4}`;
  return `ip ${v.id} ${v.proto} ${l4}`;
}

/**
 * The travel keys of what a frame carries: its own, and, for VXLAN (UDP 4789/8472), the inner
 * frame's too — a datagram crossing nodes is on the underlay inside one.
 */
export function carriedKeys(b: Uint8Array): string[] {
  const keys: string[] = [];
  const own = travelKey(b);
  if (own !== undefined) keys.push(own);
  const v = viewFrame(b);
  if (v?.kind === 'ipv4' && v.proto === ipv4.PROTO_UDP && has(v, udp.HEADER_LEN)) {
    const dport = udp.dstPort(b, v.l4);
    if (dport === vxlan.PORT_IANA || dport === vxlan.PORT_LINUX) {
      const inner = v.l4 + udp.HEADER_LEN + vxlan.HEADER_LEN;
      if (inner + ethernet.HEADER_LEN <= v.end) {
        const k = travelKey(b.subarray(inner, v.end));
        if (k !== undefined) keys.push(k);
      }
    }
  }
  return keys;
}

/**
 * Whether `r` (received by the pod) answers `q` (sent by it): an ARP reply from the asked address
 * to the asker, an echo reply with the query's id and sequence, a UDP datagram back to the
 * sender's port, a SYN-ACK or RST acknowledging the SYN.
 */
export function answers(q: Uint8Array, r: Uint8Array): boolean {
  const a = viewFrame(q);
  const b = viewFrame(r);
  if (a === undefined || b === undefined || a.kind !== b.kind) return false;
  if (a.kind === 'arp' && b.kind === 'arp') return b.op === arp.OP_REPLY && b.spa === a.tpa && b.tpa === a.spa;
  if (a.kind !== 'ipv4' || b.kind !== 'ipv4' || a.proto !== b.proto || b.dst !== a.src) return false;
  if (a.proto === ipv4.PROTO_ICMP && has(a, icmp.HEADER_LEN) && has(b, icmp.HEADER_LEN)) {
    const qt = icmp.type(q, a.l4);
    const rt = icmp.type(r, b.l4);
    // The answer to a query is the type below it (echo 8 → 0, timestamp 13 → 14 is the one above).
    const answerType = qt === icmp.TYPE_ECHO_REQUEST ? icmp.TYPE_ECHO_REPLY : qt + 1;
    return rt === answerType && icmp.rest(q, a.l4) === icmp.rest(r, b.l4);
  }
  if (a.proto === ipv4.PROTO_UDP && has(a, udp.HEADER_LEN) && has(b, udp.HEADER_LEN)) return udp.dstPort(r, b.l4) === udp.srcPort(q, a.l4);
  if (a.proto === ipv4.PROTO_TCP && has(a, tcp.HEADER_LEN) && has(b, tcp.HEADER_LEN)) {
    return tcp.dstPort(r, b.l4) === tcp.srcPort(q, a.l4) && (tcp.flags(r, b.l4) & tcp.ACK) !== 0 && tcp.ack(r, b.l4) === ((tcp.seq(q, a.l4) + 1) >>> 0);
  }
  return false;
}

/** Whether `r` is an ICMP error quoting the datagram `q` (the same source, destination, ID and protocol). */
export function isErrorFor(q: Uint8Array, r: Uint8Array): boolean {
  const a = viewFrame(q);
  const b = viewFrame(r);
  if (a?.kind !== 'ipv4' || b?.kind !== 'ipv4' || b.proto !== ipv4.PROTO_ICMP || !has(b, icmp.HEADER_LEN)) return false;
  if (!icmp.isErrorType(icmp.type(r, b.l4))) return false;
  const quoted = ipv4At(r, icmp.dataOffset(b.l4), b.end);
  return quoted !== undefined && quoted.src === a.src && quoted.dst === a.dst && quoted.id === a.id && quoted.proto === a.proto;
}

/** The datagram an ICMP error quotes, described: `UDP 10.0.0.1.53` (for explaining a pod's own error). */
export function quotedFlow(r: Uint8Array): { src: Ipv4Addr; dst: Ipv4Addr; proto: number; sport: number; dport: number } | undefined {
  const b = viewFrame(r);
  if (b?.kind !== 'ipv4' || b.proto !== ipv4.PROTO_ICMP || !has(b, icmp.HEADER_LEN)) return undefined;
  const q = ipv4At(r, icmp.dataOffset(b.l4), b.end);
  if (q === undefined || q.l4 < 0 || q.l4 + 4 > q.end) return undefined;
  return { src: q.src, dst: q.dst, proto: q.proto, sport: (r[q.l4]! << 8) | r[q.l4 + 1]!, dport: (r[q.l4 + 2]! << 8) | r[q.l4 + 3]! };
}

/** An IPv4 frame's ports (TCP/UDP), for tying a pod's own RST or port-unreachable to an injected flow. */
export function portsOf(b: Uint8Array): { src: Ipv4Addr; dst: Ipv4Addr; proto: number; sport: number; dport: number; flags: number } | undefined {
  const v = viewFrame(b);
  if (v?.kind !== 'ipv4' || (v.proto !== ipv4.PROTO_TCP && v.proto !== ipv4.PROTO_UDP) || !has(v, 8)) return undefined;
  return {
    src: v.src, dst: v.dst, proto: v.proto,
    sport: (b[v.l4]! << 8) | b[v.l4 + 1]!,
    dport: (b[v.l4 + 2]! << 8) | b[v.l4 + 3]!,
    flags: v.proto === ipv4.PROTO_TCP && has(v, tcp.HEADER_LEN) ? tcp.flags(b, v.l4) : 0,
  };
}

export const srcMac = (b: Uint8Array): MacAddr | undefined => (b.length >= 12 ? ethernet.src(b, 0) : undefined);
