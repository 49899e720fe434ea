/**
 * Writing TCP segments as Linux lays them out (tcp_options_write, __tcp_transmit_skb,
 * ip_queue_xmit): header bytes written in place in a fresh skb with headroom for the link and
 * tunnel headers, the checksum over pseudo-header, header and payload, then the IPv4 header.
 * Byte writes, not Repr objects: a bulk transfer sends tens of thousands of segments.
 */
import type { Ipv4Addr } from '../packet/addr.js';
import { setU16, setU32 } from '../packet/bytes.js';
import { finish, pseudoHeaderSum, sum } from '../packet/checksum.js';
import * as ipv4 from '../packet/ipv4.js';
import * as tcp from '../packet/tcp.js';
import { Skb } from './skb.js';

/** The options a segment carries (what tcp_syn_options / tcp_established_options decided). */
export interface SegmentOptions {
  /** SYN and SYN-ACK: our MSS; 0 = none. */
  mss: number;
  /** SYN and SYN-ACK: SACK permitted. */
  sackPermitted: boolean;
  /** Window scale shift to announce (SYN, SYN-ACK), or -1 for none. */
  windowScale: number;
  /** Timestamps: tsval and tsecr, when the connection uses them. */
  timestamps: boolean;
  tsval: number;
  tsecr: number;
  /** SACK blocks (left, right) of an established connection's ACK. */
  sack: ReadonlyArray<readonly [number, number]> | undefined;
}

export const NO_OPTIONS: SegmentOptions = Object.freeze({ mss: 0, sackPermitted: false, windowScale: -1, timestamps: false, tsval: 0, tsecr: 0, sack: undefined });

/** Bytes of options tcp_options_write emits for `o` (always a multiple of 4). */
export function optionsLength(o: SegmentOptions): number {
  let n = 0;
  if (o.mss) n += 4;
  if (o.timestamps) n += 12; // (SACK_PERM or NOP NOP) + TS
  else if (o.sackPermitted) n += 4; // NOP NOP SACK_PERM
  if (o.windowScale >= 0) n += 4; // NOP WS
  if (o.sack && o.sack.length > 0) n += 4 + 8 * o.sack.length; // NOP NOP SACK
  return n;
}

/** tcp_options_write: MSS; SACK_PERM+TS (or NOP NOP TS, or NOP NOP SACK_PERM); NOP WS; NOP NOP SACK. */
function writeOptions(b: Buffer, off: number, o: SegmentOptions): number {
  let i = off;
  if (o.mss) {
    b[i] = tcp.TCPOPT_MSS; b[i + 1] = tcp.TCPOLEN_MSS; setU16(b, i + 2, o.mss);
    i += 4;
  }
  if (o.timestamps) {
    if (o.sackPermitted) { b[i] = tcp.TCPOPT_SACK_PERM; b[i + 1] = tcp.TCPOLEN_SACK_PERM; }
    else { b[i] = tcp.TCPOPT_NOP; b[i + 1] = tcp.TCPOPT_NOP; }
    b[i + 2] = tcp.TCPOPT_TIMESTAMP; b[i + 3] = tcp.TCPOLEN_TIMESTAMP;
    setU32(b, i + 4, o.tsval);
    setU32(b, i + 8, o.tsecr);
    i += 12;
  } else if (o.sackPermitted) {
    b[i] = tcp.TCPOPT_NOP; b[i + 1] = tcp.TCPOPT_NOP; b[i + 2] = tcp.TCPOPT_SACK_PERM; b[i + 3] = tcp.TCPOLEN_SACK_PERM;
    i += 4;
  }
  if (o.windowScale >= 0) {
    b[i] = tcp.TCPOPT_NOP; b[i + 1] = tcp.TCPOPT_WINDOW; b[i + 2] = tcp.TCPOLEN_WINDOW; b[i + 3] = o.windowScale;
    i += 4;
  }
  if (o.sack && o.sack.length > 0) {
    b[i] = tcp.TCPOPT_NOP; b[i + 1] = tcp.TCPOPT_NOP; b[i + 2] = tcp.TCPOPT_SACK; b[i + 3] = 2 + 8 * o.sack.length;
    i += 4;
    for (const [l, r] of o.sack) {
      setU32(b, i, l);
      setU32(b, i + 4, r);
      i += 8;
    }
  }
  return i - off;
}

export interface SegmentHeader {
  src: Ipv4Addr;
  dst: Ipv4Addr;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** IPv4 fields: ID, DF, TTL, TOS. */
  id: number;
  dontFragment: boolean;
  ttl: number;
  tos: number;
}

/**
 * An skb holding a complete IPv4 + TCP segment: header and options written, `fill` asked to write
 * `payloadLen` bytes of payload at the offset it is given, checksums computed.
 */
