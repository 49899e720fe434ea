/**
 * pcapng (draft-ietf-opsawg-pcapng), the format of podwire's merged capture: one Section Header
 * Block, an Interface Description Block per emulated interface (if_name, if_description naming its
 * host, if_tsresol = nanoseconds), and an Enhanced Packet Block per frame with an opt_comment where
 * something happened to it. Everything little-endian, as Wireshark and dumpcap write it on x86.
 */
import { CaptureWriter, NS_PER_SEC, checkFrame, checkLinktype, checkTimestampNs, checkTimespec, isU32 } from './capture-writer.js';
import { DEFAULT_SNAPLEN, LINKTYPE_ETHERNET } from './pcap-writer.js';
import { setU16le, setU32le } from './little-endian.js';
import { copyInto, type ByteSink } from './sink.js';

export const BLOCK_SECTION_HEADER = 0x0a0d0d0a;
export const BLOCK_INTERFACE_DESCRIPTION = 0x00000001;
/** The obsolete Packet Block (readers still meet it in old files). */
export const BLOCK_PACKET = 0x00000002;
export const BLOCK_SIMPLE_PACKET = 0x00000003;
export const BLOCK_NAME_RESOLUTION = 0x00000004;
export const BLOCK_INTERFACE_STATISTICS = 0x00000005;
export const BLOCK_ENHANCED_PACKET = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const PCAPNG_VERSION_MAJOR = 1;
export const PCAPNG_VERSION_MINOR = 0;

/** Option codes (draft-ietf-opsawg-pcapng §3.5 and the per-block option tables). */
export const OPT_ENDOFOPT = 0;
export const OPT_COMMENT = 1;
export const SHB_HARDWARE = 2;
export const SHB_OS = 3;
export const SHB_USERAPPL = 4;
export const IF_NAME = 2;
export const IF_DESCRIPTION = 3;
export const IF_TSRESOL = 9;
export const IF_TSOFFSET = 14;
/** if_tsresol's value for nanoseconds: 10^-9. Without the option an interface counts microseconds. */
export const TSRESOL_NS = 9;
export const TSRESOL_US = 6;

/** Block header (type, total length) and trailer (total length again). */
const BLOCK_OVERHEAD = 12;
export const EPB_OFF = { TYPE: 0, TOTAL_LEN: 4, INTERFACE_ID: 8, TS_HIGH: 12, TS_LOW: 16, CAPTURED_LEN: 20, ORIGINAL_LEN: 24, DATA: 28 } as const;
const EPB_HEADER_LEN = EPB_OFF.DATA;
const SHB_FIXED_LEN = 16; // byte-order magic, version, section length
const IDB_FIXED_LEN = 8; // linktype, reserved, snaplen

export interface PcapngWriterOptions {
  /** shb_userappl. Default "podwire". */
  readonly application?: string | undefined;
  /** opt_comment on the section. */
  readonly comment?: string | undefined;
  /** shb_hardware and shb_os, when the caller wants to say. */
  readonly hardware?: string | undefined;
  readonly os?: string | undefined;
}

export interface PcapngInterfaceOptions {
  /** if_name, e.g. "veth1a2b3c4d". */
  readonly name: string;
  /** if_description, e.g. "node n1, pod pa's host-side veth". */
  readonly description?: string | undefined;
  readonly linktype?: number | undefined;
  /** 0 means no limit. Default 262144. */
  readonly snaplen?: number | undefined;
  /** Nanosecond timestamps (if_tsresol 9). Default true; false writes no if_tsresol, i.e. microseconds. */
  readonly tsresolNs?: boolean | undefined;
}

const TWO_32 = 4294967296;

/**
 * Streams a pcapng file with one section into a sink. Interfaces may be added at any time: pcapng
 * only asks that an IDB precede the packets that refer to it, so a run can add an interface when a
 * device first carries traffic. Per packet it allocates nothing when the frame is passed whole and
 * has no comment.
 */
export class PcapngWriter extends CaptureWriter {
  private readonly ifIsNs: boolean[] = [];
  private readonly ifSnaplen: number[] = [];

