/**
 * File writes on a second thread. A capture run writes every frame once per interface and once
 * more into the merged pcapng: for a bulk transfer that is hundreds of megabytes, and write(2)'s
 * copy into the page cache was a third of the run's time on the emulator's thread. Here a sink
 * fills a 256 KiB buffer, moves the full buffer to one writer thread (postMessage with transfer:
 * no copy) and goes on filling another; the thread writes the buffers in the order they came and
 * moves them back, picked up synchronously (receiveMessageOnPort: the emulator never yields to
 * the event loop during a run). The emulator waits only when all buffers are out, and at close(),
 * until its bytes are in the file. Same bytes, same order as FileSink.
 *
 * The writer thread is one per process, started on first use and unref'd (it never keeps the
 * process alive); with a single CPU there is nothing to gain and openFileSink returns a FileSink.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { BufferedSink, DEFAULT_BUFFER_BYTES, FileSink, type FileSinkOptions } from './sink.js';

const SLOT_BYTES = DEFAULT_BUFFER_BYTES;
/** Buffers created at most (64 MiB); beyond that a sink waits for one to come back. */
const MAX_SLOTS = 256;
/** Index of the shared completion counter the emulator waits on. */
const DONE = 0;

/**
 * The thread's loop. Each job moves a filled buffer to the thread (a transfer, not a copy: shared
 * memory would make every frame's copy into it an atomic one, several times slower); the thread
 * writes it fully and moves it back, with the errno if the write failed. After a failed write
 * nothing more of that sink is written: no file with a hole.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const done = new Int32Array(workerData.done);
const port = workerData.port;
const failed = new Set();
port.on('message', (job) => {
  const b = new Uint8Array(job.memory, 0, job.len);
  let errno = 0;
  if (failed.has(job.sink)) errno = -5;
  else {
    try {
      for (let off = 0; off < job.len; ) off += writeSync(job.fd, b, off, job.len - off);
    } catch (err) {
      errno = typeof err.errno === 'number' && err.errno < 0 ? err.errno : -5;
      failed.add(job.sink);
    }
  }
  port.postMessage({ memory: job.memory, sink: job.sink, errno }, [job.memory]);
  Atomics.add(done, 0, 1);
  Atomics.notify(done, 0);
});
`;

/** errno names for the values the thread reports (the common ones of a failed write). */
const ERRNO_NAMES: Readonly<Record<number, string>> = { [-28]: 'ENOSPC', [-5]: 'EIO', [-27]: 'EFBIG', [-122]: 'EDQUOT', [-9]: 'EBADF' };

/** What the thread reports back to a sink: a write of its bytes failed. */
interface SlotOwner {
  failed(errno: number): void;
}

interface Returned {
  readonly memory: ArrayBuffer;
  readonly sink: number;
  readonly errno: number;
}

class WriterThread {
  private readonly done = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private readonly free: ArrayBuffer[] = [];
  private readonly owners = new Map<number, SlotOwner>();
  private created = 0;
  private submitted = 0;
  private returned = 0;
  private nextSinkId = 1;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { done: this.done.buffer, port: port2 }, transferList: [port2] });
    this.worker.unref();
    this.port.unref();
  }

  register(owner: SlotOwner): number {
    const id = this.nextSinkId++;
    this.owners.set(id, owner);
    return id;
  }

  unregister(id: number): void {
    this.owners.delete(id);
  }

  /** A buffer to fill: a returned one, a new one, or — all out — the next to come back. */
  acquire(): Buffer {
    this.collect();
    let memory = this.free.pop();
    if (memory === undefined && this.created < MAX_SLOTS) {
      this.created++;
      memory = new ArrayBuffer(SLOT_BYTES);
    }
    while (memory === undefined) {
      Atomics.wait(this.done, DONE, this.returned);
      this.collect();
      memory = this.free.pop();
    }
    return Buffer.from(memory);
  }

  /** Takes back what the thread has finished with; failures go to their sink. */
  private collect(): void {
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      const r = m.message as Returned;
      this.returned++;
      if (r.errno < 0) this.owners.get(r.sink)?.failed(r.errno);
      this.free.push(r.memory);
    }
  }

  /** Moves `len` bytes of `buffer` to the thread, to be written to `fd` after everything before. */
  submit(buffer: Buffer, len: number, fd: number, sink: number): void {
    const memory = buffer.buffer as ArrayBuffer;
    this.port.postMessage({ memory, len, fd, sink }, [memory]);
    this.submitted++;
  }

  /** Gives back a buffer that was never submitted. */
  release(buffer: Buffer): void {
    this.free.push(buffer.buffer as ArrayBuffer);
  }

  /** Waits until every job handed over so far is written, and reports failures to their sinks. */
  settle(): void {
    this.collect();
    while (this.returned < this.submitted) {
      // The thread counts a job done after posting it back: sleep only while nothing new is done.
      Atomics.wait(this.done, DONE, this.returned);
      this.collect();
    }
  }
}

let thread: WriterThread | undefined;

function writerThread(): WriterThread {
  thread ??= new WriterThread();
  return thread;
}

/** A file written by the writer thread; the same contract as FileSink. */
export class BackgroundFileSink extends BufferedSink {
  private fd: number;
  private readonly thread = writerThread();
  private errno = 0;
  private readonly id = this.thread.register({ failed: (errno) => void (this.errno ||= errno) });

  constructor(readonly path: string) {
    super(64);
    this.fd = openSync(path, 'w');
    this.buffer = this.thread.acquire();
  }

  /** Moves the filled buffer to the thread and takes a fresh one. */
  private handOver(): void {
    this.throwIfFailed();
    if (this.pos === 0) return;
    this.thread.submit(this.buffer, this.pos, this.fd, this.id);
    this.drained += this.pos;
    this.pos = 0;
    this.buffer = this.thread.acquire();
  }

  protected makeRoom(n: number): void {
    this.ensureOpen();
    this.handOver();
    if (n > this.buffer.length) throw new RangeError(`BackgroundFileSink: a record of ${n} bytes does not fit a ${SLOT_BYTES}-byte buffer`);
  }

  protected spill(chunk: Uint8Array, off: number, len: number): boolean {
    this.ensureOpen();
    this.handOver();
    if (len < this.buffer.length) return false;
    // Larger than a buffer: written here, after everything handed over before it.
    this.thread.settle();
    this.throwIfFailed();
    for (let o = off, left = len; left > 0; ) {
      const n = writeSync(this.fd, chunk, o, left);
      o += n;
      left -= n;
    }
    this.drained += len;
    return true;
  }

  /** Hands over the rest, waits until the thread has written it, closes the file. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.pos > 0) {
        this.thread.submit(this.buffer, this.pos, this.fd, this.id);
        this.drained += this.pos;
      } else {
        this.thread.release(this.buffer);
      }
      this.pos = 0;
      this.buffer = Buffer.alloc(0);
      this.thread.settle();
    } finally {
      closeSync(this.fd);
      this.thread.unregister(this.id);
    }
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.errno !== 0) throw new Error(`${this.path}: write failed: ${ERRNO_NAMES[this.errno] ?? `errno ${-this.errno}`}`);
  }
}

/**
 * The sink for a capture file: written on the writer thread when this machine has a second CPU
 * to run it on, else a FileSink. Both give the same bytes.
 */
export function openFileSink(path: string, opts: FileSinkOptions = {}): BufferedSink {
  if (availableParallelism() >= 2 && opts.bufferBytes === undefined) return new BackgroundFileSink(path);
  return new FileSink(path, opts);
}