export function buildSegment(h: SegmentHeader, o: SegmentOptions, payloadLen: number, fill?: (buf: Buffer, at: number) => void): Skb {
  const optLen = optionsLength(o);
  const hl = tcp.HEADER_LEN + optLen;
  const skb = Skb.alloc(ipv4.HEADER_LEN + hl + payloadLen);
  const b = skb.buf;
  const ip = skb.head;
  const t = ip + ipv4.HEADER_LEN;
  if (payloadLen > 0 && fill) fill(b, t + hl);
  setU16(b, t, h.srcPort);
  setU16(b, t + 2, h.dstPort);
  setU32(b, t + 4, h.seq);
  setU32(b, t + 8, h.ack);
  b[t + 12] = (hl >>> 2) << 4;
  b[t + 13] = h.flags & 0xff;
  setU16(b, t + 14, h.window);
  // checksum (t+16) and urgent pointer (t+18) are zero in the fresh buffer
  writeOptions(b, t + tcp.HEADER_LEN, o);
  const segLen = hl + payloadLen;
  setU16(b, t + 16, finish(sum(b, t, t + segLen, pseudoHeaderSum(h.src, h.dst, tcp.IPPROTO_TCP, segLen))));
  writeIpv4Header(b, ip, h, ipv4.HEADER_LEN + segLen);
  skb.networkOffset = ip;
  return skb;
}

/** A 20-byte IPv4 header as ip_queue_xmit writes it (no options), checksum included. */
function writeIpv4Header(b: Buffer, off: number, h: SegmentHeader, totalLen: number): void {
  b[off] = 0x45;
  b[off + 1] = h.tos;
  setU16(b, off + 2, totalLen);
  setU16(b, off + 4, h.id);
  setU16(b, off + 6, h.dontFragment ? 0x4000 : 0);
  b[off + 8] = h.ttl;
  b[off + 9] = ipv4.PROTO_TCP;
  setU16(b, off + 10, 0);
  setU32(b, off + 12, h.src);
  setU32(b, off + 16, h.dst);
  setU16(b, off + 10, finish(sum(b, off, off + ipv4.HEADER_LEN)));
}

/** What the receive path needs of an incoming segment's options (tcp_parse_options). */
export interface ParsedOptions {
  mss: number;
  windowScale: number;
  sackPermitted: boolean;
  hasTimestamps: boolean;
  tsval: number;
  tsecr: number;
  /** Number of SACK blocks in the segment. */
  sackBlocks: number;
}

/** Reads the options of the segment at `t` (header length `hl`) into `out`, without allocating. */
export function parseOptions(b: Uint8Array, t: number, hl: number, out: ParsedOptions): void {
  out.mss = 0;
  out.windowScale = -1;
  out.sackPermitted = false;
  out.hasTimestamps = false;
  out.sackBlocks = 0;
  let i = t + tcp.HEADER_LEN;
  const end = t + hl;
  while (i < end) {
    const kind = b[i]!;
    if (kind === tcp.TCPOPT_EOL) break;
    if (kind === tcp.TCPOPT_NOP) { i++; continue; }
    if (i + 1 >= end) break;
    const len = b[i + 1]!;
    if (len < 2 || i + len > end) break; // a malformed option ends parsing, as tcp_parse_options does
    if (kind === tcp.TCPOPT_MSS && len === tcp.TCPOLEN_MSS) out.mss = (b[i + 2]! << 8) | b[i + 3]!;
    else if (kind === tcp.TCPOPT_WINDOW && len === tcp.TCPOLEN_WINDOW) out.windowScale = Math.min(b[i + 2]!, 14);
    else if (kind === tcp.TCPOPT_SACK_PERM && len === tcp.TCPOLEN_SACK_PERM) out.sackPermitted = true;
    else if (kind === tcp.TCPOPT_TIMESTAMP && len === tcp.TCPOLEN_TIMESTAMP) {
      out.hasTimestamps = true;
      out.tsval = ((b[i + 2]! << 24) | (b[i + 3]! << 16) | (b[i + 4]! << 8) | b[i + 5]!) >>> 0;
      out.tsecr = ((b[i + 6]! << 24) | (b[i + 7]! << 16) | (b[i + 8]! << 8) | b[i + 9]!) >>> 0;
    } else if (kind === tcp.TCPOPT_SACK) out.sackBlocks = (len - 2) >>> 3;
    i += len;
  }
}

/**
 * The RST answering the TCP segment whose IPv4 header is at `ip` (RFC 9293 §3.10.7.1, as
 * tcp_v4_send_reset and nf_send_reset build it): from its destination, ID 0, DF, window 0; seq =
 * the segment's ACK when it had one, else 0 with an ACK of the segment's end. The callers differ
 * only in TTL and TOS.
 */
export function buildReset(b: Uint8Array, ip: number, dataLen: number, ttl: number, tos: number): Skb {
  const t = ipv4.payloadOffset(b, ip);
  const flags = tcp.flags(b, t);
  const hasAck = (flags & tcp.ACK) !== 0;
  const segEnd = (tcp.seq(b, t) + dataLen + (flags & tcp.SYN ? 1 : 0) + (flags & tcp.FIN ? 1 : 0)) >>> 0;
  return buildSegment(
    {
      src: ipv4.dst(b, ip), dst: ipv4.src(b, ip), srcPort: tcp.dstPort(b, t), dstPort: tcp.srcPort(b, t),
      seq: hasAck ? tcp.ack(b, t) : 0, ack: hasAck ? 0 : segEnd, flags: hasAck ? tcp.RST : tcp.RST | tcp.ACK, window: 0,
      id: 0, dontFragment: true, ttl, tos,
    },
    NO_OPTIONS, 0,
  );
}
