/**
 * UDP (RFC 768): an 8-byte header — source port, destination port, length (header + payload) and
 * a checksum over the IPv4 pseudo-header, the header and the payload.
 *
 * Over IPv4 a checksum field of 0 means "no checksum" (RFC 768): parse does not verify it, and the
 * in-place rewrites (NAT) leave it 0, as the kernel's udp_manip_pkt does ("if check == 0 don't
 * touch"). A computed or updated checksum of 0 goes out as 0xffff instead (RFC 768; the kernel's
 * CSUM_MANGLED_0), so it is never mistaken for "none".
 */
import { u16, setU16 } from './bytes.js';
import { finish, pseudoHeaderSum, sum, update16, update32, verifies } from './checksum.js';
import { COMPUTE, type EmitOptions, type PseudoHeader } from './emit-options.js';
import { malformed, need } from './errors.js';

export const HEADER_LEN = 8;
/** The IPv4 protocol number (the kernel's IPPROTO_UDP), also the pseudo-header's protocol. */
export const IPPROTO_UDP = 17;
/** A checksum field of 0 means the sender computed none (RFC 768, IPv4 only). */
export const CHECKSUM_NONE = 0;

const OFF = { SRC_PORT: 0, DST_PORT: 2, LENGTH: 4, CHECKSUM: 6 } as const;

export interface UdpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
  /** The checksum field as read; emit computes it unless asked to keep this value. */
  readonly checksum: number;
  /** Bytes after the header; the length field is HEADER_LEN + payloadLen. */
  readonly payloadLen: number;
}

export interface UdpParseOptions {
  /** The IPv4 addresses: when given, a non-zero checksum is verified. */
  readonly pseudo?: PseudoHeader;
  /**
   * The header sits in the first fragment of a fragmented IPv4 datagram: the length field and the
   * checksum cover the reassembled datagram, so only the 8 header bytes are required and neither
   * the upper bound of the length nor the checksum is checked.
   */
  readonly firstFragment?: boolean;
}

export const srcPort = (b: Uint8Array, off: number): number => u16(b, off + OFF.SRC_PORT);
export const dstPort = (b: Uint8Array, off: number): number => u16(b, off + OFF.DST_PORT);
export const length = (b: Uint8Array, off: number): number => u16(b, off + OFF.LENGTH);
export const checksum = (b: Uint8Array, off: number): number => u16(b, off + OFF.CHECKSUM);

/** RFC 768: a checksum that computes to 0 is transmitted as all ones. */
function nonZero(c: number): number {
  return c === 0 ? 0xffff : c;
}

/**
 * Patches the checksum after a 16-bit word of the header or pseudo-header changed, keeping the
 * UDP rules: no checksum stays none, and a result of 0 is sent as 0xffff (the kernel's
 * inet_proto_csum_replace2 with CSUM_MANGLED_0 in udp_manip_pkt).
 */
function patch16(b: Uint8Array, off: number, oldWord: number, newWord: number): void {
  const c = checksum(b, off);
  if (c === CHECKSUM_NONE) return;
  setU16(b, off + OFF.CHECKSUM, nonZero(update16(c, oldWord, newWord)));
}

export function setSrcPort(b: Uint8Array, off: number, port: number): void {
  const old = srcPort(b, off);
  setU16(b, off + OFF.SRC_PORT, port);
  patch16(b, off, old, port);
}

export function setDstPort(b: Uint8Array, off: number, port: number): void {
  const old = dstPort(b, off);
  setU16(b, off + OFF.DST_PORT, port);
  patch16(b, off, old, port);
}

/**
 * Patches the checksum for a NAT rewrite of a pseudo-header address (the IPv4 source or
 * destination, rewritten in the IPv4 header by the caller), as the kernel's
 * inet_proto_csum_replace4 does; a zero checksum stays zero.
 */
export function updateChecksumForAddress(b: Uint8Array, off: number, oldAddr: number, newAddr: number): void {
  const c = checksum(b, off);
  if (c === CHECKSUM_NONE) return;
  setU16(b, off + OFF.CHECKSUM, nonZero(update32(c, oldAddr, newAddr)));
}

/**
 * True when the checksum over pseudo-header, header and the `length` bytes it announces is right,
 * or when there is none (field 0). The caller has made sure the `length` bytes are present.
 */
export function hasValidChecksum(b: Uint8Array, off: number, pseudo: PseudoHeader): boolean {
  if (checksum(b, off) === CHECKSUM_NONE) return true;
  const len = length(b, off);
  return verifies(b, off, off + len, pseudoHeaderSum(pseudo.src, pseudo.dst, IPPROTO_UDP, len));
}

/** `end` is where the IPv4 payload ends (the IPv4 total length), not the end of the frame. */
export function parse(b: Uint8Array, off = 0, end: number = b.length, opts: UdpParseOptions = {}): UdpRepr {
  const limit = Math.min(end, b.length);
  need(b, off, HEADER_LEN, 'udp', 'header', limit);
  const len = length(b, off);
  // The lower bound holds in any fragment: the header itself is part of the length.
  if (len < HEADER_LEN) malformed('udp', 'length', off + OFF.LENGTH, `${len} is less than the header`);
  const c = checksum(b, off);
  if (!opts.firstFragment) {
    // A datagram shorter than its IPv4 payload is fine (the kernel trims the rest, __udp4_lib_rcv);
    // a longer one is truncated.
    if (len > limit - off) {
      malformed('udp', 'length', off + OFF.LENGTH, `${len} exceeds the ${limit - off} bytes present`);
    }
    if (opts.pseudo && c !== CHECKSUM_NONE) {
      const initial = pseudoHeaderSum(opts.pseudo.src, opts.pseudo.dst, IPPROTO_UDP, len);
      if (!verifies(b, off, off + len, initial)) malformed('udp', 'checksum', off + OFF.CHECKSUM, `0x${c.toString(16)} is wrong`);
    }
  }
  return { srcPort: srcPort(b, off), dstPort: dstPort(b, off), checksum: c, payloadLen: len - HEADER_LEN };
}

/**
 * Writes the header in front of the payload already at off + 8 and returns HEADER_LEN. The
 * checksum is computed over pseudo-header, header and payload in place unless opts.keepChecksum
 * (then r.checksum is written as given: a kept 0 sends the datagram without a checksum, as a
 * socket with SO_NO_CHECK or a VXLAN device without udpcsum does).
 */
export function emit(r: UdpRepr, b: Uint8Array, off = 0, pseudo: PseudoHeader, opts: EmitOptions = COMPUTE): number {
  const len = HEADER_LEN + r.payloadLen;
  setU16(b, off + OFF.SRC_PORT, r.srcPort);
  setU16(b, off + OFF.DST_PORT, r.dstPort);
  setU16(b, off + OFF.LENGTH, len);
  if (opts.keepChecksum) {
    setU16(b, off + OFF.CHECKSUM, r.checksum);
    return HEADER_LEN;
  }
  setU16(b, off + OFF.CHECKSUM, 0);
  const s = sum(b, off, off + len, pseudoHeaderSum(pseudo.src, pseudo.dst, IPPROTO_UDP, len));
  setU16(b, off + OFF.CHECKSUM, nonZero(finish(s)));
  return HEADER_LEN;
}
