/**
 * CapturePrefix: the frames of a run's capture read only as far as asked, equal to reading the
 * whole file, across the prefix boundaries (a pcap of several MiB), and the whole file's errors
 * once the frame asked for is past a damaged end.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CapturePrefix } from '../../src/explain/capture-prefix.js';
import { CaptureFormatError, FileSink, PcapWriter, readCaptureFile } from '../../src/pcap/index.js';
import { udpFrame } from '../helpers/build.js';
import { captureProblems } from '../helpers/tshark.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-capture-prefix-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 30 000 UDP frames of 100 to 400 bytes (about 8 MiB): several prefixes of 1 MiB ×4. */
function bigPcap(): string {
  const path = join(dir, 'big.pcap');
  const w = new PcapWriter(new FileSink(path));
  for (let i = 0; i < 30_000; i++) {
    const payload = new Uint8Array(58 + (i * 37) % 300).fill(i & 0xff);
    w.writePacket(1_000_000_000 + i * 1000, udpFrame({ src: '10.244.1.2', dst: '10.244.2.2', srcPort: 40000 + (i % 1000), dstPort: 9000, payload }));
  }
  w.close();
  return path;
}

describe('CapturePrefix', () => {
  const path = bigPcap();
  const all = readCaptureFile(path).packets.map((p) => Buffer.from(p.data));

  it('writes a capture tshark reads without a problem', () => {
    expect(captureProblems(path)).toEqual([]);
  });

  it('gives the same frames as reading the whole file, in any order, and nothing past the end', () => {
    const c = new CapturePrefix(path);
    for (const n of [1, 2, 3000, 2999, 12_345, 30_000, 7, 29_999]) expect(Buffer.from(c.frame(n)!).equals(all[n - 1]!), `frame ${n}`).toBe(true);
    expect(c.frame(30_001)).toBeUndefined();
  });

  it('answers an early frame without reading the whole file', () => {
    const c = new CapturePrefix(path);
    expect(Buffer.from(c.frame(10)!).equals(all[9]!)).toBe(true);
    // The first read is 1 MiB: it holds far fewer than all 30 000 frames.
    expect((c as unknown as { frames: unknown[] }).frames.length).toBeLessThan(10_000);
  });

  it('reports a damaged end as reading the whole file does, naming the file', () => {
    const cut = join(dir, 'cut.pcap');
    const bytes = readFileSync(path);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 5));
    const c = new CapturePrefix(cut);
    expect(Buffer.from(c.frame(5)!).equals(all[4]!)).toBe(true);
    expect(() => c.frame(30_000)).toThrow(CaptureFormatError);
    expect(() => new CapturePrefix(cut).frame(30_000)).toThrow(cut);
  });
});
