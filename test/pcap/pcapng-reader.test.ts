import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureFormatError, MemorySink, PcapngWriter, readPcapng } from '../../src/pcap/index.js';
import { expectThrowsOnly } from '../helpers/errors.js';
import { hex, kernelReferenceFrames } from '../helpers/frames.js';
import { expectOnlyFormatErrorsWhenAnyByteChanges, formatErrorOf } from '../helpers/pcap-checks.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dir.js';
import { captureProblems, tsharkFields } from '../helpers/tshark.js';
import {
  block,
  byteOption,
  ByteBuilder,
  epb,
  idb,
  packetBlock,
  pcapHeader,
  shb,
  spb,
  textOption,
  type RawOption,
} from './build.js';

afterAll(removeTempDirs);

const tsoffset = (order: 'le' | 'be', sec: number): RawOption => ({
  code: 14,
  value: order === 'be' ? new ByteBuilder('be').u32(0).u32(sec).build() : new ByteBuilder('le').u32(sec).u32(0).build(),
});

/** A small valid file from our writer: two interfaces, comments, an IDB after a packet. */
function smallFile(): Buffer {
  const s = new MemorySink();
  const w = new PcapngWriter(s, { comment: 'c' });
  const frames = kernelReferenceFrames().slice(0, 3);
  const a = w.addInterface({ name: 'a', description: 'first' });
  w.writePacket(a, 1_000, frames[0]!.bytes, 0, frames[0]!.bytes.length, frames[0]!.bytes.length, 'x');
  const b = w.addInterface({ name: 'b', tsresolNs: false });
  w.writePacket(b, 2_000_000, frames[1]!.bytes);
  w.writePacket(a, 3_000, frames[2]!.bytes, 0, 30, 100);
  w.close();
  return Buffer.from(s.bytes());
}

