/**
 * ARP (net/ipv4/arp.c): answering requests for this host's addresses, learning senders, asking
 * for next hops (arp_solicit) and the gratuitous ARP a device sends when it comes up with
 * arp_notify set (inetdev_send_gratuitous_arp). Frames are 42 bytes: veth and bridges do not pad.
 */
import { BROADCAST_MAC, ZERO_MAC, type Ipv4Addr, type MacAddr } from '../packet/addr.js';
import * as arp from '../packet/arp.js';
import * as ethernet from '../packet/ethernet.js';
import * as ipv4 from '../packet/ipv4.js';
import type { NetDevice } from './device.js';
import { NudState, type Neighbour } from './neighbour.js';
import type { Netns } from './netns.js';
import { Skb } from './skb.js';

const FRAME_LEN = ethernet.HEADER_LEN + arp.HEADER_LEN;

/** arp_create + arp_xmit: one ARP frame out of `dev`. */
export function arpSend(
  dev: NetDevice, op: number, ethDst: MacAddr,
  senderIp: Ipv4Addr, targetIp: Ipv4Addr, targetMac: MacAddr,
): void {
  const skb = Skb.alloc(FRAME_LEN);
  const off = skb.head;
  ethernet.emit({ dst: ethDst, src: dev.mac, ethertype: ethernet.ETHERTYPE_ARP }, skb.buf, off);
  arp.emit({ op, senderMac: dev.mac, senderIp, targetMac, targetIp }, skb.buf, off + ethernet.HEADER_LEN);
  dev.transmit(skb);
}

export function sendGratuitousArp(ns: Netns, dev: NetDevice, address: Ipv4Addr): void {
  ns.trace.event({ timeNs: ns.sched.nowNs, netns: ns.name, dev: dev.name, event: 'garp', detail: `gratuitous ARP for its address` });
  arpSend(dev, arp.OP_REQUEST, BROADCAST_MAC, address, address, ZERO_MAC);
}

/**
 * arp_solicit: the sender address is the queued packet's source when that is ours (arp_announce
 * 0), else one chosen for the device; a probe of a known neighbour goes unicast to it.
 */
export function arpSolicit(ns: Netns, n: Neighbour, unicast: boolean, trigger: Skb | undefined): void {
  let saddr: Ipv4Addr | undefined;
  if (trigger && trigger.networkOffset >= 0) {
    const src = ipv4.src(trigger.buf, trigger.networkOffset);
    if (ns.isLocalAddress(src)) saddr = src;
  }
  saddr ??= ns.selectSourceAddress(n.dev, n.ip);
  if (saddr === undefined) return ns.drop(n.dev, trigger ?? Skb.alloc(0), 'arp: no source address');
  const to = unicast && n.lladdr !== undefined ? n.lladdr : BROADCAST_MAC;
  arpSend(n.dev, arp.OP_REQUEST, to, saddr, n.ip, ZERO_MAC);
}

/** arp_rcv → arp_process. */
export function arpRcv(ns: Netns, dev: NetDevice, skb: Skb): void {
  const off = skb.head + ethernet.HEADER_LEN;
  let r: arp.ArpRepr;
  try {
    r = arp.parse(skb.buf, off, skb.end);
  } catch {
    return ns.drop(dev, skb, 'arp: malformed');
  }
  if (dev.noArp) return ns.drop(dev, skb, 'arp: device is NOARP');
  if (r.op !== arp.OP_REQUEST && r.op !== arp.OP_REPLY) return ns.drop(dev, skb, 'arp: unknown operation');
  // Our own frames coming back (the hairpin port returns the broadcast): nothing to learn.
  if (ns.isLocalAddress(r.senderIp) || r.senderMac === dev.mac) return;
  const ethDst = ethernet.dst(skb.buf, skb.head);
  if (r.op === arp.OP_REQUEST && ns.isLocalAddress(r.targetIp) && r.senderIp !== 0) {
    // neigh_event_ns: whoever asks for us is a neighbour, STALE until confirmed.
    ns.neigh.update(dev, r.senderIp, r.senderMac, NudState.Stale, true);
    arpSend(dev, arp.OP_REPLY, r.senderMac, r.targetIp, r.senderIp, r.senderMac);
    return;
  }
  // Replies and others' requests refresh an entry we already have (arp_accept = 0 creates none);
  // a reply sent to our MAC confirms the neighbour.
  const state = r.op === arp.OP_REPLY && ethDst === dev.mac ? NudState.Reachable : NudState.Stale;
  ns.neigh.update(dev, r.senderIp, r.senderMac, state, false);
}
