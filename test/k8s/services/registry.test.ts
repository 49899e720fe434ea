import { describe, expect, it } from 'vitest';
import { formatIpv4, parseIpv4 } from '../../../src/packet/addr.js';
import { kubeProxyServices } from '../../../src/k8s/services/kube-proxy-services.js';
import type { PodView, ServiceInput } from '../../../src/k8s/services/model.js';
import { ServiceError, ServiceRegistry, kubeDnsServiceInput } from '../../../src/k8s/services/registry.js';
import { Random } from '../../../src/sim/random.js';

const input = (over: Partial<ServiceInput> = {}): ServiceInput => ({
  namespace: 'default', name: 'web', labels: {}, annotations: {}, type: 'ClusterIP', selector: { app: 'web' },
  ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }, { name: 'metrics', protocol: 'TCP', port: 9100, targetPort: 'metrics' }],
  clusterIP: undefined, externalName: undefined, sessionAffinity: 'None', affinityTimeoutSeconds: undefined,
  internalTrafficPolicy: 'Cluster', publishNotReadyAddresses: false, ...over,
});

const pod = (name: string, ip: string, nodeName: string, ready: boolean, labels: Record<string, string> = { app: 'web' }): PodView => ({
  namespace: labels['k8s-app'] ? 'kube-system' : 'default', name, uid: name, nodeName, ip: parseIpv4(ip), running: true, labels,
  containerPorts: [{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }, { name: 'dns', containerPort: 53, protocol: 'UDP' }], ready, terminating: false,
});

function registry(pods: PodView[], seed = 1) {
  return new ServiceRegistry({
    serviceCidr: { network: parseIpv4('10.96.0.0'), prefixLen: 12 },
    apiserver: { ip: parseIpv4('192.168.1.10'), port: 6443 },
    pods: () => pods,
    nowNs: () => 0,
    random: new Random(seed),
  });
}

describe('the Service registry', () => {
  it('has kubernetes.default at the first address, its endpoint the apiserver:6443', () => {
    const r = registry([]);
    const k = r.service('default', 'kubernetes')!;
    expect(formatIpv4(k.clusterIP as number)).toBe('10.96.0.1');
    expect(k.ports).toEqual([{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }]);
    const [slice] = r.endpointSlices('default', 'kubernetes');
    expect(slice!.name).toBe('kubernetes');
    expect(slice!.endpoints.map((e) => formatIpv4(e.addresses[0]!))).toEqual(['192.168.1.10']);
  });

  it('gives kube-dns the tenth address and random ClusterIPs above the band, in creation order', () => {
    const r = registry([]);
    const dns = r.addService(kubeDnsServiceInput(r));
    expect(formatIpv4(dns.clusterIP as number)).toBe('10.96.0.10');
    const a = r.addService(input({ name: 'a' }));
    const b = r.addService(input({ name: 'b' }));
    const again = registry([]);
    again.addService(kubeDnsServiceInput(again));
    expect([again.addService(input({ name: 'a' })).clusterIP, again.addService(input({ name: 'b' })).clusterIP]).toEqual([a.clusterIP, b.clusterIP]);
    expect((a.clusterIP as number) - parseIpv4('10.96.0.1')).toBeGreaterThanOrEqual(256);
    expect(() => r.addService(input({ name: 'c', clusterIP: parseIpv4('10.96.0.10') }))).toThrow(new ServiceError('failed to allocate IP 10.96.0.10: provided IP is already allocated'));
    expect(() => r.addService(input({ name: 'a' }))).toThrow(new ServiceError('services "a" already exists'));
    expect(r.addService(input({ name: 'h', clusterIP: 'None' })).clusterIP).toBe('None');
    expect(r.addService(input({ name: 'x', type: 'ExternalName', externalName: 'example.com', selector: undefined, ports: [] })).clusterIP).toBeUndefined();
  });

  it('tells listeners when slices change, and only then', () => {
    const pods = [pod('p1', '10.244.1.2', 'n1', false)];
    const r = registry(pods);
    let calls = 0;
    const off = r.onChange(() => calls++);
    r.addService(input());
    expect(calls).toBe(1);
    r.podsChanged();
    expect(calls).toBe(1); // nothing differs
    pods[0] = { ...pods[0]!, ready: true };
    r.podsChanged();
    expect(calls).toBe(2);
    off();
    pods.push(pod('p2', '10.244.2.2', 'n2', true));
    r.podsChanged();
    expect(calls).toBe(2);
    expect(r.endpointSlices('default', 'web').flatMap((s) => s.endpoints).length).toBe(2);
  });
});

describe('kubeProxyServices', () => {
  it('gives one ProxyServicePort per service port with the endpoints of every slice, local ones marked', () => {
    const pods = [pod('p1', '10.244.1.2', 'n1', true), pod('p2', '10.244.2.2', 'n2', false)];
    const r = registry(pods);
    const web = r.addService(input({ sessionAffinity: 'ClientIP', internalTrafficPolicy: 'Local' }));
    r.addService(input({ name: 'h', clusterIP: 'None' }));
    r.addService(input({ name: 'x', type: 'ExternalName', externalName: 'example.com', selector: undefined, ports: [] }));
    const list = kubeProxyServices(r, 'n1');
    expect(list.map((s) => s.name)).toEqual(['kubernetes', 'web']); // headless and ExternalName are skipped
    const w = list[1]!;
    expect(w).toMatchObject({ namespace: 'default', clusterIP: web.clusterIP, sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 10800, internalTrafficPolicy: 'Local' });
    expect(w.ports.map((p) => [p.name, p.port, p.protocol, p.endpoints.map((e) => [formatIpv4(e.ip), e.port, e.ready, e.serving, e.terminating, e.isLocal])])).toEqual([
      ['http', 80, 'TCP', [['10.244.1.2', 8080, true, true, false, true], ['10.244.2.2', 8080, false, false, false, false]]],
      ['metrics', 9100, 'TCP', [['10.244.1.2', 9100, true, true, false, true], ['10.244.2.2', 9100, false, false, false, false]]],
    ]);
    expect(list[0]!.ports[0]!.endpoints.map((e) => [formatIpv4(e.ip), e.port, e.isLocal])).toEqual([['192.168.1.10', 6443, false]]);
  });
});
