/**
 * The text form of an explained packet: a frame line, then per layer (indented by depth) a line
 * `[I] IPv4 10.0.0.1 → 10.0.0.2  bytes 14–33 (20)` and its field rows —
 * `offset  length  raw  field  meaning` — and last the marked hex dump (render-hex.ts).
 */
import type { ExplainedPacket } from './packet.js';
import type { FieldRow } from './model.js';
import { hexDump, layerLetters } from './render-hex.js';
import type { LayerSelector } from './select.js';
import { selectLayers } from './select.js';

const RAW_WIDTH = 19;

/** Raw bytes as hex, or for a bit field its bits in place (`.1.. ....`), as Wireshark shows flags. */
export function rawText(f: FieldRow): string {
  if (f.bitOffset !== 0 || f.bitWidth !== f.length * 8) {
    let bits = '';
    for (let i = 0; i < f.length * 8; i++) {
      const inField = i >= f.bitOffset && i < f.bitOffset + f.bitWidth;
      const byte = parseInt(f.raw.slice((i >> 3) * 2, (i >> 3) * 2 + 2), 16);
      bits += (i > 0 && i % 4 === 0 ? ' ' : '') + (inField ? String((byte >> (7 - (i & 7))) & 1) : '.');
    }
    return bits;
  }
  return f.raw.length > RAW_WIDTH ? `${f.raw.slice(0, RAW_WIDTH - 3)}…` : f.raw;
}

function frameLine(p: ExplainedPacket): string {
  const iface = p.interface !== undefined ? `, interface ${p.interface}${p.interfaceDescription !== undefined ? ` (${p.interfaceDescription})` : ''}` : '';
  const captured = p.capturedLength === p.originalLength ? '' : ` (${p.capturedLength} captured)`;
  return `Frame ${p.number}: ${p.originalLength} bytes${captured}, ${p.time} (t=${p.relativeTime}s)${iface}, link type ${p.linkTypeName} (${p.linkType})`;
}

export interface TextOptions {
  readonly layer?: LayerSelector;
}

export function renderPacketText(p: ExplainedPacket, data: Uint8Array, opts: TextOptions = {}): string {
  const letters = layerLetters(p.layers);
  const shown = selectLayers(p.layers, opts.layer);
  const lines = [frameLine(p)];
  for (const c of p.comments) lines.push(`  comment: ${c}`);
  for (const problem of p.problems) lines.push(`  ! ${problem}`);
  const labelWidth = Math.max(5, ...shown.flatMap((l) => l.fields.map((f) => f.label.length)));
  for (const l of shown) {
    const indent = '  '.repeat(l.depth + 1);
    const span = l.length > 0 ? `bytes ${l.offset}–${l.offset + l.length - 1} (${l.length})` : `at byte ${l.offset} (0 bytes)`;
    lines.push(`${indent}[${letters.get(l.id)}] ${l.name}  ${span}`);
    for (const f of l.fields) {
      lines.push(`${indent}  ${String(f.offset).padStart(4)} ${String(f.length).padStart(4)}  ${rawText(f).padEnd(RAW_WIDTH)}  ${f.label.padEnd(labelWidth)}  ${f.meaning}`);
    }
    for (const problem of l.problems) lines.push(`${indent}  ! ${problem}`);
  }
  if (opts.layer && shown.length === 0) lines.push(`  (no ${opts.layer.text} layer in this frame)`);
  if (shown.length > 0) {
    lines.push('  Bytes (each byte marked with its layer\'s letter):');
    lines.push(...hexDump(data, shown, letters, '  ', opts.layer !== undefined));
  }
  return `${lines.join('\n')}\n`;
}
