/** compareRunFolders: two run folders laid out alike, paired by netns and interface name. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CompareInputError, compareRunFolders } from '../../src/compare/index.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-compare-runs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const run = (file: string): string => runScenario(loadScenarioFile(file), { out: join(dir, `run-${n++}`), seed: 1 }).dir;

describe('compareRunFolders', () => {
  const same = run('scenarios/same-node-ping.yaml');

  it('a run against a second run of itself: every interface matches', () => {
    const r = compareRunFolders(same, run('scenarios/same-node-ping.yaml'), { knownDifferences: [] });
    expect(r.ok).toBe(true);
    expect(r.points.map((p) => p.capturePoint).sort()).toEqual(['kr-n1-cni0', 'kr-n1-veth3ef4d7d1', 'kr-n1-veth3fcb51f7', 'kr-pa-eth0', 'kr-pb-eth0']);
    expect(r.summary).toBe('same-node-ping: 5/5 capture points match');
  });

  it('a different journey differs, per interface', () => {
    const r = compareRunFolders(same, run('scenarios/cross-node-ping.yaml'), { scenario: 'x', knownDifferences: [] });
    expect(r.ok).toBe(false);
    const pa = r.points.find((p) => p.capturePoint === 'kr-pa-eth0')!;
    expect(pa.status).toBe('differ');
    expect(r.summary).toMatch(/^x: \d+\/5 capture points match; differ: .*kr-pa-eth0/);
    // cross-node's flannel.1 and eth0 have no counterpart among same-node's interfaces.
    expect(r.extra.map((e) => e.file)).toContain('captures/n1/flannel.1.pcap');
  });

  it('a folder that is not a run is bad input', () => {
    expect(() => compareRunFolders(join(dir, 'none'), same)).toThrow(CompareInputError);
  });
});
