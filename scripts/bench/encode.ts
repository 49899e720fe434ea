/**
 * Frames encoded per second: an Ethernet/IPv4/TCP data segment (timestamps option, as Linux sends
 * data) with 100 bytes of payload, checksums computed, and the same frame inside VXLAN (outer UDP
 * checksum on, as flannel's device has it). The payload already sits in the buffer, as in the
 * datapath; each iteration changes the sequence number and IP ID so every checksum is recomputed.
 *
 * Beside podwire's codecs, in the same run: the machine's ceiling (a bare DataView loop writing the
 * same bytes and summing the same spans), and buffer-layout encoding the same fixed headers.
 */
import { struct, u8, u16be, u32be, u48be } from 'buffer-layout';
import * as ethernet from '../../src/packet/ethernet.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import * as udp from '../../src/packet/udp.js';
import * as vxlan from '../../src/packet/vxlan.js';
import { finish, pseudoHeaderSum, sum } from '../../src/packet/checksum.js';
import { parseIpv4, parseMac } from '../../src/packet/addr.js';
import { fmtRate, measureRate, row } from './measure.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const PAYLOAD = 100;
const TCP_HLEN = 32; // 20 + timestamps (NOP NOP TS)
const INNER_LEN = 14 + 20 + TCP_HLEN + PAYLOAD; // 166
const OUTER = 14 + 20 + 8 + 8; // 50, flannel's encapOverhead
const HEADROOM = 64;

const podA = parseIpv4('10.244.1.2');
const podC = parseIpv4('10.244.2.2');
const node1 = parseIpv4('192.168.1.10');
const node2 = parseIpv4('192.168.1.11');
const macA = parseMac('02:42:0a:f4:01:02');
const macGw = parseMac('0a:58:0a:f4:01:01');

function innerReprs() {
  const eth: ethernet.EthernetRepr = { dst: macGw, src: macA, ethertype: ethernet.ETHERTYPE_IPV4 };
  const ip: Mutable<ipv4.Ipv4Repr> = ipv4.ipv4Repr({ src: podA, dst: podC, protocol: ipv4.PROTO_TCP, payloadLen: TCP_HLEN + PAYLOAD, dontFragment: true, id: 1 });
  const seg: Mutable<tcp.TcpRepr> = {
    srcPort: 40000, dstPort: 8080, seq: 1, ack: 1, flags: tcp.ACK | tcp.PSH, reserved: 0, window: 502, checksum: 0, urgentPointer: 0,
    options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 1000, tsecr: 2000 }],
    payloadLen: PAYLOAD,
  };
  return { eth, ip, seg };
}

function podwireTcp(buf: Uint8Array, base: number) {
  const { eth, ip, seg } = innerReprs();
  const pseudo = { src: podA, dst: podC };
  return (n: number) => {
    for (let i = 0; i < n; i++) {
      seg.seq = (seg.seq + PAYLOAD) >>> 0;
      ip.id = (ip.id + 1) & 0xffff;
      tcp.emit(seg, buf, base + 34, pseudo);
      ipv4.emit(ip, buf, base + 14);
      ethernet.emit(eth, buf, base);
    }
  };
}

function podwireVxlan(buf: Uint8Array) {
  const inner = podwireTcp(buf, HEADROOM);
  const outerEth: ethernet.EthernetRepr = { dst: parseMac('0e:00:00:00:00:02'), src: parseMac('0e:00:00:00:00:01'), ethertype: ethernet.ETHERTYPE_IPV4 };
  const outerIp: Mutable<ipv4.Ipv4Repr> = ipv4.ipv4Repr({ src: node1, dst: node2, protocol: ipv4.PROTO_UDP, payloadLen: 8 + 8 + INNER_LEN, id: 7 });
  const outerUdp: udp.UdpRepr = { srcPort: 45678, dstPort: vxlan.PORT_LINUX, checksum: 0, payloadLen: 8 + INNER_LEN };
  const vx = vxlan.vxlanRepr(1);
  const pseudo = { src: node1, dst: node2 };
  const o = HEADROOM - OUTER; // the outer headers go into the headroom, in front of the inner frame
  return (n: number) => {
    for (let i = 0; i < n; i++) {
      inner(1);
      outerIp.id = (outerIp.id + 1) & 0xffff;
      vxlan.emit(vx, buf, o + 42);
      udp.emit(outerUdp, buf, o + 34, pseudo);
      ipv4.emit(outerIp, buf, o + 14);
      ethernet.emit(outerEth, buf, o);
    }
  };
}

