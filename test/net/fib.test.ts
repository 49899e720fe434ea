import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { networkOf, parseIpv4, parseMac, prefixMask as maskOf } from '../../src/packet/addr.js';
import { Fib, type Route } from '../../src/net/fib.js';
import { Netns } from '../../src/net/netns.js';
import { formatRoute, ipRoute } from '../../src/net/render/iproute.js';
import { Random } from '../../src/sim/random.js';
import { Scheduler } from '../../src/sim/scheduler.js';

const ip = parseIpv4;

/** A netns with three up veths: a (192.168.1.10/24), b and c (no addresses). */
function host() {
  const sched = new Scheduler();
  const random = new Random(1);
  const ns = new Netns('h', sched, random);
  const peer = new Netns('peer', sched, random);
  const [a] = Netns.addVethPair(ns, 'a', parseMac('0a:00:00:00:00:01'), peer, 'pa', parseMac('0e:00:00:00:00:01'), 1500);
  const [b] = Netns.addVethPair(ns, 'b', parseMac('0a:00:00:00:00:02'), peer, 'pb', parseMac('0e:00:00:00:00:02'), 1500);
  const [c] = Netns.addVethPair(ns, 'c', parseMac('0a:00:00:00:00:03'), peer, 'pc', parseMac('0e:00:00:00:00:03'), 1500);
  ns.addAddress(a, ip('192.168.1.10'), 24);
  for (const d of [a, b, c]) ns.linkUp(d);
  return { ns, a, b, c };
}

const route = (ns: Netns, dst: string): string | undefined => {
  const r = ns.fib.lookup(ip(dst));
  return r && `${r.table}: ${formatRoute(r)}`;
};

describe('addr: prefixMask and networkOf, as the FIB masks', () => {
  it('computes masks and networks for the edge prefix lengths', () => {
    expect([0, 1, 8, 24, 31, 32].map(maskOf)).toEqual([0, 0x8000_0000, 0xff00_0000, 0xffff_ff00, 0xffff_fffe, 0xffff_ffff]);
    expect(networkOf(ip('10.244.1.77'), 24)).toBe(ip('10.244.1.0'));
    expect(networkOf(ip('255.255.255.255'), 0)).toBe(0);
    expect(networkOf(ip('200.1.2.3'), 1)).toBe(ip('128.0.0.0'));
  });
});

