/**
 * A Linux bridge (net/bridge): ports, a forwarding database that learns source MACs and ages
 * entries out after 300 s, flooding of broadcast, multicast and unknown unicast to every port but
 * the ingress one (unless that port is in hairpin mode), no STP. The bridge is also a device of
 * its own (cni0): frames for its MAC or a port's MAC, and broadcasts, are passed up to the stack
 * through it; frames the host sends through it are forwarded like the rest.
 *
 * Capture point (DESIGN.md): a tap on the bridge device sees what the bridge passes up — with
 * tcpdump making it promiscuous, every frame it forwards too (br_handle_frame_finish sets
 * local_rcv for IFF_PROMISC). podwire shows the forwarded frames to the bridge's taps and then
 * drops them, as the stack drops PACKET_OTHERHOST frames: behaviour is the same with or without
 * captures.
 */
import { isMulticastMac, type MacAddr } from '../packet/addr.js';
import * as ethernet from '../packet/ethernet.js';
import { NetDevice, type DeviceHost, type RxHandler } from './device.js';
import type { Skb } from './skb.js';

/** BR_DEFAULT_AGEING_TIME: 300 s. */
export const DEFAULT_AGEING_TIME_NS = 300e9;

/** A unicast frame for an unknown MAC, and no port to flood it to (a disabled port, or none). */
const NO_PORT_TO_FLOOD = 'bridge: unknown destination MAC and no forwarding port to flood to';

export interface BridgePort {
  readonly dev: NetDevice;
  hairpin: boolean;
  /**
   * Forwarding (BR_STATE_FORWARDING), or disabled: without STP a port forwards as soon as the
   * bridge learns its device is operationally up — at br_add_if, or later from linkwatch's
   * NETDEV_CHANGE (br_port_carrier_check). A veth enslaved before its peer was up (the CNI plugin's
   * host end) starts disabled, and the frames its pod sends as eth0 comes up (the gratuitous ARP
   * of arp_notify) reach a disabled port and are dropped, as on Linux.
   */
  forwarding: boolean;
}

export interface FdbEntry {
  readonly mac: MacAddr;
  port: BridgePort | undefined;
  /** A local entry: the bridge's own MAC or a port's; frames to it are passed up. */
  readonly isLocal: boolean;
  /** Added by the user (`bridge fdb add … static`) or local: never ages out. */
  readonly isStatic: boolean;
  updatedNs: number;
  usedNs: number;
}

/**
 * br_netfilter as the bridge calls it (net/bridge/br_netfilter_hooks.c), implemented beside the
 * IPv4 stack (br-netfilter.ts); null while bridged traffic does not pass iptables.
 */
export interface BridgeNetfilter {
  /** br_nf_pre_routing: the frame to bridge on (maybe DNATed, re-addressed), or null when consumed. */
  preRouting(br: Bridge, port: NetDevice, skb: Skb): Skb | null;
  /** br_nf_forward_ip + br_nf_post_routing for a frame bridged out of `outPort`; false when dropped. */
  forward(br: Bridge, outPort: NetDevice, skb: Skb): boolean;
}

export class Bridge extends NetDevice implements RxHandler {
  /** br_netfilter's hooks (set by the netns when net.bridge.bridge-nf-call-iptables applies). */
  netfilter: BridgeNetfilter | null = null;
  /** Most recently added first, as the kernel's br->port_list (list_add_rcu at the head). */
  readonly ports: BridgePort[] = [];
  /** The same ports by device: a frame's ingress port is found in O(1), whatever the pod count. */
  private readonly portByDev = new Map<NetDevice, BridgePort>();
  readonly fdb = new Map<MacAddr, FdbEntry>();
  ageingTimeNs = DEFAULT_AGEING_TIME_NS;
  private macSetByUser = false;

  constructor(host: DeviceHost, name: string, ifindex: number, mac: MacAddr, mtu: number) {
    super(host, name, ifindex, mac, mtu, 'bridge');
    this.addLocal(mac);
  }

  /** `ip link set dev BR address MAC`: pins the bridge's MAC so ports no longer change it. */
  setMac(mac: MacAddr): void {
    // br_fdb_change_mac_address: the old local entry goes only if no port has that MAC.
    if (!this.ports.some((p) => p.dev.mac === this.mac)) this.fdb.delete(this.mac);
    this.mac = mac;
    this.macSetByUser = true;
    this.addLocal(mac);
  }

