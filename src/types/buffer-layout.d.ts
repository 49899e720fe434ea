// The subset of buffer-layout 1.2 that podwire uses; the package ships no types.
declare module 'buffer-layout' {
  export class Layout {
    readonly span: number;
    readonly property: string | undefined;
    decode(b: Buffer, offset?: number): unknown;
    encode(src: unknown, b: Buffer, offset?: number): number;
  }
  export class UIntBE extends Layout {}
  export class Blob extends Layout {}
  export class BitField {
    readonly bits: number;
    readonly start: number;
    readonly property: string | undefined;
  }
  export class BitStructure extends Layout {
    readonly fields: BitField[];
    readonly msb: boolean;
    readonly word: Layout;
    addField(bits: number, property?: string): BitField;
    addBoolean(property: string): BitField;
  }
  export class Structure extends Layout {
    readonly fields: Layout[];
    offsetOf(property: string): number | undefined;
    decode(b: Buffer, offset?: number): Record<string, unknown>;
  }
  export function u8(property?: string): Layout;
  export function u16be(property?: string): UIntBE;
  export function u24be(property?: string): UIntBE;
  export function u32be(property?: string): UIntBE;
  export function u48be(property?: string): UIntBE;
  export function blob(length: number, property?: string): Blob;
  export function bits(word: Layout, msb?: boolean, property?: string): BitStructure;
  export function struct(fields: Layout[], property?: string): Structure;
}
