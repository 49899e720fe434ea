/**
 * ip_select_ident_segs (include/net/ip.h): a packet from a socket without a peer whose DF the
 * stack may not clear (IP_PMTUDISC_DO: ignore_df off) carries IP ID 0; with the default
 * discovery (DF set but ignore_df on) or from a connected socket it carries a counted ID. Kernel
 * parity showed it: `ping -M do` sends ID 0 on the real kernel (mtu-probe), a plain ping does not.
 */
import { describe, expect, it } from 'vitest';
import { RawIcmpSocket } from '../../src/net/raw-socket.js';
import { UdpSocket } from '../../src/net/udp-socket.js';
import { parseIpv4 } from '../../src/packet/addr.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import { sameNodeTopology } from '../helpers/topology.js';

const ETH = 14;
const sentIds = (t: ReturnType<typeof sameNodeTopology>, protocol: number) =>
  t.tap.at('pa/eth0').filter((f) => f.dir === 'tx' && f.bytes.readUInt16BE(12) === 0x0800 && f.bytes[ETH + 9] === protocol)
    .map((f) => ({ id: f.bytes.readUInt16BE(ETH + 4), df: (f.bytes.readUInt16BE(ETH + 6) & 0x4000) !== 0 }));

describe('IP ID of an unconnected socket\'s packet', () => {
  const dst = parseIpv4('10.244.1.3');
  for (const [mode, zero] of [['do', true], ['want', false]] as const) {
    it(`raw ICMP socket, IP_PMTUDISC_${mode.toUpperCase()}: DF set, ID ${zero ? '0' : 'counted'}`, () => {
      const t = sameNodeTopology();
      const s = new RawIcmpSocket(t.pods[0]!);
      s.pmtudisc = mode;
      for (let seq = 1; seq <= 3; seq++) {
        s.send(dst, { type: 8, code: 0, rest: ((0x1234 << 16) | seq) >>> 0 }, new Uint8Array(56));
        t.sched.run(t.sched.nowNs + 1e9);
      }
      const ids = sentIds(t, ipv4.PROTO_ICMP);
      expect(ids).toHaveLength(3);
      expect(ids.every((x) => x.df)).toBe(true);
      if (zero) expect(ids.map((x) => x.id)).toEqual([0, 0, 0]);
      else expect(ids.some((x) => x.id !== 0)).toBe(true);
    });
  }

  it('UDP: unconnected with IP_PMTUDISC_DO sends ID 0; connected counts its own IDs', () => {
    const t = sameNodeTopology();
    const a = new UdpSocket(t.pods[0]!);
    a.pmtudisc = 'do';
    a.send(new Uint8Array(100), { addr: dst, port: 9000 });
    t.sched.run(t.sched.nowNs + 1e9);
    const b = new UdpSocket(t.pods[0]!);
    b.pmtudisc = 'do';
    b.connect(dst, 9000);
    b.send(new Uint8Array(100));
    b.send(new Uint8Array(100));
    t.sched.run(t.sched.nowNs + 1e9);
    const ids = sentIds(t, ipv4.PROTO_UDP);
    expect(ids.map((x) => x.df)).toEqual([true, true, true]);
    expect(ids[0]!.id).toBe(0);
    expect(ids[2]!.id).toBe((ids[1]!.id + 1) & 0xffff);
  });
});
