import { describe, expect, it } from 'vitest';
import { formatIpv4, parseIpv4 } from '../../../src/packet/addr.js';
import { endpointPorts, generateName, reconcileEndpointSlices } from '../../../src/k8s/services/endpoint-slices.js';
import type { PodView, Service } from '../../../src/k8s/services/model.js';
import { Random } from '../../../src/sim/random.js';

const svc = (over: Partial<Service> = {}): Service => ({
  namespace: 'default', name: 'web', labels: { app: 'web' }, annotations: {}, type: 'ClusterIP', selector: { app: 'web' },
  ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' }],
  clusterIP: parseIpv4('10.96.5.5'), externalName: undefined, sessionAffinity: 'None', affinityTimeoutSeconds: undefined,
  internalTrafficPolicy: 'Cluster', publishNotReadyAddresses: false, creationNs: 0, ...over,
});

let n = 0;
const pod = (name: string, ip: string, over: Partial<PodView> = {}): PodView => ({
  namespace: 'default', name, uid: `uid-${n++}`, nodeName: 'n1', ip: parseIpv4(ip), running: true, labels: { app: 'web' },
  containerPorts: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }], ready: true, terminating: false, ...over,
});

const names = () => new Random(3).stream('endpointslice-name');

describe('EndpointSlice reconciliation', () => {
  it('names slices as generateName does: the service name, a dash, five of utilrand\'s characters', () => {
    const name = generateName('web-', names());
    expect(name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(generateName(`${'x'.repeat(70)}-`, names())).toHaveLength(63);
  });

  it('resolves a named targetPort per pod, and leaves a pod without the name out of that port', () => {
    const pods = [
      pod('a', '10.244.1.2'),
      pod('b', '10.244.1.3', { containerPorts: [{ name: 'http', containerPort: 9090, protocol: 'TCP' }] }),
      pod('c', '10.244.1.4', { containerPorts: [] }),
      pod('d', '10.244.1.5', { containerPorts: [{ name: 'http', containerPort: 8080, protocol: 'UDP' }] }),
    ];
    expect(endpointPorts(svc(), pods[1]!)).toEqual([{ name: 'http', port: 9090, protocol: 'TCP' }]);
    const slices = reconcileEndpointSlices(svc(), pods, [], 0, names());
    const summary = slices.map((s) => [s.ports.map((p) => p.port), s.endpoints.map((e) => formatIpv4(e.addresses[0]!))]);
    // One slice per distinct port mapping: 8080, 9090, and none (the pods without a TCP "http").
    expect(summary).toEqual([[[8080], ['10.244.1.2']], [[9090], ['10.244.1.3']], [[], ['10.244.1.4', '10.244.1.5']]]);
    expect(slices[0]!.labels).toEqual({ app: 'web', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
  });

  it('puts at most 100 endpoints in a slice and keeps slice names across updates', () => {
    const many = Array.from({ length: 250 }, (_, i) => pod(`p${i}`, `10.244.${1 + Math.floor(i / 200)}.${(i % 200) + 2}`));
    const r = names();
    const first = reconcileEndpointSlices(svc(), many, [], 0, r);
    expect(first.map((s) => s.endpoints.length)).toEqual([100, 100, 50]);
    // One pod leaves, two come: the gap and the last slice take them, no slice is renamed.
    const next = [...many.slice(1), pod('q1', '10.244.9.1'), pod('q2', '10.244.9.2')];
    const second = reconcileEndpointSlices(svc(), next, first, 1, r);
    expect(second.map((s) => s.name)).toEqual(first.map((s) => s.name));
    expect(second.map((s) => s.endpoints.length)).toEqual([100, 100, 51]);
    expect(second[0]!.endpoints.at(-1)!.targetRef!.name).toBe('q1');
  });

  it('writes ready, serving and terminating as podToEndpoint does', () => {
    const pods = [pod('a', '10.244.1.2'), pod('b', '10.244.1.3', { ready: false }), pod('c', '10.244.1.4', { terminating: true })];
    const [s] = reconcileEndpointSlices(svc(), pods, [], 0, names());
    expect(s!.endpoints.map((e) => [e.targetRef!.name, e.conditions])).toEqual([
      ['a', { ready: true, serving: true, terminating: false }],
      ['b', { ready: false, serving: false, terminating: false }],
      ['c', { ready: false, serving: true, terminating: true }],
    ]);
    const [p] = reconcileEndpointSlices(svc({ publishNotReadyAddresses: true }), pods, [], 0, names());
    expect(p!.endpoints.map((e) => e.conditions.ready)).toEqual([true, true, true]);
  });

  it('selects by label in the service namespace, pods with an IP that run', () => {
    const pods = [
      pod('a', '10.244.1.2', { labels: { app: 'db' } }),
      pod('b', '10.244.1.3', { namespace: 'other' }),
      pod('c', '10.244.1.4', { ip: undefined }),
      pod('d', '10.244.1.5', { running: false }),
    ];
    const r = names();
    const slices = reconcileEndpointSlices(svc(), pods, [], 0, r);
    // Nothing matches: one placeholder slice, no ports, no endpoints.
    expect(slices.map((s) => [s.ports.length, s.endpoints.length])).toEqual([[0, 0]]);
    // It keeps its name while nothing matches, and goes when endpoints come.
    const again = reconcileEndpointSlices(svc(), pods, slices, 1, r);
    expect(again[0]!.name).toBe(slices[0]!.name);
    const filled = reconcileEndpointSlices(svc(), [pod('e', '10.244.1.6')], again, 2, r);
    expect(filled.map((s) => s.endpoints.length)).toEqual([1]);
    expect(filled[0]!.name).not.toBe(slices[0]!.name);
    expect(reconcileEndpointSlices(svc({ selector: undefined }), pods, [], 0, names())).toEqual([]);
  });
});
