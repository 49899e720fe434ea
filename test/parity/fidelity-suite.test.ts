/**
 * Every bundled scenario on the real kernel, in one `podwire parity scenarios` run, against the
 * README's fidelity table: a scenario that passed and now differs, one that now passes but the
 * table says otherwise, or a new scenario missing from it fails here — the table is what the code
 * does. Regenerate it with `sudo podwire parity scenarios -o DIR --fidelity README.md` and review
 * the diff. Needs root and `ip netns`: skipped LOUDLY otherwise, never passed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFidelitySection, renderFidelityTable, type FidelityRow } from '../../src/parity/fidelity.js';
import { kernelUnavailable } from '../../src/parity/kernel.js';

const reason = kernelUnavailable();
if (reason !== undefined) console.warn(`KERNEL FIDELITY SUITE NOT RUN (skipped, not passed): ${reason}`);

const work = mkdtempSync(join(tmpdir(), 'podwire-fidelity-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The table's scenario rows (the closing line names the kernel, which may differ between machines). */
const rowsOf = (table: string): string[] => table.split('\n').filter((l) => l.startsWith('| `'));

describe.skipIf(reason !== undefined)(`every bundled scenario on the real kernel${reason ? ` — SKIPPED: ${reason}` : ''}`, () => {
  it("matches the README's fidelity table, row by row, and leaves no namespace behind", () => {
    const out = join(work, 'suite');
    const r = spawnSync('node', ['dist/src/cli/main.js', 'parity', 'scenarios', '-o', out], { encoding: 'utf8', timeout: 40 * 60_000, maxBuffer: 256 * 1024 * 1024 });
    const { scenarios } = JSON.parse(readFileSync(join(out, 'fidelity.json'), 'utf8')) as { scenarios: FidelityRow[] };
    const now = rowsOf(renderFidelityTable(scenarios, ''));
    const readme = rowsOf(readFidelitySection(readFileSync('README.md', 'utf8')) ?? '');
    expect(now, r.stdout.slice(-4000)).toEqual(readme);
    expect(scenarios.filter((s) => s.status === 'error').map((s) => `${s.file}: ${s.detail.join('; ')}`)).toEqual([]);
    // Exit 0 exactly when every scenario passes.
    expect(r.status).toBe(scenarios.every((s) => s.status === 'pass') ? 0 : 1);
    // Every namespace the run made was removed (their names carry the child's PID).
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith(`pwp${r.pid}-`));
    expect(left).toEqual([]);
    expect(r.stderr).not.toContain('warning: namespaces left behind');
  }, 45 * 60_000);
});
