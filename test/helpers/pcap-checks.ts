/**
 * Checks the pcap and pcapng tests share: the typed error a reader throws, a sink that shows every
 * byte a writer left alone, and "a damaged file gives a CaptureFormatError or nothing".
 */
import fc from 'fast-check';
import { CaptureFormatError, MemorySink } from '../../src/pcap/index.js';
import { expectThrowsOnly, thrown } from './errors.js';

/** The CaptureFormatError `f` throws (another error is rethrown; no error fails). */
export function formatErrorOf(f: () => unknown): CaptureFormatError {
  return thrown(CaptureFormatError, f);
}

/** A MemorySink whose buffer starts full of 0xa5, so a test sees any byte the writer did not write. */
export function sentinelSink(): MemorySink {
  const s = new MemorySink(1024);
  s.buffer.fill(0xa5);
  return s;
}

/** With any one byte of the valid `file` changed, `read` returns or throws only CaptureFormatError. */
export function expectOnlyFormatErrorsWhenAnyByteChanges(file: Buffer, read: (bytes: Buffer) => unknown, numRuns: number): void {
  fc.assert(
    fc.property(fc.nat({ max: file.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const bad = Buffer.from(file);
      bad[at]! ^= xor;
      expectThrowsOnly(CaptureFormatError, () => read(bad));
    }),
    { numRuns },
  );
}
