/**
 * Compares a podwire run with a kernel reference, capture point by capture point: both captures
 * become signature lines (signature.ts), paired by role (roles.ts), and their shortest edit script
 * (diff.ts) says which packets differ. The reference files start at the first traffic command;
 * podwire's side is taken from run.json's trafficStartNs on, so set-up traffic before it (a pod's
 * gratuitous ARP) is not compared. A capture point podwire wrote no file for has 0 packets there.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { diffSequences } from './diff.js';
import { CompareInputError } from './errors.js';
import { packetsFrom, readCapturePackets, readReferenceFolder, readRunFolder, type RunInterface } from './folders.js';
import {
  coversChange,
  coversExtra,
  coversMissing,
  defaultKnownDifferencesPath,
  knownFor,
  loadKnownDifferences,
  type KnownDifference,
} from './known-differences.js';
import { describeRole, mapByRole, parseReferenceName, type ReferenceCapturePoint } from './roles.js';
import { signatures } from './signature.js';

export interface CompareOptions {
  /** The known differences to allow; default: those of knownDifferencesFile. */
  readonly knownDifferences?: readonly KnownDifference[];
  /** Default: the repository's known-differences.yaml (none if there is no such file). */
  readonly knownDifferencesFile?: string;
}

/**
 * One row of a diff: `=` the same packet on both sides, `!` a packet that differs, `<` a packet
 * only the reference has, `>` one only podwire has. Line numbers count from 1.
 */
export interface DiffRow {
  readonly marker: '=' | '!' | '<' | '>';
  readonly referenceLine?: number;
  readonly podwireLine?: number;
  readonly reference?: string;
  readonly podwire?: string;
  /** The reason of the known difference that allows this row, if one does. */
  readonly known?: string;
}

/** `match`: identical; `known`: differs only where known differences allow; `differ`. */
export type PointStatus = 'match' | 'known' | 'differ';

export interface CapturePointReport {
  /** The reference's name for it: `kr-n1-cni0`. */
  readonly capturePoint: string;
  /** In words: `n1 cni0`, `n1's host veth of pa`. */
  readonly role: string;
  readonly referenceFile: string;
  /** podwire's capture file (relative to the run folder), or undefined: none, 0 packets. */
  readonly podwireFile?: string;
  readonly reference: readonly string[];
  readonly podwire: readonly string[];
  readonly status: PointStatus;
  readonly rows: readonly DiffRow[];
  /** Rows that are not `=` and no known difference allows. */
  readonly differingPackets: number;
  /** Rows that are not `=` but a known difference allows. */
  readonly knownPackets: number;
  /** The reasons of the known differences used here, once each. */
  readonly knownReasons: readonly string[];
}

/** A podwire interface with traffic that plays no role in the reference: reported, not a difference. */
export interface ExtraInterface {
  readonly file: string;
  readonly host: string;
  readonly hostKind: string;
  readonly name: string;
  readonly kind: string;
  readonly packets: number;
}

export interface CompareReport {
  readonly scenario: string;
  readonly referenceDir: string;
  readonly runDir: string;
  readonly trafficStartNs: number;
  readonly points: readonly CapturePointReport[];
  readonly extra: readonly ExtraInterface[];
  readonly warnings: readonly string[];
  /** Points that match, counting those that differ only as known differences allow. */
  readonly matching: number;
  readonly ok: boolean;
  readonly summary: string;
}

export function compareRun(referenceDir: string, runDir: string, opts: CompareOptions = {}): CompareReport {
  const reference = readReferenceFolder(referenceDir);
  const run = readRunFolder(runDir);
  const known = opts.knownDifferences ?? loadDefaultKnown(opts.knownDifferencesFile);
  const warnings: string[] = [];
  const points: ReferenceCapturePoint[] = [];
  for (const file of reference.files) {
    const point = parseReferenceName(file);
    if (point) points.push(point);
    else warnings.push(`${file}: not named kr-<netns>-<iface>.pcap; skipped`);
  }
  const mapping = mapByRole(points, run.interfaces);
  warnings.push(...mapping.warnings);
  const start = run.run.trafficStartNs;

  const podwireLines = (i: RunInterface | undefined): { lines: string[]; file?: string } => {
    if (!i) return { lines: [] };
    const path = join(run.dir, i.file);
    if (!existsSync(path)) {
      warnings.push(`${i.file}: listed in interfaces.json but not in the run folder; counted as 0 packets`);
      return { lines: [], file: i.file };
    }
    return { lines: signatures(packetsFrom(readCapturePackets(path), start, run.run.epochSec)), file: i.file };
  };

  const reports = mapping.pairs.map(({ point, podwire }): CapturePointReport => {
    const refLines = signatures(readCapturePackets(join(reference.dir, point.file)));
    const pw = podwireLines(podwire);
    return comparePoint({
      capturePoint: point.name,
      role: describeRole(point.role, podwire),
      referenceFile: point.file,
      ...(pw.file !== undefined && { podwireFile: pw.file }),
      reference: refLines,
      podwire: pw.lines,
      known: knownFor(known, reference.scenario, point.name),
    });
  });

  const extra: ExtraInterface[] = [];
  for (const i of mapping.extra) {
    const path = join(run.dir, i.file);
    const packets = existsSync(path) ? packetsFrom(readCapturePackets(path), start, run.run.epochSec).length : 0;
    if (packets > 0) extra.push({ file: i.file, host: i.host, hostKind: i.hostKind, name: i.name, kind: i.kind, packets });
  }

  const matching = reports.filter((r) => r.status !== 'differ').length;
  const ok = matching === reports.length;
  return {
    scenario: reference.scenario,
    referenceDir: reference.dir,
    runDir: run.dir,
    trafficStartNs: start,
    points: reports,
    extra,
    warnings,
    matching,
    ok,
    summary: summarize(reference.scenario, reports),
  };
}

