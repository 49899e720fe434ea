/**
 * Classic pcap (the libpcap savefile format, draft-ietf-opsawg-pcap), written as tcpdump writes
 * it on little-endian hosts: a 24-byte global header, then per frame a 16-byte record header and
 * the captured bytes. podwire writes nanosecond files (magic 0xa1b23c4d, what `tcpdump
 * --time-stamp-precision=nano -w` writes) because its clock is in nanoseconds; microsecond files
 * are there for comparing with captures that were taken that way.
 */
import { CaptureWriter, MAX_U32, NS_PER_SEC, checkFrame, checkLinktype, checkTimestampNs, checkTimespec, isU32 } from './capture-writer.js';
import { setU16le, setU32le } from './little-endian.js';
import { copyInto, type ByteSink } from './sink.js';

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

/**
 * Streams a classic pcap file into a sink. The global header goes out in the constructor; each
 * writePacket is one record; close() flushes and closes the sink. Per packet it allocates nothing
 * when the frame is passed whole (off 0, full length) — a part of a buffer costs one subarray.
 */
export class PcapWriter extends CaptureWriter {
  private readonly snaplen: number;
  private readonly isNs: boolean;

  constructor(sink: ByteSink, opts: PcapWriterOptions = {}) {
    const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    const linktype = opts.linktype ?? LINKTYPE_ETHERNET;
    const resolution = opts.resolution ?? 'ns';
    if (!isU32(snaplen) || snaplen === 0) throw new RangeError(`pcap snaplen must be 1..${MAX_U32}, got ${snaplen}`);
    checkLinktype(linktype, 'pcap linktype');
    if (resolution !== 'ns' && resolution !== 'us') throw new RangeError(`pcap resolution must be 'ns' or 'us', got ${String(resolution)}`);
    super(sink, 'PcapWriter');
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
    checkTimestampNs(timestampNs);
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
    checkTimespec(sec, nsec);
    this.record(sec, nsec, frame, off, len, originalLen);
  }

  private record(sec: number, nsec: number, frame: Uint8Array, off: number, len: number, originalLen: number): void {
    this.ensureOpen();
    checkFrame(frame, off, len, originalLen);
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
    else copyInto(b, at + RECORD_HEADER_LEN, frame, off, incl);
    this.packets++;
  }
}