  /** `ip link set DEV master BR`. */
  addPort(dev: NetDevice, hairpin = false): BridgePort {
    if (dev.master) throw new Error(`${dev.name} is already a port of ${dev.master.name}`);
    const port: BridgePort = { dev, hairpin, forwarding: dev.isOperUp() };
    this.ports.unshift(port);
    this.portByDev.set(dev, port);
    dev.master = this;
    this.addLocal(dev.mac, port);
    // An unpinned bridge takes a port's MAC (br_stp_recalculate_bridge_id picks the lowest); the
    // CNI bridge plugin's cni0 ends up with its first port's MAC, which the references pin.
    if (!this.macSetByUser && this.ports.length === 1) {
      this.fdb.delete(this.mac);
      this.mac = dev.mac;
      this.addLocal(dev.mac, port);
    }
    return port;
  }

  removePort(dev: NetDevice): void {
    const i = this.ports.findIndex((p) => p.dev === dev);
    if (i < 0) return;
    const port = this.ports[i]!;
    this.ports.splice(i, 1);
    this.portByDev.delete(dev);
    dev.master = undefined;
    for (const [mac, e] of this.fdb) if (e.port === port && mac !== this.mac) this.fdb.delete(mac);
  }

  /**
   * linkwatch's NETDEV_CHANGE for a port's device, after its carrier changed (a cable, a veth's
   * peer going up or down): without STP a port forwards when its device is operationally up and is
   * disabled when not (br_port_carrier_check → br_stp_enable_port / br_stp_disable_port);
   * disabling forgets the MACs learned on it (br_fdb_delete_by_port), so frames for them flood.
   */
  portCarrierChanged(dev: NetDevice): void {
    const port = this.portByDev.get(dev);
    if (!port) return;
    port.forwarding = dev.isOperUp();
    if (port.forwarding) return;
    for (const [mac, e] of this.fdb) if (e.port === port && !e.isStatic) this.fdb.delete(mac);
  }

  portOf(dev: NetDevice): BridgePort | undefined {
    return this.portByDev.get(dev);
  }

  private addLocal(mac: MacAddr, port?: BridgePort): void {
    const now = this.host.sched.nowNs;
    this.fdb.set(mac, { mac, port, isLocal: true, isStatic: true, updatedNs: now, usedNs: now });
  }

  /** br_fdb_update: learn (or refresh) where a source MAC lives. */
  fdbUpdate(port: BridgePort, mac: MacAddr): void {
    const now = this.host.sched.nowNs;
    const e = this.fdb.get(mac);
    if (!e) {
      this.fdb.set(mac, { mac, port, isLocal: false, isStatic: false, updatedNs: now, usedNs: now });
      return;
    }
    if (e.isLocal) return; // a frame claiming our own MAC does not move it
    e.port = port;
    e.updatedNs = now;
  }

  /** br_fdb_find_rcu with ageing: an entry older than the ageing time is as good as absent. */
  fdbLookup(mac: MacAddr): FdbEntry | undefined {
    const e = this.fdb.get(mac);
    if (!e) return undefined;
    const now = this.host.sched.nowNs;
    if (!e.isStatic && now - e.updatedNs > this.ageingTimeNs) {
      this.fdb.delete(mac);
      return undefined;
    }
    e.usedNs = now;
    return e;
  }

  /**
   * A frame received on a port (br_handle_frame). With br_netfilter, an IPv4 frame first passes
   * the IPv4 PREROUTING hooks (NF_BR_PRE_ROUTING → br_nf_pre_routing), which may DNAT it, hold
   * it (fragments, ARP) or drop it.
   */
  handleFrame(dev: NetDevice, skb: Skb): void {
    const port = this.portOf(dev);
    if (!port || !this.isUp) return this.host.drop(dev, skb, 'bridge port not forwarding');
    if (!port.forwarding) return this.host.drop(dev, skb, 'bridge port disabled (its carrier not yet seen by linkwatch)');
    const src = ethernet.src(skb.buf, skb.head);
    if (isMulticastMac(src) || src === 0) return this.host.drop(dev, skb, 'bridge: invalid source MAC');
    if (this.netfilter !== null) {
      const after = this.netfilter.preRouting(this, dev, skb);
      if (after === null) return;
      skb = after;
    }
    this.handleFrameFinish(port, skb);
  }

