import { describe, expect, it } from 'vitest';
import { parseIpv4, parseMac } from '../../src/packet/addr.js';
import { Cable } from '../../src/net/cable.js';
import { Netns } from '../../src/net/netns.js';
import { ipLink, ipRoute } from '../../src/net/render/iproute.js';
import { Random } from '../../src/sim/random.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { TraceRecorder, l2Frame, skbOf } from '../helpers/net-kit.js';
import { RecordingTap } from '../helpers/topology.js';

const A_MAC = '0a:00:00:00:00:01';
const B_MAC = '0a:00:00:00:00:02';
const MS = 1e6;

/** Two hosts a and b whose eth0s are a veth pair with a cable on it; taps and a trace on both. */
function cableLab(seed = 1, latencyNs = 1000) {
  const sched = new Scheduler();
  const random = new Random(seed);
  const a = new Netns('a', sched, random);
  const b = new Netns('b', sched, random);
  const trace = new TraceRecorder();
  a.trace = trace;
  b.trace = trace;
  const [ea, eb] = Netns.addVethPair(a, 'eth0', parseMac(A_MAC), b, 'eth0', parseMac(B_MAC), 1500);
  const cable = new Cable('a', ea, eb, sched, random.stream('link-loss/a'), latencyNs);
  ea.cable = cable;
  eb.cable = cable;
  a.addAddress(ea, parseIpv4('192.168.1.10'), 24);
  b.addAddress(eb, parseIpv4('192.168.1.11'), 24);
  a.linkUp(ea);
  b.linkUp(eb);
  const tap = new RecordingTap();
  ea.taps.push(tap);
  eb.taps.push(tap);
  /** A frame with a marker byte (its sequence number) at the end of the Ethernet header. */
  const frame = (seq: number) => {
    const f = l2Frame(B_MAC, A_MAC);
    f[14] = seq;
    return skbOf(f);
  };
  const received = () => tap.at('b/eth0').filter((f) => f.dir === 'rx');
  /** Drops on a's side (b's stack drops the test frames' local EtherType on arrival). */
  const cableDrops = () => trace.drops().filter((d) => d.startsWith('a/'));
  return { sched, a, b, ea, eb, cable, trace, tap, frame, received, cableDrops };
}

describe('Cable: latency', () => {
  it('delivers a frame one latency after it was sent, and the sender’s tap sees it at the send time', () => {
    const lab = cableLab(1, 5 * MS);
    lab.sched.run(1 * MS);
    lab.ea.transmit(lab.frame(1));
    lab.sched.run();
    expect(lab.tap.at('a/eth0').map((f) => [f.dir, f.timeNs])).toEqual([['tx', 1 * MS]]);
    expect(lab.received().map((f) => f.timeNs)).toEqual([6 * MS]);
  });

  it('keeps frames in order when the latency is lowered while some are in flight (a FIFO per direction)', () => {
    const lab = cableLab(1, 10 * MS);
    lab.ea.transmit(lab.frame(1));
    lab.sched.run(1 * MS);
    lab.cable.set({ latencyNs: 1 * MS });
    lab.ea.transmit(lab.frame(2));
    lab.sched.run();
    const rx = lab.received();
    expect(rx.map((f) => f.bytes[14])).toEqual([1, 2]);
    expect(rx.map((f) => f.timeNs)).toEqual([10 * MS, 10 * MS]);
  });

  it('adds serialization delay when a bandwidth is set: back-to-back frames queue behind each other', () => {
    const lab = cableLab(1, 0);
    lab.cable.set({ bandwidthBps: 1e6 }); // 1 Mbit/s: a 64-byte frame (60 + FCS + preamble + gap = 84 bytes) takes 672 µs
    lab.ea.transmit(lab.frame(1));
    lab.ea.transmit(lab.frame(2));
    lab.sched.run();
    expect(lab.received().map((f) => f.timeNs)).toEqual([672_000, 1_344_000]);
  });

  it('refuses a negative latency and a loss outside [0, 1]', () => {
    const lab = cableLab();
    expect(() => lab.cable.set({ latencyNs: -1 })).toThrow(RangeError);
    expect(() => lab.cable.set({ loss: 1.5 })).toThrow(RangeError);
  });
});

describe('Cable: seeded loss', () => {
  const lostWith = (seed: number, loss: number): number[] => {
    const lab = cableLab(seed);
    lab.cable.set({ loss });
    for (let i = 0; i < 100; i++) lab.ea.transmit(lab.frame(i));
    lab.sched.run();
    const got = new Set(lab.received().map((f) => f.bytes[14]!));
    // Every frame left a's tap, lost or not.
    expect(lab.tap.at('a/eth0').filter((f) => f.dir === 'tx')).toHaveLength(100);
    expect(lab.cableDrops()).toHaveLength(100 - got.size);
    return [...Array(100).keys()].filter((i) => !got.has(i));
  };

  it('loses the same frames with the same seed, other frames with another seed', () => {
    const first = lostWith(7, 0.3);
    expect(first.length).toBeGreaterThan(10);
    expect(first.length).toBeLessThan(50);
    expect(lostWith(7, 0.3)).toEqual(first);
    expect(lostWith(8, 0.3)).not.toEqual(first);
  });

  it('loses nothing at loss 0 and everything at loss 1, saying where in the trace', () => {
    expect(lostWith(7, 0)).toEqual([]);
    expect(lostWith(7, 1)).toHaveLength(100);
    const lab = cableLab();
    lab.cable.set({ loss: 1 });
    lab.ea.transmit(lab.frame(1));
    expect(lab.cableDrops()).toEqual(['a/eth0: lost on cable a (loss 1)']);
  });
});

describe('Cable: carrier (a pulled cable)', () => {
  it('loses the frames on the wire, drops frames sent while out before any tap, and delivers again once plugged in', () => {
    const lab = cableLab(1, 10 * MS);
    lab.ea.transmit(lab.frame(1));
    lab.sched.run(5 * MS);
    lab.cable.setCarrier(false);
    expect([lab.ea.hasCarrier, lab.eb.hasCarrier, lab.ea.isUp, lab.eb.isUp]).toEqual([false, false, true, true]);
    lab.ea.transmit(lab.frame(2));
    lab.sched.run(20 * MS);
    lab.cable.setCarrier(true);
    lab.ea.transmit(lab.frame(3));
    lab.sched.run();
    expect(lab.received().map((f) => f.bytes[14])).toEqual([3]);
    expect(lab.tap.at('a/eth0').map((f) => f.bytes[14])).toEqual([1, 3]);
    expect(lab.cableDrops()).toEqual(['a/eth0: lost on cable a: the cable was pulled', 'a/eth0: no carrier (noop qdisc)']);
  });

  it('shows NO-CARRIER and state DOWN in ip link, keeps the routes (marked linkdown), forgets the neighbours', () => {
    const lab = cableLab();
    lab.a.neigh.output(lab.ea, parseIpv4('192.168.1.11'), lab.frame(0)); // an ARP exchange fills a's table
    lab.sched.run();
    expect(lab.a.neigh.all().length).toBe(1);
    lab.cable.setCarrier(false);
    expect(ipLink(lab.a)).toContain('2: eth0@if2: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT');
    expect(ipRoute(lab.a)).toBe('192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10 linkdown \n');
    expect(lab.a.neigh.all()).toEqual([]);
    lab.cable.setCarrier(true);
    expect(ipLink(lab.a)).toContain('2: eth0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT');
    expect(ipRoute(lab.a)).toBe('192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10 \n');
  });
});