describe('fib: lookup (fib_table_lookup, longest prefix first)', () => {
  function withRoutes() {
    const h = host();
    h.ns.addRoute({ dst: 0, prefixLen: 0, gateway: ip('192.168.1.1'), dev: h.a });
    h.ns.addRoute({ dst: ip('10.1.0.0'), prefixLen: 16, gateway: ip('192.168.1.2'), dev: h.a });
    h.ns.addRoute({ dst: ip('10.1.2.0'), prefixLen: 24, dev: h.b });
    h.ns.addRoute({ dst: ip('10.1.2.3'), prefixLen: 32, dev: h.c });
    return h;
  }

  it.each([
    ['10.1.2.3', 'main: 10.1.2.3 dev c scope link '],
    ['10.1.2.4', 'main: 10.1.2.0/24 dev b scope link '],
    ['10.1.2.0', 'main: 10.1.2.0/24 dev b scope link '],
    ['10.1.2.255', 'main: 10.1.2.0/24 dev b scope link '],
    ['10.1.3.1', 'main: 10.1.0.0/16 via 192.168.1.2 dev a '],
    ['10.1.255.255', 'main: 10.1.0.0/16 via 192.168.1.2 dev a '],
    ['10.2.0.0', 'main: default via 192.168.1.1 dev a '],
    ['8.8.8.8', 'main: default via 192.168.1.1 dev a '],
    ['192.168.1.99', 'main: 192.168.1.0/24 dev a proto kernel scope link src 192.168.1.10 '],
  ])('%s → %s', (dst, expected) => {
    expect(route(withRoutes().ns, dst)).toBe(expected);
  });

  it('masks the destination given to `ip route add` (10.1.2.77/24 is 10.1.2.0/24)', () => {
    const h = host();
    h.ns.addRoute({ dst: ip('10.1.2.77'), prefixLen: 24, dev: h.b });
    expect(ipRoute(h.ns)).toContain('10.1.2.0/24 dev b scope link \n');
    expect(route(h.ns, '10.1.2.1')).toBe('main: 10.1.2.0/24 dev b scope link ');
  });

  it('finds nothing without a covering route', () => {
    const h = host();
    expect(h.ns.fib.lookup(ip('8.8.8.8'))).toBeUndefined();
    expect(new Fib().lookup(ip('8.8.8.8'))).toBeUndefined();
  });

  it('consults the local table before main (rules 0 and 32766), even against a longer or equal main route', () => {
    const h = host();
    h.ns.addRoute({ dst: ip('192.168.1.10'), prefixLen: 32, dev: h.b });
    expect(route(h.ns, '192.168.1.10')).toBe('local: local 192.168.1.10 dev a proto kernel scope host src 192.168.1.10 ');
    expect(route(h.ns, '192.168.1.255')).toBe('local: broadcast 192.168.1.255 dev a proto kernel scope link src 192.168.1.10 ');
    expect(route(h.ns, '127.0.0.1')).toBe('local: local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 ');
    expect(route(h.ns, '127.1.2.3')).toBe('local: local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 ');
  });

  it('picks the lowest metric among routes to the same prefix, in any insertion order', () => {
    const h = host();
    h.ns.addRoute({ dst: ip('10.9.0.0'), prefixLen: 16, dev: h.b, metric: 200 });
    h.ns.addRoute({ dst: ip('10.9.0.0'), prefixLen: 16, dev: h.c, metric: 100 });
    expect(route(h.ns, '10.9.1.1')).toBe('main: 10.9.0.0/16 dev c scope link metric 100 ');
  });

  it('skips routes whose device is down: the next route for the prefix, else a shorter prefix', () => {
    const h = host();
    const fib = h.ns.fib;
    const add = (r: Partial<Route> & Pick<Route, 'dst' | 'prefixLen'>): void =>
      fib.add({ table: 'main', type: 'unicast', scope: 'link', proto: 'boot', onlink: false, metric: 0, ...r });
    add({ dst: ip('10.7.0.0'), prefixLen: 16, dev: h.a });
    add({ dst: ip('10.7.7.0'), prefixLen: 24, dev: h.b, metric: 10 });
    add({ dst: ip('10.7.7.0'), prefixLen: 24, dev: h.c, metric: 20 });
    expect(fib.lookup(ip('10.7.7.7'))?.dev).toBe(h.b);
    h.b.isUp = false; // a route left on a device that is down: a dead nexthop (RTNH_F_DEAD), skipped
    expect(fib.lookup(ip('10.7.7.7'))?.dev).toBe(h.c);
    h.c.isUp = false;
    expect(fib.lookup(ip('10.7.7.7'))?.dev).toBe(h.a);
    h.a.isUp = false;
    expect(fib.lookup(ip('10.7.7.7'))).toBeUndefined();
  });

  it('`ip link set DEV down` removes the device’s routes (fib_sync_down_dev + flush) and lookups fall back', () => {
    const h = host();
    h.ns.addRoute({ dst: 0, prefixLen: 0, gateway: ip('192.168.1.1'), dev: h.a });
    h.ns.addRoute({ dst: ip('10.1.2.0'), prefixLen: 24, dev: h.b });
    h.ns.linkDown(h.b);
    expect(ipRoute(h.ns)).not.toContain('dev b');
    expect(route(h.ns, '10.1.2.4')).toBe('main: default via 192.168.1.1 dev a ');
  });

  it('remove takes out exactly the matching routes, from either table, and returns them', () => {
    const h = host();
    h.ns.addRoute({ dst: ip('10.9.0.0'), prefixLen: 16, dev: h.b, metric: 200 });
    h.ns.addRoute({ dst: ip('10.9.0.0'), prefixLen: 16, dev: h.c, metric: 100 });
    h.ns.addRoute({ dst: 0, prefixLen: 0, gateway: ip('192.168.1.1'), dev: h.a });
    const removed = h.ns.fib.remove((r) => r.dev === h.c);
    expect(removed.map(formatRoute)).toEqual(['10.9.0.0/16 dev c scope link metric 100 ']);
    expect(route(h.ns, '10.9.1.1')).toBe('main: 10.9.0.0/16 dev b scope link metric 200 ');
    h.ns.fib.remove((r) => r.dst === ip('10.9.0.0'));
    expect(route(h.ns, '10.9.1.1')).toBe('main: default via 192.168.1.1 dev a ');
    const local = h.ns.fib.remove((r) => r.table === 'local' && r.dev === h.a);
    expect(local.map(formatRoute).sort()).toEqual([
      'broadcast 192.168.1.255 dev a proto kernel scope link src 192.168.1.10 ',
      'local 192.168.1.10 dev a proto kernel scope host src 192.168.1.10 ',
    ]);
    // Without its local route the address is no longer "for us": main's connected route answers.
    expect(route(h.ns, '192.168.1.10')).toBe('main: 192.168.1.0/24 dev a proto kernel scope link src 192.168.1.10 ');
    expect(h.ns.fib.remove(() => false)).toEqual([]);
  });
});

