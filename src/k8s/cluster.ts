/**
 * The cluster as the control plane sees it, and the programming of the emulated kernel that
 * follows from it: the node network (an L2 switch joining every node's eth0), nodes with
 * ip_forward on, and pods — each a netns held by its pause container, wired by the bridge CNI
 * plugin (CNI ADD with host-local IPAM) when created and unwired (CNI DEL) when deleted. A pod
 * whose ADD fails stays in ContainerCreating with the plugin's error as an event, as kubelet
 * reports it; that is not an error of the run.
 */
import { formatIpv4, parseIpv4, type Ipv4Addr } from '../packet/addr.js';
import { Cable } from '../net/cable.js';
import type { NetDevice } from '../net/device.js';
import type { Bridge } from '../net/bridge.js';
import { Netns } from '../net/netns.js';
import { VETH_DELAY_NS, type Veth } from '../net/veth.js';
import type { Random } from '../sim/random.js';
import type { Scheduler } from '../sim/scheduler.js';
import { BridgePlugin, randomVethName } from './cni/bridge-plugin.js';
import { CniError } from './cni/cni-error.js';
import type { BridgeConfig } from './cni/config.js';
import type { CniResult } from './cni/result.js';
import { HostLocalIpam } from './ipam/host-local.js';
import { programFlannelHostGw, programFlannelVxlan, type FlannelVxlanOptions } from './flannel.js';
import { KernelNetlink, randomMac } from './kernel-netlink.js';
import { programFlannelIptables } from './flannel-iptables.js';
import { ensureKubeletFirewall } from './kube-proxy/kubelet-firewall.js';
import type { ProxyService } from './kube-proxy/model.js';
import { NodeKubeProxy } from './kube-proxy/node-proxy.js';
import { PodReadiness, type ContainerReadinessSpec } from './kubelet/readiness.js';
import type { PodView, ServiceProtocol } from './services/model.js';
import { ServiceRegistry } from './services/registry.js';

/** kube-proxy's --iptables-min-sync-period default. */
export const KUBE_PROXY_MIN_SYNC_NS = 1e9;

export interface NodeModel {
  readonly name: string;
  readonly internalIp: Ipv4Addr;
  /** The node's pod subnet (spec.podCIDR). */
  readonly podSubnet: { readonly network: Ipv4Addr; readonly prefixLen: number };
  readonly nodeNetworkPrefixLen: number;
  readonly mtu: number;
  readonly cni: BridgeConfig;
  /** The node network's router: the node's `default via` route; undefined: none. */
  readonly defaultGateway?: Ipv4Addr | undefined;
}

export interface PodModel {
  readonly name: string;
  readonly namespace: string;
  readonly nodeName: string;
  readonly uid: string;
}

export type PodPhase = 'ContainerCreating' | 'Running' | 'Terminated';

export interface PodState {
  readonly model: PodModel;
  readonly netns: Netns;
  readonly containerId: string;
  readonly createdNs: number;
  phase: PodPhase;
  ip: Ipv4Addr | undefined;
  cniResult: CniResult | undefined;
  cniResultJson: string | undefined;
  readonly events: string[];
}

export interface NodeState {
  readonly model: NodeModel;
  readonly netns: Netns;
  readonly plugin: BridgePlugin;
  readonly ipam: HostLocalIpam;
  /** kube-proxy on the node, once started (startKubeProxy). */
  kubeProxy: NodeKubeProxy | undefined;
}

/** A CIDR as the control plane's settings give it. */
export interface Cidr {
  readonly addr: Ipv4Addr;
  readonly prefixLen: number;
}

/** The netns and interface of the node-network switch, as the kernel references call them. */
export const UNDERLAY_NETNS = 'underlay';
export const UNDERLAY_BRIDGE = 'br0';

export type HostKind = 'node' | 'pod' | 'switch' | 'external';

/** Told of every netns and device as it appears, so captures can attach before a frame moves. */
export interface ClusterObserver {
  netnsCreated(ns: Netns, host: string, kind: HostKind): void;
  deviceCreated(dev: NetDevice): void;
}

export class Cluster {
  readonly namespaces = new Map<string, Netns>();
  readonly nodes = new Map<string, NodeState>();
  readonly pods = new Map<string, PodState>();
  /** Each node's and host's cable to the switch (eth0 ↔ sw-<name>), by node or host name. */
  readonly cables = new Map<string, Cable>();
  readonly underlay: Netns;
  readonly switch: Bridge;
  private readonly netlink: KernelNetlink;

