import { describe, expect, it } from 'vitest';
import { formatMac, parseIpv4, parseMac } from '../../src/packet/addr.js';
import * as arp from '../../src/packet/arp.js';
import * as ethernet from '../../src/packet/ethernet.js';
import { DEFAULT_AGEING_TIME_NS } from '../../src/net/bridge.js';
import type { NetDevice } from '../../src/net/device.js';
import { Netns } from '../../src/net/netns.js';
import { VETH_DELAY_NS, type Veth } from '../../src/net/veth.js';
import { Random } from '../../src/sim/random.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { TraceRecorder, arpFrame, l2Frame, skbOf } from '../helpers/net-kit.js';
import { RecordingTap } from '../helpers/topology.js';

const BR_MAC = '02:00:00:00:00:aa';
const hostMac = (i: number): string => `0a:00:00:00:00:0${i}`;
const stationMac = (i: number): string => `0e:00:00:00:00:0${i}`;
const UNKNOWN = '0e:00:00:00:00:99';
const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const SEC = 1e9;

/**
 * host: a bridge br0 with ports veth1..veth3; station sN's eth0 (MAC 0e:..:0N) is the peer of
 * vethN (MAC 0a:..:0N). A tap on every device; frames are injected from a station's eth0.
 */
function bridgeLab(opts: { hairpin?: boolean; pinMac?: string } = {}) {
  const sched = new Scheduler();
  const random = new Random(1);
  const host = new Netns('host', sched, random);
  const trace = new TraceRecorder();
  host.trace = trace;
  const br = host.addBridge('br0', parseMac(BR_MAC), 1500);
  if (opts.pinMac) br.setMac(parseMac(opts.pinMac));
  host.linkUp(br);
  const stations: Netns[] = [];
  const ports: Veth[] = [];
  const eths: Veth[] = [];
  for (const i of [1, 2, 3]) {
    const st = new Netns(`s${i}`, sched, random);
    const [hv, eth] = Netns.addVethPair(host, `veth${i}`, parseMac(hostMac(i)), st, 'eth0', parseMac(stationMac(i)), 1500);
    br.addPort(hv, opts.hairpin ?? false);
    host.linkUp(hv);
    st.linkUp(eth);
    stations.push(st);
    ports.push(hv);
    eths.push(eth);
  }
  const tap = new RecordingTap();
  const all: NetDevice[] = [...host.devices.values(), ...stations.flatMap((s) => [...s.devices.values()])];
  for (const d of all) d.taps.push(tap);
  /** Station i (1-based) sends `frame` now; the clock then runs until everything is delivered. */
  const send = (i: number, frame: Uint8Array): void => {
    eths[i - 1]!.transmit(skbOf(frame));
    sched.run(sched.nowNs + 10 * VETH_DELAY_NS);
  };
  const tx = (where: string) => tap.at(where).filter((f) => f.dir === 'tx');
  const rx = (where: string) => tap.at(where).filter((f) => f.dir === 'rx');
  return { sched, host, br, ports, eths, stations, tap, trace, send, tx, rx };
}

describe('bridge: learning (br_fdb_update)', () => {
  it('learns a source MAC on the port it arrived on, at the time it arrived, as a dynamic entry', () => {
    const lab = bridgeLab();
    lab.sched.run(5 * SEC);
    lab.send(1, l2Frame(UNKNOWN, stationMac(1)));
    const e = lab.br.fdb.get(parseMac(stationMac(1)));
    expect(e).toBeDefined();
    expect(e!.port?.dev.name).toBe('veth1');
    expect([e!.isLocal, e!.isStatic]).toEqual([false, false]);
    expect(e!.updatedNs).toBe(5 * SEC + VETH_DELAY_NS);
  });

  it('moves an entry when its MAC shows up behind another port (a station moved)', () => {
    const lab = bridgeLab();
    lab.send(1, l2Frame(UNKNOWN, stationMac(1)));
    lab.send(2, l2Frame(UNKNOWN, stationMac(1)));
    expect(lab.br.fdb.get(parseMac(stationMac(1)))!.port?.dev.name).toBe('veth2');
  });

  it('holds permanent local entries for its own MAC and each port’s MAC (bridge fdb: "permanent")', () => {
    const lab = bridgeLab();
    const local = [...lab.br.fdb.values()].filter((e) => e.isLocal).map((e) => `${formatMac(e.mac)} ${e.port?.dev.name}`).sort();
    expect(local).toEqual([`${hostMac(1)} veth1`, `${hostMac(2)} veth2`, `${hostMac(3)} veth3`]);
  });

  it('does not move a local entry when a frame arrives claiming it as source (br_fdb_update warns, keeps it)', () => {
    const lab = bridgeLab();
    lab.send(3, l2Frame(UNKNOWN, hostMac(1)));
    const e = lab.br.fdb.get(parseMac(hostMac(1)))!;
    expect(e.isLocal).toBe(true);
    expect(e.port?.dev.name).toBe('veth1');
  });

  it('drops a frame with a multicast source MAC and learns nothing (br_handle_frame: !is_valid_ether_addr)', () => {
    const lab = bridgeLab();
    const before = lab.br.fdb.size;
    lab.send(1, l2Frame(UNKNOWN, '01:00:5e:00:00:01'));
    expect(lab.br.fdb.size).toBe(before);
    expect(lab.tx('host/veth2')).toEqual([]);
    expect(lab.tx('host/veth3')).toEqual([]);
    expect(lab.trace.drops()).toEqual(['host/veth1: bridge: invalid source MAC']);
  });
});

