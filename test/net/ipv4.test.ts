import { describe, expect, it } from 'vitest';
import { formatIpv4, formatMac, parseIpv4, parseMac } from '../../src/packet/addr.js';
import { verifies } from '../../src/packet/checksum.js';
import * as ethernet from '../../src/packet/ethernet.js';
import * as icmp from '../../src/packet/icmp.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import { RawIcmpSocket, type RawIcmpMessage } from '../../src/net/raw-socket.js';
import type { Netns } from '../../src/net/netns.js';
import { icmpFrame } from '../helpers/build.js';
import { TraceRecorder, skbOf, tapCaptureProblems } from '../helpers/net-kit.js';
import { CNI0_MAC, EXT_ETH0_MAC, N1_ETH0_MAC, PA_MAC, PB_MAC, routedTopology } from '../helpers/routed-topology.js';
import type { Recorded } from '../helpers/topology.js';

const PA = '10.244.1.2';
const PB = '10.244.1.3';
const CNI0 = '10.244.1.1';
const N1_ETH0 = '192.168.1.10';
const EXT = '192.168.1.20';
const ECHO_DATA = Uint8Array.from({ length: 56 }, (_, i) => (i * 7) & 0xff);
const ETH = ethernet.HEADER_LEN;

function lab() {
  const r = routedTopology();
  const pa = r.pods[0]!;
  const pb = r.pods[1]!;
  const paEth = pa.device('eth0')!;
  const pbEth = pb.device('eth0')!;
  const traces = { n1: new TraceRecorder(), pa: new TraceRecorder(), ext: new TraceRecorder() };
  r.node.trace = traces.n1;
  pa.trace = traces.pa;
  r.ext.trace = traces.ext;
  const listen = (ns: Netns) => {
    const sock = new RawIcmpSocket(ns);
    const got: RawIcmpMessage[] = [];
    sock.onMessage = (m) => {
      got.push(m);
    };
    return { sock, got };
  };
  const paSock = listen(pa);
  const extSock = listen(r.ext);
  const settle = (): void => {
    r.sched.run(r.sched.nowNs + 1_000_000);
  };
  const ping = (dst: string, seq = 1, data: Uint8Array = ECHO_DATA): void => {
    expect(paSock.sock.send(parseIpv4(dst), { type: icmp.TYPE_ECHO_REQUEST, code: 0, rest: icmp.echoRest(0x77, seq) }, data)).toBeUndefined();
    settle();
  };
  const ipFrames = (where: string, dir: 'rx' | 'tx'): Recorded[] =>
    r.tap.at(where).filter((f) => f.dir === dir && ethernet.ethertype(f.bytes, 0) === ethernet.ETHERTYPE_IPV4);
  /** Sends a hand-built frame out of `dev` (as that host's driver would) and lets it travel. */
  const inject = (dev: { transmit(s: ReturnType<typeof skbOf>): void }, frame: Uint8Array): void => {
    dev.transmit(skbOf(frame));
    settle();
  };
  return { ...r, pa, pb, paEth, pbEth, traces, paSock, extSock, settle, ping, ipFrames, inject };
}

/** An ICMP echo request frame from pa, addressed at layer 2 to cni0 (its gateway). */
function echoFromPa(dst: string, ip: Partial<ipv4.Ipv4Repr> = {}, data: Uint8Array = ECHO_DATA, ethDst = CNI0_MAC): Buffer {
  return icmpFrame({
    src: PA, dst, ip: { ttl: 64, dontFragment: true, id: 0x1234, ...ip },
    eth: { dst: parseMac(ethDst), src: parseMac(PA_MAC) },
    icmp: { type: icmp.TYPE_ECHO_REQUEST, code: 0, rest: icmp.echoRest(0x99, 1) }, data,
  });
}

