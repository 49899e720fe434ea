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
 * Bytes from snd_una on: the acknowledged prefix is dropped, new writes are appended. Each write
 * is copied once into a chunk of its own size (send() copies, as the kernel's does); chunks are
 * dropped as they are acknowledged. No buffer is ever grown and copied again, which matters when
 * a program writes megabytes at once.
 */
export class SendBuffer {
  private readonly chunks: Buffer[] = [];
  /** Index of the first live chunk in `chunks` (compacted now and then). */
  private first = 0;
  /** Acknowledged bytes at the front of the first live chunk. */
  private skip = 0;
  private bytes = 0;

  /** Bytes held (unacknowledged, sent or not). */
  get length(): number {
    return this.bytes;
  }

  append(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(Buffer.from(data));
    this.bytes += data.length;
  }

  /** The peer acknowledged the first `n` bytes. */
  consume(n: number): void {
    let left = Math.min(n, this.bytes);
    this.bytes -= left;
    while (left > 0) {
      const c = this.chunks[this.first]!;
      const avail = c.length - this.skip;
      if (left < avail) {
        this.skip += left;
        break;
      }
      left -= avail;
      this.chunks[this.first++] = EMPTY;
      this.skip = 0;
    }
    if (this.first > 64 && this.first * 2 > this.chunks.length) {
      this.chunks.splice(0, this.first);
      this.first = 0;
    }
  }

  /** Copies `len` bytes starting `offset` bytes after snd_una into `dst` at `at`. */
  copyOut(offset: number, len: number, dst: Buffer, at: number): void {
    if (len <= 0) return;
    let i = this.first;
    let pos = this.skip + offset;
    while (pos >= this.chunks[i]!.length) {
      pos -= this.chunks[i]!.length;
      i++;
    }
    while (len > 0) {
      const c = this.chunks[i++]!;
      const n = Math.min(len, c.length - pos);
      c.copy(dst, at, pos, pos + n);
      at += n;
      len -= n;
      pos = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);

/** A sent segment still unacknowledged (one tcp_rtx_queue entry). */
export interface SentSegment {
  end: number;
  sentNs: number;
  retransmitted: boolean;
}

/**
 * The retransmission queue, oldest first: appended as segments leave, taken from the front as
 * they are acknowledged. An array with a moving head (Array#shift is linear in its length, and a
 * large window keeps thousands of segments in flight).
 */
export class SentQueue {
  private items: SentSegment[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(s: SentSegment): void {
    this.items.push(s);
  }

  /** The oldest unacknowledged segment. */
  first(): SentSegment | undefined {
    return this.items[this.head];
  }

  shift(): SentSegment | undefined {
    if (this.head >= this.items.length) return undefined;
    const s = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return s;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }

  /** Index in `items` of the oldest segment ending after `seq` (they are in sequence order). */
  private indexEndingAfter(seq: number): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqGt(this.items[mid]!.end, seq)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The oldest segment ending after `seq`: a binary search. */
  firstEndingAfter(seq: number): SentSegment | undefined {
    return this.items[this.indexEndingAfter(seq)];
  }

  /** How many segments end at or before `seq`. */
  countEndingBy(seq: number): number {
    return this.indexEndingAfter(seq) - this.head;
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
