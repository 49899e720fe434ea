/**
 * The one error the scenario loader throws. It is the user's mistake, not podwire's, so the CLI
 * prints its message as one line — `FILE:LINE:COL: PATH: WHAT`, the shape compilers use, so that
 * editors jump to the place — exits non-zero and shows no stack trace.
 */

/** A place in a scenario file: 1-based line and column, as editors count them. */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  /**
   * `line`/`column` are undefined when the error concerns the whole file (it cannot be read, or
   * a document it needs is missing). `path` names the value in the scenario
   * (`pods[pb].spec.nodeName`, `steps[2]`), empty for YAML syntax errors; `reason` is what is wrong.
   */
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
    readonly path: string,
    readonly reason: string,
  ) {
    super(formatScenarioError(file, line, column, path, reason));
  }

  /** The position as a SourcePos, when the error has one. */
  get pos(): SourcePos | undefined {
    return this.line === undefined ? undefined : { file: this.file, line: this.line, column: this.column ?? 1 };
  }

  override toString(): string {
    return this.message;
  }
}

/** A ScenarioError at a position kept in a spec (for checks made after loading, e.g. by the run). */
export function scenarioErrorAt(pos: SourcePos, path: string, reason: string): ScenarioError {
  return new ScenarioError(pos.file, pos.line, pos.column, path, reason);
}

function formatScenarioError(
  file: string,
  line: number | undefined,
  column: number | undefined,
  path: string,
  reason: string,
): string {
  const where = line === undefined ? file : `${file}:${line}:${column ?? 1}`;
  // One line whatever the input: a reason quoting user text could carry a newline.
  const what = (path === '' ? reason : `${path}: ${reason}`).replace(/\s*[\r\n]+\s*/g, ' ');
  return `${where}: ${what}`;
}
