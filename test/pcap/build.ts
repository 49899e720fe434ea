/**
 * Hand-built capture bytes for the pcap tests, in either byte order, written field by field
 * without the code under test — so big-endian files, obsolete blocks and broken files can be made.
 */

export type Order = 'le' | 'be';

export class ByteBuilder {
  private readonly parts: number[] = [];
  constructor(readonly order: Order) {}

  get length(): number {
    return this.parts.length;
  }

  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }

  u16(v: number): this {
    const b = [v & 0xff, (v >>> 8) & 0xff];
    this.parts.push(...(this.order === 'le' ? b : b.reverse()));
    return this;
  }

  u32(v: number): this {
    const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    this.parts.push(...(this.order === 'le' ? b : b.reverse()));
    return this;
  }

  bytes(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.parts.push(b[i]! & 0xff);
    return this;
  }

  pad4(): this {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }

  build(): Buffer {
    return Buffer.from(this.parts);
  }
}

export interface RawOption {
  readonly code: number;
  readonly value: Uint8Array;
}

export const textOption = (code: number, text: string): RawOption => ({ code, value: Buffer.from(text, 'utf8') });
export const byteOption = (code: number, v: number): RawOption => ({ code, value: Uint8Array.of(v) });

/** A pcapng block: type, total length, body, options (with opt_endofopt), trailing length. */
export function block(order: Order, type: number, body: Uint8Array, options: readonly RawOption[] = []): Buffer {
  const inner = new ByteBuilder(order).bytes(body).pad4();
  if (options.length > 0) {
    for (const o of options) inner.u16(o.code).u16(o.value.length).bytes(o.value).pad4();
    inner.u32(0);
  }
  const total = 12 + inner.length;
  return new ByteBuilder(order).u32(type).u32(total).bytes(inner.build()).u32(total).build();
}

export function shb(order: Order, options: readonly RawOption[] = [], version: [number, number] = [1, 0]): Buffer {
  const body = new ByteBuilder(order).u32(0x1a2b3c4d).u16(version[0]).u16(version[1]).u32(0xffffffff).u32(0xffffffff);
  return block(order, 0x0a0d0d0a, body.build(), options);
}

export function idb(order: Order, linktype: number, snaplen: number, options: readonly RawOption[] = []): Buffer {
  return block(order, 1, new ByteBuilder(order).u16(linktype).u16(0).u32(snaplen).build(), options);
}

export function epb(
  order: Order,
  interfaceId: number,
  tsHigh: number,
  tsLow: number,
  data: Uint8Array,
  originalLen = data.length,
  options: readonly RawOption[] = [],
): Buffer {
  const body = new ByteBuilder(order).u32(interfaceId).u32(tsHigh).u32(tsLow).u32(data.length).u32(originalLen).bytes(data);
  return block(order, 6, body.build(), options);
}

export function spb(order: Order, originalLen: number, data: Uint8Array): Buffer {
  return block(order, 3, new ByteBuilder(order).u32(originalLen).bytes(data).build());
}

/** The obsolete Packet Block (type 2): 16-bit interface id and drops count. */
export function packetBlock(order: Order, interfaceId: number, tsHigh: number, tsLow: number, data: Uint8Array, options: readonly RawOption[] = []): Buffer {
  const body = new ByteBuilder(order).u16(interfaceId).u16(0).u32(tsHigh).u32(tsLow).u32(data.length).u32(data.length).bytes(data);
  return block(order, 2, body.build(), options);
}

/** A classic pcap global header. */
export function pcapHeader(order: Order, magic: number, snaplen = 262144, linktype = 1, version: [number, number] = [2, 4]): Buffer {
  return new ByteBuilder(order).u32(magic).u16(version[0]).u16(version[1]).u32(0).u32(0).u32(snaplen).u32(linktype).build();
}

export function pcapRecord(order: Order, sec: number, frac: number, data: Uint8Array, originalLen = data.length): Buffer {
  return new ByteBuilder(order).u32(sec).u32(frac).u32(data.length).u32(originalLen).bytes(data).build();
}
