import { describe, expect, it } from 'vitest';
import { formatIpv4, formatMac, parseIpv4, parseMac } from '../../src/packet/addr.js';
import * as arp from '../../src/packet/arp.js';
import { verifies } from '../../src/packet/checksum.js';
import * as ethernet from '../../src/packet/ethernet.js';
import * as icmp from '../../src/packet/icmp.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import { LOOPBACK_DELAY_NS, type NetDevice } from '../../src/net/device.js';
import { ipOutput, routeOutput } from '../../src/net/ip-output.js';
import { LINUX_NEIGH_DEFAULTS, NudState } from '../../src/net/neighbour.js';
import type { Netns } from '../../src/net/netns.js';
import { RawIcmpSocket, type RawIcmpMessage } from '../../src/net/raw-socket.js';
import { ipNeigh } from '../../src/net/render/iproute.js';
import { icmpFrame } from '../helpers/build.js';
import { TraceRecorder, arpFrame, skbOf, stepUntil, tapCaptureProblems } from '../helpers/net-kit.js';
import { sameNodeTopology } from '../helpers/topology.js';

const SEC = 1e9;
const PA_MAC = '0e:00:00:00:02:01';
const PB_MAC = '0e:00:00:00:02:02';
const NEW_MAC = '0e:00:00:00:02:99';
const ZERO_MAC = '00:00:00:00:00:00';
const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const PA = '10.244.1.2';
const PB = '10.244.1.3';
const ECHO_DATA = Uint8Array.from({ length: 56 }, (_, i) => i);

/** sameNodeTopology with a raw ICMP socket in pod pa (what ping opens) and a trace on pa. */
function lab(seed = 1) {
  const t = sameNodeTopology(seed);
  const pa = t.pods[0]!;
  const pb = t.pods[1]!;
  const paEth = pa.device('eth0')!;
  const pbEth = pb.device('eth0')!;
  const trace = new TraceRecorder();
  pa.trace = trace;
  const sock = new RawIcmpSocket(pa);
  const received: RawIcmpMessage[] = [];
  sock.onMessage = (m) => {
    received.push(m);
  };
  const ping = (dst: string, seq = 1): void => {
    expect(sock.send(parseIpv4(dst), { type: icmp.TYPE_ECHO_REQUEST, code: 0, rest: icmp.echoRest(0x4242, seq) }, ECHO_DATA)).toBeUndefined();
  };
  const entry = (ns: Netns, dev: NetDevice, ip: string) => ns.neigh.lookup(dev, parseIpv4(ip));
  const arpOf = (bytes: Buffer) => (ethernet.ethertype(bytes, 0) === ethernet.ETHERTYPE_ARP ? arp.parse(bytes, ethernet.HEADER_LEN) : undefined);
  /** ARP frames a capture point saw: direction, time, eth dst, op, sender ip, target ip. */
  const arps = (where: string) =>
    t.tap.at(where).flatMap((f) => {
      const r = arpOf(f.bytes);
      return r ? [{ dir: f.dir, timeNs: f.timeNs, ethDst: formatMac(ethernet.dst(f.bytes, 0)), op: r.op, senderIp: formatIpv4(r.senderIp), targetIp: formatIpv4(r.targetIp), targetMac: formatMac(r.targetMac) }] : [];
    });
  const settle = (): void => {
    t.sched.run(t.sched.nowNs + 100_000);
  };
  return { ...t, pa, pb, paEth, pbEth, trace, sock, received, ping, entry, arps, settle };
}

type Lab = ReturnType<typeof lab>;

/** Every NUD state change of one entry from now to `untilNs`, with its time. */
function watchStates(l: Lab, ns: Netns, dev: NetDevice, ip: string, untilNs: number): Array<[number, string]> {
  const changes: Array<[number, string]> = [];
  let last = l.entry(ns, dev, ip)?.state;
  stepUntil(l.sched, untilNs, (now) => {
    const s = l.entry(ns, dev, ip)?.state;
    if (s !== last) changes.push([now, s === undefined ? 'gone' : NudState[s]]);
    last = s;
  });
  return changes;
}

