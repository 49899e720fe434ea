/**
 * Golden folders: a run's captures and outputs kept as the expected result, and the check that a
 * new run still gives them — byte for byte, and on a difference the first differing packet,
 * header and field, decoded by podwire's codecs:
 *
 *   captures/n1/veth3ef4d7d1.pcap: packet 4, IPv4 Time to live: golden 63, now 64
 *
 * A golden holds only what is compared: captures/<host>/<if>.pcap (one per interface),
 * outputs/ (each step's output, the containers' and hosts' logs), interfaces.json, and
 * golden.json saying which scenario, seed and podwire made it. all.pcapng (the same packets
 * again), trace.jsonl and run.json are left out.
 *
 * Per capture the check reports at most one line of each kind, the first: the file header, the
 * packet count, the first packet whose bytes differ, and the first packet whose timestamp differs
 * when that comes before the first byte difference. Timestamps come from the virtual clock, so
 * they are as deterministic as the bytes; a packet that is late and then different is reported
 * twice, a packet that is different and then late once (its lateness follows from it).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CaptureFormatError } from '../pcap/errors.js';
import { readPcap, type PcapFile, type PcapHeader } from '../pcap/pcap-reader.js';
import { VIRTUAL_EPOCH_SEC } from '../sim/scheduler.js';
import { firstDifference, formatDifference } from './field-diff.js';

export const GOLDEN_META_FILE = 'golden.json';

/** What golden.json says: which run the golden folder was made from. */
export interface GoldenMeta {
  readonly podwire: string;
  readonly scenario: string;
  readonly seed: number;
}

export interface GoldenDifference {
  /** The file, relative to the folders (`captures/n1/eth0.pcap`, `outputs/01-pa.txt`). */
  readonly file: string;
  /** The whole line: `captures/n1/eth0.pcap: packet 4, IPv4 Time to live: golden 63, now 64`. */
  readonly message: string;
}

export interface GoldenReport {
  readonly ok: boolean;
  readonly differences: readonly GoldenDifference[];
  /** Files in either folder. */
  readonly files: number;
  /** Files with at least one difference (including those only on one side). */
  readonly differingFiles: number;
}

/** A golden folder that is missing or is not one; `missing` lets callers say how to create it. */
export class GoldenFolderError extends Error {
  override readonly name = 'GoldenFolderError';
  constructor(
    readonly reason: 'missing' | 'not-golden' | 'not-a-run',
    message: string,
  ) {
    super(message);
  }
}

/** golden.json of `goldenDir`, or undefined when there is no golden folder there. */
export function readGoldenMeta(goldenDir: string): GoldenMeta | undefined {
  const file = join(goldenDir, GOLDEN_META_FILE);
  if (!existsSync(file)) return undefined;
  const m = JSON.parse(readFileSync(file, 'utf8')) as Partial<GoldenMeta>;
  if (typeof m.seed !== 'number' || typeof m.scenario !== 'string' || typeof m.podwire !== 'string') {
    throw new GoldenFolderError('not-golden', `${file}: not a golden.json (needs podwire, scenario, seed)`);
  }
  return { podwire: m.podwire, scenario: m.scenario, seed: m.seed };
}

/** The files of a run or golden folder that a golden check compares, relative, sorted. */
export function comparedFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string, keep: (name: string) => boolean): void => {
    const abs = join(dir, rel);
    if (!existsSync(abs)) return;
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r, keep);
      else if (keep(e.name)) out.push(r);
    }
  };
  walk('captures', (n) => n.endsWith('.pcap'));
  walk('outputs', () => true);
  if (existsSync(join(dir, 'interfaces.json'))) out.push('interfaces.json');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Throws GoldenFolderError unless `goldenDir` is a golden folder. */
export function assertGoldenFolder(goldenDir: string): void {
  if (!existsSync(goldenDir)) throw new GoldenFolderError('missing', `${goldenDir}: no golden folder there`);
  if (!existsSync(join(goldenDir, GOLDEN_META_FILE))) {
    throw new GoldenFolderError('not-golden', `${goldenDir}: not a golden folder (no ${GOLDEN_META_FILE})`);
  }
}

