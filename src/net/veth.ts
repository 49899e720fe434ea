/**
 * A veth pair: what one end transmits, the other receives, one clock event later (veth_xmit →
 * netif_rx of the peer). The ends may live in different netns: a pod's eth0 and its host-side
 * veth on the node.
 */
import type { MacAddr } from '../packet/addr.js';
import type { Cable } from './cable.js';
import { NetDevice, type DeviceHost } from './device.js';
import type { Skb } from './skb.js';

/** Time a frame takes from one end of a veth to the other: the kernel's backlog hand-off. */
export const VETH_DELAY_NS = 1_000;

export class Veth extends NetDevice {
  peer!: Veth;
  /** The link this pair stands for (a node's cable to the switch): latency, loss, carrier. */
  cable: Cable | undefined;

  /** The peer's receive, made once: every frame's hand-off is then an event without a closure. */
  private readonly peerReceive = (skb: Skb): void => this.peer.receive(skb);

  constructor(host: DeviceHost, name: string, ifindex: number, mac: MacAddr, mtu: number) {
    super(host, name, ifindex, mac, mtu, 'veth');
  }

  static pair(a: Veth, b: Veth): void {
    a.peer = b;
    b.peer = a;
  }

  override isOperUp(): boolean {
    return super.isOperUp() && (this.cable !== undefined || this.peer.isUp);
  }

  protected xmit(skb: Skb): void {
    skb.scrub(); // veth_forward_skb → skb_scrub_packet: conntrack and mark stay on this side
    if (this.cable !== undefined) return this.cable.carry(this, skb);
    // A veth whose peer is down drops (veth_xmit: carrier off); the same buffer moves on, no copy.
    this.host.sched.postAfter(VETH_DELAY_NS, this.peerReceive, skb);
  }
}
