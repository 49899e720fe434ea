import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'podwire-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function podwire(...args: string[]) {
  const r = spawnSync('node', ['dist/src/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const GOOD = readFileSync('scenarios/same-node-ping.yaml', 'utf8');

describe('podwire CLI', () => {
  it('runs the default scenario and says where the captures are', () => {
    const out = join(dir, 'run');
    const r = podwire('run', 'scenarios/same-node-ping.yaml', '-o', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 packets transmitted, 2 received, 0% packet loss');
    expect(existsSync(join(out, 'captures', 'pa', 'eth0.pcap'))).toBe(true);
    expect(podwire('compare', 'fixtures/kernel/same-node-ping', out).code).not.toBe(2);
  });

  it.each([
    ['overlapping ranges', GOOD.replace('serviceCIDR: 10.96.0.0/12', 'serviceCIDR: 10.240.0.0/12'), /overlaps/],
    ['a pod on a node that does not exist', GOOD.replace('nodeName: n1', 'nodeName: n9'), /n9/],
    ['YAML that does not parse', `${GOOD}\n  : : [\n`, /:\d+:\d+: /],
  ])('rejects %s with one line, exit 2, no stack trace, no folder', (_name, text, pattern) => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, text);
    const out = join(dir, 'never');
    const r = podwire('run', file, '-o', out);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^podwire: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: `));
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    expect(podwire('validate', file).code).toBe(2);
  });

  it('refuses a bad flag and an unknown command with one line and exit 2', () => {
    for (const args of [['run', 'scenarios/same-node-ping.yaml', '-o', join(dir, 'x'), '--seed', 'abc'], ['frobnicate'], ['run']]) {
      const r = podwire(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('has --help for every command', () => {
    for (const cmd of ['run', 'validate', 'compare', 'example']) {
      const r = podwire(cmd, '--help');
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(/Options:/);
    }
  });
});
