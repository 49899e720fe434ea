/**
 * The hook by which something other than the scenario's steps drives the kernel's side of parity
 * (`podwire parity --replay`, replay.ts): parity builds the topology, starts the servers and the
 * captures, calls `run`, then stops the captures and compares, exactly as for the steps.
 */
import type { InterfaceRecord } from '../capture/index.js';
import type { KernelResources } from './kernel.js';

export interface KernelTrafficPrepare {
  /** podwire's run folder (captures/, trace.jsonl, run.json). */
  readonly podwireDir: string;
  readonly run: { readonly trafficStartNs: number; readonly epochSec: number };
  /** The interfaces the kernel realizes, by `netns/name`, as podwire's interfaces.json describes them. */
  readonly records: ReadonlyMap<string, Omit<InterfaceRecord, 'packets'>>;
  /** podwire's netns of a pod (Kubernetes namespace, name), when it exists at the first traffic step. */
  readonly podNetns: (namespace: string, name: string) => string | undefined;
}

export interface KernelTrafficRun {
  /** `pwp<pid>`: the kernel namespace of podwire netns X is `<prefix>-X`. */
  readonly prefix: string;
  /** The kernel's run folder being written (captures/ …); the traffic may keep files of its own under it. */
  readonly kernelDir: string;
  /** Every process started goes through it, so that parity's cleanup ends it by PID. */
  readonly res: KernelResources;
  readonly log: (line: string) => void;
}

export interface KernelTraffic {
  /** Before anything is built, from podwire's run: what cannot be done here (non-empty stops the run). */
  prepare(ctx: KernelTrafficPrepare): readonly string[];
  /** With every capture listening: the traffic, to its end (bounded). */
  run(ctx: KernelTrafficRun): Promise<void>;
}
