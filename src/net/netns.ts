/**
 * A network namespace: its devices (with `lo`), addresses, routing tables, neighbour table,
 * sysctls and sockets — one per node, pod and external host. The protocol work lives beside it
 * (arp-proto.ts, ipv4-stack.ts, icmp-proto.ts); this file holds the state and the `ip`-like
 * configuration calls that the control plane (k8s/) makes, as a CNI plugin or flannel would.
 */
import { broadcastOf, formatIpv4, networkOf, type Ipv4Addr, type MacAddr } from '../packet/addr.js';
import * as ethernet from '../packet/ethernet.js';
import * as icmp from '../packet/icmp.js';
import type { Random } from '../sim/random.js';
import type { Scheduler } from '../sim/scheduler.js';
import { arpRcv, arpSolicit, sendGratuitousArp } from './arp-proto.js';
import { Bridge } from './bridge.js';
import { bridgeNetfilterOf } from './br-netfilter.js';
import { Loopback, NetDevice, type DeviceHost, type Ipv4Address } from './device.js';
import { Fib, type Route } from './fib.js';
import { IpIdent } from './ip-ident.js';
import { icmpSend, icmpSendHostUnreachable } from './icmp-proto.js';
import { IpDefrag } from './ip-defrag.js';
import { ipRcv } from './ipv4-stack.js';
import type { OutputHooks } from './ip-output.js';
import { nfLocalOut, nfPostRouting } from './nf-hooks.js';
import { NeighbourTable, type Neighbour } from './neighbour.js';
import { Netfilter } from './netfilter/netfilter.js';
import { PmtuCache } from './pmtu-cache.js';
import type { Skb } from './skb.js';
import { NO_TRACE, packetId, tracing, type TraceSink } from './trace.js';
import { Veth, VETH_DELAY_NS } from './veth.js';
import { Vxlan, type VxlanConfig } from './vxlan.js';
import { UdpTable } from './udp-socket.js';
import { TcpStack } from './tcp.js';

/** A raw socket's view of an IPv4 packet delivered to this host (raw_local_deliver). */
export interface RawListener {
  readonly protocol: number;
  deliver(skb: Skb, ipOff: number): void;
}

export interface NetnsSysctls {
  /** net.ipv4.ip_forward (0 in a fresh netns). */
  ipForward: boolean;
  /** net.ipv4.ip_default_ttl. */
  defaultTtl: number;
  /** net.ipv4.conf.<dev>.arp_notify, by device name: gratuitous ARP when the device comes up. */
  readonly arpNotify: Set<string>;
  /** net.bridge.bridge-nf-call-iptables: bridged IPv4 passes iptables (br_netfilter; Kubernetes requires 1). */
  bridgeNfCallIptables: boolean;
}

export class Netns implements DeviceHost {
  readonly devices = new Map<string, NetDevice>();
  private readonly byIndex = new Map<number, NetDevice>();
  private nextIndex = 1;
  readonly lo: Loopback;
  readonly fib = new Fib();
  readonly neigh: NeighbourTable;
  /** Every local address of this netns and the device that holds it (inet_addr_type: LOCAL). */
  readonly localAddrs = new Map<Ipv4Addr, NetDevice>();
  readonly sysctl: NetnsSysctls = { ipForward: false, defaultTtl: 64, arpNotify: new Set(), bridgeNfCallIptables: false };
  readonly ipIdent: IpIdent;
  readonly rawListeners = new Set<RawListener>();
  readonly udp: UdpTable = new UdpTable(this);
  readonly tcp: TcpStack = new TcpStack(this);
  /** Path MTUs learned from ICMP fragmentation needed (route exceptions). */
  readonly pmtu = new PmtuCache();
  /** Fragments waiting for the rest of their datagram (local delivery). */
  readonly ipDefrag: IpDefrag;
  /** UDP encapsulation receivers by local port (the VXLAN device's tunnel socket: setup_udp_tunnel_sock). */
  readonly udpEncap = new Map<number, (skb: Skb, ipOff: number) => void>();
  /** iptables rules and conntrack; null while nothing was programmed (a pod's netns). */
  netfilter: Netfilter | null = null;
  trace: TraceSink = NO_TRACE;
  /** Called for every device registered from now on (captures attach here, as tcpdump -i any would). */
  onDeviceRegistered: ((dev: NetDevice) => void) | undefined;

