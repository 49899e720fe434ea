/**
 * A one-line progress display for long runs on a terminal: a bar of the scenario's steps, the
 * virtual time and the frames captured so far, redrawn in place (carriage return, erase line) at
 * most ten times a second. Only where the stream is a TTY: piped or redirected output gets nothing,
 * so scripts and logs see exactly what they saw before.
 */
import type { RunProgress } from '../scenario/run.js';

const BAR_WIDTH = 24;
/** Wall-clock milliseconds between redraws. */
const REDRAW_MS = 100;

/** The line for `p` (no control characters): `[#########---------------] step 3/8  t=2.350 s  1,234 packets`. */
export function formatProgress(p: RunProgress): string {
  const done = p.steps === 0 ? 1 : Math.min(1, p.step / p.steps);
  const filled = Math.round(done * BAR_WIDTH);
  const step = p.step >= p.steps ? `done ${p.steps}/${p.steps}` : `step ${p.step + 1}/${p.steps}`;
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${step}  t=${(p.nowNs / 1e9).toFixed(3)} s  ${p.packets.toLocaleString('en-US')} packets`;
}

export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): boolean;
}

export class ProgressBar {
  private shown = false;
  private lastDrawMs = -Infinity;

  constructor(
    private readonly stream: ProgressStream,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Whether anything will ever be drawn: only on a terminal. */
  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  update(p: RunProgress): void {
    if (!this.enabled) return;
    const now = this.nowMs();
    if (now - this.lastDrawMs < REDRAW_MS) return;
    this.lastDrawMs = now;
    this.stream.write(`\r\x1b[2K${formatProgress(p)}`);
    this.shown = true;
  }

  /** Erases the bar (before other output, and at the end), so it never mixes with real lines. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[2K');
    this.shown = false;
    // The next update draws at once: the line was just erased.
    this.lastDrawMs = -Infinity;
  }
}
