/**
 * What a journey shows of one captured frame: its fields (the packet's own headers, and the
 * outer headers when it travels in a VXLAN tunnel), decoded with the packet codecs, and a
 * one-line summary in the style of tcpdump/Wireshark's info column:
 * `10.244.1.2 → 10.96.0.80 TCP 51610→80 [SYN] ttl 64`.
 */
import { formatIpv4, formatMac } from '../packet/addr.js';
import * as arp from '../packet/arp.js';
import { decodeFrame, type Layer } from '../packet/frame.js';
import * as icmp from '../packet/icmp.js';
import * as tcp from '../packet/tcp.js';

/** The outer headers of a tunnelled frame. */
export interface OuterView {
  readonly ethSrc: string;
  readonly ethDst: string;
  readonly src: string;
  readonly dst: string;
  readonly ttl: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly vni: number;
}

/** The packet's own headers (the inner ones in a tunnel). */
export interface FrameView {
  readonly outer?: OuterView;
  readonly ethSrc: string;
  readonly ethDst: string;
  /** 'ipv4' | 'arp' | 'other' */
  readonly l3: 'ipv4' | 'arp' | 'other';
  readonly src?: string;
  readonly dst?: string;
  readonly ttl?: number;
  readonly ipId?: number;
  readonly proto?: 'tcp' | 'udp' | 'icmp' | string;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly tcpFlags?: number;
  readonly summary: string;
}

const VXLAN_PORTS = [4789, 8472];

/** Decodes a frame; `vxlanPorts` adds the run's tunnel port if the scenario chose another. */
export function viewFrame(bytes: Uint8Array, vxlanPorts: readonly number[] = VXLAN_PORTS): FrameView {
  const layers = decodeFrame(bytes, 0, bytes.length, { vxlanPorts });
  const vx = layers.findIndex((l) => l.kind === 'vxlan');
  if (vx < 0) return innerView(layers, undefined);
  const outerEth = layers[0];
  const outerIp = layers.find((l) => l.kind === 'ipv4');
  const outerUdp = layers.find((l) => l.kind === 'udp');
  const vxl = layers[vx]!;
  if (outerEth?.kind !== 'ethernet' || outerIp?.kind !== 'ipv4' || outerUdp?.kind !== 'udp' || vxl.kind !== 'vxlan') return innerView(layers, undefined);
  const outer: OuterView = {
    ethSrc: formatMac(outerEth.repr.src), ethDst: formatMac(outerEth.repr.dst),
    src: formatIpv4(outerIp.repr.src), dst: formatIpv4(outerIp.repr.dst), ttl: outerIp.repr.ttl,
    srcPort: outerUdp.repr.srcPort, dstPort: outerUdp.repr.dstPort, vni: vxl.repr.vni,
  };
  return innerView(layers.slice(vx + 1), outer);
}