describe('readPcapng', () => {
  it('reads a big-endian section and a little-endian one: options, tsresol forms, tsoffset, EPB, SPB, obsolete PB, skipped blocks', () => {
    const data = (n: number, fill: number) => Buffer.alloc(n, fill);
    const file = Buffer.concat([
      shb('be', [textOption(1, 'be section'), textOption(2, 'hw'), textOption(3, 'os'), textOption(4, 'app')]),
      idb('be', 1, 0, [textOption(2, 'eth0'), textOption(3, 'first'), byteOption(9, 0x8a), tsoffset('be', 100)]),
      idb('be', 113, 4, [textOption(2, 'eth1'), byteOption(9, 3), textOption(1, 'if comment')]),
      block('be', 4, hex('0001 0008 0a000001 6e310000 0000 0000')), // name resolution: skipped
      block('be', 0x0bad, hex('00007ed9 01020304')), // custom block: skipped
      epb('be', 0, 0, 1024 * 5 + 512, data(5, 1), 60, [textOption(1, 'a'), textOption(1, 'b'), { code: 2, value: hex('00000001') }]),
      spb('be', 10, data(10, 2)),
      packetBlock('be', 1, 0, 1234, data(3, 3)),
      shb('le', [textOption(4, 'second')]),
      idb('le', 1, 6, [textOption(2, 'lo'), tsoffset('le', 7)]),
      epb('le', 0, 0x000660e6, 0xd794633e, data(4, 4)),
      spb('le', 10, data(6, 5)),
    ]);
    const r = readPcapng(file);
    expect(r.sections).toEqual([
      { offset: 0, byteOrder: 'be', versionMajor: 1, versionMinor: 0, options: { comments: ['be section'], hardware: 'hw', os: 'os', userAppl: 'app' } },
      { offset: r.sections[1]!.offset, byteOrder: 'le', versionMajor: 1, versionMinor: 0, options: { comments: [], userAppl: 'second' } },
    ]);
    expect(r.interfaces.map(({ offset: _o, ...i }) => i)).toEqual([
      { section: 0, id: 0, linktype: 1, snaplen: 0, name: 'eth0', description: 'first', comments: [], tsresol: 0x8a, unitsPerSecond: 1024, tsoffsetSec: 100 },
      { section: 0, id: 1, linktype: 113, snaplen: 4, name: 'eth1', comments: ['if comment'], tsresol: 3, unitsPerSecond: 1000, tsoffsetSec: 0 },
      { section: 1, id: 0, linktype: 1, snaplen: 6, name: 'lo', comments: [], tsresol: 6, unitsPerSecond: 1e6, tsoffsetSec: 7 },
    ]);
    const summary = r.packets.map((p) => ({
      block: p.block, section: p.section, interfaceId: p.interfaceId, hasTimestamp: p.hasTimestamp,
      sec: p.timestampSec, nsec: p.timestampNsec, captured: p.capturedLen, original: p.originalLen,
      data: [...p.data], comments: p.comments, flags: p.flags,
    }));
    expect(summary).toEqual([
      { block: 'enhanced', section: 0, interfaceId: 0, hasTimestamp: true, sec: 105, nsec: 500_000_000, captured: 5, original: 60, data: [1, 1, 1, 1, 1], comments: ['a', 'b'], flags: 1 },
      { block: 'simple', section: 0, interfaceId: 0, hasTimestamp: false, sec: 0, nsec: 0, captured: 10, original: 10, data: Array(10).fill(2), comments: [], flags: undefined },
      { block: 'packet', section: 0, interfaceId: 1, hasTimestamp: true, sec: 1, nsec: 234_000_000, captured: 3, original: 3, data: [3, 3, 3], comments: [], flags: undefined },
      { block: 'enhanced', section: 1, interfaceId: 0, hasTimestamp: true, sec: 1_795_394_442, nsec: 834_686_000, captured: 4, original: 4, data: [4, 4, 4, 4], comments: [], flags: undefined },
      { block: 'simple', section: 1, interfaceId: 0, hasTimestamp: false, sec: 0, nsec: 0, captured: 6, original: 10, data: Array(6).fill(5), comments: [], flags: undefined },
    ]);
    expect(r.packets.map((p) => p.index)).toEqual([0, 1, 2, 3, 4]);
    expect(r.packets[0]!.timestampNs).toBe(105_500_000_000);
  });

  it('converts ns timestamps past 2^53 exactly, and power-of-2 resolutions as tshark does', () => {
    const frame = kernelReferenceFrames().find((f) => f.file === 'same-node-ping/kr-pa-eth0.pcap')!.bytes;
    const file = Buffer.concat([
      shb('be'),
      idb('be', 1, 262144, [textOption(2, 'ns'), byteOption(9, 9)]),
      idb('be', 1, 262144, [textOption(2, 'pow2'), byteOption(9, 0x94)]), // 2^-20 s
      epb('be', 0, 0x18ea85ba, 0x1ba3aaab, frame),
      epb('be', 1, 0, 3 * 2 ** 20 + 2 ** 19 + 1, frame),
    ]);
    const [a, b] = readPcapng(file).packets;
    expect([a!.timestampSec, a!.timestampNsec]).toEqual([1_795_394_435, 834_686_123]);
    expect([b!.timestampSec, b!.timestampNsec]).toEqual([3, 500_000_953]); // 1/2^20 s = 953.67 ns, truncated
    const path = join(tempDir(), 'be.pcapng');
    writeFileSync(path, file);
    expect(captureProblems(path)).toEqual([]);
    expect(tsharkFields(path, ['frame.interface_name', 'frame.time_epoch']).trim().split('\n').slice(1)).toEqual([
      'ns\t1795394435.834686123',
      'pow2\t3.500000953',
    ]);
  });

  it('reads what PcapngWriter writes, with packet offsets in the file', () => {
    const file = smallFile();
    const r = readPcapng(file);
    expect(r.sections[0]!.options).toEqual({ comments: ['c'], userAppl: 'podwire' });
    expect(r.interfaces.map((i) => [i.name, i.description, i.tsresol, i.unitsPerSecond])).toEqual([
      ['a', 'first', 9, 1e9],
      ['b', undefined, 6, 1e6],
    ]);
    expect(r.packets.map((p) => [p.interfaceId, p.timestampNs, p.comments, p.capturedLen, p.originalLen])).toEqual([
      [0, 1_000, ['x'], 42, 42],
      [1, 2_000_000, [], 42, 42],
      [0, 3_000, [], 30, 100],
    ]);
    for (const p of r.packets) expect(file.readUInt32LE(p.offset)).toBe(6);
  });

  const sh = shb('le');
  const frame = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const withBadBom = Buffer.from(sh);
  withBadBom.writeUInt32BE(0x11223344, 8);
  const lenField = (b: Buffer, at: number, v: number) => {
    const c = Buffer.from(b);
    c.writeUInt32LE(v, at);
    return c;
  };
  const idbLe = idb('le', 1, 0, [textOption(2, 'eth0')]);
  const epbLe = epb('le', 0, 0, 0, frame);
  const rows: [string, Buffer, string, number][] = [
    ['an empty file', Buffer.alloc(0), 'not a capture file (the file is empty)', 0],
    ['a file starting with an IDB', idbLe, 'not a capture file (unknown magic 0x01000000)', 0],
    ['a classic pcap file', pcapHeader('le', 0xa1b2c3d4), 'not a pcapng file: it is classic pcap (read it with readPcap or readCapture)', 0],
    ['a big-endian classic pcap file', pcapHeader('be', 0xa1b23c4d), 'not a pcapng file: it is classic pcap (read it with readPcap or readCapture)', 0],
    ['an unknown byte-order magic', withBadBom, 'section header block at byte 0 has an unknown byte-order magic 0x11223344', 0],
    ['a file cut in the first block header', sh.subarray(0, 10), 'block at byte 0 is cut short: needs 12 bytes, 10 left', 0],
    ['a length that is no multiple of 4', lenField(sh, 4, 29), 'block at byte 0 has an invalid length 29 (a multiple of 4, at least 12)', 0],
    ['a length under 12', Buffer.concat([sh, lenField(idbLe, 4, 8)]), 'block at byte 28 has an invalid length 8 (a multiple of 4, at least 12)', 28],
    ['a cut block', Buffer.concat([sh, idbLe.subarray(0, 20)]), 'block at byte 28 is cut short: needs 32 bytes, 20 left', 28],
    ['a wrong trailing length', Buffer.concat([sh, lenField(idbLe, 28, 36)]), 'block at byte 28 has length 32 but a trailing length of 36', 28],
    ['a section header without room for its fields', block('le', 0x0a0d0d0a, hex('4d3c2b1a')), 'section header block at byte 0 has an invalid length 16: its fixed fields need 28', 0],
    ['pcapng version 2.0', shb('le', [], [2, 0]), 'section at byte 0 has unsupported pcapng version 2.0', 0],
    ['a packet before any interface', Buffer.concat([sh, epbLe]), 'enhanced packet block at byte 28 (packet 1) refers to interface 0, but its section has 0 before it', 28],
    [
      'an interface of an earlier section',
      Buffer.concat([sh, idbLe, sh, epbLe]),
      'enhanced packet block at byte 88 (packet 1) refers to interface 0, but its section has 0 before it',
      88,
    ],
    ['a captured length past the block', Buffer.concat([sh, idbLe, lenField(epbLe, 20, 9)]), 'enhanced packet block at byte 60 has captured length 9, more than the 8 bytes it holds', 60],
    ['an enhanced packet block without room for its fields', Buffer.concat([sh, idbLe, block('le', 6, hex('00000000'))]), 'enhanced packet block at byte 60 has an invalid length 16: its fixed fields need 32', 60],
    ['an option running past its block', Buffer.concat([sh, lenField(idbLe, 16, 0x00400002)]), 'option 2 at byte 44 has length 64, which runs past the end of its block at byte 56', 44],
    ['an if_tsresol of 2 bytes', Buffer.concat([sh, idb('le', 1, 0, [{ code: 9, value: hex('0900') }])]), 'option if_tsresol at byte 44 has length 2, expected 1', 44],
    ['an if_tsoffset of 4 bytes', Buffer.concat([sh, idb('le', 1, 0, [{ code: 14, value: hex('00000000') }])]), 'option if_tsoffset at byte 44 has length 4, expected 8', 44],
    ['a simple packet before any interface', Buffer.concat([sh, spb('le', 4, frame.subarray(0, 4))]), 'simple packet block at byte 28 (packet 1) needs interface 0, but its section has none before it', 28],
    ['a simple packet longer than its block', Buffer.concat([sh, idbLe, spb('le', 9, frame)]), 'simple packet block at byte 60 has captured length 9, more than the 8 bytes it holds', 60],
  ];
  it.each(rows)('throws CaptureFormatError for %s', (_what, bytes, message, offset) => {
    const e = formatErrorOf(() => readPcapng(bytes));
    expect({ message: e.message, offset: e.offset }).toEqual({ message, offset });
  });

  it('at every cut point of a valid file, gives the whole blocks before it or the error for the cut one', () => {
    const file = smallFile();
    const starts: number[] = [];
    for (let off = 0; off < file.length; off += file.readUInt32LE(off + 4)) starts.push(off);
    for (let n = 1; n < file.length; n++) {
      const cut = file.subarray(0, n);
      if (starts.includes(n)) {
        expect(readPcapng(cut).packets.length).toBe(starts.filter((s) => s < n && file.readUInt32LE(s) === 6).length);
        continue;
      }
      const e = formatErrorOf(() => readPcapng(cut));
      expect(e.offset).toBe(Math.max(...starts.filter((s) => s < n)));
      expect(e.message).toMatch(n < 4 ? /too short for a magic number/ : /is cut short/);
    }
  });

  it('throws nothing but CaptureFormatError on arbitrary bytes, alone or after a valid section header', () => {
    const check = (bytes: Uint8Array) =>
      expectThrowsOnly(CaptureFormatError, () => {
        for (const p of readPcapng(bytes).packets) expect(p.data.length).toBe(p.capturedLen);
      });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), check), { numRuns: 500 });
    const prefixes = [shb('le'), shb('be'), Buffer.concat([shb('le'), idb('le', 1, 0, [byteOption(9, 0x9f)])])];
    fc.assert(fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 160 }), (p, rest) => check(Buffer.concat([p, rest]))), {
      numRuns: 1000,
    });
    // Blocks with plausible lengths and types, so the walk gets past the block headers.
    const arbBlock = fc
      .record({ type: fc.constantFrom(1, 2, 3, 4, 5, 6, 0x0a0d0d0a, 0x0bad), body: fc.uint8Array({ maxLength: 40 }) })
      .map(({ type, body }) => block('le', type, body));
    fc.assert(fc.property(fc.array(arbBlock, { maxLength: 6 }), (blocks) => check(Buffer.concat([shb('le'), ...blocks]))), { numRuns: 1000 });
  });

  it('throws nothing but CaptureFormatError when any byte of a valid file is changed', () => {
    expectOnlyFormatErrorsWhenAnyByteChanges(smallFile(), readPcapng, 500);
  });
});
