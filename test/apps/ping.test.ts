import { describe, expect, it } from 'vitest';
import { Ping, formatRtt, parsePingArgs } from '../../src/apps/ping.js';
import { UsageError, type AppContext } from '../../src/apps/app.js';
import { sameNodeTopology } from '../helpers/topology.js';

function ping(args: string[]) {
  const t = sameNodeTopology();
  let out = '';
  let code = -1;
  const ctx: AppContext = { ns: t.pods[0]!, sched: t.sched, random: t.random, label: 'test', stdout: (s) => (out += s), stderr: (s) => (out += s), exit: (c) => (code = c) };
  new Ping(parsePingArgs(args)).start(ctx);
  t.sched.run(t.sched.nowNs + 30e9);
  return { out, code, tap: t.tap };
}

describe('ping (iputils)', () => {
  it('refuses to send a DF datagram larger than the route MTU: EMSGSIZE, "message too long", nothing on the wire', () => {
    const r = ping(['-M', 'do', '-s', '1473', '-c', '2', '10.244.1.3']);
    expect(r.out).toBe(
      'PING 10.244.1.3 (10.244.1.3) 1473(1501) bytes of data.\n' +
        'ping: local error: message too long, mtu=1500\n' +
        'ping: local error: message too long, mtu=1500\n\n' +
        '--- 10.244.1.3 ping statistics ---\n' +
        '2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1000ms\n',
    );
    expect(r.code).toBe(1);
    expect(r.tap.at('pa/eth0').filter((f) => f.bytes.length > 1000)).toEqual([]);
  });

  it('fits exactly: -s 1472 with DF on a 1500-byte MTU goes out as a 1514-byte frame', () => {
    const r = ping(['-M', 'do', '-s', '1472', '-c', '1', '10.244.1.3']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('1480 bytes from 10.244.1.3: icmp_seq=1 ttl=64');
    expect(r.tap.at('pa/eth0').filter((f) => f.dir === 'tx').map((f) => f.bytes.length)).toContain(1514);
  });

  it('prints round-trip times as iputils does at each magnitude', () => {
    expect([0.737, 5.4321, 12.345, 123.4].map((ms) => formatRtt(ms * 1000))).toEqual(['0.737', '5.43', '12.3', '123']);
  });

  it('rejects bad options with ping\'s own words and exit 2', () => {
    expect(() => parsePingArgs(['-c', '0', 'x'])).toThrow(UsageError);
    expect(() => parsePingArgs([])).toThrow('ping: usage error: Destination address required');
    expect(() => parsePingArgs(['-M', 'maybe', '10.0.0.1'])).toThrow('ping: invalid -M argument: maybe');
  });
});

describe('ping (iputils) after a hard local error', () => {
  it('waits one interval after its last, failed probe before it ends (pinger returns SCHINT(interval)), as on the kernel', () => {
    const t = sameNodeTopology();
    let code = -1;
    let endNs = -1;
    const ctx: AppContext = { ns: t.pods[0]!, sched: t.sched, random: t.random, label: 'test', stdout: () => {}, stderr: () => {}, exit: (c) => { code = c; endNs = t.sched.nowNs; } };
    const start = t.sched.nowNs;
    new Ping(parsePingArgs(['-M', 'do', '-s', '1473', '-c', '2', '10.244.1.3'])).start(ctx);
    t.sched.run(t.sched.nowNs + 30e9);
    expect(code).toBe(1);
    // Probe 1 at 0 s, probe 2 at 1 s, the exit check a second later.
    expect(endNs - start).toBe(2e9);
  });
});
