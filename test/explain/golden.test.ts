// checkGolden on folders a test writes itself: what the scenario runs of golden-api.test.ts
// never produce (another pcap header, a snaplen cut, an unreadable file, a shorter output).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkGolden, comparedFiles, summaryLine } from '../../src/explain/golden.js';
import { MemorySink, PcapWriter, type PcapWriterOptions } from '../../src/pcap/index.js';
import { icmpFrame } from '../helpers/build.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dir.js';

afterAll(removeTempDirs);

const frame = icmpFrame({ src: '10.244.1.2', dst: '10.244.1.3', icmp: { type: 8, code: 0, rest: 0x00010001 }, data: new Uint8Array(56) });

function pcap(frames: readonly { frame: Uint8Array; len?: number; ns?: number }[], opts: PcapWriterOptions = {}): Buffer {
  const sink = new MemorySink(1024);
  const w = new PcapWriter(sink, opts);
  for (const f of frames) w.writePacketAt(1_767_225_601, f.ns ?? 0, f.frame, 0, f.len ?? f.frame.length, f.frame.length);
  w.close();
  return Buffer.from(sink.bytes());
}

/** A folder with golden.json and the files given (relative path → contents). */
function folder(files: Record<string, string | Buffer>, golden = true): string {
  const dir = tempDir('golden');
  if (golden) writeFileSync(join(dir, 'golden.json'), JSON.stringify({ podwire: '0.1.0', scenario: 's.yaml', seed: 1 }));
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), data);
  }
  return dir;
}

const lines = (golden: Record<string, string | Buffer>, now: Record<string, string | Buffer>) =>
  checkGolden(folder(now, false), folder(golden)).differences.map((d) => d.message);

describe('checkGolden', () => {
  it('compares only captures/**/*.pcap, outputs/ and interfaces.json', () => {
    const dir = folder({ 'captures/n1/eth0.pcap': '', 'captures/n1/x.pcapng': '', 'all.pcapng': '', 'outputs/01-pa.txt': '', 'outputs/hosts/ext.log': '', 'interfaces.json': '', 'trace.jsonl': '', 'run.json': '' });
    expect(comparedFiles(dir)).toEqual(['captures/n1/eth0.pcap', 'interfaces.json', 'outputs/01-pa.txt', 'outputs/hosts/ext.log']);
  });

  it('identical folders: ok, and the summary counts files', () => {
    const files = { 'captures/n1/eth0.pcap': pcap([{ frame }]), 'outputs/01-pa.txt': 'a\n' };
    const r = checkGolden(folder(files, false), folder(files));
    expect(r).toEqual({ ok: true, differences: [], files: 2, differingFiles: 0 });
    expect(summaryLine(r)).toBe('golden check: 2 files identical');
  });

  it('a pcap header field', () => {
    expect(lines({ 'captures/a/eth0.pcap': pcap([{ frame }], { snaplen: 96 }) }, { 'captures/a/eth0.pcap': pcap([{ frame }]) })).toEqual([
      'captures/a/eth0.pcap: pcap header snaplen: golden 96, now 262144',
      'captures/a/eth0.pcap: packet 1 captured length: golden 96, now 98',
    ]);
  });

  it('a frame cut by a snaplen: the original length', () => {
    const cut = (orig: number) => {
      const sink = new MemorySink(1024);
      const w = new PcapWriter(sink);
      w.writePacketAt(1_767_225_601, 0, frame, 0, 60, orig);
      w.close();
      return Buffer.from(sink.bytes());
    };
    expect(lines({ 'captures/a/eth0.pcap': cut(98) }, { 'captures/a/eth0.pcap': cut(102) })).toEqual([
      'captures/a/eth0.pcap: packet 1 original length: golden 98, now 102',
    ]);
  });

  it('a later packet time is reported only before the first byte difference', () => {
    const other = Buffer.from(frame);
    other[22] = 63;
    const g = pcap([{ frame, ns: 0 }, { frame, ns: 250_000 }, { frame, ns: 500_000 }]);
    expect(lines({ 'captures/a/eth0.pcap': g }, { 'captures/a/eth0.pcap': pcap([{ frame, ns: 0 }, { frame, ns: 300_000 }, { frame: other, ns: 500_000 }]) })).toEqual([
      'captures/a/eth0.pcap: packet 3, IPv4 Time to live: golden 64, now 63',
      'captures/a/eth0.pcap: packet 2 time: golden 1.000250000, now 1.000300000',
    ]);
    expect(lines({ 'captures/a/eth0.pcap': g }, { 'captures/a/eth0.pcap': pcap([{ frame, ns: 0 }, { frame: other, ns: 250_000 }, { frame, ns: 600_000 }]) })).toEqual([
      'captures/a/eth0.pcap: packet 2, IPv4 Time to live: golden 64, now 63',
    ]);
  });

  it('a file that is not a pcap', () => {
    expect(lines({ 'captures/a/eth0.pcap': Buffer.from('nonsense') }, { 'captures/a/eth0.pcap': pcap([{ frame }]) })).toEqual([
      expect.stringMatching(/^captures\/a\/eth0.pcap: golden is not a readable pcap: /),
    ]);
  });

  it('text: the first line that differs, or where one side ends', () => {
    expect(lines({ 'outputs/01-pa.txt': 'a\nb\n' }, { 'outputs/01-pa.txt': 'a\nb\nc\n' })).toEqual(['outputs/01-pa.txt: line 3: golden "", now "c"']);
    expect(lines({ 'outputs/01-pa.txt': 'a\nb' }, { 'outputs/01-pa.txt': 'a\nb\n' })).toEqual(['outputs/01-pa.txt: line 3: golden end of file, now ""']);
    expect(lines({ 'outputs/01-pa.txt': `${'x'.repeat(200)}\n` }, { 'outputs/01-pa.txt': 'y\n' })).toEqual([`outputs/01-pa.txt: line 1: golden "${'x'.repeat(120)}…", now "y"`]);
  });

  it('refuses a folder without golden.json', () => {
    expect(() => checkGolden(folder({}, false), folder({}, false))).toThrow(/not a golden folder \(no golden.json\)/);
  });
});
