/**
 * Builds test frames with the codecs, innermost first into one buffer, as a stack would: payload,
 * then the L4 header (checksum over the payload in place), IPv4, Ethernet.
 */
import * as ethernet from '../../src/packet/ethernet.js';
import * as icmp from '../../src/packet/icmp.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import * as udp from '../../src/packet/udp.js';
import { parseIpv4, parseMac } from '../../src/packet/addr.js';

export interface L3Spec {
  readonly src: string;
  readonly dst: string;
  readonly ip?: Partial<ipv4.Ipv4Repr>;
  readonly eth?: Partial<ethernet.EthernetRepr>;
}

const DEFAULT_ETH: ethernet.EthernetRepr = {
  dst: parseMac('0a:58:0a:f4:01:01'),
  src: parseMac('7e:4c:51:0a:01:02'),
  ethertype: ethernet.ETHERTYPE_IPV4,
};

function wrap(spec: L3Spec, protocol: number, l4Len: number, fill: (b: Buffer, l4: number) => void): Buffer {
  const eth: ethernet.EthernetRepr = { ...DEFAULT_ETH, ...spec.eth, ethertype: ethernet.ETHERTYPE_IPV4 };
  const ip = ipv4.ipv4Repr({ src: parseIpv4(spec.src), dst: parseIpv4(spec.dst), protocol, payloadLen: l4Len, ...spec.ip });
  const ehl = ethernet.reprHeaderLen(eth);
  const ihl = ipv4.reprHeaderLen(ip);
  const b = Buffer.alloc(ehl + ihl + l4Len);
  fill(b, ehl + ihl);
  ipv4.emit(ip, b, ehl);
  ethernet.emit(eth, b, 0);
  return b;
}

export function udpFrame(spec: L3Spec & { srcPort: number; dstPort: number; payload: Uint8Array }): Buffer {
  return wrap(spec, ipv4.PROTO_UDP, udp.HEADER_LEN + spec.payload.length, (b, l4) => {
    b.set(spec.payload, l4 + udp.HEADER_LEN);
    udp.emit({ srcPort: spec.srcPort, dstPort: spec.dstPort, checksum: 0, payloadLen: spec.payload.length }, b, l4, {
      src: parseIpv4(spec.src),
      dst: parseIpv4(spec.dst),
    });
  });
}

export function tcpFrame(spec: L3Spec & { tcp: Partial<tcp.TcpRepr> & Pick<tcp.TcpRepr, 'srcPort' | 'dstPort'>; payload?: Uint8Array }): Buffer {
  const payload = spec.payload ?? new Uint8Array(0);
  const r: tcp.TcpRepr = {
    seq: 0, ack: 0, flags: tcp.ACK, reserved: 0, window: 502, checksum: 0, urgentPointer: 0, options: [],
    ...spec.tcp,
    payloadLen: payload.length,
  };
  const hl = tcp.reprHeaderLen(r);
  return wrap(spec, ipv4.PROTO_TCP, hl + payload.length, (b, l4) => {
    b.set(payload, l4 + hl);
    tcp.emit(r, b, l4, { src: parseIpv4(spec.src), dst: parseIpv4(spec.dst) });
  });
}

/** An ICMP message whose data is `data` (for errors: the quoted datagram). */
export function icmpFrame(spec: L3Spec & { icmp: Omit<icmp.IcmpRepr, 'payloadLen' | 'checksum'>; data: Uint8Array }): Buffer {
  return wrap(spec, ipv4.PROTO_ICMP, icmp.HEADER_LEN + spec.data.length, (b, l4) => {
    b.set(spec.data, l4 + icmp.HEADER_LEN);
    icmp.emit({ ...spec.icmp, checksum: 0, payloadLen: spec.data.length }, b, l4);
  });
}