  /** br_handle_frame_finish: learn the source, then up to the host, to one port, or flooded. */
  private handleFrameFinish(port: BridgePort, skb: Skb): void {
    this.fdbUpdate(port, ethernet.src(skb.buf, skb.head));
    const dst = ethernet.dst(skb.buf, skb.head);
    if (isMulticastMac(dst)) {
      // Broadcast and multicast: to every port and up to the host.
      this.flood(skb.copy(), port);
      this.passUp(skb);
      return;
    }
    const e = this.fdbLookup(dst);
    if (e?.isLocal) {
      skb.isForHost = true;
      return this.passUp(skb);
    }
    this.tapFrame('rx', skb); // the promiscuous bridge device sees what it forwards
    if (e?.port) this.forward(e.port, skb, port);
    else if (!this.flood(skb, port)) this.host.drop(this, skb, NO_PORT_TO_FLOOD);
  }

  /** br_pass_frame_up: the frame enters the stack through the bridge device. */
  private passUp(skb: Skb): void {
    this.tapFrame('rx', skb);
    skb.ingressIfindex = this.ifindex;
    this.host.netifReceive(this, skb);
  }

  private forward(to: BridgePort, skb: Skb, from: BridgePort | undefined): void {
    if (to === from && !to.hairpin) return this.host.drop(to.dev, skb, 'bridge: would go back out its ingress port');
    if (!to.forwarding) return this.host.drop(to.dev, skb, 'bridge port disabled (its carrier not yet seen by linkwatch)');
    this.deliver(to, skb, from);
  }

  /** br_forward_finish: a bridged IPv4 frame passes FORWARD and POSTROUTING (br_netfilter) on its way out. */
  private deliver(to: BridgePort, skb: Skb, from: BridgePort | undefined): void {
    if (this.netfilter !== null && from !== undefined && skb.nfBridge !== null && !this.netfilter.forward(this, to.dev, skb)) return;
    to.dev.transmit(skb);
  }

  /**
   * br_flood: every port but the ingress one (unless hairpin); the last one takes the original.
   * False when no port takes it (the caller frees it unless it also goes up to the host).
   */
  private flood(skb: Skb, from: BridgePort | undefined): boolean {
    let last = -1;
    for (let i = 0; i < this.ports.length; i++) if (this.floodsTo(this.ports[i]!, from)) last = i;
    for (let i = 0; i < last; i++) {
      const p = this.ports[i]!;
      if (this.floodsTo(p, from)) this.deliver(p, skb.copy(), from);
    }
    if (last < 0) return false;
    this.deliver(this.ports[last]!, skb, from);
    return true;
  }

  private floodsTo(p: BridgePort, from: BridgePort | undefined): boolean {
    return (p !== from || p.hairpin) && p.forwarding && p.dev.isUp && p.dev.hasCarrier;
  }

  /** br_dev_xmit: the host sends through the bridge device; no learning on this path. */
  protected xmit(skb: Skb): void {
    const nb = skb.nfBridge;
    if (nb !== null && nb.bridgedDnat) {
      // br_nf_pre_routing_finish_bridge_slow: a DNATed frame that waited for ARP on the bridge
      // device gets its sender's MAC back and is bridged on as if it had just come in.
      nb.bridgedDnat = false;
      ethernet.setSrc(skb.buf, skb.head, nb.savedSrcMac);
      const port = this.portOf(nb.physIn);
      if (!port) return this.host.drop(this, skb, 'bridge: DNATed frame lost its ingress port');
      this.handleFrameFinish(port, skb);
      return;
    }
    const dst = ethernet.dst(skb.buf, skb.head);
    if (isMulticastMac(dst)) {
      this.flood(skb, undefined);
      return;
    }
    const e = this.fdbLookup(dst);
    if (e?.port && !e.isLocal) this.forward(e.port, skb, undefined);
    else if (!e && !this.flood(skb, undefined)) this.host.drop(this, skb, NO_PORT_TO_FLOOD);
  }
}