  constructor(sink: ByteSink, opts: PcapngWriterOptions = {}) {
    super(sink, 'PcapngWriter');
    const options: [number, string][] = [];
    if (opts.comment !== undefined) options.push([OPT_COMMENT, opts.comment]);
    if (opts.hardware !== undefined) options.push([SHB_HARDWARE, opts.hardware]);
    if (opts.os !== undefined) options.push([SHB_OS, opts.os]);
    options.push([SHB_USERAPPL, opts.application ?? 'podwire']);
    const { b, at } = this.block(BLOCK_SECTION_HEADER, SHB_FIXED_LEN, options, []);
    setU32le(b, at + 8, BYTE_ORDER_MAGIC);
    setU16le(b, at + 12, PCAPNG_VERSION_MAJOR);
    setU16le(b, at + 14, PCAPNG_VERSION_MINOR);
    // Section length -1: not known while streaming (the draft allows it; readers then walk blocks).
    setU32le(b, at + 16, 0xffff_ffff);
    setU32le(b, at + 20, 0xffff_ffff);
  }

  /** Writes an Interface Description Block and returns the interface id packets refer to. */
  addInterface(opts: PcapngInterfaceOptions): number {
    this.ensureOpen();
    const linktype = opts.linktype ?? LINKTYPE_ETHERNET;
    const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    const isNs = opts.tsresolNs ?? true;
    checkLinktype(linktype, 'linktype');
    if (!isU32(snaplen)) throw new RangeError(`snaplen must be 0..4294967295, got ${snaplen}`);
    const options: [number, string][] = [[IF_NAME, opts.name]];
    if (opts.description !== undefined) options.push([IF_DESCRIPTION, opts.description]);
    const { b, at } = this.block(BLOCK_INTERFACE_DESCRIPTION, IDB_FIXED_LEN, options, isNs ? [[IF_TSRESOL, TSRESOL_NS]] : []);
    setU16le(b, at + 8, linktype);
    setU16le(b, at + 10, 0);
    setU32le(b, at + 12, snaplen);
    this.ifIsNs.push(isNs);
    this.ifSnaplen.push(snaplen === 0 ? MAX_CAPTURED : snaplen);
    return this.ifIsNs.length - 1;
  }

  /**
   * Writes one Enhanced Packet Block. `timestampNs` is nanoseconds since the epoch, exact up to
   * 2^53 ns; it is stored in the interface's units (ns, or µs truncated when tsresolNs was false).
   */
  writePacket(
    interfaceId: number,
    timestampNs: number,
    frame: Uint8Array,
    off = 0,
    len = frame.length - off,
    originalLen = len,
    comment?: string,
  ): void {
    checkTimestampNs(timestampNs);
    const isNs = this.interfaceIsNs(interfaceId);
    let units = Math.floor(timestampNs);
    // Integers below 2^53 divide exactly enough: floor of the rounded quotient is the true floor.
    if (!isNs) units = Math.floor(units / 1000);
    const high = Math.floor(units / TWO_32);
    this.packet(interfaceId, high, units - high * TWO_32, frame, off, len, originalLen, comment);
  }

  /** Like writePacket with the timestamp as seconds and nanoseconds: exact for any date. */
  writePacketAt(
    interfaceId: number,
    sec: number,
    nsec: number,
    frame: Uint8Array,
    off = 0,
    len = frame.length - off,
    originalLen = len,
    comment?: string,
  ): void {
    checkTimespec(sec, nsec);
    const isNs = this.interfaceIsNs(interfaceId);
    const perSec = isNs ? NS_PER_SEC : 1e6;
    const frac = isNs ? nsec : Math.floor(nsec / 1000);
    // sec * perSec + frac can pass 2^53, so it is built from 16-bit halves of sec, each product exact.
    const secHigh = Math.floor(sec / 65536);
    const upper = secHigh * perSec; // times 2^16
    const lower = (sec - secHigh * 65536) * perSec + frac;
    const lowerHigh = Math.floor(lower / TWO_32);
    const upperHigh = Math.floor(upper / 65536);
    let low = (upper - upperHigh * 65536) * 65536 + (lower - lowerHigh * TWO_32);
    let high = upperHigh + lowerHigh;
    if (low >= TWO_32) {
      low -= TWO_32;
      high += 1;
    }
    this.packet(interfaceId, high, low, frame, off, len, originalLen, comment);
  }

  private interfaceIsNs(interfaceId: number): boolean {
    const isNs = this.ifIsNs[interfaceId];
    if (isNs === undefined) {
      throw new RangeError(`unknown interface id ${interfaceId}: ${this.ifIsNs.length} interfaces added`);
    }
    return isNs;
  }

