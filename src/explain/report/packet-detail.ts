/**
 * One packet's details in the report: its journey (journey.ts's hops, what changed at each and
 * why, how it ended) as a table, and the anatomy of its frame at each cable it crossed
 * (anatomy.ts's layers and field rows, render-hex.ts's marked hex dump) — a frame whose bytes
 * did not change since the previous one is not repeated. Everything is in <details> elements,
 * so the page reads without its script.
 */
import { dissectFrame } from '../anatomy.js';
import { changeText } from '../journey-format.js';
import type { Journey, JourneyHop } from '../journey.js';
import { LINKTYPE_ETHERNET } from '../link.js';
import type { ExplainedLayer } from '../model.js';
import { hexDump, layerLetters } from '../render-hex.js';
import { rawText } from '../render-text.js';
import { esc } from './html.js';

export function packetId(pkt: number): string {
  return `pkt-${pkt}`;
}

export function frameId(pkt: number, hop: number): string {
  return `pkt-${pkt}-hop-${hop}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

/**
 * Which hops get an anatomy: the given ones (the cables the packet crossed), each unless its
 * bytes equal the previous anatomy's. Returns hop index → the hop whose anatomy shows its frame.
 */
export function anatomyHops(hops: readonly number[], bytes: (hop: number) => Uint8Array | undefined): Map<number, number> {
  const out = new Map<number, number>();
  let last: { hop: number; data: Uint8Array } | undefined;
  for (const h of hops) {
    const data = bytes(h);
    if (data === undefined) continue;
    if (last !== undefined && sameBytes(last.data, data)) {
      out.set(h, last.hop);
      continue;
    }
    out.set(h, h);
    last = { hop: h, data };
  }
  return out;
}

function layerTable(l: ExplainedLayer, letter: string): string {
  const span = l.length > 0 ? `bytes ${l.offset}–${l.offset + l.length - 1} (${l.length})` : `at byte ${l.offset} (0 bytes)`;
  const rows = l.fields.map((f) => `<tr><td class="num">${f.offset}</td><td class="num">${f.length}</td><td class="raw">${esc(rawText(f))}</td><th scope="row">${esc(f.label)}</th><td>${esc(f.meaning)}</td></tr>`);
  const problems = l.problems.map((p) => `<p class="problem">! ${esc(p)}</p>`).join('');
  return `<table class="layer depth-${Math.min(l.depth, 3)}"><caption>[${esc(letter)}] ${esc(l.name)} <span class="span">${span}</span></caption>`
    + '<thead><tr><th scope="col">offset</th><th scope="col">length</th><th scope="col">raw</th><th scope="col">field</th><th scope="col">meaning</th></tr></thead>'
    + `<tbody>${rows.join('')}</tbody></table>${problems}`;
}

/** The anatomy of one frame: a table per header, outermost first, then the marked hex dump. */
export function anatomyHtml(data: Uint8Array): string {
  const layers = dissectFrame(data, LINKTYPE_ETHERNET);
  const letters = layerLetters(layers);
  const tables = layers.map((l) => layerTable(l, letters.get(l.id) ?? '?'));
  const dump = hexDump(data, layers, letters, '', false);
  return `${tables.join('\n')}\n<p class="hex-note">Bytes, each marked with its header's letter (upper case outer, lower case inside a tunnel or an ICMP quote):</p><pre class="hex">${esc(dump.join('\n'))}</pre>`;
}

function hopCells(h: JourneyHop): string {
  return `<td class="num">${h.sinceFirstUs.toFixed(3)}</td><td>${esc(`${h.hostKind} ${h.host}`)}</td><td>${esc(`${h.dev} (${h.devKind})`)}</td><td>${h.dir}</td><td>${esc(`${h.file} #${h.frame}`)}</td><td class="summary">${esc(h.summary)}</td>`;
}

function whatHappened(h: JourneyHop): string {
  const items = h.changes.map((c) => `<li>${esc(changeText(c))}${c.why ? ` <span class="why">(${esc(c.why)})</span>` : ''}</li>`);
  // Events a change above already cites are not repeated (as `podwire journey` prints them).
  const cited = new Set(h.changes.length > 0 ? ['nat', 'encap', 'decap', 'route'] : []);
  for (const e of h.events) if (!cited.has(e.event)) items.push(`<li>· ${esc(`${e.event} in ${e.netns}${e.dev ? ` ${e.dev}` : ''}: ${e.detail}`)}</li>`);
  return items.length > 0 ? `<ul>${items.join('')}</ul>` : '';
}

export function journeyHtml(j: Journey): string {
  const rows = j.hops.map((h, i) => `<tr id="${frameId(j.packet, i)}-row">${hopCells(h)}<td>${whatHappened(h)}</td></tr>`);
  const after = j.after.filter((e) => e.event !== 'drop' && e.event !== 'icmp-error').map((e) => `<li>· ${esc(`${e.event} in ${e.netns}${e.dev ? ` ${e.dev}` : ''}: ${e.detail}`)}</li>`);
  return '<table class="journey"><caption>Every device the packet crossed, in order</caption>'
    + '<thead><tr><th scope="col">µs since first hop</th><th scope="col">host</th><th scope="col">device</th><th scope="col">dir</th><th scope="col">capture #frame</th><th scope="col">frame</th><th scope="col">what changed, and why</th></tr></thead>'
    + `<tbody>${rows.join('')}</tbody></table>${after.length > 0 ? `<ul>${after.join('')}</ul>` : ''}`
    + `<p class="outcome">⇒ ${esc(j.outcome.text)}</p>`;
}

/**
 * The whole <details> of a packet. `anatomies` maps the hops that get an anatomy (see
 * anatomyHops) to themselves; `bytes` gives a hop's frame.
 */
export function packetDetailsHtml(j: Journey, anatomies: ReadonlyMap<number, number>, bytes: (hop: number) => Uint8Array | undefined): string {
  const parts = [`<details class="packet" id="${packetId(j.packet)}"><summary><span class="pkt-no">Packet ${j.packet}</span> ${esc(j.summary)} <span class="outcome-short">⇒ ${esc(j.outcome.text)}</span></summary>`,
    `<div class="packet-body"><h3>Journey of packet ${j.packet}</h3>`, journeyHtml(j), `<h3>Anatomy of packet ${j.packet}</h3>`];
  for (const [hop, shownAt] of anatomies) {
    if (hop !== shownAt) continue;
    const h = j.hops[hop];
    const data = bytes(hop);
    if (h === undefined || data === undefined) continue;
    // The id sits inside the details: following a link to it opens them, and the packet's, even without the script.
    parts.push(`<details class="frame"><summary>Frame at ${esc(`${h.host} ${h.dev} (${h.dir})`)} — ${esc(h.file)} #${h.frame}, ${data.length} bytes</summary>`,
      `<div class="anatomy" id="${frameId(j.packet, hop)}">`, anatomyHtml(data), '</div></details>');
  }
  parts.push('</div></details>');
  return parts.join('\n');
}
