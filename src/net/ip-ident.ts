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
/** IP_IDENTS_SZ: the kernel's number of hash buckets (2048); colliding destinations share one. */
const BUCKETS = 2048;

export class IpIdent {
  private readonly ids = new Uint16Array(BUCKETS);
  /** Jiffy of each bucket's last use; -1 before its first. */
  private readonly stamps = new Float64Array(BUCKETS).fill(-1);
  private readonly key: number;

  constructor(private readonly rng: RandomStream) {
    this.key = rng.nextU32();
  }

  /** ip_idents_reserve: the ID for the first of `segs` packets. Allocates nothing. */
  next(nowNs: number, dst: Ipv4Addr, src: Ipv4Addr, protocol: number, segs = 1): number {
    const b = bucket(this.key, dst, src, protocol);
    const now = Math.floor(nowNs / JIFFY_NS);
    const stamp = this.stamps[b]!;
    let delta = 0;
    if (stamp < 0) {
      // ip_idents starts random at boot; its timestamps start at 0, long before now.
      this.ids[b] = this.rng.nextU32() & 0xffff;
    } else if (stamp !== now) {
      delta = this.rng.intBetween(0, now - stamp - 1);
    }
    this.stamps[b] = now;
    const id = (this.ids[b]! + segs + delta) & 0xffff;
    this.ids[b] = id;
    return (id - segs) & 0xffff;
  }
}

/** A keyed hash of the three values into a bucket (a stand-in for the kernel's siphash). */
function bucket(key: number, dst: number, src: number, protocol: number): number {
  let h = Math.imul(key ^ dst, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ src, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ protocol, 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) % BUCKETS;
}
