import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSink, PcapngWriter } from '../../src/pcap/index.js';
import { decodeFrame } from '../../src/packet/frame.js';
import { packetZoo } from '../helpers/packet-zoo.js';
import { captureProblems, tsharkVerbose } from '../helpers/tshark.js';

const GOLDEN = new URL('../../fixtures/golden/packet-zoo.txt', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'podwire-zoo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeZoo(): string {
  const path = join(dir, 'packet-zoo.pcapng');
  const w = new PcapngWriter(new FileSink(path), { application: 'podwire tests' });
  const ifId = w.addInterface({ name: 'zoo0', description: 'every header podwire builds' });
  packetZoo().forEach((f, i) => w.writePacket(ifId, 1_700_000_000_000_000_000 / 1e3 + i * 1_000_000, f.bytes, 0, f.bytes.length, f.bytes.length, f.name));
  w.close();
  return path;
}

describe('packet zoo', () => {
  const path = writeZoo();

  it('passes the capture check: nothing malformed, every checksum right, no warnings', () => {
    expect(captureProblems(path)).toEqual([]);
  });

  it('decodes with podwire too, every byte accounted for', () => {
    for (const f of packetZoo()) {
      const layers = decodeFrame(f.bytes);
      expect(layers.find((l) => l.kind === 'malformed'), f.name).toBeUndefined();
    }
  });

  it("matches tshark's golden dissection (npm run golden:update regenerates it)", () => {
    const text = tsharkVerbose(path);
    if (process.env['GOLDEN_UPDATE']) writeFileSync(GOLDEN, text);
    expect(text).toBe(readFileSync(GOLDEN, 'utf8'));
  });
});
