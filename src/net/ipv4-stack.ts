/**
 * IPv4 input and forwarding (net/ipv4/ip_input.c, ip_forward.c) over the
 * frame's own bytes: the header is validated and read in place, TTL is decremented with an
 * incremental checksum update, and the Ethernet header for the next hop is written in front of
 * the same buffer. Packets for this host go to raw sockets and the protocol handlers.
 */
import { isMulticastMac } from '../packet/addr.js';
import { verifies } from '../packet/checksum.js';
import * as ethernet from '../packet/ethernet.js';
import * as icmp from '../packet/icmp.js';
import * as ipv4 from '../packet/ipv4.js';
import * as udp from '../packet/udp.js';
import type { NetDevice } from './device.js';
import type { Route } from './fib.js';
import { icmpRcv, icmpSend } from './icmp-proto.js';
import { ipFinishOutput, traceRoute } from './ip-output.js';
import { tracing } from './trace.js';
import { nfForward, nfLocalIn, nfPreRouting } from './nf-hooks.js';
import type { Netns } from './netns.js';
import type { Skb } from './skb.js';

/** ip_rcv_core + ip_rcv_finish: validate, then deliver locally or forward. */
export function ipRcv(ns: Netns, dev: NetDevice, skb: Skb): void {
  const ethDst = ethernet.dst(skb.buf, skb.head);
  const isBroadcast = isMulticastMac(ethDst);
  // lo's MAC is all zeros, as the frames it carries: they match like any frame for the host.
  if (!isBroadcast && ethDst !== dev.mac && !skb.isForHost) {
    return; // PACKET_OTHERHOST: not for this host, dropped without a word (as the kernel does)
  }
  skb.pull(ethernet.HEADER_LEN);
  skb.ignoreDf = false; // the sender's permission stays in its netns (skb_scrub_packet)
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
  // PREROUTING; br_netfilter already ran it for a frame the bridge passed up (ip_sabotage_in).
  if (ns.netfilter !== null && !skb.nfBridge?.preroutingDone) {
    const after = nfPreRouting(ns, skb, dev);
    if (after === null) return;
    skb = after;
  }
  ipRcvFinish(ns, dev, skb, isBroadcast);
}

/** ip_rcv_finish: the route decides — local delivery or forwarding. */
function ipRcvFinish(ns: Netns, dev: NetDevice, skb: Skb, isBroadcast: boolean): void {
  const dst = ipv4.dst(skb.buf, skb.networkOffset);
  const route = ns.fib.lookup(dst);
  if (route && (route.type === 'local' || route.type === 'broadcast') || dst === 0xffff_ffff) {
    return ipLocalDeliver(ns, dev, skb);
  }
  if (isBroadcast) return ns.drop(dev, skb, 'ip: link-layer broadcast to a foreign address');
  // A host that does not forward drops quietly (ip_error counts it, sends nothing).
  if (!ns.sysctl.ipForward) return ns.drop(dev, skb, 'ip: forwarding disabled (net.ipv4.ip_forward=0)');
  // The input route lookup fails before ip_forward looks at the TTL; ip_error answers by route type.
  if (route?.type === 'blackhole') return ns.drop(dev, skb, 'ip: blackhole route');
  if (route && route.type !== 'unicast') {
    icmpSend(ns, skb, icmp.TYPE_DEST_UNREACHABLE, icmp.HOST_UNREACHABLE, 0, dev);
    return ns.drop(dev, skb, `ip: ${route.type} route`);
  }
  if (!route?.dev) {
    icmpSend(ns, skb, icmp.TYPE_DEST_UNREACHABLE, icmp.NET_UNREACHABLE, 0, dev);
    return ns.drop(dev, skb, 'ip: no route to the destination');
  }
  ipForward(ns, dev, skb, route, route.dev);
}

