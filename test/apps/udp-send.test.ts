import { describe, expect, it } from 'vitest';
import { UsageError, type AppContext } from '../../src/apps/app.js';
import { programFor } from '../../src/apps/programs.js';
import { UdpSend, parseUdpSendArgs } from '../../src/apps/udp-send.js';
import { parseIpv4 } from '../../src/packet/addr.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import { sameNodeTopology } from '../helpers/topology.js';

function run(args: string[], mtu?: number) {
  const t = sameNodeTopology();
  if (mtu !== undefined) for (const d of t.pods[0]!.devices.values()) if (d.name === 'eth0') d.mtu = mtu;
  let out = '';
  let code = -1;
  const ctx: AppContext = { ns: t.pods[0]!, sched: t.sched, random: t.random, label: 'test', stdout: (s) => (out += s), stderr: (s) => (out += s), exit: (c) => (code = c) };
  new UdpSend(parseUdpSendArgs(args)).start(ctx);
  t.sched.run(t.sched.nowNs + 10e9);
  const sent = t.tap.at('pa/eth0').filter((f) => f.dir === 'tx' && f.bytes[12] === 0x08 && f.bytes[13] === 0x00).map((f) => Buffer.from(f.bytes));
  return { out, code, sent };
}

describe('udp-send (podwire’s probe)', () => {
  it('prints one line per send in the reference’s words and exits 0 when every datagram went', () => {
    const r = run(['10.244.1.3:9000', '--bytes', '1400', '--pmtudisc', 'do']);
    expect(r.out).toBe('do:1400 -> sent 1400; IP_MTU=1500; IP_MTU_DISCOVER=2\n');
    expect(r.code).toBe(0);
    expect(r.sent.map((f) => [f.length, ipv4.isDontFragment(f, 14)])).toEqual([[1442, true]]);
  });

  it('do: a datagram over the MTU is EMSGSIZE, nothing on the wire, exit 1', () => {
    const r = run(['10.244.1.3:9000', '--bytes=1473', '--pmtudisc=do']);
    expect(r.out).toBe('do:1473 -> ERROR EMSGSIZE (Message too long); IP_MTU=1500; IP_MTU_DISCOVER=2\n');
    expect([r.code, r.sent.length]).toEqual([1, 0]);
  });

  it('want (default) fragments what does not fit; dont never sets DF', () => {
    const want = run(['10.244.1.3:9000', '--bytes', '1473']);
    expect(want.out).toBe('want:1473 -> sent 1473; IP_MTU=1500; IP_MTU_DISCOVER=1\n');
    expect(want.sent.map((f) => [ipv4.totalLength(f, 14), ipv4.isMoreFragments(f, 14), ipv4.isDontFragment(f, 14)])).toEqual([[1500, true, false], [21, false, false]]);
    const dont = run(['10.244.1.3:9000', '--bytes', '100', '--pmtudisc', 'dont', '--interval', '0.5']);
    expect(dont.out).toBe('dont:100 -> sent 100; IP_MTU=1500; IP_MTU_DISCOVER=0\n');
    expect(dont.sent.map((f) => ipv4.isDontFragment(f, 14))).toEqual([false]);
  });

  it('reports the ECONNREFUSED a port unreachable left on the connected socket, at the next send', () => {
    // pb has nothing on port 9: its kernel answers ICMP port unreachable to the first datagram.
    const r = run(['10.244.1.3:9', '--bytes', '10', '--count', '3']);
    expect(r.out.split('\n').slice(0, 3)).toEqual([
      'want:10 -> sent 10; IP_MTU=1500; IP_MTU_DISCOVER=1',
      'want:10 -> ERROR ECONNREFUSED (Connection refused); IP_MTU=1500; IP_MTU_DISCOVER=1',
      'want:10 -> sent 10; IP_MTU=1500; IP_MTU_DISCOVER=1',
    ]);
    expect(r.code).toBe(1);
  });

  it('is found by its name as a container command', () => {
    expect(programFor(['/usr/local/bin/udp-send', '10.0.0.1:53', '--bytes', '1'])).toBeInstanceOf(UdpSend);
  });

  it('refuses a bad command line with one clear line and the usage, exit 2', () => {
    const bad = (args: string[]) => {
      try {
        parseUdpSendArgs(args);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        expect((e as UsageError).exitCode).toBe(2);
        return (e as Error).message.split('\n')[0];
      }
      throw new Error('accepted');
    };
    expect(bad(['10.0.0.1:9000'])).toBe('udp-send: --bytes N is required');
    expect(bad(['--bytes', '1'])).toBe('udp-send: the destination HOST:PORT is missing');
    expect(bad(['10.0.0.1', '--bytes', '1'])).toBe("udp-send: the destination is HOST:PORT, not '10.0.0.1'");
    expect(bad(['host:1', '--bytes', '1'])).toBe("udp-send: 'host' is not an IPv4 address (names are not resolved)");
    expect(bad(['10.0.0.1:0', '--bytes', '1'])).toBe("udp-send: the port wants a whole number from 1 to 65535, not '0'");
    expect(bad(['10.0.0.1:1', '--bytes', '65508'])).toBe("udp-send: --bytes wants a whole number from 0 to 65507, not '65508'");
    expect(bad(['10.0.0.1:1', '--bytes', '1', '--pmtudisc', 'probe'])).toBe("udp-send: --pmtudisc is want, do or dont, not 'probe'");
    expect(bad(['10.0.0.1:1', '--bytes', '1', '-c', '2'])).toBe("udp-send: unknown option '-c'");
    expect(parseUdpSendArgs(['10.0.0.1:1', '--bytes', '0'])).toMatchObject({ host: parseIpv4('10.0.0.1'), port: 1, bytes: 0, pmtudisc: 'want', count: 1 });
  });
});
