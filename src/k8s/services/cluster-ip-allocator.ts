/**
 * ClusterIP allocation from the service CIDR, as kube-apiserver's bitmap allocator does it
 * (pkg/registry/core/service/ipallocator, bitmap.go over allocator/bitmap.go):
 *
 * - the usable addresses are the range without its network and broadcast addresses; bit 0 is
 *   the network address + 1 (10.96.0.1 in 10.96.0.0/12);
 * - a static band at the start of the range, min(max(16, size/16), 256) addresses
 *   (calculateRangeOffset), is kept for addresses users and installers choose — kubernetes.default
 *   takes the first (10.96.0.1), kubeadm gives kube-dns the tenth (10.96.0.10);
 * - a dynamic allocation (randomScanStrategyWithOffset) starts at a random bit above the band and
 *   scans upwards, wrapping inside the upper part; only when that is full does it try the band
 *   the same way.
 *
 * The random draws come from a seeded stream, so one scenario and seed always give the same IPs.
 */
import { formatIpv4, type Ipv4Addr } from '../../packet/addr.js';
import type { RandomStream } from '../../sim/random.js';

/** What the apiserver answers when an allocation fails, as its messages read. */
export class ClusterIpError extends Error {
  override readonly name = 'ClusterIpError';
}

export class ClusterIpAllocator {
  /** Usable addresses: the range minus network and broadcast. */
  readonly size: number;
  /** Length of the static band at the start (calculateRangeOffset). */
  readonly offset: number;
  private readonly base: number;
  private readonly used = new Set<number>();

  constructor(
    readonly network: Ipv4Addr,
    readonly prefixLen: number,
    private readonly random: RandomStream,
  ) {
    const rangeSize = 2 ** (32 - prefixLen);
    // netutils.RangeSize; an IPv4 range loses its network and broadcast addresses (bitmap.go NewAllocatorCIDRRange).
    this.size = Math.max(0, rangeSize - 2);
    this.base = (network >>> 0) + 1;
    this.offset = calculateRangeOffset(rangeSize);
  }

  get cidrText(): string {
    return `${formatIpv4(this.network)}/${this.prefixLen}`;
  }

  /** The address of bit `i` (0: network + 1). */
  addressAt(i: number): Ipv4Addr {
    return (this.base + i) >>> 0;
  }

  contains(ip: Ipv4Addr): boolean {
    const i = (ip >>> 0) - this.base;
    return i >= 0 && i < this.size;
  }

  isAllocated(ip: Ipv4Addr): boolean {
    return this.used.has((ip >>> 0) - this.base);
  }

  get allocatedCount(): number {
    return this.used.size;
  }

  /** Allocate(ip): a given address, refused outside the range or when taken. */
  allocate(ip: Ipv4Addr): void {
    const text = formatIpv4(ip);
    if (!this.contains(ip)) {
      throw new ClusterIpError(`failed to allocate IP ${text}: provided IP (${text}) is not in the valid range. The range of valid IPs is ${this.cidrText}`);
    }
    const i = (ip >>> 0) - this.base;
    if (this.used.has(i)) throw new ClusterIpError(`failed to allocate IP ${text}: provided IP is already allocated`);
    this.used.add(i);
  }

  /** AllocateNext(): a random free address, above the static band first. */
  allocateNext(): Ipv4Addr {
    const upper = this.size - this.offset;
    if (upper > 0) {
      const start = this.random.intBetween(0, upper - 1);
      for (let k = 0; k < upper; k++) {
        const i = this.offset + ((start + k) % upper);
        if (!this.used.has(i)) return this.take(i);
      }
    }
    if (this.offset > 0) {
      const start = this.random.intBetween(0, this.offset - 1);
      for (let k = 0; k < this.offset; k++) {
        const i = (start + k) % this.offset;
        if (!this.used.has(i)) return this.take(i);
      }
    }
    throw new ClusterIpError('failed to allocate a serviceIP: range is full');
  }

  release(ip: Ipv4Addr): void {
    this.used.delete((ip >>> 0) - this.base);
  }

  private take(i: number): Ipv4Addr {
    this.used.add(i);
    return this.addressAt(i);
  }
}

/** min(max(16, size/16), 256), or 0 for ranges smaller than 16 addresses (bitmap.go calculateRangeOffset). */
export function calculateRangeOffset(rangeSize: number): number {
  const min = 16, max = 256, step = 16;
  if (rangeSize < min) return 0;
  const offset = Math.floor(rangeSize / step);
  if (offset < min) return min;
  if (offset > max) return max;
  return offset;
}
