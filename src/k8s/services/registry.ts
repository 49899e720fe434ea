/**
 * The Services of a cluster and their EndpointSlices: what the apiserver stores (with ClusterIPs
 * from its allocator) and what the EndpointSlice controller keeps up to date as pods come, go and
 * change readiness. It is a model: it never touches the network. kube-proxy subscribes with
 * onChange and reads the state back (kube-proxy-services.ts).
 *
 * kubernetes.default exists from the start, as the apiserver creates it: the first address of the
 * service CIDR, port https 443 → the apiserver's address:6443 (its EndpointSlice is named
 * `kubernetes`, written by the apiserver's endpoint reconciler rather than the controller).
 */
import type { Ipv4Addr } from '../../packet/addr.js';
import type { Random, RandomStream } from '../../sim/random.js';
import { ClusterIpAllocator, ClusterIpError } from './cluster-ip-allocator.js';
import { reconcileEndpointSlices } from './endpoint-slices.js';
import { LABEL_SERVICE_NAME, type EndpointSlice, type PodView, type Service, type ServiceInput } from './model.js';

export { ClusterIpError };

export interface ServiceRegistryOptions {
  /** kube-apiserver --service-cluster-ip-range. */
  readonly serviceCidr: { readonly network: Ipv4Addr; readonly prefixLen: number };
  /** The apiserver's advertised address (the first control-plane node's InternalIP) and port. */
  readonly apiserver: { readonly ip: Ipv4Addr; readonly port: number };
  /** The pods as they are now; read at every reconciliation. */
  readonly pods: () => Iterable<PodView>;
  readonly nowNs: () => number;
  readonly random: Random;
}

