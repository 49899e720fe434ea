/**
 * IPv4 output (net/ipv4/route.c's output lookup, ip_output.c): the route, source address and MTU
 * for a packet this host sends, and the hand-off of a complete packet to lo, a broadcast, or the
 * neighbour of the next hop — cut into fragments first when it exceeds the MTU (ip_finish_output).
 */
import { BROADCAST_MAC, formatIpv4, formatMac, type Ipv4Addr } from '../packet/addr.js';
import * as ethernet from '../packet/ethernet.js';
import * as ipv4 from '../packet/ipv4.js';
import type { NetDevice } from './device.js';
import type { Route } from './fib.js';
import { ipDoFragment } from './ip-fragment.js';
import type { Netns } from './netns.js';
import type { Skb } from './skb.js';
import { NudState } from './neighbour.js';
import { formatRoute } from './render/iproute.js';
import { packetId, tracing } from './trace.js';

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
 * dst_mtu of the output route to `dst` (ipv4_mtu): a path MTU learned from ICMP while it lasts,
 * else the device's MTU. What IP_MTU reports and what local output fragments to.
 */
export function routeMtu(ns: Netns, route: Route, dst: Ipv4Addr): number {
  if (route.type === 'local') return ns.lo.mtu;
  const devMtu = route.dev?.mtu ?? 1500;
  const learned = ns.pmtu.lookup(dst, ns.sched.nowNs);
  return learned !== undefined && learned < devMtu ? learned : devMtu;
}

/**
 * __ip_rt_update_pmtu for the output route to `dst`: an ICMP fragmentation needed said `mtu`.
 * Only ever lowers it; returns the MTU now in force (what IP_MTU will report).
 */
export function updatePmtu(ns: Netns, dst: Ipv4Addr, mtu: number): number | undefined {
  const route = routeOutput(ns, dst);
  if (!route || route.type !== 'unicast') return undefined;
  const current = routeMtu(ns, route, dst);
  const now = ns.pmtu.update(dst, mtu, current, ns.sched.nowNs);
  if (now < current) {
    ns.trace.event({ timeNs: ns.sched.nowNs, netns: ns.name, event: 'pmtu', detail: `path MTU to ${formatIpv4(dst)} lowered from ${current} to ${now} (expires in 600 s)` });
  }
  return now;
}

/**
 * The netfilter hooks output passes (nf-hooks.ts), reached through the netns so this module does
 * not depend on netfilter: null in a netns without rules.
 */
export interface OutputHooks {
  localOut(ns: Netns, skb: Skb, outDev: NetDevice | undefined): Skb | null;
  postRouting(ns: Netns, skb: Skb, inDev: NetDevice | undefined, outDev: NetDevice, nexthop: Ipv4Addr): boolean;
}

/**
 * ip_local_out → ip_output → ip_finish_output: `skb` holds a complete IPv4 packet at skb.head.
 * OUTPUT's hooks run first (a DNAT there re-routes the packet: ip_route_me_harder), then local
 * destinations go through lo (with the all-zero Ethernet header tcpdump shows there), the rest
 * to the device of the route, POSTROUTING's hooks on the way, fragmented to the route's MTU
 * when longer.
 */
export function ipOutput(ns: Netns, skb: Skb, route: Route): void {
  const b = skb.buf;
  skb.networkOffset = skb.head;
  let dst = ipv4.dst(b, skb.head);
  const hooks = ns.netfilter !== null ? ns.outputHooks : null;
  if (hooks !== null) {
    const out = hooks.localOut(ns, skb, route.type === 'local' ? ns.lo : route.dev);
    if (out === null) return;
    if (ipv4.dst(b, skb.head) !== dst) {
      dst = ipv4.dst(b, skb.head);
      const rerouted = routeOutput(ns, dst);
      if (!rerouted) return ns.drop(undefined, skb, `ip: no route to ${formatIpv4(dst)} after DNAT`);
      route = rerouted;
    }
  }
  if (route.type === 'local') {
    if (hooks !== null && !hooks.postRouting(ns, skb, undefined, ns.lo, dst)) return;
    const off = skb.push(ethernet.HEADER_LEN);
    ethernet.emit({ dst: 0, src: 0, ethertype: ethernet.ETHERTYPE_IPV4 }, b, off);
    ns.lo.transmit(skb);
    return;
  }
  const dev = route.dev;
  if (!dev) return ns.drop(undefined, skb, 'ip: route without a device');
  const broadcast = route.type === 'broadcast' || dst === 0xffff_ffff;
  if (!broadcast && tracing(ns.trace)) traceRoute(ns, skb, route, dev, route.gateway ?? dst, 'output');
  ipFinishOutput(ns, skb, undefined, dev, route.gateway ?? dst, broadcast, routeMtu(ns, route, dst));
}

