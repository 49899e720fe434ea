/**
 * IPv4 reassembly for local delivery: ip_defrag (net/ipv4/ip_fragment.c) over the queues of
 * inet_fragment.c. Fragments queue by (source, destination, ID, protocol); a queue completes when
 * its first and last fragments are in and the bytes in between are all there ("meat" equals the
 * length), and the datagram is then delivered as one packet with the first fragment's header.
 *
 * Overlaps are handled as Linux does since "ip: discard IPv4 datagrams with overlapping segments"
 * (RFC 5722 §4 applied to IPv4, with Errata 3089): a fragment that overlaps what the queue holds
 * kills the whole queue; an exact duplicate of bytes already held (inside one run of contiguous
 * fragments) is dropped alone. An inconsistent end (a second, different last fragment; data
 * beyond a known end) or an empty fragment kills the queue too.
 *
 * Each queue lives net.ipv4.ipfrag_time (30 s) from its first fragment; when it expires with its
 * first fragment in, the sender gets ICMP time exceeded, code 1 (ip_expire). Memory is bounded as
 * the kernel bounds it: while the fragments held exceed net.ipv4.ipfrag_high_thresh (4 MiB), new
 * fragments are dropped (inet_frag_find).
 */
import * as ipv4 from '../packet/ipv4.js';
import type { Scheduler, TimerHandle } from '../sim/scheduler.js';
import { Skb } from './skb.js';

/** net.ipv4.ipfrag_time. */
export const IPFRAG_TIME_NS = 30e9;
/** net.ipv4.ipfrag_high_thresh. */
export const IPFRAG_HIGH_THRESH = 4 * 1024 * 1024;
/** What a queued fragment costs beyond its bytes (a stand-in for the skb's truesize overhead). */
const FRAGMENT_OVERHEAD = 256;

/** Fragments received in order at the end of the queue (inet_frag_queue_insert's runs). */
interface Run {
  readonly offset: number;
  end: number;
  readonly chunks: Buffer[];
}

class FragQueue {
  readonly runs: Run[] = [];
  /** Length of the datagram's payload as far as known (q.len). */
  len = 0;
  /** Payload bytes held (q.meat). */
  meat = 0;
  lastIn = false;
  /** The header of the fragment at offset 0 (its options as sent on the first fragment). */
  firstHeader: Buffer | undefined;
  /** The first fragment's own bytes, for the ICMP error that quotes it on expiry. */
  firstPacket: Buffer | undefined;
  /** Largest fragment (header + data) seen, and largest with DF set (ip_frag_reasm's DF rule). */
  maxSize = 0;
  maxDfSize = 0;
  memory = 0;
  ingressIfindex = 0;
  timer: TimerHandle | undefined;
}

export type DefragDrop = (reason: string) => void;

export class IpDefrag {
  private readonly queues = new Map<string, FragQueue>();
  /** Bytes held by every queue of this netns (frag_mem_limit). */
  memory = 0;

  constructor(
    private readonly sched: Scheduler,
    /** ip_expire with the first fragment in: the ICMP time exceeded about it (its IPv4 header at skb.head). */
    private readonly onExpire: (firstFragment: Skb) => void,
    private readonly onDrop: DefragDrop,
  ) {}

  get queueCount(): number {
    return this.queues.size;
  }

  /**
   * ip_defrag: `skb` holds one fragment (its IPv4 header at skb.networkOffset). Returns the
   * reassembled datagram (a new skb, header at skb.head) when this fragment completes it;
   * otherwise the fragment is kept or dropped and the result is undefined.
   */
  defrag(skb: Skb): Skb | undefined {
    const b = skb.buf;
    const ip = skb.networkOffset;
    if (this.memory > IPFRAG_HIGH_THRESH) {
      this.onDrop('ip: fragment memory above net.ipv4.ipfrag_high_thresh');
      return undefined;
    }
    const key = `${ipv4.src(b, ip)}/${ipv4.dst(b, ip)}/${ipv4.id(b, ip)}/${ipv4.protocol(b, ip)}`;
    let q = this.queues.get(key);
    if (!q) {
      const created = new FragQueue();
      created.timer = this.sched.after(IPFRAG_TIME_NS, () => this.expire(key, created));
      this.queues.set(key, created);
      q = created;
    }
    return this.queue(key, q, skb);
  }

