/**
 * The Internet checksum: RFC 1071 one's-complement sum, and RFC 1624 incremental update for the
 * rewrites the kernel patches in place (TTL decrement, NAT of addresses and ports).
 *
 * `sum` returns an unfolded accumulator so partial sums (pseudo-header, header, payload) combine
 * by plain addition before one `finish`, as smoltcp's `checksum::combine` does.
 */
import type { Ipv4Addr } from './addr.js';

// DataView's getUint32 is one bounds-checked load where indexed access takes four, and V8 inlines
// it; a DataView per call would be an allocation per checksum, so one view over the whole
// ArrayBuffer is kept while buffers of the same backing store come back (a frame is summed at
// several layers and hops in a row, and the emulator carves its frames from shared slabs).
let cachedBytes: Uint8Array | undefined;
let cachedBase = 0;
let cachedBacking: ArrayBufferLike | undefined;
let cachedView: DataView = new DataView(new ArrayBuffer(0));

/** The DataView for `b` (over its whole backing store); sets cachedBase to b's offset in it. */
function viewOf(b: Uint8Array): DataView {
  if (b !== cachedBytes) {
    // Reading b.buffer is not free: only when another array comes.
    const backing = b.buffer;
    if (backing !== cachedBacking) {
      cachedView = new DataView(backing);
      cachedBacking = backing;
    }
    cachedBytes = b;
    cachedBase = b.byteOffset;
  }
  return cachedView;
}

/** Sum of the 16-bit big-endian words of b[start, end), an odd last byte padded with zero. */
export function sum(b: Uint8Array, start: number, end: number, initial = 0): number {
  const dv = viewOf(b);
  const base = cachedBase;
  let s = initial;
  let i = start;
  const end4 = end - ((end - start) & 3);
  for (; i < end4; i += 4) {
    const w = dv.getUint32(base + i);
    s += (w >>> 16) + (w & 0xffff);
  }
  if (i + 1 < end) {
    s += dv.getUint16(base + i);
    i += 2;
  }
  if (i < end) s += b[i]! << 8;
  return s;
}

/** Folds carries until the value fits 16 bits. */
export function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum field value for an accumulated sum: the complement of the folded sum. */
export function finish(s: number): number {
  return ~fold(s) & 0xffff;
}

/** Sum of the IPv4 pseudo-header used by UDP and TCP (RFC 768, RFC 9293 §3.1). */
export function pseudoHeaderSum(src: Ipv4Addr, dst: Ipv4Addr, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/** True when the bytes, including their checksum field, sum to 0xffff (RFC 1071 §1 verification). */
export function verifies(b: Uint8Array, start: number, end: number, initial = 0): boolean {
  return fold(sum(b, start, end, initial)) === 0xffff;
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit word m changed to m'. This is what the
 * kernel's csum_replace2 does; it never yields a spurious 0x0000 from a 0xffff field (RFC 1624 §3).
 */
export function update16(checksum: number, oldWord: number, newWord: number): number {
  return ~fold((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/** update16 for a 32-bit field (an IPv4 address), as the kernel's csum_replace4. */
export function update32(checksum: number, oldValue: number, newValue: number): number {
  const s =
    (~checksum & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) +
    (~oldValue & 0xffff) +
    (newValue >>> 16) +
    (newValue & 0xffff);
  return ~fold(s) & 0xffff;
}