/**
 * POSTROUTING, then ip_finish_output → ip_fragment: a packet within `mtu` goes out as it is; a
 * longer one — or one conntrack reassembled (frag_max_size), which leaves in pieces of its
 * largest fragment again — is cut into fragments, unless it has DF set and this host may not
 * ignore it: then the sender (this host itself, for its own packets) gets ICMP fragmentation
 * needed and the packet is dropped.
 */
export function ipFinishOutput(ns: Netns, skb: Skb, inDev: NetDevice | undefined, dev: NetDevice, nexthop: Ipv4Addr, broadcast: boolean, mtu: number): void {
  if (ns.netfilter !== null && ns.outputHooks !== null && !ns.outputHooks.postRouting(ns, skb, inDev, dev, nexthop)) return;
  const fragMax = skb.fragMaxSize;
  if (skb.len <= mtu && fragMax === 0) return ipFinishOutput2(ns, skb, dev, nexthop, broadcast);
  if (ipv4.isDontFragment(skb.buf, skb.head) && (!skb.ignoreDf || fragMax > mtu)) {
    ns.icmpFragNeeded(skb, mtu);
    return ns.drop(dev, skb, `ip: ${skb.len} bytes with DF set exceed the MTU ${mtu}`);
  }
  if (skb.len <= mtu && skb.len <= fragMax) return ipFinishOutput2(ns, skb, dev, nexthop, broadcast);
  const size = fragMax !== 0 && fragMax < mtu ? fragMax : mtu;
  if (!tracing(ns.trace)) return ipDoFragment(skb, size, (frag) => ipFinishOutput2(ns, frag, dev, nexthop, broadcast));
  const parent = packetId(ns.sched, skb);
  ipDoFragment(skb, size, (frag) => {
    const b = frag.buf;
    const off = frag.head;
    const payload = ipv4.totalLength(b, off) - ipv4.headerLen(b, off);
    ns.trace.event({
      timeNs: ns.sched.nowNs, netns: ns.name, dev: dev.name, event: 'fragment', pkt: packetId(ns.sched, frag), related: parent,
      detail: `fragment of packet ${parent} (${skb.len} bytes) for MTU ${size} of ${dev.name}: offset ${ipv4.fragmentOffset(b, off)}, ${payload} bytes${ipv4.isMoreFragments(b, off) ? ', more fragments' : ''}`,
    }, frag);
    ipFinishOutput2(ns, frag, dev, nexthop, broadcast);
  });
}

/**
 * The trace's route event: the route the packet leaves by and the neighbour whose MAC its next
 * frame carries (`10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink; neighbour 10.244.2.0
 * lladdr 66:…:01 PERMANENT`). `how` is `output` (this host's packet) or `forward`.
 */
export function traceRoute(ns: Netns, skb: Skb, route: Route, dev: NetDevice, nexthop: Ipv4Addr, how: 'output' | 'forward'): void {
  const n = ns.neigh.lookup(dev, nexthop);
  const neigh = n?.lladdr !== undefined ? `neighbour ${formatIpv4(nexthop)} lladdr ${formatMac(n.lladdr)} ${NudState[n.state].toUpperCase()}` : `neighbour ${formatIpv4(nexthop)} unresolved (ARP)`;
  ns.trace.event({ timeNs: ns.sched.nowNs, netns: ns.name, dev: dev.name, event: 'route', pkt: packetId(ns.sched, skb), detail: `${how} ${formatRoute(route).trimEnd()}; ${neigh}` }, skb);
}

/** ip_finish_output2: a broadcast to ff:ff:ff:ff:ff:ff, anything else through the next hop's neighbour entry. */
function ipFinishOutput2(ns: Netns, skb: Skb, dev: NetDevice, nexthop: Ipv4Addr, broadcast: boolean): void {
  if (broadcast) {
    const off = skb.push(ethernet.HEADER_LEN);
    ethernet.emit({ dst: BROADCAST_MAC, src: dev.mac, ethertype: ethernet.ETHERTYPE_IPV4 }, skb.buf, off);
    dev.transmit(skb);
    return;
  }
  ns.neigh.output(dev, nexthop, skb);
}
