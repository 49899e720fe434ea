/**
 * What this kernel lacks is reported as "not realizable here", never as passed: the check against
 * a probe's answer (faked here: the real probe needs root), and the realization plan of a model
 * that needs a device kind the kernel lacks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_FEATURES, unsupportedFeatures, unsupportedReason, type FeatureProbe } from '../../src/parity/kernel-features.js';
import { planRealization, type KernelPlan } from '../../src/parity/realize.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { RunStopped, runScenario } from '../../src/scenario/run.js';

/** This machine's kernel, as the issue describes it: veth, bridge, vxlan; none of the rest. */
const THIS_KERNEL: FeatureProbe = new Map(ALL_FEATURES.map((f) => [f, ['veth', 'bridge', 'vxlan'].includes(f) ? { ok: true as const } : { ok: false as const, detail: 'Error: Unknown device type.' }]));

describe('unsupportedReason', () => {
  it('names the module the kernel lacks', () => {
    expect(unsupportedReason('veth', THIS_KERNEL)).toBeUndefined();
    expect(unsupportedReason('ipip', THIS_KERNEL)).toBe('not realizable here: ipip (this kernel has no ipip)');
    expect(unsupportedReason('gre', THIS_KERNEL)).toBe('not realizable here: gre (this kernel has no ip_gre)');
    expect(unsupportedReason('ipvs', THIS_KERNEL)).toBe('not realizable here: ipvs (this kernel has no ip_vs)');
    expect(unsupportedReason('wireguard', THIS_KERNEL)).toBe('not realizable here: wireguard (this kernel has no wireguard)');
  });

  it('a feature the probe never saw is not claimed', () => {
    expect(unsupportedReason('geneve', THIS_KERNEL)).toBe('not realizable here: geneve (not probed on this kernel)');
  });

  it('one reason per missing kind of a device list, in first-use order', () => {
    expect(unsupportedFeatures(['veth', 'macvlan', 'bridge', 'dummy', 'macvlan', 'vxlan'], THIS_KERNEL)).toEqual([
      'not realizable here: macvlan (this kernel has no macvlan)',
      'not realizable here: dummy (this kernel has no dummy)',
    ]);
    expect(unsupportedFeatures(['veth', 'bridge', 'vxlan'], THIS_KERNEL)).toEqual([]);
  });
});

function planFor(file: string, probe: FeatureProbe): KernelPlan {
  const dir = mkdtempSync(join(tmpdir(), 'podwire-features-'));
  let plan: KernelPlan | undefined;
  try {
    runScenario(loadScenarioFile(file), { out: join(dir, 'run'), seed: 1, stopAtNs: 1e9, onStop: (c) => (plan = planRealization(c, 'pwp1', probe)) });
  } catch (e) {
    if (!(e instanceof RunStopped)) throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return plan!;
}

describe('planRealization against the kernel', () => {
  it('plans a model whose every device kind the kernel has', () => {
    const plan = planFor('scenarios/cross-node-ping.yaml', THIS_KERNEL);
    expect(plan.notRealizable).toEqual([]);
    expect(plan.commands.length).toBeGreaterThan(0);
  });

  it('plans nothing, and says why, for a model needing a kind the kernel lacks (flannel VXLAN without vxlan)', () => {
    const noVxlan: FeatureProbe = new Map([...THIS_KERNEL, ['vxlan', { ok: false, detail: 'Error: Unknown device type.' }]]);
    const plan = planFor('scenarios/cross-node-ping.yaml', noVxlan);
    expect(plan.notRealizable).toEqual(['not realizable here: vxlan (this kernel has no vxlan)']);
    expect(plan.commands).toEqual([]);
    expect(plan.namespaces).toEqual([]);
  });
});
