/**
 * IPv4 (RFC 791 §3.1): a 20-byte header, up to 40 bytes of options, then the payload.
 *
 * Every header bit is in the Repr — the reserved flag and the raw option bytes included — so a
 * captured header re-emits byte for byte. The header length (IHL) and total length are derived on
 * emit from `options.length` and `payloadLen`. The setters the datapath uses (TTL, addresses, ID,
 * fragment fields) patch the header checksum incrementally, as the kernel does, so a header that
 * was valid stays valid.
 */
import { readIpv4, writeIpv4, type Ipv4Addr } from './addr.js';
import { setU16, setU8, u16, u8 } from './bytes.js';
import { finish, sum, update16, update32, verifies } from './checksum.js';
import { COMPUTE, type EmitOptions } from './emit-options.js';
import { malformed, need } from './errors.js';

/** The minimum header, without options. */
export const HEADER_LEN = 20;
/** IHL is 4 bits of 32-bit words: 15 × 4 bytes. */
export const MAX_HEADER_LEN = 60;
export const MAX_OPTIONS_LEN = MAX_HEADER_LEN - HEADER_LEN;
export const MAX_TOTAL_LEN = 0xffff;
/** RFC 791 §3.2: every host must accept 68-byte datagrams; Linux's IPV4_MIN_MTU. */
export const MIN_MTU = 68;
export const VERSION = 4;

export const PROTO_ICMP = 1;
export const PROTO_IPIP = 4;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

/** Option types (RFC 791 §3.1; Router Alert: RFC 2113). The copied flag is the type's top bit. */
export const OPT_END = 0x00;
export const OPT_NOP = 0x01;
export const OPT_RECORD_ROUTE = 0x07;
export const OPT_ROUTER_ALERT = 0x94;
export const OPT_COPIED = 0x80;

const FLAG_RESERVED = 0x8000;
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const OFFSET_MASK = 0x1fff;

const OFF = {
  VERSION_IHL: 0,
  TOS: 1,
  TOTAL_LEN: 2,
  ID: 4,
  FLAGS_FRAGMENT: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC: 12,
  DST: 16,
  OPTIONS: 20,
} as const;

/** The options of a header without any: one shared, frozen, empty array. */
export const NO_OPTIONS: Uint8Array = Object.freeze(new Uint8Array(0));

export interface Ipv4Repr {
  /** The whole second byte: DSCP (RFC 2474) and ECN (RFC 3168), once called type of service. */
  readonly tos: number;
  readonly id: number;
  /** RFC 791's reserved flag bit, which must be zero; kept so any captured header re-emits as it was. */
  readonly reservedFlag: boolean;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** In bytes (the header counts 8-byte units), so always a multiple of 8. */
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  /** The header checksum as read; emit computes it unless asked to keep this value. */
  readonly checksum: number;
  readonly src: Ipv4Addr;
  readonly dst: Ipv4Addr;
  /** Raw option bytes (a multiple of 4, at most 40), NO_OPTIONS for none. */
  readonly options: Uint8Array;
  /** Bytes after the header: the total length minus the header length. */
  readonly payloadLen: number;
}

export interface ParseOptions {
  /** Default true: a bad header checksum is malformed, as ip_rcv_core drops it. */
  readonly verifyChecksum?: boolean;
  /**
   * Default false. True for a header quoted inside an ICMP error (RFC 792), which carries only
   * the datagram's first bytes: the total length may then exceed the bytes present.
   */
  readonly allowTruncated?: boolean;
}

const DEFAULTS = {
  tos: 0,
  id: 0,
  reservedFlag: false,
  dontFragment: false,
  moreFragments: false,
  fragmentOffset: 0,
  ttl: 64,
  checksum: 0,
  options: NO_OPTIONS,
} as const;

/**
 * A Repr with Linux's usual defaults (TTL 64, no options, not a fragment) for the fields not given.
 * Written out field by field: an object spread here cost a quarter of the emulated datapath.
 */
export function ipv4Repr(
  f: Pick<Ipv4Repr, 'src' | 'dst' | 'protocol' | 'payloadLen'> & Partial<Ipv4Repr>,
): Ipv4Repr {
  return {
    tos: f.tos ?? DEFAULTS.tos,
    id: f.id ?? DEFAULTS.id,
    reservedFlag: f.reservedFlag ?? DEFAULTS.reservedFlag,
    dontFragment: f.dontFragment ?? DEFAULTS.dontFragment,
    moreFragments: f.moreFragments ?? DEFAULTS.moreFragments,
    fragmentOffset: f.fragmentOffset ?? DEFAULTS.fragmentOffset,
    ttl: f.ttl ?? DEFAULTS.ttl,
    protocol: f.protocol,
    checksum: f.checksum ?? DEFAULTS.checksum,
    src: f.src,
    dst: f.dst,
    options: f.options ?? DEFAULTS.options,
    payloadLen: f.payloadLen,
  };
}