/** The ceiling: the same bytes written with bare DataView stores, the same spans summed with DataView loads. */
function dataViewTcp(buf: Uint8Array, base: number) {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let seq = 1;
  let id = 1;
  const dvSum = (start: number, end: number, s: number) => {
    let i = start;
    for (; i + 1 < end; i += 2) s += dv.getUint16(i);
    if (i < end) s += dv.getUint8(i) << 8;
    return s;
  };
  const fin = (s: number) => {
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    return ~s & 0xffff;
  };
  return (n: number) => {
    for (let i = 0; i < n; i++) {
      seq = (seq + PAYLOAD) >>> 0;
      id = (id + 1) & 0xffff;
      const t = base + 34;
      dv.setUint16(t, 40000); dv.setUint16(t + 2, 8080); dv.setUint32(t + 4, seq); dv.setUint32(t + 8, 1);
      dv.setUint16(t + 12, 0x8018); dv.setUint16(t + 14, 502); dv.setUint16(t + 16, 0); dv.setUint16(t + 18, 0);
      dv.setUint16(t + 20, 0x0101); dv.setUint16(t + 22, 0x080a); dv.setUint32(t + 24, 1000); dv.setUint32(t + 28, 2000);
      dv.setUint16(t + 16, fin(dvSum(t, t + TCP_HLEN + PAYLOAD, pseudoHeaderSum(podA, podC, 6, TCP_HLEN + PAYLOAD))));
      const h = base + 14;
      dv.setUint16(h, 0x4500); dv.setUint16(h + 2, 20 + TCP_HLEN + PAYLOAD); dv.setUint16(h + 4, id); dv.setUint16(h + 6, 0x4000);
      dv.setUint16(h + 8, 0x4006); dv.setUint16(h + 10, 0); dv.setUint32(h + 12, podA); dv.setUint32(h + 16, podC);
      dv.setUint16(h + 10, fin(dvSum(h, h + 20, 0)));
      dv.setUint16(base, 0x0a58); dv.setUint32(base + 2, 0x0af40101); dv.setUint16(base + 6, 0x0242); dv.setUint32(base + 8, 0x0af40102);
      dv.setUint16(base + 12, 0x0800);
    }
  };
}

/** buffer-layout encoding the same fixed headers (options and checksums by hand, as it has neither). */
function bufferLayoutTcp(buf: Buffer, base: number) {
  const ethL = struct([u48be('dst'), u48be('src'), u16be('type')]);
  const ipL = struct([u8('vihl'), u8('tos'), u16be('len'), u16be('id'), u16be('frag'), u8('ttl'), u8('proto'), u16be('csum'), u32be('src'), u32be('dst')]);
  const tcpL = struct([u16be('sport'), u16be('dport'), u32be('seq'), u32be('ack'), u16be('ctl'), u16be('win'), u16be('csum'), u16be('urg'), u16be('nops'), u16be('tsh'), u32be('tsval'), u32be('tsecr')]);
  const e = { dst: macGw, src: macA, type: 0x0800 };
  const ip = { vihl: 0x45, tos: 0, len: 20 + TCP_HLEN + PAYLOAD, id: 1, frag: 0x4000, ttl: 64, proto: 6, csum: 0, src: podA, dst: podC };
  const t = { sport: 40000, dport: 8080, seq: 1, ack: 1, ctl: 0x8018, win: 502, csum: 0, urg: 0, nops: 0x0101, tsh: 0x080a, tsval: 1000, tsecr: 2000 };
  return (n: number) => {
    for (let i = 0; i < n; i++) {
      t.seq = (t.seq + PAYLOAD) >>> 0;
      ip.id = (ip.id + 1) & 0xffff;
      t.csum = 0;
      tcpL.encode(t, buf, base + 34);
      t.csum = finish(sum(buf, base + 34, base + 34 + TCP_HLEN + PAYLOAD, pseudoHeaderSum(podA, podC, 6, TCP_HLEN + PAYLOAD)));
      tcpL.encode(t, buf, base + 34);
      ip.csum = 0;
      ipL.encode(ip, buf, base + 14);
      ip.csum = finish(sum(buf, base + 14, base + 34));
      ipL.encode(ip, buf, base + 14);
      ethL.encode(e, buf, base);
    }
  };
}

export interface EncodeFigures {
  readonly podwireTcp: number;
  readonly podwireVxlan: number;
  readonly dataViewCeiling: number;
  readonly bufferLayout: number;
}

export function benchEncode(): EncodeFigures {
  const buf = Buffer.alloc(HEADROOM + INNER_LEN);
  buf.fill(0x61, HEADROOM + 14 + 20 + TCP_HLEN); // the payload bytes
  const ours = measureRate(podwireTcp(buf, HEADROOM)).perSecond;
  const ceiling = measureRate(dataViewTcp(buf, HEADROOM)).perSecond;
  const bl = measureRate(bufferLayoutTcp(buf, HEADROOM)).perSecond;
  const vx = measureRate(podwireVxlan(buf)).perSecond;
  console.log(`encode: Ethernet/IPv4/TCP, ${INNER_LEN}-byte frame (100 B payload), all checksums computed`);
  row('podwire codecs (emit)', fmtRate(ours, 'frames'), `${((ours / ceiling) * 100).toFixed(0)}% of ceiling`);
  row('ceiling: bare DataView loop, same bytes and sums', fmtRate(ceiling, 'frames'));
  row('buffer-layout structs (same headers, same sums)', fmtRate(bl, 'frames'), `${((bl / ceiling) * 100).toFixed(0)}% of ceiling`);
  row(`podwire, same frame in VXLAN (${INNER_LEN + OUTER} B, outer UDP checksum)`, fmtRate(vx, 'frames'));
  return { podwireTcp: ours, podwireVxlan: vx, dataViewCeiling: ceiling, bufferLayout: bl };
}