/** A Service the API refuses (a taken or foreign ClusterIP, a duplicate name, a full range). */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`;

export class ServiceRegistry {
  readonly allocator: ClusterIpAllocator;
  private readonly byKey = new Map<string, Service>();
  private readonly slicesByService = new Map<string, EndpointSlice[]>();
  private readonly listeners = new Set<() => void>();
  private readonly sliceNames: RandomStream;

  constructor(private readonly opts: ServiceRegistryOptions) {
    this.allocator = new ClusterIpAllocator(opts.serviceCidr.network, opts.serviceCidr.prefixLen, opts.random.stream('clusterip'));
    this.sliceNames = opts.random.stream('endpointslice-name');
    this.addKubernetesService();
  }

  /** The kubernetes.default Service's address: the first of the range (the apiserver's own choice). */
  get kubernetesServiceIp(): Ipv4Addr {
    return this.allocator.addressAt(0);
  }

  /** kube-dns's address by kubeadm's convention: the tenth of the range (10.96.0.10). */
  get dnsServiceIp(): Ipv4Addr {
    return this.allocator.addressAt(9);
  }

  /** Creates a Service: its ClusterIP is allocated (given, or random above the static band). */
  addService(input: ServiceInput): Service {
    const k = key(input.namespace, input.name);
    if (this.byKey.has(k)) throw new ServiceError(`services "${input.name}" already exists`);
    let clusterIP: Service['clusterIP'];
    if (input.type === 'ExternalName') clusterIP = undefined;
    else if (input.clusterIP === 'None') clusterIP = 'None';
    else {
      try {
        if (input.clusterIP === undefined) clusterIP = this.allocator.allocateNext();
        else {
          this.allocator.allocate(input.clusterIP);
          clusterIP = input.clusterIP;
        }
      } catch (e) {
        if (!(e instanceof ClusterIpError)) throw e;
        throw new ServiceError(e.message);
      }
    }
    const svc: Service = { ...input, clusterIP, creationNs: this.opts.nowNs() };
    this.byKey.set(k, svc);
    this.reconcile(svc);
    this.changed();
    return svc;
  }

  deleteService(namespace: string, name: string): void {
    const k = key(namespace, name);
    const svc = this.byKey.get(k);
    if (!svc) throw new ServiceError(`services "${name}" not found`);
    if (typeof svc.clusterIP === 'number') this.allocator.release(svc.clusterIP);
    this.byKey.delete(k);
    this.slicesByService.delete(k);
    this.changed();
  }

  service(namespace: string, name: string): Service | undefined {
    return this.byKey.get(key(namespace, name));
  }

  /** Every Service, in creation order. */
  services(): Service[] {
    return [...this.byKey.values()];
  }

  /** A Service's EndpointSlices (label kubernetes.io/service-name=NAME). */
  endpointSlices(namespace: string, serviceName: string): readonly EndpointSlice[] {
    return this.slicesByService.get(key(namespace, serviceName)) ?? [];
  }

  /** Every EndpointSlice, by Service creation order. */
  allEndpointSlices(): EndpointSlice[] {
    return [...this.slicesByService.values()].flat();
  }

  /**
   * Pods or their readiness changed: the controller recomputes every selector Service's slices,
   * and listeners hear of it when anything differs.
   */
  podsChanged(): void {
    let changed = false;
    for (const svc of this.byKey.values()) if (svc.selector !== undefined && this.reconcile(svc)) changed = true;
    if (changed) this.changed();
  }

  /** Called after every change of Services or EndpointSlices; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Returns whether the slices changed. */
  private reconcile(svc: Service): boolean {
    const k = key(svc.namespace, svc.name);
    if (svc.selector === undefined) return false;
    const before = this.slicesByService.get(k) ?? [];
    const after = reconcileEndpointSlices(svc, this.opts.pods(), before, this.opts.nowNs(), this.sliceNames);
    if (JSON.stringify(after) === JSON.stringify(before)) return false;
    this.slicesByService.set(k, after);
    return true;
  }

  private addKubernetesService(): void {
    const ip = this.kubernetesServiceIp;
    this.allocator.allocate(ip);
    const labels = { component: 'apiserver', provider: 'kubernetes' };
    const svc: Service = {
      namespace: 'default', name: 'kubernetes', labels, annotations: {}, type: 'ClusterIP', selector: undefined,
      ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: this.opts.apiserver.port }],
      clusterIP: ip, externalName: undefined, sessionAffinity: 'None', affinityTimeoutSeconds: undefined,
      internalTrafficPolicy: 'Cluster', publishNotReadyAddresses: false, creationNs: this.opts.nowNs(),
    };
    this.byKey.set(key('default', 'kubernetes'), svc);
    // The apiserver's endpoint reconciler writes Endpoints and a same-named EndpointSlice itself.
    this.slicesByService.set(key('default', 'kubernetes'), [{
      namespace: 'default', name: 'kubernetes', serviceName: 'kubernetes', addressType: 'IPv4',
      labels: { [LABEL_SERVICE_NAME]: 'kubernetes' },
      endpoints: [{ addresses: [this.opts.apiserver.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: undefined, targetRef: undefined }],
      ports: [{ name: 'https', port: this.opts.apiserver.port, protocol: 'TCP' }],
      creationNs: this.opts.nowNs(),
    }]);
  }
}

/**
 * The kube-dns Service kubeadm installs with CoreDNS (its manifest in cmd/kubeadm/app/phases/
 * addons/dns): kube-system/kube-dns at the tenth address, ports dns 53/UDP, dns-tcp 53/TCP and
 * metrics 9153/TCP, selecting k8s-app=kube-dns. The scenario layer creates it when the scenario
 * runs CoreDNS pods.
 */
export function kubeDnsServiceInput(registry: ServiceRegistry): ServiceInput {
  return {
    namespace: 'kube-system',
    name: 'kube-dns',
    labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
    annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    type: 'ClusterIP',
    selector: { 'k8s-app': 'kube-dns' },
    ports: [
      { name: 'dns', protocol: 'UDP', port: 53, targetPort: 53 },
      { name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: 53 },
      { name: 'metrics', protocol: 'TCP', port: 9153, targetPort: 9153 },
    ],
    clusterIP: registry.dnsServiceIp,
    externalName: undefined,
    sessionAffinity: 'None',
    affinityTimeoutSeconds: undefined,
    internalTrafficPolicy: 'Cluster',
    publishNotReadyAddresses: false,
  };
}
