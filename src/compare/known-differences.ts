/**
 * Known differences: where podwire is expected to differ from a kernel reference, each with its
 * reason (style-models §6.5: known differences live in one list, never in silent skips). They are
 * kept in known-differences.yaml at the repository root; `compare` reports a difference an entry
 * covers as "known: <reason>" and does not fail on it.
 *
 * An entry covers signature lines, not whole files:
 *
 *   - scenario: dns                      the reference scenario (meta.json "scenario")
 *     capturePoints: [kr-pa-eth0]        optional; default: every capture point of the scenario
 *     reason: CoreDNS adds …             why podwire differs, and why that is right
 *     where: ' R NXDOMAIN '              regular expression: the reference lines it covers
 *     ignore: ['an/ns/ar=0/[01]/0']      optional regular expressions: the parts of those lines
 *                                        that may differ (blanked on both sides before comparing);
 *                                        without `ignore` the whole line may differ
 *     missing: true                      optional: covered reference lines may be absent in podwire
 *     extra: true                        optional: podwire lines matching `where` may be extra
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, parse as parsePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { CompareInputError } from './errors.js';

export const KNOWN_DIFFERENCES_FILE = 'known-differences.yaml';

export interface KnownDifference {
  readonly scenario: string;
  /** Undefined: every capture point of the scenario. */
  readonly capturePoints?: readonly string[];
  readonly reason: string;
  readonly where: RegExp;
  /** Undefined: the whole line may differ. */
  readonly ignore?: readonly RegExp[];
  readonly missing: boolean;
  readonly extra: boolean;
}

const KEYS = new Set(['scenario', 'capturePoints', 'reason', 'where', 'ignore', 'missing', 'extra']);

function regex(source: unknown, where: string): RegExp {
  if (typeof source !== 'string' || source === '') {
    throw new CompareInputError(`${where} must be a non-empty regular expression string`);
  }
  try {
    return new RegExp(source);
  } catch (e) {
    throw new CompareInputError(`${where}: not a regular expression: ${(e as Error).message}`);
  }
}

/** Parses the YAML text of a known-differences file; `source` names it in errors. */
export function parseKnownDifferences(text: string, source: string): KnownDifference[] {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new CompareInputError(`${source}: ${doc.errors[0]!.message.split('\n')[0]}`);
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return [];
  if (!Array.isArray(data)) throw new CompareInputError(`${source}: must be a list of entries`);
  return data.map((entry: unknown, i): KnownDifference => {
    const at = `${source}: entry ${i + 1}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new CompareInputError(`${at} must be a mapping`);
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      if (!KEYS.has(k)) throw new CompareInputError(`${at}: unknown key "${k}" (known: ${[...KEYS].join(', ')})`);
    }
    const scenario = e['scenario'];
    const reason = e['reason'];
    if (typeof scenario !== 'string' || scenario === '') throw new CompareInputError(`${at}: scenario must be a scenario name`);
    if (typeof reason !== 'string' || reason.trim() === '') throw new CompareInputError(`${at}: reason is required: say why podwire differs`);
    const points = e['capturePoints'];
    if (points !== undefined && !(Array.isArray(points) && points.every((p) => typeof p === 'string'))) {
      throw new CompareInputError(`${at}: capturePoints must be a list of capture point names (kr-…)`);
    }
    const ignore = e['ignore'];
    if (ignore !== undefined && !Array.isArray(ignore)) throw new CompareInputError(`${at}: ignore must be a list of regular expressions`);
    for (const flag of ['missing', 'extra']) {
      if (e[flag] !== undefined && typeof e[flag] !== 'boolean') throw new CompareInputError(`${at}: ${flag} must be true or false`);
    }
    return {
      scenario,
      ...(points !== undefined && { capturePoints: (points as string[]).map((p) => p.replace(/\.pcap$/, '')) }),
      reason: reason.trim().replace(/\s+/g, ' '),
      where: regex(e['where'], `${at}: where`),
      ...(ignore !== undefined && { ignore: (ignore as unknown[]).map((r, j) => regex(r, `${at}: ignore[${j}]`)) }),
      missing: e['missing'] === true,
      extra: e['extra'] === true,
    };
  });
}

export function loadKnownDifferences(path: string): KnownDifference[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CompareInputError(`${path}: cannot read: ${(e as Error).message}`);
  }
  return parseKnownDifferences(text, path);
}

/**
 * The repository's known-differences.yaml: the nearest one above this module (src/compare or
 * dist/src/compare), or undefined when there is none (an installed package without it).
 */
export function defaultKnownDifferencesPath(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  const root = parsePath(dir).root;
  for (;;) {
    const candidate = join(dir, KNOWN_DIFFERENCES_FILE);
    if (existsSync(candidate)) return candidate;
    if (dir === root) return undefined;
    dir = dirname(dir);
  }
}

/** The entries that apply to one capture point of a scenario. */
export function knownFor(entries: readonly KnownDifference[], scenario: string, capturePoint: string): KnownDifference[] {
  return entries.filter((e) => e.scenario === scenario && (e.capturePoints === undefined || e.capturePoints.includes(capturePoint)));
}

function blank(line: string, ignore: readonly RegExp[]): string {
  let out = line;
  for (const r of ignore) out = out.replace(new RegExp(r.source, r.flags.includes('g') ? r.flags : `${r.flags}g`), '…');
  return out;
}

/** The entry that allows reference line `reference` to show as `podwire`, if any. */
export function coversChange(entries: readonly KnownDifference[], reference: string, podwire: string): KnownDifference | undefined {
  return entries.find((e) => e.where.test(reference) && (e.ignore === undefined || blank(reference, e.ignore) === blank(podwire, e.ignore)));
}

/** The entry that allows reference line `reference` to be missing from podwire's capture, if any. */
export function coversMissing(entries: readonly KnownDifference[], reference: string): KnownDifference | undefined {
  return entries.find((e) => e.missing && e.where.test(reference));
}

/** The entry that allows podwire line `podwire` to be extra, if any. */
export function coversExtra(entries: readonly KnownDifference[], podwire: string): KnownDifference | undefined {
  return entries.find((e) => e.extra && e.where.test(podwire));
}
