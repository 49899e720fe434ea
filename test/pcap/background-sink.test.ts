import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { BackgroundFileSink, FileSink, PcapWriter } from '../../src/pcap/index.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dir.js';

afterAll(removeTempDirs);

describe('BackgroundFileSink: file writes on a second thread', () => {
  it('writes the same bytes as FileSink for any sequence of writes and reservations, across many buffers', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 300_000 }), fc.boolean(), fc.integer({ min: 0, max: 255 })), { maxLength: 20 }), (ops) => {
        const dir = tempDir('bgsink');
        const a = new BackgroundFileSink(join(dir, 'a'));
        const b = new FileSink(join(dir, 'b'));
        for (const [len, viaReserve, fill] of ops) {
          const chunk = Buffer.alloc(len, fill);
          if (viaReserve && len <= 1024) {
            for (const s of [a, b]) {
              const at = s.reserve(len);
              s.buffer.fill(fill, at, at + len);
            }
          } else {
            a.write(chunk, 0, len);
            b.write(chunk, 0, len);
          }
        }
        a.close();
        b.close();
        expect(readFileSync(join(dir, 'a')).equals(readFileSync(join(dir, 'b')))).toBe(true);
        expect(a.bytesWritten).toBe(b.bytesWritten);
      }),
      { numRuns: 25 },
    );
  });

  it('keeps many files apart and in order when their buffers interleave', () => {
    const dir = tempDir('bgsink');
    const sinks = Array.from({ length: 12 }, (_, i) => new BackgroundFileSink(join(dir, `f${i}`)));
    const expected = sinks.map(() => [] as Buffer[]);
    for (let round = 0; round < 400; round++) {
      sinks.forEach((s, i) => {
        const chunk = Buffer.alloc(1000 + ((round * 7 + i) % 500), (round + i) & 0xff);
        s.write(chunk, 0, chunk.length);
        expected[i]!.push(chunk);
      });
    }
    sinks.forEach((s) => s.close());
    sinks.forEach((_, i) => expect(readFileSync(join(dir, `f${i}`)).equals(Buffer.concat(expected[i]!))).toBe(true));
  });

  it('carries a pcap writer like any BufferedSink', () => {
    const dir = tempDir('bgsink');
    const w = new PcapWriter(new BackgroundFileSink(join(dir, 'x.pcap')));
    w.writePacket(1_000_000_002, Buffer.alloc(60, 1));
    w.close();
    expect(readFileSync(join(dir, 'x.pcap')).length).toBe(24 + 16 + 60);
  });

  it('reports a failed write as an error naming the file, at close at the latest', () => {
    const s = new BackgroundFileSink('/dev/full');
    const chunk = Buffer.alloc(100_000, 1);
    expect(() => {
      for (let i = 0; i < 10; i++) s.write(chunk, 0, chunk.length);
      s.close();
    }).toThrow('/dev/full: write failed: ENOSPC');
    // Other sinks are not affected by one file's failure.
    const dir = tempDir('bgsink');
    const ok = new BackgroundFileSink(join(dir, 'ok'));
    ok.write(chunk, 0, chunk.length);
    ok.close();
    expect(readFileSync(join(dir, 'ok')).length).toBe(100_000);
  });
});
