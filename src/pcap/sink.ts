/**
 * Where the capture writers put their bytes. A writer emits one record per captured frame, so the
 * sinks buffer: each record is a memcpy into a Buffer, and a file sees one write(2) per 64 KiB
 * rather than two per packet. Writers put their record headers straight into the sink's buffer
 * through `reserve` (no scratch buffer, no second copy). What is left per record is a call, a
 * 16- or 28-byte header and one TypedArray.set: about 30 ns, which matters only for the smallest
 * frames (scripts/bench measures it against fs.writeSync of the same bytes).
 *
 * Nothing half-written: a FileSink writes where it is told and closes properly; a run writes its
 * captures into a temporary path and renames it when the run completes (see index.ts).
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** Anything that takes bytes in order. The writers accept any ByteSink. */
export interface ByteSink {
  /** Takes `len` bytes of `chunk` from `off`; the chunk may be reused as soon as this returns. */
  write(chunk: Uint8Array, off: number, len: number): void;
  close(): void;
}

export const DEFAULT_BUFFER_BYTES = 256 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * A sink with a buffer the writers fill directly: `reserve(n)` hands out `n` contiguous bytes of
 * `buffer` at the returned offset, already counted as written; the caller fills them at once, before
 * its next call on the sink. FileSink, MemorySink and ChunkedSink are the three kinds.
 */
export abstract class BufferedSink implements ByteSink {
  /** The current buffer. It may be replaced by reserve, write and close: read it after reserve. */
  buffer: Buffer;
  /** Bytes of `buffer` in use. */
  protected pos = 0;
  /** Bytes already handed on from the buffer (to the file, or the inner sink). */
  protected drained = 0;
  protected closed = false;

  protected constructor(bufferBytes: number) {
    if (!Number.isInteger(bufferBytes) || bufferBytes < 64) {
      throw new RangeError(`sink buffer size must be an integer of at least 64 bytes, got ${bufferBytes}`);
    }
    this.buffer = Buffer.allocUnsafeSlow(bufferBytes);
  }

  /** Everything written so far, buffered or not. */
  get bytesWritten(): number {
    return this.drained + this.pos;
  }

  reserve(n: number): number {
    let at = this.pos;
    if (this.buffer.length - at < n) {
      this.makeRoom(n);
      at = this.pos;
    }
    this.pos = at + n;
    return at;
  }

  /**
   * Gives back the last `n` bytes of the latest reservation, unused: a writer that reserves for
   * the longest record (a trace line of numbers) keeps only what it wrote.
   */
  unreserve(n: number): void {
    if (n < 0 || n > this.pos) throw new RangeError(`cannot give back ${n} of ${this.pos} reserved bytes`);
    this.pos -= n;
  }

  write(chunk: Uint8Array, off: number, len: number): void {
    if (off < 0 || len < 0 || off + len > chunk.length) {
      throw new RangeError(`write of ${len} bytes at ${off} is outside a chunk of ${chunk.length}`);
    }
    if (this.buffer.length - this.pos < len && this.spill(chunk, off, len)) return;
    copyInto(this.buffer, this.pos, chunk, off, len);
    this.pos += len;
  }

  abstract close(): void;

  /** Leaves at least `n` free bytes at `pos` in `buffer`. */
  protected abstract makeRoom(n: number): void;

  /**
   * Called when `len` bytes do not fit: either makes room (returns false, the caller copies) or
   * passes the bytes on itself (returns true).
   */
  protected abstract spill(chunk: Uint8Array, off: number, len: number): boolean;

  protected ensureOpen(): void {
    if (this.closed) throw new Error(`${this.constructor.name}: write after close`);
  }

  protected grow(minFree: number): void {
    let size = Math.max(64, this.buffer.length * 2);
    while (size - this.pos < minFree) size *= 2;
    const bigger = Buffer.allocUnsafeSlow(size);
    bigger.set(this.buffer.subarray(0, this.pos));
    this.buffer = bigger;
  }
}

export interface FileSinkOptions {
  /** Size of the write buffer; one write(2) per this many bytes. Default 64 KiB. */
  readonly bufferBytes?: number | undefined;
}

/**
 * A BufferedSink that hands its buffer on to something else in order: FileSink (a file
 * descriptor) and ChunkedSink (an inner ByteSink) differ only in `drain`, where the bytes go, and
 * `release`, what closing lets go of. Flushing, closing once, and passing a chunk too big for the
 * buffer straight through are the same for both, and live here.
 */
