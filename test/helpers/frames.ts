/**
 * Reads the kernel reference captures in fixtures/kernel without our own pcap reader, so codec
 * tests do not depend on the code under test in pcap/: classic little-endian microsecond pcap, as
 * tcpdump wrote them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const KERNEL_DIR = new URL('../../fixtures/kernel/', import.meta.url).pathname;

export interface ReferenceFrame {
  readonly file: string;
  readonly index: number;
  readonly bytes: Buffer;
}

export function readClassicPcapFrames(path: string): Buffer[] {
  const data = readFileSync(path);
  if (data.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${path}: not a little-endian microsecond pcap`);
  const frames: Buffer[] = [];
  for (let off = 24; off < data.length; ) {
    const incl = data.readUInt32LE(off + 8);
    frames.push(Buffer.from(data.subarray(off + 16, off + 16 + incl)));
    off += 16 + incl;
  }
  return frames;
}

let cached: readonly ReferenceFrame[] | undefined;

/** Every frame of every kernel reference capture, in file order (read once per test process). */
export function kernelReferenceFrames(): readonly ReferenceFrame[] {
  if (cached) return cached;
  const all: ReferenceFrame[] = [];
  for (const scenario of readdirSync(KERNEL_DIR, { withFileTypes: true })) {
    if (!scenario.isDirectory()) continue;
    for (const name of readdirSync(join(KERNEL_DIR, scenario.name)).sort()) {
      if (!name.endsWith('.pcap')) continue;
      const file = `${scenario.name}/${name}`;
      readClassicPcapFrames(join(KERNEL_DIR, file)).forEach((bytes, index) => all.push({ file, index, bytes }));
    }
  }
  cached = all;
  return all;
}

/** A buffer filled with a sentinel, so a test sees every byte an emit did or did not write. */
export function sentinel(len: number, fill = 0xa5): Buffer {
  return Buffer.alloc(len, fill);
}

export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/[^0-9a-fA-F]/g, ''), 'hex');
}
