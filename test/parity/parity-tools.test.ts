/**
 * Kernel parity with the real netcat-openbsd, udp-send's kernel-side equivalent and the http-echo
 * stand-in (root only; skipped LOUDLY otherwise, never passed): every interface, lo included,
 * captures the same packets on the kernel as in podwire, and the programs print what podwire's do.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompareReport } from '../../src/compare/index.js';
import { have, kernelUnavailable } from '../../src/parity/kernel.js';
import { NC_OPENBSD } from '../../src/parity/stand-ins/nc-listener.js';
import { tsharkSummary } from '../helpers/tshark.js';

const reason = kernelUnavailable() ?? (have(NC_OPENBSD) ? undefined : `${NC_OPENBSD} is not installed (apt-get install netcat-openbsd)`);
if (reason !== undefined) console.warn(`KERNEL PARITY (nc, udp-send, http-echo) NOT RUN (skipped, not passed): ${reason}`);

const work = mkdtempSync(join(tmpdir(), 'podwire-parity-tools-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function parity(scenario: string) {
  const out = join(work, scenario.replace(/\W/g, '_'));
  rmSync(out, { recursive: true, force: true }); // a retried test runs again into the same folder
  const r = spawnSync('node', ['dist/src/cli/main.js', 'parity', scenario, '-o', out], { encoding: 'utf8', timeout: 180_000 });
  const made = /kernel: \d+ namespaces \(([^)]*)\)/.exec(r.stderr)?.[1]?.split(', ') ?? [];
  const now = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]);
  const pids = [...r.stderr.matchAll(/listening \(pid (\d+)\)/g)].map((m) => m[1]!);
  return { out, code: r.status, stdout: r.stdout, stderr: r.stderr, leftBehind: made.filter((n) => now.includes(n)), alive: pids.filter((p) => existsSync(`/proc/${p}`)) };
}

const text = (...p: string[]) => readFileSync(join(...p), 'utf8');

// One retry: the real programs race each other, and a loaded two-core machine can move a timer past a packet.
describe.skipIf(reason !== undefined)(`podwire parity with nc, udp-send and http-echo on the real kernel${reason ? ` — SKIPPED: ${reason}` : ''}`, { retry: 1 }, () => {
  for (const [scenario, points] of [
    ['scenarios/reference/mtu.yaml', 30],
    ['scenarios/udp-nc.yaml', 18],
  ] as const) {
    it(`${scenario}: the real nc -lku receives; every interface the same on the kernel as in podwire`, () => {
      const r = parity(scenario);
      expect(r.leftBehind).toEqual([]);
      expect(r.alive).toEqual([]);
      expect(r.stderr).not.toContain('warning:');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`^kernel: pod default/pc \\((sink|nc)\\): the real ${NC_OPENBSD} -lku 9000 listening \\(pid \\d+\\)$`, 'm'));
      const report = JSON.parse(text(r.out, 'report.json')) as CompareReport;
      expect(report.points.length).toBe(points);
      expect(report.points.filter((p) => p.status !== 'match').map((p) => p.capturePoint)).toEqual([]);
      const pc = report.points.find((p) => p.capturePoint === 'kr-pc-eth0')!;
      expect(pc.reference.length).toBeGreaterThan(3);
      expect(pc.reference).toEqual(pc.podwire);
      expect(tsharkSummary(join(r.out, 'kernel', 'captures', 'pc', 'eth0.pcap'))).toHaveLength(pc.reference.length);
      // What the programs printed, on both sides.
      for (let step = 1; step <= (scenario.includes('mtu') ? 3 : 2); step++) {
        const f = `0${step}-pa.txt`;
        expect(text(r.out, 'kernel', 'outputs', f), f).toBe(text(r.out, 'podwire', 'outputs', f).replace(/command terminated with exit code \d+\n$/, ''));
      }
      const log = scenario.includes('mtu') ? 'pc-sink.log' : 'pc-nc.log';
      expect(text(r.out, 'kernel', 'outputs', 'containers', log)).toBe(text(r.out, 'podwire', 'outputs', 'containers', log));
    });
  }

  it('scenarios/reference/mtu.yaml: the kernel-side udp-send prints the reference\'s traffic.log, line for line', () => {
    const out = join(work, 'scenarios_reference_mtu_yaml', 'kernel', 'outputs');
    const lines = ['01', '02', '03'].map((n) => text(out, `${n}-pa.txt`)).join('');
    expect(lines).toBe(text('fixtures', 'kernel', 'mtu', 'traffic.log'));
  });

  it('scenarios/app-bound-to-localhost.yaml: the http-echo stand-in on 127.0.0.1; RST from eth0, the exchange on lo', () => {
    const r = parity('scenarios/app-bound-to-localhost.yaml');
    expect(r.leftBehind).toEqual([]);
    expect(r.alive).toEqual([]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(text(r.out, 'report.json')) as CompareReport;
    expect(report.points.filter((p) => p.status !== 'match').map((p) => p.capturePoint)).toEqual([]);
    const lo = report.points.find((p) => p.capturePoint === 'kr-payment-api-lo')!;
    expect(lo.reference.length).toBe(10);
    expect(lo.reference).toEqual(lo.podwire);
    expect(text(r.out, 'kernel', 'outputs', '01-checkout-api.txt')).toMatch(/^curl: \(7\) Failed to connect to 10\.244\.2\.2 port 3000 after \d+ ms: Couldn't connect to server\n$/);
    expect(text(r.out, 'kernel', 'outputs', '02-payment-api.txt')).toContain('{"status":"ok"}\n');
  });
});