describe('bridge: forwarding and flooding (br_handle_frame_finish, br_forward, br_flood)', () => {
  it('sends known unicast out of its port only, in the same instant, and shows it to br0 once', () => {
    const lab = bridgeLab();
    lab.send(2, l2Frame(UNKNOWN, stationMac(2))); // br0 learns 0e:..:02 behind veth2
    lab.tap.frames.length = 0;
    const t0 = lab.sched.nowNs;
    const frame = l2Frame(stationMac(2), stationMac(1), 0x5a);
    lab.send(1, frame);
    expect(lab.tx('host/veth2').map((f) => [f.timeNs - t0, f.bytes])).toEqual([[VETH_DELAY_NS, frame]]);
    expect(lab.rx('s2/eth0').map((f) => f.timeNs - t0)).toEqual([2 * VETH_DELAY_NS]);
    expect(lab.tx('host/veth1')).toEqual([]);
    expect(lab.tx('host/veth3')).toEqual([]);
    expect(lab.rx('s3/eth0')).toEqual([]);
    // The promiscuous bridge device sees the forwarded frame exactly once, and nothing is sent on it.
    expect(lab.tap.at('host/br0').map((f) => [f.dir, f.bytes])).toEqual([['rx', frame]]);
  });

  it.each([
    ['unknown unicast', UNKNOWN],
    ['broadcast', BROADCAST],
    ['multicast', '01:00:5e:00:00:01'],
  ])('floods %s to every port but the ingress one; br0 sees it once', (_kind, dst) => {
    const lab = bridgeLab();
    const frame = l2Frame(dst, stationMac(1), 0x11);
    lab.send(1, frame);
    expect(lab.tx('host/veth1')).toEqual([]);
    expect(lab.tx('host/veth2').map((f) => f.bytes)).toEqual([frame]);
    expect(lab.tx('host/veth3').map((f) => f.bytes)).toEqual([frame]);
    expect(lab.rx('s1/eth0')).toEqual([]);
    expect(lab.tap.at('host/br0').map((f) => [f.dir, f.bytes])).toEqual([['rx', frame]]);
  });

  it('flooded copies are independent buffers: rewriting one (as the next hop does) leaves the others', () => {
    const lab = bridgeLab();
    const got: Buffer[] = [];
    for (const e of [lab.eths[1]!, lab.eths[2]!]) {
      e.taps.push({ frame: (_d, dir, _t, buf, off, len) => {
        if (dir !== 'rx') return;
        got.push(Buffer.from(buf.subarray(off, off + len)));
        buf[off + 20] = 0xee; // scribble on the frame the way a stack rewrites headers in place
      } });
    }
    const frame = l2Frame(BROADCAST, stationMac(1), 0x22);
    lab.send(1, frame);
    expect(got).toEqual([frame, frame]);
  });

  it('does not flood to a port whose device is down', () => {
    const lab = bridgeLab();
    lab.host.linkDown(lab.ports[2]!);
    lab.send(1, l2Frame(BROADCAST, stationMac(1)));
    expect(lab.tx('host/veth2').length).toBe(1);
    expect(lab.tx('host/veth3')).toEqual([]);
  });

  it('hairpin off: a broadcast does not go back out its ingress port', () => {
    const lab = bridgeLab({ hairpin: false });
    lab.send(1, l2Frame(BROADCAST, stationMac(1)));
    expect(lab.tx('host/veth1')).toEqual([]);
    expect(lab.rx('s1/eth0')).toEqual([]);
  });

  it('hairpin on: a broadcast also goes back out its ingress port to the sender (should_deliver: BR_HAIRPIN_MODE)', () => {
    const lab = bridgeLab({ hairpin: true });
    const frame = l2Frame(BROADCAST, stationMac(1), 0x33);
    lab.send(1, frame);
    expect(lab.tx('host/veth1').map((f) => f.bytes)).toEqual([frame]);
    expect(lab.rx('s1/eth0').map((f) => f.bytes)).toEqual([frame]);
    expect(lab.tx('host/veth2').length).toBe(1);
    expect(lab.tx('host/veth3').length).toBe(1);
    expect(lab.tap.at('host/br0').length).toBe(1);
  });

  it('known unicast to a MAC behind the ingress port: dropped with hairpin off, sent back with hairpin on', () => {
    for (const hairpin of [false, true]) {
      const lab = bridgeLab({ hairpin });
      lab.send(1, l2Frame(UNKNOWN, '0e:00:00:00:00:77')); // a second MAC behind veth1
      lab.tap.frames.length = 0;
      lab.send(1, l2Frame('0e:00:00:00:00:77', stationMac(1)));
      expect(lab.tx('host/veth1').length, `hairpin ${hairpin}`).toBe(hairpin ? 1 : 0);
      expect(lab.tx('host/veth2')).toEqual([]);
      expect(lab.tx('host/veth3')).toEqual([]);
      if (!hairpin) expect(lab.trace.drops()).toEqual(['host/veth1: bridge: would go back out its ingress port']);
    }
  });
});