  constructor(
    readonly sched: Scheduler,
    readonly random: Random,
    nodeNetworkMtu: number,
    private readonly observer?: ClusterObserver,
  ) {
    this.netlink = new KernelNetlink(this.namespaces, random.stream('mac'));
    this.underlay = this.newNetns(UNDERLAY_NETNS, UNDERLAY_NETNS, 'switch');
    this.switch = this.underlay.addBridge(UNDERLAY_BRIDGE, randomMac(random.stream('mac')), nodeNetworkMtu);
    this.underlay.linkUp(this.switch);
  }

  private newNetns(name: string, host: string, kind: HostKind): Netns {
    if (this.namespaces.has(name)) throw new Error(`netns ${name} exists`);
    const ns = new Netns(name, this.sched, this.random);
    this.namespaces.set(name, ns);
    const o = this.observer;
    if (o) {
      o.netnsCreated(ns, host, kind);
      for (const d of ns.devices.values()) o.deviceCreated(d);
      ns.onDeviceRegistered = (d) => o.deviceCreated(d);
    }
    return ns;
  }

  /** A node: its netns, eth0 on the node network (a port of the switch), ip_forward=1. */
  addNode(model: NodeModel): NodeState {
    const ns = this.newNetns(model.name, model.name, 'node');
    const eth0 = this.plugIntoSwitch(ns, model.name, model.mtu);
    ns.addAddress(eth0, model.internalIp, model.nodeNetworkPrefixLen);
    ns.linkUp(eth0);
    if (model.defaultGateway !== undefined) ns.addRoute({ dst: 0, prefixLen: 0, gateway: model.defaultGateway, dev: eth0 });
    ns.sysctl.ipForward = true; // kubelet's and every CNI's requirement
    // br_netfilter loaded with bridge-nf-call-iptables=1 (kubeadm's preflight requires it), and
    // kubelet's own rules (KUBE-FIREWALL) in place before anything else starts.
    ns.sysctl.bridgeNfCallIptables = true;
    const nf = ns.ensureNetfilter();
    ensureKubeletFirewall(nf.ruleset);
    nf.commit();
    const ipam = new HostLocalIpam();
    const vethNames = this.random.stream(`veth-name/${model.name}`);
    const plugin = new BridgePlugin({
      hostNetns: model.name,
      netlink: this.netlink,
      ipam,
      hostVethName: () => randomVethName(vethNames.bytes(4)),
      containerMac: () => undefined,
    });
    const state: NodeState = { model, netns: ns, plugin, ipam, kubeProxy: undefined };
    this.nodes.set(model.name, state);
    return state;
  }

  /**
   * eth0 of a machine, cabled to its port sw-<name> on the switch. The cable starts as a plain
   * veth hop (VETH_DELAY_NS, no loss); the scenario's underlay settings change it. Losses draw
   * from the stream `link-loss/<name>`, so the same seed loses the same frames.
   */
  private plugIntoSwitch(ns: Netns, name: string, mtu: number): Veth {
    const macs = this.random.stream('mac');
    const [eth0, port] = Netns.addVethPair(ns, 'eth0', randomMac(macs), this.underlay, `sw-${name}`, randomMac(macs), mtu);
    const cable = new Cable(name, eth0, port, this.sched, this.random.stream(`link-loss/${name}`), VETH_DELAY_NS);
    eth0.cable = cable;
    port.cable = cable;
    this.cables.set(name, cable);
    this.switch.addPort(port);
    this.underlay.linkUp(port);
    return eth0;
  }

  /** The overlay between the nodes' pod subnets, programmed as its agent (flanneld) would. */
  programOverlay(mode: 'none' | 'flannel-vxlan' | 'flannel-host-gw', vxlan: FlannelVxlanOptions = {}, clusterCidr?: Cidr): void {
    if (mode === 'none') return;
    // flanneld's iptables (--ip-masq): pod → outside traffic leaves masqueraded as the node.
    if (clusterCidr !== undefined) {
      for (const n of this.nodes.values()) {
        const nf = n.netns.ensureNetfilter();
        programFlannelIptables(nf.ruleset, { network: clusterCidr, subnet: { addr: n.model.podSubnet.network, prefixLen: n.model.podSubnet.prefixLen } });
        nf.commit();
      }
    }
    const nodes = [...this.nodes.values()].map((n) => ({
      netns: n.netns, nodeIp: n.model.internalIp, subnet: n.model.podSubnet.network,
      subnetPrefixLen: n.model.podSubnet.prefixLen, mtu: n.model.mtu,
    }));
    if (mode === 'flannel-host-gw') programFlannelHostGw(nodes);
    else programFlannelVxlan(nodes, this.random.stream('mac'), vxlan);
  }