export const version = (b: Uint8Array, off: number): number => u8(b, off + OFF.VERSION_IHL) >>> 4;
/** In bytes. */
export const headerLen = (b: Uint8Array, off: number): number => (u8(b, off + OFF.VERSION_IHL) & 0x0f) * 4;
export const tos = (b: Uint8Array, off: number): number => u8(b, off + OFF.TOS);
export const totalLength = (b: Uint8Array, off: number): number => u16(b, off + OFF.TOTAL_LEN);
export const payloadLen = (b: Uint8Array, off: number): number => totalLength(b, off) - headerLen(b, off);
export const id = (b: Uint8Array, off: number): number => u16(b, off + OFF.ID);
export const ttl = (b: Uint8Array, off: number): number => u8(b, off + OFF.TTL);
export const protocol = (b: Uint8Array, off: number): number => u8(b, off + OFF.PROTOCOL);
export const checksum = (b: Uint8Array, off: number): number => u16(b, off + OFF.CHECKSUM);
export const src = (b: Uint8Array, off: number): Ipv4Addr => readIpv4(b, off + OFF.SRC);
export const dst = (b: Uint8Array, off: number): Ipv4Addr => readIpv4(b, off + OFF.DST);
export const payloadOffset = (b: Uint8Array, off: number): number => off + headerLen(b, off);

export const isDontFragment = (b: Uint8Array, off: number): boolean =>
  (u16(b, off + OFF.FLAGS_FRAGMENT) & FLAG_DF) !== 0;
export const isMoreFragments = (b: Uint8Array, off: number): boolean =>
  (u16(b, off + OFF.FLAGS_FRAGMENT) & FLAG_MF) !== 0;
/** In bytes. */
export const fragmentOffset = (b: Uint8Array, off: number): number =>
  (u16(b, off + OFF.FLAGS_FRAGMENT) & OFFSET_MASK) * 8;
/** A piece of a larger datagram: MF set or a non-zero offset (the kernel's ip_is_fragment). */
export const isFragment = (b: Uint8Array, off: number): boolean =>
  (u16(b, off + OFF.FLAGS_FRAGMENT) & (FLAG_MF | OFFSET_MASK)) !== 0;
/**
 * The first piece of a fragmented datagram (offset 0, MF set). An unfragmented datagram is not a
 * first fragment, although it too starts with its transport header: test fragmentOffset === 0 for that.
 */
export const isFirstFragment = (b: Uint8Array, off: number): boolean =>
  (u16(b, off + OFF.FLAGS_FRAGMENT) & (FLAG_MF | OFFSET_MASK)) === FLAG_MF;

/** True when the header (with its options) sums to 0xffff: RFC 1071 verification, as ip_fast_csum. */
export function hasValidChecksum(b: Uint8Array, off: number): boolean {
  return verifies(b, off, off + headerLen(b, off));
}

/** Recomputes the header checksum from scratch, as the kernel's ip_send_check. */
export function fixChecksum(b: Uint8Array, off: number): void {
  setU16(b, off + OFF.CHECKSUM, 0);
  setU16(b, off + OFF.CHECKSUM, finish(sum(b, off, off + headerLen(b, off))));
}

// The setters rewrite one 16-bit word (or an address) and patch the checksum with RFC 1624 eqn. 3,
// which is what the kernel's csum_replace2/csum_replace4 compute.
function replaceWord(b: Uint8Array, off: number, at: number, word: number): void {
  const old = u16(b, off + at);
  setU16(b, off + at, word);
  setU16(b, off + OFF.CHECKSUM, update16(checksum(b, off), old, word & 0xffff));
}

export function setTtl(b: Uint8Array, off: number, value: number): void {
  replaceWord(b, off, OFF.TTL, ((value & 0xff) << 8) | protocol(b, off));
}

/**
 * The forwarding path's TTL decrement; returns the new TTL. The kernel's ip_decrease_ttl adds
 * htons(0x0100) to the checksum with an end-around carry; update16 on the TTL/protocol word gives
 * the same 16 bits for every TTL ≥ 1 and every checksum (ip_forward never decrements a TTL ≤ 1).
 */
export function decrementTtl(b: Uint8Array, off: number): number {
  const next = (ttl(b, off) - 1) & 0xff;
  setTtl(b, off, next);
  return next;
}