describe('bridge: ageing (BR_DEFAULT_AGEING_TIME = 300 s)', () => {
  it('is 300 s by default', () => {
    expect(DEFAULT_AGEING_TIME_NS).toBe(300 * SEC);
    expect(bridgeLab().br.ageingTimeNs).toBe(300 * SEC);
  });

  it('forwards to a 299 s old entry, floods again once it is more than 300 s old', () => {
    const lab = bridgeLab();
    lab.send(2, l2Frame(UNKNOWN, stationMac(2))); // learned at 1 µs
    lab.sched.run(299 * SEC);
    lab.tap.frames.length = 0;
    lab.send(1, l2Frame(stationMac(2), stationMac(1)));
    expect(lab.tx('host/veth2').length).toBe(1);
    expect(lab.tx('host/veth3')).toEqual([]);

    lab.sched.run(301 * SEC);
    lab.tap.frames.length = 0;
    lab.send(1, l2Frame(stationMac(2), stationMac(1)));
    expect(lab.tx('host/veth2').length).toBe(1);
    expect(lab.tx('host/veth3').length).toBe(1); // flooded: the entry has aged out
    expect(lab.br.fdb.has(parseMac(stationMac(2)))).toBe(false);
  });

  it('an entry refreshed by a later frame from that MAC does not age out 300 s after first learning', () => {
    const lab = bridgeLab();
    lab.send(2, l2Frame(UNKNOWN, stationMac(2)));
    lab.sched.run(200 * SEC);
    lab.send(2, l2Frame(UNKNOWN, stationMac(2))); // refresh
    expect(lab.br.fdb.get(parseMac(stationMac(2)))!.updatedNs).toBe(200 * SEC + VETH_DELAY_NS);
    lab.sched.run(450 * SEC);
    lab.tap.frames.length = 0;
    lab.send(1, l2Frame(stationMac(2), stationMac(1)));
    expect(lab.tx('host/veth2').length).toBe(1);
    expect(lab.tx('host/veth3')).toEqual([]);
  });

  it('frames sent to a MAC do not refresh it: only frames from it do', () => {
    const lab = bridgeLab();
    lab.send(2, l2Frame(UNKNOWN, stationMac(2)));
    for (const t of [100, 200, 290]) {
      lab.sched.run(t * SEC);
      lab.send(1, l2Frame(stationMac(2), stationMac(1)));
    }
    lab.sched.run(301 * SEC);
    lab.tap.frames.length = 0;
    lab.send(1, l2Frame(stationMac(2), stationMac(1)));
    expect(lab.tx('host/veth3').length).toBe(1);
  });

  it('local entries never age', () => {
    const lab = bridgeLab();
    lab.sched.run(10_000 * SEC);
    lab.send(2, l2Frame(hostMac(3), stationMac(2)));
    expect(lab.tx('host/veth3')).toEqual([]); // passed up, not forwarded
    expect(lab.br.fdb.get(parseMac(hostMac(3)))?.isLocal).toBe(true);
  });
});

