/**
 * `podwire inspect`: a scenario run to its end (or to a virtual time), then one machine's state
 * printed as the real tools print it — iptables-save, ip addr, ip -d link, ip route, ip neigh,
 * bridge fdb, conntrack -L — and the cluster's kubectl views. The kernel references hold the real
 * tools' dumps of the same (fixtures/kernel/<journey>/*-n1.txt), taken right after the traffic.
 *
 * The run writes its folder into a temporary directory that is removed afterwards, whatever
 * happens: inspection leaves nothing behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from '../k8s/cluster.js';
import type { Netns } from '../net/netns.js';
import { renderConntrackList } from '../net/netfilter/conntrack-list.js';
import { renderIptablesSave } from '../net/netfilter/iptables-save.js';
import { bridgeFdbShow } from '../net/render/bridge-fdb.js';
import { ipLinkDetails } from '../net/render/ip-link-details.js';
import { ipAddr, ipNeigh, ipRoute } from '../net/render/iproute.js';
import { VIRTUAL_EPOCH_SEC } from '../sim/scheduler.js';
import { renderKubectlView } from './kubectl-view.js';
import { RunStopped, runScenario } from './run.js';
import type { ScenarioSpec } from './spec.js';

/** What inspect can show, in the order it prints them. */
export const INSPECT_SECTIONS = ['iptables', 'iptables-counters', 'addr', 'link', 'route', 'neigh', 'fdb', 'conntrack', 'pods', 'svc', 'endpoints'] as const;
export type InspectSection = (typeof INSPECT_SECTIONS)[number];
/** Shown when --show is not given: the machine's tables and the pods. */
export const DEFAULT_SECTIONS: readonly InspectSection[] = ['iptables', 'addr', 'link', 'route', 'neigh', 'fdb', 'conntrack', 'pods'];

/** The target of an inspection does not exist (not in the scenario, or not at that time). */
export class InspectTargetError extends Error {
  override readonly name = 'InspectTargetError';
}

export interface InspectOptions {
  readonly seed: number;
  /** A node, a pod (NAME or NAMESPACE/NAME) or an external host: whose netns to show. */
  readonly target: string;
  readonly sections: readonly InspectSection[];
  /** Stop at this virtual time (ns since the cluster's creation) instead of at the run's end. */
  readonly atNs?: number;
}

export interface InspectResult {
  /** The sections, each after its `== … ==` header line. */
  readonly stdout: string;
  /** What the tools print on standard error (conntrack's summary line). */
  readonly stderr: string;
  /** The virtual time the state is from. */
  readonly atNs: number;
}

/** The names a target may have in the scenario: its nodes, hosts, and the pods it creates. */
function knownTargets(spec: ScenarioSpec): { nodes: string[]; pods: string[]; hosts: string[] } {
  const pods = spec.pods.map((p) => `${p.namespace}/${p.name}`);
  for (const s of spec.steps) {
    if (s.kind === 'apply') pods.push(...s.pods.map((p) => `${p.namespace}/${p.name}`));
    if (s.kind === 'run') pods.push(`${s.pod.namespace}/${s.pod.name}`);
  }
  return { nodes: spec.nodes.map((n) => n.name), pods, hosts: spec.hosts.map((h) => h.name) };
}

function podKey(target: string): string {
  return target.includes('/') ? target : `default/${target}`;
}

function checkTarget(spec: ScenarioSpec, target: string): void {
  const k = knownTargets(spec);
  if (k.nodes.includes(target) || k.hosts.includes(target) || k.pods.includes(podKey(target))) return;
  const list = (what: string, names: string[]) => (names.length ? `${what} ${names.join(', ')}` : `no ${what}`);
  throw new InspectTargetError(
    `--node ${target}: no node, pod or host of that name in ${spec.file} (${list('nodes', k.nodes)}; ${list('pods', k.pods.map((p) => p.replace(/^default\//, '')))}; ${list('hosts', k.hosts)})`,
  );
}

