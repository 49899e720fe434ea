/**
 * TCP (RFC 9293 §3.1): a 20-byte fixed header, then up to 40 bytes of options (data offset in
 * 32-bit words), then the payload. Options: EOL and NOP (RFC 9293), MSS (RFC 9293 §3.7.1),
 * window scale and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018); any other kind is
 * kept as its raw bytes.
 *
 * Everything a captured header holds is in the Repr so that it re-emits byte for byte: the three
 * reserved bits, the AE bit (byte 12's low bit: RFC 3540's NS, reused by AccECN, RFC 9768), an
 * explicit EOL and the zero padding after it. The padding is part of the EOL option
 * (`{kind: 'eol', padding: n}`: the EOL byte and n zero bytes after it); a list that does not
 * fill a multiple of 4 bytes and has no EOL is padded with zeros by emit, which parse reads back
 * as an EOL with padding (see `paddedOptions`). Linux's SYNs (…, NOP, window scale) fill exactly
 * 20 bytes and get no padding.
 */
import { u16, u32, u8, setU16, setU32, setU8 } from './bytes.js';
import { finish, pseudoHeaderSum, sum, update16, update32, verifies } from './checksum.js';
import { COMPUTE, type EmitOptions, type PseudoHeader } from './emit-options.js';
import { malformed, need } from './errors.js';

export const HEADER_LEN = 20;
/** The largest header: data offset 15 words. */
export const MAX_HEADER_LEN = 60;
export const MAX_OPTIONS_LEN = MAX_HEADER_LEN - HEADER_LEN;
/** The IPv4 protocol number (the kernel's IPPROTO_TCP), also the pseudo-header's protocol. */
export const IPPROTO_TCP = 6;

// Flags: byte 13, plus byte 12's low bit as 0x100 (the kernel's tcp_flag_word layout).
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;
/** Accurate ECN (RFC 9768), formerly the ECN nonce sum NS (RFC 3540, historic). */
export const AE = 0x100;
export const NS = AE;

// Option kinds and lengths, with the kernel's names (include/net/tcp.h).
export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WINDOW = 3;
export const TCPOPT_SACK_PERM = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;
export const TCPOLEN_MSS = 4;
export const TCPOLEN_WINDOW = 3;
export const TCPOLEN_SACK_PERM = 2;
export const TCPOLEN_TIMESTAMP = 10;
export const TCPOLEN_SACK_BASE = 2;
export const TCPOLEN_SACK_PERBLOCK = 8;

const OFF = {
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ: 4,
  ACK: 8,
  DATA_OFFSET: 12,
  FLAGS: 13,
  WINDOW: 14,
  CHECKSUM: 16,
  URGENT: 18,
  OPTIONS: 20,
} as const;

export interface SackBlock {
  readonly left: number;
  readonly right: number;
}

export type TcpOption =
  /** End of option list; `padding` zero bytes follow it up to the end of the header. */
  | { readonly kind: 'eol'; readonly padding: number }
  | { readonly kind: 'nop' }
  | { readonly kind: 'mss'; readonly value: number }
  | { readonly kind: 'window-scale'; readonly shift: number }
  | { readonly kind: 'sack-permitted' }
  | { readonly kind: 'sack'; readonly blocks: readonly SackBlock[] }
  | { readonly kind: 'timestamps'; readonly tsval: number; readonly tsecr: number }
  /** Any other kind: `data` is the option's bytes after kind and length. */
  | { readonly kind: 'unknown'; readonly type: number; readonly data: Uint8Array };

export interface TcpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** 9 bits: FIN … CWR, and AE (0x100). */
  readonly flags: number;
  /** The 3 reserved bits of byte 12 (RFC 9293: must be zero; kept to re-emit what was read). */
  readonly reserved: number;
  readonly window: number;
  /** The checksum field as read; emit computes it unless asked to keep this value. */
  readonly checksum: number;
  readonly urgentPointer: number;
  /** In wire order; the data offset is derived from their encoded length, padded to 4 bytes. */
  readonly options: readonly TcpOption[];
  /** Bytes after the header: what is left up to the end of the IPv4 payload. */
  readonly payloadLen: number;
}

