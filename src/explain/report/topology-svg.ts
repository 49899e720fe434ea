/**
 * The topology picture: one inline SVG, laid out in columns — a node's pods above it, the nodes
 * and external hosts in one row, the underlay switch under them all — with every interface
 * written out (name, kind, addresses, MAC) and a line for every cable (a veth pair), the VXLAN
 * tunnel between nodes as a dashed line. Text sizes are computed from character counts in a
 * monospace font, so the layout needs no browser to measure it and is the same every time.
 */
import { esc } from './html.js';
import { interfaceLines, type TopoHost, type TopoInterface, type Topology } from './topology.js';

const CHAR_W = 7.3;
const LINE_H = 15;
const PAD = 8;
const HEADER_H = 20;
const GAP_X = 24;
const GAP_Y = 56;
const MARGIN = 16;

interface Box {
  readonly host: TopoHost;
  x: number;
  y: number;
  readonly w: number;
  readonly h: number;
  /** Per interface: the y of its first text line, relative to the box. */
  readonly rows: ReadonlyMap<string, number>;
}

const KIND_WORD: Readonly<Record<string, string>> = { node: 'node', pod: 'pod', external: 'host', switch: 'switch' };

function ifaceText(i: TopoInterface): string[] {
  const [a, b] = interfaceLines(i);
  const lines = [a, b];
  if (i.bridge !== undefined) lines.push(`port of ${i.bridge}`);
  else if (i.peer !== undefined) lines.push(`peer: ${i.peer.host} ${i.peer.name}`);
  return lines;
}

function measure(host: TopoHost): Box {
  const rows = new Map<string, number>();
  let y = PAD + HEADER_H;
  let width = `${KIND_WORD[host.kind] ?? host.kind} ${host.name}`.length;
  for (const i of host.interfaces) {
    rows.set(i.name, y);
    const lines = ifaceText(i);
    for (const l of lines) width = Math.max(width, l.length + 2);
    y += lines.length * LINE_H + 6;
  }
  return { host, x: 0, y: 0, w: Math.ceil(width * CHAR_W + 2 * PAD), h: y + PAD - 6, rows };
}

function boxSvg(b: Box): string {
  const h = b.host;
  const title = `${KIND_WORD[h.kind] ?? h.kind} ${h.name}: ${h.interfaces.map((i) => `${i.name} ${i.kind} ${[...i.addresses, i.mac].join(' ')}`).join('; ')}`;
  const parts = [`<g class="host host-${esc(h.kind)}" role="group" aria-label="${esc(title)}"><title>${esc(title)}</title>`,
    `<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="6"/>`,
    `<text class="host-name" x="${b.x + PAD}" y="${b.y + PAD + 12}">${esc(`${KIND_WORD[h.kind] ?? h.kind} ${h.name}`)}</text>`];
  for (const i of h.interfaces) {
    const y0 = b.y + b.rows.get(i.name)!;
    ifaceText(i).forEach((line, n) => {
      parts.push(`<text class="${n === 0 ? 'if-name' : 'if-detail'}" x="${b.x + PAD + (n === 0 ? 0 : 2 * CHAR_W)}" y="${y0 + 11 + n * LINE_H}">${esc(line)}</text>`);
    });
  }
  parts.push('</g>');
  return parts.join('');
}

function line(x1: number, y1: number, x2: number, y2: number, cls: string, title: string): string {
  return `<line class="${cls}" x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}"><title>${esc(title)}</title></line>`;
}