function targetNetns(cluster: Cluster, target: string, atNs: number): Netns {
  const node = cluster.nodes.get(target);
  if (node) return node.netns;
  const [ns, name] = podKey(target).split('/') as [string, string];
  const pod = cluster.pod(ns, name);
  if (pod) return pod.netns;
  const host = cluster.namespaces.get(target);
  if (host && !target.includes('/')) return host;
  throw new InspectTargetError(`--node ${target}: the pod does not exist at ${atNs / 1e9} s of virtual time`);
}

const HEADERS: Record<InspectSection, string> = {
  iptables: 'iptables-save',
  'iptables-counters': 'iptables-save -c',
  addr: 'ip addr',
  link: 'ip -d link',
  route: 'ip route',
  neigh: 'ip neigh',
  fdb: 'bridge fdb',
  conntrack: 'conntrack -L',
  pods: 'kubectl get pods -o wide',
  svc: 'kubectl get svc -o wide',
  endpoints: 'kubectl get endpoints',
};

const KUBECTL: Partial<Record<InspectSection, string[]>> = {
  pods: ['get', 'pods', '-o', 'wide'],
  svc: ['get', 'svc', '-o', 'wide'],
  endpoints: ['get', 'endpoints'],
};

/** One section's text (stdout) and what the tool prints on stderr. */
function render(section: InspectSection, cluster: Cluster, ns: Netns): { out: string; err: string } {
  const now = cluster.sched.nowNs;
  switch (section) {
    case 'iptables':
    case 'iptables-counters': {
      // A netns nobody has set rules in has no tables: iptables-save prints nothing there.
      const rules = ns.netfilter?.ruleset;
      const date = new Date(VIRTUAL_EPOCH_SEC * 1000 + Math.floor(now / 1e6));
      return { out: rules ? renderIptablesSave(rules, { date, counters: section === 'iptables-counters' }) : '', err: '' };
    }
    case 'addr':
      return { out: ipAddr(ns), err: '' };
    case 'link':
      return { out: ipLinkDetails(ns), err: '' };
    case 'route':
      return { out: ipRoute(ns), err: '' };
    case 'neigh':
      return { out: ipNeigh(ns), err: '' };
    case 'fdb':
      return { out: bridgeFdbShow(ns), err: '' };
    case 'conntrack': {
      const table = ns.netfilter?.conntrack;
      const out = table ? renderConntrackList(table, now) : '';
      const n = out === '' ? 0 : out.split('\n').length - 1;
      // conntrack-tools prints its count on stderr after the list (conntrack.c, "%s v%s (conntrack-tools): %d flow entries have been shown.").
      return { out, err: `conntrack v1.4.7 (conntrack-tools): ${n} flow entries have been shown.\n` };
    }
    case 'pods':
    case 'svc':
    case 'endpoints': {
      const r = renderKubectlView(cluster, KUBECTL[section]!);
      return { out: r.output, err: '' };
    }
  }
}

/** Runs the scenario to its end or to `atNs`, then renders the target's sections. */
export function inspectScenario(spec: ScenarioSpec, opts: InspectOptions): InspectResult {
  checkTarget(spec, opts.target);
  let result: InspectResult | undefined;
  const look = (cluster: Cluster): void => {
    const at = cluster.sched.nowNs;
    const ns = targetNetns(cluster, opts.target, at);
    let stdout = '';
    let stderr = '';
    for (const s of INSPECT_SECTIONS) {
      if (!opts.sections.includes(s)) continue;
      const scope = KUBECTL[s] ? '' : ` (${opts.target})`;
      const r = render(s, cluster, ns);
      stdout += `== ${HEADERS[s]}${scope} ==\n${r.out}`;
      stderr += r.err;
    }
    result = { stdout, stderr, atNs: at };
  };
  const dir = mkdtempSync(join(tmpdir(), 'podwire-inspect-'));
  try {
    runScenario(spec, { out: join(dir, 'run'), seed: opts.seed, onStop: look, ...(opts.atNs !== undefined ? { stopAtNs: opts.atNs } : {}) });
  } catch (e) {
    if (!(e instanceof RunStopped)) throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (result === undefined) throw new Error('inspect: the run ended without stopping to look');
  return result;
}
