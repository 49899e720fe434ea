/**
 * The one error the capture readers throw on bad bytes. `offset` is the byte in the file where the
 * offending structure (global header, record, block, option) starts, so `podwire explain` and the
 * comparer can point at it. Record and packet numbers in messages count from 1, as Wireshark
 * numbers frames; the `index` fields of parsed packets count from 0.
 *
 * Writers do not throw this: they reject bad arguments (a negative timestamp, an unknown
 * interface id) with RangeError before writing a byte, because those are programming errors.
 */
export class CaptureFormatError extends Error {
  override readonly name = 'CaptureFormatError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export function formatError(message: string, offset: number): never {
  throw new CaptureFormatError(message, offset);
}

/** The first four bytes as they appear in the file, for "unknown magic 0x…" messages. */
export function hexMagic(b: Uint8Array, off = 0): string {
  let s = '0x';
  for (let i = off; i < off + 4 && i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

/** Throws the "cut short" error for a structure that needs `len` bytes at `off`. */
export function needBytes(b: Uint8Array, off: number, len: number, what: string): void {
  if (off + len > b.length) {
    formatError(`${what} at byte ${off} is cut short: needs ${len} bytes, ${Math.max(0, b.length - off)} left`, off);
  }
}

/** Throws the error for a file whose first bytes are no capture magic we know. */
export function notACapture(b: Uint8Array): never {
  if (b.length === 0) formatError('not a capture file (the file is empty)', 0);
  if (b.length < 4) formatError(`not a capture file (${b.length} byte${b.length === 1 ? '' : 's'}, too short for a magic number)`, 0);
  // Wireshark opens gzipped captures transparently, so people expect it; say what it is.
  const hint = b[0] === 0x1f && b[1] === 0x8b ? '; it looks gzip-compressed, gunzip it first' : '';
  formatError(`not a capture file (unknown magic ${hexMagic(b)})${hint}`, 0);
}
