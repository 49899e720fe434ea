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
 * The writer thread's program (stringified: it runs in a Worker from source, so it may use only
 * what it is given — `require` — and no names of this module). Each job moves a filled buffer to
 * the thread (a transfer, not a copy: shared memory would make every frame's copy into it an
 * atomic one, several times slower); the thread writes it fully and moves it back, with the errno
 * if the write failed. After a failed write nothing more of that sink is written: no file with a
 * hole. A `split` job holds pcapng blocks: besides writing them, the thread writes each Enhanced
 * Packet Block as a classic pcap record into the file of its interface (declared beforehand by an
 * `iface` message), so a capture set's frames are copied once on the emulator's thread.
 */
function writerThreadMain(require: (id: string) => any): void {
  const { workerData } = require('node:worker_threads');
  const { writeSync, writevSync } = require('node:fs');
  const done = new Int32Array(workerData.done);
  const port = workerData.port;
  const failed = new Set<number>();
  /** Per splitting sink: pcap file by interface id, and a block cut at the end of the last job. */
  const splits = new Map<number, { fds: number[]; pending: Buffer | undefined }>();

  const writeAll = (fd: number, b: Uint8Array): void => {
    for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
  };

  /** The EPBs of `data` as pcap records (ns), each appended to its interface's file. */
  const split = (state: { fds: number[]; pending: Buffer | undefined }, bytes: Uint8Array): void => {
    const data = state.pending ? Buffer.concat([state.pending, bytes]) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    state.pending = undefined;
    const byFd = new Map<number, Uint8Array[]>();
    let off = 0;
    while (off + 8 <= data.length) {
      const total = data.readUInt32LE(off + 4);
      if (off + total > data.length) break;
      const fd = data.readUInt32LE(off) === 6 ? state.fds[data.readUInt32LE(off + 8)] : undefined;
      if (fd !== undefined) {
        const ts = (BigInt(data.readUInt32LE(off + 12)) << 32n) | BigInt(data.readUInt32LE(off + 16));
        const caplen = data.readUInt32LE(off + 20);
        const header = Buffer.allocUnsafe(16);
        header.writeUInt32LE(Number(ts / 1_000_000_000n), 0);
        header.writeUInt32LE(Number(ts % 1_000_000_000n), 4);
        header.writeUInt32LE(caplen, 8);
        header.writeUInt32LE(data.readUInt32LE(off + 24), 12);
        let list = byFd.get(fd);
        if (!list) byFd.set(fd, (list = []));
        list.push(header, data.subarray(off + 28, off + 28 + caplen));
      }
      off += total;
    }
    if (off < data.length) state.pending = Buffer.from(data.subarray(off));
    for (const [fd, list] of byFd) {
      for (let i = 0; i < list.length; i += 512) {
        const part = list.slice(i, i + 512);
        let written = writevSync(fd, part);
        // A short write (rare): finish the rest piece by piece.
        for (const b of part) {
          if (written >= b.length) written -= b.length;
          else {
            writeAll(fd, b.subarray(written));
            written = 0;
          }
        }
      }
    }
  };

  port.on('message', (m: { kind: string; sink: number; memory: ArrayBuffer; len: number; fd: number; split: boolean; id: number }) => {
    if (m.kind === 'iface') {
      let state = splits.get(m.sink);
      if (!state) splits.set(m.sink, (state = { fds: [], pending: undefined }));
      state.fds[m.id] = m.fd;
      return;
    }
    if (m.kind === 'forget') {
      splits.delete(m.sink);
      return;
    }
    const b = new Uint8Array(m.memory, 0, m.len);
    let errno = 0;
    if (failed.has(m.sink)) errno = -5;
    else {
      try {
        writeAll(m.fd, b);
        const state = m.split ? splits.get(m.sink) : undefined;
        if (state) split(state, b);
      } catch (err) {
        const e = (err as { errno?: unknown }).errno;
        errno = typeof e === 'number' && e < 0 ? e : -5;
        failed.add(m.sink);
      }
    }
    port.postMessage({ memory: m.memory, sink: m.sink, errno }, [m.memory]);
    Atomics.add(done, 0, 1);
    Atomics.notify(done, 0);
  });
}

