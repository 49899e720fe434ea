/**
 * What PcapWriter and PcapngWriter share: the BufferedSink they fill, counting records and closing
 * once, and the checks on a packet's arguments, made before a byte is written. Bad arguments are
 * programming errors, so they are RangeErrors (see errors.ts). Nothing here allocates on the
 * write path.
 */
import { toBufferedSink, type BufferedSink, type ByteSink } from './sink.js';

export const NS_PER_SEC = 1e9;
export const MAX_U32 = 0xffff_ffff;

/** An integer in 0..2^32-1 (false for NaN, fractions and negatives). */
export function isU32(v: number): boolean {
  return v >>> 0 === v;
}

/** A timestamp in nanoseconds since the epoch that a double holds exactly. */
export function checkTimestampNs(timestampNs: number): void {
  if (!(timestampNs >= 0 && timestampNs <= Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`timestamp must be 0..2^53-1 ns, got ${timestampNs}`);
  }
}

/** A timestamp as struct timespec with 32-bit seconds, as both formats can hold it. */
export function checkTimespec(sec: number, nsec: number): void {
  if (!isU32(sec)) throw new RangeError(`timestamp seconds must be 0..${MAX_U32}, got ${sec}`);
  if (!isU32(nsec) || nsec >= NS_PER_SEC) throw new RangeError(`timestamp nanoseconds must be 0..999999999, got ${nsec}`);
}

/** `len` bytes of `frame` from `off`, standing for a frame of `originalLen` bytes on the wire. */
export function checkFrame(frame: Uint8Array, off: number, len: number, originalLen: number): void {
  if (!isU32(off) || !isU32(len) || off + len > frame.length) {
    throw new RangeError(`frame bytes ${off}..${off + len} are outside a buffer of ${frame.length}`);
  }
  if (!isU32(originalLen) || originalLen < len) {
    throw new RangeError(`original length ${originalLen} must be at least the ${len} bytes given, and fit 32 bits`);
  }
}

/** A linktype that fits the 16 bits both formats give it. `what` starts the message. */
export function checkLinktype(linktype: number, what: string): void {
  if (!isU32(linktype) || linktype > 0xffff) throw new RangeError(`${what} must be 0..65535, got ${linktype}`);
}

/** The sink, the record count and closing once; the subclasses write the records. */
export abstract class CaptureWriter {
  protected readonly sink: BufferedSink;
  protected closed = false;
  protected packets = 0;

  protected constructor(
    sink: ByteSink,
    /** The class name that starts the "write after close" message. */
    private readonly kind: string,
  ) {
    this.sink = toBufferedSink(sink);
  }

  /** Records (pcap) or Enhanced Packet Blocks (pcapng) written so far. */
  get packetsWritten(): number {
    return this.packets;
  }

  /** Flushes and closes the sink. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.close();
  }

  protected ensureOpen(): void {
    if (this.closed) throw new Error(`${this.kind}: write after close`);
  }
}
