/**
 * Runs on the kernel the steps that change the cluster mid-run (traffic-steps.ts plans them): a
 * cable pulled or plugged back, pods added (CNI ADD: namespace, veth pair, addresses, routes, as
 * podwire's model has them after the step; their captures started before their links come up,
 * so their first frames are captured as podwire's taps see them; their containers' programs
 * started in the background, bounded) and pods deleted (CNI DEL: their captures and programs
 * ended by PID, then their namespace deleted by its exact name, which removes the veth pair).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { have, mustRun, pinned, runCommand, type Capture, type KernelResources } from './kernel.js';
import { kernelNetnsName } from './realize.js';
import type { KernelLinkStep, KernelPodsStep } from './traffic-steps.js';

export interface StepRunner {
  readonly res: KernelResources;
  readonly prefix: string;
  /** Every capture started; the new pods' are added here, so that they are stopped with the rest. */
  readonly captures: Capture[];
  /** The namespaces created (mid-run ones are added). */
  readonly created: string[];
  readonly kernelDir: string;
  /** The environment and working directory of the programs (as for exec steps). */
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** A program's argv as parity runs it (curl by its absolute path, …). */
  readonly program: (argv: readonly string[]) => string[];
  /** Background programs started, by podwire netns: ended before their namespace is deleted. */
  readonly programs: Map<string, ChildProcess[]>;
  readonly warnings: string[];
  readonly log: (line: string) => void;
}

/** `ip -n NS link set DEV up` → `NS/DEV`. */
function upDevice(argv: readonly string[]): string | undefined {
  return argv[0] === 'ip' && argv[1] === '-n' && argv[3] === 'link' && argv[4] === 'set' && argv[6] === 'up' ? `${argv[2]!}/${argv[5]!}` : undefined;
}

/** A pcap file with no packets: magic, version 2.4, snaplen 262144, Ethernet, as tcpdump -s 0 writes. */
const EMPTY_PCAP = (() => {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeUInt32LE(262144, 16);
  b.writeUInt32LE(1, 20);
  return b;
})();

/** `podwire link down|up NAME`: the switch port of NAME's cable set down or up (traffic-steps.ts says why). */
export function runLinkStep(s: KernelLinkStep, r: StepRunner): void {
  mustRun(['ip', '-n', kernelNetnsName(r.prefix, s.netns), 'link', 'set', s.device, s.up ? 'up' : 'down']);
}

export async function runPodsStep(s: KernelPodsStep, r: StepRunner): Promise<void> {
  const d = s.delta;
  const programs = r.programs;

  // CNI DEL: what captures the devices that go ends first (tcpdump would keep a namespace alive,
  // and with it the veth pair), then the pod's programs, then the namespace.
  for (const i of d.removeInterfaces) {
    const c = r.captures.find((x) => x.netns === i.kernelNetns && x.iface === i.name);
    if (c) await r.res.stopCapture(c);
  }
  for (const ns of d.removeNamespaces) {
    for (const child of programs.get(ns.model) ?? []) await r.res.endProcess(child);
    programs.delete(ns.model);
    r.res.deleteNamespace(ns.kernel);
    r.log(`kernel: step ${s.index + 1}: namespace ${ns.kernel} deleted`);
  }

  // CNI ADD: the namespaces and devices (down), their captures, then links up, routes and the rest.
  for (const ns of d.addNamespaces) {
    r.res.addNamespace(ns.kernel);
    r.created.push(ns.kernel);
    r.log(`kernel: step ${s.index + 1}: namespace ${ns.kernel} created`);
  }
  for (const c of d.setup) mustRun(c.argv, c.input);
  if (have('ethtool')) {
    for (const i of d.addInterfaces) {
      const e = runCommand(['ip', 'netns', 'exec', i.kernelNetns, 'ethtool', '-K', i.name, 'tx', 'off']);
      if (e.code !== 0) r.warnings.push(`ethtool -K ${i.name} tx off in ${i.kernelNetns}: ${e.stderr.trim()}`);
    }
  }
  // libpcap opens only an interface that is up (a down one is PCAP_ERROR_IFACE_NOT_UP), so each
  // new interface's capture starts right after its `link set … up`: the host end and a new bridge
  // come up silent (no address, or no carrier yet); the pod's eth0 sends its gratuitous ARP
  // (arp_notify) as it comes up, which its own capture cannot see — its peer's and the bridge's do
  // (known-differences.yaml says so where a scenario adds pods).
  const pending = new Map(d.addInterfaces.map((i) => [`${i.kernelNetns}/${i.name}`, i]));
  const capture = async (key: string): Promise<void> => {
    const i = pending.get(key);
    if (i === undefined) return;
    pending.delete(key);
    mkdirSync(join(r.kernelDir, 'captures', i.netns), { recursive: true });
    r.captures.push(await r.res.startCapture(i.kernelNetns, i.name, join(r.kernelDir, 'captures', i.netns, `${i.name}.pcap`)));
  };
  for (const c of d.up) {
    mustRun(c.argv, c.input);
    const dev = upDevice(c.argv);
    if (dev !== undefined) await capture(dev);
  }
  // A device that stays down carries no frame at all (nothing is sent or received on it): an empty capture.
  for (const i of pending.values()) {
    mkdirSync(join(r.kernelDir, 'captures', i.netns), { recursive: true });
    writeFileSync(join(r.kernelDir, 'captures', i.netns, `${i.name}.pcap`), EMPTY_PCAP);
  }
  for (const c of d.state) mustRun(c.argv, c.input);

  // The new pods' containers, in the background as the kubelet starts them.
  const logs = join(r.kernelDir, 'outputs', 'containers');
  mkdirSync(logs, { recursive: true });
  for (const p of s.programs) {
    const kns = kernelNetnsName(r.prefix, p.netns);
    const argv = ['ip', 'netns', 'exec', kns, ...pinned(0, ['timeout', '-s', 'KILL', String(p.timeoutSec), ...r.program(p.argv)])];
    const child = r.res.startProcess(argv, { cwd: r.cwd, env: r.env, logFile: join(logs, `${p.label}.log`) });
    programs.set(p.netns, [...(programs.get(p.netns) ?? []), child]);
    r.log(`kernel: step ${s.index + 1}: ${p.label}: ${p.argv.join(' ')} started (pid ${String(child.pid)})`);
  }
}
