/**
 * Classic pcap (the libpcap savefile format, draft-ietf-opsawg-pcap), written as tcpdump writes
 * it on little-endian hosts: a 24-byte global header, then per frame a 16-byte record header and
 * the captured bytes. podwire writes nanosecond files (magic 0xa1b23c4d, what `tcpdump
 * --time-stamp-precision=nano -w` writes) because its clock is in nanoseconds; microsecond files
 * are there for comparing with captures that were taken that way.
 */
import { setU16le, setU32le } from './little-endian.js';
import { toBufferedSink, type BufferedSink, type ByteSink } from './sink.js';

export const GLOBAL_HEADER_LEN = 24;
export const RECORD_HEADER_LEN = 16;
/** The magic as a number; the file holds it in the writer's byte order. */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const LINKTYPE_ETHERNET = 1;
/** libpcap's MAXIMUM_SNAPLEN, what tcpdump uses when no -s is given. */
export const DEFAULT_SNAPLEN = 262144;

export const GLOBAL_OFF = { MAGIC: 0, VERSION_MAJOR: 4, VERSION_MINOR: 6, THISZONE: 8, SIGFIGS: 12, SNAPLEN: 16, LINKTYPE: 20 } as const;
export const RECORD_OFF = { TS_SEC: 0, TS_FRAC: 4, INCL_LEN: 8, ORIG_LEN: 12 } as const;

export type PcapResolution = 'ns' | 'us';

export interface PcapWriterOptions {
  /** Longest captured length; longer frames are cut to it (incl_len) and keep their orig_len. */
  readonly snaplen?: number | undefined;
  readonly linktype?: number | undefined;
  /** Units of the timestamp fraction. Default 'ns'. */
  readonly resolution?: PcapResolution | undefined;
}

const NS_PER_SEC = 1e9;
const MAX_U32 = 0xffff_ffff;

/**
 * Streams a classic pcap file into a sink. The global header goes out in the constructor; each
 * writePacket is one record; close() flushes and closes the sink. Per packet it allocates nothing
 * when the frame is passed whole (off 0, full length) — a part of a buffer costs one subarray.
 */
export class PcapWriter {
  private readonly sink: BufferedSink;
  private readonly snaplen: number;
  private readonly isNs: boolean;
  private closed = false;
  private packets = 0;

  constructor(sink: ByteSink, opts: PcapWriterOptions = {}) {
    const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    const linktype = opts.linktype ?? LINKTYPE_ETHERNET;
    const resolution = opts.resolution ?? 'ns';
    if (!isU32(snaplen) || snaplen === 0) throw new RangeError(`pcap snaplen must be 1..${MAX_U32}, got ${snaplen}`);
    if (!isU32(linktype) || linktype > 0xffff) throw new RangeError(`pcap linktype must be 0..65535, got ${linktype}`);
    if (resolution !== 'ns' && resolution !== 'us') throw new RangeError(`pcap resolution must be 'ns' or 'us', got ${String(resolution)}`);
    this.sink = toBufferedSink(sink);
    this.snaplen = snaplen;
    this.isNs = resolution === 'ns';

    const at = this.sink.reserve(GLOBAL_HEADER_LEN);
    const b = this.sink.buffer;
    setU32le(b, at + GLOBAL_OFF.MAGIC, this.isNs ? PCAP_MAGIC_NS : PCAP_MAGIC_US);
    setU16le(b, at + GLOBAL_OFF.VERSION_MAJOR, PCAP_VERSION_MAJOR);
    setU16le(b, at + GLOBAL_OFF.VERSION_MINOR, PCAP_VERSION_MINOR);
    setU32le(b, at + GLOBAL_OFF.THISZONE, 0); // timestamps are UTC; libpcap always writes 0
    setU32le(b, at + GLOBAL_OFF.SIGFIGS, 0);
    setU32le(b, at + GLOBAL_OFF.SNAPLEN, snaplen);
    setU32le(b, at + GLOBAL_OFF.LINKTYPE, linktype);
  }

  /**
   * Writes one record. `timestampNs` is nanoseconds since the epoch (podwire's virtual clock),
   * exact up to 2^53 ns (104 days); `originalLen` is the frame's length on the wire when the bytes
   * given are already cut short.
   */
  writePacket(timestampNs: number, frame: Uint8Array, off = 0, len = frame.length - off, originalLen = len): void {
    if (!(timestampNs >= 0 && timestampNs <= Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`timestamp must be 0..2^53-1 ns, got ${timestampNs}`);
    }
    // For whole nanoseconds below 2^53 the floor of the rounded quotient is exact; a fractional
    // timestamp just below a whole second can round up to it, which the check below undoes.
    let sec = Math.floor(timestampNs / NS_PER_SEC);
    let nsec = Math.floor(timestampNs - sec * NS_PER_SEC);
    if (nsec < 0) {
      sec -= 1;
      nsec += NS_PER_SEC;
    }
    this.record(sec, nsec, frame, off, len, originalLen);
  }

  /**
   * Writes one record with the timestamp as seconds and nanoseconds (struct timespec): exact for any
   * date, which a double of nanoseconds is not past 2^53 ns. For copying real captures.
   */
  writePacketAt(sec: number, nsec: number, frame: Uint8Array, off = 0, len = frame.length - off, originalLen = len): void {
    if (!isU32(sec)) throw new RangeError(`timestamp seconds must be 0..${MAX_U32}, got ${sec}`);
    if (!isU32(nsec) || nsec >= NS_PER_SEC) throw new RangeError(`timestamp nanoseconds must be 0..999999999, got ${nsec}`);
    this.record(sec, nsec, frame, off, len, originalLen);
  }

  /** Records written so far. */
  get packetsWritten(): number {
    return this.packets;
  }

  /** Flushes and closes the sink. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.close();
  }

  private record(sec: number, nsec: number, frame: Uint8Array, off: number, len: number, originalLen: number): void {
    if (this.closed) throw new Error('PcapWriter: write after close');
    if (!isU32(off) || !isU32(len) || off + len > frame.length) {
      throw new RangeError(`frame bytes ${off}..${off + len} are outside a buffer of ${frame.length}`);
    }
    if (!isU32(originalLen) || originalLen < len) {
      throw new RangeError(`original length ${originalLen} must be at least the ${len} bytes given, and fit 32 bits`);
    }
    const incl = len < this.snaplen ? len : this.snaplen;
    const s = this.sink;
    // One reservation for header and bytes when they fit the buffer (nearly always), so the frame
    // is copied here with one TypedArray.set; a frame bigger than the buffer goes through write().
    const whole = RECORD_HEADER_LEN + incl <= s.buffer.length;
    const at = s.reserve(whole ? RECORD_HEADER_LEN + incl : RECORD_HEADER_LEN);
    const b = s.buffer;
    setU32le(b, at + RECORD_OFF.TS_SEC, sec);
    // libpcap turns the kernel's nanoseconds into microseconds by truncating; so do we.
    setU32le(b, at + RECORD_OFF.TS_FRAC, this.isNs ? nsec : Math.floor(nsec / 1000));
    setU32le(b, at + RECORD_OFF.INCL_LEN, incl);
    setU32le(b, at + RECORD_OFF.ORIG_LEN, originalLen);
    if (!whole) s.write(frame, off, incl);
    else b.set(off === 0 && incl === frame.length ? frame : frame.subarray(off, off + incl), at + RECORD_HEADER_LEN);
    this.packets++;
  }
}

/** An integer in 0..2^32-1 (false for NaN, fractions and negatives). */
export function isU32(v: number): boolean {
  return v >>> 0 === v;
}
