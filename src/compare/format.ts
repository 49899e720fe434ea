/**
 * A comparison report as text for a terminal: per capture point a header and the diff rows in
 * aligned columns — marker, reference line number, podwire line number, signature — where a
 * changed packet shows both lines and, beneath them, just the words that changed.
 *
 *   =  the same packet on both sides      <  only in the reference
 *   !  the packet differs                 >  only in podwire
 *   ~  differs as a known difference allows (its reason is listed under the point)
 */
import type { CapturePointReport, CompareReport, DiffRow } from './compare.js';
import { diffSequences } from './diff.js';

export interface FormatOptions {
  /** Every capture point with its rows; default: only those that differ (known ones as a line). */
  readonly all?: boolean;
}

const NUMBER_WIDTH = 5;
const INDENT = ' '.repeat(2 + 1 + 2 * NUMBER_WIDTH + 2);

export const LEGEND = '= same  ! differs  < only in the reference  > only in podwire  ~ known difference';

export function formatReport(report: CompareReport, opts: FormatOptions = {}): string {
  const out: string[] = [];
  const shown = report.points.filter((p) => opts.all === true || p.status === 'differ');
  if (shown.length > 0) out.push(`${LEGEND}\n`);
  for (const p of shown) out.push(formatPoint(p), '');
  if (opts.all !== true) {
    for (const p of report.points.filter((q) => q.status === 'known')) {
      out.push(`${p.capturePoint}: matches except for ${plural(p.knownPackets, 'packet')} that differ as known: ${p.knownReasons.join(' / ')}`);
    }
  }
  if (report.extra.length > 0) {
    out.push('podwire also captured where the reference has no capture point (not a difference):');
    for (const e of report.extra) out.push(`  ${e.file} (${e.hostKind} ${e.host} ${e.name}, ${e.kind}): ${plural(e.packets, 'packet')}`);
  }
  for (const w of report.warnings) out.push(`warning: ${w}`);
  out.push(report.summary);
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n')}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function formatPoint(p: CapturePointReport): string {
  const podwireSide =
    p.podwireFile !== undefined
      ? `podwire ${p.podwireFile} (${plural(p.podwire.length, 'packet')})`
      : 'podwire: no capture file (0 packets)';
  const verdict =
    p.status === 'match'
      ? 'match'
      : p.status === 'known'
        ? `match except for known differences (${plural(p.knownPackets, 'packet')})`
        : `${p.differingPackets} of ${Math.max(p.reference.length, p.podwire.length)} packets differ`;
  const lines = [
    `── ${p.capturePoint} (${p.role}): ${verdict}`,
    `   reference ${p.referenceFile} (${plural(p.reference.length, 'packet')}) · ${podwireSide}`,
  ];
  if (p.rows.length > 0) lines.push(`${' '.repeat(3)}${'ref'.padStart(NUMBER_WIDTH)}${'pw'.padStart(NUMBER_WIDTH)}`);
  const reasons = p.knownReasons;
  for (const row of p.rows) lines.push(...formatRow(row, reasons));
  reasons.forEach((r, i) => lines.push(`   known ${i + 1}: ${r}`));
  return lines.join('\n');
}

function num(n: number | undefined): string {
  return (n === undefined ? '-' : String(n)).padStart(NUMBER_WIDTH);
}

export function formatRow(row: DiffRow, reasons: readonly string[] = []): string[] {
  const marker = row.known !== undefined ? '~' : row.marker;
  const head = `  ${marker}${num(row.referenceLine)}${num(row.podwireLine)}  `;
  const tag = row.known !== undefined ? `  [known ${reasons.indexOf(row.known) + 1}]` : '';
  switch (row.marker) {
    case '=':
      return [`${head}${row.reference}`];
    case '<':
      return [`${head}${row.reference}${tag}`];
    case '>':
      return [`${head}${row.podwire}${tag}`];
    case '!':
      return [
        `${head}${row.reference}`,
        `${INDENT}${row.podwire}`,
        `${INDENT}^ ${changedWords(row.reference!, row.podwire!)}${tag}`,
      ];
  }
}

/** The words that differ between two signature lines: `ttl64 → ttl63; id=* → id=0`. */
export function changedWords(reference: string, podwire: string): string {
  const a = reference.split(' ');
  const b = podwire.split(' ');
  const changes: string[] = [];
  let from: string[] = [];
  let to: string[] = [];
  const flush = (): void => {
    if (from.length > 0 || to.length > 0) changes.push(`${from.join(' ') || '(nothing)'} → ${to.join(' ') || '(nothing)'}`);
    from = [];
    to = [];
  };
  for (const e of diffSequences(a, b)) {
    if (e.op === 'delete') from.push(a[e.a]!);
    else if (e.op === 'insert') to.push(b[e.b]!);
    else flush();
  }
  flush();
  return changes.join('; ');
}