describe('fib: `ip route` as iproute2 prints it (with its trailing space)', () => {
  /** Node n1 of the cross-node references, programmed as kubeadm, the bridge plugin and flannel do. */
  function nodeN1() {
    const sched = new Scheduler();
    const random = new Random(1);
    const n1 = new Netns('n1', sched, random);
    const underlay = new Netns('underlay', sched, random);
    const [eth0] = Netns.addVethPair(n1, 'eth0', parseMac('76:2f:88:68:89:08'), underlay, 'sw-n1', parseMac('0e:cd:29:50:07:ab'), 1500);
    // flannel.1 is a VXLAN device; only its name, address and routes matter to `ip route`.
    const [flannel] = Netns.addVethPair(n1, 'flannel.1', parseMac('b6:8b:9d:21:67:75'), underlay, 'vx', parseMac('0e:00:00:00:00:01'), 1450);
    const cni0 = n1.addBridge('cni0', parseMac('32:70:9a:ee:b3:73'), 1450);
    n1.addAddress(eth0, ip('192.168.1.10'), 24);
    n1.addAddress(flannel, ip('10.244.1.0'), 32);
    n1.addAddress(cni0, ip('10.244.1.1'), 24);
    for (const d of [eth0, flannel, cni0]) n1.linkUp(d);
    n1.addRoute({ dst: 0, prefixLen: 0, gateway: ip('192.168.1.1'), dev: eth0 });
    n1.addRoute({ dst: ip('10.244.2.0'), prefixLen: 24, gateway: ip('10.244.2.0'), dev: flannel, onlink: true });
    return { n1, eth0, flannel, cni0 };
  }

  it('prints each form the kernel references have', () => {
    const { n1 } = nodeN1();
    const lines = ipRoute(n1).split('\n');
    expect(lines).toContain('default via 192.168.1.1 dev eth0 ');
    expect(lines).toContain('10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1 ');
    expect(lines).toContain('10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink ');
  });

  it('prints the main table of the cross-node reference node n1 byte for byte (fixtures/kernel/cross-node-ping/ip-route-n1.txt)', () => {
    const { n1 } = nodeN1();
    expect(ipRoute(n1)).toBe(readFileSync('fixtures/kernel/cross-node-ping/ip-route-n1.txt', 'utf8'));
  });

  it('a /32 address (flannel.1’s 10.244.1.0/32) adds no connected route and no broadcast route', () => {
    const { n1 } = nodeN1();
    expect(ipRoute(n1)).not.toContain('dev flannel.1 proto kernel');
    expect(ipRoute(n1, 'local').split('\n').filter((l) => l.includes('flannel.1'))).toEqual([
      'local 10.244.1.0 dev flannel.1 proto kernel scope host src 10.244.1.0 ',
    ]);
  });

  it('prints the local table’s entries for an address: its local /32 and the subnet broadcast (fib_add_ifaddr)', () => {
    const { n1 } = nodeN1();
    expect(ipRoute(n1, 'local').split('\n').filter((l) => l.includes('dev cni0'))).toEqual([
      'local 10.244.1.1 dev cni0 proto kernel scope host src 10.244.1.1 ',
      'broadcast 10.244.1.255 dev cni0 proto kernel scope link src 10.244.1.1 ',
    ]);
  });

  it('prints lo’s local-table routes as Linux installs them for 127.0.0.1/8 (fib_add_ifaddr on a loopback device)', () => {
    // `ip route show table local` in any fresh netns with lo up:
    //   local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1
    //   local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1
    //   broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1
    // fib_add_ifaddr adds the address's own RTN_LOCAL /32, the prefix route (RTN_LOCAL on a loopback
    // device) and the prefix|~mask broadcast whatever ifa_broadcast says.
    const { n1 } = nodeN1();
    expect(ipRoute(n1, 'local').split('\n').filter((l) => l.includes('dev lo'))).toEqual([
      'local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 ',
      'local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 ',
      'broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1 ',
    ]);
  });

  it('prints proto, scope, metric and onlink only when they are not the defaults', () => {
    const { n1, eth0 } = nodeN1();
    n1.addRoute({ dst: ip('172.16.0.0'), prefixLen: 12, gateway: ip('192.168.1.254'), dev: eth0, proto: 'static', metric: 100 });
    expect(ipRoute(n1)).toContain('172.16.0.0/12 via 192.168.1.254 dev eth0 proto static metric 100 \n');
  });
});