describe('bridge: frames for the host (br_pass_frame_up)', () => {
  it('passes a frame for its own MAC up to the stack through br0, which answers out of the ingress port only', () => {
    const lab = bridgeLab();
    lab.host.addAddress(lab.br, parseIpv4('10.0.0.1'), 24);
    const brMac = formatMac(lab.br.mac);
    const request = arpFrame({
      ethDst: brMac, ethSrc: stationMac(1), op: arp.OP_REQUEST,
      senderMac: stationMac(1), senderIp: '10.0.0.11', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.1',
    });
    lab.send(1, request);
    const reply = arpFrame({
      ethDst: stationMac(1), ethSrc: brMac, op: arp.OP_REPLY,
      senderMac: brMac, senderIp: '10.0.0.1', targetMac: stationMac(1), targetIp: '10.0.0.11',
    });
    expect(lab.tap.at('host/br0').map((f) => [f.dir, f.bytes])).toEqual([['rx', request], ['tx', reply]]);
    expect(lab.tx('host/veth1').map((f) => f.bytes)).toEqual([reply]);
    expect(lab.tx('host/veth2')).toEqual([]);
    expect(lab.tx('host/veth3')).toEqual([]);
  });

  it('passes up a frame for a port’s MAC too (a local FDB entry), forwarding it nowhere', () => {
    const lab = bridgeLab();
    const frame = l2Frame(hostMac(2), stationMac(1));
    lab.send(1, frame);
    expect(lab.tap.at('host/br0').map((f) => [f.dir, f.bytes])).toEqual([['rx', frame]]);
    for (const p of ['veth1', 'veth2', 'veth3']) expect(lab.tx(`host/${p}`)).toEqual([]);
    // It reached the stack on br0, which has no handler for EtherType 0x88b5.
    expect(lab.trace.drops()).toEqual(['host/br0: no handler for EtherType 0x88b5']);
  });

  it('passes a broadcast up once and floods it: br0 sees one copy', () => {
    const lab = bridgeLab();
    lab.send(1, l2Frame(BROADCAST, stationMac(1)));
    expect(lab.tap.at('host/br0').length).toBe(1);
    expect(lab.trace.drops()).toEqual(['host/br0: no handler for EtherType 0x88b5']);
  });
});

describe('bridge: its MAC address (br_stp_recalculate_bridge_id)', () => {
  it('takes its first port’s MAC, keeps it when more ports are added, and drops the old local entry', () => {
    const sched = new Scheduler();
    const random = new Random(1);
    const host = new Netns('host', sched, random);
    const br = host.addBridge('br0', parseMac(BR_MAC), 1500);
    expect(formatMac(br.mac)).toBe(BR_MAC);
    expect(br.fdb.get(parseMac(BR_MAC))?.isLocal).toBe(true);
    const other = new Netns('o', sched, random);
    const [v1] = Netns.addVethPair(host, 'veth1', parseMac('0a:00:00:00:00:05'), other, 'e1', parseMac('0e:00:00:00:00:05'), 1500);
    const [v2] = Netns.addVethPair(host, 'veth2', parseMac('0a:00:00:00:00:09'), other, 'e2', parseMac('0e:00:00:00:00:09'), 1500);
    br.addPort(v1);
    expect(formatMac(br.mac)).toBe('0a:00:00:00:00:05');
    expect(br.fdb.has(parseMac(BR_MAC))).toBe(false);
    expect(br.fdb.get(br.mac)?.isLocal).toBe(true);
    br.addPort(v2);
    expect(formatMac(br.mac)).toBe('0a:00:00:00:00:05');
  });

  it('keeps a MAC pinned with setMac (`ip link set br0 address …`) whatever ports are added', () => {
    const lab = bridgeLab({ pinMac: '02:00:00:00:00:bb' });
    expect(formatMac(lab.br.mac)).toBe('02:00:00:00:00:bb');
    expect(lab.br.fdb.get(parseMac('02:00:00:00:00:bb'))?.isLocal).toBe(true);
    expect(lab.br.fdb.has(parseMac(BR_MAC))).toBe(false);
    // Frames for the pinned MAC are the host's.
    lab.send(1, l2Frame('02:00:00:00:00:bb', stationMac(1)));
    expect(lab.tx('host/veth2')).toEqual([]);
    expect(lab.tap.at('host/br0').length).toBe(1);
  });

  it('floods a broadcast the host sends through br0 out of every port; br0 sees it as tx (br_dev_xmit)', () => {
    const lab = bridgeLab();
    lab.sched.run(VETH_DELAY_NS); // linkwatch has seen the ports' carrier: they forward
    const frame = l2Frame(BROADCAST, formatMac(lab.br.mac));
    lab.br.transmit(skbOf(frame));
    lab.sched.run(lab.sched.nowNs + 10 * VETH_DELAY_NS);
    expect(lab.tap.at('host/br0').map((f) => f.dir)).toEqual(['tx']);
    for (const p of ['veth1', 'veth2', 'veth3']) expect(lab.tx(`host/${p}`).map((f) => f.bytes)).toEqual([frame]);
    expect(ethernet.src(lab.rx('s2/eth0')[0]!.bytes, 0)).toBe(lab.br.mac);
  });
});

