import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureFormatError, MemorySink, PcapWriter, pcapPackets, readPcap, readPcapHeader } from '../../src/pcap/index.js';
import { expectThrowsOnly } from '../helpers/errors.js';
import { hex, KERNEL_DIR, kernelReferenceFrames, readClassicPcapFrames } from '../helpers/frames.js';
import { expectOnlyFormatErrorsWhenAnyByteChanges, formatErrorOf } from '../helpers/pcap-checks.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dir.js';
import { captureProblems, tsharkFields } from '../helpers/tshark.js';
import { pcapHeader, pcapRecord, shb } from './build.js';

afterAll(removeTempDirs);

function kernelPcapPaths(): string[] {
  return readdirSync(KERNEL_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(KERNEL_DIR, d.name))
        .filter((n) => n.endsWith('.pcap'))
        .map((n) => join(KERNEL_DIR, d.name, n)),
    );
}

/** A small valid ns file: three kernel frames. */
function smallFile(): Buffer {
  const s = new MemorySink();
  const w = new PcapWriter(s);
  kernelReferenceFrames()
    .slice(0, 3)
    .forEach((f, i) => w.writePacket(1_000_000_000 * (i + 1) + 7, f.bytes));
  w.close();
  return Buffer.from(s.bytes());
}

describe('readPcap', () => {
  it('reads every kernel reference capture: same frames as the independent reader, tcpdump header fields', () => {
    const paths = kernelPcapPaths();
    expect(paths.length).toBe(136);
    let frames = 0;
    for (const path of paths) {
      const { header, packets } = readPcap(readFileSync(path));
      expect(header).toEqual({
        byteOrder: 'le', resolution: 'us', versionMajor: 2, versionMinor: 4, thiszone: 0, snaplen: 262144, linktype: 1,
      });
      const expected = readClassicPcapFrames(path);
      expect(packets.map((p) => Buffer.from(p.data)), path).toEqual(expected);
      expect(packets.every((p) => p.capturedLen === p.data.length && p.originalLen === p.capturedLen && p.timestampNsec % 1000 === 0)).toBe(true);
      frames += packets.length;
    }
    expect(frames).toBe(849);
  });

  it('gives the timestamps tshark shows for a tcpdump µs file, exactly', () => {
    const path = join(KERNEL_DIR, 'dns', 'kr-pa-eth0.pcap');
    const ours = readPcap(readFileSync(path)).packets.map((p) => `${p.timestampSec}.${String(p.timestampNsec).padStart(9, '0')}`);
    const theirs = tsharkFields(path, ['frame.time_epoch']).trim().split('\n').slice(1);
    expect(ours.length).toBe(31);
    expect(ours).toEqual(theirs);
    const first = readPcap(readFileSync(path)).packets[0]!;
    expect(first.timestampNs).toBe(first.timestampSec * 1e9 + first.timestampNsec); // a double: rounded at this size
  });

  it('yields packets lazily with pcapPackets, and throws at a cut record only after the good ones', () => {
    const file = smallFile();
    const all = readPcap(file).packets;
    expect([...pcapPackets(file)]).toEqual(all);
    const cut = file.subarray(0, file.length - 1);
    const seen: number[] = [];
    const e = formatErrorOf(() => {
      for (const p of pcapPackets(cut)) seen.push(p.index);
    });
    expect(seen).toEqual([0, 1]);
    expect(e.offset).toBe(all[2]!.offset);
    expect(() => pcapPackets(Buffer.from('nope'))).toThrow(CaptureFormatError); // the header is checked at the call
  });

  it('reads big-endian files with µs and ns magics, which tshark reads the same way', () => {
    const frames = kernelReferenceFrames().filter((f) => f.file === 'same-node-ping/kr-pa-eth0.pcap');
    for (const [magic, resolution, frac, text] of [
      [0xa1b2c3d4, 'us', 123_456, '1795394435.123456000'],
      [0xa1b23c4d, 'ns', 123_456_789, '1795394435.123456789'],
    ] as const) {
      const file = Buffer.concat([pcapHeader('be', magic, 65535, 1), ...frames.map((f) => pcapRecord('be', 1_795_394_435, frac, f.bytes))]);
      expect(file.subarray(0, 8)).toEqual(magic === 0xa1b2c3d4 ? hex('a1b2c3d4 0002 0004') : hex('a1b23c4d 0002 0004'));
      const { header, packets } = readPcap(file);
      expect(header).toEqual({ byteOrder: 'be', resolution, versionMajor: 2, versionMinor: 4, thiszone: 0, snaplen: 65535, linktype: 1 });
      expect(packets.map((p) => Buffer.from(p.data))).toEqual(frames.map((f) => f.bytes));
      expect(packets[0]!.timestampSec).toBe(1_795_394_435);
      expect(packets[0]!.timestampNsec).toBe(resolution === 'us' ? frac * 1000 : frac);

      const path = join(tempDir(), `be-${resolution}.pcap`);
      writeFileSync(path, file);
      expect(captureProblems(path)).toEqual([]);
      expect(tsharkFields(path, ['frame.time_epoch']).trim().split('\n')[1]).toBe(text);
    }
  });

  it('carries an out-of-range fraction into the seconds', () => {
    const file = Buffer.concat([pcapHeader('le', 0xa1b2c3d4), pcapRecord('le', 5, 2_500_000, Buffer.alloc(1))]);
    const p = readPcap(file).packets[0]!;
    expect([p.timestampSec, p.timestampNsec, p.timestampNs]).toEqual([7, 500_000_000, 7_500_000_000]);
  });

  it('reads a header with FCS bits in the link-type field as its LINKTYPE_ value', () => {
    expect(readPcapHeader(pcapHeader('le', 0xa1b2c3d4, 1500, 0x1000_0001)).linktype).toBe(1);
  });

  const header = pcapHeader('le', 0xa1b23c4d);
  const rec = pcapRecord('le', 1, 2, Buffer.from([1, 2, 3, 4, 5]));
  const rows: [string, Buffer, string, number][] = [
    ['an empty file', Buffer.alloc(0), 'not a capture file (the file is empty)', 0],
    ['three bytes', hex('d4c3b2'), 'not a capture file (3 bytes, too short for a magic number)', 0],
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\n'), 'not a capture file (unknown magic 0x47455420)', 0],
    ['a gzipped file', hex('1f8b0800 00000000'), 'not a capture file (unknown magic 0x1f8b0800); it looks gzip-compressed, gunzip it first', 0],
    ['a pcapng file', shb('le'), 'not a classic pcap file: it is pcapng (read it with readPcapng or readCapture)', 0],
    ['a cut global header', header.subarray(0, 20), 'file ends inside the global header: needs 24 bytes, 20 left', 0],
    ['version 1.0', pcapHeader('le', 0xa1b2c3d4, 65535, 1, [1, 0]), 'unsupported pcap version 1.0 (only 2.x is defined)', 4],
    ['a cut record header', Buffer.concat([header, rec.subarray(0, 10)]), 'record 1 at byte 24 is cut short: needs 16 bytes, 10 left', 24],
    ['cut record data', Buffer.concat([header, rec, rec.subarray(0, 19)]), 'record 2 at byte 45 is cut short: needs 21 bytes, 19 left', 45],
    [
      'a huge captured length',
      Buffer.concat([header, pcapRecord('le', 0, 0, Buffer.alloc(0), 0).fill(0xff, 8, 12)]),
      'record 1 at byte 24 is cut short: needs 4294967311 bytes, 16 left',
      24,
    ],
  ];
  it.each(rows)('throws CaptureFormatError for %s', (_what, bytes, message, offset) => {
    const e = formatErrorOf(() => readPcap(bytes));
    expect(e.name).toBe('CaptureFormatError');
    expect({ message: e.message, offset: e.offset }).toEqual({ message, offset });
  });

  it('at every cut point of a valid file, gives the whole records before it or the error for the cut one', () => {
    const file = smallFile();
    const records = readPcap(file).packets;
    const ends = new Set(records.map((p) => p.offset + 16 + p.capturedLen));
    for (let n = 0; n < file.length; n++) {
      const cut = file.subarray(0, n);
      if (n === 24 || ends.has(n)) {
        expect(readPcap(cut).packets.length).toBe(n === 24 ? 0 : records.findIndex((p) => p.offset + 16 + p.capturedLen === n) + 1);
        continue;
      }
      const e = formatErrorOf(() => readPcap(cut));
      const inside = records.find((p) => p.offset < n && n < p.offset + 16 + p.capturedLen);
      expect(e.offset).toBe(inside?.offset ?? 0);
    }
  });

  it('throws nothing but CaptureFormatError on arbitrary bytes, with or without a valid magic in front', () => {
    const check = (bytes: Uint8Array) =>
      expectThrowsOnly(CaptureFormatError, () => {
        for (const p of pcapPackets(bytes)) expect(p.data.length).toBe(p.capturedLen);
      });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), check), { numRuns: 500 });
    const magics = [hex('d4c3b2a1'), hex('a1b2c3d4'), hex('4d3cb2a1'), hex('a1b23c4d')];
    fc.assert(
      fc.property(fc.constantFrom(...magics), fc.uint8Array({ maxLength: 120 }), (m, rest) => check(Buffer.concat([m, rest]))),
      { numRuns: 500 },
    );
  });

  it('throws nothing but CaptureFormatError when any byte of a valid file is changed', () => {
    expectOnlyFormatErrorsWhenAnyByteChanges(smallFile(), readPcap, 300);
  });
});
