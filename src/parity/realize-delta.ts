/**
 * What changes on the kernel when podwire's model changes mid-run (a pod added by `kubectl run` or
 * `kubectl apply -f -`: CNI ADD; one deleted: CNI DEL): the difference between the realization
 * planned before the step and the one planned after it (realize.ts, both from podwire's own
 * model). Added namespaces are created and their commands — and any other new command, such as a
 * node's rules restored anew — run in the plan's order; removed namespaces are deleted (their
 * veth pairs go with them, as the CNI plugin's DEL removes them). A command that disappears for
 * any other reason (a route or a neighbour removed from a namespace that stays) is a change this
 * planner cannot make: it is named, never skipped.
 *
 * Pure: it only compares plans.
 */
import type { KernelPlan, PlannedCommand, PlannedInterface, PlannedNamespace } from './realize.js';

export interface KernelDelta {
  readonly addNamespaces: readonly PlannedNamespace[];
  readonly removeNamespaces: readonly PlannedNamespace[];
  /** New commands, in plan order, by phase: setup before the new interfaces' captures start, up after. */
  readonly setup: readonly PlannedCommand[];
  readonly up: readonly PlannedCommand[];
  readonly state: readonly PlannedCommand[];
  /** Interfaces that appear (to capture on, before `up`) and disappear (captures to stop first). */
  readonly addInterfaces: readonly PlannedInterface[];
  readonly removeInterfaces: readonly PlannedInterface[];
  /** What the delta would have to undo and cannot; non-empty: the step is not realizable. */
  readonly unrealizable: readonly string[];
}

/** iptables-save's header and footer comments carry the time: not part of what is restored. */
const commandKey = (c: PlannedCommand): string => `${c.argv.join('\0')}\n${(c.input ?? '').replace(/^#.*\n/gm, '')}`;
const ifaceKey = (i: PlannedInterface): string => `${i.kernelNetns}/${i.name}`;

/** The kernel namespace a command acts in (`ip -n NS`, `ip netns exec NS`, `bridge -n NS`). */
export function commandNetns(c: PlannedCommand): string | undefined {
  const a = c.argv;
  if ((a[0] === 'ip' || a[0] === 'bridge') && a[1] === '-n') return a[2];
  if (a[0] === 'ip' && a[1] === 'netns' && a[2] === 'exec') return a[3];
  return undefined;
}

export function planDelta(before: KernelPlan, after: KernelPlan): KernelDelta {
  const beforeNs = new Set(before.namespaces.map((n) => n.kernel));
  const afterNs = new Set(after.namespaces.map((n) => n.kernel));
  const addNamespaces = after.namespaces.filter((n) => !beforeNs.has(n.kernel));
  const removeNamespaces = before.namespaces.filter((n) => !afterNs.has(n.kernel));

  const beforeKeys = new Set(before.commands.map(commandKey));
  const afterKeys = new Set(after.commands.map(commandKey));
  const fresh = after.commands.filter((c) => !beforeKeys.has(commandKey(c)));

  const beforeIfaces = new Set(before.interfaces.map(ifaceKey));
  const afterIfaces = new Set(after.interfaces.map(ifaceKey));
  const addInterfaces = after.interfaces.filter((i) => !beforeIfaces.has(ifaceKey(i)));
  const removeInterfaces = before.interfaces.filter((i) => !afterIfaces.has(ifaceKey(i)));
  const gone = new Set(removeInterfaces.map(ifaceKey));

  // A command of the old plan that is not in the new one is accounted for when its namespace is
  // deleted, when it names a device that is gone (deleting the peer's namespace removes a veth
  // pair), or when it is an iptables-restore the new plan restores anew (a restore replaces the
  // tables it names).
  const restoredAnew = new Set(fresh.filter((c) => c.argv.at(-1) === 'iptables-restore').map(commandNetns));
  const unrealizable: string[] = [];
  for (const c of before.commands) {
    if (afterKeys.has(commandKey(c))) continue;
    const ns = commandNetns(c);
    if (ns === undefined || !afterNs.has(ns)) continue;
    if (c.argv.some((w) => gone.has(`${ns}/${w}`))) continue;
    if (c.argv.at(-1) === 'iptables-restore' && restoredAnew.has(ns)) continue;
    unrealizable.push(`${c.argv.join(' ')} would have to be undone`);
  }
  return {
    addNamespaces,
    removeNamespaces,
    setup: fresh.filter((c) => c.phase === 'setup'),
    up: fresh.filter((c) => c.phase === 'up'),
    state: fresh.filter((c) => c.phase === 'state'),
    addInterfaces,
    removeInterfaces,
    unrealizable,
  };
}