  constructor(
    readonly name: string,
    readonly sched: Scheduler,
    readonly random: Random,
  ) {
    this.lo = new Loopback(this, this.allocIfindex());
    this.register(this.lo);
    this.neigh = new NeighbourTable(sched, random.stream(`neigh-reachable/${name}`), {
      solicit: (n, unicast, trigger) => arpSolicit(this, n, unicast, trigger),
      transmitResolved: (n, skb) => this.transmitResolved(n, skb),
      reportUnreachable: (n, skb) => icmpSendHostUnreachable(this, n, skb),
      drop: (dev, skb, reason) => this.drop(dev, skb, reason),
    });
    this.ipIdent = new IpIdent(random.stream(`ip-ident/${name}`));
    this.ipDefrag = new IpDefrag(
      sched,
      (head) => icmpSend(this, head, icmp.TYPE_TIME_EXCEEDED, icmp.FRAG_REASSEMBLY_TIME_EXCEEDED, 0),
      (reason) => this.trace.event({ timeNs: this.sched.nowNs, netns: this.name, event: 'drop', detail: reason }),
    );
    this.addAddress(this.lo, 0x7f00_0001, 8);
    this.linkUp(this.lo);
  }

  /** The netns's netfilter, created on first use (the first iptables command or conntrack user). */
  ensureNetfilter(): Netfilter {
    if (this.netfilter === null) {
      const ports = this.random.stream(`nat-port/${this.name}`);
      this.netfilter = new Netfilter(this.random.stream(`statistic/${this.name}`), { randomU16: () => ports.nextU32() >>> 16 });
    }
    return this.netfilter;
  }

  /** The hooks local output passes (nf-hooks.ts); used only while `netfilter` is set. */
  readonly outputHooks: OutputHooks = { localOut: nfLocalOut, postRouting: nfPostRouting };

  allocIfindex(): number {
    return this.nextIndex++;
  }

  register(dev: NetDevice): void {
    if (this.devices.has(dev.name)) throw new Error(`${this.name}: device ${dev.name} exists`);
    this.devices.set(dev.name, dev);
    this.byIndex.set(dev.ifindex, dev);
    this.onDeviceRegistered?.(dev);
  }

  device(name: string): NetDevice | undefined {
    return this.devices.get(name);
  }

  deviceByIndex(ifindex: number): NetDevice | undefined {
    return this.byIndex.get(ifindex);
  }

  /** `ip link add NAME type bridge`. */
  addBridge(name: string, mac: MacAddr, mtu: number): Bridge {
    const br = new Bridge(this, name, this.allocIfindex(), mac, mtu);
    br.netfilter = bridgeNetfilterOf(this);
    this.register(br);
    return br;
  }

  /** `ip link add NAME type vxlan id VNI local IP dstport PORT nolearning`. */
  addVxlan(name: string, mac: MacAddr, mtu: number, config: VxlanConfig): Vxlan {
    const dev = new Vxlan(this, name, this.allocIfindex(), mac, mtu, config);
    this.register(dev);
    this.udpEncap.set(config.dstPort, (skb, ipOff) => dev.encapRcv(skb, ipOff));
    return dev;
  }

  /** `ip link add NAME type veth peer name PEER netns OTHER`. */
  static addVethPair(a: Netns, aName: string, aMac: MacAddr, b: Netns, bName: string, bMac: MacAddr, mtu: number): [Veth, Veth] {
    const va = new Veth(a, aName, a.allocIfindex(), aMac, mtu);
    const vb = new Veth(b, bName, b.allocIfindex(), bMac, mtu);
    Veth.pair(va, vb);
    a.register(va);
    b.register(vb);
    return [va, vb];
  }