function loadDefaultKnown(file: string | undefined): readonly KnownDifference[] {
  const path = file ?? defaultKnownDifferencesPath();
  if (path === undefined) return [];
  if (file !== undefined && !existsSync(file)) throw new CompareInputError(`${file}: no such known-differences file`);
  return loadKnownDifferences(path);
}

export interface PointInput {
  readonly capturePoint: string;
  readonly role: string;
  readonly referenceFile: string;
  readonly podwireFile?: string;
  readonly reference: readonly string[];
  readonly podwire: readonly string[];
  /** The known differences that apply to this capture point. */
  readonly known: readonly KnownDifference[];
}

/** Diffs one capture point's two signature sequences and applies its known differences. */
export function comparePoint(input: PointInput): CapturePointReport {
  const rows = diffRows(input.reference, input.podwire).map((row): DiffRow => {
    let entry: KnownDifference | undefined;
    if (row.marker === '!') entry = coversChange(input.known, row.reference!, row.podwire!);
    else if (row.marker === '<') entry = coversMissing(input.known, row.reference!);
    else if (row.marker === '>') entry = coversExtra(input.known, row.podwire!);
    return entry ? { ...row, known: entry.reason } : row;
  });
  const changed = rows.filter((r) => r.marker !== '=');
  const knownRows = changed.filter((r) => r.known !== undefined);
  const differingPackets = changed.length - knownRows.length;
  return {
    capturePoint: input.capturePoint,
    role: input.role,
    referenceFile: input.referenceFile,
    ...(input.podwireFile !== undefined && { podwireFile: input.podwireFile }),
    reference: input.reference,
    podwire: input.podwire,
    status: changed.length === 0 ? 'match' : differingPackets === 0 ? 'known' : 'differ',
    rows,
    differingPackets,
    knownPackets: knownRows.length,
    knownReasons: [...new Set(knownRows.map((r) => r.known!))],
  };
}

/**
 * The edit script as rows. Within a run of deletions and insertions between two equal lines, the
 * i-th deleted line and the i-th inserted one are the same packet, changed (`!`); what is left
 * over is missing (`<`) or extra (`>`).
 */
export function diffRows(reference: readonly string[], podwire: readonly string[]): DiffRow[] {
  const rows: DiffRow[] = [];
  let deleted: number[] = [];
  let inserted: number[] = [];
  const flush = (): void => {
    const pairs = Math.min(deleted.length, inserted.length);
    for (let k = 0; k < pairs; k++) {
      const a = deleted[k]!;
      const b = inserted[k]!;
      rows.push({ marker: '!', referenceLine: a + 1, podwireLine: b + 1, reference: reference[a]!, podwire: podwire[b]! });
    }
    for (const a of deleted.slice(pairs)) rows.push({ marker: '<', referenceLine: a + 1, reference: reference[a]! });
    for (const b of inserted.slice(pairs)) rows.push({ marker: '>', podwireLine: b + 1, podwire: podwire[b]! });
    deleted = [];
    inserted = [];
  };
  for (const e of diffSequences(reference, podwire)) {
    if (e.op === 'delete') deleted.push(e.a);
    else if (e.op === 'insert') inserted.push(e.b);
    else {
      flush();
      rows.push({ marker: '=', referenceLine: e.a + 1, podwireLine: e.b + 1, reference: reference[e.a]!, podwire: podwire[e.b]! });
    }
  }
  flush();
  return rows;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * `same-node-ping: 17/17 capture points match`, or with what differs:
 * `dns: 15/17 capture points match (12 only with known differences); differ: kr-n1-cni0 (2 packets), …`.
 */
export function summarize(scenario: string, points: readonly CapturePointReport[]): string {
  const matching = points.filter((p) => p.status !== 'differ').length;
  const knownOnly = points.filter((p) => p.status === 'known').length;
  let text = `${scenario}: ${matching}/${points.length} capture points match`;
  if (knownOnly > 0) text += ` (${knownOnly} only with known differences)`;
  const differ = points.filter((p) => p.status === 'differ');
  if (differ.length > 0) text += `; differ: ${differ.map((p) => `${p.capturePoint} (${plural(p.differingPackets, 'packet')})`).join(', ')}`;
  return text;
}
