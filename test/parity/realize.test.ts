/**
 * The realization plan, without a kernel: every command it plans names one of the namespaces it
 * plans (nothing in the root namespace), and it carries podwire's model — veth pairs placed
 * straight into their namespaces, hairpin ports, the VXLAN device, flannel's routes, neighbours,
 * FDB entries and each node's iptables rules.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { RunStopped, runScenario } from '../../src/scenario/run.js';
import { planRealization, type KernelPlan } from '../../src/parity/realize.js';

function planFor(file: string): KernelPlan {
  const dir = mkdtempSync(join(tmpdir(), 'podwire-realize-'));
  let plan: KernelPlan | undefined;
  try {
    runScenario(loadScenarioFile(file), { out: join(dir, 'run'), seed: 1, stopAtNs: 1e9, onStop: (c) => (plan = planRealization(c, 'pwp1')) });
  } catch (e) {
    if (!(e instanceof RunStopped)) throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return plan!;
}

const lines = (p: KernelPlan): string[] => p.commands.map((c) => c.argv.join(' '));

describe('planRealization', () => {
  const plan = planFor('scenarios/cross-node-ping.yaml');
  const names = plan.namespaces.map((n) => n.kernel);

  it('one namespace per podwire netns, switch first, pods last', () => {
    expect(names).toEqual(['pwp1-underlay', 'pwp1-n1', 'pwp1-n2', 'pwp1-pa', 'pwp1-pc']);
  });

  it('every command runs inside one of its namespaces', () => {
    for (const c of plan.commands) {
      const a = c.argv;
      const ns = a[1] === '-n' ? a[2] : a[1] === 'netns' && a[2] === 'exec' ? a[3] : undefined;
      expect(names, a.join(' ')).toContain(ns);
      // A veth's peer goes straight into a namespace of ours too.
      const i = a.indexOf('peer');
      if (i >= 0) expect(names).toContain(a[a.indexOf('netns', i) + 1]);
    }
  });

  it("carries podwire's model", () => {
    const l = lines(plan);
    expect(l).toContainEqual(expect.stringMatching(/^ip -n pwp1-underlay link add sw-n1 address \S+ mtu 1500 type veth peer name eth0 netns pwp1-n1 address \S+ mtu 1500$/));
    expect(l).toContainEqual(expect.stringMatching(/^ip -n pwp1-n1 link add flannel\.1 address \S+ mtu 1450 type vxlan id 1 local 192\.168\.1\.10 dev eth0 dstport 8472 nolearning udpcsum$/));
    expect(l).toContainEqual(expect.stringMatching(/^ip -n pwp1-n1 link set veth[0-9a-f]{8} type bridge_slave hairpin on$/));
    expect(l).toContain('ip -n pwp1-n1 route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink');
    expect(l).toContain('ip -n pwp1-pa route add default via 10.244.1.1 dev eth0');
    expect(l).toContainEqual(expect.stringMatching(/^ip -n pwp1-n1 neigh replace 10\.244\.2\.0 lladdr \S+ dev flannel\.1 nud permanent$/));
    expect(l).toContainEqual(expect.stringMatching(/^bridge -n pwp1-n1 fdb append \S+ dev flannel\.1 dst 192\.168\.1\.11 self permanent$/));
    expect(l).toContain('ip netns exec pwp1-n1 sysctl -qw net.ipv4.ip_forward=1');
    const restore = plan.commands.find((c) => c.argv.join(' ') === 'ip netns exec pwp1-n1 iptables-restore');
    expect(restore?.input).toMatch(/^\*filter$/m);
    expect(restore?.input).toContain('FLANNEL-POSTRTG');
  });

  it('captures on every device, lo included (podwire taps lo too)', () => {
    expect(plan.interfaces.map((i) => `${i.netns}/${i.name}`)).toEqual(expect.arrayContaining(['underlay/br0', 'n1/cni0', 'n1/flannel.1', 'pa/eth0']));
    expect(plan.interfaces.filter((i) => i.name === 'lo').map((i) => i.netns)).toEqual(names.map((n) => n.replace('pwp1-', '')));
  });
});
