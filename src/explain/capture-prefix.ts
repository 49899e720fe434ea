/**
 * A run's capture file read only as far as the frames asked for: the first frames of a long run
 * (what a report of its first packets shows) without reading, or keeping, the whole file. A
 * classic pcap is read in growing prefixes (1 MiB, then ×4) and walked record by record; once a
 * prefix is the whole file — or the file is pcapng — it is read as readCaptureFile reads it, with
 * the same errors for a damaged file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CaptureFormatError, detectCaptureFormat, pcapPackets, readCapture } from '../pcap/index.js';

const FIRST_READ = 1 << 20;

export class CapturePrefix {
  private frames: Uint8Array[] = [];
  private readBytes = 0;
  private whole = false;

  constructor(private readonly path: string) {}

  /** Frame `n` (1-based), or undefined when the file has fewer. */
  frame(n: number): Uint8Array | undefined {
    while (this.frames.length < n && !this.whole) this.readMore();
    return this.frames[n - 1];
  }

  private readMore(): void {
    const fd = openSync(this.path, 'r');
    let bytes: Buffer;
    let size: number;
    try {
      size = fstatSync(fd).size;
      const want = Math.min(size, this.readBytes === 0 ? FIRST_READ : this.readBytes * 4);
      bytes = Buffer.alloc(want);
      let got = 0;
      while (got < want) {
        const k = readSync(fd, bytes, got, want - got, got);
        if (k === 0) break;
        got += k;
      }
      bytes = bytes.subarray(0, got);
    } finally {
      closeSync(fd);
    }
    this.readBytes = bytes.length;
    if (bytes.length >= size || detectCaptureFormat(bytes) !== 'pcap') {
      try {
        this.frames = readCapture(bytes).packets.map((p) => p.data);
        this.whole = true;
      } catch (e) {
        if (e instanceof CaptureFormatError) throw new CaptureFormatError(`${this.path}: ${e.message}`, e.offset);
        throw e;
      }
      return;
    }
    // A prefix ends inside a record: the records before it are whole.
    const frames: Uint8Array[] = [];
    try {
      for (const p of pcapPackets(bytes)) frames.push(p.data);
    } catch (e) {
      if (!(e instanceof CaptureFormatError)) throw e;
    }
    this.frames = frames;
  }
}
