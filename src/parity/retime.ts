/**
 * podwire's steps at the kernel's times. In podwire a step starts at the virtual instant the one
 * before it ended (plus its `at:`); on the kernel nothing starts in zero time: the next command is
 * a new process, some milliseconds later, and a pod added mid-run takes its namespace, veth pair
 * and captures to be made. What the network does in such a gap shows in the captures — a
 * connection's FIN exchange finishes before the next command's SYN on the kernel, interleaves
 * with it in podwire. So the podwire run that is compared starts each step (after the first) as
 * long after the previous one ended as the kernel's did: its `at:` becomes the kernel's measured
 * gap (never less than the scenario's own), to the microsecond. The steps themselves — how long
 * a curl, a ping, a retransmission timer takes — stay podwire's own.
 */
import type { ScenarioSpec, StepSpec } from '../scenario/spec.js';

/** When each kernel step started and ended, in wall-clock milliseconds (performance.now()). */
export interface StepTimes {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * The scenario with each step's `at:` set to the kernel's gap before it; undefined when no step
 * changes (one step, or none measured). `times[i]` is step i's, undefined for a step not run.
 */
export function retimeSteps(spec: ScenarioSpec, times: readonly (StepTimes | undefined)[]): { spec: ScenarioSpec; gapsMs: number[] } | undefined {
  const gapsMs: number[] = [];
  let changed = false;
  const steps = spec.steps.map((s, i): StepSpec => {
    const t = times[i];
    const prev = times[i - 1];
    if (i === 0 || t === undefined || prev === undefined) return s;
    const gapNs = Math.max(s.waitNs, Math.round((t.startMs - prev.endMs) * 1e3) * 1e3);
    gapsMs.push(gapNs / 1e6);
    if (gapNs === s.waitNs) return s;
    changed = true;
    return { ...s, waitNs: gapNs };
  });
  return changed ? { spec: { ...spec, steps }, gapsMs } : undefined;
}