  /** `ip link del DEV`: a veth takes its peer with it. */
  deleteLink(dev: NetDevice): void {
    const gone = dev instanceof Veth ? [dev, dev.peer] : [dev];
    for (const d of gone) {
      const ns = d.host as Netns;
      ns.linkDown(d);
      if (d.master instanceof Bridge) d.master.removePort(d);
      ns.devices.delete(d.name);
      ns.byIndex.delete(d.ifindex);
      for (const a of d.addresses) ns.localAddrs.delete(a.address);
      d.addresses.length = 0;
    }
  }

  /** `ip addr add A/LEN dev DEV`: the address, its local and broadcast routes, the connected route. */
  addAddress(dev: NetDevice, address: Ipv4Addr, prefixLen: number): void {
    if (dev.addresses.some((a) => a.address === address)) throw new Error(`${this.name}: ${formatIpv4(address)} already on ${dev.name}`);
    // iproute2 gives no broadcast to lo's 127.0.0.1/8, nor to /31 and /32.
    const broadcast = prefixLen >= 31 || dev === this.lo ? 0 : broadcastOf(address, prefixLen);
    const scope = dev === this.lo ? 'host' : 'global';
    const a: Ipv4Address = { address, prefixLen, broadcast, scope };
    dev.addresses.push(a);
    this.localAddrs.set(address, dev);
    if (dev.isUp) this.addAddressRoutes(dev, a);
  }

  /** fib_add_ifaddr: the address's local route, broadcast routes, and the connected prefix route. */
  private addAddressRoutes(dev: NetDevice, a: Ipv4Address): void {
    const isLo = dev === this.lo;
    const net = networkOf(a.address, a.prefixLen);
    const local = (dst: number, prefixLen: number) =>
      this.fib.add({ table: 'local', type: 'local', dst, prefixLen, dev, scope: 'host', proto: 'kernel', prefsrc: a.address, onlink: false, metric: 0 });
    local(a.address, 32);
    // The subnet broadcast gets a route even where `ip addr` shows no brd (lo's 127.255.255.255).
    const broadcast = a.prefixLen >= 31 ? 0 : broadcastOf(a.address, a.prefixLen);
    if (broadcast) this.fib.add({ table: 'local', type: 'broadcast', dst: broadcast, prefixLen: 32, dev, scope: 'link', proto: 'kernel', prefsrc: a.address, onlink: false, metric: 0 });
    if (a.prefixLen >= 32) return;
    // On lo the prefix route is itself local (local 127.0.0.0/8): the whole range is this host.
    if (isLo) local(net, a.prefixLen);
    else this.fib.add({ table: 'main', type: 'unicast', dst: net, prefixLen: a.prefixLen, dev, scope: 'link', proto: 'kernel', prefsrc: a.address, onlink: false, metric: 0 });
  }

  /** `ip link set DEV up`: connected routes appear; with arp_notify, a gratuitous ARP per address. */
  linkUp(dev: NetDevice): void {
    if (dev.isUp) return;
    dev.isUp = true;
    for (const a of dev.addresses) this.addAddressRoutes(dev, a);
    if (this.sysctl.arpNotify.has(dev.name) && !dev.noArp) {
      for (const a of dev.addresses) sendGratuitousArp(this, dev, a.address);
    }
    if (dev instanceof Veth && dev.peer.isUp) {
      // Both ends up: carrier on both (veth_open), reported by linkwatch from a workqueue after
      // this call returns — after the frames sent meanwhile (the gratuitous ARP above) reached
      // the peer, hence one veth hand-off later and scheduled after them.
      this.sched.postAfter(VETH_DELAY_NS, linkwatchCarrierChanged, dev);
    }
  }

  linkDown(dev: NetDevice): void {
    if (!dev.isUp) return;
    dev.isUp = false;
    if (dev instanceof Veth) linkwatchCarrierChanged(dev);
    this.fib.remove((r) => r.dev === dev);
    this.neigh.flushDevice(dev);
  }

