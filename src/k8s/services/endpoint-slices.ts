/**
 * The EndpointSlice controller's reconciliation for one Service (pkg/controller/endpointslice,
 * staging/src/k8s.io/endpointslice reconciler.go), reduced to what decides the slices' content:
 *
 * - the pods are those the selector matches in the Service's namespace that have an IP and are
 *   not finished (ShouldPodBeInEndpoints with terminating pods included);
 * - each pod's ports are the Service's ports resolved against its containers (podutil.FindPort):
 *   a named targetPort is looked up by name and protocol per pod, so pods may map it to different
 *   numbers, and a pod without that name has no endpoint for that port (it is logged and skipped);
 * - pods are grouped by that resolved port list (endpointutil.NewPortMapKey): one group of slices
 *   per distinct mapping, at most 100 endpoints a slice (--max-endpoints-per-slice);
 * - existing slices are updated in place (endpoints gone are removed, new ones fill slices with
 *   room before a new slice is made), a slice left empty is deleted, and when a Service has no
 *   endpoints at all one placeholder slice without ports or endpoints remains;
 * - conditions: ready = the pod is Ready and not terminating (or publishNotReadyAddresses);
 *   serving = the pod is Ready; terminating = deletionTimestamp set (podToEndpoint).
 *
 * New slices are named as generateName does: `<service>-` and five characters of
 * utilrand.String's alphabet, drawn from the seeded stream the caller gives.
 */
import {
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  MANAGED_BY_CONTROLLER,
  MAX_ENDPOINTS_PER_SLICE,
  selectorMatches,
  type Endpoint,
  type EndpointPort,
  type EndpointSlice,
  type PodView,
  type Service,
} from './model.js';
import type { RandomStream } from '../../sim/random.js';

/** utilrand.String's alphabet (k8s.io/apimachinery/pkg/util/rand): no vowels, no 0/1/3. */
const RAND_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** names.SimpleNameGenerator: a generated suffix of 5, the base cut to 63 - 5. */
const MAX_GENERATED_BASE = 58;

export function generateName(base: string, random: RandomStream): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += RAND_ALPHABET[random.intBetween(0, RAND_ALPHABET.length - 1)]!;
  return base.slice(0, MAX_GENERATED_BASE) + suffix;
}

/** The ports a pod gives a Service (getEndpointPorts): each service port that resolves on it. */
export function endpointPorts(service: Service, pod: PodView): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of service.ports) {
    let port: number | undefined;
    if (typeof sp.targetPort === 'number') port = sp.targetPort;
    else port = pod.containerPorts.find((cp) => cp.name === sp.targetPort && cp.protocol === sp.protocol)?.containerPort;
    if (port === undefined) continue;
    out.push({ name: sp.name, port, protocol: sp.protocol });
  }
  return out;
}

function podToEndpoint(service: Service, pod: PodView): Endpoint {
  return {
    addresses: [pod.ip!],
    conditions: {
      ready: service.publishNotReadyAddresses || (pod.ready && !pod.terminating),
      serving: pod.ready,
      terminating: pod.terminating,
    },
    nodeName: pod.nodeName,
    targetRef: { kind: 'Pod', namespace: pod.namespace, name: pod.name, uid: pod.uid },
  };
}

const portKey = (ports: readonly EndpointPort[]): string => JSON.stringify(ports.map((p) => [p.name, p.port, p.protocol]));
const podKey = (e: Endpoint): string => (e.targetRef ? `${e.targetRef.namespace}/${e.targetRef.name}` : '');

/** The labels a slice carries: the Service's, plus the service name and the controller's mark. */
function sliceLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = { ...service.labels };
  if (service.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
  labels[LABEL_SERVICE_NAME] = service.name;
  labels[LABEL_MANAGED_BY] = MANAGED_BY_CONTROLLER;
  return labels;
}

/**
 * The Service's slices after one reconciliation, from the slices it had. Services without a
 * selector get none from the controller (their endpoints are managed by someone else).
 */
export function reconcileEndpointSlices(
  service: Service,
  pods: Iterable<PodView>,
  existing: readonly EndpointSlice[],
  nowNs: number,
  names: RandomStream,
  maxPerSlice = MAX_ENDPOINTS_PER_SLICE,
): EndpointSlice[] {
  const selector = service.selector;
  if (selector === undefined) return [];
  const desired = new Map<string, { ports: EndpointPort[]; endpoints: Map<string, Endpoint> }>();
  for (const pod of pods) {
    if (pod.namespace !== service.namespace || pod.ip === undefined || !pod.running) continue;
    if (!selectorMatches(selector, pod.labels)) continue;
    const ports = endpointPorts(service, pod);
    const key = portKey(ports);
    let group = desired.get(key);
    if (!group) desired.set(key, (group = { ports, endpoints: new Map() }));
    group.endpoints.set(`${pod.namespace}/${pod.name}`, podToEndpoint(service, pod));
  }

  const labels = sliceLabels(service);
  const result: EndpointSlice[] = [];
  const newSlice = (ports: readonly EndpointPort[], endpoints: Endpoint[]): EndpointSlice => ({
    namespace: service.namespace,
    name: generateName(`${service.name}-`, names),
    serviceName: service.name,
    addressType: 'IPv4',
    labels,
    endpoints,
    ports,
    creationNs: nowNs,
  });
  const deleted: EndpointSlice[] = [];
  const byKey = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    const k = portKey(s.ports);
    if (!desired.has(k)) deleted.push(s);
    else byKey.set(k, [...(byKey.get(k) ?? []), s]);
  }
  for (const [key, group] of desired) {
    const toAdd = new Map(group.endpoints);
    const kept: { slice: EndpointSlice; endpoints: Endpoint[] }[] = [];
    for (const s of byKey.get(key) ?? []) {
      const endpoints: Endpoint[] = [];
      for (const e of s.endpoints) {
        const next = toAdd.get(podKey(e));
        if (next === undefined) continue;
        endpoints.push(next);
        toAdd.delete(podKey(e));
      }
      if (endpoints.length === 0) deleted.push(s);
      else kept.push({ slice: s, endpoints });
    }
    const pending = [...toAdd.values()];
    for (const k of kept) {
      while (k.endpoints.length < maxPerSlice && pending.length > 0) k.endpoints.push(pending.shift()!);
      result.push({ ...k.slice, labels, endpoints: k.endpoints });
    }
    while (pending.length > 0) {
      result.push(newSlice(group.ports, pending.splice(0, maxPerSlice)));
    }
  }
  if (result.length === 0) {
    // The placeholder (reconciler.go): kept as it is when it is already the one slice there.
    const placeholder = deleted.find((s) => s.ports.length === 0 && s.endpoints.length === 0);
    result.push(placeholder && deleted.length === 1 ? { ...placeholder, labels } : newSlice([], []));
  }
  return result;
}