function innerView(layers: readonly Layer[], outer: OuterView | undefined): FrameView {
  const eth = layers[0];
  const base = { ...(outer ? { outer } : {}), ethSrc: eth?.kind === 'ethernet' ? formatMac(eth.repr.src) : '?', ethDst: eth?.kind === 'ethernet' ? formatMac(eth.repr.dst) : '?' };
  const tunnel = outer ? ` in VXLAN vni ${outer.vni} ${outer.src} → ${outer.dst} UDP ${outer.srcPort}→${outer.dstPort}` : '';
  const a = layers.find((l) => l.kind === 'arp');
  if (a?.kind === 'arp') {
    const r = a.repr;
    const s = r.op === arp.OP_REQUEST ? `ARP who-has ${formatIpv4(r.targetIp)} tell ${formatIpv4(r.senderIp)}` : `ARP ${formatIpv4(r.senderIp)} is-at ${formatMac(r.senderMac)}`;
    return { ...base, l3: 'arp', summary: s + tunnel };
  }
  const ip = layers.find((l) => l.kind === 'ipv4');
  if (ip?.kind !== 'ipv4') return { ...base, l3: 'other', summary: `non-IPv4 frame${tunnel}` };
  const r = ip.repr;
  const src = formatIpv4(r.src);
  const dst = formatIpv4(r.dst);
  const frag = r.fragmentOffset !== 0 || r.moreFragments ? ` frag off ${r.fragmentOffset}${r.moreFragments ? ' MF' : ''}` : '';
  const ipFields = { src, dst, ttl: r.ttl, ipId: r.id };
  const t = layers.find((l) => l.kind === 'tcp');
  if (t?.kind === 'tcp') {
    const h = t.repr;
    const payload = layers.find((l) => l.kind === 'payload' || l.kind === 'dns');
    const len = payload ? ` len ${payload.length}` : '';
    return {
      ...base, l3: 'ipv4', ...ipFields, proto: 'tcp', srcPort: h.srcPort, dstPort: h.dstPort, tcpFlags: h.flags,
      summary: `${src} → ${dst} TCP ${h.srcPort}→${h.dstPort} [${tcpFlagNames(h.flags)}]${len} ttl ${r.ttl}${frag}${tunnel}`,
    };
  }
  const u = layers.find((l) => l.kind === 'udp');
  if (u?.kind === 'udp') {
    const h = u.repr;
    return { ...base, l3: 'ipv4', ...ipFields, proto: 'udp', srcPort: h.srcPort, dstPort: h.dstPort, summary: `${src} → ${dst} UDP ${h.srcPort}→${h.dstPort} len ${h.payloadLen} ttl ${r.ttl}${frag}${tunnel}` };
  }
  const c = layers.find((l) => l.kind === 'icmp');
  if (c?.kind === 'icmp') {
    return { ...base, l3: 'ipv4', ...ipFields, proto: 'icmp', summary: `${src} → ${dst} ICMP ${icmpText(c.repr)} ttl ${r.ttl}${frag}${tunnel}` };
  }
  const proto = r.protocol === 6 ? 'tcp' : r.protocol === 17 ? 'udp' : r.protocol === 1 ? 'icmp' : `proto ${r.protocol}`;
  return { ...base, l3: 'ipv4', ...ipFields, proto, summary: `${src} → ${dst} ${proto.toUpperCase()} ttl ${r.ttl}${frag}${tunnel}` };
}

/** Wireshark's order and names: [SYN, ACK], [PSH, ACK], [FIN, ACK], [RST]. */
export function tcpFlagNames(flags: number): string {
  const names: string[] = [];
  const order: [number, string][] = [[tcp.FIN, 'FIN'], [tcp.SYN, 'SYN'], [tcp.RST, 'RST'], [tcp.PSH, 'PSH'], [tcp.ACK, 'ACK'], [tcp.URG, 'URG'], [tcp.ECE, 'ECE'], [tcp.CWR, 'CWR']];
  for (const [bit, name] of order) if (flags & bit) names.push(name);
  return names.join(', ');
}

function icmpText(r: icmp.IcmpRepr): string {
  const id = r.rest >>> 16;
  const seq = r.rest & 0xffff;
  switch (r.type) {
    case icmp.TYPE_ECHO_REQUEST:
      return `echo request id ${id} seq ${seq}`;
    case icmp.TYPE_ECHO_REPLY:
      return `echo reply id ${id} seq ${seq}`;
    case icmp.TYPE_DEST_UNREACHABLE:
      return `destination unreachable (${UNREACH[r.code] ?? `code ${r.code}`})`;
    case icmp.TYPE_TIME_EXCEEDED:
      return r.code === 0 ? 'time exceeded (TTL expired in transit)' : 'time exceeded (fragment reassembly)';
    default:
      return `type ${r.type} code ${r.code}`;
  }
}

const UNREACH: Record<number, string> = {
  0: 'network unreachable', 1: 'host unreachable', 2: 'protocol unreachable', 3: 'port unreachable', 4: 'fragmentation needed',
  9: 'network prohibited', 10: 'host prohibited', 13: 'administratively prohibited',
};
