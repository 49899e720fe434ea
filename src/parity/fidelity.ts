/**
 * The fidelity table: one row per scenario parity ran, with what happened on the kernel — every
 * capture point matched, some differ, or why it could not be run here — rendered as Markdown and
 * written between two markers of a file (the README's "Kernel fidelity" section), so the table is
 * always the output of a run, never typed by hand.
 */
import type { ParityResult } from './parity.js';

export type FidelityStatus = 'pass' | 'FAIL' | 'not run' | 'not compared' | 'error';

export interface FidelityRow {
  /** The scenario file as given (relative to the project, e.g. `scenarios/reference/dns.yaml`). */
  readonly file: string;
  readonly status: FidelityStatus;
  /** Capture points compared and how many matched (exactly or within listed known differences). */
  readonly points: number;
  readonly matched: number;
  /** Points with listed known differences (a subset of matched). */
  readonly known: number;
  /** The capture points that differ; why nothing ran; or the error. */
  readonly detail: readonly string[];
}

/** A parity result as a table row. */
export function fidelityRow(file: string, r: ParityResult): FidelityRow {
  const points = r.report?.points ?? [];
  const differ = points.filter((p) => p.status !== 'match' && p.status !== 'known');
  const status: FidelityStatus = r.ok ? 'pass' : r.report ? 'FAIL' : r.notRealizable.some((n) => n.startsWith('not compared')) ? 'not compared' : 'not run';
  return {
    file,
    status,
    points: points.length,
    matched: points.length - differ.length,
    known: points.filter((p) => p.status === 'known').length,
    detail: r.report ? [...differ.map((p) => `${p.capturePoint} differs (${p.differingPackets} packets)`), ...r.notRealizable] : r.notRealizable,
  };
}

/** A scenario parity could not run at all (the kernel refused a command): the error is the detail. */
export function errorRow(file: string, message: string): FidelityRow {
  return { file, status: 'error', points: 0, matched: 0, known: 0, detail: [message] };
}

/** `| … |` cells: pipes escaped, newlines flattened, long reasons cut. */
function cell(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').replaceAll('|', '\\|');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The table as Markdown, one row per scenario in the order given, and a closing count line. */
export function renderFidelityTable(rows: readonly FidelityRow[], kernel: string): string {
  const lines = [
    '| scenario | on the kernel | capture points matching | what differs, or why not run |',
    '|---|---|---|---|',
  ];
  for (const r of rows) {
    const match = r.points === 0 ? '–' : `${r.matched}/${r.points}${r.known > 0 ? ` (${r.known} with known differences)` : ''}`;
    lines.push(`| \`${r.file}\` | ${r.status} | ${match} | ${r.detail.length === 0 ? '' : cell(r.detail.join('; '))} |`);
  }
  const pass = rows.filter((r) => r.status === 'pass').length;
  lines.push('', `${pass} of ${rows.length} scenarios pass on kernel ${kernel}; the others say why above.`);
  return lines.join('\n');
}

export const FIDELITY_START = '<!-- fidelity:start (written by `podwire parity --fidelity`; do not edit by hand) -->';
export const FIDELITY_END = '<!-- fidelity:end -->';

/** Replaces what stands between the markers with `table`; an error when the markers are missing. */
export function replaceFidelitySection(text: string, table: string): string {
  const start = text.indexOf(FIDELITY_START);
  const end = text.indexOf(FIDELITY_END);
  if (start < 0 || end < start) throw new Error(`no fidelity section: the file needs the lines ${FIDELITY_START} and ${FIDELITY_END}`);
  return `${text.slice(0, start + FIDELITY_START.length)}\n${table}\n${text.slice(end)}`;
}

/** The table between the markers (undefined when there is none): what the README says today. */
export function readFidelitySection(text: string): string | undefined {
  const start = text.indexOf(FIDELITY_START);
  const end = text.indexOf(FIDELITY_END);
  if (start < 0 || end < start) return undefined;
  return text.slice(start + FIDELITY_START.length, end).trim();
}
