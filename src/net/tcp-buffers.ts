/**
 * The two byte stores of a TCP connection: the send buffer (what the application wrote and the
 * peer has not acknowledged: tcp_write_queue + tcp_rtx_queue as bytes) and the out-of-order queue
 * of the receiver (tcp_ofo_queue). Sequence numbers are 32-bit and wrap: compare them with the
 * helpers here, never with < on raw values.
 */

/** a < b in sequence space (RFC 9293 §3.4: modulo 2^32). */
export const seqLt = (a: number, b: number): boolean => ((a - b) | 0) < 0;
export const seqLe = (a: number, b: number): boolean => ((a - b) | 0) <= 0;
export const seqGt = (a: number, b: number): boolean => ((a - b) | 0) > 0;
export const seqGe = (a: number, b: number): boolean => ((a - b) | 0) >= 0;
/** b − a as a signed distance (small windows only). */
export const seqDiff = (b: number, a: number): number => (b - a) | 0;
export const seqAdd = (a: number, n: number): number => (a + n) >>> 0;

/**
 * Bytes from snd_una on: the acknowledged prefix is dropped, new writes are appended. One
 * contiguous buffer that grows by doubling and compacts instead of growing when the dead prefix
 * is at least half of it, so a bulk transfer reuses the same memory.
 */
export class SendBuffer {
  private buf: Buffer;
  private start = 0;
  private end = 0;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Bytes held (unacknowledged, sent or not). */
  get length(): number {
    return this.end - this.start;
  }

  append(data: Uint8Array): void {
    if (this.end + data.length > this.buf.length) this.makeRoom(data.length);
    this.buf.set(data, this.end);
    this.end += data.length;
  }

  /** The peer acknowledged the first `n` bytes. */
  consume(n: number): void {
    this.start += Math.min(n, this.length);
    if (this.start === this.end) this.start = this.end = 0;
  }

  /** Copies `len` bytes starting `offset` bytes after snd_una into `dst` at `at`. */
  copyOut(offset: number, len: number, dst: Buffer, at: number): void {
    this.buf.copy(dst, at, this.start + offset, this.start + offset + len);
  }

  private makeRoom(extra: number): void {
    const live = this.length;
    if (this.start >= this.buf.length >>> 1 && live + extra <= this.buf.length) {
      this.buf.copy(this.buf, 0, this.start, this.end);
    } else {
      let size = this.buf.length * 2;
      while (size < live + extra) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
    }
    this.start = 0;
    this.end = live;
  }
}

/** A segment's data that arrived ahead of rcv_nxt. */
interface OutOfOrder {
  seq: number;
  data: Uint8Array;
}

/**
 * tcp_data_queue_ofo: segments beyond rcv_nxt, kept sorted and without overlap, until the hole
 * before them is filled. The blocks the receiver reports in SACK options come from here, the
 * block holding the newest segment first (RFC 2018 §4).
 */
export class OutOfOrderQueue {
  private readonly segs: OutOfOrder[] = [];
  /** Sequence number of the last segment queued: its block is reported first. */
  private lastSeq = 0;

  get isEmpty(): boolean {
    return this.segs.length === 0;
  }

  /** Keeps the part of [seq, seq+data.length) not already held. */
  insert(seq: number, data: Uint8Array): void {
    this.lastSeq = seq;
    let s = seq;
    let d = data;
    let i = 0;
    while (i < this.segs.length && seqLe(seqAdd(this.segs[i]!.seq, this.segs[i]!.data.length), s)) i++;
    const pieces: OutOfOrder[] = [];
    while (d.length > 0) {
      const next = this.segs[i];
      if (!next || seqLe(seqAdd(s, d.length), next.seq)) {
        pieces.push({ seq: s, data: d });
        break;
      }
      if (seqLt(s, next.seq)) {
        const n = seqDiff(next.seq, s);
        pieces.push({ seq: s, data: d.subarray(0, n) });
        d = d.subarray(n);
        s = next.seq;
        continue;
      }
      const skip = Math.min(d.length, seqDiff(seqAdd(next.seq, next.data.length), s));
      d = d.subarray(skip);
      s = seqAdd(s, skip);
      i++;
    }
    for (const p of pieces) {
      let j = 0;
      while (j < this.segs.length && seqLt(this.segs[j]!.seq, p.seq)) j++;
      this.segs.splice(j, 0, p);
    }
  }

  /** Removes and returns the data that now continues at rcv_nxt (in order), advancing past it. */
  takeFrom(rcvNxt: number, out: (data: Uint8Array) => void): number {
    let next = rcvNxt;
    while (this.segs.length > 0) {
      const first = this.segs[0]!;
      const end = seqAdd(first.seq, first.data.length);
      if (seqGt(first.seq, next)) break;
      this.segs.shift();
      if (seqLe(end, next)) continue;
      out(first.data.subarray(seqDiff(next, first.seq)));
      next = end;
    }
    return next;
  }

  /** SACK blocks (left, right) to report: the newest first, then the others in order, at most `max`. */
  sackBlocks(max: number): Array<[number, number]> {
    const blocks: Array<[number, number]> = [];
    for (const s of this.segs) {
      const end = seqAdd(s.seq, s.data.length);
      const last = blocks[blocks.length - 1];
      if (last && last[1] === s.seq) last[1] = end;
      else blocks.push([s.seq, end]);
    }
    const newest = blocks.findIndex(([l, r]) => seqLe(l, this.lastSeq) && seqLt(this.lastSeq, r));
    if (newest > 0) blocks.unshift(...blocks.splice(newest, 1));
    return blocks.slice(0, max);
  }

  clear(): void {
    this.segs.length = 0;
  }
}