export interface TcpParseOptions {
  /** The IPv4 addresses: when given, the checksum is verified. */
  readonly pseudo?: PseudoHeader;
  /**
   * The header sits in the first fragment of a fragmented IPv4 datagram: the checksum covers the
   * reassembled segment, so it is not checked, and payloadLen counts only the bytes present.
   */
  readonly firstFragment?: boolean;
}

export const srcPort = (b: Uint8Array, off: number): number => u16(b, off + OFF.SRC_PORT);
export const dstPort = (b: Uint8Array, off: number): number => u16(b, off + OFF.DST_PORT);
export const seq = (b: Uint8Array, off: number): number => u32(b, off + OFF.SEQ);
export const ack = (b: Uint8Array, off: number): number => u32(b, off + OFF.ACK);
/** The data offset field: the header length in 32-bit words. */
export const dataOffset = (b: Uint8Array, off: number): number => u8(b, off + OFF.DATA_OFFSET) >>> 4;
export const headerLen = (b: Uint8Array, off: number): number => dataOffset(b, off) * 4;
export const flags = (b: Uint8Array, off: number): number =>
  ((u8(b, off + OFF.DATA_OFFSET) & 1) << 8) | u8(b, off + OFF.FLAGS);
export const window = (b: Uint8Array, off: number): number => u16(b, off + OFF.WINDOW);
export const checksum = (b: Uint8Array, off: number): number => u16(b, off + OFF.CHECKSUM);
export const urgentPointer = (b: Uint8Array, off: number): number => u16(b, off + OFF.URGENT);

// NAT rewrites patch the checksum in place, as the kernel's tcp_manip_pkt does with
// inet_proto_csum_replace2 (ports) and inet_proto_csum_replace4 (pseudo-header addresses).

export function setSrcPort(b: Uint8Array, off: number, port: number): void {
  const old = srcPort(b, off);
  setU16(b, off + OFF.SRC_PORT, port);
  setU16(b, off + OFF.CHECKSUM, update16(checksum(b, off), old, port));
}

export function setDstPort(b: Uint8Array, off: number, port: number): void {
  const old = dstPort(b, off);
  setU16(b, off + OFF.DST_PORT, port);
  setU16(b, off + OFF.CHECKSUM, update16(checksum(b, off), old, port));
}

/** Patches the checksum for a NAT rewrite of the IPv4 source or destination (done by the caller). */
export function updateChecksumForAddress(b: Uint8Array, off: number, oldAddr: number, newAddr: number): void {
  setU16(b, off + OFF.CHECKSUM, update32(checksum(b, off), oldAddr, newAddr));
}

/** True when the checksum over pseudo-header and the segment b[off, end) is right. */
export function hasValidChecksum(b: Uint8Array, off: number, end: number, pseudo: PseudoHeader): boolean {
  return verifies(b, off, end, pseudoHeaderSum(pseudo.src, pseudo.dst, IPPROTO_TCP, end - off));
}

/**
 * The absolute offset of the first option of `kind` in the header at `off`, or -1 when there is
 * none or the option list is malformed before it. Allocates nothing; the header's fixed part must
 * be present.
 */
export function findOption(b: Uint8Array, off: number, kind: number): number {
  const end = Math.min(off + headerLen(b, off), b.length);
  let i = off + OFF.OPTIONS;
  while (i < end) {
    const k = b[i]!;
    if (k === TCPOPT_EOL) return -1;
    if (k === TCPOPT_NOP) {
      i += 1;
      continue;
    }
    if (i + 1 >= end) return -1;
    const len = b[i + 1]!;
    if (len < 2 || i + len > end) return -1;
    if (k === kind) return i;
    i += len;
  }
  return -1;
}

