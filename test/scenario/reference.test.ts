import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareRun } from '../../src/compare/index.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';

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