/** Compares the run folder `runDir` with the golden folder `goldenDir`. */
export function checkGolden(runDir: string, goldenDir: string): GoldenReport {
  assertGoldenFolder(goldenDir);
  const golden = comparedFiles(goldenDir);
  const now = comparedFiles(runDir);
  const nowSet = new Set(now);
  const goldenSet = new Set(golden);
  const all = [...new Set([...golden, ...now])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const differences: GoldenDifference[] = [];
  for (const file of all) {
    const say = (text: string): void => void differences.push({ file, message: `${file}: ${text}` });
    if (!nowSet.has(file)) say('only in golden');
    else if (!goldenSet.has(file)) say('only in now');
    else {
      const g = readFileSync(join(goldenDir, file));
      const n = readFileSync(join(runDir, file));
      if (g.equals(n)) continue;
      const lines = file.endsWith('.pcap') ? pcapDifferences(g, n) : [textDifference(g.toString('utf8'), n.toString('utf8'))];
      for (const l of lines) say(l);
    }
  }
  const differingFiles = new Set(differences.map((d) => d.file)).size;
  return { ok: differences.length === 0, differences, files: all.length, differingFiles };
}

/** `golden check: 3 differences in 2 files` / `golden check: 14 files identical`. */
export function summaryLine(r: GoldenReport): string {
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  return r.ok
    ? `golden check: ${plural(r.files, 'file')} identical`
    : `golden check: ${plural(r.differences.length, 'difference')} in ${plural(r.differingFiles, 'file')}`;
}

/** The lines that say how two unequal classic pcap files differ (see the module comment). */
function pcapDifferences(golden: Uint8Array, now: Uint8Array): string[] {
  let g: PcapFile;
  let n: PcapFile;
  try {
    g = readPcap(golden);
  } catch (e) {
    if (e instanceof CaptureFormatError) return [`golden is not a readable pcap: ${e.message}`];
    throw e;
  }
  try {
    n = readPcap(now);
  } catch (e) {
    if (e instanceof CaptureFormatError) return [`now is not a readable pcap: ${e.message}`];
    throw e;
  }
  const out: string[] = [];
  for (const key of ['byteOrder', 'resolution', 'versionMajor', 'versionMinor', 'thiszone', 'snaplen', 'linktype'] as const satisfies readonly (keyof PcapHeader)[]) {
    if (g.header[key] !== n.header[key]) {
      out.push(`pcap header ${key}: golden ${g.header[key]}, now ${n.header[key]}`);
      break;
    }
  }
  if (g.packets.length !== n.packets.length) out.push(`packet count: golden ${g.packets.length}, now ${n.packets.length}`);
  const common = Math.min(g.packets.length, n.packets.length);
  let firstBytes = common;
  for (let i = 0; i < common; i++) {
    const gp = g.packets[i]!;
    const np = n.packets[i]!;
    if (gp.capturedLen !== np.capturedLen && gp.originalLen === np.originalLen && isPrefix(gp.data, np.data)) {
      // The same frame on the wire, cut at another snaplen: decoding the cut one would only say
      // that its headers run past its end.
      out.push(`packet ${i + 1} captured length: golden ${gp.capturedLen}, now ${np.capturedLen}`);
      firstBytes = i;
      break;
    }
    const d = firstDifference(gp.data, np.data);
    if (d) {
      out.push(`packet ${i + 1}, ${formatDifference(d)}`);
      firstBytes = i;
      break;
    }
    if (gp.originalLen !== np.originalLen) {
      // Equal captured bytes, unequal wire lengths: a snaplen cut the frame short.
      out.push(`packet ${i + 1} original length: golden ${gp.originalLen}, now ${np.originalLen}`);
      firstBytes = i;
      break;
    }
  }
  for (let i = 0; i <= Math.min(firstBytes, common - 1); i++) {
    const gp = g.packets[i]!;
    const np = n.packets[i]!;
    if (gp.timestampSec !== np.timestampSec || gp.timestampNsec !== np.timestampNsec) {
      // A packet both late and different is reported by its bytes; an earlier late one by its time.
      if (i < firstBytes) out.push(`packet ${i + 1} time: golden ${virtualTime(gp.timestampSec, gp.timestampNsec)}, now ${virtualTime(np.timestampSec, np.timestampNsec)}`);
      break;
    }
  }
  // Whatever else differs (a field the reader does not expose): still a difference, byte for byte.
  if (out.length === 0) out.push(`bytes differ from file offset ${firstDifferentOffset(golden, now)}`);
  return out;
}

/** Seconds of virtual time since the cluster's creation, to the nanosecond (`1.000250000`). */
function virtualTime(sec: number, nsec: number): string {
  const s = sec >= VIRTUAL_EPOCH_SEC ? sec - VIRTUAL_EPOCH_SEC : sec;
  return `${s}.${String(nsec).padStart(9, '0')}`;
}

/** Whether the shorter of `a` and `b` is the start of the other. */
function isPrefix(a: Uint8Array, b: Uint8Array): boolean {
  return firstDifferentOffset(a, b) === Math.min(a.length, b.length);
}

function firstDifferentOffset(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

const MAX_LINE = 120;

function quoteLine(line: string | undefined): string {
  if (line === undefined) return 'end of file';
  return JSON.stringify(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);
}

/** `line 3: golden "…", now "…"` for the first line that differs. */
function textDifference(golden: string, now: string): string {
  const g = golden.split('\n');
  const n = now.split('\n');
  for (let i = 0; i < Math.max(g.length, n.length); i++) {
    if (g[i] !== n[i]) return `line ${i + 1}: golden ${quoteLine(g[i])}, now ${quoteLine(n[i])}`;
  }
  return 'bytes differ (same lines: line endings or encoding)';
}

/**
 * Makes `goldenDir` the golden folder of the run `runDir`: the compared files and golden.json
 * (scenario, seed and podwire version from the run's run.json). Written beside the target and
 * renamed into place, so a golden folder is never half-written; an existing folder is replaced
 * only if it is a golden folder (or empty), never some other folder given by mistake.
 */
export function updateGolden(runDir: string, goldenDir: string): { readonly files: number; readonly meta: GoldenMeta } {
  const runJson = join(runDir, 'run.json');
  if (!existsSync(runJson)) throw new GoldenFolderError('not-a-run', `${runDir}: not a run folder (no run.json)`);
  const run = JSON.parse(readFileSync(runJson, 'utf8')) as { podwire: string; scenario: string; seed: number };
  const meta: GoldenMeta = { podwire: run.podwire, scenario: run.scenario, seed: run.seed };
  const target = resolve(goldenDir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new GoldenFolderError('not-golden', `${goldenDir}: exists and is not a folder`);
    if (readdirSync(target).length > 0 && !existsSync(join(target, GOLDEN_META_FILE))) {
      throw new GoldenFolderError('not-golden', `${goldenDir}: exists and is not a golden folder (no ${GOLDEN_META_FILE}); not replacing it`);
    }
  }
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(target)}.podwire-tmp-${process.pid}`);
  const old = join(parent, `.${basename(target)}.podwire-old-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  rmSync(old, { recursive: true, force: true });
  const files = comparedFiles(runDir);
  try {
    mkdirSync(tmp);
    for (const f of files) {
      const to = join(tmp, ...f.split('/'));
      mkdirSync(dirname(to), { recursive: true });
      cpSync(join(runDir, f), to);
    }
    writeFileSync(join(tmp, GOLDEN_META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
    // rename(2) does not replace a non-empty folder: move the old one aside first, and back if
    // the second rename fails.
    const hadOld = existsSync(target);
    if (hadOld) renameSync(target, old);
    try {
      renameSync(tmp, target);
    } catch (e) {
      if (hadOld) renameSync(old, target);
      throw e;
    }
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { files: files.length, meta };
}