/** The MSS option's value (RFC 9293 §3.7.1), or -1 when absent or malformed. */
export function mssOption(b: Uint8Array, off: number): number {
  const i = findOption(b, off, TCPOPT_MSS);
  return i >= 0 && b[i + 1] === TCPOLEN_MSS ? u16(b, i + 2) : -1;
}

/** The window scale option's shift count (RFC 7323 §2), or -1 when absent or malformed. */
export function windowScaleOption(b: Uint8Array, off: number): number {
  const i = findOption(b, off, TCPOPT_WINDOW);
  return i >= 0 && b[i + 1] === TCPOLEN_WINDOW ? u8(b, i + 2) : -1;
}

/** Encoded length of one option. */
export function optionLen(o: TcpOption): number {
  switch (o.kind) {
    case 'eol':
      return 1 + o.padding;
    case 'nop':
      return 1;
    case 'mss':
      return TCPOLEN_MSS;
    case 'window-scale':
      return TCPOLEN_WINDOW;
    case 'sack-permitted':
      return TCPOLEN_SACK_PERM;
    case 'sack':
      return TCPOLEN_SACK_BASE + TCPOLEN_SACK_PERBLOCK * o.blocks.length;
    case 'timestamps':
      return TCPOLEN_TIMESTAMP;
    case 'unknown':
      return 2 + o.data.length;
  }
}

/** Encoded length of an option list, before padding to a multiple of 4. */
export function optionsLen(options: readonly TcpOption[]): number {
  let n = 0;
  for (let i = 0; i < options.length; i++) n += optionLen(options[i]!);
  return n;
}

/** The header length emit writes for these options: 20 plus the options padded to 4 bytes. */
export function reprHeaderLen(r: Pick<TcpRepr, 'options'>): number {
  return HEADER_LEN + ((optionsLen(r.options) + 3) & ~3);
}

/**
 * The option list as parse reads it back after emit: when emit has to pad, the padding becomes
 * an EOL (or lengthens the explicit trailing one). Lists that fill a multiple of 4 come back as
 * they are.
 */
export function paddedOptions(options: readonly TcpOption[]): readonly TcpOption[] {
  const pad = (4 - (optionsLen(options) & 3)) & 3;
  if (pad === 0) return options;
  const last = options[options.length - 1];
  if (last?.kind === 'eol') return [...options.slice(0, -1), { kind: 'eol', padding: last.padding + pad }];
  return [...options, { kind: 'eol', padding: pad - 1 }];
}

function optionError(at: number, detail: string): never {
  return malformed('tcp', 'option', at, detail);
}

function expectLen(kindName: string, at: number, len: number, want: number): void {
  if (len !== want) optionError(at, `${kindName} length ${len}, must be ${want}`);
}