/** DSCP/ECN rewrite, patched as the kernel's ipv4_change_dsfield does. */
export function setTos(b: Uint8Array, off: number, value: number): void {
  replaceWord(b, off, OFF.VERSION_IHL, (u8(b, off + OFF.VERSION_IHL) << 8) | (value & 0xff));
}

export function setId(b: Uint8Array, off: number, value: number): void {
  replaceWord(b, off, OFF.ID, value);
}

export function setTotalLength(b: Uint8Array, off: number, value: number): void {
  replaceWord(b, off, OFF.TOTAL_LEN, value);
}

/** Sets the offset (in bytes, a multiple of 8) and MF of a fragment, keeping DF and the reserved bit. */
export function setFragment(b: Uint8Array, off: number, offsetBytes: number, moreFragments: boolean): void {
  const keep = u16(b, off + OFF.FLAGS_FRAGMENT) & (FLAG_RESERVED | FLAG_DF);
  replaceWord(b, off, OFF.FLAGS_FRAGMENT, keep | (moreFragments ? FLAG_MF : 0) | ((offsetBytes >>> 3) & OFFSET_MASK));
}

/**
 * Writes a fragment's (or a reassembled datagram's) total length and flags word as ip_do_fragment
 * and ip_frag_reasm assign them — the reserved bit and MF/DF from scratch, the offset in bytes (a
 * multiple of 8) — and recomputes the header checksum (ip_send_check).
 */
export function setFragmentFields(b: Uint8Array, off: number, totalLen: number, offsetBytes: number, moreFragments: boolean, dontFragment: boolean): void {
  setU16(b, off + OFF.TOTAL_LEN, totalLen);
  setU16(b, off + OFF.FLAGS_FRAGMENT, (dontFragment ? FLAG_DF : 0) | (moreFragments ? FLAG_MF : 0) | ((offsetBytes >>> 3) & OFFSET_MASK));
  fixChecksum(b, off);
}

/** Source NAT's address rewrite, patched as nf_nat_ipv4_manip_pkt does with csum_replace4. */
export function setSrc(b: Uint8Array, off: number, addr: Ipv4Addr): void {
  const old = src(b, off);
  writeIpv4(b, off + OFF.SRC, addr);
  setU16(b, off + OFF.CHECKSUM, update32(checksum(b, off), old, addr >>> 0));
}

export function setDst(b: Uint8Array, off: number, addr: Ipv4Addr): void {
  const old = dst(b, off);
  writeIpv4(b, off + OFF.DST, addr);
  setU16(b, off + OFF.CHECKSUM, update32(checksum(b, off), old, addr >>> 0));
}

export function reprHeaderLen(r: Ipv4Repr): number {
  return HEADER_LEN + r.options.length;
}

/**
 * Validates as ip_rcv_core does: version 4, IHL ≥ 5 inside the bytes, total length covering the
 * header and inside [off, end), and the header checksum. Bytes after the total length are allowed:
 * they are Ethernet padding of a short frame, which the kernel trims (pskb_trim_rcsum).
 */
export function parse(b: Uint8Array, off = 0, end: number = b.length, opts?: ParseOptions): Ipv4Repr {
  if (end > b.length) end = b.length;
  need(b, off, HEADER_LEN, 'ipv4', 'header', end);
  if (version(b, off) !== VERSION) malformed('ipv4', 'version', off, `version ${version(b, off)}, not 4`);
  const hl = headerLen(b, off);
  if (hl < HEADER_LEN) malformed('ipv4', 'header length', off, `IHL ${hl / 4} below 5`);
  if (off + hl > end) malformed('ipv4', 'header length', off, `${hl}-byte header, ${end - off} bytes left`);
  const total = totalLength(b, off);
  if (total < hl) malformed('ipv4', 'total length', off + OFF.TOTAL_LEN, `${total} is shorter than the ${hl}-byte header`);
  if (off + total > end && opts?.allowTruncated !== true) {
    malformed('ipv4', 'total length', off + OFF.TOTAL_LEN, `${total} bytes, ${end - off} left`);
  }
  if (opts?.verifyChecksum !== false && !verifies(b, off, off + hl)) {
    malformed('ipv4', 'checksum', off + OFF.CHECKSUM, `0x${checksum(b, off).toString(16).padStart(4, '0')} does not verify`);
  }
  const flags = u16(b, off + OFF.FLAGS_FRAGMENT);
  return {
    tos: tos(b, off),
    id: id(b, off),
    reservedFlag: (flags & FLAG_RESERVED) !== 0,
    dontFragment: (flags & FLAG_DF) !== 0,
    moreFragments: (flags & FLAG_MF) !== 0,
    fragmentOffset: (flags & OFFSET_MASK) * 8,
    ttl: ttl(b, off),
    protocol: protocol(b, off),
    checksum: checksum(b, off),
    src: src(b, off),
    dst: dst(b, off),
    // A copy: the Repr must not change when the datapath rewrites the buffer.
    options: hl === HEADER_LEN ? NO_OPTIONS : new Uint8Array(b.subarray(off + OFF.OPTIONS, off + hl)),
    payloadLen: total - hl,
  };
}

