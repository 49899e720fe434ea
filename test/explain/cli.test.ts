/**
 * `podwire explain` as a user runs it (the built CLI): the text with its marked hex dump, --layer,
 * --packet, --json, and the one-line errors for what is not a capture or not in it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'podwire-explain-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VXLAN = 'fixtures/kernel/clusterip-http/kr-n1-eth0.pcap';

function podwire(...args: string[]) {
  const r = spawnSync('node', ['dist/src/cli/main.js', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLineError(r: ReturnType<typeof podwire>, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** Byte index → marker letter, read back from the dump's marker lines. */
function markers(text: string): Map<number, string> {
  const lines = text.split('\n');
  const owner = new Map<number, string>();
  lines.forEach((line, i) => {
    const hexLine = /^ {2}([0-9a-f]{4}) {2}/.exec(line);
    if (!hexLine) return;
    const base = parseInt(hexLine[1]!, 16);
    const mark = lines[i + 1]!;
    for (let k = 0; k < 16; k++) {
      const col = 8 + k * 3 + (k >= 8 ? 1 : 0);
      const a = mark[col];
      if (a !== undefined && a !== ' ') {
        expect(mark[col + 1]).toBe(a);
        owner.set(base + k, a);
      }
    }
  });
  return owner;
}

describe('podwire explain', () => {
  it('explains a VXLAN frame: nested headers, named options, checksum verdicts, and a hex dump marking each header\'s exact bytes', () => {
    const r = podwire('explain', VXLAN, '--packet', '3');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^Frame 3: 124 bytes, 2026-11-23T00:40:35\.835368000Z \(t=0\.000092000s\), link type Ethernet \(1\)\n/);
    expect(out).toMatch(/\n {2}\[V\] VXLAN VNI 1 {2}bytes 42–49 \(8\)\n/);
    expect(out).toMatch(/\n {4}\[i\] IPv4 10\.244\.1\.2 → 10\.244\.2\.2 {2}bytes 64–83 \(20\)\n/);
    expect(out).toMatch(/ 42 {4}1 {2}\.\.\.\. 1\.\.\. +I flag +1 = VNI valid\n/);
    expect(out).toMatch(/ 70 {4}1 {2}\.1\.\. \.\.\.\. +Don't fragment +1 = don't fragment\n/);
    expect(out).toMatch(/ 104 {4}4 {2}02040582 +Option 2: MSS +1410 bytes maximum segment size\n/);
    expect(out).toMatch(/Checksum +0x[0-9a-f]{4} \(correct\)/);
    const headers = [...out.matchAll(/\[(.)\] .*? {2}bytes (\d+)–(\d+) \(\d+\)/g)];
    expect(headers.map((h) => h[1])).toEqual(['E', 'I', 'U', 'V', 'e', 'i', 't']);
    const owner = markers(out);
    expect(owner.size).toBe(124);
    for (const [, letter, from, to] of headers) {
      const bytes = [...owner].filter(([, c]) => c === letter).map(([at]) => at);
      expect(bytes, letter).toEqual(Array.from({ length: Number(to) - Number(from) + 1 }, (_, k) => Number(from) + k));
    }
  });

  it('--layer limits the table and the dump to one layer; a range of packets', () => {
    const r = podwire('explain', VXLAN, '--packet', '3-5', '--layer', 'inner-tcp');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^Frame \d+/gm)).toEqual(['Frame 3', 'Frame 4', 'Frame 5']);
    expect(r.stdout.match(/\[.\] \w+/g)).toEqual(['[t] TCP', '[t] TCP', '[t] TCP']);
    expect(r.stdout).not.toMatch(/\[.\] Ethernet/);
    const owner = markers(r.stdout.split('\nFrame 4')[0]!);
    expect([...owner.keys()]).toEqual(Array.from({ length: 40 }, (_, k) => 84 + k));
    expect(podwire('explain', VXLAN, '--packet', '1', '--layer', 'tcp').stdout).toMatch(/\(no tcp layer in this frame\)/);
    expect(podwire('explain', VXLAN, '--packet', '3', '--layer', 'ipv4:2').stdout.match(/\[.\] IPv4 \S+/g)).toEqual(['[i] IPv4 10.244.1.2']);
  });

  it('--json: one document with stable field names', () => {
    const r = podwire('explain', VXLAN, '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { file: string; format: string; packets: Record<string, unknown>[] };
    expect(doc.file).toBe(VXLAN);
    expect(doc.format).toBe('pcap');
    expect(doc.packets).toHaveLength(14);
    const p = doc.packets[2]!;
    expect(Object.keys(p)).toEqual(['number', 'time', 'relativeTime', 'linkType', 'linkTypeName', 'capturedLength', 'originalLength', 'comments', 'problems', 'layers']);
    const layers = p.layers as Record<string, unknown>[];
    expect(layers.map((l) => l.id)).toEqual(['ethernet:1', 'ipv4:1', 'udp:1', 'vxlan:1', 'ethernet:2', 'ipv4:2', 'tcp:1']);
    expect(Object.keys(layers[3]!)).toEqual(['id', 'kind', 'name', 'depth', 'offset', 'length', 'fields', 'problems']);
    const vni = (layers[3]!.fields as Record<string, unknown>[]).find((f) => f.name === 'vni');
    expect(vni).toEqual({ name: 'vni', label: 'VXLAN network identifier', offset: 46, length: 3, bitOffset: 0, bitWidth: 24, raw: '000001', value: 1, meaning: '1' });
  });

  it('one line, exit 2, for a file that is not a capture, a missing file, a --packet past the end, a bad --layer', () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello, not a capture\n');
    oneLineError(podwire('explain', text), new RegExp(`^podwire: ${text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not a capture file \\(unknown magic 0x68656c6c\\)\n$`));
    oneLineError(podwire('explain', join(dir, 'missing.pcap')), /^podwire: .*missing\.pcap: no such file\n$/);
    oneLineError(podwire('explain', VXLAN, '--packet', '15'), /^podwire: --packet 15: .*kr-n1-eth0\.pcap has 14 packets \(1-14\)\n$/);
    oneLineError(podwire('explain', VXLAN, '--packet', '0'), /packets are numbered from 1/);
    oneLineError(podwire('explain', VXLAN, '--layer', 'ipv5'), /^podwire: --layer "ipv5": give \[outer-\|inner-\]KIND\[:N\]/);
  });

  it('a capture cut short in its last record: the packets before it, then one line saying where', () => {
    const bytes = readFileSync(VXLAN);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    const r = podwire('explain', cut);
    expect(r.code).toBe(2);
    expect(r.stdout.match(/^Frame \d+/gm)).toHaveLength(13);
    expect(r.stderr).toMatch(/^podwire: .*cut\.pcap: record 14 at byte \d+ is cut short: needs \d+ bytes, \d+ left \(the 13 packets before it were explained\)\n$/);
  });
});
