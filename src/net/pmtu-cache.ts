/**
 * Learned path MTUs: the kernel's next-hop exceptions (fib_nh_exception, net/ipv4/route.c). An
 * ICMP "fragmentation needed" lowers the MTU towards one destination (__ip_rt_update_pmtu) for
 * net.ipv4.route.mtu_expires (600 s); every later packet this host sends there is sized by it —
 * ip_route_output finds the exception and dst_mtu returns its MTU until it expires. Forwarded
 * packets ignore it (ip_dst_mtu_maybe_forward with ip_forward_use_pmtu=0).
 */
import type { Ipv4Addr } from '../packet/addr.js';

/** net.ipv4.route.mtu_expires: 10 minutes. */
export const MTU_EXPIRES_NS = 600e9;
/** net.ipv4.route.min_pmtu: a frag-needed below it locks the PMTU at 552 (RFC 1191's floor in spirit). */
export const MIN_PMTU = 552;
/**
 * The bound on remembered destinations. The kernel keeps FNHE_RECLAIM_DEPTH (5) exceptions per
 * bucket of FNHE_HASH_SIZE (2048) per next hop and reclaims the oldest; one table of 2048 with the
 * oldest dropped first keeps memory bounded the same way.
 */
const MAX_ENTRIES = 2048;

interface Exception {
  readonly mtu: number;
  readonly expiresNs: number;
}

export class PmtuCache {
  private readonly byDst = new Map<Ipv4Addr, Exception>();

  /** The learned MTU towards `dst`, if one is current. */
  lookup(dst: Ipv4Addr, nowNs: number): number | undefined {
    const e = this.byDst.get(dst);
    if (!e) return undefined;
    if (nowNs >= e.expiresNs) {
      this.byDst.delete(dst);
      return undefined;
    }
    return e.mtu;
  }

  /**
   * __ip_rt_update_pmtu: `mtu` from a frag-needed about a packet to `dst`, whose MTU is `current`
   * now. Never raises the MTU; below min_pmtu it settles at 552; the same MTU again renews the
   * expiry. Returns the MTU now in force.
   */
  update(dst: Ipv4Addr, mtu: number, current: number, nowNs: number): number {
    if (mtu < MIN_PMTU) mtu = Math.min(current, MIN_PMTU);
    if (mtu > current) return current;
    this.byDst.delete(dst);
    this.byDst.set(dst, { mtu, expiresNs: nowNs + MTU_EXPIRES_NS });
    if (this.byDst.size > MAX_ENTRIES) this.byDst.delete(this.byDst.keys().next().value!);
    return mtu;
  }

  get size(): number {
    return this.byDst.size;
  }
}
