/**
 * IPv4 input, forwarding and output (net/ipv4/ip_input.c, ip_forward.c, ip_output.c) over the
 * frame's own bytes: the header is validated and read in place, TTL is decremented with an
 * incremental checksum update, and the Ethernet header for the next hop is written in front of
 * the same buffer. Packets for this host go to raw sockets and the protocol handlers.
 */
import { BROADCAST_MAC, isMulticastMac, type Ipv4Addr } from '../packet/addr.js';
import { verifies } from '../packet/checksum.js';
import * as ethernet from '../packet/ethernet.js';
import * as icmp from '../packet/icmp.js';
import * as ipv4 from '../packet/ipv4.js';
import type { NetDevice } from './device.js';
import type { Route } from './fib.js';
import { icmpRcv, icmpSend } from './icmp-proto.js';
import type { Netns } from './netns.js';
import type { Skb } from './skb.js';

/** ip_rcv_core + ip_rcv_finish: validate, then deliver locally or forward. */
export function ipRcv(ns: Netns, dev: NetDevice, skb: Skb): void {
  const ethDst = ethernet.dst(skb.buf, skb.head);
  const isBroadcast = isMulticastMac(ethDst);
  if (!isBroadcast && ethDst !== dev.mac && dev.kind !== 'loopback') {
    return; // PACKET_OTHERHOST: not for this host, dropped without a word (as the kernel does)
  }
  skb.pull(ethernet.HEADER_LEN);
  const b = skb.buf;
  const off = skb.head;
  if (skb.len < ipv4.HEADER_LEN) return ns.drop(dev, skb, 'ip: truncated header');
  const hl = ipv4.headerLen(b, off);
  if (ipv4.version(b, off) !== 4 || hl < ipv4.HEADER_LEN || hl > skb.len) return ns.drop(dev, skb, 'ip: bad header');
  if (!verifies(b, off, off + hl)) return ns.drop(dev, skb, 'ip: bad header checksum');
  const total = ipv4.totalLength(b, off);
  if (total < hl || total > skb.len) return ns.drop(dev, skb, 'ip: bad total length');
  skb.trim(total); // Ethernet padding is not part of the datagram (pskb_trim_rcsum)
  skb.networkOffset = off;

  const dst = ipv4.dst(b, off);
  const route = ns.fib.lookup(dst);
  if (route && (route.type === 'local' || route.type === 'broadcast') || dst === 0xffff_ffff) {
    return ipLocalDeliver(ns, dev, skb);
  }
  if (isBroadcast) return ns.drop(dev, skb, 'ip: link-layer broadcast to a foreign address');
  if (!ns.sysctl.ipForward) return ns.drop(dev, skb, 'ip: forwarding disabled (net.ipv4.ip_forward=0)');
  ipForward(ns, dev, skb, route);
}

/** ip_forward: TTL, route, decrement, next hop. */
function ipForward(ns: Netns, dev: NetDevice, skb: Skb, route: Route | undefined): void {
  const b = skb.buf;
  const off = skb.networkOffset;
  if (ipv4.ttl(b, off) <= 1) {
    icmpSend(ns, skb, icmp.TYPE_TIME_EXCEEDED, icmp.TTL_EXCEEDED_IN_TRANSIT, 0, dev);
    return ns.drop(dev, skb, 'ip: TTL exceeded in transit');
  }
  if (!route || route.type !== 'unicast' || !route.dev) {
    icmpSend(ns, skb, icmp.TYPE_DEST_UNREACHABLE, icmp.NET_UNREACHABLE, 0, dev);
    return ns.drop(dev, skb, 'ip: no route to the destination');
  }
  if (skb.len > route.dev.mtu) return ns.drop(route.dev, skb, `ip: ${skb.len} bytes exceed the MTU ${route.dev.mtu} (fragmentation comes with the cross-node issue)`);
  ipv4.decrementTtl(b, off);
  ns.neigh.output(route.dev, route.gateway ?? ipv4.dst(b, off), skb);
}

/** ip_local_deliver: raw sockets get their copy, then the protocol handler. */
function ipLocalDeliver(ns: Netns, dev: NetDevice, skb: Skb): void {
  const b = skb.buf;
  const off = skb.networkOffset;
  if (ipv4.isFragment(b, off)) return ns.drop(dev, skb, 'ip: fragment (reassembly comes with the cross-node issue)');
  const protocol = ipv4.protocol(b, off);
  for (const l of ns.rawListeners) if (l.protocol === protocol) l.deliver(skb, off);
  if (protocol === ipv4.PROTO_ICMP) return icmpRcv(ns, dev, skb);
  ns.drop(dev, skb, `ip: no handler for protocol ${protocol} yet`);
}

/** The route a locally generated packet to `dst` takes (ip_route_output_key). */
export function routeOutput(ns: Netns, dst: Ipv4Addr): Route | undefined {
  return ns.fib.lookup(dst);
}

/** Source address for a packet this host sends on `route`: the route's preferred source, else one of the device's. */
export function sourceFor(ns: Netns, route: Route, dst: Ipv4Addr): Ipv4Addr | undefined {
  if (route.type === 'local') return dst;
  return route.prefsrc ?? ns.selectSourceAddress(route.dev, dst);
}

/**
 * ip_local_out → ip_finish_output2: `skb` holds a complete IPv4 packet at skb.head. Local
 * destinations go through lo (with the all-zero Ethernet header tcpdump shows there), broadcasts
 * to ff:ff:ff:ff:ff:ff, the rest through the neighbour of the next hop.
 */
export function ipOutput(ns: Netns, skb: Skb, route: Route): void {
  const b = skb.buf;
  skb.networkOffset = skb.head;
  const dst = ipv4.dst(b, skb.head);
  if (route.type === 'local') {
    const off = skb.push(ethernet.HEADER_LEN);
    ethernet.emit({ dst: 0, src: 0, ethertype: ethernet.ETHERTYPE_IPV4 }, b, off);
    ns.lo.transmit(skb);
    return;
  }
  const dev = route.dev;
  if (!dev) return ns.drop(undefined, skb, 'ip: route without a device');
  if (skb.len > dev.mtu) return ns.drop(dev, skb, `ip: ${skb.len} bytes exceed the MTU ${dev.mtu} (fragmentation comes with the cross-node issue)`);
  if (route.type === 'broadcast' || dst === 0xffff_ffff) {
    const off = skb.push(ethernet.HEADER_LEN);
    ethernet.emit({ dst: BROADCAST_MAC, src: dev.mac, ethertype: ethernet.ETHERTYPE_IPV4 }, b, off);
    dev.transmit(skb);
    return;
  }
  ns.neigh.output(dev, route.gateway ?? dst, skb);
}
