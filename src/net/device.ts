/**
 * A network device (ns-3's NetDevice, the kernel's net_device): a name, MAC, MTU, its netns, its
 * IPv4 addresses, taps, and two edges — `transmit` (from the stack towards the wire) and `receive`
 * (from the wire into the stack, or into the bridge it is enslaved to). Subclasses say what the
 * wire is: a veth peer, the loopback, a bridge's ports.
 */
import type { Ipv4Addr, MacAddr } from '../packet/addr.js';
import type { Scheduler } from '../sim/scheduler.js';
import type { Skb } from './skb.js';
import type { DeviceKind, Tap, TapDevice } from './tap.js';

/** What a device needs of its netns: the stack's receive entry point, the clock, a drop log. */
export interface DeviceHost {
  readonly name: string;
  readonly sched: Scheduler;
  netifReceive(dev: NetDevice, skb: Skb): void;
  drop(dev: NetDevice, skb: Skb, reason: string): void;
  /** The device's carrier changed (the NETDEV_CHANGE notifier: neighbours, bridge port state). */
  carrierChanged(dev: NetDevice): void;
}

/** A bridge as its ports see it: frames received on a port go to it (the kernel's rx_handler). */
export interface RxHandler {
  handleFrame(port: NetDevice, skb: Skb): void;
}

export interface Ipv4Address {
  readonly address: Ipv4Addr;
  readonly prefixLen: number;
  readonly broadcast: Ipv4Addr;
  /** 'host' for 127/8 on lo, 'global' otherwise (as `ip addr` prints it). */
  readonly scope: 'global' | 'link' | 'host';
}

export abstract class NetDevice implements TapDevice {
  readonly taps: Tap[] = [];
  readonly addresses: Ipv4Address[] = [];
  isUp = false;
  /**
   * netif_carrier_ok: the cable is plugged in. Apart from the administrative state (`isUp`):
   * a device without carrier stays UP with its routes, as `ip link` shows NO-CARRIER.
   */
  hasCarrier = true;

  /**
   * netif_oper_up as linkwatch would report it now: up, with carrier. A veth has carrier only
   * while its peer is up too (veth_open); linkwatch reports it some time after (bridge.ts).
   */
  isOperUp(): boolean {
    return this.isUp && this.hasCarrier;
  }
  /** The bridge this device is a port of (`ip link set DEV master BR`). */
  master: (RxHandler & NetDevice) | undefined;
  /** Link-layer behaviour: NOARP devices (loopback, a flannel VXLAN device with static entries) skip ARP. */
  noArp = false;

  constructor(
    readonly host: DeviceHost,
    readonly name: string,
    readonly ifindex: number,
    public mac: MacAddr,
    public mtu: number,
    readonly kind: DeviceKind,
  ) {}

  get netnsName(): string {
    return this.host.name;
  }

  /** From the stack towards the wire: taps see the frame as it leaves (dev_queue_xmit_nit). */
  transmit(skb: Skb): void {
    if (!this.isUp) return this.host.drop(this, skb, 'device down');
    // Carrier off: dev_deactivate has swapped in noop_qdisc, which drops before
    // dev_hard_start_xmit, so taps (dev_queue_xmit_nit) never see the frame.
    if (!this.hasCarrier) return this.host.drop(this, skb, 'no carrier (noop qdisc)');
    this.tapFrame('tx', skb);
    this.xmit(skb);
  }

  /** From the wire: taps see the frame as it arrives, then the bridge or the stack takes it. */
  receive(skb: Skb): void {
    if (!this.isUp) return this.host.drop(this, skb, 'device down');
    this.tapFrame('rx', skb);
    skb.ingressIfindex = this.ifindex;
    if (this.master) this.master.handleFrame(this, skb);
    else this.host.netifReceive(this, skb);
  }

  tapFrame(dir: 'rx' | 'tx', skb: Skb): void {
    const taps = this.taps;
    if (taps.length === 0) return;
    if (skb.id === 0) skb.id = this.host.sched.nextPacketId();
    for (let i = 0; i < taps.length; i++) taps[i]!.frame(this, dir, this.host.sched.nowNs, skb.buf, skb.head, skb.len, skb);
  }

  /** Puts the frame on this device's wire. */
  protected abstract xmit(skb: Skb): void;
}

/** Time from loopback_xmit to the backlog's netif_receive_skb. */
export const LOOPBACK_DELAY_NS = 1_000;

/** lo: what is sent comes straight back in (loopback_xmit → netif_rx), one event later. */
export class Loopback extends NetDevice {
  private readonly loopBack = (skb: Skb): void => this.receive(skb);

  constructor(host: DeviceHost, ifindex: number) {
    super(host, 'lo', ifindex, 0, 65536, 'loopback');
    this.noArp = true;
  }

  protected xmit(skb: Skb): void {
    this.host.sched.postAfter(LOOPBACK_DELAY_NS, this.loopBack, skb);
  }
}