export abstract class DrainingSink extends BufferedSink {
  /** Hands the buffered bytes on; nothing is buffered afterwards. */
  flush(): void {
    if (this.pos === 0) return;
    this.drain(this.buffer, 0, this.pos);
    this.drained += this.pos;
    this.pos = 0;
  }

  /** Flushes, then releases what is behind the sink even if the flush fails. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
    } finally {
      this.pos = 0;
      this.buffer = EMPTY;
      this.release();
    }
  }

  /** Passes `len` bytes of `b` from `off` on, all of them, before returning. */
  protected abstract drain(b: Uint8Array, off: number, len: number): void;

  /** Lets go of what is behind the sink (closes the file, or the inner sink). Called once. */
  protected abstract release(): void;

  protected makeRoom(n: number): void {
    this.ensureOpen();
    this.flush();
    if (n > this.buffer.length) this.grow(n);
  }

  protected spill(chunk: Uint8Array, off: number, len: number): boolean {
    this.ensureOpen();
    this.flush();
    if (len < this.buffer.length) return false;
    this.drain(chunk, off, len);
    this.drained += len;
    return true;
  }
}

/**
 * Writes a file with fs.openSync/writeSync/closeSync (truncating it if it exists). Synchronous on
 * purpose: the simulation is single-threaded and a capture must be complete, in order, when the
 * run ends, with no event-loop turn in between. flush() hands the buffered bytes to the kernel
 * (not fsync: the page cache is enough for a run); close() flushes and closes the file, and the
 * descriptor is closed even if the flush fails.
 */
export class FileSink extends DrainingSink {
  private fd: number;

  constructor(
    readonly path: string,
    opts: FileSinkOptions = {},
  ) {
    super(opts.bufferBytes ?? DEFAULT_BUFFER_BYTES);
    this.fd = openSync(path, 'w');
  }

  protected drain(b: Uint8Array, off: number, len: number): void {
    while (len > 0) {
      const n = writeSync(this.fd, b, off, len);
      off += n;
      len -= n;
    }
  }

  protected release(): void {
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** Collects everything in memory, growing its buffer by doubling. For tests and small captures. */
export class MemorySink extends BufferedSink {
  private kept: Buffer = EMPTY;

  constructor(initialBytes = DEFAULT_BUFFER_BYTES) {
    super(initialBytes);
  }

  /** The bytes written so far. Shares memory with the sink: a later write may overwrite or move it. */
  bytes(): Buffer {
    return this.closed ? this.kept : this.buffer.subarray(0, this.pos);
  }

  /** A copy of the bytes written so far. */
  copyBytes(): Buffer {
    return Buffer.from(this.bytes());
  }

  /** Ends writing; bytes() still returns everything written. */
  close(): void {
    if (this.closed) return;
    this.kept = this.buffer.subarray(0, this.pos);
    this.closed = true;
    this.drained = this.pos;
    this.pos = 0;
    // An empty buffer sends every later reserve or write to makeRoom/spill, which throw.
    this.buffer = EMPTY;
  }

  protected makeRoom(n: number): void {
    this.ensureOpen();
    this.grow(n);
  }

  protected spill(_chunk: Uint8Array, _off: number, len: number): boolean {
    this.ensureOpen();
    this.grow(len);
    return false;
  }
}

/**
 * Puts a buffer in front of any ByteSink, handing it chunks of `chunkBytes`. The writers wrap a
 * sink that is not a BufferedSink in one of these. close() flushes, then closes the inner sink
 * (even if the flush fails).
 */
export class ChunkedSink extends DrainingSink {
  constructor(
    private readonly inner: ByteSink,
    chunkBytes = DEFAULT_BUFFER_BYTES,
  ) {
    super(chunkBytes);
  }

  protected drain(b: Uint8Array, off: number, len: number): void {
    this.inner.write(b, off, len);
  }

  protected release(): void {
    this.inner.close();
  }
}

/**
 * Copies `len` bytes of `chunk` from `off` to `b` at `at`: what every record's frame costs. A whole
 * chunk copies without creating a view; a part of one needs a (short-lived) subarray, still far
 * cheaper than a byte loop for frame-sized copies.
 */
export function copyInto(b: Uint8Array, at: number, chunk: Uint8Array, off: number, len: number): void {
  b.set(off === 0 && len === chunk.length ? chunk : chunk.subarray(off, off + len), at);
}

/** The sink itself when it is buffered, else a ChunkedSink in front of it. */
export function toBufferedSink(sink: ByteSink): BufferedSink {
  return sink instanceof BufferedSink ? sink : new ChunkedSink(sink);
}
