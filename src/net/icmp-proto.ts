/**
 * ICMP as the kernel speaks it (net/ipv4/icmp.c): echo replies, and errors about packets that
 * could not be delivered — from the address the error's route back to the sender prefers, TOS
 * with the internet-control precedence, DF clear (the kernel's ICMP socket does not set it),
 * quoting as much of the offending datagram as fits in 576 bytes.
 */
import * as icmp from '../packet/icmp.js';
import { ICMP_UNREACH_ERRNO } from './errno.js';
import * as ipv4 from '../packet/ipv4.js';
import { verifies } from '../packet/checksum.js';
import type { NetDevice } from './device.js';
import * as udp from '../packet/udp.js';
import { ipOutput, routeOutput, sourceFor, updatePmtu } from './ip-output.js';
import type { Neighbour } from './neighbour.js';
import type { Netns } from './netns.js';
import { Skb } from './skb.js';
import { packetId, tracing } from './trace.js';

export function icmpRcv(ns: Netns, dev: NetDevice, skb: Skb): void {
  const b = skb.buf;
  const ipOff = skb.networkOffset;
  const off = ipv4.payloadOffset(b, ipOff);
  const end = ipOff + ipv4.totalLength(b, ipOff);
  if (end - off < icmp.HEADER_LEN || !verifies(b, off, end)) return ns.drop(dev, skb, 'icmp: bad checksum');
  const type = icmp.type(b, off);
  if (type === icmp.TYPE_ECHO_REQUEST) icmpEchoReply(ns, skb, off, end);
  else if (type === icmp.TYPE_DEST_UNREACHABLE || type === icmp.TYPE_TIME_EXCEEDED || type === icmp.TYPE_PARAMETER_PROBLEM) icmpUnreach(ns, b, off, end);
  // Raw sockets (ping) were handed their copy of every ICMP message by ip_local_deliver.
}

/**
 * icmp_unreach → icmp_socket_deliver: an error about a datagram this host sent goes to the
 * protocol that sent it, found from the quoted header (which must hold its first 8 payload
 * bytes). For ICMP's own datagrams (ping) a fragmentation needed lowers the path MTU at once
 * (icmp_err → ipv4_update_pmtu); UDP hands the error to the socket, if one is still open
 * (__udp4_lib_err).
 */
function icmpUnreach(ns: Netns, b: Buffer, off: number, end: number): void {
  const q = icmp.dataOffset(off);
  if (end - q < ipv4.HEADER_LEN) return;
  const qhl = ipv4.headerLen(b, q);
  if (qhl < ipv4.HEADER_LEN || end - q < qhl + 8) return;
  const type = icmp.type(b, off);
  const code = icmp.code(b, off);
  const fragNeeded = type === icmp.TYPE_DEST_UNREACHABLE && code === icmp.FRAGMENTATION_NEEDED;
  const info = fragNeeded ? icmp.nextHopMtu(b, off) : 0;
  const protocol = ipv4.protocol(b, q);
  if (protocol === ipv4.PROTO_ICMP) {
    if (fragNeeded) updatePmtu(ns, ipv4.dst(b, q), info);
    return;
  }
  if (protocol === ipv4.PROTO_UDP) {
    const l4 = q + qhl;
    const sock = ns.udp.lookup(ipv4.src(b, q), udp.srcPort(b, l4), ipv4.dst(b, q), udp.dstPort(b, l4));
    sock?.icmpError(type, code, info, ipv4.dst(b, q));
    return;
  }
  if (protocol === ipv4.PROTO_TCP) {
    // tcp_v4_err: frag-needed updates the path MTU and the socket's MSS; other errors by code.
    if (fragNeeded) {
      updatePmtu(ns, ipv4.dst(b, q), info);
      return ns.tcp.icmpError(b, q, 'EMSGSIZE', info);
    }
    const errno =
      type === icmp.TYPE_DEST_UNREACHABLE ? ICMP_UNREACH_ERRNO[code]?.errno : type === icmp.TYPE_TIME_EXCEEDED ? 'EHOSTUNREACH' : 'EPROTO';
    if (errno && errno !== 'EMSGSIZE' && errno !== 'EDESTADDRREQ') ns.tcp.icmpError(b, q, errno, 0);
  }
}

