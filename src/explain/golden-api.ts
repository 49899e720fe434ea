/**
 * `podwire/golden`: golden checks in a user's own tests, in three lines —
 *
 *   import { expectGolden } from 'podwire/golden';
 *   it('cross-node ping is unchanged', async () => {
 *     await expectGolden('scenarios/cross-node-ping.yaml', 'test/golden/cross-node-ping');
 *   });
 *
 * expectGolden runs the scenario and compares every interface's capture and every output with
 * the golden folder; on any difference it throws an Error whose message lists them, one line
 * each, so the test fails saying which interface, packet, header and field. With `update` (by
 * default: when the environment has PODWIRE_UPDATE_GOLDEN=1) it writes the golden folder
 * instead — how it is made the first time, and after an intended change.
 */
import { GoldenFolderError, summaryLine, type GoldenDifference, type GoldenReport } from './golden.js';
import { runGolden } from './golden-run.js';

export { checkGolden, updateGolden, summaryLine, type GoldenDifference, type GoldenReport, type GoldenMeta } from './golden.js';
export { firstDifference, formatDifference, type FrameDifference } from './field-diff.js';

export interface ExpectGoldenOptions {
  /** The run's seed; default: the golden folder's own (golden.json), else 1. */
  readonly seed?: number;
  /** Write the golden folder instead of checking it; default: PODWIRE_UPDATE_GOLDEN=1 in the environment. */
  readonly update?: boolean;
}

export type ExpectGoldenResult =
  | { readonly updated: false; readonly report: GoldenReport }
  | { readonly updated: true; readonly files: number };

/** How many difference lines the thrown message lists before `… and N more`. */
const MAX_LINES = 20;

/** The run differs from its golden folder; `differences` has every line, the message the first 20. */
export class GoldenMismatchError extends Error {
  override readonly name = 'GoldenMismatchError';
  constructor(
    message: string,
    readonly differences: readonly GoldenDifference[],
  ) {
    super(message);
  }
}

export async function expectGolden(scenarioPath: string, goldenDir: string, opts: ExpectGoldenOptions = {}): Promise<ExpectGoldenResult> {
  const update = opts.update ?? process.env['PODWIRE_UPDATE_GOLDEN'] === '1';
  let r;
  try {
    r = runGolden(scenarioPath, goldenDir, { ...(opts.seed !== undefined && { seed: opts.seed }), update });
  } catch (e) {
    if (e instanceof GoldenFolderError && e.reason === 'missing') {
      throw new GoldenFolderError('missing', `${e.message}: create it with expectGolden(…, { update: true }) or PODWIRE_UPDATE_GOLDEN=1`);
    }
    throw e;
  }
  if (r.mode === 'update') return { updated: true, files: r.files };
  if (!r.report.ok) {
    const lines = r.report.differences.map((d) => `  ${d.message}`);
    const shown = lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), `  … and ${lines.length - MAX_LINES} more`] : lines;
    throw new GoldenMismatchError(
      [
        `${scenarioPath} (seed ${r.seed}) differs from ${goldenDir}: ${summaryLine(r.report).replace(/^golden check: /, '')}`,
        ...shown,
        'If the change is intended, update the golden folder: PODWIRE_UPDATE_GOLDEN=1',
      ].join('\n'),
      r.report.differences,
    );
  }
  return { updated: false, report: r.report };
}
