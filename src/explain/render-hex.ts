/**
 * The hex dump with each header's bytes marked: 16 bytes a line as `tcpdump -xx` and Wireshark's
 * bytes pane print them, and under each line a marker line that repeats, under every byte, the
 * letter of the layer that byte belongs to. The letter also heads the layer in the table
 * (`[I] IPv4 …`), so the dump reads without colour: outer headers upper case, inner ones lower.
 */
import type { ExplainedKind, ExplainedLayer } from './model.js';

const LETTERS: Readonly<Record<ExplainedKind, string>> = {
  sll: 'L', sll2: 'L', ethernet: 'E', ieee8021q: 'Q', arp: 'A', ipv4: 'I', icmp: 'C', udp: 'U', tcp: 'T',
  vxlan: 'V', dns: 'D', payload: 'P', padding: 'Z', data: 'X', malformed: '!', unsupported: 'X',
};
const SPARE = '0123456789#$%&*+=?@~^';

/** A distinct letter per layer of a frame (keyed by layer id). */
export function layerLetters(layers: readonly ExplainedLayer[]): Map<string, string> {
  const used = new Set<string>();
  const letters = new Map<string, string>();
  for (const l of layers) {
    const base = LETTERS[l.kind];
    let c = l.depth > 0 ? base.toLowerCase() : base;
    if (used.has(c)) c = [...SPARE].find((s) => !used.has(s)) ?? '?';
    used.add(c);
    letters.set(l.id, c);
  }
  return letters;
}

const printable = (x: number): string => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.');

/**
 * Lines of the dump of `data`, marking `marked` (a subset of the frame's layers) with `letters`.
 * Only lines that hold a marked byte are printed when `onlyMarked`.
 */
export function hexDump(data: Uint8Array, marked: readonly ExplainedLayer[], letters: ReadonlyMap<string, string>, indent: string, onlyMarked: boolean): string[] {
  const owner: string[] = new Array<string>(data.length).fill(' ');
  // Inner layers come after the outer ones that enclose them, so the innermost letter wins.
  for (const l of marked) {
    const c = letters.get(l.id) ?? '?';
    for (let i = l.offset; i < l.offset + l.length && i < data.length; i++) owner[i] = c;
  }
  const out: string[] = [];
  for (let line = 0; line < data.length; line += 16) {
    const n = Math.min(16, data.length - line);
    if (onlyMarked && !owner.slice(line, line + n).some((c) => c !== ' ')) continue;
    let hexPart = '';
    let markPart = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      const gap = i === 8 ? ' ' : '';
      if (i < n) {
        const x = data[line + i]!;
        hexPart += `${gap}${x.toString(16).padStart(2, '0')} `;
        const c = owner[line + i]!;
        markPart += `${gap}${c}${c} `;
        ascii += printable(x);
      } else {
        hexPart += `${gap}   `;
      }
    }
    const at = line.toString(16).padStart(4, '0');
    out.push(`${indent}${at}  ${hexPart} ${ascii}`);
    out.push(`${indent}      ${markPart.trimEnd()}`);
  }
  return out;
}
