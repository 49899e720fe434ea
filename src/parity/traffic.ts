/**
 * A scenario's traffic steps as commands the real tools run inside the kernel's namespaces, or the
 * reason one cannot be run here. This increment realizes `kubectl exec POD -- ping …` with the real
 * iputils ping; anything else is reported as not realizable, never as passed.
 */
import type { PodSpec, ScenarioSpec, StepSpec } from '../scenario/spec.js';

export interface KernelStep {
  readonly index: number;
  readonly text: string;
  /** podwire's netns of the pod the command runs in. */
  readonly netns: string;
  /** The program and its arguments, as the scenario gives them. */
  readonly argv: readonly string[];
  /** Virtual time to wait before the step (the scenario's `wait:`). */
  readonly waitNs: number;
  /** Wall-clock bound on the command (it is killed after it, as timeout(1) would). */
  readonly timeoutSec: number;
}

export type StepPlan = { readonly ok: true; readonly step: KernelStep } | { readonly ok: false; readonly reason: string };

/** The most a ping may send (-c) and the longest it may run: traffic stays bounded. */
const MAX_PING_COUNT = 100;
const MAX_PING_SECONDS = 60;

/** ping's options that take a value (iputils 20221126, ping.c's getopt string). */
const PING_VALUE_OPTIONS = new Set(['-c', '-i', '-s', '-t', '-W', '-w', '-I', '-M', '-l', '-p', '-Q', '-m', '-F', '-S', '-e']);

/** -c N, and the whole argv, checked so that the ping ends by itself; a reason when it would not. */
function planPing(argv: readonly string[]): { timeoutSec: number } | string {
  let count: number | undefined;
  let interval = 1;
  let deadline: number | undefined;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') continue;
    const key = a.slice(0, 2);
    const inline = a.length > 2 ? a.slice(2) : undefined;
    if (key === '-f') return 'ping -f (flood) is not bounded traffic';
    if (!PING_VALUE_OPTIONS.has(key)) continue;
    const value = inline ?? argv[++i];
    if (value === undefined) return `ping ${key} without a value`;
    if (key === '-c') count = Number(value);
    if (key === '-i') interval = Number(value);
    if (key === '-w') deadline = Number(value);
    if (key === '-l') return 'ping -l (preload) sends without waiting';
  }
  if (count === undefined || !Number.isInteger(count) || count < 1 || count > MAX_PING_COUNT) {
    return `ping needs -c with a count from 1 to ${MAX_PING_COUNT} (bounded traffic)`;
  }
  if (!Number.isFinite(interval) || interval <= 0) return 'ping -i must be a positive number';
  const seconds = Math.ceil(Math.min(deadline ?? Infinity, count * interval + 10));
  if (seconds > MAX_PING_SECONDS) return `ping would run up to ${seconds} s (more than ${MAX_PING_SECONDS})`;
  return { timeoutSec: seconds };
}

/** Containers that only sleep need no process of their own on the kernel side. */
function podRunsNothing(pod: PodSpec): boolean {
  return pod.containers.every((c) => {
    const argv = [...(c.command ?? []), ...(c.args ?? [])];
    return argv[0] === 'sleep' || argv[0] === 'pause';
  });
}

/** What the pods, hosts and steps need that this increment cannot run; empty when all can run. */
export function unrealizableServers(spec: ScenarioSpec): string[] {
  const out: string[] = [];
  for (const p of spec.pods) if (!podRunsNothing(p)) out.push(`pod ${p.name}'s containers (${p.containers.map((c) => [...(c.command ?? [c.image]), ...(c.args ?? [])].join(' ')).join('; ')})`);
  for (const h of spec.hosts) if (h.command !== undefined) out.push(`host ${h.name}'s command (${[...h.command, ...(h.args ?? [])].join(' ')})`);
  return out;
}

/** The kernel step for one scenario step. `netnsOfPod` is podwire's netns name of a pod. */
export function planStep(step: StepSpec, netnsOfPod: (namespace: string, name: string) => string | undefined): StepPlan {
  if (step.kind !== 'exec') return { ok: false, reason: `step ${step.index + 1} (${step.text}): ${step.kind} steps` };
  const program = step.argv[0];
  if (program !== 'ping') return { ok: false, reason: `step ${step.index + 1} (${step.text}): ${program ?? 'an empty command'} (only ping so far)` };
  const ping = planPing(step.argv);
  if (typeof ping === 'string') return { ok: false, reason: `step ${step.index + 1} (${step.text}): ${ping}` };
  const netns = netnsOfPod(step.namespace, step.pod);
  if (netns === undefined) return { ok: false, reason: `step ${step.index + 1} (${step.text}): pod ${step.namespace}/${step.pod} does not exist at the first traffic step` };
  return { ok: true, step: { index: step.index, text: step.text, netns, argv: step.argv, waitNs: step.waitNs, timeoutSec: ping.timeoutSec } };
}