  /**
   * NETDEV_CHANGE after a carrier change. Carrier lost: ARP forgets the device's neighbours but
   * the permanent ones (arp_netdev_event → neigh_carrier_down); a bridge disables the port
   * (br_port_carrier_check). Routes stay and are still used, marked linkdown
   * (fib_sync_down_dev with ignore_routes_with_linkdown=0).
   */
  carrierChanged(dev: NetDevice): void {
    if (!dev.hasCarrier) this.neigh.flushDevice(dev, true);
    if (dev.master instanceof Bridge) dev.master.portCarrierChanged(dev);
  }

  /** `ip route add …`. */
  addRoute(r: Omit<Route, 'table' | 'type' | 'proto' | 'metric' | 'onlink' | 'scope'> & Partial<Route>): void {
    this.fib.add({
      table: 'main', type: 'unicast', proto: 'boot', metric: 0, onlink: false,
      scope: r.gateway === undefined ? 'link' : 'global',
      ...r,
      dst: networkOf(r.dst, r.prefixLen),
    });
  }

  /**
   * inet_select_addr: this host's address to use towards `dst` out of `dev` — a primary address of
   * the device on dst's subnet, else its first, else the first global address of any device.
   */
  selectSourceAddress(dev: NetDevice | undefined, dst: Ipv4Addr): Ipv4Addr | undefined {
    if (dev) {
      for (const a of dev.addresses) if (networkOf(a.address, a.prefixLen) === networkOf(dst, a.prefixLen)) return a.address;
      if (dev.addresses[0]) return dev.addresses[0].address;
    }
    for (const d of this.devices.values()) for (const a of d.addresses) if (a.scope === 'global') return a.address;
    return undefined;
  }

  isLocalAddress(ip: Ipv4Addr): boolean {
    return this.localAddrs.has(ip);
  }

  /** A frame the device hands to the stack (__netif_receive_skb → the protocol's handler). */
  netifReceive(dev: NetDevice, skb: Skb): void {
    const type = ethernet.ethertype(skb.buf, skb.head);
    if (type === ethernet.ETHERTYPE_ARP) arpRcv(this, dev, skb);
    else if (type === ethernet.ETHERTYPE_IPV4) ipRcv(this, dev, skb);
    else this.drop(dev, skb, `no handler for EtherType 0x${type.toString(16).padStart(4, '0')}`);
  }

  /** The link layer of ip_finish_output2: the next hop's MAC in front of the IP header. */
  private transmitResolved(n: Neighbour, skb: Skb): void {
    const off = skb.push(ethernet.HEADER_LEN);
    ethernet.setDst(skb.buf, off, n.lladdr ?? 0);
    ethernet.setSrc(skb.buf, off, n.dev.mac);
    skb.buf[off + 12] = 0x08;
    skb.buf[off + 13] = 0x00;
    n.dev.transmit(skb);
  }

  /** ip_fragment's refusal: ICMP fragmentation needed, with the MTU, to the packet's sender. */
  icmpFragNeeded(skb: Skb, mtu: number): void {
    icmpSend(this, skb, icmp.TYPE_DEST_UNREACHABLE, icmp.FRAGMENTATION_NEEDED, mtu & 0xffff);
  }

  drop(dev: NetDevice | undefined, skb: Skb, reason: string): void {
    const trace = this.trace;
    if (!tracing(trace)) return;
    // A frame built only to say why (arp's "no source address") has no bytes and no number.
    const pkt = skb.len > 0 ? packetId(this.sched, skb) : 0;
    trace.event({ timeNs: this.sched.nowNs, netns: this.name, ...(dev ? { dev: dev.name } : {}), event: 'drop', detail: reason, ...(pkt ? { pkt } : {}) }, skb);
  }
}

/** linkwatch_do_dev for both ends of a veth pair: each end's bridge re-checks its port. */
function linkwatchCarrierChanged(dev: Veth): void {
  for (const end of [dev, dev.peer]) if (end.master instanceof Bridge) end.master.portCarrierChanged(end);
}
