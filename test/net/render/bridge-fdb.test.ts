import { describe, expect, it } from 'vitest';
import { DEFAULT_AGEING_TIME_NS } from '../../../src/net/bridge.js';
import { Netns } from '../../../src/net/netns.js';
import { bridgeFdbShow } from '../../../src/net/render/bridge-fdb.js';
import { ipLinkDetails } from '../../../src/net/render/ip-link-details.js';
import { parseIpv4, parseMac } from '../../../src/packet/addr.js';
import { Random } from '../../../src/sim/random.js';
import { Scheduler } from '../../../src/sim/scheduler.js';

/** A node with a bridge whose MAC is its first port's (as the references), two ports, a VXLAN device. */
function node() {
  const sched = new Scheduler();
  const random = new Random(1);
  const host = new Netns('n1', sched, random);
  const eth0 = Netns.addVethPair(host, 'eth0', parseMac('02:00:00:00:00:10'), new Netns('underlay', sched, random), 'sw-n1', parseMac('02:00:00:00:00:20'), 1500)[0];
  host.addAddress(eth0, parseIpv4('192.168.1.10'), 24);
  const vx = host.addVxlan('flannel.1', parseMac('02:00:00:00:00:30'), 1450, { vni: 1, dstPort: 8472, local: parseIpv4('192.168.1.10'), ttl: 64 });
  vx.fdb.set(parseMac('02:00:00:00:00:31'), parseIpv4('192.168.1.11'));
  const br = host.addBridge('cni0', parseMac('02:00:00:00:00:40'), 1450);
  const ports = ['pa', 'pb'].map((p, i) => {
    const [hv] = Netns.addVethPair(host, `veth${i}`, parseMac(`0a:00:00:00:00:0${i + 1}`), new Netns(p, sched, random), 'eth0', parseMac(`0e:00:00:00:00:0${i + 1}`), 1450);
    br.addPort(hv, true);
    host.linkUp(hv);
    return hv;
  });
  for (const d of [eth0, vx, br]) host.linkUp(d);
  return { sched, host, br, ports };
}

describe('bridge fdb show', () => {
  it('lists per device in ifindex order: a port\'s bridge entries newest first, then its own groups; VXLAN its FDB only; lo nothing', () => {
    const { host, br, ports, sched } = node();
    sched.run(5e9);
    br.fdbUpdate(br.portOf(ports[0]!)!, parseMac('0e:00:00:00:00:01'));
    expect(bridgeFdbShow(host)).toBe([
      '33:33:00:00:00:01 dev eth0 self permanent',
      '01:00:5e:00:00:01 dev eth0 self permanent',
      '02:00:00:00:00:31 dev flannel.1 dst 192.168.1.11 self permanent',
      '33:33:00:00:00:01 dev cni0 self permanent',
      '01:00:5e:00:00:6a dev cni0 self permanent',
      '33:33:00:00:00:6a dev cni0 self permanent',
      '01:00:5e:00:00:01 dev cni0 self permanent',
      '0e:00:00:00:00:01 dev veth0 master cni0 ',
      '0a:00:00:00:00:01 dev veth0 master cni0 permanent',
      '33:33:00:00:00:01 dev veth0 self permanent',
      '01:00:5e:00:00:01 dev veth0 self permanent',
      '0a:00:00:00:00:02 dev veth1 master cni0 permanent',
      '33:33:00:00:00:01 dev veth1 self permanent',
      '01:00:5e:00:00:01 dev veth1 self permanent',
      '',
    ].join('\n'));
  });

  it('drops a learned entry once it has aged out; a MAC set on the bridge itself is listed under the bridge', () => {
    const { host, br, ports, sched } = node();
    br.fdbUpdate(br.portOf(ports[1]!)!, parseMac('0e:00:00:00:00:02'));
    expect(bridgeFdbShow(host)).toContain('0e:00:00:00:00:02 dev veth1 master cni0 \n');
    sched.run(DEFAULT_AGEING_TIME_NS + 1);
    expect(bridgeFdbShow(host)).not.toContain('0e:00:00:00:00:02');
    br.setMac(parseMac('02:00:00:00:00:99'));
    expect(bridgeFdbShow(host)).toContain('01:00:5e:00:00:01 dev cni0 self permanent\n02:00:00:00:00:99 dev cni0 master cni0 permanent\n');
  });
});

describe('ip -d link', () => {
  it('prints each kind\'s details as iproute2 6.1 does: veth, vxlan (dev = where the local address is), bridge, bridge_slave', () => {
    const { host, ports } = node();
    ports[1]!.isUp = false;
    const text = ipLinkDetails(host);
    expect(text).toContain('2: eth0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\n' +
      '    link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff link-netns underlay promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \n' +
      '    veth addrgenmode eui64 numtxqueues 2 numrxqueues 2 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 \n');
    expect(text).toContain('    vxlan id 1 local 192.168.1.10 dev eth0 srcport 0 0 dstport 8472 nolearning ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx addrgenmode');
    expect(text).toContain('bridge_id 8000.0a:00:00:00:00:01 designated_root 8000.0a:00:00:00:00:01 ');
    expect(text).toContain('link-netns pa promiscuity 1  allmulti 1 minmtu 68 maxmtu 65535 \n    veth \n    bridge_slave state forwarding priority 32 cost 2 hairpin on ');
    expect(text).toContain('port_id 0x8002 port_no 0x2 designated_port 32770 ');
    // The second port's device is down: the bridge disables it (br_port_carrier_check).
    expect(text).toMatch(/veth1@if2: <BROADCAST,MULTICAST> [^\n]*\n[^\n]*\n    veth \n    bridge_slave state disabled /);
  });
});