/**
 * Writes the header and its options at `off` (the payload already follows them) and returns the
 * header length. Throws RangeError for a Repr no header can carry: options not a multiple of 4 or
 * over 40 bytes, a fragment offset not a multiple of 8 or over 13 bits, a total length over 65535.
 */
export function emit(r: Ipv4Repr, b: Uint8Array, off = 0, opts: EmitOptions = COMPUTE): number {
  const optLen = r.options.length;
  if (optLen % 4 !== 0 || optLen > MAX_OPTIONS_LEN) {
    throw new RangeError(`ipv4: ${optLen} option bytes (a multiple of 4, at most ${MAX_OPTIONS_LEN})`);
  }
  const hl = HEADER_LEN + optLen;
  const total = hl + r.payloadLen;
  if (r.payloadLen < 0 || total > MAX_TOTAL_LEN) throw new RangeError(`ipv4: total length ${total} out of range`);
  if (r.fragmentOffset % 8 !== 0 || r.fragmentOffset < 0 || r.fragmentOffset > OFFSET_MASK * 8) {
    throw new RangeError(`ipv4: fragment offset ${r.fragmentOffset} (a multiple of 8, at most ${OFFSET_MASK * 8})`);
  }
  if (off < 0 || off + hl > b.length) throw new RangeError(`ipv4: no room for a ${hl}-byte header at ${off}`);
  setU8(b, off + OFF.VERSION_IHL, (VERSION << 4) | (hl >>> 2));
  setU8(b, off + OFF.TOS, r.tos);
  setU16(b, off + OFF.TOTAL_LEN, total);
  setU16(b, off + OFF.ID, r.id);
  setU16(
    b,
    off + OFF.FLAGS_FRAGMENT,
    (r.reservedFlag ? FLAG_RESERVED : 0) |
      (r.dontFragment ? FLAG_DF : 0) |
      (r.moreFragments ? FLAG_MF : 0) |
      (r.fragmentOffset >>> 3),
  );
  setU8(b, off + OFF.TTL, r.ttl);
  setU8(b, off + OFF.PROTOCOL, r.protocol);
  writeIpv4(b, off + OFF.SRC, r.src);
  writeIpv4(b, off + OFF.DST, r.dst);
  if (optLen > 0) b.set(r.options, off + OFF.OPTIONS);
  if (opts.keepChecksum) {
    setU16(b, off + OFF.CHECKSUM, r.checksum);
  } else {
    setU16(b, off + OFF.CHECKSUM, 0);
    setU16(b, off + OFF.CHECKSUM, finish(sum(b, off, off + hl)));
  }
  return hl;
}

export interface FragmentPiece {
  /** Fragment offset in bytes from the start of the original datagram's payload. */
  readonly offset: number;
  /** Payload bytes in this fragment. */
  readonly len: number;
  /** The fragment's MF flag. */
  readonly more: boolean;
}

/**
 * How Linux's ip_do_fragment (slow path, ip_frag_next) cuts a datagram's payload for an MTU: every
 * piece gets the whole data space (mtu − header length), cut down to a multiple of 8 unless it is
 * the last, so each packet is at most `mtu` bytes. The header length stays the same on every
 * fragment (ip_options_fragment overwrites uncopied options with NOPs rather than removing them).
 * Refragmenting a fragment passes its own offset and MF: offsets add, and the last piece keeps MF.
 * A datagram that fits comes back as one piece. Throws RangeError when the MTU leaves no room for
 * 8 bytes of data (Linux never configures an MTU below 68).
 */
export function fragmentPlan(
  payloadLenBytes: number,
  headerLenBytes: number,
  mtu: number,
  fragmentOffsetBytes = 0,
  moreFragments = false,
): FragmentPiece[] {
  const room = mtu - headerLenBytes;
  if (room < 8) throw new RangeError(`ipv4: MTU ${mtu} leaves no room for data after a ${headerLenBytes}-byte header`);
  const pieces: FragmentPiece[] = [];
  let left = payloadLenBytes;
  let offset = fragmentOffsetBytes;
  do {
    let len = left > room ? room : left;
    if (len < left) len &= ~7;
    left -= len;
    pieces.push({ offset, len, more: left > 0 || moreFragments });
    offset += len;
  } while (left > 0);
  return pieces;
}