describe('bridge: port state (br_port_carrier_check, linkwatch)', () => {
  it("a veth enslaved before its peer was up drops what its pod sends as eth0 comes up (arp_notify's gratuitous ARP), then forwards", () => {
    const sched = new Scheduler();
    const random = new Random(1);
    const host = new Netns('host', sched, random);
    const br = host.addBridge('br0', parseMac(BR_MAC), 1500);
    host.linkUp(br);
    const trace = new TraceRecorder();
    host.trace = trace;
    const pods = [1, 2].map((i) => {
      const st = new Netns(`s${i}`, sched, random);
      const [hv, eth] = Netns.addVethPair(host, `veth${i}`, parseMac(hostMac(i)), st, 'eth0', parseMac(stationMac(i)), 1500);
      // The bridge CNI plugin's order: host end up and enslaved while the pod's end is down.
      host.linkUp(hv);
      br.addPort(hv);
      return { st, hv, eth };
    });
    const tap = new RecordingTap();
    for (const d of [...host.devices.values(), ...pods.flatMap((p) => [...p.st.devices.values()])]) d.taps.push(tap);
    expect(br.ports.map((p) => p.forwarding)).toEqual([false, false]);
    // s2 comes up first and settles; then s1 comes up and at once sends a broadcast.
    pods[1]!.st.linkUp(pods[1]!.eth);
    sched.run(sched.nowNs + 10 * VETH_DELAY_NS);
    // The plugin's order in the pod: arp_notify, the address, then eth0 up.
    pods[0]!.st.sysctl.arpNotify.add('eth0');
    pods[0]!.st.addAddress(pods[0]!.eth, parseIpv4('10.244.1.2'), 24);
    pods[0]!.st.linkUp(pods[0]!.eth);
    sched.run(sched.nowNs + 10 * VETH_DELAY_NS);
    // The gratuitous ARP left s1 and reached the host veth (tcpdump there sees it), no further.
    const sent = tap.at('s1/eth0').filter((f) => f.dir === 'tx').map((f) => f.bytes);
    expect(sent).toHaveLength(1);
    const garp = sent[0]!;
    expect(tap.at('host/veth1').filter((f) => f.dir === 'rx').map((f) => f.bytes)).toEqual([garp]);
    expect(tap.at('host/br0')).toEqual([]);
    expect(tap.at('s2/eth0').filter((f) => f.dir === 'rx')).toEqual([]);
    expect(br.fdb.get(parseMac(stationMac(1)))).toBeUndefined();
    expect(trace.events.some((e) => e.detail?.includes('bridge port disabled'))).toBe(true);
    // Once linkwatch has run, the same frame is flooded and its source learned.
    expect(br.ports.map((p) => p.forwarding)).toEqual([true, true]);
    pods[0]!.eth.transmit(skbOf(garp));
    sched.run(sched.nowNs + 10 * VETH_DELAY_NS);
    expect(tap.at('s2/eth0').filter((f) => f.dir === 'rx').map((f) => f.bytes)).toEqual([garp]);
    expect(br.fdb.get(parseMac(stationMac(1)))?.port?.dev.name).toBe('veth1');
  });
});
