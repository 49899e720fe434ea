/**
 * A hand-built same-node topology on the emulated kernel (what the bridge CNI plugin would
 * program), with a recording tap on every device — for net/ and apps/ tests that should not
 * depend on the scenario runner.
 */
import { parseIpv4, parseMac } from '../../src/packet/addr.js';
import { Netns } from '../../src/net/netns.js';
import type { NetDevice } from '../../src/net/device.js';
import type { Tap, TapDevice, TapDirection } from '../../src/net/tap.js';
import { Random } from '../../src/sim/random.js';
import { Scheduler } from '../../src/sim/scheduler.js';

export interface Recorded {
  readonly where: string;
  readonly dir: TapDirection;
  readonly timeNs: number;
  readonly bytes: Buffer;
}

export class RecordingTap implements Tap {
  readonly frames: Recorded[] = [];
  frame(dev: TapDevice, dir: TapDirection, timeNs: number, buf: Uint8Array, off: number, len: number): void {
    this.frames.push({ where: `${dev.netnsName}/${dev.name}`, dir, timeNs, bytes: Buffer.from(buf.subarray(off, off + len)) });
  }
  at(where: string): Recorded[] {
    return this.frames.filter((f) => f.where === where);
  }
}

export function sameNodeTopology(seed = 1) {
  const sched = new Scheduler();
  const random = new Random(seed);
  const node = new Netns('n1', sched, random);
  node.sysctl.ipForward = true;
  const cni0 = node.addBridge('cni0', parseMac('02:00:00:00:00:01'), 1500);
  node.addAddress(cni0, parseIpv4('10.244.1.1'), 24);
  node.linkUp(cni0);
  const pods: Netns[] = [];
  ['pa', 'pb'].forEach((name, i) => {
    const pod = new Netns(name, sched, random);
    const [host, eth0] = Netns.addVethPair(node, `veth${i}`, parseMac(`0a:00:00:00:01:0${i + 1}`), pod, 'eth0', parseMac(`0e:00:00:00:02:0${i + 1}`), 1500);
    cni0.addPort(host, true);
    node.linkUp(host);
    pod.sysctl.arpNotify.add('eth0');
    pod.addAddress(eth0, parseIpv4(`10.244.1.${i + 2}`), 24);
    pod.linkUp(eth0);
    pod.addRoute({ dst: 0, prefixLen: 0, gateway: parseIpv4('10.244.1.1'), dev: eth0 });
    pods.push(pod);
  });
  sched.run(); // gratuitous ARPs: the bridge learns the pods' MACs
  const tap = new RecordingTap();
  const all: NetDevice[] = [...node.devices.values(), ...pods.flatMap((p) => [...p.devices.values()])];
  for (const d of all) d.taps.push(tap);
  return { sched, random, node, cni0, pods, tap };
}