export function topologySvg(t: Topology, title: string): string {
  const boxes = new Map<string, Box>();
  for (const h of t.hosts) boxes.set(h.name, measure(h));
  // Columns: each node with its pods above it, then external hosts, then pods no node claims.
  const columns: Array<{ top: Box[]; main?: Box }> = [];
  for (const n of t.nodes) columns.push({ top: (t.podsByNode.get(n.name) ?? []).map((p) => boxes.get(p.name)!), main: boxes.get(n.name)! });
  for (const e of t.externals) columns.push({ top: [], main: boxes.get(e.name)! });
  const orphans = t.podsByNode.get('') ?? [];
  if (orphans.length > 0) columns.push({ top: orphans.map((p) => boxes.get(p.name)!) });
  const topH = Math.max(0, ...columns.flatMap((c) => c.top.map((b) => b.h)));
  const mainH = Math.max(0, ...columns.map((c) => c.main?.h ?? 0));
  const topY = MARGIN;
  const mainY = topY + (topH > 0 ? topH + GAP_Y : 0);
  let x = MARGIN;
  for (const c of columns) {
    const topW = c.top.reduce((s, b) => s + b.w, 0) + GAP_X * Math.max(0, c.top.length - 1);
    const w = Math.max(topW, c.main?.w ?? 0);
    let px = x + (w - topW) / 2;
    for (const b of c.top) {
      b.x = Math.round(px);
      b.y = topY + topH - b.h;
      px += b.w + GAP_X;
    }
    if (c.main) {
      c.main.x = Math.round(x + (w - c.main.w) / 2);
      c.main.y = mainY;
    }
    x += w + GAP_X * 2;
  }
  const width = Math.max(x - GAP_X * 2 + MARGIN, ...t.switches.map((s) => boxes.get(s.name)!.w + 2 * MARGIN), 320);
  // Switches span the width under the row of nodes, one under the other, their ports drawn where the cables land.
  let y = mainY + (mainH > 0 ? mainH + GAP_Y : 0);
  const switchParts: string[] = [];
  const portAt = new Map<string, { x: number; y: number }>();
  for (const s of t.switches) {
    const own = s.interfaces.filter((i) => i.kind !== 'veth' || i.peer === undefined);
    const ports = s.interfaces.filter((i) => i.kind === 'veth' && i.peer !== undefined);
    const hdr = `switch ${s.name}`;
    const ownLines = own.map((i) => interfaceLines(i).join('  '));
    const h = PAD + HEADER_H + ownLines.length * LINE_H + PAD + 3 * LINE_H + PAD;
    const label = `${hdr}: ${s.interfaces.map((i) => `${i.name} ${i.kind} ${i.mac}`).join('; ')}`;
    switchParts.push(`<g class="host host-switch" role="group" aria-label="${esc(label)}"><title>${esc(label)}</title>`,
      `<rect x="${MARGIN}" y="${y}" width="${width - 2 * MARGIN}" height="${h}" rx="6"/>`,
      `<text class="host-name" x="${MARGIN + PAD}" y="${y + PAD + 12}">${esc(hdr)}</text>`);
    ownLines.forEach((l, n) => switchParts.push(`<text class="if-name" x="${MARGIN + PAD}" y="${y + PAD + HEADER_H + 11 + n * LINE_H}">${esc(l)}</text>`));
    // Each port sits under the host its cable comes from; ports of unknown hosts are spread at the left.
    let spare = MARGIN + PAD;
    const py = y + PAD + HEADER_H + ownLines.length * LINE_H + PAD;
    for (const p of ports) {
      const peerBox = p.peer ? boxes.get(p.peer.host) : undefined;
      const lines = interfaceLines(p);
      const w = Math.max(...lines.map((l) => l.length)) * CHAR_W;
      let px = peerBox ? peerBox.x + peerBox.w / 2 - w / 2 : spare;
      px = Math.max(MARGIN + PAD, Math.min(px, width - MARGIN - PAD - w));
      if (!peerBox) spare += w + GAP_X;
      lines.forEach((l, n) => switchParts.push(`<text class="${n === 0 ? 'if-name' : 'if-detail'}" x="${px.toFixed(1)}" y="${py + 11 + n * LINE_H}">${esc(l)}</text>`));
      portAt.set(`${s.name}\0${p.name}`, { x: px + w / 2, y });
    }
    switchParts.push('</g>');
    y += h + GAP_Y / 2;
  }
  const height = Math.max(y - (t.switches.length > 0 ? GAP_Y / 2 : GAP_Y) + MARGIN, mainY + mainH + MARGIN);
  // Cables: one line per veth pair between two hosts, drawn once.
  const cables: string[] = [];
  const drawn = new Set<string>();
  for (const h of t.hosts) {
    for (const i of h.interfaces) {
      if (i.peer === undefined || i.peer.host === h.name) continue;
      const key = [`${h.name}\0${i.name}`, `${i.peer.host}\0${i.peer.name}`].sort().join('\0');
      if (drawn.has(key)) continue;
      drawn.add(key);
      const title = `cable: ${h.name} ${i.name} ↔ ${i.peer.host} ${i.peer.name}`;
      // A switch's side of a cable is its port, drawn where the cable lands; any other side is its host's box.
      const portA = portAt.get(`${h.name}\0${i.name}`);
      const portB = portAt.get(`${i.peer.host}\0${i.peer.name}`);
      const a = boxes.get(h.name)!;
      const b = boxes.get(i.peer.host);
      if (portA !== undefined || portB !== undefined) {
        const box = portA !== undefined ? b : a;
        const port = (portA ?? portB)!;
        if (box !== undefined && portA === undefined !== (portB === undefined)) cables.push(line(box.x + box.w / 2, box.y + box.h, port.x, port.y, 'cable', title));
      } else if (b !== undefined) {
        const [upper, lower] = a.y + a.h <= b.y ? [a, b] : [b, a];
        const ux = upper.x + upper.w / 2;
        const lx = Math.max(lower.x + 10, Math.min(ux, lower.x + lower.w - 10));
        cables.push(line(ux, upper.y + upper.h, lx, lower.y, 'cable', title));
      }
    }
  }
  // The overlay: a dashed line between the tunnel devices of neighbouring nodes.
  const tunnels = t.nodes.flatMap((n) => n.interfaces.filter((i) => i.kind === 'vxlan' || i.kind === 'ipip').map((i) => ({ box: boxes.get(n.name)!, i })));
  for (let k = 1; k < tunnels.length; k++) {
    const a = tunnels[k - 1]!;
    const b = tunnels[k]!;
    if (a.box === b.box) continue;
    const ya = a.box.y + a.box.rows.get(a.i.name)! + 8;
    const yb = b.box.y + b.box.rows.get(b.i.name)! + 8;
    const word = a.i.kind === 'vxlan' ? 'VXLAN' : 'IP-in-IP';
    cables.push(line(a.box.x + a.box.w, ya, b.box.x, yb, 'tunnel', `${word} tunnel: ${a.box.host.name} ${a.i.name} ↔ ${b.box.host.name} ${b.i.name} (over the underlay)`));
    cables.push(`<text class="tunnel-label" x="${((a.box.x + a.box.w + b.box.x) / 2).toFixed(1)}" y="${((ya + yb) / 2 - 5).toFixed(1)}" text-anchor="middle">${word}</text>`);
  }
  const desc = `${t.nodes.length} nodes, ${[...t.podsByNode.values()].reduce((s, l) => s + l.length, 0)} pods, ${t.externals.length} external hosts, ${t.switches.length} switches`;
  return [
    `<svg class="topology" xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" role="img" aria-labelledby="topo-title topo-desc">`,
    `<title id="topo-title">${esc(title)}</title><desc id="topo-desc">${esc(desc)}</desc>`,
    ...cables,
    ...[...boxes.values()].filter((b) => b.host.kind !== 'switch').map(boxSvg),
    ...switchParts,
    '</svg>',
  ].join('\n');
}