  private packet(
    interfaceId: number,
    tsHigh: number,
    tsLow: number,
    frame: Uint8Array,
    off: number,
    len: number,
    originalLen: number,
    comment: string | undefined,
  ): void {
    this.ensureOpen();
    checkFrame(frame, off, len, originalLen);
    const snaplen = this.ifSnaplen[interfaceId]!;
    const incl = len < snaplen ? len : snaplen;
    const dataPad = pad4(incl);
    let commentLen = 0;
    let optionsLen = 0;
    if (comment !== undefined) {
      commentLen = Buffer.byteLength(comment, 'utf8');
      if (commentLen > 0xffff) throw new RangeError(`packet comment is ${commentLen} bytes; an option holds at most 65535`);
      optionsLen = 4 + commentLen + pad4(commentLen) + 4; // opt_comment, then opt_endofopt
    }
    const total = EPB_HEADER_LEN + incl + dataPad + optionsLen + 4;
    if (total > MAX_BLOCK_LEN) throw new RangeError(`a block of ${total} bytes does not fit pcapng's 32-bit length`);

    const s = this.sink;
    // One reservation for the whole block when it fits the buffer (nearly always): the frame is
    // copied here with one TypedArray.set. A block bigger than the buffer goes out in three parts.
    const whole = total <= s.buffer.length;
    let at = s.reserve(whole ? total : EPB_HEADER_LEN);
    let b = s.buffer;
    setU32le(b, at + EPB_OFF.TYPE, BLOCK_ENHANCED_PACKET);
    setU32le(b, at + EPB_OFF.TOTAL_LEN, total);
    setU32le(b, at + EPB_OFF.INTERFACE_ID, interfaceId);
    setU32le(b, at + EPB_OFF.TS_HIGH, tsHigh);
    setU32le(b, at + EPB_OFF.TS_LOW, tsLow);
    setU32le(b, at + EPB_OFF.CAPTURED_LEN, incl);
    setU32le(b, at + EPB_OFF.ORIGINAL_LEN, originalLen);
    if (whole) {
      copyInto(b, at + EPB_HEADER_LEN, frame, off, incl);
      at += EPB_HEADER_LEN + incl;
    } else {
      s.write(frame, off, incl);
      at = s.reserve(dataPad + optionsLen + 4);
      b = s.buffer;
    }
    for (let i = 0; i < dataPad; i++) b[at++] = 0;
    if (comment !== undefined) at = writeStringOption(b, at, OPT_COMMENT, comment, commentLen);
    if (optionsLen > 0) {
      setU32le(b, at, 0); // opt_endofopt: code 0, length 0
      at += 4;
    }
    setU32le(b, at, total);
    this.packets++;
  }

  /**
   * Writes a whole non-packet block (SHB, IDB): header, `fixedLen` bytes left for the caller at
   * at+8, string options, 1-byte options, opt_endofopt and the trailer.
   */
  private block(
    type: number,
    fixedLen: number,
    strings: readonly (readonly [number, string])[],
    bytes: readonly (readonly [number, number])[],
  ): { b: Buffer; at: number } {
    const lens = strings.map(([code, text]) => {
      const n = Buffer.byteLength(text, 'utf8');
      if (n > 0xffff) throw new RangeError(`option ${code} is ${n} bytes; an option holds at most 65535`);
      return n;
    });
    let optionsLen = 0;
    for (const n of lens) optionsLen += 4 + n + pad4(n);
    optionsLen += bytes.length * 8; // code, length 1, value, 3 bytes of padding
    optionsLen += 4; // opt_endofopt
    const total = BLOCK_OVERHEAD + fixedLen + optionsLen;
    const at = this.sink.reserve(total);
    const b = this.sink.buffer;
    setU32le(b, at, type);
    setU32le(b, at + 4, total);
    let p = at + 8 + fixedLen;
    strings.forEach(([code, text], i) => {
      p = writeStringOption(b, p, code, text, lens[i]!);
    });
    for (const [code, value] of bytes) {
      setU16le(b, p, code);
      setU16le(b, p + 2, 1);
      setU32le(b, p + 4, value & 0xff); // the value byte, then zero padding
      p += 8;
    }
    setU32le(b, p, 0);
    setU32le(b, p + 4, total);
    return { b, at };
  }
}

const MAX_CAPTURED = 0xffff_ffff;
const MAX_BLOCK_LEN = 0xffff_fffc;

/** Bytes of zero padding after `n` bytes to reach a 32-bit boundary (blocks and options align to 4). */
export function pad4(n: number): number {
  return (4 - (n & 3)) & 3;
}

function writeStringOption(b: Buffer, at: number, code: number, text: string, byteLen: number): number {
  setU16le(b, at, code);
  setU16le(b, at + 2, byteLen);
  b.write(text, at + 4, byteLen, 'utf8');
  at += 4 + byteLen;
  for (let i = pad4(byteLen); i > 0; i--) b[at++] = 0;
  return at;
}