/** An ICMP echo request frame from ext, addressed at layer 2 to n1's eth0. */
function echoFromExt(dst: string, ip: Partial<ipv4.Ipv4Repr> = {}, ethDst = N1_ETH0_MAC): Buffer {
  return icmpFrame({
    src: EXT, dst, ip: { ttl: 64, id: 0x4321, ...ip },
    eth: { dst: parseMac(ethDst), src: parseMac(EXT_ETH0_MAC) },
    icmp: { type: icmp.TYPE_ECHO_REQUEST, code: 0, rest: icmp.echoRest(0x55, 9) }, data: ECHO_DATA,
  });
}

/** ip_decrease_ttl's checksum: check += htons(0x0100), plus the carry when it reaches 0xffff. */
function linuxDecreasedTtlChecksum(old: number): number {
  const c = old + 0x0100;
  return (c + (c >= 0xffff ? 1 : 0)) & 0xffff;
}

/** The parts of an ICMP error message a test checks, from the whole IPv4 packet. */
function icmpError(packet: Uint8Array) {
  const p = Buffer.from(packet);
  const ip = ipv4.parse(p);
  const l4 = ip.options.length + ipv4.HEADER_LEN;
  const m = icmp.parse(p, l4, ipv4.HEADER_LEN + ip.options.length + ip.payloadLen);
  return {
    ip: {
      src: formatIpv4(ip.src), dst: formatIpv4(ip.dst), tos: ip.tos, ttl: ip.ttl, df: ip.dontFragment,
      mf: ip.moreFragments, offset: ip.fragmentOffset, protocol: ip.protocol, totalLen: ipv4.totalLength(p, 0),
    },
    type: m.type, code: m.code, rest: m.rest,
    checksumOk: verifies(p, l4, p.length),
    quote: p.subarray(l4 + icmp.HEADER_LEN),
  };
}

