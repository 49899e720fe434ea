/**
 * Ethernet, IPv4 and UDP headers written byte by byte, without the codecs, for the codec tests that
 * need a whole frame (for tshark) around the layer they test: the IPv4 header is 20 bytes with DF
 * and TTL 64, both checksums are computed.
 */
import { finish, pseudoHeaderSum, sum } from '../../src/packet/checksum.js';
import { hex } from './frames.js';

export interface RawIpv4Header {
  readonly src: number;
  readonly dst: number;
  readonly protocol: number;
  /** IPv4 identification, 0 unless given. */
  readonly id?: number;
  /** Ethernet addresses, 02:00:00:00:00:02 ← 02:00:00:00:00:01 unless given. */
  readonly dstMac?: Uint8Array;
  readonly srcMac?: Uint8Array;
}

const DST_MAC = hex('020000000002');
const SRC_MAC = hex('020000000001');

/** Ethernet + IPv4 around `l4Len` bytes, which `fill` writes from offset 34 (`l4`). */
export function rawIpv4Frame(h: RawIpv4Header, l4Len: number, fill: (frame: Buffer, l4: number) => void): Buffer {
  const f = Buffer.alloc(14 + 20 + l4Len);
  f.set(h.dstMac ?? DST_MAC, 0);
  f.set(h.srcMac ?? SRC_MAC, 6);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + l4Len, 16);
  f.writeUInt16BE(h.id ?? 0, 18);
  f.writeUInt16BE(0x4000, 20);
  f[22] = 64;
  f[23] = h.protocol;
  f.writeUInt32BE(h.src, 26);
  f.writeUInt32BE(h.dst, 30);
  f.writeUInt16BE(finish(sum(f, 14, 34)), 24);
  fill(f, 34);
  return f;
}

/** A UDP header with a correct checksum over the payload already in place (RFC 768: 0 goes out as 0xffff). */
export function writeUdp(b: Uint8Array, off: number, src: number, dst: number, srcPort: number, dstPort: number, payloadLen: number): void {
  const len = 8 + payloadLen;
  b.set([srcPort >>> 8, srcPort & 0xff, dstPort >>> 8, dstPort & 0xff, len >>> 8, len & 0xff, 0, 0], off);
  const c = finish(sum(b, off, off + len, pseudoHeaderSum(src, dst, 17, len))) || 0xffff;
  b[off + 6] = c >>> 8;
  b[off + 7] = c & 0xff;
}
