/**
 * The scenario steps beyond `kubectl exec`, as the kernel runs them (issue 7):
 *
 * - `ssh HOST -- CMD`: the same bounded programs as in a pod, in the node's or external host's
 *   namespace. A node has no resolv.conf in the scenario and this machine's must not answer for
 *   it, so a name (curl's host, ping's destination) is refused there.
 * - `podwire link down|up NAME`: podwire pulls the cable of NAME's eth0 (cable.ts: carrier off at
 *   both ends, the devices stay administratively UP, routes kept `linkdown`, neighbours flushed,
 *   the switch port disabled). On the kernel the switch-side end of the veth pair is set down in
 *   the switch's namespace: veth_close() turns the node end's carrier off (NO-CARRIER, still UP,
 *   NETDEV_CHANGE: neigh_carrier_down, routes marked linkdown), and the bridge disables the port
 *   and flushes the MACs it learned there (br_stp_disable_port). Setting it up again turns the
 *   carrier back on. The one difference, the switch port being administratively down rather than
 *   UP without carrier, shows in neither capture.
 * - `kubectl run` (not attached), `kubectl apply -f -`, `kubectl delete pod`: CNI ADD/DEL, realized
 *   as the difference between podwire's model before and after the step (realize-delta.ts); the
 *   containers of a pod started there run in the background, bounded as an exec of them would be.
 * - `ip` (read-only: show/list), `netstat`, `ss`: they read the namespace's state and put nothing
 *   on the wire; the real tools run in the namespace. Their output (PIDs, program names, ifindex)
 *   is kept in outputs/ and not compared: parity compares captures.
 */
import type { InterfaceRecord } from '../capture/index.js';
import type { ApplyStep, DeletePodStep, LinkStep, PodSpec, RunStep, SshStep } from '../scenario/spec.js';
import { planDelta, type KernelDelta } from './realize-delta.js';
import type { KernelPlan } from './realize.js';

/** The part of a step every kernel step keeps (traffic.ts's StepCommon). */
interface Common {
  readonly index: number;
  readonly text: string;
  readonly waitNs: number;
}

/** A bound for a program (ping, curl, the read-only tools), or why it is not run here. */
export type ProgramBound = (argv: readonly string[]) => { timeoutSec: number } | string;

/** `podwire link down|up NAME`: the switch-side end of NAME's cable set down or up. */
export interface KernelLinkStep extends Common {
  readonly kind: 'link';
  /** podwire's netns of the switch and the switch port of NAME's cable. */
  readonly netns: string;
  readonly device: string;
  readonly up: boolean;
}

/** A container's program started in the background when its pod starts (not attached). */
export interface BackgroundProgram {
  /** `<pod>-<container>`, as podwire names its log (outputs/containers/<label>.log). */
  readonly label: string;
  readonly netns: string;
  readonly argv: readonly string[];
  readonly timeoutSec: number;
}

/** Pods added or deleted: the kernel made as podwire's model is after the step. */
export interface KernelPodsStep extends Common {
  readonly kind: 'pods';
  readonly delta: KernelDelta;
  readonly programs: readonly BackgroundProgram[];
  /** What `kubectl` printed in podwire's run for the step is not reproduced: it is the API's answer. */
}

/** podwire's model at one instant, as parity needs it for a step. */
export interface StepModel {
  readonly plan: KernelPlan;
  readonly records: ReadonlyMap<string, Omit<InterfaceRecord, 'packets'>>;
  /** `<namespace>/<name>` → podwire's netns of the pod. */
  readonly podNetns: ReadonlyMap<string, string>;
  /** `<namespace>/<name>` of the pods whose containers run (CNI ADD succeeded). */
  readonly runningPods: ReadonlySet<string>;
}

