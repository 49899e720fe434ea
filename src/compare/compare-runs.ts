/**
 * Compares two run folders laid out alike (run.json, interfaces.json, captures/<host>/<iface>.pcap):
 * kernel parity's capture of the real kernel, as the reference, against podwire's run of the same
 * scenario. Both sides name their interfaces the same way (parity realizes podwire's own devices),
 * so capture points pair by netns and interface name rather than by role. Each side is taken from
 * its run.json's trafficStartNs on; an interface one side wrote no file for has 0 packets there.
 * The signatures, the diff and the known differences are compare's own (compare.ts).
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { comparePoint, summarize, type CapturePointReport, type CompareReport, type ExtraInterface } from './compare.js';
import { CompareInputError } from './errors.js';
import { packetsFrom, readCapturePackets, readRunFolder, type RunFolder, type RunInterface } from './folders.js';
import { defaultKnownDifferencesPath, knownFor, loadKnownDifferences, type KnownDifference } from './known-differences.js';
import { signatures } from './signature.js';

export interface CompareRunsOptions {
  /** The scenario name the known differences are looked up under; default: the reference's run.json scenario file without folder and .yaml. */
  readonly scenario?: string;
  readonly knownDifferences?: readonly KnownDifference[];
}

const key = (i: RunInterface): string => `${i.netns}/${i.name}`;

/** The capture point's name in reports and in known-differences.yaml: `kr-<netns>-<iface>`, as the references name theirs. */
export function runPointName(i: RunInterface): string {
  return `kr-${i.netns}-${i.name}`;
}

function lines(run: RunFolder, i: RunInterface | undefined, warnings: string[]): { lines: string[]; file?: string } {
  if (!i) return { lines: [] };
  const path = join(run.dir, i.file);
  if (!existsSync(path)) {
    warnings.push(`${run.dir}/${i.file}: listed in interfaces.json but absent; counted as 0 packets`);
    return { lines: [], file: i.file };
  }
  return { lines: signatures(packetsFrom(readCapturePackets(path), run.run.trafficStartNs, run.run.epochSec)), file: i.file };
}

/**
 * Every interface of `referenceDir` (the kernel's, which captured on every device) against the
 * same interface in `runDir` (podwire's). podwire interfaces with traffic where the reference took
 * no capture are listed as extra.
 */
export function compareRunFolders(referenceDir: string, runDir: string, opts: CompareRunsOptions = {}): CompareReport {
  const reference = readRunFolder(referenceDir);
  const run = readRunFolder(runDir);
  if (reference.interfaces.length === 0) throw new CompareInputError(`${referenceDir}: interfaces.json lists no interfaces`);
  const scenario = opts.scenario ?? basename(reference.run.scenario).replace(/\.ya?ml$/, '');
  const known = opts.knownDifferences ?? loadKnown();
  const warnings: string[] = [];
  const podwireByKey = new Map(run.interfaces.map((i) => [key(i), i]));
  const used = new Set<string>();

  const points = reference.interfaces.map((ref): CapturePointReport => {
    const pw = podwireByKey.get(key(ref));
    if (pw) used.add(key(ref));
    const refSide = lines(reference, ref, warnings);
    const pwSide = lines(run, pw, warnings);
    const name = runPointName(ref);
    return comparePoint({
      capturePoint: name,
      role: `${ref.host} ${ref.name}`,
      referenceFile: ref.file,
      ...(pwSide.file !== undefined && { podwireFile: pwSide.file }),
      reference: refSide.lines,
      podwire: pwSide.lines,
      known: knownFor(known, scenario, name),
    });
  });

  const extra: ExtraInterface[] = [];
  for (const i of run.interfaces) {
    if (used.has(key(i))) continue;
    const n = lines(run, i, warnings).lines.length;
    if (n > 0) extra.push({ file: i.file, host: i.host, hostKind: i.hostKind, name: i.name, kind: i.kind, packets: n });
  }
  const matching = points.filter((p) => p.status !== 'differ').length;
  return {
    scenario,
    referenceDir: reference.dir,
    runDir: run.dir,
    trafficStartNs: run.run.trafficStartNs,
    points,
    extra,
    warnings,
    matching,
    ok: matching === points.length,
    summary: summarize(scenario, points),
  };
}

function loadKnown(): readonly KnownDifference[] {
  const path = defaultKnownDifferencesPath();
  return path === undefined ? [] : loadKnownDifferences(path);
}
