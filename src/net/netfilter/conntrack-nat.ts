/**
 * Rewriting packet bytes to a connection's NAT binding, as net/netfilter/nf_nat_core.c
 * (nf_nat_packet, nf_nat_manip_pkt) and nf_nat_proto.c (nf_nat_ipv4_manip_pkt, tcp/udp/icmp
 * manip, nf_nat_icmp_reply_translation) do: addresses and ports are changed in place and every
 * checksum they enter is patched incrementally (RFC 1624), never recomputed — except the ICMP
 * checksum of a translated error, which the kernel recomputes over the whole message.
 *
 * A packet of direction `dir` is made to look like the inverse of the other direction's tuple:
 * that is what the binding promised the peer. The hook decides the manip type: DST on
 * PREROUTING/OUTPUT, SRC on POSTROUTING/INPUT (HOOK2MANIP).
 */
import { setU16 } from '../../packet/bytes.js';
import * as icmp from '../../packet/icmp.js';
import * as ipv4 from '../../packet/ipv4.js';
import * as tcp from '../../packet/tcp.js';
import * as udp from '../../packet/udp.js';
import { DIR_REPLY, IPS, MANIP_DST, MANIP_SRC, type CtEntry } from './conntrack.js';
import { emptyTuple, invertTuple, type CtTuple } from './conntrack-tuple.js';

const target = emptyTuple();

/** The status bit that says whether `manip` applies to packets of `dir` (nf_nat_packet's statusbit). */
function statusBit(dir: number, manip: number): number {
  const bit = manip === MANIP_SRC ? IPS.SRC_NAT : IPS.DST_NAT;
  return dir === DIR_REPLY ? bit ^ IPS.NAT_MASK : bit;
}

/** True when the binding rewrites packets of `dir` at a hook of manip type `manip`. */
export function natApplies(e: CtEntry, dir: number, manip: number): boolean {
  return (e.status & statusBit(dir, manip)) !== 0;
}

/**
 * nf_nat_packet: rewrites the IPv4 packet at `ip` (direction `dir` of entry `e`) for one manip
 * type. Returns true when it changed anything.
 */
export function natPacket(e: CtEntry, dir: number, manip: number, b: Uint8Array, ip: number): boolean {
  if (!natApplies(e, dir, manip)) return false;
  invertTuple(e.tuplehash[1 - dir]!.tuple, target);
  manipPacket(b, ip, ip + ipv4.totalLength(b, ip), target, manip);
  return true;
}

/**
 * Both manips for a packet that crosses one host (PREROUTING's DST, then POSTROUTING's SRC):
 * the whole binding in one call, for callers that do not model hook positions.
 */
export function natForward(e: CtEntry, dir: number, b: Uint8Array, ip: number): boolean {
  const d = natPacket(e, dir, MANIP_DST, b, ip);
  const s = natPacket(e, dir, MANIP_SRC, b, ip);
  return d || s;
}

/**
 * nf_nat_icmp_reply_translation: an ICMP error RELATED to a translated connection, travelling in
 * `dir`. The quoted datagram (which travelled the other way) gets the opposite manip, so it reads
 * as the packet its receiver sent; the outer header then gets this hook's manip towards the
 * inverse of the other direction's tuple (addresses only). The ICMP checksum is recomputed.
 */
export function natIcmpError(e: CtEntry, dir: number, manip: number, b: Uint8Array, ip: number): boolean {
  if (!natApplies(e, dir, manip)) return false;
  const end = ip + ipv4.totalLength(b, ip);
  const l4 = ipv4.payloadOffset(b, ip);
  const inner = icmp.dataOffset(l4);
  const other = e.tuplehash[1 - dir]!.tuple;
  manipPacket(b, inner, end, other, manip === MANIP_SRC ? MANIP_DST : MANIP_SRC);
  icmp.fixChecksum(b, l4, end);
  invertTuple(other, target);
  if (manip === MANIP_SRC) {
    if (ipv4.src(b, ip) !== target.src) ipv4.setSrc(b, ip, target.src);
  } else if (ipv4.dst(b, ip) !== target.dst) {
    ipv4.setDst(b, ip, target.dst);
  }
  return true;
}

/**
 * nf_nat_ipv4_manip_pkt: sets the source (SRC) or destination (DST) address and port of the
 * datagram at `ip` from `t`, the transport header first (its checksum covers the old address
 * through the pseudo-header), then the IPv4 header. `end` bounds the bytes present: a TCP header
 * quoted in an ICMP error may be only 8 bytes long, and then, as tcp_manip_pkt, only the port is
 * written and the checksum it cannot reach is left alone.
 */
function manipPacket(b: Uint8Array, ip: number, end: number, t: CtTuple, manip: number): void {
  const src = manip === MANIP_SRC;
  const oldAddr = src ? ipv4.src(b, ip) : ipv4.dst(b, ip);
  const newAddr = src ? t.src : t.dst;
  const newPort = src ? t.srcPort : t.dstPort;
  const l4 = ipv4.payloadOffset(b, ip);
  // Only the first fragment carries the transport header.
  if (ipv4.fragmentOffset(b, ip) === 0) {
    switch (ipv4.protocol(b, ip)) {
      case ipv4.PROTO_TCP:
        if (l4 + tcp.HEADER_LEN <= end) {
          if (src) {
            if (tcp.srcPort(b, l4) !== newPort) tcp.setSrcPort(b, l4, newPort);
          } else if (tcp.dstPort(b, l4) !== newPort) {
            tcp.setDstPort(b, l4, newPort);
          }
          if (oldAddr !== newAddr) tcp.updateChecksumForAddress(b, l4, oldAddr, newAddr);
        } else if (l4 + 4 <= end) {
          setU16(b, src ? l4 : l4 + 2, newPort);
        }
        break;
      case ipv4.PROTO_UDP:
        if (l4 + udp.HEADER_LEN <= end) {
          if (src) {
            if (udp.srcPort(b, l4) !== newPort) udp.setSrcPort(b, l4, newPort);
          } else if (udp.dstPort(b, l4) !== newPort) {
            udp.setDstPort(b, l4, newPort);
          }
          if (oldAddr !== newAddr) udp.updateChecksumForAddress(b, l4, oldAddr, newAddr);
        }
        break;
      case ipv4.PROTO_ICMP:
        // icmp_manip_pkt: the echo identifier is the ICMP "port", whichever the manip type.
        if (l4 + icmp.HEADER_LEN <= end && icmp.isEcho(icmp.type(b, l4)) && icmp.echoId(b, l4) !== t.srcPort) {
          icmp.setEchoId(b, l4, t.srcPort);
        }
        break;
    }
  }
  if (oldAddr === newAddr) return;
  if (src) ipv4.setSrc(b, ip, newAddr);
  else ipv4.setDst(b, ip, newAddr);
}
