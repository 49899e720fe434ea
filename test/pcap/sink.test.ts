import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ChunkedSink, FileSink, MemorySink, toBufferedSink, type ByteSink } from '../../src/pcap/index.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dir.js';

afterAll(removeTempDirs);

/** A ByteSink that records every write it is handed. */
class RecordingSink implements ByteSink {
  readonly writes: Buffer[] = [];
  closes = 0;
  write(chunk: Uint8Array, off: number, len: number): void {
    this.writes.push(Buffer.from(chunk.subarray(off, off + len)));
  }
  close(): void {
    this.closes++;
  }
}

describe('MemorySink', () => {
  it('collects whole chunks, parts of chunks and reserved bytes in order, growing past its first buffer', () => {
    const s = new MemorySink(64);
    s.write(Buffer.from([1, 2, 3]), 0, 3);
    s.write(Buffer.from([9, 4, 5, 9]), 1, 2);
    const at = s.reserve(2);
    s.buffer[at] = 6;
    s.buffer[at + 1] = 7;
    const big = Buffer.alloc(200, 0xee);
    s.write(big, 0, big.length);
    expect(s.bytesWritten).toBe(207);
    expect(s.bytes().subarray(0, 7)).toEqual(Buffer.from([1, 2, 3, 4, 5, 6, 7]));
    expect(s.bytes().subarray(7)).toEqual(big);
  });

  it('keeps its bytes after close and refuses writes', () => {
    const s = new MemorySink(64);
    s.write(Buffer.from([1, 2]), 0, 2);
    s.close();
    s.close();
    expect(s.bytes()).toEqual(Buffer.from([1, 2]));
    expect(s.copyBytes()).toEqual(Buffer.from([1, 2]));
    expect(() => s.write(Buffer.from([3]), 0, 1)).toThrow('MemorySink: write after close');
    expect(() => s.reserve(4)).toThrow('MemorySink: write after close');
  });

  it('rejects a write outside its chunk and a buffer smaller than 64 bytes', () => {
    const s = new MemorySink(64);
    expect(() => s.write(Buffer.alloc(4), 2, 3)).toThrow(RangeError);
    expect(() => s.write(Buffer.alloc(4), -1, 1)).toThrow(RangeError);
    expect(s.bytesWritten).toBe(0);
    expect(() => new MemorySink(16)).toThrow(RangeError);
  });
});

describe('FileSink', () => {
  it('buffers small writes, flushes when full, and passes a chunk as big as its buffer straight through', () => {
    const path = join(tempDir(), 'a.bin');
    const s = new FileSink(path, { bufferBytes: 64 });
    s.write(Buffer.alloc(40, 1), 0, 40);
    expect(statSync(path).size).toBe(0); // still in the buffer
    s.write(Buffer.alloc(40, 2), 0, 40); // does not fit: the first 40 go out
    expect(statSync(path).size).toBe(40);
    s.write(Buffer.alloc(100, 3), 0, 100); // flushes the 40 buffered, then writes through
    expect(statSync(path).size).toBe(180);
    const at = s.reserve(100); // bigger than the buffer: it grows
    s.buffer.fill(4, at, at + 100);
    s.write(Buffer.from([5]), 0, 1);
    expect(s.bytesWritten).toBe(281);
    s.close();
    s.close();
    const bytes = readFileSync(path);
    expect(bytes.length).toBe(281);
    expect([bytes[0], bytes[39], bytes[40], bytes[79], bytes[80], bytes[179], bytes[180], bytes[279], bytes[280]]).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5]);
    expect(() => s.write(Buffer.from([1]), 0, 1)).toThrow('FileSink: write after close');
    expect(() => s.reserve(1)).toThrow('FileSink: write after close');
  });

  it('flush() hands the buffered bytes to the file without closing it', () => {
    const path = join(tempDir(), 'b.bin');
    const s = new FileSink(path);
    s.write(Buffer.from('abc'), 0, 3);
    s.flush();
    expect(readFileSync(path, 'utf8')).toBe('abc');
    s.write(Buffer.from('d'), 0, 1);
    s.close();
    expect(readFileSync(path, 'utf8')).toBe('abcd');
  });

  it('truncates an existing file, and fails on a path it cannot open with the fs error', () => {
    const dir = tempDir();
    const path = join(dir, 'c.bin');
    const first = new FileSink(path);
    first.write(Buffer.alloc(10), 0, 10);
    first.close();
    new FileSink(path).close();
    expect(statSync(path).size).toBe(0);
    expect(() => new FileSink(join(dir, 'missing', 'x.pcap'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe('ChunkedSink', () => {
  it('hands the inner sink chunks of at most its size, big chunks whole, and closes it once', () => {
    const inner = new RecordingSink();
    const s = new ChunkedSink(inner, 64);
    for (let i = 0; i < 5; i++) s.write(Buffer.alloc(20, i), 0, 20);
    s.write(Buffer.alloc(64, 9), 0, 64);
    s.close();
    s.close();
    expect(inner.writes.map((w) => w.length)).toEqual([60, 40, 64]);
    expect(Buffer.concat(inner.writes)).toEqual(
      Buffer.concat([...[0, 1, 2, 3, 4].map((i) => Buffer.alloc(20, i)), Buffer.alloc(64, 9)]),
    );
    expect(inner.closes).toBe(1);
  });

  it('toBufferedSink keeps a buffered sink and wraps any other', () => {
    const m = new MemorySink();
    expect(toBufferedSink(m)).toBe(m);
    expect(toBufferedSink(new RecordingSink())).toBeInstanceOf(ChunkedSink);
  });
});
