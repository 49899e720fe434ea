/**
 * The output folder of a run, written as a whole or not at all: everything goes into a temporary
 * folder beside the target, which is renamed into place when the run completes; a failed run
 * removes it (DESIGN.md: no folder ever looks complete when it is not).
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export class RunFolder {
  readonly target: string;
  readonly tmp: string;
  private finished = false;

  constructor(out: string, replace: boolean) {
    this.target = resolve(out);
    if (existsSync(this.target) && !replace) throw new RunFolderError(`${out} already exists (use --force to replace it)`);
    const parent = dirname(this.target);
    mkdirSync(parent, { recursive: true });
    this.tmp = join(parent, `.podwire-tmp-${basename(this.target)}-${process.pid}`);
    rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(this.tmp);
  }

  path(...parts: string[]): string {
    return join(this.tmp, ...parts);
  }

  writeText(rel: string, text: string): void {
    const p = this.path(rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }

  writeJson(rel: string, value: unknown): void {
    this.writeText(rel, `${JSON.stringify(value, null, 2)}\n`);
  }

  /** Puts the complete folder in place (replacing an old one when allowed). */
  commit(): void {
    rmSync(this.target, { recursive: true, force: true });
    renameSync(this.tmp, this.target);
    this.finished = true;
  }

  /** Removes the temporary folder of a run that did not complete. */
  abandon(): void {
    if (!this.finished) rmSync(this.tmp, { recursive: true, force: true });
  }
}

export class RunFolderError extends Error {
  override readonly name = 'RunFolderError';
}
