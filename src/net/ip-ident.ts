/**
 * IPv4 identification for packets that do not take it from a connected socket: Linux's
 * __ip_select_ident. Per destination (a hash bucket of daddr, saddr, protocol and the netns) a
 * counter moves by the packet count plus a random amount up to the jiffies elapsed since the
 * bucket was last used — so IDs count up within a burst and jump between packets a second apart,
 * as the kernel captures show (ping: 0x750f, then 0x75e7).
 */
import type { Ipv4Addr } from '../packet/addr.js';
import type { RandomStream } from '../sim/random.js';

/** The jiffy the emulated kernel counts in (CONFIG_HZ=1000). */
const JIFFY_NS = 1_000_000;

interface Bucket {
  id: number;
  jiffy: number;
}

export class IpIdent {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly rng: RandomStream) {}

  /** ip_idents_reserve: the ID for the first of `segs` packets. */
  next(nowNs: number, dst: Ipv4Addr, src: Ipv4Addr, protocol: number, segs = 1): number {
    const key = `${dst}/${src}/${protocol}`;
    const now = Math.floor(nowNs / JIFFY_NS);
    let b = this.buckets.get(key);
    if (!b) {
      // ip_idents starts random at boot; its timestamps start at 0, long before now.
      b = { id: this.rng.nextU32() & 0xffff, jiffy: now };
      this.buckets.set(key, b);
    }
    let delta = 0;
    if (b.jiffy !== now) {
      delta = this.rng.intBetween(0, now - b.jiffy - 1);
      b.jiffy = now;
    }
    b.id = (b.id + segs + delta) & 0xffff;
    return (b.id - segs) & 0xffff;
  }
}
