/**
 * Reading kube-proxy's endpoint choice back from a run's captures (no root needed: podwire's own
 * runs of the clusterip-http reference), and the statistic seed that steers it without touching
 * anything else of the run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/packet/addr.js';
import { describeChoices, dnatChoices } from '../../src/parity/endpoints.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-endpoints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const spec = loadScenarioFile('scenarios/reference/clusterip-http.yaml');
const services = new Set([parseIpv4('10.96.0.100'), parseIpv4('10.96.0.10'), parseIpv4('10.96.0.200'), parseIpv4('10.96.0.1')]);

describe('dnatChoices', () => {
  it('finds the endpoint kube-proxy on n1 DNATed the SYN to, whichever it was', () => {
    const toPc = join(dir, 'pc');
    runScenario(spec, { out: toPc, seed: 1 });
    expect(readFileSync(join(toPc, 'outputs', '01-pa.txt'), 'utf8')).toBe('kr-pc\n');
    expect(dnatChoices(toPc, services)).toEqual([{ node: 'n1', service: '10.96.0.100:80', endpoint: '10.244.2.2:8080' }]);

    // Only the statistic streams re-seeded: the other endpoint, with everything else the run's own.
    const toPb = join(dir, 'pb');
    runScenario(spec, { out: toPb, seed: 1, statisticSeed: 2 });
    expect(readFileSync(join(toPb, 'outputs', '01-pa.txt'), 'utf8')).toBe('kr-pb\n');
    expect(describeChoices(dnatChoices(toPb, services))).toEqual(['kube-proxy on n1 chose 10.244.1.3:8080 for 10.96.0.100:80']);
    const macs = (run: string): string[] => (JSON.parse(readFileSync(join(run, 'interfaces.json'), 'utf8')) as { interfaces: { netns: string; name: string; mac: string }[] }).interfaces.map((i) => `${i.netns}/${i.name} ${i.mac}`);
    // (interfaces.json lists the interfaces that carried packets: pb's run never used the underlay.)
    expect(macs(toPb).length).toBeGreaterThan(5);
    expect(macs(toPb).filter((m) => !macs(toPc).includes(m))).toEqual([]);
    expect((JSON.parse(readFileSync(join(toPb, 'run.json'), 'utf8')) as { statisticSeed?: number }).statisticSeed).toBe(2);
  });

  it('sees no choice where nothing went to a ClusterIP', () => {
    const run = join(dir, 'none');
    runScenario(spec, { out: run, seed: 1 });
    expect(dnatChoices(run, new Set())).toEqual([]);
  });
});
