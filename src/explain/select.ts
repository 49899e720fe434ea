/**
 * What `--packet` and `--layer` select. Packets are numbered from 1 as Wireshark numbers frames:
 * `3`, `3-5`, `1,4,7-9`. Layers are named by kind — `ethernet ieee8021q sll sll2 arp ipv4 icmp udp
 * tcp vxlan dns payload padding data malformed unsupported` — optionally prefixed `outer-` (depth
 * 0) or `inner-` (inside a VXLAN tunnel or an ICMP error's quote) and suffixed `:N` for the Nth of
 * those in the frame: `tcp`, `vxlan`, `inner-ipv4`, `ipv4:2` (the second IPv4 header, counted from
 * the outside).
 */
import type { ExplainedKind, ExplainedLayer } from './model.js';

export class SelectionError extends Error {
  override readonly name = 'SelectionError';
}

export interface PacketSelection {
  readonly ranges: ReadonlyArray<readonly [number, number]>;
  /** The highest number selected. */
  readonly max: number;
}

export function parsePacketSelection(text: string): PacketSelection {
  const ranges: Array<[number, number]> = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new SelectionError(`--packet ${JSON.stringify(text)}: give packet numbers from 1, a range or a list, e.g. 3, 3-5 or 1,4,7-9`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from < 1) throw new SelectionError(`--packet ${JSON.stringify(text)}: packets are numbered from 1, as Wireshark numbers frames`);
    if (to < from) throw new SelectionError(`--packet ${JSON.stringify(text)}: the range ${from}-${to} runs backwards`);
    ranges.push([from, to]);
  }
  return { ranges, max: Math.max(...ranges.map(([, to]) => to)) };
}

export function selectsPacket(s: PacketSelection | undefined, n: number): boolean {
  return s === undefined || s.ranges.some(([from, to]) => n >= from && n <= to);
}

export const LAYER_KINDS: readonly ExplainedKind[] = [
  'ethernet', 'ieee8021q', 'sll', 'sll2', 'arp', 'ipv4', 'icmp', 'udp', 'tcp', 'vxlan', 'dns', 'payload', 'padding', 'data', 'malformed', 'unsupported',
];

export interface LayerSelector {
  readonly text: string;
  readonly kind: ExplainedKind;
  readonly where: 'any' | 'outer' | 'inner';
  /** 1-based among the layers of that kind (and depth, with a prefix); undefined for all of them. */
  readonly nth?: number;
}

export function parseLayerSelector(text: string): LayerSelector {
  const m = /^(outer-|inner-)?([a-z0-9]+)(?::(\d+))?$/.exec(text.trim().toLowerCase());
  const kind = m?.[2] as ExplainedKind | undefined;
  if (!m || !kind || !LAYER_KINDS.includes(kind) || m[3] === '0') {
    throw new SelectionError(`--layer ${JSON.stringify(text)}: give [outer-|inner-]KIND[:N] with KIND one of ${LAYER_KINDS.join(', ')} (e.g. tcp, inner-ipv4, ipv4:2)`);
  }
  const where = m[1] === 'outer-' ? 'outer' : m[1] === 'inner-' ? 'inner' : 'any';
  return { text, kind, where, ...(m[3] !== undefined && { nth: Number(m[3]) }) };
}

export function selectLayers(layers: readonly ExplainedLayer[], s: LayerSelector | undefined): ExplainedLayer[] {
  if (!s) return [...layers];
  const matching = layers.filter(
    (l) => l.kind === s.kind && (s.where === 'any' || (s.where === 'outer' ? l.depth === 0 : l.depth > 0)),
  );
  if (s.nth === undefined) return matching;
  const one = matching[s.nth - 1];
  return one ? [one] : [];
}
