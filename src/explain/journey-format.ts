/** The text `podwire journey` prints for a journey (and for `--all`, one line per packet). */
import type { Journey, JourneyChange } from './journey.js';

const INDENT = ' '.repeat(16);

export function formatJourney(j: Journey): string {
  const lines: string[] = [`packet ${j.packet}: ${j.summary}${j.parent !== undefined ? ` (a fragment of packet ${j.parent})` : ''}`];
  for (const h of j.hops) {
    const t = `${h.sinceFirstUs.toFixed(3)} µs`.padStart(12);
    const where = `${h.hostKind} ${h.host}`.padEnd(16);
    const dev = `${h.dev} (${h.devKind})`.padEnd(18);
    lines.push(`${t}  ${where} ${dev} ${h.dir}  ${`${h.file} #${h.frame}`.padEnd(34)} ${h.summary}`);
    for (const c of h.changes) lines.push(`${INDENT}${changeText(c)}${c.why ? `  (${c.why})` : ''}`);
    // Events a change above already cites are not repeated; the others say what else happened.
    const used = new Set(h.changes.length > 0 ? ['nat', 'encap', 'decap', 'route'] : []);
    for (const e of h.events) if (!used.has(e.event)) lines.push(`${INDENT}· ${e.event} in ${e.netns}${e.dev ? ` ${e.dev}` : ''}: ${e.detail}`);
  }
  for (const e of j.after) if (e.event !== 'drop' && e.event !== 'icmp-error') lines.push(`${INDENT}· ${e.event} in ${e.netns}${e.dev ? ` ${e.dev}` : ''}: ${e.detail}`);
  lines.push(`  ⇒ ${j.outcome.text}`);
  return `${lines.join('\n')}\n`;
}

/** `dst A → B`; headers that appear or go are `+ …` and `− …`. */
export function changeText(c: JourneyChange): string {
  if (c.from === '—') return `+ ${c.to}`;
  if (c.to === '—') return `− ${c.from}`;
  return `${c.field} ${c.from} → ${c.to}`;
}

export function formatPacketList(list: readonly { packet: number; summary: string; where: string }[]): string {
  return list.map((p) => `${String(p.packet).padStart(6)}  ${p.where.padEnd(30)} ${p.summary}\n`).join('');
}