describe('neighbour: Linux defaults (ip-sysctl.rst, neigh/default)', () => {
  it('base_reachable_time 30 s, retrans_time 1 s, delay_first_probe_time 5 s, 3 unicast and 3 multicast probes, no app probes', () => {
    expect(LINUX_NEIGH_DEFAULTS).toEqual({
      baseReachableTimeNs: 30 * SEC,
      retransTimeNs: 1 * SEC,
      delayFirstProbeTimeNs: 5 * SEC,
      ucastSolicit: 3,
      mcastSolicit: 3,
      appSolicit: 0,
      unresQlenBytes: 212_992,
    });
  });
});

describe('neighbour: resolution (__neigh_event_send, arp_solicit)', () => {
  it('queues the first packet, broadcasts an ARP request from the packet’s source, sends the packet when the reply arrives', () => {
    const l = lab();
    const t0 = l.sched.nowNs;
    l.ping(PB);
    const n = l.entry(l.pa, l.paEth, PB)!;
    expect(n.state).toBe(NudState.Incomplete);
    expect(n.queue.length).toBe(1);
    expect(ipNeigh(l.pa)).toBe(`${PB} dev eth0 INCOMPLETE \n`);
    // Nothing but the request has left yet: the echo request waits in the queue.
    expect(l.tap.at('pa/eth0').map((f) => [f.dir, f.timeNs, f.bytes])).toEqual([
      ['tx', t0, arpFrame({ ethDst: BROADCAST, ethSrc: PA_MAC, op: arp.OP_REQUEST, senderMac: PA_MAC, senderIp: PA, targetMac: ZERO_MAC, targetIp: PB })],
    ]);

    l.settle();
    const reply = l.tap.at('pa/eth0').find((f) => f.dir === 'rx' && arp.op(f.bytes, 14) === arp.OP_REPLY)!;
    expect(reply.bytes).toEqual(arpFrame({ ethDst: PA_MAC, ethSrc: PB_MAC, op: arp.OP_REPLY, senderMac: PB_MAC, senderIp: PB, targetMac: PA_MAC, targetIp: PA }));
    const echo = l.tap.at('pa/eth0').find((f) => f.dir === 'tx' && ethernet.ethertype(f.bytes, 0) === ethernet.ETHERTYPE_IPV4)!;
    expect(echo.timeNs).toBe(reply.timeNs); // out in the same instant the reply came in
    expect(formatMac(ethernet.dst(echo.bytes, 0))).toBe(PB_MAC);
    expect(icmp.echoSeq(echo.bytes, 34)).toBe(1);
    expect(n.state).toBe(NudState.Reachable);
    expect(n.queue.length).toBe(0);
    expect(ipNeigh(l.pa)).toBe(`${PB} dev eth0 lladdr ${PB_MAC} REACHABLE \n`);
    // Exactly one request was needed.
    expect(l.arps('pa/eth0').filter((a) => a.dir === 'tx').length).toBe(1);
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it('asks with the queued packet’s source address when it is one of ours (arp_announce 0), even if not the primary', () => {
    const l = lab();
    l.pa.addAddress(l.paEth, parseIpv4('10.244.1.50'), 24);
    const frame = icmpFrame({ src: '10.244.1.50', dst: PB, icmp: { type: icmp.TYPE_ECHO_REQUEST, code: 0, rest: icmp.echoRest(1, 1) }, data: ECHO_DATA });
    const skb = skbOf(frame.subarray(ethernet.HEADER_LEN));
    ipOutput(l.pa, skb, routeOutput(l.pa, parseIpv4(PB))!);
    expect(l.arps('pa/eth0')).toEqual([
      { dir: 'tx', timeNs: l.sched.nowNs, ethDst: BROADCAST, op: arp.OP_REQUEST, senderIp: '10.244.1.50', targetIp: PB, targetMac: ZERO_MAC },
    ]);
  });

  it('asks with the device’s address when the packet’s source is not one of ours (inet_select_addr)', () => {
    const l = lab();
    const frame = icmpFrame({ src: '10.9.9.9', dst: PB, icmp: { type: icmp.TYPE_ECHO_REQUEST, code: 0, rest: icmp.echoRest(1, 1) }, data: ECHO_DATA });
    ipOutput(l.pa, skbOf(frame.subarray(ethernet.HEADER_LEN)), routeOutput(l.pa, parseIpv4(PB))!);
    expect(l.arps('pa/eth0').map((a) => a.senderIp)).toEqual([PA]);
  });

  it('keeps later packets in the queue behind the first and sends them all, in order, on the reply', () => {
    const l = lab();
    l.ping(PB, 1);
    l.ping(PB, 2);
    l.ping(PB, 3);
    expect(l.entry(l.pa, l.paEth, PB)!.queue.length).toBe(3);
    expect(l.arps('pa/eth0').length).toBe(1); // one request, not one per packet
    l.settle();
    const echoes = l.tap.at('pa/eth0').filter((f) => f.dir === 'tx' && ethernet.ethertype(f.bytes, 0) === ethernet.ETHERTYPE_IPV4);
    expect(echoes.slice(0, 3).map((f) => icmp.echoSeq(f.bytes, 34))).toEqual([1, 2, 3]);
  });

  it('without a reply: requests at t, t+1 s, t+2 s; FAILED at t+3 s; ICMP host unreachable from itself to the local sender', () => {
    const l = lab();
    const t0 = l.sched.nowNs;
    l.ping('10.244.1.77', 1);
    l.ping('10.244.1.77', 2);
    const states = watchStates(l, l.pa, l.paEth, '10.244.1.77', t0 + 10 * SEC);
    expect(states).toEqual([[t0 + 3 * SEC, 'Failed']]);
    expect(l.arps('pa/eth0').filter((a) => a.dir === 'tx')).toEqual(
      [0, 1, 2].map((k) => ({ dir: 'tx', timeNs: t0 + k * SEC, ethDst: BROADCAST, op: arp.OP_REQUEST, senderIp: PA, targetIp: '10.244.1.77', targetMac: ZERO_MAC })),
    );
    expect(ipNeigh(l.pa)).toBe('10.244.1.77 dev eth0 FAILED \n');
    const failed = l.trace.events.filter((e) => e.event === 'arp-failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(new Set(failed.map((e) => `${e.timeNs} ${e.dev}`))).toEqual(new Set([`${t0 + 3 * SEC} eth0`]));

    // One error per queued packet (neigh_invalidate → ipv4_link_failure → icmp_send), through lo.
    expect(l.received.length).toBe(2);
    l.received.forEach((m, i) => {
      expect(m.timeNs).toBe(t0 + 3 * SEC + LOOPBACK_DELAY_NS);
      const p = Buffer.from(m.packet);
      const ip = ipv4.parse(p);
      expect([formatIpv4(ip.src), formatIpv4(ip.dst), ip.protocol, ip.tos, ip.dontFragment, ip.ttl]).toEqual([PA, PA, 1, 0xc0, false, 64]);
      const e = icmp.parse(p, 20);
      expect([e.type, e.code, e.rest]).toEqual([icmp.TYPE_DEST_UNREACHABLE, icmp.HOST_UNREACHABLE, 0]);
      expect(verifies(p, 20, p.length)).toBe(true);
      // The quote: the whole 84-byte echo request (it fits in 576 bytes), from its IPv4 header on.
      expect(e.payloadLen).toBe(icmp.linuxQuoteLen(84));
      const q = ipv4.parse(p, 28);
      expect([formatIpv4(q.src), formatIpv4(q.dst), q.ttl, q.dontFragment, q.payloadLen]).toEqual([PA, '10.244.1.77', 64, true, 64]);
      expect(icmp.echoSeq(p, 48)).toBe(i + 1);
      expect(p.subarray(56)).toEqual(Buffer.from(ECHO_DATA));
    });
    // Through lo: out at the moment of failure, back in one loopback hand-off later.
    expect(l.tap.at('pa/lo').map((f) => [f.dir, f.timeNs - t0 - 3 * SEC])).toEqual([
      ['tx', 0], ['tx', 0], ['rx', LOOPBACK_DELAY_NS], ['rx', LOOPBACK_DELAY_NS],
    ]);
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it('after FAILED, the next packet starts a new resolution (INCOMPLETE, broadcast request)', () => {
    const l = lab();
    l.ping('10.244.1.77');
    l.sched.run(l.sched.nowNs + 4 * SEC);
    const t1 = l.sched.nowNs;
    l.ping('10.244.1.77', 2);
    expect(l.entry(l.pa, l.paEth, '10.244.1.77')!.state).toBe(NudState.Incomplete);
    expect(l.arps('pa/eth0').filter((a) => a.timeNs === t1).map((a) => a.ethDst)).toEqual([BROADCAST]);
  });
});

describe('neighbour: NUD timers (neigh_timer_handler)', () => {
  /** pa pings pb once; returns when pa's entry became REACHABLE. */
  function resolved(seed = 1) {
    const l = lab(seed);
    l.ping(PB);
    l.settle();
    const n = l.entry(l.pa, l.paEth, PB)!;
    expect(n.state).toBe(NudState.Reachable);
    return { l, reachableAtNs: n.confirmedNs };
  }

  it('REACHABLE turns STALE when unused, after a reachable time in [15 s, 45 s) (neigh_rand_reach_time)', () => {
    const { l, reachableAtNs } = resolved();
    const states = watchStates(l, l.pa, l.paEth, PB, reachableAtNs + 60 * SEC);
    expect(states.length).toBe(1);
    const [staleAt, state] = states[0]!;
    expect(state).toBe('Stale');
    expect(staleAt - reachableAtNs).toBeGreaterThanOrEqual(15 * SEC);
    expect(staleAt - reachableAtNs).toBeLessThan(45 * SEC);
    expect(ipNeigh(l.pa)).toBe(`${PB} dev eth0 lladdr ${PB_MAC} STALE \n`);
  });

  it('the reachable time is drawn per netns from the seed: equal across runs, different between netns', () => {
    const reachableFor = (seed: number): [number, number] => {
      const l = lab(seed);
      l.ping(PB);
      // pb learns pa from the request (STALE), uses it for the reply (DELAY), probes 5 s on and is
      // answered (REACHABLE): both ends then have a REACHABLE entry, each timed by its own netns.
      l.sched.run(l.sched.nowNs + 6 * SEC);
      const a = l.entry(l.pa, l.paEth, PB)!;
      const b = l.entry(l.pb, l.pbEth, PA)!;
      expect([a.state, b.state]).toEqual([NudState.Reachable, NudState.Reachable]);
      const aConfirmed = a.confirmedNs;
      const bConfirmed = b.confirmedNs;
      let aStale = 0;
      let bStale = 0;
      stepUntil(l.sched, l.sched.nowNs + 60 * SEC, (now) => {
        if (!aStale && a.state === NudState.Stale) aStale = now;
        if (!bStale && b.state === NudState.Stale) bStale = now;
      });
      return [aStale - aConfirmed, bStale - bConfirmed];
    };
    const [pa1, pb1] = reachableFor(1);
    for (const v of [pa1, pb1]) {
      expect(v).toBeGreaterThanOrEqual(15 * SEC);
      expect(v).toBeLessThan(45 * SEC);
    }
    expect(pa1).not.toBe(pb1);
    expect(reachableFor(1)).toEqual([pa1, pb1]);
    expect(reachableFor(2)).not.toEqual([pa1, pb1]);
  });

  it('STALE on use: DELAY at once (the packet goes out without ARP), PROBE 5 s later with a unicast request, REACHABLE on the reply', () => {
    const { l, reachableAtNs } = resolved();
    l.sched.run(reachableAtNs + 50 * SEC);
    expect(l.entry(l.pa, l.paEth, PB)!.state).toBe(NudState.Stale);
    l.tap.frames.length = 0;
    const tUse = l.sched.nowNs;
    l.ping(PB, 2);
    expect(l.entry(l.pa, l.paEth, PB)!.state).toBe(NudState.Delay);
    expect(ipNeigh(l.pa)).toBe(`${PB} dev eth0 lladdr ${PB_MAC} DELAY \n`);
    const sent = l.tap.at('pa/eth0');
    expect(sent.map((f) => [f.dir, f.timeNs, ethernet.ethertype(f.bytes, 0), formatMac(ethernet.dst(f.bytes, 0))])).toEqual([
      ['tx', tUse, ethernet.ETHERTYPE_IPV4, PB_MAC],
    ]);

    const states = watchStates(l, l.pa, l.paEth, PB, tUse + 5 * SEC);
    expect(states).toEqual([[tUse + 5 * SEC, 'Probe']]);
    expect(ipNeigh(l.pa)).toBe(`${PB} dev eth0 lladdr ${PB_MAC} PROBE \n`);
    const probes = l.tap.at('pa/eth0').filter((f) => f.dir === 'tx' && f.timeNs === tUse + 5 * SEC);
    // arp_solicit in PROBE: unicast to the cached MAC, target hardware address zero.
    expect(probes.map((f) => f.bytes)).toEqual([
      arpFrame({ ethDst: PB_MAC, ethSrc: PA_MAC, op: arp.OP_REQUEST, senderMac: PA_MAC, senderIp: PA, targetMac: ZERO_MAC, targetIp: PB }),
    ]);
    const after = watchStates(l, l.pa, l.paEth, PB, tUse + 5 * SEC + 100_000);
    expect(after).toEqual([[tUse + 5 * SEC + 4_000, 'Reachable']]); // two veth hops there, two back
    expect(tapCaptureProblems(l.tap)).toEqual({});
  });

  it('PROBE without an answer: three unicast requests a second apart, then FAILED (ucast_solicit + mcast_reprobes 0)', () => {
    const { l, reachableAtNs } = resolved();
    l.sched.run(reachableAtNs + 50 * SEC);
    l.pb.linkDown(l.pbEth); // pb stops answering
    l.tap.frames.length = 0;
    const tUse = l.sched.nowNs;
    l.ping(PB, 2);
    const states = watchStates(l, l.pa, l.paEth, PB, tUse + 20 * SEC);
    expect(states).toEqual([[tUse + 5 * SEC, 'Probe'], [tUse + 8 * SEC, 'Failed']]);
    expect(l.arps('pa/eth0').filter((a) => a.dir === 'tx').map((a) => [a.timeNs - tUse, a.ethDst])).toEqual([
      [5 * SEC, PB_MAC], [6 * SEC, PB_MAC], [7 * SEC, PB_MAC],
    ]);
    expect(l.received.filter((m) => icmp.type(m.packet, 20) === icmp.TYPE_DEST_UNREACHABLE)).toEqual([]); // nothing was queued
    expect(ipNeigh(l.pa)).toBe(`${PB} dev eth0 FAILED \n`);
  });

  it('a new entry counts as unconfirmed: used in the instant it was learned, DELAY still ends in PROBE', () => {
    // ___neigh_create: n->confirmed = jiffies - 2 × base_reachable_time, so a STALE entry learned from
    // a request and used at once is not "confirmed within delay_first_probe_time" when DELAY ends.
    const l = lab();
    const pbSock = new RawIcmpSocket(l.pb);
    const t0 = l.sched.nowNs;
    l.paEth.transmit(skbOf(arpFrame({ ethDst: BROADCAST, ethSrc: PA_MAC, op: arp.OP_REQUEST, senderMac: PA_MAC, senderIp: PA, targetMac: ZERO_MAC, targetIp: PB })));
    l.sched.run(t0 + 2_000); // the request reaches pb (two veth hops): pb learns pa, STALE
    const n = l.entry(l.pb, l.pbEth, PA)!;
    expect(n.state).toBe(NudState.Stale);
    const tUse = l.sched.nowNs;
    pbSock.send(parseIpv4(PA), { type: icmp.TYPE_ECHO_REQUEST, code: 0, rest: icmp.echoRest(7, 1) }, ECHO_DATA);
    expect(n.state).toBe(NudState.Delay);
    const states = watchStates(l, l.pb, l.pbEth, PA, tUse + 5 * SEC);
    expect(states).toEqual([[tUse + 5 * SEC, 'Probe']]);
    expect(l.arps('pb/eth0').filter((a) => a.dir === 'tx' && a.op === arp.OP_REQUEST).map((a) => [a.timeNs, a.ethDst])).toEqual([[tUse + 5 * SEC, PA_MAC]]);
  });

  it('the answering side: STALE from the request, DELAY on its reply, PROBE 5 s later, REACHABLE on the answer', () => {
    const l = lab();
    const t0 = l.sched.nowNs;
    l.ping(PB);
    const states = watchStates(l, l.pb, l.pbEth, PA, t0 + 6 * SEC);
    expect(states.map(([, s]) => s)).toEqual(['Stale', 'Delay', 'Probe', 'Reachable']);
    expect(states[2]![0] - states[1]![0]).toBe(5 * SEC);
    expect(l.arps('pb/eth0').filter((a) => a.dir === 'tx').map((a) => [a.timeNs, a.op, a.ethDst])).toEqual([
      [states[0]![0], arp.OP_REPLY, PA_MAC],
      [states[2]![0], arp.OP_REQUEST, PA_MAC],
    ]);
  });
});

describe('neighbour: what ARP input learns (arp_process, arp_accept = 0)', () => {
  it('a request for our address creates a STALE entry for the sender and is answered from our MAC', () => {
    const l = lab();
    l.pbEth.transmit(skbOf(arpFrame({ ethDst: BROADCAST, ethSrc: PB_MAC, op: arp.OP_REQUEST, senderMac: PB_MAC, senderIp: PB, targetMac: ZERO_MAC, targetIp: PA })));
    l.settle();
    const n = l.entry(l.pa, l.paEth, PB)!;
    expect([n.state, formatMac(n.lladdr!)]).toEqual([NudState.Stale, PB_MAC]);
    expect(ipNeigh(l.pa)).toBe(`${PB} dev eth0 lladdr ${PB_MAC} STALE \n`);
    expect(l.tap.at('pa/eth0').filter((f) => f.dir === 'tx').map((f) => f.bytes)).toEqual([
      arpFrame({ ethDst: PB_MAC, ethSrc: PA_MAC, op: arp.OP_REPLY, senderMac: PA_MAC, senderIp: PA, targetMac: PB_MAC, targetIp: PB }),
    ]);
    // pb did not ask, so the reply it receives creates nothing there.
    expect(l.entry(l.pb, l.pbEth, PA)).toBeUndefined();
  });

  it('a request for someone else’s address creates no entry and no answer', () => {
    const l = lab();
    l.pbEth.transmit(skbOf(arpFrame({ ethDst: BROADCAST, ethSrc: PB_MAC, op: arp.OP_REQUEST, senderMac: PB_MAC, senderIp: PB, targetMac: ZERO_MAC, targetIp: '10.244.1.1' })));
    l.settle();
    expect(l.entry(l.pa, l.paEth, PB)).toBeUndefined();
    expect(l.tap.at('pa/eth0').filter((f) => f.dir === 'tx')).toEqual([]);
  });

  it.each([
    ['unicast', PA_MAC],
    ['broadcast', BROADCAST],
  ])('a %s reply nobody asked for creates no entry', (_kind, ethDst) => {
    const l = lab();
    l.pbEth.transmit(skbOf(arpFrame({ ethDst, ethSrc: PB_MAC, op: arp.OP_REPLY, senderMac: PB_MAC, senderIp: PB, targetMac: PA_MAC, targetIp: PA })));
    l.settle();
    expect(l.tap.at('pa/eth0').filter((f) => f.dir === 'rx').length).toBeGreaterThan(0);
    expect(l.entry(l.pa, l.paEth, PB)).toBeUndefined();
    expect(ipNeigh(l.pa)).toBe('');
  });

  it.each([
    ['request', arp.OP_REQUEST],
    ['reply', arp.OP_REPLY],
  ])('a gratuitous ARP %s moves an existing entry to the new MAC (STALE), and creates none for unknown senders', (_kind, op) => {
    const l = lab();
    l.ping(PB);
    l.settle();
    expect(l.entry(l.pa, l.paEth, PB)!.state).toBe(NudState.Reachable);
    const garp = (ip: string) => arpFrame({ ethDst: BROADCAST, ethSrc: NEW_MAC, op, senderMac: NEW_MAC, senderIp: ip, targetMac: op === arp.OP_REPLY ? NEW_MAC : ZERO_MAC, targetIp: ip });
    l.pbEth.transmit(skbOf(garp(PB)));
    l.pbEth.transmit(skbOf(garp('10.244.1.9')));
    l.settle();
    const n = l.entry(l.pa, l.paEth, PB)!;
    expect([NudState[n.state], formatMac(n.lladdr!)]).toEqual(['Stale', NEW_MAC]);
    expect(ipNeigh(l.pa)).toBe(`${PB} dev eth0 lladdr ${NEW_MAC} STALE \n`);
    expect(l.entry(l.pa, l.paEth, '10.244.1.9')).toBeUndefined();
  });

  it('a request from a known neighbour with the same MAC leaves a REACHABLE entry REACHABLE (neigh_update: STALE with an unchanged address)', () => {
    const l = lab();
    l.ping(PB);
    l.settle();
    const n = l.entry(l.pa, l.paEth, PB)!;
    const confirmed = n.confirmedNs;
    l.pbEth.transmit(skbOf(arpFrame({ ethDst: PA_MAC, ethSrc: PB_MAC, op: arp.OP_REQUEST, senderMac: PB_MAC, senderIp: PB, targetMac: ZERO_MAC, targetIp: PA })));
    l.settle();
    expect(n.state).toBe(NudState.Reachable);
    expect(n.confirmedNs).toBe(confirmed);
  });

  it('permanent entries never change: not by gratuitous ARP, replies, requests or time; packets use them without ARP', () => {
    const l = lab();
    l.pa.neigh.addPermanent(l.paEth, parseIpv4(PB), parseMac(PB_MAC));
    expect(ipNeigh(l.pa)).toBe(`${PB} dev eth0 lladdr ${PB_MAC} PERMANENT \n`);
    const frames = [
      arpFrame({ ethDst: BROADCAST, ethSrc: NEW_MAC, op: arp.OP_REQUEST, senderMac: NEW_MAC, senderIp: PB, targetMac: ZERO_MAC, targetIp: PB }),
      arpFrame({ ethDst: PA_MAC, ethSrc: NEW_MAC, op: arp.OP_REPLY, senderMac: NEW_MAC, senderIp: PB, targetMac: PA_MAC, targetIp: PA }),
      arpFrame({ ethDst: BROADCAST, ethSrc: NEW_MAC, op: arp.OP_REQUEST, senderMac: NEW_MAC, senderIp: PB, targetMac: ZERO_MAC, targetIp: PA }),
    ];
    for (const f of frames) l.pbEth.transmit(skbOf(f));
    l.settle();
    l.sched.run(l.sched.nowNs + 1_000 * SEC);
    const n = l.entry(l.pa, l.paEth, PB)!;
    expect([NudState[n.state], formatMac(n.lladdr!)]).toEqual(['Permanent', PB_MAC]);
    // The request for pa's address is still answered, to the MAC that asked.
    expect(l.arps('pa/eth0').filter((a) => a.dir === 'tx').map((a) => [a.op, a.ethDst])).toEqual([[arp.OP_REPLY, NEW_MAC]]);
    l.tap.frames.length = 0;
    l.ping(PB, 5);
    expect(l.tap.at('pa/eth0').map((f) => [f.dir, ethernet.ethertype(f.bytes, 0), formatMac(ethernet.dst(f.bytes, 0))])).toEqual([
      ['tx', ethernet.ETHERTYPE_IPV4, PB_MAC],
    ]);
    expect(ipNeigh(l.pa)).toBe(`${PB} dev eth0 lladdr ${PB_MAC} PERMANENT \n`);
  });
});

describe('neighbour: `ip neigh` (iproute2 6.1: "dst dev DEV [lladdr MAC] STATE ", lladdr only for NUD_VALID states)', () => {
  it('prints one line per entry in every state, with the trailing space', () => {
    const l = lab();
    l.ping(PB); // → REACHABLE
    l.ping('10.244.1.77'); // → INCOMPLETE, FAILED 3 s later
    l.settle();
    l.pa.neigh.addPermanent(l.paEth, parseIpv4('10.244.1.1'), parseMac('0a:00:00:00:01:01'));
    const lines = (): string[] => ipNeigh(l.pa).split('\n').filter(Boolean).sort();
    expect(lines()).toEqual([
      '10.244.1.1 dev eth0 lladdr 0a:00:00:00:01:01 PERMANENT ',
      `${PB} dev eth0 lladdr ${PB_MAC} REACHABLE `,
      '10.244.1.77 dev eth0 INCOMPLETE ',
    ]);
    l.sched.run(l.sched.nowNs + 4 * SEC);
    expect(lines()).toContain('10.244.1.77 dev eth0 FAILED ');
    expect(ipNeigh(l.pa).endsWith(' \n')).toBe(true);
  });

  it('matches the kernel reference line for a REACHABLE neighbour (fixtures/kernel/same-node-ping/ip-neigh-pods.txt)', () => {
    // "10.244.1.3 dev eth0 lladdr ca:1b:cd:42:67:4c REACHABLE " with podwire's MAC for pb.
    const l = lab();
    l.ping(PB);
    l.settle();
    expect(ipNeigh(l.pa)).toBe('10.244.1.3 dev eth0 lladdr 0e:00:00:00:02:02 REACHABLE \n');
  });
});
