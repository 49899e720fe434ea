import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareRun } from '../../src/compare/index.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { captureProblems } from '../helpers/tshark.js';

const root = mkdtempSync(join(tmpdir(), 'podwire-ref-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(['same-node-ping', 'cross-node-ping'])('kernel reference: %s', (name) => {
  it('matches the Linux kernel at every capture point', () => {
    const run = runScenario(loadScenarioFile(`scenarios/reference/${name}.yaml`), { out: join(root, name), seed: 1 });
    const report = compareRun(`fixtures/kernel/${name}`, run.dir);
    const differing = report.points.filter((p) => p.status !== 'match').map((p) => p.capturePoint);
    expect(differing).toEqual([]);
    expect(report.points).toHaveLength(17);
    expect(report.summary).toBe(`${name}: 17/17 capture points match`);
  });
});

describe('kernel reference: mtu', () => {
  const run = runScenario(loadScenarioFile('scenarios/reference/mtu.yaml'), { out: join(root, 'mtu'), seed: 1 });

  it('matches the Linux kernel at every capture point, n1 cni0 showing the datagram conntrack reassembled', () => {
    const report = compareRun('fixtures/kernel/mtu', run.dir);
    expect(report.points.filter((p) => p.status !== 'match').map((p) => p.capturePoint)).toEqual([]);
    expect(report.points).toHaveLength(17);
    expect(report.summary).toBe('mtu: 17/17 capture points match');
  });

  it('prints what the reference commands printed, and pc receives both datagrams that were sent', () => {
    const printed = run.steps.map((s) => s.output.split('\n')[0]).join('\n');
    expect(`${printed}\n`).toBe(readFileSync('fixtures/kernel/mtu/traffic.log', 'utf8'));
    expect(run.steps.map((s) => s.exitCode)).toEqual([1, 0, 0]);
    // nc -lku writes each datagram's bytes as they come: 1400 and 1472 zero bytes (the reference's "udp_sink").
    expect(readFileSync(join(run.dir, 'outputs/containers/pc-sink.log')).length).toBe(1400 + 1472);
  });

  it('writes captures tshark decodes cleanly, fragments included', () => {
    const index = JSON.parse(readFileSync(join(run.dir, 'interfaces.json'), 'utf8')) as { interfaces: { file: string }[] };
    for (const i of index.interfaces) expect(captureProblems(join(run.dir, i.file)), i.file).toEqual([]);
  });
});
