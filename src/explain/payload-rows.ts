/** Rows for bytes no header describes: "payload N bytes", and for HTTP the request or status line. */
import type { FieldRow } from './model.js';
import { row } from './rows.js';

// RFC 9110 §9 methods, and the status line of RFC 9112 §4.
const HTTP_START = /^(?:(?:GET|HEAD|POST|PUT|DELETE|CONNECT|OPTIONS|TRACE|PATCH) \S+ HTTP\/\d\.\d|HTTP\/\d\.\d \d{3}(?: |$))/;
const MAX_LINE = 200;

/** The first line of an HTTP/1 message at `off`, or undefined when the bytes do not start one. */
function httpLine(b: Uint8Array, off: number, end: number): { text: string; length: number } | undefined {
  let i = off;
  const stop = Math.min(end, off + MAX_LINE);
  while (i < stop && b[i] !== 0x0d && b[i] !== 0x0a) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7e) return undefined;
    i++;
  }
  const text = String.fromCharCode(...b.subarray(off, i));
  return HTTP_START.test(text) ? { text, length: i - off } : undefined;
}

export function dataRow(b: Uint8Array, off: number, len: number, label = 'Data'): FieldRow {
  return row(b, 'data', label, off, len, len, `${len} byte${len === 1 ? '' : 's'}`);
}

/** A transport payload: one data row, and an HTTP line row when it starts an HTTP/1 message. */
export function payloadRows(b: Uint8Array, off: number, len: number, overTcp: boolean): FieldRow[] {
  const rows = [dataRow(b, off, len, 'Payload')];
  const line = overTcp ? httpLine(b, off, off + len) : undefined;
  if (line) {
    const status = line.text.startsWith('HTTP/');
    rows.push(row(b, 'http.line', status ? 'HTTP status line' : 'HTTP request line', off, line.length, line.text));
  }
  return rows;
}