  /**
   * kube-proxy (iptables mode) on every node, synced once with `services(node)` — the Services
   * as that node sees them. Call `syncKubeProxy` again whenever Services or endpoints change.
   */
  startKubeProxy(clusterCidr: Cidr, services: (nodeName: string) => readonly ProxyService[]): void {
    this.proxyServices = services;
    for (const n of this.nodes.values()) {
      n.kubeProxy ??= new NodeKubeProxy(n.model.name, n.netns, { clusterCidr });
    }
    this.syncKubeProxy();
    if (this.hasServices) this.services.onChange(() => this.requestKubeProxySync());
  }

  private proxyServices: ((nodeName: string) => readonly ProxyService[]) | undefined;
  private lastProxySyncNs = -Infinity;
  private proxySyncPending = false;

  /** Every node's kube-proxy syncs its rules with the current Services. */
  syncKubeProxy(): void {
    const services = this.proxyServices;
    if (services === undefined) return;
    this.lastProxySyncNs = this.sched.nowNs;
    for (const n of this.nodes.values()) n.kubeProxy?.sync(services(n.model.name));
  }

  /**
   * A Service or its endpoints changed: kube-proxy syncs at once unless it synced less than
   * --iptables-min-sync-period (1 s) ago, then as soon as that period is over (its
   * BoundedFrequencyRunner); changes meanwhile fold into that one sync.
   */
  requestKubeProxySync(): void {
    if (this.proxySyncPending || this.proxyServices === undefined) return;
    this.proxySyncPending = true;
    const at = Math.max(this.sched.nowNs, this.lastProxySyncNs + KUBE_PROXY_MIN_SYNC_NS);
    this.sched.after(at - this.sched.nowNs, () => {
      this.proxySyncPending = false;
      this.syncKubeProxy();
    });
  }

  /** A machine on the node network that is not a node: eth0 on the switch, its address, up. */
  addExternalHost(name: string, address: Ipv4Addr, prefixLen: number, mtu: number): Netns {
    const ns = this.newNetns(name, name, 'external');
    const eth0 = this.plugIntoSwitch(ns, name, mtu);
    ns.addAddress(eth0, address, prefixLen);
    ns.linkUp(eth0);
    return ns;
  }

  private podKey(namespace: string, name: string): string {
    return `${namespace}/${name}`;
  }

  pod(namespace: string, name: string): PodState | undefined {
    return this.pods.get(this.podKey(namespace, name));
  }

