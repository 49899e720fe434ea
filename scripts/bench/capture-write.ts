/**
 * Capture bytes written per second: PcapWriter into a FileSink (what a run does per interface)
 * against the machine's ceiling measured in the same run, a bare fs.writeSync of the same bytes in
 * the same 64 KiB chunks. Files go to the OS temp folder and are removed.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BUFFER_BYTES, FileSink, MemorySink, PcapWriter, PcapngWriter } from '../../src/pcap/index.js';
import { row } from './measure.js';

const FRAME_LEN = 166;
const FRAMES = 400_000; // 72 MB of capture per pass
const ROUNDS = 5;
const CHUNK = DEFAULT_BUFFER_BYTES;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeIt(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export interface CaptureFigures {
  readonly pcapBytesPerSecond: number;
  readonly pcapngBytesPerSecond: number;
  readonly ceilingBytesPerSecond: number;
}

export function benchCaptureWrite(): CaptureFigures {
  const dir = mkdtempSync(join(tmpdir(), 'podwire-bench-'));
  try {
    const frame = Buffer.alloc(FRAME_LEN, 0x5a);
    // The exact file image, built once in memory, is what the bare write writes.
    const image = new MemorySink();
    const w = new PcapWriter(image);
    for (let i = 0; i < FRAMES; i++) w.writePacket(i * 1000, frame);
    w.close();
    const bytes = image.bytes();

    const pcapPath = join(dir, 'writer.pcap');
    const ngPath = join(dir, 'writer.pcapng');
    const barePath = join(dir, 'bare.pcap');
    const writer: number[] = [];
    const ng: number[] = [];
    const bare: number[] = [];
    for (let r = 0; r < ROUNDS + 1; r++) {
      const tw = timeIt(() => {
        const pw = new PcapWriter(new FileSink(pcapPath));
        for (let i = 0; i < FRAMES; i++) pw.writePacket(i * 1000, frame);
        pw.close();
      });
      const tb = timeIt(() => {
        const fd = openSync(barePath, 'w');
        // The same write(2) size the FileSink uses, so both make the same number of system calls.
        for (let off = 0; off < bytes.length; off += CHUNK) writeSync(fd, bytes, off, Math.min(CHUNK, bytes.length - off));
        closeSync(fd);
      });
      let ngBytes = 0;
      const tn = timeIt(() => {
        const sink = new FileSink(ngPath);
        const nw = new PcapngWriter(sink);
        const ifId = nw.addInterface({ name: 'eth0', description: 'pod pa' });
        for (let i = 0; i < FRAMES; i++) nw.writePacket(ifId, i * 1000, frame);
        nw.close();
        ngBytes = sink.bytesWritten;
      });
      if (r === 0) continue; // warm-up round
      writer.push(bytes.length / tw);
      bare.push(bytes.length / tb);
      ng.push(ngBytes / tn);
    }
    const mbps = (x: number) => `${(x / 1e6).toFixed(0)} MB/s`;
    const ceiling = median(bare);
    console.log(`capture writing: ${FRAMES} frames of ${FRAME_LEN} B (${(bytes.length / 1e6).toFixed(1)} MB per file), median of ${ROUNDS}`);
    row('PcapWriter → FileSink (classic pcap, ns)', mbps(median(writer)), `${((median(writer) / ceiling) * 100).toFixed(0)}% of ceiling`);
    row('PcapngWriter → FileSink (EPB per frame)', mbps(median(ng)), `${((median(ng) / ceiling) * 100).toFixed(0)}% of ceiling`);
    row(`ceiling: bare fs.writeSync of the same bytes, ${CHUNK / 1024} KiB writes`, mbps(ceiling));
    return { pcapBytesPerSecond: median(writer), pcapngBytesPerSecond: median(ng), ceilingBytesPerSecond: ceiling };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
