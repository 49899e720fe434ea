import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ChunkedSink,
  FileSink,
  MemorySink,
  PcapWriter,
  readPcap,
  type ByteSink,
  type PcapResolution,
} from '../../src/pcap/index.js';
import { hex, KERNEL_DIR, kernelReferenceFrames } from '../helpers/frames.js';
import { sentinelSink } from '../helpers/pcap-checks.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dir.js';
import { capinfos, captureProblems, tsharkFields } from '../helpers/tshark.js';

afterAll(removeTempDirs);

const NS_HEADER = hex('4d3cb2a1 0200 0400 00000000 00000000 00000400 01000000');

describe('PcapWriter', () => {
  it('writes the nanosecond global header tcpdump --time-stamp-precision=nano writes', () => {
    const s = sentinelSink();
    new PcapWriter(s).close();
    expect(s.bytes()).toEqual(NS_HEADER);
  });

  it('writes a microsecond header with the snaplen and linktype asked for', () => {
    const s = sentinelSink();
    new PcapWriter(s, { resolution: 'us', snaplen: 65535, linktype: 113 }).close();
    expect(s.bytes()).toEqual(hex('d4c3b2a1 0200 0400 00000000 00000000 ffff0000 71000000'));
  });

  it('writes a record: seconds, nanoseconds, captured and original length, then the bytes', () => {
    const s = sentinelSink();
    const w = new PcapWriter(s);
    w.writePacket(1_500_000_123, Buffer.from([0xde, 0xad, 0xbe]));
    w.close();
    expect(s.bytes()).toEqual(Buffer.concat([NS_HEADER, hex('01000000 7b65cd1d 03000000 03000000 deadbe')]));
    expect(w.packetsWritten).toBe(1);
  });

  it('truncates nanoseconds to microseconds in a microsecond file, as libpcap does', () => {
    const s = sentinelSink();
    const w = new PcapWriter(s, { resolution: 'us' });
    w.writePacket(1_500_000_999, Buffer.from([1]));
    w.close();
    expect(s.bytes().subarray(24)).toEqual(hex('01000000 20a10700 01000000 01000000 01'));
  });

  it('takes a part of a buffer, cuts it to the snaplen, and keeps the original length', () => {
    const s = sentinelSink();
    const w = new PcapWriter(s, { snaplen: 4 });
    const buf = Buffer.from([9, 9, 1, 2, 3, 4, 5, 6, 9]);
    w.writePacket(0, buf, 2, 6); // six bytes from offset 2, four of them captured
    w.writePacket(0, buf, 2, 3, 1500); // three bytes of a 1500-byte frame
    w.close();
    expect(s.bytes().subarray(24)).toEqual(
      hex('00000000 00000000 04000000 06000000 01020304  00000000 00000000 03000000 dc050000 010203'),
    );
  });

  it('splits timestamps exactly up to 2^53 ns and writes real dates exactly with writePacketAt', () => {
    const s = new MemorySink();
    const w = new PcapWriter(s);
    w.writePacket(999_999_999, Buffer.alloc(1));
    w.writePacket(Number.MAX_SAFE_INTEGER, Buffer.alloc(1)); // 9007199.254740991 s
    w.writePacket(8_999_999_999_999_999, Buffer.alloc(1));
    w.writePacket(1_999_999_999.5, Buffer.alloc(1)); // a fraction of a nanosecond is dropped
    w.writePacketAt(1_795_394_435, 999_999_999, Buffer.alloc(1));
    w.close();
    expect(readPcap(s.bytes()).packets.map((p) => [p.timestampSec, p.timestampNsec])).toEqual([
      [0, 999_999_999],
      [9_007_199, 254_740_991],
      [8_999_999, 999_999_999],
      [1, 999_999_999],
      [1_795_394_435, 999_999_999],
    ]);
  });

  it('rejects bad arguments with RangeError before writing anything', () => {
    const s = new MemorySink();
    const w = new PcapWriter(s);
    const frame = Buffer.alloc(10);
    const bad: (() => void)[] = [
      () => w.writePacket(-1, frame),
      () => w.writePacket(Number.NaN, frame),
      () => w.writePacket(2 ** 53, frame),
      () => w.writePacket(0, frame, 8, 3),
      () => w.writePacket(0, frame, -1),
      () => w.writePacket(0, frame, 0, 1.5),
      () => w.writePacket(0, frame, 0, 10, 9),
      () => w.writePacketAt(2 ** 32, 0, frame),
      () => w.writePacketAt(0, 1_000_000_000, frame),
    ];
    for (const call of bad) expect(call).toThrow(RangeError);
    expect(s.bytesWritten).toBe(24);
    expect(() => new PcapWriter(s, { snaplen: 0 })).toThrow(RangeError);
    expect(() => new PcapWriter(s, { linktype: 65536 })).toThrow(RangeError);
    expect(() => new PcapWriter(s, { resolution: 'ms' as PcapResolution })).toThrow(RangeError);
  });

  it('refuses to write after close, and close twice is harmless', () => {
    const w = new PcapWriter(new MemorySink());
    w.close();
    w.close();
    expect(() => w.writePacket(0, Buffer.alloc(1))).toThrow('PcapWriter: write after close');
  });

  it('writes the same bytes through any ByteSink (wrapped in a ChunkedSink) as into a MemorySink', () => {
    const chunks: Buffer[] = [];
    let closed = false;
    const plain: ByteSink = {
      write: (c, off, len) => void chunks.push(Buffer.from(c.subarray(off, off + len))),
      close: () => void (closed = true),
    };
    const frames = kernelReferenceFrames().slice(0, 50);
    const a = new PcapWriter(plain);
    const m = new MemorySink(64);
    const b = new PcapWriter(m);
    frames.forEach((f, i) => {
      a.writePacket(i * 1000, f.bytes);
      b.writePacket(i * 1000, f.bytes);
    });
    a.close();
    b.close();
    expect(closed).toBe(true);
    expect(Buffer.concat(chunks)).toEqual(m.bytes());
    expect(new ChunkedSink(plain)).toBeInstanceOf(ChunkedSink);
  });

  it('writes a record bigger than the sink buffer in parts, with the same bytes', () => {
    const path = join(tempDir(), 'big.pcap');
    const file = new PcapWriter(new FileSink(path, { bufferBytes: 64 }));
    const mem = new MemorySink(1 << 20);
    const memWriter = new PcapWriter(mem);
    const frame = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
    for (const [off, len] of [[0, 300], [5, 47], [1, 48], [0, 30], [10, 200]] as const) {
      file.writePacket(off * 1000, frame, off, len);
      memWriter.writePacket(off * 1000, frame, off, len);
    }
    file.close();
    memWriter.close();
    expect(readFileSync(path)).toEqual(mem.bytes());
    expect(readPcap(mem.bytes()).packets.map((p) => p.capturedLen)).toEqual([300, 47, 48, 30, 200]);
  });

  it('rewrites every kernel reference capture byte for byte (tcpdump µs files) from what readPcap gives', () => {
    let files = 0;
    for (const scenario of readdirSync(KERNEL_DIR, { withFileTypes: true })) {
      if (!scenario.isDirectory()) continue;
      for (const name of readdirSync(join(KERNEL_DIR, scenario.name))) {
        if (!name.endsWith('.pcap')) continue;
        const original = readFileSync(join(KERNEL_DIR, scenario.name, name));
        const { header, packets } = readPcap(original);
        const s = new MemorySink();
        const w = new PcapWriter(s, { resolution: header.resolution, snaplen: header.snaplen, linktype: header.linktype });
        for (const p of packets) w.writePacketAt(p.timestampSec, p.timestampNsec, p.data, 0, p.capturedLen, p.originalLen);
        w.close();
        expect(s.bytes(), `${scenario.name}/${name}`).toEqual(original);
        files++;
      }
    }
    expect(files).toBe(136);
  });

  it('writes a file tshark reads cleanly, with the nanosecond timestamps written', () => {
    const dir = tempDir();
    const path = join(dir, 'pa-eth0.pcap');
    const frames = kernelReferenceFrames().filter((f) => f.file === 'clusterip-http/kr-pa-eth0.pcap');
    expect(frames.length).toBe(15);
    const w = new PcapWriter(new FileSink(path, { bufferBytes: 256 })); // small: flushes mid-file
    frames.forEach((f, i) => w.writePacket(5_000_000_000_000_089 + i * 1_234_567, f.bytes));
    w.close();
    expect(captureProblems(path)).toEqual([]);
    const rows = tsharkFields(path, ['frame.number', 'frame.time_epoch', 'frame.len']).trim().split('\n').slice(1);
    expect(rows[0]).toBe(`1\t5000000.000000089\t${frames[0]!.bytes.length}`);
    expect(rows[14]).toBe(`15\t5000000.017284027\t${frames[14]!.bytes.length}`);
    const info = capinfos(path);
    expect(info).toMatch(/File timestamp precision:\s+nanoseconds \(9\)/);
    expect(info).toMatch(/Number of packets:\s+15\b/);
  });

  it('round-trips: write → read gives the packets back, and read → write gives the same bytes', () => {
    const arbPacket = fc.record({
      timestampNs: fc.maxSafeNat(),
      frame: fc.uint8Array({ maxLength: 80 }),
      extra: fc.nat({ max: 2000 }),
    });
    fc.assert(
      fc.property(
        fc.constantFrom<PcapResolution>('ns', 'us'),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.array(arbPacket, { maxLength: 8 }),
        (resolution, snaplen, linktype, packets) => {
          const s = new MemorySink(64);
          const w = new PcapWriter(s, { resolution, snaplen, linktype });
          for (const p of packets) w.writePacket(p.timestampNs, p.frame, 0, p.frame.length, p.frame.length + p.extra);
          w.close();
          const read = readPcap(s.bytes());
          expect(read.header).toEqual({
            byteOrder: 'le', resolution, versionMajor: 2, versionMinor: 4, thiszone: 0, snaplen, linktype,
          });
          read.packets.forEach((r, i) => {
            const p = packets[i]!;
            const incl = Math.min(p.frame.length, snaplen);
            const ns = resolution === 'ns' ? p.timestampNs : p.timestampNs - (p.timestampNs % 1000);
            expect(r.timestampSec * 1e9 + r.timestampNsec).toBe(ns);
            expect(r.capturedLen).toBe(incl);
            expect(r.originalLen).toBe(p.frame.length + p.extra);
            expect(Buffer.from(r.data)).toEqual(Buffer.from(p.frame.subarray(0, incl)));
          });
          expect(read.packets.length).toBe(packets.length);

          const again = new MemorySink(64);
          const w2 = new PcapWriter(again, { resolution, snaplen, linktype });
          for (const r of read.packets) w2.writePacketAt(r.timestampSec, r.timestampNsec, r.data, 0, r.capturedLen, r.originalLen);
          w2.close();
          expect(again.bytes()).toEqual(s.bytes());
        },
      ),
    );
  });
});
