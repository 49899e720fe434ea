/**
 * A golden check from a scenario file: the scenario runs into a temporary folder (removed
 * afterwards, whatever happens), which is then compared with the golden folder or becomes it.
 * The seed is the one given, else the golden's own (golden.json), else 1 — as `podwire run`.
 * Shared by `podwire golden check` and the library's expectGolden.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenarioFile } from '../scenario/load.js';
import { runScenario } from '../scenario/run.js';
import { assertGoldenFolder, checkGolden, readGoldenMeta, updateGolden, type GoldenReport } from './golden.js';

export interface GoldenRunOptions {
  readonly seed?: number;
  /** Write the golden folder from this run instead of comparing with it. */
  readonly update?: boolean;
}

export type GoldenRunResult =
  | { readonly mode: 'check'; readonly seed: number; readonly report: GoldenReport }
  | { readonly mode: 'update'; readonly seed: number; readonly files: number };

/** The seed a golden check runs with (see the module comment). */
export function goldenSeed(goldenDir: string, seed: number | undefined): number {
  return seed ?? readGoldenMeta(goldenDir)?.seed ?? 1;
}

/**
 * Runs `scenarioPath` and checks it against (or, with `update`, writes) `goldenDir`. A scenario
 * that does not load or run throws as `podwire run` would (ScenarioError); a golden folder that
 * is missing (and not being written) throws GoldenFolderError before anything runs.
 */
export function runGolden(scenarioPath: string, goldenDir: string, opts: GoldenRunOptions = {}): GoldenRunResult {
  const update = opts.update ?? false;
  // Refuse a missing golden before the run: the user learns it at once.
  if (!update) assertGoldenFolder(goldenDir);
  const seed = goldenSeed(goldenDir, opts.seed);
  const spec = loadScenarioFile(scenarioPath);
  const tmp = mkdtempSync(join(tmpdir(), 'podwire-golden-'));
  try {
    const run = runScenario(spec, { out: join(tmp, 'run'), seed });
    if (update) return { mode: 'update', seed, files: updateGolden(run.dir, goldenDir).files };
    return { mode: 'check', seed, report: checkGolden(run.dir, goldenDir) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
