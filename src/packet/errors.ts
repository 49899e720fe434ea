/**
 * The one error a codec throws on bad bytes. It names the protocol, the field and the byte offset
 * (from the start of the buffer handed to parse), so a caller can point at the exact byte.
 */
export class MalformedPacketError extends Error {
  override readonly name = 'MalformedPacketError';
  constructor(
    readonly protocol: string,
    readonly field: string,
    readonly offset: number,
    readonly detail?: string,
  ) {
    super(`${protocol}: malformed ${field} at byte ${offset}${detail ? `: ${detail}` : ''}`);
  }
}

export function malformed(protocol: string, field: string, offset: number, detail?: string): never {
  throw new MalformedPacketError(protocol, field, offset, detail);
}

/** Throws unless `len` bytes starting at `off` lie inside `b` (or inside `end` when given). */
export function need(
  b: Uint8Array,
  off: number,
  len: number,
  protocol: string,
  field: string,
  end: number = b.length,
): void {
  if (off < 0 || off + len > end) {
    malformed(protocol, field, off, `needs ${len} bytes, ${Math.max(0, end - off)} left`);
  }
}