function parseOptions(b: Uint8Array, start: number, end: number): TcpOption[] {
  const options: TcpOption[] = [];
  let i = start;
  while (i < end) {
    const kind = b[i]!;
    if (kind === TCPOPT_EOL) {
      // RFC 9293 §3.1: the header is padded with zeros after the end of the option list.
      for (let j = i + 1; j < end; j++) if (b[j] !== 0) optionError(j, 'non-zero byte after end of option list');
      options.push({ kind: 'eol', padding: end - i - 1 });
      break;
    }
    if (kind === TCPOPT_NOP) {
      options.push({ kind: 'nop' });
      i += 1;
      continue;
    }
    if (i + 1 >= end) optionError(i, `kind ${kind} has no length byte`);
    const len = b[i + 1]!;
    if (len < 2) optionError(i, `kind ${kind} length ${len} is less than 2`);
    if (i + len > end) optionError(i, `kind ${kind} length ${len} runs past the header`);
    switch (kind) {
      case TCPOPT_MSS:
        expectLen('MSS', i, len, TCPOLEN_MSS);
        options.push({ kind: 'mss', value: u16(b, i + 2) });
        break;
      case TCPOPT_WINDOW:
        expectLen('window scale', i, len, TCPOLEN_WINDOW);
        options.push({ kind: 'window-scale', shift: u8(b, i + 2) });
        break;
      case TCPOPT_SACK_PERM:
        expectLen('SACK-permitted', i, len, TCPOLEN_SACK_PERM);
        options.push({ kind: 'sack-permitted' });
        break;
      case TCPOPT_SACK: {
        // RFC 2018 §3: length 8n + 2 for n blocks.
        const n = (len - TCPOLEN_SACK_BASE) / TCPOLEN_SACK_PERBLOCK;
        if (n < 1 || !Number.isInteger(n)) optionError(i, `SACK length ${len} is not 8n + 2`);
        const blocks: SackBlock[] = [];
        for (let j = i + TCPOLEN_SACK_BASE; j < i + len; j += TCPOLEN_SACK_PERBLOCK) {
          blocks.push({ left: u32(b, j), right: u32(b, j + 4) });
        }
        options.push({ kind: 'sack', blocks });
        break;
      }
      case TCPOPT_TIMESTAMP:
        expectLen('timestamps', i, len, TCPOLEN_TIMESTAMP);
        options.push({ kind: 'timestamps', tsval: u32(b, i + 2), tsecr: u32(b, i + 6) });
        break;
      default:
        // A copy: the Repr must not change when the frame's bytes are rewritten later.
        options.push({ kind: 'unknown', type: kind, data: new Uint8Array(b.subarray(i + 2, i + len)) });
    }
    i += len;
  }
  return options;
}

/**
 * `end` is where the IPv4 payload ends (the IPv4 total length), not the end of the frame: TCP has
 * no length field, so payloadLen is what lies between the header and `end`.
 */
export function parse(b: Uint8Array, off = 0, end: number = b.length, opts: TcpParseOptions = {}): TcpRepr {
  const limit = Math.min(end, b.length);
  need(b, off, HEADER_LEN, 'tcp', 'header', limit);
  const words = dataOffset(b, off);
  if (words < 5) malformed('tcp', 'data offset', off + OFF.DATA_OFFSET, `${words} words is less than 5`);
  const hl = words * 4;
  if (off + hl > limit) malformed('tcp', 'data offset', off + OFF.DATA_OFFSET, `${hl}-byte header, ${limit - off} bytes present`);
  const options = parseOptions(b, off + OFF.OPTIONS, off + hl);
  const c = checksum(b, off);
  if (opts.pseudo && !opts.firstFragment && !hasValidChecksum(b, off, limit, opts.pseudo)) {
    malformed('tcp', 'checksum', off + OFF.CHECKSUM, `0x${c.toString(16)} is wrong`);
  }
  return {
    srcPort: srcPort(b, off),
    dstPort: dstPort(b, off),
    seq: seq(b, off),
    ack: ack(b, off),
    flags: flags(b, off),
    reserved: (u8(b, off + OFF.DATA_OFFSET) >>> 1) & 7,
    window: window(b, off),
    checksum: c,
    urgentPointer: urgentPointer(b, off),
    options,
    payloadLen: limit - off - hl,
  };
}

/** A few bytes of padding: a loop, because Buffer#fill's argument checks cost more than the stores. */
function zero(b: Uint8Array, from: number, to: number): void {
  for (let k = from; k < to; k++) b[k] = 0;
}

