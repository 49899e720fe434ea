/**
 * Field rows: from packet/fields.ts's declarative tables (the fixed part of a header), for the
 * bytes of a header cut short, and by hand for the variable parts those tables do not cover.
 */
import { annotate, fixedHeaderLen, type AnnotatedField, type HeaderKind } from '../packet/fields.js';
import type { FieldRow } from './model.js';

export function hex(b: Uint8Array, start: number, len: number): string {
  let s = '';
  const end = Math.min(b.length, start + len);
  for (let i = Math.max(0, start); i < end; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

export function fromAnnotated(f: AnnotatedField, shift = 0): FieldRow {
  return {
    name: f.name,
    label: f.label,
    offset: f.byteOffset + shift,
    length: f.byteLength,
    bitOffset: f.bitOffset,
    bitWidth: f.bitWidth,
    raw: f.raw,
    value: f.value,
    meaning: f.meaning,
  };
}

/** A row over whole bytes. */
export function row(b: Uint8Array, name: string, label: string, offset: number, length: number, value: number | string, meaning: string = String(value)): FieldRow {
  return { name, label, offset, length, bitOffset: 0, bitWidth: length * 8, raw: hex(b, offset, length), value, meaning };
}

/**
 * The fixed fields of a `kind` header at `off` that lie wholly before `end`: all of them when the
 * header is complete, the first few when the frame (or an ICMP error's quote) cuts it short.
 */
export function annotatePresent(kind: HeaderKind, b: Uint8Array, off: number, end: number): FieldRow[] {
  const span = fixedHeaderLen(kind);
  if (off + span <= end) return annotate(kind, b, off).map((f) => fromAnnotated(f));
  const have = Math.max(0, end - off);
  if (have === 0) return [];
  const padded = new Uint8Array(span);
  padded.set(b.subarray(off, off + have));
  return annotate(kind, padded, 0)
    .filter((f) => f.byteOffset + f.byteLength <= have)
    .map((f) => fromAnnotated(f, off));
}

/** Replaces the meaning (and the value, when given) of the row named `name`. */
export function amend(rows: FieldRow[], name: string, meaning: string, value?: number | string): void {
  const i = rows.findIndex((r) => r.name === name);
  if (i < 0) return;
  rows[i] = { ...rows[i]!, meaning, ...(value !== undefined && { value }) };
}

/** Replaces the row named `name` by `replacement` (several rows, e.g. ICMP's rest word split in two). */
export function replaceRow(rows: FieldRow[], name: string, replacement: readonly FieldRow[]): void {
  const i = rows.findIndex((r) => r.name === name);
  if (i >= 0) rows.splice(i, 1, ...replacement);
}

export const hex16 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;