/** The model before a step, and after it for a step that adds or deletes pods. */
export interface StepModels {
  readonly before: StepModel;
  readonly after: StepModel | undefined;
  /** The pod specs known up to and including this step (the scenario's and those added by steps). */
  readonly podSpecs: ReadonlyMap<string, PodSpec>;
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** The read-only tools parity runs as they are (they print the namespace's state). */
export const READ_ONLY_TOOLS = new Set(['ip', 'netstat', 'ss']);

/** `ip` objects parity lets show themselves, and the verbs that only show. */
const IP_OBJECTS = new Set(['link', 'l', 'address', 'addr', 'a', 'route', 'r', 'ro', 'neighbour', 'neighbor', 'neigh', 'n', 'rule', 'ru']);
const IP_SHOW = new Set(['show', 'list', 'lst', 'ls', 'sh']);
/** `ip` options (before the object) that take no value and change only the output's form. */
const IP_FLAGS = /^-(?:4|d|details|s|stats|statistics|br|brief|c|color|o|oneline|h|human|j|json|p|pretty|r|resolve)$/;

/**
 * `ip [-4 -d -s -br -o -j …] OBJECT [show|list [ARGS]]` — only what shows; anything that changes
 * the namespace (add, del, set, flush, …) or reads a batch file is not run.
 */
function planIp(argv: readonly string[]): { timeoutSec: number } | string {
  let i = 1;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) if (!IP_FLAGS.test(argv[i]!)) return `ip ${argv[i]!} (only ip's display options)`;
  const object = argv[i];
  if (object === undefined || !IP_OBJECTS.has(object)) return `ip ${object ?? '(no object)'} (only ip link|addr|route|neigh|rule show)`;
  const verb = argv[i + 1];
  if (verb !== undefined && !IP_SHOW.has(verb) && !/^(?:dev|to|from|table|scope|up|type|nud|proxy|all)$/.test(verb)) return `ip ${object} ${verb} (only show)`;
  return { timeoutSec: 5 };
}

/** netstat (net-tools): every option only reads; -c repeats forever. */
function planNetstat(argv: readonly string[]): { timeoutSec: number } | string {
  for (const a of argv.slice(1)) {
    if (a === '-c' || a === '--continuous' || (/^-[a-zA-Z]+$/.test(a) && a.includes('c'))) return 'netstat -c (continuous) does not end by itself';
  }
  return { timeoutSec: 5 };
}

/** ss (iproute2): refuses what acts (-K kills sockets), waits (-E) or reads/writes files (-F, -D). */
function planSs(argv: readonly string[]): { timeoutSec: number } | string {
  for (const a of argv.slice(1)) {
    if (a === '-K' || a === '--kill') return 'ss -K (kills sockets)';
    if (a === '-E' || a === '--events') return 'ss -E (waits for events forever)';
    if (a === '-F' || a.startsWith('--filter') || a === '-D' || a.startsWith('--diag')) return `ss ${a} (reads or writes a file of this machine)`;
    if (/^-[a-zA-Z]+$/.test(a) && /[KEFD]/.test(a)) return `ss ${a} (-K, -E, -F and -D are not run)`;
  }
  return { timeoutSec: 5 };
}

/** The bound of a read-only tool's run, or why it is not run. */
export function planReadOnlyTool(argv: readonly string[]): { timeoutSec: number } | string {
  if (argv[0] === 'ip') return planIp(argv);
  if (argv[0] === 'netstat') return planNetstat(argv);
  return planSs(argv);
}

/** `ssh HOST -- CMD`: the netns of a node or external host and the program's bound. */
export function planSsh(
  step: SshStep,
  netnsOfHost: (name: string) => string | undefined,
  bound: ProgramBound,
): { netns: string; timeoutSec: number } | string {
  const netns = netnsOfHost(step.host);
  if (netns === undefined) return `no node or host ${step.host}`;
  const program = step.argv[0];
  // curl's bound already refuses names (they would need a resolv.conf); ping's destination is its last word.
  if (program === 'ping' && !IPV4.test(step.argv.at(-1) ?? '')) {
    return `ping ${step.argv.at(-1) ?? ''} on ${step.host} (only an IPv4 address: a node has no resolv.conf in the scenario, and this machine's must not answer)`;
  }
  const b = bound(step.argv);
  if (typeof b === 'string') return b;
  return { netns, timeoutSec: b.timeoutSec };
}

/** `podwire link down|up NAME`: the switch port at the other end of NAME's cable. */
export function planLink(step: LinkStep, records: Iterable<Omit<InterfaceRecord, 'packets'>>): { netns: string; device: string } | string {
  for (const r of records) {
    if (r.hostKind === 'switch' && r.peer?.host === step.name && r.peer.name === 'eth0') return { netns: r.netns, device: r.name };
  }
  return `no cable of ${step.name} in the model`;
}

const idle = (argv: readonly string[]): boolean => argv[0] === 'sleep' || argv[0] === 'pause';

/**
 * `kubectl run` (not attached), `kubectl apply -f -`, `kubectl delete pod`: the kernel delta from
 * podwire's model before the step to after it, and the new pods' containers as background
 * programs (idle ones — sleep, pause — run nothing, as their pods send nothing).
 */
export function planPodsStep(
  step: RunStep | ApplyStep | DeletePodStep,
  models: StepModels,
  bound: ProgramBound,
): { delta: KernelDelta; programs: BackgroundProgram[] } | string {
  if (step.kind === 'run' && step.attach) return 'kubectl run -i/--attach (an attached container) is not realized yet';
  const { before, after } = models;
  if (after === undefined) return 'podwire\'s model after the step is not known';
  const delta = planDelta(before.plan, after.plan);
  if (delta.unrealizable.length > 0) return `the model changes in a way parity cannot make: ${delta.unrealizable.join('; ')}`;
  const programs: BackgroundProgram[] = [];
  if (step.kind === 'delete-pod') {
    for (const name of step.pods) {
      const p = models.podSpecs.get(`${step.namespace}/${name}`);
      const busy = p?.containers.find((c) => !idle([...(c.command ?? []), ...(c.args ?? [])]));
      if (busy !== undefined && before.runningPods.has(`${step.namespace}/${name}`)) {
        return `deleting pod ${step.namespace}/${name}, whose container ${busy.name} runs a program (ending it is not realized yet)`;
      }
    }
    return { delta, programs };
  }
  const pods = step.kind === 'run' ? [step.pod] : step.pods;
  for (const p of pods) {
    const key = `${p.namespace}/${p.name}`;
    if (before.podNetns.has(key) || !after.runningPods.has(key)) continue; // unchanged, or not started (CNI ADD failed)
    const netns = after.podNetns.get(key)!;
    for (const c of p.containers) {
      const argv = [...(c.command ?? []), ...(c.args ?? [])];
      if (idle(argv)) continue;
      if (argv.length === 0) return `pod ${key} (${c.name}): ${c.image}: the image's default command`;
      if (argv[0] !== 'ping' && argv[0] !== 'curl') return `pod ${key} (${c.name}): ${argv.join(' ')} (a pod started mid-run runs only ping or curl so far)`;
      const b = bound(argv);
      if (typeof b === 'string') return `pod ${key} (${c.name}): ${b}`;
      programs.push({ label: `${p.name}-${c.name}`, netns, argv, timeoutSec: b.timeoutSec });
    }
  }
  return { delta, programs };
}