function emitOption(o: TcpOption, b: Uint8Array, i: number): number {
  switch (o.kind) {
    case 'eol':
      zero(b, i, i + 1 + o.padding);
      return 1 + o.padding;
    case 'nop':
      setU8(b, i, TCPOPT_NOP);
      return 1;
    case 'mss':
      setU8(b, i, TCPOPT_MSS);
      setU8(b, i + 1, TCPOLEN_MSS);
      setU16(b, i + 2, o.value);
      return TCPOLEN_MSS;
    case 'window-scale':
      setU8(b, i, TCPOPT_WINDOW);
      setU8(b, i + 1, TCPOLEN_WINDOW);
      setU8(b, i + 2, o.shift);
      return TCPOLEN_WINDOW;
    case 'sack-permitted':
      setU8(b, i, TCPOPT_SACK_PERM);
      setU8(b, i + 1, TCPOLEN_SACK_PERM);
      return TCPOLEN_SACK_PERM;
    case 'sack': {
      const len = TCPOLEN_SACK_BASE + TCPOLEN_SACK_PERBLOCK * o.blocks.length;
      setU8(b, i, TCPOPT_SACK);
      setU8(b, i + 1, len);
      for (let k = 0; k < o.blocks.length; k++) {
        const block = o.blocks[k]!;
        setU32(b, i + TCPOLEN_SACK_BASE + k * TCPOLEN_SACK_PERBLOCK, block.left);
        setU32(b, i + TCPOLEN_SACK_BASE + k * TCPOLEN_SACK_PERBLOCK + 4, block.right);
      }
      return len;
    }
    case 'timestamps':
      setU8(b, i, TCPOPT_TIMESTAMP);
      setU8(b, i + 1, TCPOLEN_TIMESTAMP);
      setU32(b, i + 2, o.tsval);
      setU32(b, i + 6, o.tsecr);
      return TCPOLEN_TIMESTAMP;
    case 'unknown':
      setU8(b, i, o.type);
      setU8(b, i + 1, 2 + o.data.length);
      b.set(o.data, i + 2);
      return 2 + o.data.length;
  }
}

/**
 * Writes the header (options and padding included) in front of the payload already at
 * off + reprHeaderLen(r) and returns the header length. The checksum is computed over
 * pseudo-header, header and payload in place unless opts.keepChecksum. Throws RangeError when the
 * options do not fit in 40 bytes: that is a bug in the caller, not a malformed packet.
 */
export function emit(r: TcpRepr, b: Uint8Array, off = 0, pseudo: PseudoHeader, opts: EmitOptions = COMPUTE): number {
  const optLen = optionsLen(r.options);
  if (optLen > MAX_OPTIONS_LEN) throw new RangeError(`tcp: ${optLen} bytes of options, at most ${MAX_OPTIONS_LEN} fit`);
  const hl = HEADER_LEN + ((optLen + 3) & ~3);
  setU16(b, off + OFF.SRC_PORT, r.srcPort);
  setU16(b, off + OFF.DST_PORT, r.dstPort);
  setU32(b, off + OFF.SEQ, r.seq);
  setU32(b, off + OFF.ACK, r.ack);
  setU8(b, off + OFF.DATA_OFFSET, ((hl >>> 2) << 4) | ((r.reserved & 7) << 1) | ((r.flags >>> 8) & 1));
  setU8(b, off + OFF.FLAGS, r.flags & 0xff);
  setU16(b, off + OFF.WINDOW, r.window);
  setU16(b, off + OFF.URGENT, r.urgentPointer);
  let i = off + OFF.OPTIONS;
  for (let k = 0; k < r.options.length; k++) i += emitOption(r.options[k]!, b, i);
  // RFC 9293 §3.1: the header is padded with zeros to a 32-bit boundary (read back as EOL).
  zero(b, i, off + hl);
  if (opts.keepChecksum) {
    setU16(b, off + OFF.CHECKSUM, r.checksum);
    return hl;
  }
  setU16(b, off + OFF.CHECKSUM, 0);
  const len = hl + r.payloadLen;
  setU16(b, off + OFF.CHECKSUM, finish(sum(b, off, off + len, pseudoHeaderSum(pseudo.src, pseudo.dst, IPPROTO_TCP, len))));
  return hl;
}
