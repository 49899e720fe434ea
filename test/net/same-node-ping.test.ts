import { describe, expect, it } from 'vitest';
import { Ping, parsePingArgs } from '../../src/apps/ping.js';
import type { AppContext } from '../../src/apps/app.js';
import { decodeFrame } from '../../src/packet/frame.js';
import { sameNodeTopology } from '../helpers/topology.js';

function runPing(args: string[], from = 0) {
  const t = sameNodeTopology();
  let out = '';
  let code = -1;
  const ctx: AppContext = {
    ns: t.pods[from]!, sched: t.sched, random: t.random, label: 'test',
    stdout: (s) => (out += s), stderr: (s) => (out += s), exit: (c) => (code = c),
  };
  new Ping(parsePingArgs(args)).start(ctx);
  // Like the references: run until the command exits, then one more second (later neighbour
  // probes, 5 s on, are outside that window there too).
  for (let next = t.sched.peekTimeNs(); code < 0 && next !== undefined; next = t.sched.peekTimeNs()) t.sched.run(next);
  t.sched.run(t.sched.nowNs + 1e9);
  return { ...t, out, code };
}

const kinds = (bytes: Buffer) => decodeFrame(bytes).map((l) => (l.kind === 'icmp' ? `icmp${l.repr.type}` : l.kind === 'arp' ? `arp${l.repr.op}` : l.kind)).filter((k) => k !== 'ethernet' && k !== 'ipv4' && k !== 'payload').join('/');

describe('same-node ping through the bridge', () => {
  it('sees on the sender what the kernel saw: ARP twice (hairpin), the reply, two echoes', () => {
    const r = runPing(['-c', '2', '10.244.1.3']);
    expect(r.code).toBe(0);
    expect(r.tap.at('pa/eth0').map((f) => `${f.dir} ${kinds(f.bytes)}`)).toEqual([
      'tx arp1', 'rx arp1', 'rx arp2', 'tx icmp8', 'rx icmp0', 'tx icmp8', 'rx icmp0',
    ]);
    expect(r.tap.at('n1/cni0').map((f) => kinds(f.bytes))).toEqual(['arp1', 'arp2', 'icmp8', 'icmp0', 'icmp8', 'icmp0']);
    expect(r.tap.at('pb/eth0').length).toBe(6);
    expect(r.out).toMatch(/^PING 10.244.1.3 \(10.244.1.3\) 56\(84\) bytes of data.\n64 bytes from 10.244.1.3: icmp_seq=1 ttl=64 time=/);
    expect(r.out).toContain('2 packets transmitted, 2 received, 0% packet loss, time 1000ms');
  });

  it('reports Destination Host Unreachable after three unanswered ARP requests', () => {
    const r = runPing(['-c', '1', '10.244.1.77']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('From 10.244.1.2 icmp_seq=1 Destination Host Unreachable');
    expect(r.tap.at('pa/eth0').filter((f) => kinds(f.bytes) === 'arp1' && f.dir === 'tx').map((f) => f.timeNs)).toEqual([0, 1e9, 2e9].map((t) => t + r.tap.at('pa/eth0')[0]!.timeNs));
  });

  it('pings its own address and 127.0.0.1 without leaving the pod', () => {
    for (const target of ['127.0.0.1', '10.244.1.2']) {
      const r = runPing(['-c', '1', target]);
      expect(r.code).toBe(0);
      expect(r.tap.at('pa/eth0')).toEqual([]);
      expect(r.tap.at('pa/lo').length).toBe(4); // request and reply, each out and back in
    }
  });
});
