/**
 * The packet zoo: one frame of every kind the wire library builds, including those the kernel
 * references lack (802.1Q, IPv4 options, SACK blocks, time exceeded, fragmentation needed,
 * SRV/PTR/CNAME/SOA/AAAA/OPT, a VXLAN frame, IPv4 fragments). Its tshark dissection is a golden
 * file; `npm run golden:update` regenerates it for review as a diff.
 */
import * as arp from '../../src/packet/arp.js';
import * as dns from '../../src/packet/dns.js';
import * as ethernet from '../../src/packet/ethernet.js';
import * as icmp from '../../src/packet/icmp.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import * as udp from '../../src/packet/udp.js';
import * as vxlan from '../../src/packet/vxlan.js';
import { BROADCAST_MAC, parseIpv4, parseMac } from '../../src/packet/addr.js';
import { icmpFrame, tcpFrame, udpFrame } from './build.js';

export interface ZooFrame {
  readonly name: string;
  readonly bytes: Buffer;
}

const POD = '10.244.1.2';
const DNS_POD = '10.244.2.3';
const q = (name: string, type: number): dns.DnsQuestion => ({ name, type, class: dns.CLASS_IN });
const rr = (name: string, type: number, ttl: number, data: dns.RData): dns.DnsRecord => ({ name, type, class: dns.CLASS_IN, ttl, data });

function dnsBytes(m: dns.DnsMessage): Buffer {
  const b = Buffer.alloc(dns.encodedLength(m));
  dns.emit(m, b, 0);
  return b;
}

function dnsAnswer(id: number, question: dns.DnsQuestion, answers: dns.DnsRecord[], opts: { rcode?: number; authorities?: dns.DnsRecord[]; additionals?: dns.DnsRecord[] } = {}): Buffer {
  return udpFrame({
    src: DNS_POD, dst: POD, srcPort: 53, dstPort: 41000,
    payload: dnsBytes({
      id, flags: dns.makeFlags({ qr: true, aa: true, rd: true, ra: true, rcode: opts.rcode ?? dns.RCODE_NOERROR }),
      questions: [question], answers, authorities: opts.authorities ?? [], additionals: opts.additionals ?? [],
    }),
  });
}

