/**
 * Writes test frames into a capture file for tshark without our own pcap writer, so codec tests do
 * not depend on the code under test in pcap/ (the counterpart of frames.ts's reader): classic
 * little-endian microsecond pcap, snaplen 262144, LINKTYPE_ETHERNET, frame i at 1700000000 + i s.
 */
import { writeFileSync } from 'node:fs';

export function writeClassicPcap(path: string, frames: readonly Uint8Array[]): void {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const parts: Uint8Array[] = [head];
  frames.forEach((f, i) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + i, 0);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, f);
  });
  writeFileSync(path, Buffer.concat(parts));
}
