/**
 * Big-endian byte access by index. Buffer.readUInt16BE/writeUInt16BE and DataView calls cost
 * several times more per field in Node 20 (see the encode benchmark), so the hot path uses these.
 * They do not bounds-check: codecs check lengths once per header with `need` (errors.ts).
 */

export function u8(b: Uint8Array, off: number): number {
  return b[off]!;
}

export function u16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

export function u24(b: Uint8Array, off: number): number {
  return (b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]!;
}

export function u32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

export function setU8(b: Uint8Array, off: number, v: number): void {
  b[off] = v;
}

export function setU16(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 8;
  b[off + 1] = v;
}

export function setU24(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 16;
  b[off + 1] = v >>> 8;
  b[off + 2] = v;
}

export function setU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = v >>> 16;
  b[off + 2] = v >>> 8;
  b[off + 3] = v;
}

/** Copies `src` into `dst` at `off` and returns the number of bytes copied. */
export function copyInto(dst: Uint8Array, off: number, src: Uint8Array): number {
  dst.set(src, off);
  return src.length;
}
