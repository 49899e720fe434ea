/**
 * Conntrack tuples (struct nf_conntrack_tuple) read from a packet's own bytes: IPv4 source and
 * destination, protocol, and the layer-4 part — TCP/UDP ports, or for ICMP the echo identifier
 * and type/code. Tuples are plain mutable records so the datapath can read a packet into a reused
 * scratch tuple and hash it without allocating.
 *
 * ICMP is encoded the way the kernel's union keeps it: `srcPort` holds the identifier
 * (src.u.icmp.id) and `dstPort` the type << 8 | code (dst.u.icmp.type, dst.u.icmp.code).
 */
import * as icmp from '../../packet/icmp.js';
import * as ipv4 from '../../packet/ipv4.js';
import * as tcp from '../../packet/tcp.js';
import * as udp from '../../packet/udp.js';
import { formatIpv4 } from '../../packet/addr.js';

export interface CtTuple {
  src: number;
  dst: number;
  proto: number;
  /** TCP/UDP source port; ICMP identifier. */
  srcPort: number;
  /** TCP/UDP destination port; ICMP type << 8 | code. */
  dstPort: number;
}

export function emptyTuple(): CtTuple {
  return { src: 0, dst: 0, proto: 0, srcPort: 0, dstPort: 0 };
}

export function copyTuple(from: CtTuple, to: CtTuple): CtTuple {
  to.src = from.src;
  to.dst = from.dst;
  to.proto = from.proto;
  to.srcPort = from.srcPort;
  to.dstPort = from.dstPort;
  return to;
}

export function tupleEquals(a: CtTuple, b: CtTuple): boolean {
  return a.src === b.src && a.dst === b.dst && a.proto === b.proto && a.srcPort === b.srcPort && a.dstPort === b.dstPort;
}

/**
 * The reply type of an ICMP query, or -1 when the type opens no connection: the invmap of
 * icmp_invert_tuple (nf_conntrack_proto_icmp.c) — echo, timestamp, info and address mask.
 */
export function icmpInverseType(type: number): number {
  switch (type) {
    case icmp.TYPE_ECHO_REQUEST:
      return icmp.TYPE_ECHO_REPLY;
    case icmp.TYPE_ECHO_REPLY:
      return icmp.TYPE_ECHO_REQUEST;
    case 13:
      return 14;
    case 14:
      return 13;
    case 15:
      return 16;
    case 16:
      return 15;
    case 17:
      return 18;
    case 18:
      return 17;
    default:
      return -1;
  }
}

/**
 * nf_ct_invert_tuple: the tuple of the answer. Returns false for an ICMP type without an answer
 * (icmp_invert_tuple fails, and conntrack treats the packet as invalid).
 */
export function invertTuple(t: CtTuple, out: CtTuple): boolean {
  const src = t.src;
  out.src = t.dst;
  out.dst = src;
  out.proto = t.proto;
  if (t.proto === ipv4.PROTO_ICMP) {
    const inv = icmpInverseType(t.dstPort >>> 8);
    if (inv < 0) return false;
    out.srcPort = t.srcPort;
    out.dstPort = (inv << 8) | (t.dstPort & 0xff);
    return true;
  }
  const sp = t.srcPort;
  out.srcPort = t.dstPort;
  out.dstPort = sp;
  return true;
}

/**
 * Reads the tuple of the IPv4 packet at `ip` into `out` (nf_ct_get_tuple). Returns false when
 * conntrack cannot track it here: a non-first fragment or a truncated transport header (the
 * kernel defragments before conntrack), or a protocol other than TCP, UDP and ICMP (which Linux
 * would track with the generic tracker; not modelled). `end` bounds the bytes present, so a
 * header quoted in an ICMP error (only 8 transport bytes) is read as well.
 */
export function readTuple(b: Uint8Array, ip: number, out: CtTuple, end: number = b.length): boolean {
  if (ipv4.fragmentOffset(b, ip) !== 0) return false;
  const l4 = ipv4.payloadOffset(b, ip);
  const proto = ipv4.protocol(b, ip);
  out.src = ipv4.src(b, ip);
  out.dst = ipv4.dst(b, ip);
  out.proto = proto;
  // Ports and ICMP type/code/id all sit in the first 8 bytes, which is all an ICMP error quotes.
  if (l4 + 8 > end) return false;
  if (proto === ipv4.PROTO_TCP) {
    out.srcPort = tcp.srcPort(b, l4);
    out.dstPort = tcp.dstPort(b, l4);
    return true;
  }
  if (proto === ipv4.PROTO_UDP) {
    out.srcPort = udp.srcPort(b, l4);
    out.dstPort = udp.dstPort(b, l4);
    return true;
  }
  if (proto === ipv4.PROTO_ICMP) {
    out.srcPort = icmp.echoId(b, l4);
    out.dstPort = (icmp.type(b, l4) << 8) | icmp.code(b, l4);
    return true;
  }
  return false;
}

/**
 * A 32-bit hash of the tuple's fields (the kernel uses siphash with a boot-time key; any good mix
 * serves, the order of `conntrack -L` does not follow from it here). Math.imul keeps it in int32s.
 */
export function hashTuple(t: CtTuple): number {
  let h = Math.imul(t.src ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ t.dst, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ ((t.srcPort << 16) | t.dstPort), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ t.proto, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * One tuple as conntrack-tools prints it (libnetfilter_conntrack __snprintf_address and
 * __snprintf_proto): `src=… dst=… sport=… dport=…` or `src=… dst=… type=… code=… id=…`.
 */
export function formatTuple(t: CtTuple): string {
  const addrs = `src=${formatIpv4(t.src)} dst=${formatIpv4(t.dst)}`;
  if (t.proto === ipv4.PROTO_ICMP) return `${addrs} type=${t.dstPort >>> 8} code=${t.dstPort & 0xff} id=${t.srcPort}`;
  return `${addrs} sport=${t.srcPort} dport=${t.dstPort}`;
}
