/**
 * podwire's model around each traffic step, for parity: the model at the first traffic step, and
 * after every step that adds or deletes pods (kubectl run, apply -f -, delete pod) the model as it
 * stands when that step has ended in podwire's run (its run.json endNs) — read by stopping a run
 * of the same scenario and seed there. Every later step sees that model: the pods it names, their
 * netns, the interfaces to capture. The interfaces of every model together are what the kernel
 * captures on (a pod's, from its creation to its deletion).
 */
import type { InterfaceRecord } from '../capture/index.js';
import type { PodSpec, ScenarioSpec } from '../scenario/spec.js';
import type { StepModel, StepModels } from './traffic-steps.js';

export interface ModelTimeline {
  /** The models around step `index` (0-based, the scenario's). */
  at(index: number): StepModels;
  /** Every interface any model has, in the order they appear, with its record. */
  readonly interfaces: readonly { readonly netns: string; readonly kernelNetns: string; readonly name: string; readonly record: Omit<InterfaceRecord, 'packets'> }[];
}

const changesPods = (kind: string): boolean => kind === 'run' || kind === 'apply' || kind === 'delete-pod';

/**
 * `stepEndNs[i]` is when step i ended in podwire's run; `viewAt(ns)` the model at that virtual time.
 * Only pod-changing steps cost a run of their own.
 */
export function modelTimeline(spec: ScenarioSpec, first: StepModel, stepEndNs: readonly number[], viewAt: (atNs: number) => StepModel): ModelTimeline {
  const models: StepModels[] = [];
  const podSpecs = new Map<string, PodSpec>(spec.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
  const interfaces = new Map<string, ModelTimeline['interfaces'][number]>();
  const collect = (m: StepModel): void => {
    for (const i of m.plan.interfaces) {
      const key = `${i.netns}/${i.name}`;
      if (!interfaces.has(key)) interfaces.set(key, { ...i, record: m.records.get(key)! });
    }
  };
  collect(first);
  let current = first;
  for (const step of spec.steps) {
    if (!changesPods(step.kind)) {
      models.push({ before: current, after: undefined, podSpecs: new Map(podSpecs) });
      continue;
    }
    if (step.kind === 'run') podSpecs.set(`${step.pod.namespace}/${step.pod.name}`, step.pod);
    if (step.kind === 'apply') for (const p of step.pods) if (!podSpecs.has(`${p.namespace}/${p.name}`)) podSpecs.set(`${p.namespace}/${p.name}`, p);
    const endNs = stepEndNs[step.index];
    const after = endNs === undefined ? undefined : viewAt(endNs);
    models.push({ before: current, after, podSpecs: new Map(podSpecs) });
    if (after !== undefined) {
      collect(after);
      current = after;
    }
  }
  return {
    at: (index) => models[index]!,
    interfaces: [...interfaces.values()],
  };
}
