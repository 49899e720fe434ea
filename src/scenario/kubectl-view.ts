/**
 * The read-only kubectl views a scenario step may ask for: `kubectl get pods [-o wide]`, as
 * kubectl prints them (columns padded to the widest cell, three spaces apart).
 */
import type { Cluster } from '../k8s/cluster.js';

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

export function renderKubectlView(cluster: Cluster, argv: readonly string[]): { output: string; exitCode: number } {
  const [verb, what, ...rest] = argv;
  const wide = rest.includes('-o') && rest[rest.indexOf('-o') + 1] === 'wide' || rest.includes('-owide') || rest.includes('--output=wide');
  if (verb === 'get' && (what === 'pods' || what === 'pod' || what === 'po')) {
    const pods = [...cluster.pods.values()];
    if (pods.length === 0) return { output: 'No resources found in default namespace.\n', exitCode: 0 };
    const head = wide ? ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'] : ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'];
    const rows = pods.map((p) => {
      const ready = p.phase === 'Running' ? '1/1' : '0/1';
      const base = [p.model.name, ready, p.phase, '0', age(cluster.sched.nowNs - p.createdNs)];
      return wide ? [...base, cluster.describePodIp(p), p.model.nodeName, '<none>', '<none>'] : base;
    });
    return { output: table([head, ...rows]), exitCode: 0 };
  }
  return { output: `podwire: kubectl ${argv.join(' ')} is not supported yet\n`, exitCode: 1 };
}
