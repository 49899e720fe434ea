import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FileSink,
  MemorySink,
  PcapngWriter,
  readPcap,
  readPcapng,
  type PcapngFile,
  type PcapngWriterOptions,
} from '../../src/pcap/index.js';
import { hex, KERNEL_DIR } from '../helpers/frames.js';
import { sentinelSink } from '../helpers/pcap-checks.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dir.js';
import { capinfos, captureProblems, tsharkFields } from '../helpers/tshark.js';

afterAll(removeTempDirs);

// SHB: type, length 44, byte-order magic, version 1.0, section length -1, shb_userappl "podwire", end.
const SHB = hex('0a0d0d0a 2c000000 4d3c2b1a 0100 0000 ffffffff ffffffff  0400 0700 706f6477697265 00  00000000  2c000000');
// IDB: linktype 1, snaplen 262144, if_name "eth0", if_description "node n1", if_tsresol 9, end.
const IDB_ETH0 = hex(
  '01000000 34000000 0100 0000 00000400  0200 0400 65746830  0300 0700 6e6f6465206e31 00  0900 0100 09 000000  00000000  34000000',
);

describe('PcapngWriter', () => {
  it('writes the Section Header Block with shb_userappl "podwire"', () => {
    const s = sentinelSink();
    new PcapngWriter(s).close();
    expect(s.bytes()).toEqual(SHB);
  });

  it('writes section comment, hardware and os options when given', () => {
    const s = sentinelSink();
    new PcapngWriter(s, { application: 'x', comment: 'run 1', hardware: 'hw', os: 'Linux' }).close();
    expect(s.bytes()).toEqual(
      hex(`0a0d0d0a 48000000 4d3c2b1a 0100 0000 ffffffff ffffffff
           0100 0500 72756e2031 000000  0200 0200 6877 0000  0300 0500 4c696e7578 000000  0400 0100 78 000000
           00000000 48000000`),
    );
  });

  it('writes an Interface Description Block with if_name, if_description and if_tsresol 9', () => {
    const s = sentinelSink();
    const w = new PcapngWriter(s);
    expect(w.addInterface({ name: 'eth0', description: 'node n1' })).toBe(0);
    expect(w.addInterface({ name: 'eth1', tsresolNs: false, snaplen: 0, linktype: 113 })).toBe(1);
    w.close();
    expect(s.bytes().subarray(SHB.length)).toEqual(
      Buffer.concat([IDB_ETH0, hex('01000000 20000000 7100 0000 00000000  0200 0400 65746831  00000000  20000000')]),
    );
  });

  it('writes Enhanced Packet Blocks: nanosecond timestamp halves, lengths, padded data, comment option', () => {
    const s = sentinelSink();
    const w = new PcapngWriter(s);
    const eth0 = w.addInterface({ name: 'eth0', description: 'node n1' });
    w.writePacket(eth0, 1_500_000_123, Buffer.from([0xde, 0xad, 0xbe]));
    w.writePacket(eth0, 1_500_000_123, Buffer.from([0xde, 0xad, 0xbe]), 0, 3, 3, 'hi!');
    w.writePacketAt(eth0, 1_795_394_435, 834_686_123, Buffer.from([1, 2, 3, 4]), 0, 4, 60);
    w.close();
    expect(s.bytes().subarray(SHB.length + IDB_ETH0.length)).toEqual(
      hex(`06000000 24000000 00000000 00000000 7b2f6859 03000000 03000000 deadbe00 24000000
           06000000 30000000 00000000 00000000 7b2f6859 03000000 03000000 deadbe00 0100 0300 686921 00 00000000 30000000
           06000000 24000000 00000000 ba85ea18 abaaa31b 04000000 3c000000 01020304 24000000`),
    );
    expect(w.packetsWritten).toBe(3);
  });

  it('stores microseconds for an interface without if_tsresol, truncating the nanoseconds', () => {
    const s = new MemorySink();
    const w = new PcapngWriter(s);
    const us = w.addInterface({ name: 'eth1', tsresolNs: false });
    w.writePacketAt(us, 1_795_394_435, 834_686_999, Buffer.alloc(4));
    w.writePacket(us, 1_999_999, Buffer.alloc(4));
    w.close();
    const blocks = s.bytes().subarray(SHB.length + 32);
    expect(blocks.subarray(12, 20)).toEqual(hex('e6600600 3e6394d7'));
    expect(blocks.subarray(36 + 12, 36 + 20)).toEqual(hex('00000000 cf070000')); // 1999 µs
  });

  it('cuts frames to the interface snaplen (0 meaning none) and pads with zeros', () => {
    const s = sentinelSink();
    const w = new PcapngWriter(s);
    const small = w.addInterface({ name: 'a', snaplen: 2, tsresolNs: false });
    const all = w.addInterface({ name: 'b', snaplen: 0, tsresolNs: false });
    w.writePacket(small, 0, Buffer.from([1, 2, 3, 4, 5]));
    w.writePacket(all, 0, Buffer.from([9, 1, 2, 3, 4, 5, 9]), 1, 5);
    w.close();
    const p = readPcapng(s.bytes()).packets;
    expect(p.map((x) => [x.capturedLen, x.originalLen, [...x.data]])).toEqual([
      [2, 5, [1, 2]],
      [5, 5, [1, 2, 3, 4, 5]],
    ]);
    const first = s.bytes().subarray(p[0]!.offset, p[0]!.offset + 36);
    expect(first.subarray(28, 32)).toEqual(hex('0102 0000'));
  });

  it('writes a block bigger than the sink buffer in parts, with the same bytes', () => {
    const path = join(tempDir(), 'big.pcapng');
    const file = new PcapngWriter(new FileSink(path, { bufferBytes: 64 }));
    const mem = new MemorySink(1 << 20);
    const memWriter = new PcapngWriter(mem);
    const frame = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
    for (const w of [file, memWriter]) {
      const id = w.addInterface({ name: 'a much longer interface name than sixty-four bytes of buffer allow', description: 'x' });
      for (const [off, len] of [[0, 300], [5, 17], [1, 18], [0, 30], [10, 200]] as const) {
        w.writePacket(id, off * 1000, frame, off, len, len, off === 5 ? 'a comment on a block that fits' : undefined);
      }
      w.writePacket(id, 1, frame, 0, 3, 3, 'c'.repeat(100));
      w.close();
    }
    expect(readFileSync(path)).toEqual(mem.bytes());
    expect(readPcapng(mem.bytes()).packets.map((p) => [p.capturedLen, p.comments.length])).toEqual([
      [300, 0], [17, 1], [18, 0], [30, 0], [200, 0], [3, 1],
    ]);
  });

  it('rejects bad arguments with RangeError before writing anything', () => {
    const s = new MemorySink();
    const w = new PcapngWriter(s);
    const id = w.addInterface({ name: 'eth0' });
    const before = s.bytesWritten;
    const frame = Buffer.alloc(8);
    const bad: (() => unknown)[] = [
      () => w.writePacket(1, 0, frame),
      () => w.writePacket(-1, 0, frame),
      () => w.writePacket(id, -5, frame),
      () => w.writePacket(id, 2 ** 53, frame),
      () => w.writePacket(id, 0, frame, 4, 5),
      () => w.writePacket(id, 0, frame, 0, 8, 7),
      () => w.writePacket(id, 0, frame, 0, 8, 8, 'x'.repeat(65536)),
      () => w.writePacketAt(id, -1, 0, frame),
      () => w.writePacketAt(id, 0, 1e9, frame),
      () => w.addInterface({ name: 'x', linktype: 70000 }),
      () => w.addInterface({ name: 'x', snaplen: -1 }),
      () => w.addInterface({ name: 'é'.repeat(40000) }),
    ];
    for (const call of bad) expect(call).toThrow(RangeError);
    expect(s.bytesWritten).toBe(before);
    w.close();
    expect(() => w.writePacket(id, 0, frame)).toThrow('PcapngWriter: write after close');
    expect(() => w.addInterface({ name: 'y' })).toThrow('PcapngWriter: write after close');
  });

  it('merges three interfaces of a kernel capture, adding one after packets, with names, comments and ns times tshark shows', () => {
    const dir = tempDir();
    const path = join(dir, 'merged.pcapng');
    const sources = [
      { file: 'kr-pa-eth0.pcap', name: 'eth0', description: 'pod pa' },
      { file: 'kr-n1-cni0.pcap', name: 'cni0', description: 'node n1' },
      { file: 'kr-pb-eth0.pcap', name: 'eth0', description: 'pod pb' },
    ];
    const all = sources.flatMap((src, source) =>
      readPcap(readFileSync(join(KERNEL_DIR, 'same-node-ping', src.file))).packets.map((p) => ({ source, p })),
    );
    all.sort((a, b) => a.p.timestampSec - b.p.timestampSec || a.p.timestampNsec - b.p.timestampNsec);
    expect(all.length).toBe(19);

    const w = new PcapngWriter(new FileSink(path), { comment: 'same-node ping' });
    const ids = new Map<number, number>();
    const expected: string[] = [];
    const comments = new Map([[0, 'ARP: who-has 10.244.1.3'], [4, 'DNAT 10.96.0.1:443 → 10.244.1.3:443'], [18, 'last']]);
    all.forEach(({ source, p }, i) => {
      let id = ids.get(source);
      if (id === undefined) {
        id = w.addInterface({ name: sources[source]!.name, description: sources[source]!.description });
        ids.set(source, id);
      }
      const nsec = p.timestampNsec + i + 1; // µs reference times, plus nanoseconds to see
      w.writePacketAt(id, p.timestampSec, nsec, p.data, 0, p.capturedLen, p.originalLen, comments.get(i));
      expected.push(
        [sources[source]!.name, sources[source]!.description, comments.get(i) ?? '', `${p.timestampSec}.${String(nsec).padStart(9, '0')}`].join('\t'),
      );
    });
    w.close();
    // The third interface is described after packets of the first two.
    const file = readPcapng(readFileSync(path));
    expect(file.interfaces.map((i) => i.name)).toEqual(['eth0', 'cni0', 'eth0']);
    expect(file.interfaces[2]!.offset).toBeGreaterThan(file.packets[0]!.offset);

    expect(captureProblems(path)).toEqual([]);
    const rows = tsharkFields(path, ['frame.interface_name', 'frame.interface_description', 'frame.comment', 'frame.time_epoch'])
      .trim()
      .split('\n')
      .slice(1);
    expect(rows).toEqual(expected);
    const info = capinfos(path);
    expect(info).toMatch(/Capture application:\s+podwire/);
    expect(info).toMatch(/Capture comment:\s+same-node ping/);
    expect(info).toMatch(/Number of interfaces in file: 3/);
    expect(info.match(/Time precision = nanoseconds \(9\)/g)?.length).toBe(3);
  });

  it('round-trips: write → read gives everything back, and read → write gives the same bytes', () => {
    const arbOp = fc.oneof(
      fc.record({
        kind: fc.constant('if' as const),
        name: fc.string({ maxLength: 12 }),
        description: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        linktype: fc.integer({ min: 0, max: 0xffff }),
        snaplen: fc.nat({ max: 100 }),
        tsresolNs: fc.boolean(),
      }),
      fc.record({
        kind: fc.constant('pkt' as const),
        which: fc.nat(),
        sec: fc.nat({ max: 0xffff_ffff }),
        nsec: fc.nat({ max: 999_999_999 }),
        frame: fc.uint8Array({ maxLength: 40 }),
        extra: fc.nat({ max: 100 }),
        comment: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
      }),
    );
    const arbSection = fc.record(
      { application: fc.string({ maxLength: 10 }), comment: fc.string({ maxLength: 10 }), hardware: fc.string(), os: fc.string() },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(arbSection, fc.array(arbOp, { maxLength: 12 }), (section: PcapngWriterOptions, ops) => {
        const s = new MemorySink(64);
        const w = new PcapngWriter(s, section);
        const ifs: { snaplen: number; ns: boolean }[] = [];
        const want: { ifId: number; sec: number; nsec: number; frame: Uint8Array; orig: number; comment: string | undefined }[] = [];
        for (const op of ops) {
          if (op.kind === 'if') {
            w.addInterface(op);
            ifs.push({ snaplen: op.snaplen, ns: op.tsresolNs });
          } else if (ifs.length > 0) {
            const ifId = op.which % ifs.length;
            w.writePacketAt(ifId, op.sec, op.nsec, op.frame, 0, op.frame.length, op.frame.length + op.extra, op.comment);
            want.push({ ifId, sec: op.sec, nsec: op.nsec, frame: op.frame, orig: op.frame.length + op.extra, comment: op.comment });
          }
        }
        w.close();
        const file = readPcapng(s.bytes());
        expect(file.sections.length).toBe(1);
        expect(file.sections[0]!.options.userAppl).toBe(section.application ?? 'podwire');
        expect(file.interfaces.length).toBe(ifs.length);
        expect(file.packets.length).toBe(want.length);
        file.packets.forEach((p, i) => {
          const x = want[i]!;
          const iface = ifs[x.ifId]!;
          const incl = iface.snaplen === 0 ? x.frame.length : Math.min(iface.snaplen, x.frame.length);
          expect(p.interfaceId).toBe(x.ifId);
          expect([p.timestampSec, p.timestampNsec]).toEqual([x.sec, iface.ns ? x.nsec : x.nsec - (x.nsec % 1000)]);
          expect(Buffer.from(p.data)).toEqual(Buffer.from(x.frame.subarray(0, incl)));
          expect(p.originalLen).toBe(x.orig);
          expect(p.comments).toEqual(x.comment === undefined ? [] : [x.comment]);
        });
        expect(rewrite(file)).toEqual(s.bytes());
      }),
    );
  });
});

/** Writes a parsed single-section file again, blocks in their original order. */
function rewrite(file: PcapngFile): Buffer {
  const s = new MemorySink(64);
  const o = file.sections[0]!.options;
  const w = new PcapngWriter(s, {
    application: o.userAppl,
    comment: o.comments[0],
    hardware: o.hardware,
    os: o.os,
  });
  const events = [
    ...file.interfaces.map((i) => ({ offset: i.offset, run: () => void w.addInterface({ ...i, name: i.name ?? '', tsresolNs: i.tsresol === 9 }) })),
    ...file.packets.map((p) => ({
      offset: p.offset,
      run: () => w.writePacketAt(p.interfaceId, p.timestampSec, p.timestampNsec, p.data, 0, p.capturedLen, p.originalLen, p.comments[0]),
    })),
  ].sort((a, b) => a.offset - b.offset);
  for (const e of events) e.run();
  w.close();
  return Buffer.from(s.bytes());
}
