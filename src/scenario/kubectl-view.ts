/**
 * The read-only kubectl views a scenario step may ask for, as kubectl prints them (columns padded
 * to the widest cell, three spaces apart): `get pods [-o wide]`, `get svc|services`, `get
 * endpoints|ep`, `get endpointslices`, several kinds at once (`get svc,endpoints`: one table per
 * kind, `KIND/NAME` names, a blank line between), `-n NS` / `-A`, and `describe svc NAME`.
 */
import type { Cluster } from '../k8s/cluster.js';
import type { Service } from '../k8s/services/model.js';
import {
  clusterIpText,
  describeService,
  endpointsSubsets,
  formatEndpoints,
  formatLabels,
  formatSliceEndpoints,
  formatSlicePorts,
  portsText,
} from './kubectl-services.js';

/** kubectl's age: seconds up to 2 minutes, then minutes and seconds, then minutes, hours. */
function age(ns: number): string {
  const s = Math.floor(ns / 1e9);
  if (s < 120) return `${s}s`;
  if (s < 600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  if (s < 3 * 3600) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

interface ViewArgs {
  readonly verb: string | undefined;
  readonly what: string | undefined;
  readonly names: readonly string[];
  readonly namespace: string;
  readonly allNamespaces: boolean;
  readonly output: string | undefined;
}

/** The words after `kubectl`: flags anywhere (pflag), then VERB TYPE[,TYPE…] [NAME…]. */
function parseViewArgs(argv: readonly string[]): ViewArgs {
  const positionals: string[] = [];
  let namespace = 'default';
  let allNamespaces = false;
  let output: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-n' || a === '--namespace') namespace = argv[++i] ?? namespace;
    else if (a.startsWith('--namespace=')) namespace = a.slice('--namespace='.length);
    else if (a.startsWith('-n') && a.length > 2 && !a.startsWith('--')) namespace = a.slice(2).replace(/^=/, '');
    else if (a === '-A' || a === '--all-namespaces') allNamespaces = true;
    else if (a === '-o' || a === '--output') output = argv[++i];
    else if (a.startsWith('--output=')) output = a.slice('--output='.length);
    else if (a.startsWith('-o') && !a.startsWith('--')) output = a.slice(2).replace(/^=/, '');
    else positionals.push(a);
  }
  const [verb, what, ...names] = positionals;
  return { verb, what, names, namespace, allNamespaces, output };
}

const KIND_ALIASES: Readonly<Record<string, string>> = {
  pods: 'pods', pod: 'pods', po: 'pods',
  services: 'services', service: 'services', svc: 'services',
  endpoints: 'endpoints', ep: 'endpoints',
  endpointslices: 'endpointslices', endpointslice: 'endpointslices',
};
/** The KIND in `KIND/NAME` names (kubectl's singular resource with its group). */
const KIND_PREFIX: Readonly<Record<string, string>> = {
  pods: 'pod', services: 'service', endpoints: 'endpoints', endpointslices: 'endpointslice.discovery.k8s.io',
};
const KIND_TEXT: Readonly<Record<string, string>> = {
  pods: 'pods', services: 'services', endpoints: 'endpoints', endpointslices: 'endpointslices.discovery.k8s.io',
};

type Result = { output: string; exitCode: number };

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function renderKubectlView(cluster: Cluster, argv: readonly string[]): Result {
  const args = parseViewArgs(argv);
  const unsupported = (): Result => ({ output: `podwire: kubectl ${argv.join(' ')} is not supported yet\n`, exitCode: 1 });
  if (args.verb === 'describe') return describe(cluster, args) ?? unsupported();
  if (args.verb !== 'get' || args.what === undefined) return unsupported();
  let what = args.what;
  let names = args.names;
  if (what.includes('/') && names.length === 0) {
    names = [what.slice(what.indexOf('/') + 1)];
    what = what.slice(0, what.indexOf('/'));
  }
  const kinds = what.split(',').map((k) => KIND_ALIASES[k]);
  if (kinds.some((k) => k === undefined)) return unsupported();
  if (args.output !== undefined && args.output !== 'wide') return unsupported();
  const prefixed = kinds.length > 1;
  const tables: string[] = [];
  let errors = '';
  for (const kind of kinds as string[]) {
    const r = kindTable(cluster, kind, args, names, prefixed);
    if (r.table !== undefined) tables.push(r.table);
    errors += r.errors;
  }
  if (tables.length === 0 && errors === '') {
    return { output: args.allNamespaces ? 'No resources found\n' : `No resources found in ${args.namespace} namespace.\n`, exitCode: 0 };
  }
  return { output: tables.join('\n') + errors, exitCode: errors === '' ? 0 : 1 };
}

interface KindRows {
  readonly head: string[];
  readonly rows: { readonly namespace: string; readonly name: string; readonly cells: string[] }[];
}

function kindRows(cluster: Cluster, kind: string, wide: boolean): KindRows {
  const now = cluster.sched.nowNs;
  if (kind === 'pods') {
    return {
      head: wide ? ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'] : ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
      rows: [...cluster.pods.values()].map((p) => {
        const r = cluster.podReadiness(p);
        const ready = r ? `${r.ready}/${r.total}` : p.phase === 'Running' ? '1/1' : '0/1';
        const base = [ready, p.phase, '0', age(now - p.createdNs)];
        return { namespace: p.model.namespace, name: p.model.name, cells: wide ? [...base, cluster.describePodIp(p), p.model.nodeName, '<none>', '<none>'] : base };
      }),
    };
  }
  if (!cluster.hasServices) return { head: [], rows: [] };
  const registry = cluster.services;
  if (kind === 'services') {
    return {
      head: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', ...(wide ? ['SELECTOR'] : [])],
      rows: registry.services().map((s: Service) => ({
        namespace: s.namespace,
        name: s.name,
        cells: [s.type, clusterIpText(s), s.externalName ?? '<none>', portsText(s), age(now - s.creationNs), ...(wide ? [formatLabels(s.selector)] : [])],
      })),
    };
  }
  if (kind === 'endpoints') {
    return {
      head: ['NAME', 'ENDPOINTS', 'AGE'],
      rows: registry.services().flatMap((s) => {
        const subsets = endpointsSubsets(registry, s);
        return subsets === undefined ? [] : [{ namespace: s.namespace, name: s.name, cells: [formatEndpoints(subsets), age(now - s.creationNs)] }];
      }),
    };
  }
  return {
    head: ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'],
    rows: registry.allEndpointSlices().map((sl) => ({
      namespace: sl.namespace, name: sl.name, cells: [sl.addressType, formatSlicePorts(sl), formatSliceEndpoints(sl), age(now - sl.creationNs)],
    })),
  };
}

function kindTable(cluster: Cluster, kind: string, args: ViewArgs, names: readonly string[], prefixed: boolean): { table: string | undefined; errors: string } {
  const { head, rows } = kindRows(cluster, kind, args.output === 'wide');
  // The apiserver lists objects in storage key order: by namespace, then name.
  const inScope = rows
    .filter((r) => args.allNamespaces || r.namespace === args.namespace)
    .sort((a, b) => (a.namespace === b.namespace ? cmp(a.name, b.name) : cmp(a.namespace, b.namespace)));
  let errors = '';
  let chosen = inScope;
  if (names.length > 0) {
    chosen = [];
    for (const n of names) {
      const r = inScope.find((x) => x.name === n);
      if (r) chosen.push(r);
      else errors += `Error from server (NotFound): ${KIND_TEXT[kind]} "${n}" not found\n`;
    }
  }
  if (chosen.length === 0) return { table: undefined, errors };
  const name = (n: string) => (prefixed ? `${KIND_PREFIX[kind]}/${n}` : n);
  const ns = args.allNamespaces;
  const table_ = table([
    [...(ns ? ['NAMESPACE'] : []), ...head],
    ...chosen.map((r) => [...(ns ? [r.namespace] : []), name(r.name), ...r.cells]),
  ]);
  return { table: table_, errors };
}

function describe(cluster: Cluster, args: ViewArgs): Result | undefined {
  let what = args.what;
  let names = args.names;
  if (what?.includes('/')) {
    names = [what.slice(what.indexOf('/') + 1), ...names];
    what = what.slice(0, what.indexOf('/'));
  }
  if (what === undefined || KIND_ALIASES[what] !== 'services' || !cluster.hasServices) return undefined;
  const registry = cluster.services;
  const chosen = names.length > 0 ? names : registry.services().filter((s) => s.namespace === args.namespace).map((s) => s.name);
  let out = '';
  let exitCode = 0;
  const parts: string[] = [];
  for (const n of chosen) {
    const svc = registry.service(args.namespace, n);
    if (!svc) {
      out += `Error from server (NotFound): services "${n}" not found\n`;
      exitCode = 1;
      continue;
    }
    parts.push(describeService(registry, svc));
  }
  // kubectl describe separates objects with a blank line.
  return { output: parts.join('\n\n') + out, exitCode };
}
