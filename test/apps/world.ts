/** Programs in pods joined by the fake TCP (fake-tcp.ts): start them, run the clock, read what they printed. */
import { parseIpv4 } from '../../src/packet/addr.js';
import { Netns } from '../../src/net/netns.js';
import { Random } from '../../src/sim/random.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import type { AppContext } from '../../src/apps/app.js';
import { programFor } from '../../src/apps/programs.js';
import { FakeNet } from './fake-tcp.js';

export interface Process {
  out: string;
  err: string;
  code: number | undefined;
}

export function world() {
  const sched = new Scheduler();
  const random = new Random(1);
  const net = new FakeNet(sched);
  const pods = new Map<string, Netns>();
  const pod = (name: string, ip: string) => {
    const ns = new Netns(name, sched, random);
    net.attach(ns, [parseIpv4(ip)]);
    pods.set(name, ns);
    return ns;
  };
  const start = (podName: string, argv: readonly string[], extra: Partial<AppContext> = {}): Process => {
    const p: Process = { out: '', err: '', code: undefined };
    const ctx: AppContext = {
      ns: pods.get(podName)!, sched, random, label: `${podName}/test`,
      stdout: (t) => (p.out += t), stderr: (t) => (p.err += t), exit: (c) => (p.code ??= c),
      ...extra,
    };
    programFor(argv).start(ctx);
    return p;
  };
  /** Runs the clock until `p` exits (or `limitNs` of virtual time pass). */
  const until = (p: Process, limitNs = 600e9) => {
    const deadline = sched.nowNs + limitNs;
    for (let t = sched.peekTimeNs(); p.code === undefined && t !== undefined && t <= deadline; t = sched.peekTimeNs()) sched.run(t);
    return p;
  };
  return { sched, net, pod, start, until };
}
