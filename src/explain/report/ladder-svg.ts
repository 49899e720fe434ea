/**
 * The ladder drawn as inline SVG: lanes (one per host) across, one row per arrow down, in the
 * order the frames left. Each row is a link to its packet's details (`href="#…"`), so it is
 * reachable with Tab and followed with Enter without any script; the page's script opens the
 * details it points to. A row's accessible name says the whole hop in words.
 */
import { esc } from './html.js';
import type { Ladder, LadderArrow } from './ladder.js';

const CHAR_W = 6.7;
const ROW_H = 22;
const HEADER_H = 44;
const TIME_W = 96;
const PKT_W = 52;
const LABEL_CHARS = 66;
const LABEL_W = LABEL_CHARS * CHAR_W + 16;
const LANES_X = TIME_W + PKT_W + LABEL_W;
const MARGIN = 8;

export function seconds(ns: number): string {
  return (ns / 1e9).toFixed(6);
}

function cut(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

function rowName(a: LadderArrow, l: Ladder): string {
  const where = a.from === a.to ? `within ${l.lanes[a.from]!.host} (${a.fromDev})` : a.rxNs === undefined ? `${a.fromDev} to ${a.toDev}, never received (lost)` : `${a.fromDev} to ${a.toDev}`;
  return `packet ${a.pkt} at ${seconds(a.txNs)} s: ${a.label}; ${where}`;
}

/** `href(pkt, hop)`: the fragment of the details a row opens. */
export function ladderSvg(l: Ladder, href: (pkt: number, hop: number) => string): string {
  const laneW = Math.max(110, ...l.lanes.map((x) => Math.ceil((x.host.length + 2) * CHAR_W)));
  const laneX = (i: number): number => LANES_X + laneW / 2 + i * laneW;
  const width = Math.ceil(LANES_X + l.lanes.length * laneW + MARGIN);
  const height = HEADER_H + l.arrows.length * ROW_H + MARGIN;
  const out: string[] = [
    `<svg class="ladder" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="group" aria-labelledby="ladder-title ladder-desc">`,
    `<title id="ladder-title">Packets between hosts, in time order</title>`,
    `<desc id="ladder-desc">${esc(`${l.arrows.length} hops of ${l.packets.length} packets between ${l.lanes.map((x) => x.host).join(', ')}; each row links to its packet's anatomy and journey`)}</desc>`,
    '<defs><marker id="arrowhead" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>',
    `<text class="col-head" x="${MARGIN}" y="${HEADER_H - 12}">time (s)</text>`,
    `<text class="col-head" x="${TIME_W}" y="${HEADER_H - 12}">packet</text>`,
    `<text class="col-head" x="${TIME_W + PKT_W}" y="${HEADER_H - 12}">what</text>`,
  ];
  l.lanes.forEach((lane, i) => {
    const x = laneX(i);
    out.push(`<g class="lane lane-${esc(lane.kind)}"><title>${esc(`${lane.kind} ${lane.host}`)}</title>`,
      `<text class="lane-name" x="${x}" y="${HEADER_H - 26}" text-anchor="middle">${esc(cut(lane.host, Math.floor(laneW / CHAR_W) - 1))}</text>`,
      `<text class="lane-kind" x="${x}" y="${HEADER_H - 12}" text-anchor="middle">${esc(lane.kind)}</text>`,
      `<line class="lane-line" x1="${x}" y1="${HEADER_H - 6}" x2="${x}" y2="${height - MARGIN}"/></g>`);
  });
  l.arrows.forEach((a, n) => {
    const y = HEADER_H + n * ROW_H;
    const mid = y + ROW_H / 2;
    const x1 = laneX(a.from);
    const x2 = laneX(a.to);
    const name = rowName(a, l);
    out.push(`<a class="hop" href="#${esc(href(a.pkt, a.hop))}" data-pkt="${a.pkt}" data-hop="${a.hop}" aria-label="${esc(name)}"><title>${esc(name)}</title>`,
      `<rect class="row-bg${n % 2 ? ' odd' : ''}" x="0" y="${y}" width="${width}" height="${ROW_H}"/>`,
      `<text class="time" x="${MARGIN}" y="${mid + 4}">${seconds(a.txNs)}</text>`,
      `<text class="pkt" x="${TIME_W}" y="${mid + 4}">#${a.pkt}</text>`,
      `<text class="label" x="${TIME_W + PKT_W}" y="${mid + 4}">${esc(cut(a.label, LABEL_CHARS))}</text>`);
    if (a.from === a.to) {
      out.push(`<path class="arrow" d="M${x1},${mid - 6} h24 v12 h-22" marker-end="url(#arrowhead)"/>`);
    } else if (a.rxNs === undefined) {
      // Half way, then a cross: it left and never arrived.
      const xe = x1 + (x2 - x1) * 0.5;
      const right = x2 > x1;
      out.push(`<line class="arrow lost" x1="${x1}" y1="${mid}" x2="${xe.toFixed(1)}" y2="${mid}"/>`,
        `<text class="lost-mark" x="${(xe + (right ? 3 : -3)).toFixed(1)}" y="${mid + 4}" text-anchor="${right ? 'start' : 'end'}">✕ lost</text>`);
    } else {
      out.push(`<line class="arrow${a.label.startsWith('VXLAN') ? ' vxlan' : ''}" x1="${x1}" y1="${mid}" x2="${x2}" y2="${mid}" marker-end="url(#arrowhead)"/>`);
    }
    out.push('</a>');
  });
  out.push('</svg>');
  return out.join('\n');
}
