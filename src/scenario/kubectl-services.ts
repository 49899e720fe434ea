/**
 * kubectl's views of Services, Endpoints and EndpointSlices, as kubectl 1.31 prints them
 * (k8s.io/kubernetes pkg/printers/internalversion/printers.go for `get`, staging
 * k8s.io/kubectl/pkg/describe/describe.go for `describe svc`).
 *
 * Endpoints (v1) are what the endpoints controller derives from the same pods as the slices: per
 * port mapping a subset, ready addresses in `addresses` (sorted as strings, as RepackSubsets does)
 * and the others in `notReadyAddresses`; terminating pods are left out. kubectl lists only the
 * ready ones, at most three, then `+ N more...`; `<none>` when there is no subset at all.
 */
import { formatIpv4 } from '../packet/addr.js';
import type { ServiceRegistry } from '../k8s/services/registry.js';
import type { EndpointPort, EndpointSlice, Service } from '../k8s/services/model.js';

export interface EndpointsSubset {
  readonly addresses: readonly string[];
  readonly notReadyAddresses: readonly string[];
  readonly ports: readonly EndpointPort[];
}

/** The v1 Endpoints subsets of a Service (undefined: the Service has no Endpoints object). */
export function endpointsSubsets(registry: ServiceRegistry, svc: Service): EndpointsSubset[] | undefined {
  const isApiserver = svc.namespace === 'default' && svc.name === 'kubernetes';
  if (svc.selector === undefined && !isApiserver) return undefined;
  const byPorts = new Map<string, { ready: Set<string>; notReady: Set<string>; ports: readonly EndpointPort[] }>();
  for (const slice of registry.endpointSlices(svc.namespace, svc.name)) {
    if (slice.endpoints.length === 0) continue;
    const key = JSON.stringify(slice.ports);
    let sub = byPorts.get(key);
    if (!sub) byPorts.set(key, (sub = { ready: new Set(), notReady: new Set(), ports: slice.ports }));
    for (const ep of slice.endpoints) {
      if (ep.conditions.terminating) continue;
      for (const a of ep.addresses) (ep.conditions.ready ? sub.ready : sub.notReady).add(formatIpv4(a));
    }
  }
  const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...byPorts.values()]
    .filter((s) => s.ready.size + s.notReady.size > 0)
    .map((s) => ({ addresses: [...s.ready].sort(byString), notReadyAddresses: [...s.notReady].sort(byString), ports: s.ports }));
}

/** formatEndpoints (printers.go): ready `ip:port`s of the ports asked for (all when undefined), three at most. */
export function formatEndpoints(subsets: readonly EndpointsSubset[] | undefined, portName?: string): string {
  if (!subsets || subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    if (ss.ports.length === 0) {
      count += ss.addresses.length;
      for (const a of ss.addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a);
      }
      continue;
    }
    for (const port of ss.ports) {
      if (portName !== undefined && port.name !== portName) continue;
      count += ss.addresses.length;
      for (const a of ss.addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(`${a}:${port.port}`);
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

/** listWithMoreString: three items at most, `<unset>` for none. */
function listWithMore(items: readonly string[]): string {
  const max = 3;
  const ret = items.slice(0, max).join(',');
  if (items.length > max) return `${ret} + ${items.length - max} more...`;
  return ret === '' ? '<unset>' : ret;
}

export function formatSlicePorts(slice: EndpointSlice): string {
  return listWithMore(slice.ports.map((p) => String(p.port)));
}

export function formatSliceEndpoints(slice: EndpointSlice): string {
  return listWithMore(slice.endpoints.flatMap((e) => e.addresses.map(formatIpv4)));
}

/** CLUSTER-IP: clusterIPs[0], `None` for headless, `<none>` without one (ExternalName). */
export function clusterIpText(svc: Service): string {
  return svc.clusterIP === undefined ? '<none>' : svc.clusterIP === 'None' ? 'None' : formatIpv4(svc.clusterIP);
}

/** makePortString: `80/TCP,443/TCP`, `<none>` without ports. */
export function portsText(svc: Service): string {
  return svc.ports.length === 0 ? '<none>' : svc.ports.map((p) => `${p.port}/${p.protocol}`).join(',');
}

/** labels.FormatLabels: sorted `k=v` joined by commas, `<none>` when empty. */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length === 0 ? '<none>' : keys.map((k) => `${k}=${labels![k]}`).join(',');
}

/**
 * Go's text/tabwriter as describe uses it (minwidth 0, padding 2, padchar ' '): a column is as
 * wide as its widest cell plus two over a block of consecutive lines that have that column;
 * the last cell of a line is not padded.
 */
export function tabwriter(lines: readonly string[]): string {
  const rows = lines.map((l) => l.split('\t'));
  const out = rows.map(() => '');
  const widths: number[][] = rows.map(() => []);
  const maxCols = Math.max(0, ...rows.map((r) => r.length - 1));
  for (let col = 0; col < maxCols; col++) {
    let i = 0;
    while (i < rows.length) {
      if (rows[i]!.length - 1 <= col) {
        i++;
        continue;
      }
      let j = i;
      let w = 0;
      while (j < rows.length && rows[j]!.length - 1 > col) w = Math.max(w, rows[j]![col]!.length), j++;
      for (let k = i; k < j; k++) widths[k]![col] = w + 2;
      i = j;
    }
  }
  rows.forEach((r, i) => {
    out[i] = r.map((c, col) => (col < r.length - 1 ? c.padEnd(widths[i]![col]!) : c)).join('');
  });
  return out.map((l) => `${l}\n`).join('');
}

function multiline(title: string, m: Readonly<Record<string, string>>): string[] {
  const keys = Object.keys(m).sort();
  if (keys.length === 0) return [`${title}:\t<none>`];
  return keys.map((k, i) => `${i === 0 ? `${title}:` : ''}\t${k}=${m[k]}`);
}

/** describeService (describe.go), field by field in kubectl's order. */
export function describeService(registry: ServiceRegistry, svc: Service): string {
  const lines: string[] = [`Name:\t${svc.name}`, `Namespace:\t${svc.namespace}`, ...multiline('Labels', svc.labels), ...multiline('Annotations', svc.annotations)];
  lines.push(`Selector:\t${formatLabels(svc.selector)}`, `Type:\t${svc.type}`);
  const hasIp = svc.type !== 'ExternalName';
  if (hasIp) lines.push('IP Family Policy:\tSingleStack');
  lines.push(`IP Families:\t${hasIp ? 'IPv4' : '<none>'}`);
  const ip = svc.clusterIP === undefined ? '' : svc.clusterIP === 'None' ? 'None' : formatIpv4(svc.clusterIP);
  lines.push(`IP:\t${ip}`, `IPs:\t${ip === '' ? '<none>' : ip}`);
  if (svc.externalName !== undefined) lines.push(`External Name:\t${svc.externalName}`);
  const subsets = endpointsSubsets(registry, svc);
  for (const sp of svc.ports) {
    const name = sp.name === '' ? '<unset>' : sp.name;
    lines.push(`Port:\t${name}\t${sp.port}/${sp.protocol}`, `TargetPort:\t${sp.targetPort}/${sp.protocol}`);
    lines.push(`Endpoints:\t${formatEndpoints(subsets ?? [], sp.name)}`);
  }
  lines.push(`Session Affinity:\t${svc.sessionAffinity}`);
  if (hasIp) lines.push(`Internal Traffic Policy:\t${svc.internalTrafficPolicy}`);
  lines.push('Events:\t<none>');
  return tabwriter(lines);
}