  /** ip_frag_queue. */
  private queue(key: string, q: FragQueue, skb: Skb): Skb | undefined {
    const b = skb.buf;
    const ip = skb.networkOffset;
    const hl = ipv4.headerLen(b, ip);
    const offset = ipv4.fragmentOffset(b, ip);
    const more = ipv4.isMoreFragments(b, ip);
    let end = offset + ipv4.totalLength(b, ip) - hl;
    if (!more) {
      if (end < q.len || (q.lastIn && end !== q.len)) return this.kill(key, q, 'ip: fragment: a second, different end of the datagram');
      q.lastIn = true;
      q.len = end;
    } else {
      end &= ~7; // a fragment with more to come carries a multiple of 8 bytes; the rest is cut
      if (end > q.len) {
        if (q.lastIn) return this.kill(key, q, 'ip: fragment: data beyond the end of the datagram');
        q.len = end;
      }
    }
    if (end === offset) return this.kill(key, q, 'ip: fragment: no data');
    const verdict = insert(q.runs, offset, end, Buffer.from(b.subarray(ip + hl, ip + hl + end - offset)));
    if (verdict === 'duplicate') {
      this.onDrop('ip: fragment: duplicate');
      return undefined;
    }
    if (verdict === 'overlap') return this.kill(key, q, 'ip: fragment overlaps another (RFC 5722): datagram discarded');
    q.ingressIfindex = skb.ingressIfindex;
    q.meat += end - offset;
    const cost = end - offset + hl + FRAGMENT_OVERHEAD;
    q.memory += cost;
    this.memory += cost;
    if (offset === 0) {
      q.firstHeader = Buffer.from(b.subarray(ip, ip + hl));
      q.firstPacket = Buffer.from(b.subarray(ip, ip + ipv4.totalLength(b, ip)));
    }
    const size = end - offset + hl;
    if (size > q.maxSize) q.maxSize = size;
    if (ipv4.isDontFragment(b, ip) && size > q.maxDfSize) q.maxDfSize = size;
    if (q.firstHeader && q.lastIn && q.meat === q.len) return this.reassemble(key, q);
    return undefined;
  }

  /** ip_frag_reasm: one datagram with the first fragment's header, DF only when the largest fragment had it. */
  private reassemble(key: string, q: FragQueue): Skb | undefined {
    const header = q.firstHeader!;
    const hl = header.length;
    if (hl + q.len > ipv4.MAX_TOTAL_LEN) return this.kill(key, q, 'ip: oversized IP packet after reassembly');
    this.forget(key, q);
    const skb = Skb.alloc(hl + q.len);
    const out = skb.buf;
    header.copy(out, skb.head);
    let at = skb.head + hl;
    for (const run of q.runs) for (const c of run.chunks) at += c.copy(out, at);
    ipv4.setFragmentFields(out, skb.head, hl + q.len, 0, false, q.maxDfSize === q.maxSize);
    skb.networkOffset = skb.head;
    skb.ingressIfindex = q.ingressIfindex;
    // IPCB(head)->frag_max_size: a datagram that is forwarded leaves cut to its largest piece.
    skb.fragMaxSize = Math.max(q.maxDfSize, q.maxSize);
    return skb;
  }

  /** ip_expire: the queue is dropped; the sender hears of it only if its first fragment came. */
  private expire(key: string, q: FragQueue): void {
    if (this.queues.get(key) !== q) return;
    this.forget(key, q);
    this.onDrop('ip: fragment reassembly time exceeded (net.ipv4.ipfrag_time)');
    if (!q.firstPacket) return;
    const head = Skb.alloc(q.firstPacket.length);
    q.firstPacket.copy(head.buf, head.head);
    head.networkOffset = head.head;
    head.ingressIfindex = q.ingressIfindex;
    this.onExpire(head);
  }

  /** inet_frag_kill + drop of the fragment that showed the queue is bad. */
  private kill(key: string, q: FragQueue, reason: string): undefined {
    this.forget(key, q);
    this.onDrop(reason);
    return undefined;
  }

  private forget(key: string, q: FragQueue): void {
    q.timer?.cancel();
    this.queues.delete(key);
    this.memory -= q.memory;
    q.memory = 0;
  }
}

/**
 * inet_frag_queue_insert: after the last run (appended to it when contiguous); otherwise among
 * the runs, where touching one run only and lying inside it is a duplicate and anything else
 * that touches held bytes is an overlap. Runs are not merged when a gap is filled later.
 */
function insert(runs: Run[], offset: number, end: number, data: Buffer): 'ok' | 'duplicate' | 'overlap' {
  const last = runs[runs.length - 1];
  if (!last || last.end < end) {
    if (last && offset < last.end) return 'overlap';
    if (last && offset === last.end) {
      last.chunks.push(data);
      last.end = end;
    } else {
      runs.push({ offset, end, chunks: [data] });
    }
    return 'ok';
  }
  // Binary search for the first run ending after `offset`.
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (runs[mid]!.end <= offset) lo = mid + 1;
    else hi = mid;
  }
  const at = runs[lo];
  if (at && at.offset < end) {
    return offset >= at.offset && end <= at.end ? 'duplicate' : 'overlap';
  }
  runs.splice(lo, 0, { offset, end, chunks: [data] });
  return 'ok';
}