describe('ipv4 forwarding (ip_forward)', () => {
  it('decrements TTL by exactly one and patches the header checksum as ip_decrease_ttl does; nothing else changes', () => {
    const l = lab();
    l.ping(EXT);
    const [sent] = l.ipFrames('pa/eth0', 'tx');
    const [fwd] = l.ipFrames('n1/eth0', 'tx');
    expect(sent && fwd).toBeTruthy();
    const a = sent!.bytes;
    const b = fwd!.bytes;
    expect(b.length).toBe(a.length);
    // Layer 2 rewritten for the next hop: n1's eth0 to ext.
    expect([formatMac(ethernet.src(b, 0)), formatMac(ethernet.dst(b, 0))]).toEqual([N1_ETH0_MAC, EXT_ETH0_MAC]);
    expect(ipv4.ttl(a, ETH)).toBe(64);
    expect(ipv4.ttl(b, ETH)).toBe(63);
    expect(ipv4.checksum(b, ETH)).toBe(linuxDecreasedTtlChecksum(ipv4.checksum(a, ETH)));
    expect(ipv4.hasValidChecksum(b, ETH)).toBe(true);
    // Every other byte of the IPv4 header and everything after it is as pa sent it.
    const mask = (f: Buffer): Buffer => {
      const c = Buffer.from(f.subarray(ETH));
      c[8] = 0;
      c[10] = 0;
      c[11] = 0;
      return c;
    };
    expect(mask(b)).toEqual(mask(a));
    // The reply comes back through n1 the same way: 64 from ext, 63 at pa.
    const [reply] = l.ipFrames('pa/eth0', 'rx');
    expect(ipv4.ttl(l.ipFrames('ext/eth0', 'tx')[0]!.bytes, ETH)).toBe(64);
    expect(ipv4.ttl(reply!.bytes, ETH)).toBe(63);
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it('patches the checksum right across the carry, for several TTLs (header checksum verifies after every hop)', () => {
    const l = lab();
    // IDs chosen so the original checksum sits near 0xffff, where the end-around carry matters.
    const near = (ttl: number): number => {
      for (let id = 0; id < 0x10000; id++) {
        const f = echoFromExt(PA, { ttl, id });
        if (ipv4.checksum(f, ETH) >= 0xff00) return id;
      }
      throw new Error('no id found');
    };
    for (const ttl of [2, 64, 255]) {
      const id = near(ttl);
      const frame = echoFromExt(PA, { ttl, id });
      l.tap.frames.length = 0;
      l.inject(l.extEth0, frame);
      const [got] = l.ipFrames('pa/eth0', 'rx');
      expect(got, `ttl ${ttl}`).toBeDefined();
      expect(ipv4.ttl(got!.bytes, ETH)).toBe(ttl - 1);
      expect(ipv4.checksum(got!.bytes, ETH)).toBe(linuxDecreasedTtlChecksum(ipv4.checksum(frame, ETH)));
      expect(ipv4.hasValidChecksum(got!.bytes, ETH), `ttl ${ttl} id ${id}`).toBe(true);
    }
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it('strips Ethernet padding before forwarding (pskb_trim_rcsum): a 42-byte packet padded to 60 leaves as 42', () => {
    const l = lab();
    const short = icmpFrame({
      src: EXT, dst: PA, ip: { id: 7 }, eth: { dst: parseMac(N1_ETH0_MAC), src: parseMac(EXT_ETH0_MAC) },
      icmp: { type: icmp.TYPE_ECHO_REQUEST, code: 0, rest: icmp.echoRest(1, 1) }, data: new Uint8Array(0),
    });
    expect(short.length).toBe(42);
    const padded = Buffer.concat([short, Buffer.alloc(18, 0xee)]);
    l.inject(l.extEth0, padded);
    const [got] = l.ipFrames('pa/eth0', 'rx');
    expect(got!.bytes.length).toBe(42);
    expect(got!.bytes.subarray(ETH + 20)).toEqual(short.subarray(ETH + 20));
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it('TTL 1: ICMP time exceeded (11/0) from the router’s address on the route back, TOS 0xc0, DF clear, quoting the datagram', () => {
    const l = lab();
    const frame = echoFromPa(EXT, { ttl: 1 });
    l.inject(l.paEth, frame);
    expect(l.ipFrames('n1/eth0', 'tx')).toEqual([]);
    expect(l.paSock.got.length).toBe(1);
    const e = icmpError(l.paSock.got[0]!.packet);
    const origLen = frame.length - ETH;
    expect(origLen).toBe(84);
    expect(e.ip).toEqual({ src: CNI0, dst: PA, tos: 0xc0, ttl: 64, df: false, mf: false, offset: 0, protocol: ipv4.PROTO_ICMP, totalLen: 20 + 8 + icmp.linuxQuoteLen(origLen) });
    expect([e.type, e.code, e.rest, e.checksumOk]).toEqual([icmp.TYPE_TIME_EXCEEDED, icmp.TTL_EXCEEDED_IN_TRANSIT, 0, true]);
    // The quote is the datagram as it arrived (TTL still 1), from its IPv4 header on.
    expect(e.quote).toEqual(frame.subarray(ETH, ETH + icmp.linuxQuoteLen(origLen)));
    // On the wire to pa: from cni0's MAC.
    const [wire] = l.ipFrames('pa/eth0', 'rx');
    expect([formatMac(ethernet.src(wire!.bytes, 0)), formatMac(ethernet.dst(wire!.bytes, 0))]).toEqual([CNI0_MAC, PA_MAC]);
    expect(l.traces.n1.events.filter((x) => x.event !== 'route').map((x) => [x.event, x.detail])).toEqual([
      ['icmp-error', 'ICMP type 11 code 0 to the sender'],
      ['drop', 'ip: TTL exceeded in transit'],
    ]);
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it('TTL 1 from the other side: the error comes from n1’s eth0 address, the one its route back to ext prefers', () => {
    const l = lab();
    l.inject(l.extEth0, echoFromExt(PA, { ttl: 1 }));
    expect(l.extSock.got.length).toBe(1);
    const e = icmpError(l.extSock.got[0]!.packet);
    expect([e.ip.src, e.ip.dst, e.type, e.code]).toEqual([N1_ETH0, EXT, 11, 0]);
    expect(l.ipFrames('n1/cni0', 'tx')).toEqual([]);
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it.each([
    ['0x00', 0x00, 0xc0],
    ['0x10', 0x10, 0xd0],
  ])('the error’s TOS for an offending TOS %s is RT_TOS(tos) | IPTOS_PREC_INTERNETCONTROL', (_name, tos, expected) => {
    const l = lab();
    l.inject(l.paEth, echoFromPa(EXT, { ttl: 1, tos }));
    expect(icmpError(l.paSock.got[0]!.packet).ip.tos).toBe(expected);
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it('quotes at most 576 − 20 − 8 bytes of a large datagram (__icmp_send), so the error is exactly 576 bytes', () => {
    const l = lab();
    const frame = echoFromPa(EXT, { ttl: 1 }, Uint8Array.from({ length: 972 }, (_, i) => i & 0xff));
    expect(frame.length - ETH).toBe(1000);
    l.inject(l.paEth, frame);
    const e = icmpError(l.paSock.got[0]!.packet);
    expect(icmp.linuxQuoteLen(1000)).toBe(548);
    expect(e.ip.totalLen).toBe(576);
    expect(e.quote).toEqual(frame.subarray(ETH, ETH + 548));
    expect(e.checksumOk).toBe(true);
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it('no route: ICMP net unreachable (3/0) from the router, TOS 0xc0, DF clear, quoting the datagram', () => {
    const l = lab();
    l.ping('8.8.8.8');
    expect(l.ipFrames('n1/eth0', 'tx')).toEqual([]);
    const request = l.ipFrames('pa/eth0', 'tx')[0]!.bytes;
    expect(l.paSock.got.length).toBe(1);
    const e = icmpError(l.paSock.got[0]!.packet);
    expect(e.ip).toEqual({ src: CNI0, dst: PA, tos: 0xc0, ttl: 64, df: false, mf: false, offset: 0, protocol: 1, totalLen: 20 + 8 + 84 });
    expect([e.type, e.code, e.rest, e.checksumOk]).toEqual([icmp.TYPE_DEST_UNREACHABLE, icmp.NET_UNREACHABLE, 0, true]);
    // The quote is the datagram as n1 received it: TTL 64, not decremented.
    expect(e.quote).toEqual(request.subarray(ETH));
    expect(l.traces.n1.drops()).toEqual(['n1/cni0: ip: no route to the destination']);
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it('no route and TTL 1: still net unreachable — the input route lookup fails before ip_forward looks at the TTL (ip_route_input_slow → ip_error)', () => {
    const l = lab();
    l.inject(l.paEth, echoFromPa('8.8.8.8', { ttl: 1 }));
    expect(l.paSock.got.length).toBe(1);
    const e = icmpError(l.paSock.got[0]!.packet);
    expect([e.type, e.code]).toEqual([icmp.TYPE_DEST_UNREACHABLE, icmp.NET_UNREACHABLE]);
  });

  it('an `unreachable` route answers host unreachable (fib_props: -EHOSTUNREACH → ip_error: ICMP_HOST_UNREACH)', () => {
    const l = lab();
    l.node.addRoute({ dst: parseIpv4('8.8.8.0'), prefixLen: 24, type: 'unreachable' });
    l.ping('8.8.8.8');
    expect(l.paSock.got.length).toBe(1);
    const e = icmpError(l.paSock.got[0]!.packet);
    expect([e.ip.src, e.type, e.code]).toEqual([CNI0, icmp.TYPE_DEST_UNREACHABLE, icmp.HOST_UNREACHABLE]);
  });

  it('a `blackhole` route drops silently (fib_props: -EINVAL → ip_error sends nothing)', () => {
    const l = lab();
    l.node.addRoute({ dst: parseIpv4('8.8.8.0'), prefixLen: 24, type: 'blackhole' });
    l.ping('8.8.8.8');
    expect(l.paSock.got).toEqual([]);
    expect(l.ipFrames('pa/eth0', 'rx')).toEqual([]);
  });

  it('net.ipv4.ip_forward=0: the packet is dropped with a trace event and nothing is sent back or on', () => {
    const l = lab();
    l.node.sysctl.ipForward = false;
    l.ping(EXT);
    expect(l.ipFrames('n1/cni0', 'rx').length).toBe(1); // it did reach n1
    expect(l.ipFrames('n1/eth0', 'tx')).toEqual([]);
    expect(l.ipFrames('pa/eth0', 'rx')).toEqual([]);
    expect(l.paSock.got).toEqual([]);
    expect(l.traces.n1.drops()).toEqual(['n1/cni0: ip: forwarding disabled (net.ipv4.ip_forward=0)']);
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it('ignores frames that are not for its MAC (PACKET_OTHERHOST), silently; the same frame to its MAC is forwarded', () => {
    const l = lab();
    l.inject(l.extEth0, echoFromExt(PA, {}, '0e:00:00:00:0a:99'));
    expect(l.ipFrames('n1/eth0', 'rx').length).toBe(1);
    expect(l.tap.at('n1/cni0')).toEqual([]);
    expect(l.tap.at('pa/eth0')).toEqual([]);
    expect(l.traces.n1.events).toEqual([]);
    expect(l.extSock.got).toEqual([]);

    l.inject(l.extEth0, echoFromExt(PA));
    expect(l.ipFrames('pa/eth0', 'rx').length).toBe(1);
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it('does not forward a link-layer broadcast addressed to another host (ip_forward: pkt_type != PACKET_HOST)', () => {
    const l = lab();
    l.inject(l.extEth0, echoFromExt(PA, {}, 'ff:ff:ff:ff:ff:ff'));
    expect(l.ipFrames('pa/eth0', 'rx')).toEqual([]);
    expect(l.traces.n1.drops()).toEqual(['n1/eth0: ip: link-layer broadcast to a foreign address']);
  });

  it('drops a datagram whose header checksum is wrong (ip_rcv_core), and sends nothing about it', () => {
    const l = lab();
    const frame = echoFromExt(PA);
    frame[ETH + 10]! ^= 0x01;
    expect(ipv4.hasValidChecksum(frame, ETH)).toBe(false);
    l.inject(l.extEth0, frame);
    expect(l.tap.at('n1/cni0')).toEqual([]);
    expect(l.ipFrames('pa/eth0', 'rx')).toEqual([]);
    expect(l.extSock.got).toEqual([]);
    expect(l.traces.n1.drops()).toEqual(['n1/eth0: ip: bad header checksum']);
    // The capture check sees the bad frame where it was on the wire, and nothing else anywhere.
    const problems = tapCaptureProblems(l.tap);
    expect(Object.keys(problems).sort()).toEqual(['ext/eth0', 'n1/eth0']);
    for (const list of Object.values(problems)) {
      expect(list.length).toBeGreaterThan(0);
      for (const p of list) expect(p.frame).toBe(1);
      expect(list.some((p) => /checksum/i.test(p.problem))).toBe(true);
    }
  });

  it.each([
    ['a version other than 4', (f: Buffer) => { f[ETH] = 0x65; }],
    ['an IHL below 5', (f: Buffer) => { f[ETH] = 0x44; }],
    ['a total length beyond the frame', (f: Buffer) => { ipv4.setTotalLength(f, ETH, f.length - ETH + 1); }],
    ['a total length below the header', (f: Buffer) => { ipv4.setTotalLength(f, ETH, 19); }],
  ])('drops a datagram with %s', (_what, damage) => {
    // (No capture check: tshark rightly flags the damaged frame where it was on the wire.)
    const l = lab();
    const frame = echoFromExt(PA);
    damage(frame);
    l.inject(l.extEth0, frame);
    expect(l.tap.at('n1/cni0')).toEqual([]);
    expect(l.traces.n1.drops().length).toBe(1);
    expect(l.extSock.got).toEqual([]);
  });
});

describe('ipv4 local delivery: ICMP echo (icmp_echo → icmp_reply)', () => {
  it('answers an echo request: addresses swapped, id, seq and data kept, DF clear, TTL 64, checksum valid', () => {
    const l = lab();
    l.ping(PB, 3);
    const request = l.ipFrames('pa/eth0', 'tx')[0]!.bytes;
    expect(ipv4.isDontFragment(request, ETH)).toBe(true); // ping's socket sets DF (IP_PMTUDISC_WANT)
    expect(l.paSock.got.length).toBe(1);
    const p = Buffer.from(l.paSock.got[0]!.packet);
    const ip = ipv4.parse(p);
    expect([formatIpv4(ip.src), formatIpv4(ip.dst), ip.ttl, ip.tos, ip.dontFragment, ip.protocol, ip.payloadLen]).toEqual([PB, PA, 64, 0, false, 1, 64]);
    const m = icmp.parse(p, 20);
    expect([m.type, m.code, icmp.echoId(p, 20), icmp.echoSeq(p, 20)]).toEqual([icmp.TYPE_ECHO_REPLY, 0, 0x77, 3]);
    expect(p.subarray(28)).toEqual(Buffer.from(ECHO_DATA));
    // Only type and checksum differ from the request's ICMP message.
    const req = Buffer.from(request.subarray(ETH + 20));
    const rep = Buffer.from(p.subarray(20));
    for (const b of [req, rep]) b.fill(0, 0, 1).fill(0, 2, 4);
    expect(rep).toEqual(req);
    // On the wire: from pb's MAC to pa's.
    const wire = l.ipFrames('pa/eth0', 'rx')[0]!.bytes;
    expect([formatMac(ethernet.src(wire, 0)), formatMac(ethernet.dst(wire, 0))]).toEqual([PB_MAC, PA_MAC]);
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it('keeps the request’s TOS in the reply (icmp_reply: ipc.tos = ip_hdr(skb)->tos)', () => {
    const l = lab();
    l.inject(l.paEth, echoFromPa(PB, { tos: 0x10 }, ECHO_DATA, PB_MAC));
    const p = l.paSock.got[0]!.packet;
    expect([ipv4.tos(p, 0), icmp.type(p, 20)]).toEqual([0x10, icmp.TYPE_ECHO_REPLY]);
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it.each([
    [CNI0, CNI0],
    [N1_ETH0, N1_ETH0],
  ])('the node answers a request for %s from that address, whichever device holds it', (dst, src) => {
    const l = lab();
    l.ping(dst);
    expect(l.paSock.got.length).toBe(1);
    const p = l.paSock.got[0]!.packet;
    expect([formatIpv4(ipv4.src(p, 0)), icmp.type(p, 20)]).toEqual([src, icmp.TYPE_ECHO_REPLY]);
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it('answers a request sent to a bridge port’s MAC: the port decided PACKET_HOST, br_pass_frame_up keeps it', () => {
    // pb addresses n1 by veth1's MAC (a local FDB entry of cni0, not cni0's own MAC): Linux's
    // eth_type_trans on veth1 marks it PACKET_HOST, the bridge passes it up, ip_rcv accepts it.
    const l = lab();
    const veth1Mac = '0a:00:00:00:01:02';
    const frame = icmpFrame({
      src: PB, dst: CNI0, ip: { id: 5 }, eth: { dst: parseMac(veth1Mac), src: parseMac(PB_MAC) },
      icmp: { type: icmp.TYPE_ECHO_REQUEST, code: 0, rest: icmp.echoRest(1, 1) }, data: ECHO_DATA,
    });
    l.inject(l.pbEth, frame);
    // Passed up once (the other frame cni0 takes in is pb's ARP reply: n1 resolves pb to answer).
    expect(l.ipFrames('n1/cni0', 'rx').filter((f) => icmp.type(f.bytes, ETH + 20) === icmp.TYPE_ECHO_REQUEST).length).toBe(1);
    const replies = l.ipFrames('pb/eth0', 'rx').filter((f) => icmp.type(f.bytes, ETH + 20) === icmp.TYPE_ECHO_REPLY);
    expect(replies.length).toBe(1);
  });
});
