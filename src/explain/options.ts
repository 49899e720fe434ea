/**
 * Rows for the variable parts of the IPv4 and TCP headers: their options, one row each, named as
 * RFC 791 / RFC 9293 and the IANA registries name them. The codecs have already checked that the
 * TCP options parse (tcp.parse rejects a bad length); IPv4 options they keep as raw bytes, so a
 * bad one here becomes a row saying so and the walk stops.
 */
import { u16, u32 } from '../packet/bytes.js';
import type { FieldRow } from './model.js';
import { row } from './rows.js';

const IPV4_OPTION_NAMES: Readonly<Record<number, string>> = {
  7: 'Record route',
  68: 'Timestamp',
  130: 'Security',
  131: 'Loose source route',
  137: 'Strict source route',
  136: 'Stream ID',
  148: 'Router alert',
};

export function ipv4OptionRows(b: Uint8Array, start: number, end: number): FieldRow[] {
  const rows: FieldRow[] = [];
  let i = start;
  for (let n = 0; i < end; n++) {
    const kind = b[i]!;
    const name = `options[${n}]`;
    if (kind === 0) {
      rows.push(row(b, name, 'Option 0: End of option list', i, end - i, 0, end - i > 1 ? `and ${end - i - 1} bytes of padding` : 'end'));
      return rows;
    }
    if (kind === 1) {
      rows.push(row(b, name, 'Option 1: No-operation', i, 1, 1, 'NOP'));
      i += 1;
      continue;
    }
    const len = i + 1 < end ? b[i + 1]! : 0;
    if (len < 2 || i + len > end) {
      rows.push(row(b, name, `Option ${kind}: malformed`, i, end - i, kind, `length ${len} does not fit the ${end - i} option bytes left`));
      return rows;
    }
    const label = `Option ${kind}: ${IPV4_OPTION_NAMES[kind] ?? 'unknown'}`;
    const meaning = kind === 148 && len === 4 ? `value ${u16(b, i + 2)}${u16(b, i + 2) === 0 ? ' (router shall examine packet)' : ''}` : `${len} bytes`;
    rows.push(row(b, name, label, i, len, kind, meaning));
    i += len;
  }
  return rows;
}

export function tcpOptionRows(b: Uint8Array, start: number, end: number): FieldRow[] {
  const rows: FieldRow[] = [];
  let i = start;
  for (let n = 0; i < end; n++) {
    const kind = b[i]!;
    const name = `options[${n}]`;
    if (kind === 0) {
      rows.push(row(b, `${name}.eol`, 'Option 0: End of option list', i, 1, 0, 'EOL'));
      if (end - i > 1) rows.push(row(b, 'options.padding', 'Padding', i + 1, end - i - 1, end - i - 1, `${end - i - 1} zero bytes`));
      return rows;
    }
    if (kind === 1) {
      rows.push(row(b, `${name}.nop`, 'Option 1: No-operation', i, 1, 1, 'NOP'));
      i += 1;
      continue;
    }
    const len = i + 1 < end ? b[i + 1]! : 0;
    if (len < 2 || i + len > end) {
      // tcp.parse refuses these, so only a caller that skipped it gets here; say it, do not throw.
      rows.push(row(b, name, `Option ${kind}: malformed`, i, end - i, kind, `length ${len} does not fit the ${end - i} option bytes left`));
      return rows;
    }
    switch (kind) {
      case 2:
        rows.push(row(b, `${name}.mss`, 'Option 2: MSS', i, len, u16(b, i + 2), `${u16(b, i + 2)} bytes maximum segment size`));
        break;
      case 3: {
        const shift = b[i + 2]!;
        rows.push(row(b, `${name}.wscale`, 'Option 3: Window scale', i, len, shift, `shift ${shift} (multiply by ${2 ** Math.min(shift, 14)})`));
        break;
      }
      case 4:
        rows.push(row(b, `${name}.sackPermitted`, 'Option 4: SACK permitted', i, len, 1, 'selective acknowledgments allowed'));
        break;
      case 5: {
        const blocks: string[] = [];
        for (let j = i + 2; j + 8 <= i + len; j += 8) blocks.push(`${u32(b, j)}-${u32(b, j + 4)}`);
        rows.push(row(b, `${name}.sack`, 'Option 5: SACK', i, len, blocks.join(' '), `blocks ${blocks.join(', ')}`));
        break;
      }
      case 8:
        rows.push(row(b, `${name}.timestamps`, 'Option 8: Timestamps', i, 2, 8, `TSval ${u32(b, i + 2)}, TSecr ${u32(b, i + 6)}`));
        if (len === 10) {
          rows.push(row(b, `${name}.tsval`, 'Timestamp value (TSval)', i + 2, 4, u32(b, i + 2)));
          rows.push(row(b, `${name}.tsecr`, 'Timestamp echo reply (TSecr)', i + 6, 4, u32(b, i + 6)));
        }
        break;
      default:
        rows.push(row(b, name, `Option ${kind}: unknown`, i, len, kind, `${len} bytes`));
    }
    i += len;
  }
  return rows;
}
