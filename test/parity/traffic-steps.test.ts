/**
 * The planners of parity's mid-run steps, without a kernel: ssh (a node's namespace, no names),
 * link down/up (the switch port of the cable), pods added and deleted (the delta between podwire's
 * model before and after the step: namespaces, commands by phase, interfaces, background
 * programs), the read-only tools (ip show, netstat, ss) and the retiming of podwire's steps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InterfaceRecord } from '../../src/capture/index.js';
import { planDelta } from '../../src/parity/realize-delta.js';
import { planRealization } from '../../src/parity/realize.js';
import { retimeSteps } from '../../src/parity/retime.js';
import { planReadOnlyTool } from '../../src/parity/traffic-steps.js';
import type { StepModel } from '../../src/parity/traffic-steps.js';
import { modelTimeline } from '../../src/parity/timeline.js';
import { planStep } from '../../src/parity/traffic.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { RunStopped, runScenario } from '../../src/scenario/run.js';
import type { ScenarioSpec } from '../../src/scenario/spec.js';

/** podwire's model at `atNs`, as parity sees it (parity.ts's viewModel, without the kubelet part). */
function modelAt(spec: ScenarioSpec, atNs: number): StepModel {
  const dir = mkdtempSync(join(tmpdir(), 'podwire-psteps-'));
  let m: StepModel | undefined;
  try {
    runScenario(spec, {
      out: join(dir, 'run'), seed: 1, stopAtNs: atNs,
      onStop: (c) => {
        const plan = planRealization(c, 'pwp1');
        const records = new Map<string, Omit<InterfaceRecord, 'packets'>>();
        for (const i of plan.interfaces) {
          const d = c.namespaces.get(i.netns)!.devices.get(i.name)!;
          const peer = 'peer' in d ? (d as { peer: { netnsName: string; name: string } }).peer : undefined;
          records.set(`${i.netns}/${i.name}`, {
            file: `captures/${i.netns}/${i.name}.pcap`, host: i.netns, hostKind: i.netns === 'underlay' ? 'switch' : c.nodes.has(i.netns) ? 'node' : 'pod',
            netns: i.netns, name: i.name, kind: d.kind, mac: '', mtu: d.mtu, addresses: [],
            ...(peer && peer.netnsName !== i.netns && { peer: { host: peer.netnsName, name: peer.name } }),
          });
        }
        const podNetns = new Map<string, string>();
        const runningPods = new Set<string>();
        for (const p of c.pods.values()) {
          podNetns.set(`${p.model.namespace}/${p.model.name}`, p.netns.name);
          if (p.phase === 'Running') runningPods.add(`${p.model.namespace}/${p.model.name}`);
        }
        m = { plan, records, podNetns, runningPods };
      },
    });
  } catch (e) {
    if (!(e instanceof RunStopped)) throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return m!;
}

function timelineOf(file: string) {
  const spec = loadScenarioFile(file);
  const dir = mkdtempSync(join(tmpdir(), 'podwire-psteps-'));
  try {
    const pw = runScenario(spec, { out: join(dir, 'run'), seed: 1 });
    const first = modelAt(spec, pw.trafficStartNs);
    return { spec, timeline: modelTimeline(spec, first, pw.steps.map((s) => s.endNs), (at) => modelAt(spec, at)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const plan = (spec: ScenarioSpec, t: ReturnType<typeof modelTimeline>, index: number) => {
  const models = t.at(index);
  return planStep(spec.steps[index]!, (ns, name) => models.before.podNetns.get(`${ns}/${name}`), models);
};

describe('parity: link down/up and ssh (link-down.yaml)', () => {
  const { spec, timeline } = timelineOf('scenarios/link-down.yaml');

  it('kubectl run adds the pinger: its namespace, veth pair and cni0 made down, then up, routes last; ping in the background', () => {
    const p = plan(spec, timeline, 0);
    expect(p.ok).toBe(true);
    if (!p.ok || p.step.kind !== 'pods') throw new Error('not a pods step');
    const d = p.step.delta;
    expect(d.addNamespaces.map((n) => n.kernel)).toEqual(['pwp1-pinger']);
    expect(d.removeNamespaces).toEqual([]);
    expect(d.addInterfaces.map((i) => `${i.netns}/${i.name}`).sort()).toEqual(['n1/cni0', 'n1/veth3ef4d7d1', 'pinger/eth0', 'pinger/lo']);
    // Nothing comes up before the captures can start; every up command is in `up`.
    expect(d.setup.some((c) => c.argv.at(-1) === 'up')).toBe(false);
    expect(d.up.map((c) => c.argv.join(' '))).toContain('ip -n pwp1-pinger link set eth0 up');
    expect(d.state.map((c) => c.argv.join(' '))).toContain('ip -n pwp1-pinger route add default via 10.244.1.1 dev eth0');
    expect(p.step.programs).toEqual([{ label: 'pinger-pinger', netns: 'pinger', argv: ['ping', '-c', '5', '-i', '0.2', '10.244.2.2'], timeoutSec: 11 }]);
  });

  it('podwire link down n2 sets the switch port of n2\'s cable down in the switch namespace; up again', () => {
    expect(plan(spec, timeline, 1)).toMatchObject({ ok: true, step: { kind: 'link', netns: 'underlay', device: 'sw-n2', up: false } });
    expect(plan(spec, timeline, 4)).toMatchObject({ ok: true, step: { kind: 'link', netns: 'underlay', device: 'sw-n2', up: true } });
  });

  it('ssh n2 -- ip link runs the real ip in n2\'s namespace (it only shows)', () => {
    expect(plan(spec, timeline, 2)).toMatchObject({ ok: true, step: { kind: 'command', netns: 'n2', argv: ['ip', 'link'], timeoutSec: 5 } });
  });

  it('the interfaces captured are every model\'s, the pinger\'s too', () => {
    expect(timeline.interfaces.map((i) => `${i.netns}/${i.name}`)).toContain('pinger/eth0');
  });
});

describe('parity: pods added and deleted (ipam-round-robin.yaml)', () => {
  const { spec, timeline } = timelineOf('scenarios/ipam-round-robin.yaml');

  it('kubectl delete pod pa deletes its namespace; its node-side veth goes with it, nothing else to undo', () => {
    const p = plan(spec, timeline, 6);
    if (!p.ok || p.step.kind !== 'pods') throw new Error(p.ok ? p.step.kind : p.reason);
    expect(p.step.delta.removeNamespaces.map((n) => n.kernel)).toEqual(['pwp1-pa']);
    expect(p.step.delta.removeInterfaces.map((i) => `${i.netns}/${i.name}`).sort()).toEqual(['n1/veth3ef4d7d1', 'pa/eth0', 'pa/lo']);
    expect(p.step.delta.addNamespaces).toEqual([]);
  });

  it('kubectl apply -f - adds ph as podwire has it (10.244.1.3, freed by pb)', () => {
    const p = plan(spec, timeline, 14);
    if (!p.ok || p.step.kind !== 'pods') throw new Error(p.ok ? p.step.kind : p.reason);
    expect(p.step.delta.addNamespaces.map((n) => n.kernel)).toEqual(['pwp1-ph']);
    expect(p.step.delta.setup.map((c) => c.argv.join(' '))).toContain('ip -n pwp1-ph addr add 10.244.1.3/29 broadcast 10.244.1.7 dev eth0');
    expect(p.step.programs).toEqual([]);
  });

  it('a pod whose CNI ADD failed (pg: the range is full) runs nothing', () => {
    const p = plan(spec, timeline, 11);
    if (!p.ok || p.step.kind !== 'pods') throw new Error(p.ok ? p.step.kind : p.reason);
    expect(p.step.programs).toEqual([]);
  });
});

describe('planDelta', () => {
  const base = { namespaces: [{ model: 'n1', kernel: 'p-n1' }], interfaces: [{ netns: 'n1', kernelNetns: 'p-n1', name: 'eth0' }], notRealizable: [] };
  it('names a change it cannot undo: a route removed from a namespace that stays', () => {
    const route = { argv: ['ip', '-n', 'p-n1', 'route', 'add', '10.0.0.0/8', 'via', '192.168.1.1'], phase: 'state' as const };
    const d = planDelta({ ...base, commands: [route] }, { ...base, commands: [] });
    expect(d.unrealizable).toEqual(['ip -n p-n1 route add 10.0.0.0/8 via 192.168.1.1 would have to be undone']);
  });
  it('restores iptables anew when the rules change, whatever the dump\'s date says', () => {
    const restore = (input: string) => ({ argv: ['ip', 'netns', 'exec', 'p-n1', 'iptables-restore'], input, phase: 'state' as const });
    const same = planDelta({ ...base, commands: [restore('# Generated 1\n*nat\nCOMMIT\n')] }, { ...base, commands: [restore('# Generated 2\n*nat\nCOMMIT\n')] });
    expect(same.state).toEqual([]);
    const changed = planDelta({ ...base, commands: [restore('*nat\nCOMMIT\n')] }, { ...base, commands: [restore('*nat\n-A X -j ACCEPT\nCOMMIT\n')] });
    expect(changed.state.length).toBe(1);
    expect(changed.unrealizable).toEqual([]);
  });
});

describe('read-only tools', () => {
  const reason = (argv: string[]) => { const r = planReadOnlyTool(argv); return typeof r === 'string' ? r : 'ok'; };
  it('runs ip show, netstat and ss; refuses what changes, waits or touches files', () => {
    for (const ok of [['ip', 'addr'], ['ip', '-br', 'link', 'show'], ['ip', 'route', 'show', 'table', 'main'], ['ip', 'neigh'], ['netstat', '-tlnp'], ['ss', '-tanp']]) expect(reason(ok)).toBe('ok');
    expect(reason(['ip', 'route', 'add', '10.0.0.0/8', 'dev', 'eth0'])).toContain('only show');
    expect(reason(['ip', 'link', 'set', 'eth0', 'down'])).toContain('only show');
    expect(reason(['ip', '-batch', 'f'])).toContain("only ip's display options");
    expect(reason(['ip', 'netns', 'list'])).toContain('only ip link|addr|route|neigh|rule show');
    expect(reason(['netstat', '-tlnpc'])).toContain('continuous');
    expect(reason(['ss', '-K', 'dst', '10.0.0.1'])).toContain('kills sockets');
    expect(reason(['ss', '-E'])).toContain('waits');
  });
});

describe('retimeSteps', () => {
  const spec = loadScenarioFile('scenarios/clusterip-http.yaml');
  it('starts each later step as long after the previous one as the kernel did, never sooner than its at:', () => {
    const r = retimeSteps(spec, [{ startMs: 0, endMs: 0 }, { startMs: 1, endMs: 30 }, { startMs: 30.5, endMs: 40 }])!;
    expect(r.spec.steps.map((s) => s.waitNs)).toEqual([0, 1_000_000, 500_000]);
    expect(r.gapsMs).toEqual([1, 0.5]);
    expect(retimeSteps(spec, [{ startMs: 0, endMs: 0 }])).toBeUndefined();
  });
});