const WORKER_SOURCE = `(${writerThreadMain.toString()})(require);`;

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

  /**
   * Moves `len` bytes of `buffer` to the thread, to be written to `fd` after everything before;
   * with `split`, the thread also writes the pcapng blocks' packets to their interfaces' files.
   */
  submit(buffer: Buffer, len: number, fd: number, sink: number, split = false): void {
    const memory = buffer.buffer as ArrayBuffer;
    this.port.postMessage({ kind: 'write', memory, len, fd, sink, split }, [memory]);
    this.submitted++;
  }

  /** A splitting sink's interface `id` goes to the pcap file open as `fd` (before any of its packets). */
  declareInterface(sink: number, id: number, fd: number): void {
    this.port.postMessage({ kind: 'iface', sink, id, fd });
  }

  /** A splitting sink is done: the thread drops what it kept for it. */
  forget(sink: number): void {
    this.port.postMessage({ kind: 'forget', sink });
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

/**
 * A file written by the writer thread; the same contract as FileSink. With `splitPcapng`, what is
 * written is a pcapng stream whose packets the thread also writes, as classic pcap records, to
 * the file of each interface declared with splitInterface (see SplitCaptureWriter).
 */
export class BackgroundFileSink extends BufferedSink {
  private fd: number;
  private readonly thread = writerThread();
  private errno = 0;
  private readonly id = this.thread.register({ failed: (errno) => void (this.errno ||= errno) });

  constructor(
    readonly path: string,
    private readonly splitPcapng = false,
  ) {
    super(64);
    this.fd = openSync(path, 'w');
    this.buffer = this.thread.acquire();
  }

  /** The pcapng interface `id`'s packets go to the pcap file open as `fd` (whose header is written). */
  splitInterface(id: number, fd: number): void {
    if (!this.splitPcapng) throw new Error('BackgroundFileSink: splitInterface needs a splitting sink');
    this.thread.declareInterface(this.id, id, fd);
  }

  /** Moves the filled buffer to the thread and takes a fresh one. */
  private handOver(): void {
    this.throwIfFailed();
    if (this.pos === 0) return;
    this.thread.submit(this.buffer, this.pos, this.fd, this.id, this.splitPcapng);
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
    // Larger than a buffer: a buffer of its own, moved to the thread after everything before it.
    const own = Buffer.allocUnsafeSlow(len);
    own.set(chunk.subarray(off, off + len));
    this.thread.submit(own, len, this.fd, this.id, this.splitPcapng);
    this.drained += len;
    return true;
  }

  /** Hands over the rest, waits until the thread has written it, closes the file. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.pos > 0) {
        this.thread.submit(this.buffer, this.pos, this.fd, this.id, this.splitPcapng);
        this.drained += this.pos;
      } else {
        this.thread.release(this.buffer);
      }
      this.pos = 0;
      this.buffer = Buffer.alloc(0);
      this.thread.settle();
    } finally {
      closeSync(this.fd);
      if (this.splitPcapng) this.thread.forget(this.id);
      this.thread.unregister(this.id);
    }
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.errno !== 0) throw new Error(`${this.path}: write failed: ${ERRNO_NAMES[this.errno] ?? `errno ${-this.errno}`}`);
  }
}

/** Whether writing on a second thread pays here: a CPU for it besides the emulator's. */
export function writerThreadAvailable(): boolean {
  return availableParallelism() >= 2;
}

/**
 * The sink for a capture file: written on the writer thread when this machine has a second CPU
 * to run it on, else a FileSink. Both give the same bytes.
 */
export function openFileSink(path: string, opts: FileSinkOptions = {}): BufferedSink {
  if (writerThreadAvailable() && opts.bufferBytes === undefined) return new BackgroundFileSink(path);
  return new FileSink(path, opts);
}