/** icmp_echo → icmp_reply: the request's data back, from the address it was sent to. */
function icmpEchoReply(ns: Netns, req: Skb, icmpOff: number, end: number): void {
  const b = req.buf;
  const ipOff = req.networkOffset;
  const src = ipv4.dst(b, ipOff);
  const dst = ipv4.src(b, ipOff);
  const route = routeOutput(ns, dst);
  if (!route) return ns.drop(undefined, req, 'icmp: no route for the echo reply');
  const icmpLen = end - icmpOff;
  const skb = Skb.alloc(ipv4.HEADER_LEN + icmpLen);
  const out = skb.buf;
  const l4 = skb.head + ipv4.HEADER_LEN;
  b.copy(out, l4, icmpOff, end);
  icmp.emit({ type: icmp.TYPE_ECHO_REPLY, code: 0, checksum: 0, rest: icmp.rest(b, icmpOff), payloadLen: icmpLen - icmp.HEADER_LEN }, out, l4);
  ipv4.emit(
    ipv4.ipv4Repr({
      src, dst, protocol: ipv4.PROTO_ICMP, payloadLen: icmpLen, tos: ipv4.tos(b, ipOff), ttl: ns.sysctl.defaultTtl,
      id: ns.ipIdent.next(ns.sched.nowNs, dst, src, ipv4.PROTO_ICMP),
    }),
    out, skb.head,
  );
  ipOutput(ns, skb, route);
}

/**
 * icmp_send: an error about `orig` (its IPv4 header at orig.networkOffset) to its sender. Never
 * about an ICMP error, a later fragment, or a packet from or to a broadcast address.
 */
export function icmpSend(ns: Netns, orig: Skb, type: number, code: number, rest: number, _inDev?: NetDevice): void {
  const b = orig.buf;
  const ipOff = orig.networkOffset;
  if (ipOff < 0) return;
  const origSrc = ipv4.src(b, ipOff);
  if (origSrc === 0 || origSrc === 0xffff_ffff || ipv4.fragmentOffset(b, ipOff) !== 0) return;
  const origDst = ipv4.dst(b, ipOff);
  const dstRoute = ns.fib.lookup(origDst);
  if (dstRoute?.type === 'broadcast' || origDst === 0xffff_ffff) return;
  if (ipv4.protocol(b, ipOff) === ipv4.PROTO_ICMP) {
    const t = icmp.type(b, ipv4.payloadOffset(b, ipOff));
    if (icmp.isErrorType(t)) return; // RFC 1122 §3.2.2: no error about an error
  }
  const route = routeOutput(ns, origSrc);
  if (!route) return;
  const saddr = sourceFor(ns, route, origSrc);
  if (saddr === undefined) return;
  const origLen = ipv4.totalLength(b, ipOff);
  const mtu = route.dev ? Math.min(route.dev.mtu, icmp.ERROR_DATAGRAM_MAX_LEN) : icmp.ERROR_DATAGRAM_MAX_LEN;
  const quoteLen = icmp.linuxQuoteLen(origLen, ipv4.HEADER_LEN, mtu);
  const skb = Skb.alloc(ipv4.HEADER_LEN + icmp.HEADER_LEN + quoteLen);
  const l4 = skb.head + ipv4.HEADER_LEN;
  icmp.emitError({ type, code, checksum: 0, rest, payloadLen: quoteLen }, b, ipOff, skb.buf, l4);
  ipv4.emit(
    ipv4.ipv4Repr({
      src: saddr, dst: origSrc, protocol: ipv4.PROTO_ICMP, payloadLen: icmp.HEADER_LEN + quoteLen,
      tos: icmp.linuxErrorTos(ipv4.tos(b, ipOff)), ttl: ns.sysctl.defaultTtl,
      id: ns.ipIdent.next(ns.sched.nowNs, origSrc, saddr, ipv4.PROTO_ICMP),
    }),
    skb.buf, skb.head,
  );
  if (tracing(ns.trace)) {
    // Keyed by the packet the error is about; the error itself is a packet of its own.
    const pkt = packetId(ns.sched, orig);
    const related = packetId(ns.sched, skb);
    ns.trace.event({ timeNs: ns.sched.nowNs, netns: ns.name, event: 'icmp-error', detail: `ICMP type ${type} code ${code} to the sender`, pkt, related }, orig);
  }
  ipOutput(ns, skb, route);
}

/** neigh_invalidate → ipv4_link_failure: the next hop did not answer ARP. */
export function icmpSendHostUnreachable(ns: Netns, n: Neighbour, skb: Skb): void {
  ns.trace.event({ timeNs: ns.sched.nowNs, netns: ns.name, dev: n.dev.name, event: 'arp-failed', detail: 'neighbour resolution failed' });
  icmpSend(ns, skb, icmp.TYPE_DEST_UNREACHABLE, icmp.HOST_UNREACHABLE, 0);
}