/** ip_forward: TTL, MTU (DF: ICMP fragmentation needed), decrement, then output — fragmented when it does not fit. */
function ipForward(ns: Netns, dev: NetDevice, skb: Skb, route: Route, out: NetDevice): void {
  const b = skb.buf;
  const off = skb.networkOffset;
  if (ipv4.ttl(b, off) <= 1) {
    icmpSend(ns, skb, icmp.TYPE_TIME_EXCEEDED, icmp.TTL_EXCEEDED_IN_TRANSIT, 0, dev);
    return ns.drop(dev, skb, 'ip: TTL exceeded in transit');
  }
  // ip_exceeds_mtu, before the decrement: the error quotes the packet as it arrived. Forwarding
  // sizes by the device (ip_dst_mtu_maybe_forward: net.ipv4.ip_forward_use_pmtu is 0).
  const mtu = out.mtu;
  if (skb.len > mtu && ipv4.isDontFragment(b, off)) {
    icmpSend(ns, skb, icmp.TYPE_DEST_UNREACHABLE, icmp.FRAGMENTATION_NEEDED, mtu, dev);
    return ns.drop(out, skb, `ip: ${skb.len} bytes with DF set exceed the MTU ${mtu} of ${out.name}`);
  }
  ipv4.decrementTtl(b, off);
  if (!nfForward(ns, skb, dev, out)) return;
  if (tracing(ns.trace)) traceRoute(ns, skb, route, out, route.gateway ?? ipv4.dst(b, off), 'forward');
  ipFinishOutput(ns, skb, dev, out, route.gateway ?? ipv4.dst(b, off), false, mtu);
}

/** ip_local_deliver: fragments wait for their datagram (ip_defrag); raw sockets get their copy, then the protocol handler. */
function ipLocalDeliver(ns: Netns, dev: NetDevice, skb: Skb): void {
  if (ipv4.isFragment(skb.buf, skb.networkOffset)) {
    const whole = ns.ipDefrag.defrag(skb);
    if (!whole) return;
    skb = whole;
  }
  if (!nfLocalIn(ns, skb, dev)) return;
  const b = skb.buf;
  const off = skb.networkOffset;
  const protocol = ipv4.protocol(b, off);
  for (const l of ns.rawListeners) if (l.protocol === protocol) l.deliver(skb, off);
  if (protocol === ipv4.PROTO_ICMP) return icmpRcv(ns, dev, skb);
  if (protocol === ipv4.PROTO_UDP) return udpRcv(ns, dev, skb);
  if (protocol === ipv4.PROTO_TCP) return ns.tcp.rcv(dev, skb);
  ns.drop(dev, skb, `ip: no handler for protocol ${protocol} yet`);
}


/** __udp4_lib_rcv: checksum, then the tunnel on the port, the socket bound to it, or port unreachable. */
function udpRcv(ns: Netns, dev: NetDevice, skb: Skb): void {
  const b = skb.buf;
  const off = skb.networkOffset;
  const u = ipv4.payloadOffset(b, off);
  const end = off + ipv4.totalLength(b, off);
  if (end - u < udp.HEADER_LEN || udp.length(b, u) > end - u || udp.length(b, u) < udp.HEADER_LEN) return ns.drop(dev, skb, 'udp: bad length');
  const src = ipv4.src(b, off);
  const dst = ipv4.dst(b, off);
  if (udp.checksum(b, u) !== 0 && !udp.hasValidChecksum(b, u, { src, dst })) return ns.drop(dev, skb, 'udp: bad checksum');
  const dstPort = udp.dstPort(b, u);
  const encap = ns.udpEncap.get(dstPort);
  if (encap) return encap(skb, off);
  const sock = ns.udp.lookup(dst, dstPort, src, udp.srcPort(b, u));
  if (!sock) {
    const route = ns.fib.lookup(dst);
    if (route?.type !== 'broadcast' && dst !== 0xffff_ffff) icmpSend(ns, skb, icmp.TYPE_DEST_UNREACHABLE, icmp.PORT_UNREACHABLE, 0, dev);
    return ns.drop(dev, skb, `udp: no socket on port ${dstPort}`);
  }
  const data = Uint8Array.prototype.slice.call(b, u + udp.HEADER_LEN, u + udp.length(b, u));
  sock.onDatagram({ from: src, fromPort: udp.srcPort(b, u), to: dst, data, timeNs: ns.sched.nowNs });
}
