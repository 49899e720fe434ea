// `podwire golden check` as a user runs it: the built command, its output, its exit status.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeTtl, copyGolden, vethCapture } from './golden-tamper.js';

const root = mkdtempSync(join(tmpdir(), 'podwire-golden-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function podwire(...args: string[]) {
  const r = spawnSync('node', ['dist/src/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SCENARIO = 'scenarios/cross-node-ping.yaml';
const pristine = join(root, 'golden');
let n = 0;
const fresh = (): string => copyGolden(pristine, join(root, `case-${++n}`));

describe('podwire golden check', () => {
  beforeAll(() => {
    const r = podwire('golden', 'check', SCENARIO, pristine, '--update');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`golden update: wrote ${pristine}: 17 files (seed 1)\n`);
  });

  it('exits 0 and says so when nothing differs', () => {
    const r = podwire('golden', 'check', SCENARIO, pristine);
    expect(r).toEqual({ code: 0, stdout: 'golden check: 17 files identical\n', stderr: '' });
  });

  it('exits 1 with one line per difference and a summary', () => {
    const g = fresh();
    const file = vethCapture(g, 'n2');
    const c = changeTtl(g, file);
    const r = podwire('golden', 'check', SCENARIO, g);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${file}: packet ${c.packet}, IPv4 Time to live: golden ${c.becomes}, now ${c.was}\ngolden check: 1 difference in 1 file\n`);
  });

  it('--json gives every difference', () => {
    const g = fresh();
    const file = vethCapture(g, 'n2');
    const c = changeTtl(g, file);
    const r = podwire('golden', 'check', SCENARIO, g, '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false, seed: 1, files: 17, differingFiles: 1,
      differences: [{ file, message: `${file}: packet ${c.packet}, IPv4 Time to live: golden ${c.becomes}, now ${c.was}` }],
    });
  });

  it('lists the first 20 differences, then how many more', () => {
    const g = fresh();
    mkdirSync(join(g, 'captures', 'zz'));
    for (let i = 0; i < 25; i++) copyFileSync(join(g, 'captures', 'pa', 'eth0.pcap'), join(g, 'captures', 'zz', `e${String(i).padStart(2, '0')}.pcap`));
    const r = podwire('golden', 'check', SCENARIO, g);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(22);
    expect(lines[0]).toBe('captures/zz/e00.pcap: only in golden');
    expect(lines[20]).toBe('… and 5 more');
    expect(lines[21]).toBe('golden check: 25 differences in 25 files');
  });

  it("runs with the golden folder's seed unless --seed says otherwise", () => {
    const g = join(root, 'seed7');
    expect(podwire('golden', 'check', SCENARIO, g, '--update', '--seed', '7').code).toBe(0);
    expect(JSON.parse(readFileSync(join(g, 'golden.json'), 'utf8'))).toMatchObject({ seed: 7 });
    expect(podwire('golden', 'check', SCENARIO, g).code).toBe(0);
    const other = podwire('golden', 'check', SCENARIO, g, '--seed', '1');
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/only in golden\n/);
  });

  it.each([
    ['a missing golden folder', () => [SCENARIO, join(root, 'none')], /^podwire: .*\/none: no golden folder there; make it with: podwire golden check scenarios\/cross-node-ping.yaml .*\/none --update$/],
    ['a folder that is not a golden one', () => [SCENARIO, 'scenarios'], /^podwire: scenarios: not a golden folder \(no golden.json\)$/],
    ['a scenario that does not exist', () => ['scenarios/nope.yaml', pristine], /^podwire: scenarios\/nope.yaml: cannot read the scenario: no such file$/],
    ['a scenario that does not load', () => {
      const bad = join(root, 'bad.yaml');
      writeFileSync(bad, readFileSync(SCENARIO, 'utf8').replace('nodeName: n2', 'nodeName: n9'));
      return [bad, pristine];
    }, /^podwire: .*bad.yaml:\d+:\d+: .*n9/],
    ['a bad seed', () => [SCENARIO, pristine, '--seed', '-1'], /^podwire: --seed must be an integer/],
  ])('exits 2 with one line for %s', (_name, args, pattern) => {
    const r = podwire('golden', 'check', ...args());
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(pattern);
  });

  it('refuses `podwire golden` without a subcommand, and has --help', () => {
    expect(podwire('golden').code).toBe(2);
    const h = podwire('golden', 'check', '--help');
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/--update/);
  });
});
