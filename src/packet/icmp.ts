/**
 * ICMP for IPv4 (RFC 792): type, code, checksum, a 32-bit word whose meaning depends on the type,
 * then the data. The checksum covers the whole message and no pseudo-header.
 *
 * One flat Repr serves every type: the second word is kept raw in `rest` (echo: id << 16 | seq;
 * fragmentation needed: the next-hop MTU in its low 16 bits, RFC 1191 §4; other errors: unused,
 * zero), so unknown types and codes round-trip byte for byte. Errors are built as Linux's
 * __icmp_send (net/ipv4/icmp.c) builds them: see linuxQuoteLen, linuxErrorTos and emitError.
 */
import { setU16, setU32, setU8, u16, u32, u8 } from './bytes.js';
import { finish, sum, update16, verifies } from './checksum.js';
import { COMPUTE, type EmitOptions } from './emit-options.js';
import { malformed, need } from './errors.js';

export const HEADER_LEN = 8;

export const TYPE_ECHO_REPLY = 0;
export const TYPE_DEST_UNREACHABLE = 3;
export const TYPE_SOURCE_QUENCH = 4;
export const TYPE_REDIRECT = 5;
export const TYPE_ECHO_REQUEST = 8;
export const TYPE_TIME_EXCEEDED = 11;
export const TYPE_PARAMETER_PROBLEM = 12;

/**
 * Codes of TYPE_DEST_UNREACHABLE (RFC 792, RFC 1191). 13, communication administratively prohibited
 * (RFC 1812 §5.2.7.1), is what iptables' REJECT --reject-with icmp-admin-prohibited sends.
 */
export const NET_UNREACHABLE = 0;
export const HOST_UNREACHABLE = 1;
export const PROTOCOL_UNREACHABLE = 2;
export const PORT_UNREACHABLE = 3;
export const FRAGMENTATION_NEEDED = 4;
export const ADMIN_PROHIBITED = 13;

/** Codes of TYPE_TIME_EXCEEDED. */
export const TTL_EXCEEDED_IN_TRANSIT = 0;
export const FRAG_REASSEMBLY_TIME_EXCEEDED = 1;

/** RFC 1812 §4.3.2.3 and __icmp_send: the whole error datagram stays within 576 bytes. */
export const ERROR_DATAGRAM_MAX_LEN = 576;
/** IPTOS_TOS_MASK and IPTOS_PREC_INTERNETCONTROL (include/uapi/linux/ip.h). */
export const IPTOS_TOS_MASK = 0x1e;
export const IPTOS_PREC_INTERNETCONTROL = 0xc0;

const IPV4_HEADER_LEN = 20;

const OFF = { TYPE: 0, CODE: 1, CHECKSUM: 2, REST: 4, ECHO_ID: 4, ECHO_SEQ: 6, NEXT_HOP_MTU: 6, DATA: 8 } as const;

export interface IcmpRepr {
  readonly type: number;
  readonly code: number;
  /** The checksum as read; emit computes it unless asked to keep this value. */
  readonly checksum: number;
  /** The second 32-bit word, unsigned: id << 16 | seq for echo, the next-hop MTU for frag-needed, else 0. */
  readonly rest: number;
  /** Bytes after the 8-byte header: echo data, or the quoted datagram of an error. */
  readonly payloadLen: number;
}

export interface ParseOptions {
  /** Default true: an ICMP message with a bad checksum is malformed, as icmp_rcv drops it. */
  readonly verifyChecksum?: boolean;
}

/** The rest word of an echo request or reply. */
export function echoRest(echoId: number, echoSeq: number): number {
  return (((echoId & 0xffff) << 16) | (echoSeq & 0xffff)) >>> 0;
}

export function echoRequest(echoId: number, echoSeq: number, dataLen: number): IcmpRepr {
  return { type: TYPE_ECHO_REQUEST, code: 0, checksum: 0, rest: echoRest(echoId, echoSeq), payloadLen: dataLen };
}

export function echoReply(echoId: number, echoSeq: number, dataLen: number): IcmpRepr {
  return { type: TYPE_ECHO_REPLY, code: 0, checksum: 0, rest: echoRest(echoId, echoSeq), payloadLen: dataLen };
}

/** A destination unreachable quoting `quoteLen` bytes; the MTU matters only for FRAGMENTATION_NEEDED. */
export function destUnreachable(code: number, quoteLen: number, nextHopMtu = 0): IcmpRepr {
  return { type: TYPE_DEST_UNREACHABLE, code, checksum: 0, rest: nextHopMtu & 0xffff, payloadLen: quoteLen };
}

export function timeExceeded(code: number, quoteLen: number): IcmpRepr {
  return { type: TYPE_TIME_EXCEEDED, code, checksum: 0, rest: 0, payloadLen: quoteLen };
}

export const type = (b: Uint8Array, off: number): number => u8(b, off + OFF.TYPE);
export const code = (b: Uint8Array, off: number): number => u8(b, off + OFF.CODE);
export const checksum = (b: Uint8Array, off: number): number => u16(b, off + OFF.CHECKSUM);
export const rest = (b: Uint8Array, off: number): number => u32(b, off + OFF.REST);
export const echoId = (b: Uint8Array, off: number): number => u16(b, off + OFF.ECHO_ID);
export const echoSeq = (b: Uint8Array, off: number): number => u16(b, off + OFF.ECHO_SEQ);
/** RFC 1191 §4: the low 16 bits of the second word of a fragmentation-needed message. */
export const nextHopMtu = (b: Uint8Array, off: number): number => u16(b, off + OFF.NEXT_HOP_MTU);
/** Where the data starts: echo data, or the quoted IPv4 header of an error. */
export const dataOffset = (off: number): number => off + OFF.DATA;

