/**
 * The cluster a datapath benchmark runs in: a Cluster on a fresh clock, every device counted by a
 * tap (the hops), and with captures on the run's files (a pcap per interface, all.pcapng,
 * trace.jsonl) in a temporary folder that `dispose` removes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureSet, TraceFile } from '../../src/capture/index.js';
import { Cluster } from '../../src/k8s/cluster.js';
import type { Tap } from '../../src/net/tap.js';
import { Random } from '../../src/sim/random.js';
import { Scheduler, VIRTUAL_EPOCH_SEC } from '../../src/sim/scheduler.js';

export interface BenchCluster {
  readonly sched: Scheduler;
  readonly random: Random;
  readonly cluster: Cluster;
  /** Device crossings seen since the last reset. */
  hops(): number;
  resetHops(): void;
  /** Closes the capture files (their writing is part of what is measured when called in time). */
  closeCaptures(): void;
  /** Removes the folder. */
  dispose(): void;
}

export function benchCluster(withCaptures: boolean): BenchCluster {
  const dir = mkdtempSync(join(tmpdir(), 'podwire-bench-'));
  const sched = new Scheduler();
  const random = new Random(1);
  const trace = withCaptures ? new TraceFile(join(dir, 'trace.jsonl')) : undefined;
  const capture = withCaptures ? new CaptureSet(dir, VIRTUAL_EPOCH_SEC, trace) : undefined;
  let hops = 0;
  const counter: Tap = { frame: () => void hops++ };
  const cluster = new Cluster(sched, random, 1500, {
    netnsCreated: (ns, host, kind) => capture?.labelNetns(ns.name, { host, hostKind: kind }),
    deviceCreated: (dev) => {
      dev.taps.push(counter);
      capture?.attach(dev);
    },
  });
  return {
    sched,
    random,
    cluster,
    hops: () => hops,
    resetHops: () => void (hops = 0),
    closeCaptures: () => {
      capture?.close();
      trace?.close();
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