  /**
   * Creates the pod's sandbox (a netns held by its pause container) and runs CNI ADD on its node.
   * The netns is named after the pod (namespace-qualified when the name is taken).
   */
  addPod(model: PodModel): PodState {
    const node = this.nodes.get(model.nodeName);
    if (!node) throw new Error(`node ${model.nodeName} does not exist`);
    const key = this.podKey(model.namespace, model.name);
    if (this.pods.has(key)) throw new Error(`pod ${key} exists`);
    const nsName = this.namespaces.has(model.name) ? `${model.namespace}_${model.name}` : model.name;
    const ns = this.newNetns(nsName, model.name, 'pod');
    const containerId = Buffer.from(this.random.stream('container-id').bytes(32)).toString('hex');
    const state: PodState = {
      model, netns: ns, containerId, createdNs: this.sched.nowNs, phase: 'ContainerCreating', ip: undefined,
      cniResult: undefined, cniResultJson: undefined, events: [],
    };
    this.pods.set(key, state);
    try {
      const out = node.plugin.add(node.model.cni, {
        containerId,
        netns: `/var/run/netns/${nsName}`,
        ifName: 'eth0',
        args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${model.namespace};K8S_POD_NAME=${model.name};K8S_POD_INFRA_CONTAINER_ID=${containerId};K8S_POD_UID=${model.uid}`,
      });
      state.cniResult = out.result;
      state.cniResultJson = out.json;
      const addr = out.result.ips[0]?.address;
      if (addr !== undefined) state.ip = parseIpv4(addr.split('/')[0]!);
      state.phase = 'Running';
    } catch (e) {
      if (!(e instanceof CniError)) throw e;
      // kubelet: "Failed to create pod sandbox: … plugin type=\"bridge\" failed (add): <msg>"
      state.events.push(
        `Warning  FailedCreatePodSandBox  kubelet  Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${containerId.slice(0, 12)}": plugin type="bridge" name="${node.model.cni.name}" failed (add): ${e.message}`,
      );
    }
    return state;
  }

  /** `kubectl delete pod`: CNI DEL (releases the IP, removes the veth pair), then the netns goes. */
  deletePod(namespace: string, name: string): void {
    const key = this.podKey(namespace, name);
    const pod = this.pods.get(key);
    if (!pod) throw new Error(`pod ${key} does not exist`);
    const node = this.nodes.get(pod.model.nodeName)!;
    node.plugin.del(node.model.cni, { containerId: pod.containerId, netns: `/var/run/netns/${pod.netns.name}`, ifName: 'eth0' });
    for (const d of [...pod.netns.devices.values()]) if (d !== pod.netns.lo && pod.netns.devices.has(d.name)) pod.netns.deleteLink(d);
    pod.phase = 'Terminated';
    this.pods.delete(key);
    this.namespaces.delete(pod.netns.name);
    this.podGone(key);
  }

  describePodIp(p: PodState): string {
    return p.ip === undefined ? '<none>' : formatIpv4(p.ip);
  }

  // ─── Services, EndpointSlices and pod readiness ─────────────────────────────────────────

  private serviceRegistry: ServiceRegistry | undefined;
  private readonly podStatus = new Map<string, { readonly info: PodRuntimeInfo; readonly readiness: PodReadiness }>();

  /**
   * The apiserver's Services and the EndpointSlice controller, from the service CIDR
   * (--service-cluster-ip-range) and the apiserver's address (kubernetes.default's endpoint).
   */
  startServices(opts: { readonly serviceCidr: { readonly network: Ipv4Addr; readonly prefixLen: number }; readonly apiserverIp: Ipv4Addr }): ServiceRegistry {
    if (this.serviceRegistry) throw new Error('services already started');
    this.serviceRegistry = new ServiceRegistry({
      serviceCidr: opts.serviceCidr,
      apiserver: { ip: opts.apiserverIp, port: 6443 },
      pods: () => this.podViews(),
      nowNs: () => this.sched.nowNs,
      random: this.random,
    });
    return this.serviceRegistry;
  }

  /** The Services and EndpointSlices (after startServices). */
  get services(): ServiceRegistry {
    if (!this.serviceRegistry) throw new Error('services are not started (Cluster.startServices)');
    return this.serviceRegistry;
  }

  get hasServices(): boolean {
    return this.serviceRegistry !== undefined;
  }

  /**
   * The kubelet has started the pod's containers: their labels and ports join the Services'
   * selection, and each readinessProbe starts its worker, probing from the node's netns. The
   * kubelet itself started with the cluster, at time 0 (which decides the first probe's jitter).
   */
  podContainersStarted(pod: PodState, info: PodRuntimeInfo): void {
    const key = this.podKey(pod.model.namespace, pod.model.name);
    const node = this.nodes.get(pod.model.nodeName);
    if (!node || pod.ip === undefined || pod.phase !== 'Running') return;
    const { namespace, name } = pod.model;
    const readiness = new PodReadiness(
      this.sched,
      { nodeTcp: node.netns.tcp, podIp: pod.ip, startedNs: this.sched.nowNs },
      info.containers,
      (c) => this.random.stream(`probe-jitter/${namespace}/${name}/${c}`),
      0,
      () => this.serviceRegistry?.podsChanged(),
    );
    this.podStatus.get(key)?.readiness.stop();
    this.podStatus.set(key, { info, readiness });
    this.serviceRegistry?.podsChanged();
  }

  /** The pod's containers that are ready, of how many (kubectl get pods' READY); undefined before they start. */
  podReadiness(pod: PodState): { readonly ready: number; readonly total: number } | undefined {
    const s = this.podStatus.get(this.podKey(pod.model.namespace, pod.model.name));
    return s && { ready: s.readiness.readyCount, total: s.info.containers.length };
  }

  /** The readiness of a started pod (its probe workers), for inspection. */
  podReadinessState(namespace: string, name: string): PodReadiness | undefined {
    return this.podStatus.get(this.podKey(namespace, name))?.readiness;
  }

  private podGone(key: string): void {
    this.podStatus.get(key)?.readiness.stop();
    this.podStatus.delete(key);
    this.serviceRegistry?.podsChanged();
  }

  private *podViews(): Iterable<PodView> {
    for (const [key, p] of this.pods) {
      const s = this.podStatus.get(key);
      if (!s) continue;
      yield {
        namespace: p.model.namespace, name: p.model.name, uid: p.model.uid, nodeName: p.model.nodeName, ip: p.ip,
        running: p.phase === 'Running', labels: s.info.labels,
        containerPorts: s.info.containers.flatMap((c) => c.ports.map((cp) => ({ name: cp.name, containerPort: cp.containerPort, protocol: cp.protocol }))),
        ready: s.readiness.ready, terminating: false,
      };
    }
  }
}

/** What the kubelet knows of a started pod beyond its sandbox: labels, and per container its ports and readinessProbe. */
export interface PodRuntimeInfo {
  readonly labels: Readonly<Record<string, string>>;
  readonly containers: readonly ContainerRuntimeInfo[];
}

export interface ContainerRuntimeInfo extends ContainerReadinessSpec {
  readonly ports: readonly { readonly name: string | undefined; readonly containerPort: number; readonly protocol: ServiceProtocol }[];
}