export function isEcho(t: number): boolean {
  return t === TYPE_ECHO_REQUEST || t === TYPE_ECHO_REPLY;
}

/**
 * The types that quote an offending datagram (icmp_pointers[type].error in net/ipv4/icmp.c):
 * Linux never answers one of these with another error, and conntrack looks inside them.
 */
export function isErrorType(t: number): boolean {
  return (
    t === TYPE_DEST_UNREACHABLE ||
    t === TYPE_SOURCE_QUENCH ||
    t === TYPE_REDIRECT ||
    t === TYPE_TIME_EXCEEDED ||
    t === TYPE_PARAMETER_PROBLEM
  );
}

/** The echo identifier rewrite of conntrack's ICMP NAT (nf_nat_icmp_manip_pkt), patched with csum_replace2. */
export function setEchoId(b: Uint8Array, off: number, value: number): void {
  const old = echoId(b, off);
  setU16(b, off + OFF.ECHO_ID, value);
  setU16(b, off + OFF.CHECKSUM, update16(checksum(b, off), old, value & 0xffff));
}

/** Recomputes the checksum over the message in [off, end). */
export function fixChecksum(b: Uint8Array, off: number, end: number): void {
  setU16(b, off + OFF.CHECKSUM, 0);
  setU16(b, off + OFF.CHECKSUM, finish(sum(b, off, end)));
}

/**
 * The message is [off, end): ICMP has no length field, so the caller passes the end of the IPv4
 * payload (not of the frame, which may carry Ethernet padding). Verifies the checksum over all of it.
 */
export function parse(b: Uint8Array, off = 0, end: number = b.length, opts?: ParseOptions): IcmpRepr {
  if (end > b.length) end = b.length;
  need(b, off, HEADER_LEN, 'icmp', 'header', end);
  if (opts?.verifyChecksum !== false && !verifies(b, off, end)) {
    malformed('icmp', 'checksum', off + OFF.CHECKSUM, `0x${checksum(b, off).toString(16).padStart(4, '0')} does not verify`);
  }
  return {
    type: type(b, off),
    code: code(b, off),
    checksum: checksum(b, off),
    rest: rest(b, off),
    payloadLen: end - off - HEADER_LEN,
  };
}

/**
 * Writes the header at `off`, in front of the `payloadLen` bytes already there, and returns the
 * header length. The checksum covers header and payload (RFC 792).
 */
export function emit(r: IcmpRepr, b: Uint8Array, off = 0, opts: EmitOptions = COMPUTE): number {
  const end = off + HEADER_LEN + r.payloadLen;
  if (off < 0 || r.payloadLen < 0 || end > b.length) {
    throw new RangeError(`icmp: no room for ${HEADER_LEN + r.payloadLen} bytes at ${off}`);
  }
  setU8(b, off + OFF.TYPE, r.type);
  setU8(b, off + OFF.CODE, r.code);
  setU32(b, off + OFF.REST, r.rest);
  if (opts.keepChecksum) {
    setU16(b, off + OFF.CHECKSUM, r.checksum);
  } else {
    setU16(b, off + OFF.CHECKSUM, 0);
    setU16(b, off + OFF.CHECKSUM, finish(sum(b, off, end)));
  }
  return HEADER_LEN;
}

/**
 * How many bytes of the offending datagram Linux quotes (__icmp_send): "as much as we can without
 * exceeding 576 bytes" — room = min(route MTU, 576) − outer IPv4 header (with any echoed options)
 * − 8, and the quote is the datagram from its IPv4 header on, cut to that room. The datagram's
 * length is its total length: ip_rcv_core has already trimmed any Ethernet padding.
 */
export function linuxQuoteLen(
  origIpPacketLen: number,
  outerIpHeaderLen = IPV4_HEADER_LEN,
  routeMtu = ERROR_DATAGRAM_MAX_LEN,
): number {
  const room = Math.min(routeMtu, ERROR_DATAGRAM_MAX_LEN) - outerIpHeaderLen - HEADER_LEN;
  return Math.max(0, Math.min(origIpPacketLen, room));
}

/**
 * The TOS byte of the IPv4 header carrying an ICMP error (__icmp_send): the offending datagram's
 * TOS bits (RT_TOS: & IPTOS_TOS_MASK) with precedence "internetwork control". Replies such as
 * echo replies copy the request's TOS unchanged instead.
 */
export function linuxErrorTos(origTos: number): number {
  return (origTos & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL;
}

/**
 * Writes an error message at `off`: copies `r.payloadLen` bytes of the offending datagram from
 * `quote` at `quoteOff` (as icmp_glue_bits copies from the original skb), then the header and
 * checksum over both. Returns the bytes written (8 + r.payloadLen). `quote` may be `b` itself.
 */
export function emitError(
  r: IcmpRepr,
  quote: Uint8Array,
  quoteOff: number,
  b: Uint8Array,
  off = 0,
  opts: EmitOptions = COMPUTE,
): number {
  const len = r.payloadLen;
  if (quoteOff < 0 || len < 0 || quoteOff + len > quote.length) {
    throw new RangeError(`icmp: quote of ${len} bytes at ${quoteOff} is outside its ${quote.length}-byte buffer`);
  }
  if (off < 0 || off + HEADER_LEN + len > b.length) {
    throw new RangeError(`icmp: no room for ${HEADER_LEN + len} bytes at ${off}`);
  }
  // TypedArray.prototype.set copies correctly even when both views share memory.
  b.set(quote.subarray(quoteOff, quoteOff + len), off + HEADER_LEN);
  return emit(r, b, off, opts) + len;
}
