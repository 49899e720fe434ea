/**
 * IPv4 output (net/ipv4/route.c's output lookup, ip_output.c): the route and source address for a
 * packet this host sends, and the hand-off of a complete packet to lo, a broadcast, or the
 * neighbour of the next hop.
 */
import { BROADCAST_MAC, type Ipv4Addr } from '../packet/addr.js';
import * as ethernet from '../packet/ethernet.js';
import * as ipv4 from '../packet/ipv4.js';
import type { Route } from './fib.js';
import type { Netns } from './netns.js';
import type { Skb } from './skb.js';

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
