/**
 * The statistic draws that steer kube-proxy's endpoint choice, computed from iptables-save text
 * as kube-proxy writes it (n1 of service-three-endpoints, plus a kube-dns Service on TCP and UDP).
 * The SEP chains' names sort in another order than their rules in the SVC chain: the order must
 * come from the rules.
 */
import { describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../src/net/netfilter/iptables-save.js';
import { statisticHolds } from '../../src/net/netfilter/xt-eval.js';
import { drawsToPick, serviceEndpointRules, statisticDraws, type EndpointRule } from '../../src/parity/statistic-draws.js';

const NAT = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-SEP-AAA - [0:0]
:KUBE-SEP-BBB - [0:0]
:KUBE-SEP-CCC - [0:0]
:KUBE-SEP-DNS1 - [0:0]
:KUBE-SEP-DNS2 - [0:0]
:KUBE-SEP-UDP1 - [0:0]
:KUBE-SEP-UDP2 - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-DNSTCP - [0:0]
:KUBE-SVC-DNSUDP - [0:0]
:KUBE-SVC-WEB - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-SEP-AAA -s 10.244.2.3/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-AAA -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.3:5678
-A KUBE-SEP-BBB -s 10.244.1.3/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-BBB -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.3:5678
-A KUBE-SEP-CCC -s 10.244.2.2/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-CCC -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.2:5678
-A KUBE-SEP-DNS1 -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:53
-A KUBE-SEP-DNS2 -p tcp -m tcp -j DNAT --to-destination 10.244.2.5:53
-A KUBE-SEP-UDP1 -p udp -m udp -j DNAT --to-destination 10.244.1.5:53
-A KUBE-SEP-UDP2 -p udp -m udp -j DNAT --to-destination 10.244.2.5:53
-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-DNSUDP
-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp --dport 53 -j KUBE-SVC-DNSTCP
-A KUBE-SERVICES -d 10.96.0.60/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-WEB
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-SVC-DNSTCP -m comment --comment "kube-system/kube-dns:dns-tcp -> 10.244.1.5:53" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-DNS1
-A KUBE-SVC-DNSTCP -m comment --comment "kube-system/kube-dns:dns-tcp -> 10.244.2.5:53" -j KUBE-SEP-DNS2
-A KUBE-SVC-DNSUDP -m comment --comment "kube-system/kube-dns:dns -> 10.244.2.5:53" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-UDP2
-A KUBE-SVC-DNSUDP -m comment --comment "kube-system/kube-dns:dns -> 10.244.1.5:53" -j KUBE-SEP-UDP1
-A KUBE-SVC-WEB ! -s 10.244.0.0/16 -d 10.96.0.60/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-WEB -m comment --comment "default/web:http -> 10.244.1.3:5678" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-BBB
-A KUBE-SVC-WEB -m comment --comment "default/web:http -> 10.244.2.2:5678" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-CCC
-A KUBE-SVC-WEB -m comment --comment "default/web:http -> 10.244.2.3:5678" -j KUBE-SEP-AAA
COMMIT
`;
const rules = parseIptablesSave(NAT);

/** What the walk of the endpoint rules picks with these draws (xt-eval's own statistic match): the first rule that matches. */
function walk(endpointRules: readonly EndpointRule[], draws: readonly number[]): { endpoint: string | undefined; used: number } {
  let used = 0;
  for (const r of endpointRules) {
    if (r.statistic === null) return { endpoint: r.endpoint, used };
    const d = draws[used++];
    if (d === undefined) throw new Error('ran out of draws');
    if (statisticHolds(r.statistic, d)) return { endpoint: r.endpoint, used };
  }
  return { endpoint: undefined, used };
}

describe('serviceEndpointRules', () => {
  it('reads the endpoint rules in chain order, past the KUBE-MARK-MASQ rule, with each DNAT destination', () => {
    const web = serviceEndpointRules(rules, '10.96.0.60:80');
    expect(Array.isArray(web) && web.map((r) => [r.endpoint, r.target, r.statistic?.probability ?? null])).toEqual([
      ['10.244.1.3:5678', 'KUBE-SEP-BBB', 0x2aaa_aaab],
      ['10.244.2.2:5678', 'KUBE-SEP-CCC', 0x4000_0000],
      ['10.244.2.3:5678', 'KUBE-SEP-AAA', null],
    ]);
  });

  it('tells the protocols of one ClusterIP and port apart', () => {
    const udp = serviceEndpointRules(rules, '10.96.0.10:53', 'udp');
    const tcp = serviceEndpointRules(rules, '10.96.0.10:53', 'tcp');
    expect(Array.isArray(udp) && udp.map((r) => r.endpoint)).toEqual(['10.244.2.5:53', '10.244.1.5:53']);
    expect(Array.isArray(tcp) && tcp.map((r) => r.endpoint)).toEqual(['10.244.1.5:53', '10.244.2.5:53']);
  });

  it('says so when no rule leads anywhere', () => {
    expect(serviceEndpointRules(rules, '10.96.0.60:81')).toBe('no KUBE-SERVICES rule jumps for tcp 10.96.0.60:81');
    expect(serviceEndpointRules(parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n'), '10.96.0.60:80')).toBe('no nat KUBE-SERVICES chain');
  });
});

describe('drawsToPick', () => {
  const web = serviceEndpointRules(rules, '10.96.0.60:80') as EndpointRule[];

  it('fails the statistic rules before the endpoint and passes its own; the last takes none of its own', () => {
    expect(drawsToPick(web, '10.244.1.3:5678')).toEqual([0]);
    expect(drawsToPick(web, '10.244.2.2:5678')).toEqual([0x7fff_ffff, 0]);
    expect(drawsToPick(web, '10.244.2.3:5678')).toEqual([0x7fff_ffff, 0x7fff_ffff]);
  });

  it('the draws make the kernel walk pick that endpoint, using them all', () => {
    for (const r of web) {
      const draws = drawsToPick(web, r.endpoint) as number[];
      expect(walk(web, draws)).toEqual({ endpoint: r.endpoint, used: draws.length });
    }
  });

  it('inverts the draws for a negated probability', () => {
    const negated = parseIptablesSave(NAT.replace('--probability 0.33333333349', '! --probability 0.66666666651'));
    const chain = serviceEndpointRules(negated, '10.96.0.60:80') as EndpointRule[];
    expect(drawsToPick(chain, '10.244.1.3:5678')).toEqual([0x7fff_ffff]);
    expect(drawsToPick(chain, '10.244.2.2:5678')).toEqual([0, 0]);
    expect(walk(chain, [0, 0]).endpoint).toBe('10.244.2.2:5678');
  });

  it('refuses what draws cannot decide: an unknown endpoint, session affinity, an endpoint behind an unconditional rule', () => {
    expect(drawsToPick(web, '10.244.9.9:5678')).toBe('10.244.9.9:5678 is not among the endpoints of KUBE-SVC-WEB (10.244.1.3:5678, 10.244.2.2:5678, 10.244.2.3:5678)');
    const affinity = parseIptablesSave(NAT.replace(
      '-A KUBE-SVC-WEB -m comment --comment "default/web:http -> 10.244.1.3:5678" -m statistic',
      '-A KUBE-SVC-WEB -m comment --comment "default/web:http -> 10.244.1.3:5678" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-BBB --mask 255.255.255.255 --rsource -j KUBE-SEP-BBB\n-A KUBE-SVC-WEB -m comment --comment "default/web:http -> 10.244.1.3:5678" -m statistic',
    ));
    expect(drawsToPick(serviceEndpointRules(affinity, '10.96.0.60:80') as EndpointRule[], '10.244.2.2:5678')).toMatch(/^KUBE-SVC-WEB's rule for 10\.244\.1\.3:5678 also has -m recent: /);
    const dns = serviceEndpointRules(rules, '10.96.0.10:53', 'tcp') as EndpointRule[];
    expect(drawsToPick([...dns].reverse(), '10.244.1.5:53')).toMatch(/has no statistic match: 10\.244\.1\.5:53 after it is never chosen$/);
  });
});

describe('statisticDraws', () => {
  it('concatenates each node\'s draws in connection order, from that node\'s rules', () => {
    const result = statisticDraws(
      [
        { node: 'n1', service: '10.96.0.60:80', endpoint: '10.244.2.3:5678', protocol: 'tcp' },
        { node: 'n2', service: '10.96.0.10:53', endpoint: '10.244.1.5:53', protocol: 'udp' },
        { node: 'n1', service: '10.96.0.60:80', endpoint: '10.244.1.3:5678', protocol: 'tcp' },
        { node: 'n1', service: '10.96.0.60:80', endpoint: '10.244.2.2:5678', protocol: 'tcp' },
      ],
      new Map([['n1', rules], ['n2', rules]]),
    );
    expect(result).toEqual({ ok: true, draws: new Map([['n1', [0x7fff_ffff, 0x7fff_ffff, 0, 0x7fff_ffff, 0]], ['n2', [0x7fff_ffff]]]) });
  });

  it('names the node and the reason when it cannot', () => {
    expect(statisticDraws([{ node: 'n3', service: '10.96.0.60:80', endpoint: '10.244.2.3:5678', protocol: 'tcp' }], new Map([['n1', rules]]))).toEqual({ ok: false, reason: 'no iptables rules for n3' });
    expect(statisticDraws([{ node: 'n1', service: '10.96.0.60:80', endpoint: '10.244.7.7:5678', protocol: 'tcp' }], new Map([['n1', rules]]))).toMatchObject({ ok: false, reason: expect.stringMatching(/^n1: 10\.244\.7\.7:5678 is not among/) as unknown });
  });
});