export function packetZoo(): ZooFrame[] {
  const frames: ZooFrame[] = [];
  const add = (name: string, bytes: Buffer) => frames.push({ name, bytes });

  // 802.1Q-tagged ARP request.
  const tagged = Buffer.alloc(ethernet.HEADER_LEN + ethernet.VLAN_TAG_LEN + arp.HEADER_LEN);
  const tagEth: ethernet.EthernetRepr = { dst: BROADCAST_MAC, src: parseMac('52:54:00:c0:a8:0a'), vlan: { pcp: 5, dei: false, vid: 100 }, ethertype: ethernet.ETHERTYPE_ARP };
  arp.emit({ op: arp.OP_REQUEST, senderMac: tagEth.src, senderIp: parseIpv4('192.168.1.10'), targetMac: 0, targetIp: parseIpv4('192.168.1.11') }, tagged, ethernet.emit(tagEth, tagged, 0));
  add('802.1Q VLAN 100 ARP request', tagged);

  // IPv4 with options (Router Alert, RFC 2113) carrying UDP.
  add('IPv4 Router Alert option, UDP', udpFrame({ src: POD, dst: '10.244.2.2', srcPort: 40000, dstPort: 9000, payload: Buffer.from('hello\n'), ip: { options: Uint8Array.of(0x94, 0x04, 0x00, 0x00), ttl: 1 } }));

  // TCP as Linux opens a connection through flannel (MSS 1410), then SACK, then a RST.
  add('TCP SYN, Linux options', tcpFrame({ src: POD, dst: '10.96.0.100', ip: { dontFragment: true, id: 0x3d1c }, tcp: { srcPort: 43210, dstPort: 80, seq: 0x1c0ffee0, flags: tcp.SYN, window: 64860, options: [
    { kind: 'mss', value: 1410 }, { kind: 'sack-permitted' }, { kind: 'timestamps', tsval: 123456, tsecr: 0 }, { kind: 'nop' }, { kind: 'window-scale', shift: 10 },
  ] } }));
  add('TCP ACK with two SACK blocks', tcpFrame({ src: '10.244.2.2', dst: POD, ip: { dontFragment: true }, tcp: { srcPort: 8080, dstPort: 43210, seq: 5000, ack: 1001, flags: tcp.ACK, options: [
    { kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 2000, tsecr: 1000 }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [{ left: 2449, right: 3897 }, { left: 5345, right: 6793 }] },
  ] } }));
  add('TCP RST to a closed port', tcpFrame({ src: '10.244.2.2', dst: POD, ip: { dontFragment: true }, tcp: { srcPort: 8081, dstPort: 43211, seq: 0, ack: 0x1c0ffee1, flags: tcp.RST | tcp.ACK, window: 0 } }));

  // ICMP: echo, and the errors with Linux's quotes.
  const echo = Buffer.alloc(56, 0x61);
  add('ICMP echo request', icmpFrame({ src: POD, dst: '10.244.2.2', ip: { dontFragment: true, id: 0x750f }, icmp: { type: icmp.TYPE_ECHO_REQUEST, code: 0, rest: icmp.echoRest(0x1c2b, 1) }, data: echo }));
  const expired = udpFrame({ src: POD, dst: '192.168.1.100', srcPort: 33434, dstPort: 33435, payload: Buffer.alloc(32), ip: { ttl: 1, id: 0x1111 } });
  const expiredIp = expired.subarray(ethernet.HEADER_LEN);
  add('ICMP time exceeded quoting a UDP probe', icmpFrame({ src: '10.244.1.1', dst: POD, ip: { tos: icmp.linuxErrorTos(0) }, icmp: { type: icmp.TYPE_TIME_EXCEEDED, code: icmp.TTL_EXCEEDED_IN_TRANSIT, rest: 0 }, data: expiredIp.subarray(0, icmp.linuxQuoteLen(expiredIp.length)) }));
  const big = udpFrame({ src: POD, dst: '192.168.1.100', srcPort: 40001, dstPort: 9000, payload: Buffer.alloc(1472, 0x42), ip: { dontFragment: true, id: 0x2222 } });
  const bigIp = big.subarray(ethernet.HEADER_LEN);
  add('ICMP fragmentation needed, next-hop MTU 1450', icmpFrame({ src: '192.168.1.10', dst: POD, ip: { tos: icmp.linuxErrorTos(0) }, icmp: { type: icmp.TYPE_DEST_UNREACHABLE, code: icmp.FRAGMENTATION_NEEDED, rest: 1450 }, data: bigIp.subarray(0, icmp.linuxQuoteLen(bigIp.length)) }));

  // DNS: what glibc asks and what CoreDNS answers.
  add('DNS query A (glibc)', udpFrame({ src: POD, dst: '10.96.0.10', srcPort: 41000, dstPort: 53, payload: dnsBytes({ id: 0x4a1f, flags: dns.makeFlags({ rd: true }), questions: [q('my-svc.default.svc.cluster.local', dns.TYPE_A)], answers: [], authorities: [], additionals: [] }) }));
  add('DNS query A with EDNS (dig)', udpFrame({ src: POD, dst: '10.96.0.10', srcPort: 41001, dstPort: 53, payload: dnsBytes({ id: 0x1d2e, flags: dns.makeFlags({ rd: true, ad: true }), questions: [q('my-svc.default.svc.cluster.local', dns.TYPE_A)], answers: [], authorities: [], additionals: [dns.optRecord({ udpPayloadSize: 1232, options: [{ code: dns.EDNS_OPTION_COOKIE, data: Buffer.from('c0ffee00deadbeef', 'hex') }] })] }) }));
  const svc = 'my-svc.default.svc.cluster.local';
  add('DNS SRV answer', dnsAnswer(0x0101, q(`_http._tcp.${svc}`, dns.TYPE_SRV), [rr(`_http._tcp.${svc}`, dns.TYPE_SRV, 5, { kind: 'srv', priority: 0, weight: 100, port: 80, target: svc })], { additionals: [rr(svc, dns.TYPE_A, 5, { kind: 'a', address: parseIpv4('10.96.0.100') })] }));
  add('DNS PTR answer', dnsAnswer(0x0102, q('100.0.96.10.in-addr.arpa', dns.TYPE_PTR), [rr('100.0.96.10.in-addr.arpa', dns.TYPE_PTR, 5, { kind: 'ptr', target: svc })]));
  add('DNS CNAME then A', dnsAnswer(0x0103, q('ext.default.svc.cluster.local', dns.TYPE_A), [
    rr('ext.default.svc.cluster.local', dns.TYPE_CNAME, 5, { kind: 'cname', target: 'api.example.com' }),
    rr('api.example.com', dns.TYPE_A, 5, { kind: 'a', address: parseIpv4('192.168.1.100') }),
  ]));
  add('DNS AAAA answer', dnsAnswer(0x0104, q('v6.default.svc.cluster.local', dns.TYPE_AAAA), [rr('v6.default.svc.cluster.local', dns.TYPE_AAAA, 5, { kind: 'aaaa', address: dns.parseIpv6('fd00:10:96::100') })]));
  add('DNS NXDOMAIN with CoreDNS SOA', dnsAnswer(0x0105, q('api.example.com.default.svc.cluster.local', dns.TYPE_A), [], {
    rcode: dns.RCODE_NXDOMAIN,
    authorities: [rr('cluster.local', dns.TYPE_SOA, 30, { kind: 'soa', mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 1700000000, refresh: 7200, retry: 1800, expire: 86400, minimum: 30 })],
  }));

  // VXLAN: the echo request as flannel.1 sends it between nodes (TTL already decremented).
  const inner = icmpFrame({ src: POD, dst: '10.244.2.2', eth: { src: parseMac('6e:1f:8a:00:00:01'), dst: parseMac('6e:1f:8a:00:00:02') }, ip: { dontFragment: true, ttl: 63, id: 0x750f }, icmp: { type: icmp.TYPE_ECHO_REQUEST, code: 0, rest: icmp.echoRest(0x1c2b, 1) }, data: echo });
  const vx = Buffer.alloc(50 + inner.length);
  vx.set(inner, 50);
  vxlan.emit(vxlan.vxlanRepr(1), vx, 42);
  udp.emit({ srcPort: 51235, dstPort: vxlan.PORT_LINUX, checksum: 0, payloadLen: 8 + inner.length }, vx, 34, { src: parseIpv4('192.168.1.10'), dst: parseIpv4('192.168.1.11') });
  ipv4.emit(ipv4.ipv4Repr({ src: parseIpv4('192.168.1.10'), dst: parseIpv4('192.168.1.11'), protocol: ipv4.PROTO_UDP, payloadLen: 16 + inner.length, id: 0x3e81 }), vx, 14);
  ethernet.emit({ dst: parseMac('52:54:00:c0:a8:0b'), src: parseMac('52:54:00:c0:a8:0a'), ethertype: ethernet.ETHERTYPE_IPV4 }, vx, 0);
  add('VXLAN (UDP 8472, VNI 1) carrying an echo request', vx);

  // IPv4 fragments of a 1480-byte UDP datagram on a 1450-byte MTU, as Linux cuts it.
  const whole = udpFrame({ src: POD, dst: '10.244.2.2', srcPort: 40002, dstPort: 9000, payload: Buffer.alloc(1472, 0x43), ip: { id: 0x3333 } });
  for (const piece of ipv4.fragmentPlan(1480, 20, 1450)) {
    const f = Buffer.alloc(14 + 20 + piece.len);
    f.set(whole.subarray(0, 34), 0);
    f.set(whole.subarray(34 + piece.offset, 34 + piece.offset + piece.len), 34);
    ipv4.setTotalLength(f, 14, 20 + piece.len);
    ipv4.setFragment(f, 14, piece.offset, piece.more);
    add(`IPv4 fragment at ${piece.offset}${piece.more ? ', more follow' : ', last'}`, f);
  }
  return frames;
}
