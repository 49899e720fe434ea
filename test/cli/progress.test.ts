/** The run's progress bar (a terminal only) and `run --json` (scripts). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProgress, ProgressBar } from '../../src/cli/progress-bar.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('formatProgress', () => {
  it('shows the steps as a bar, the virtual time and the frames captured', () => {
    expect(formatProgress({ nowNs: 2_350_000_000, step: 2, steps: 8, packets: 12345 })).toBe('[######------------------] step 3/8  t=2.350 s  12,345 packets');
    expect(formatProgress({ nowNs: 10_501_000_000, step: 6, steps: 6, packets: 448 })).toBe('[########################] done 6/6  t=10.501 s  448 packets');
    expect(formatProgress({ nowNs: 0, step: 0, steps: 0, packets: 0 })).toBe('[########################] done 0/0  t=0.000 s  0 packets');
  });
});

describe('ProgressBar', () => {
  const p = { nowNs: 1e9, step: 0, steps: 2, packets: 3 };
  it('writes nothing when the stream is not a terminal', () => {
    const out: string[] = [];
    const bar = new ProgressBar({ isTTY: false, write: (t) => out.push(t) > 0 });
    bar.update(p);
    bar.clear();
    expect(out).toEqual([]);
  });

  it('redraws in place at most every 100 ms, and erases itself', () => {
    const out: string[] = [];
    let now = 0;
    const bar = new ProgressBar({ isTTY: true, write: (t) => out.push(t) > 0 }, () => now);
    bar.update(p);
    now = 50;
    bar.update({ ...p, packets: 4 });
    now = 120;
    bar.update({ ...p, packets: 5 });
    bar.clear();
    bar.clear();
    expect(out).toEqual([
      '\r\x1b[2K[------------------------] step 1/2  t=1.000 s  3 packets',
      '\r\x1b[2K[------------------------] step 1/2  t=1.000 s  5 packets',
      '\r\x1b[2K',
    ]);
  });
});

describe('podwire run on a terminal and in a script', () => {
  it('shows the bar on a terminal (script(1) gives it one), erased before the end', () => {
    const out = join(dir, 'tty');
    const r = spawnSync('script', ['-qec', `node dist/src/cli/main.js run scenarios/same-node-ping.yaml -o ${out}`, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\r\x1b\[2K\[#*-*\] step 1\/\d+ {2}t=1\.000 s {2}\d+ packets/);
    expect(r.stdout).toMatch(/\] done \d+\/\d+ {2}t=/);
    // The last line is the summary, on a line of its own (the bar erased before it).
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^wrote .*: \d+ capture files/);
  });

  it('prints no bar when stderr is not a terminal, and --json prints only the summary', () => {
    const plain = spawnSync('node', ['dist/src/cli/main.js', 'run', 'scenarios/same-node-ping.yaml', '-o', join(dir, 'plain')], { encoding: 'utf8' });
    expect(plain.status).toBe(0);
    expect(plain.stderr).toBe('');
    const r = spawnSync('node', ['dist/src/cli/main.js', 'run', 'scenarios/same-node-ping.yaml', '-o', join(dir, 'json'), '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as { dir: string; ok: boolean; captures: { file: string; packets: number }[]; steps: { index: number; exitCode: number }[] };
    expect(summary.ok).toBe(true);
    expect(summary.captures.find((c) => c.file === 'captures/pa/eth0.pcap')?.packets).toBeGreaterThan(0);
    expect(summary.steps[0]).toMatchObject({ index: 1, exitCode: 0 });
  });
});
