import { describe, expect, it } from 'vitest';
import { BridgePlugin, hashedVethName, ipMasqChainName, ipMasqComment, randomVethName, type CniCommandArgs } from '../../src/k8s/cni/bridge-plugin.js';
import { bridgeConfigFromPlugin } from '../../src/k8s/cni/config.js';
import type { JsonObject } from '../../src/k8s/cni/config.js';
import { HostLocalIpam } from '../../src/k8s/ipam/host-local.js';
import { caught, flannelDelegate } from './cni-fixtures.js';
import { FakeNetlink } from './fake-netlink.js';

const HOST = 'kr-n1';
const NS_PA = '/var/run/netns/kr-pa';
const NS_PB = '/var/run/netns/kr-pb';
const IPAM_DIR = '/var/lib/cni/networks/cbr0';

function setup(conf: JsonObject = flannelDelegate, namespaces: readonly string[] = [HOST, NS_PA, NS_PB]) {
  const nl = new FakeNetlink(namespaces);
  const ipam = new HostLocalIpam();
  const plugin = new BridgePlugin({
    hostNetns: HOST,
    netlink: nl,
    iptables: nl,
    ipam,
    // The kernel references name host veths veth + sha256(pod name)[:8].
    hostVethName: (c) => hashedVethName(c.podName ?? c.containerId),
  });
  return { nl, ipam, plugin, conf: bridgeConfigFromPlugin(conf) };
}

function podArgs(pod: string, netns: string, extra = ''): CniCommandArgs {
  return {
    containerId: `c-${pod}`,
    netns,
    ifName: 'eth0',
    args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod};K8S_POD_INFRA_CONTAINER_ID=c-${pod}${extra}`,
  };
}

describe('bridge plugin ADD', () => {
  it("makes the real plugin's kernel calls in its order (first pod: bridge created, gateway address set, MAC pinned)", () => {
    const { nl, plugin, conf } = setup();
    plugin.add(conf, podArgs('kr-pa', NS_PA));
    const V = 'veth748aed50';
    expect(nl.calls).toEqual([
      // ensureBridge
      ['ensureBridge', HOST, 'cni0', { mtu: 1450, promiscMode: false, vlanFiltering: false }],
      ['setSysctl', HOST, 'net.ipv6.conf.cni0.accept_ra', '0'],
      ['setLinkUp', HOST, 'cni0'],
      ['netnsExists', NS_PA],
      // setupVeth (SetupVethWithName, then enslave and hairpin)
      ['createVethPair', { hostNetns: HOST, hostName: V, containerNetns: NS_PA, containerName: 'eth0', mtu: 1450 }],
      ['setLinkUp', HOST, V],
      ['setSysctl', HOST, `net.ipv6.conf.${V}.accept_ra`, '0'],
      ['setMaster', HOST, V, 'cni0'],
      ['setHairpin', HOST, V, true],
      // in the container: sysctls, then ConfigureIface (addresses, up, routes)
      ['setSysctl', NS_PA, 'net.ipv6.conf.eth0.accept_dad', '0'],
      ['setSysctl', NS_PA, 'net.ipv4.conf.eth0.arp_notify', '1'],
      ['addAddress', NS_PA, 'eth0', '10.244.1.2/24'],
      ['setLinkUp', NS_PA, 'eth0'],
      ['addRoute', NS_PA, { dst: '10.244.0.0/16', gw: '10.244.1.1', dev: 'eth0' }],
      ['addRoute', NS_PA, { dst: '0.0.0.0/0', gw: '10.244.1.1', dev: 'eth0' }],
      // isGateway: ensureAddr on the bridge, then forwarding
      ['listAddresses', HOST, 'cni0'],
      ['addAddress', HOST, 'cni0', '10.244.1.1/24'],
      ['setHardwareAddress', HOST, 'cni0', '0a:58:0a:00:00:01'],
      ['setSysctl', HOST, 'net.ipv4.ip_forward', '1'],
      // refetch for the result
      ['linkMac', HOST, V],
      ['linkMac', HOST, 'cni0'],
    ]);
  });

  it('prints the 0.3.1 result: [bridge, host veth, container veth], ips[].interface = 2, the IPAM route and the default route', () => {
    const { plugin, conf } = setup();
    const { result, json } = plugin.add(conf, podArgs('kr-pa', NS_PA));
    expect(result.ips).toEqual([{ interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }]);
    expect(json).toBe(
      [
        '{',
        '    "cniVersion": "0.3.1",',
        '    "interfaces": [',
        '        {',
        '            "name": "cni0",',
        '            "mac": "0a:58:0a:00:00:01"',
        '        },',
        '        {',
        '            "name": "veth748aed50",',
        '            "mac": "0a:58:0a:00:00:03"',
        '        },',
        '        {',
        '            "name": "eth0",',
        '            "mac": "0a:58:0a:00:00:02",',
        '            "sandbox": "/var/run/netns/kr-pa"',
        '        }',
        '    ],',
        '    "ips": [',
        '        {',
        '            "version": "4",',
        '            "interface": 2,',
        '            "address": "10.244.1.2/24",',
        '            "gateway": "10.244.1.1"',
        '        }',
        '    ],',
        '    "routes": [',
        '        {',
        '            "dst": "10.244.0.0/16"',
        '        },',
        '        {',
        '            "dst": "0.0.0.0/0",',
        '            "gw": "10.244.1.1"',
        '        }',
        '    ],',
        '    "dns": {}',
        '}',
      ].join('\n'),
    );
  });

  it('leaves the bridge alone on the second pod: address already there, MAC already pinned', () => {
    const { nl, plugin, conf, ipam } = setup();
    plugin.add(conf, podArgs('kr-pa', NS_PA));
    nl.calls.length = 0;
    const { result } = plugin.add(conf, podArgs('kr-pb', NS_PB));
    expect(result.interfaces.map((i) => i.name)).toEqual(['cni0', 'veth78830a10', 'eth0']);
    expect(result.interfaces[0]?.mac).toBe('0a:58:0a:00:00:01');
    expect(result.ips[0]?.address).toBe('10.244.1.3/24');
    const bridgeCalls = nl.calls.filter((c) => c[0] !== 'linkMac' && c.slice(1).some((x) => typeof x === 'string' && x.includes('cni0')));
    expect(bridgeCalls).toEqual([
      ['ensureBridge', HOST, 'cni0', { mtu: 1450, promiscMode: false, vlanFiltering: false }],
      ['setSysctl', HOST, 'net.ipv6.conf.cni0.accept_ra', '0'],
      ['setLinkUp', HOST, 'cni0'],
      ['setMaster', HOST, 'veth78830a10', 'cni0'],
      ['listAddresses', HOST, 'cni0'],
    ]);
    expect(ipam.files().get(`${IPAM_DIR}/10.244.1.3`)).toBe('c-kr-pb\r\neth0');
    expect(nl.link(HOST, 'veth78830a10').hairpin).toBe(true);
  });

  it('keeps the bridge MAC it read at creation, not the port MAC the kernel gave it meanwhile', () => {
    const { nl, plugin, conf } = setup();
    plugin.add(conf, podArgs('kr-pa', NS_PA));
    // The bridge took the port's MAC when the veth joined (br_stp_recalculate_bridge_id), then
    // ensureAddr set the MAC read at creation, which pins it.
    expect(nl.bridgeMacChanges).toEqual([
      ['cni0', '0a:58:0a:00:00:03'],
      ['cni0', '0a:58:0a:00:00:01'],
    ]);
    expect(nl.link(HOST, 'cni0')).toMatchObject({ mac: '0a:58:0a:00:00:01', pinned: true, addrs: ['10.244.1.1/24'], up: true, mtu: 1450 });
  });

  it('uses a configured container MAC (CNI_ARGS MAC=, overridden by runtimeConfig.mac)', () => {
    const { plugin, conf } = setup();
    const { result } = plugin.add(conf, podArgs('kr-pa', NS_PA, ';MAC=0a:00:00:00:00:aa'));
    expect(result.interfaces[2]?.mac).toBe('0a:00:00:00:00:aa');
    const { plugin: p2, conf: c2 } = setup({ ...flannelDelegate, runtimeConfig: { mac: '0a:00:00:00:00:bb' } });
    expect(p2.add(c2, podArgs('kr-pa', NS_PA, ';MAC=0a:00:00:00:00:aa')).result.interfaces[2]?.mac).toBe('0a:00:00:00:00:bb');
    expect(caught(() => p2.add(bridgeConfigFromPlugin({ ...flannelDelegate, runtimeConfig: { mac: 'nope' } }), podArgs('kr-pb', NS_PB))).msg).toBe(
      'failed to make veth pair: address nope: invalid MAC address',
    );
  });

  it('sets up the ipMasq chain and rules per pod address', () => {
    const { nl, plugin, conf } = setup({ ...flannelDelegate, ipMasq: true });
    plugin.add(conf, podArgs('kr-pa', NS_PA));
    const chain = ipMasqChainName('cbr0', 'c-kr-pa');
    expect(chain).toMatch(/^CNI-[0-9a-f]{24}$/);
    const comment = 'name: "cbr0" id: "c-kr-pa"';
    expect(ipMasqComment('cbr0', 'c-kr-pa')).toBe(comment);
    expect(nl.nat.get(chain)).toEqual([
      ['-d', '10.244.1.2/24', '-j', 'ACCEPT', '-m', 'comment', '--comment', comment],
      ['!', '-d', '224.0.0.0/4', '-j', 'MASQUERADE', '-m', 'comment', '--comment', comment],
    ]);
    expect(nl.nat.get('POSTROUTING')).toEqual([['-s', '10.244.1.2', '-j', chain, '-m', 'comment', '--comment', comment]]);
  });

  it('runs in L2 mode without ipam: container link up, no addresses, no bridge address', () => {
    const { nl, plugin, conf } = setup({ cniVersion: '0.3.1', name: 'l2', type: 'bridge', bridge: 'br-l2' });
    const { json, result } = plugin.add(conf, podArgs('kr-pa', NS_PA));
    expect(result.ips).toEqual([]);
    expect(nl.calls.map(([m]) => m)).toEqual([
      'ensureBridge',
      'setSysctl',
      'setLinkUp',
      'netnsExists',
      'createVethPair',
      'setLinkUp',
      'setSysctl',
      'setMaster',
      'setHairpin',
      'setLinkUp',
      'linkMac',
      'linkMac',
    ]);
    expect(JSON.parse(json)).toEqual({
      cniVersion: '0.3.1',
      interfaces: [
        // No gateway address: the bridge keeps the lowest port MAC, the host veth's.
        { name: 'br-l2', mac: '0a:58:0a:00:00:03' },
        { name: 'veth748aed50', mac: '0a:58:0a:00:00:03' },
        { name: 'eth0', mac: '0a:58:0a:00:00:02', sandbox: NS_PA },
      ],
      dns: {},
    });
  });

  it('takes the network dns over the IPAM one when set', () => {
    const { plugin, conf } = setup({ ...flannelDelegate, cniVersion: '1.0.0', dns: { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] } });
    const { json } = plugin.add(conf, podArgs('kr-pa', NS_PA));
    expect(JSON.parse(json).dns).toEqual({ nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] });
    expect(Object.keys(JSON.parse(json))).toEqual(['cniVersion', 'dns', 'interfaces', 'ips', 'routes']);
  });
});

describe('bridge plugin ADD failures', () => {
  it('leaves the veth in place when the pool is exhausted, with host-local error as the plugin error', () => {
    const { nl, plugin, conf, ipam } = setup({ ...flannelDelegate, ipam: { type: 'host-local', subnet: '10.0.0.0/30' } });
    plugin.add(conf, podArgs('kr-pa', NS_PA));
    const e = caught(() => plugin.add(conf, podArgs('kr-pb', NS_PB)));
    expect([e.code, e.msg]).toEqual([999, 'failed to allocate for range 0: no IP addresses available in range set: 10.0.0.1-10.0.0.2']);
    // As on a real node: the runtime's DEL after the failed ADD cleans up the veth.
    expect(nl.linkExists(NS_PB, 'eth0')).toBe(true);
    expect(nl.link(NS_PB, 'eth0').addrs).toEqual([]);
    plugin.del(conf, podArgs('kr-pb', NS_PB));
    expect(nl.linkExists(NS_PB, 'eth0')).toBe(false);
    expect(nl.linkExists(HOST, 'veth78830a10')).toBe(false);
    expect([...ipam.files().keys()]).toContain('/var/lib/cni/networks/cbr0/10.0.0.2');
  });

  it('releases the address when a step after IPAM fails', () => {
    const { nl, plugin, conf, ipam } = setup();
    nl.ensureBridge(HOST, 'cni0', { mtu: 0, promiscMode: false, vlanFiltering: false });
    nl.addAddress(HOST, 'cni0', '192.168.0.1/24');
    const e = caught(() => plugin.add(conf, podArgs('kr-pa', NS_PA)));
    expect(e.msg).toBe('failed to set bridge addr: "cni0" already has an IP address different from 10.244.1.1/24');
    expect([...ipam.files().keys()].filter((p) => p.endsWith('10.244.1.2'))).toEqual([]);
    // forceAddress replaces it.
    const forced = setup({ ...flannelDelegate, forceAddress: true });
    forced.nl.ensureBridge(HOST, 'cni0', { mtu: 0, promiscMode: false, vlanFiltering: false });
    forced.nl.addAddress(HOST, 'cni0', '192.168.0.1/24');
    forced.plugin.add(forced.conf, podArgs('kr-pa', NS_PA));
    expect(forced.nl.link(HOST, 'cni0').addrs).toEqual(['10.244.1.1/24']);
  });

  it('checks the environment as skel does', () => {
    const { plugin, conf } = setup();
    const e1 = caught(() => plugin.add(conf, { containerId: '', netns: '', ifName: 'eth0' }));
    expect([e1.code, e1.msg]).toEqual([4, 'required env variables [CNI_CONTAINERID,CNI_NETNS] missing']);
    const e2 = caught(() => plugin.add(conf, { ...podArgs('kr-pa', NS_PA), containerId: 'bad id' }));
    expect([e2.code, e2.msg, e2.details]).toEqual([4, 'invalid characters in containerID', 'bad id']);
    const e3 = caught(() => plugin.add(conf, { ...podArgs('kr-pa', NS_PA), ifName: 'eth0123456789012' }));
    expect([e3.code, e3.msg, e3.details]).toEqual([4, 'interface name is too long', 'interface name should be less than 16 characters']);
    const e4 = caught(() => plugin.add(conf, { ...podArgs('kr-pa', NS_PA), ifName: 'eth:0' }));
    expect(e4.msg).toBe('interface name contains / or : or whitespace characters');
  });

  it('fails on a missing netns, an existing interface, hairpin with promisc, and an IPAM it cannot find', () => {
    const { plugin, conf } = setup();
    expect(caught(() => plugin.add(conf, podArgs('kr-px', '/var/run/netns/gone'))).msg).toBe(
      'failed to open netns "/var/run/netns/gone": failed to Statfs "/var/run/netns/gone": no such file or directory',
    );
    plugin.add(conf, podArgs('kr-pa', NS_PA));
    expect(caught(() => plugin.add(conf, { ...podArgs('kr-pa', NS_PA), containerId: 'other' })).msg).toBe(
      'container veth name ("eth0") peer provided ("veth748aed50") already exists',
    );
    const p = setup({ ...flannelDelegate, promiscMode: true });
    expect(caught(() => p.plugin.add(p.conf, podArgs('kr-pa', NS_PA))).msg).toBe('cannot set hairpin mode and promiscuous mode at the same time');
    const d = setup({ ...flannelDelegate, ipam: { type: 'dhcp' } });
    expect(caught(() => d.plugin.add(d.conf, podArgs('kr-pa', NS_PA))).msg).toBe('failed to find plugin "dhcp" in path [/opt/cni/bin]');
  });
});

describe('bridge plugin DEL', () => {
  it('deletes the container interface (and so the host veth), releases the address, keeps the bridge', () => {
    const { nl, plugin, conf, ipam } = setup();
    plugin.add(conf, podArgs('kr-pa', NS_PA));
    plugin.add(conf, podArgs('kr-pb', NS_PB));
    nl.calls.length = 0;
    plugin.del(conf, podArgs('kr-pa', NS_PA));
    expect(nl.calls).toEqual([
      ['netnsExists', NS_PA],
      ['linkExists', NS_PA, 'eth0'],
      ['listAddresses', NS_PA, 'eth0'],
      ['deleteLink', NS_PA, 'eth0'],
    ]);
    expect(nl.linkExists(HOST, 'veth748aed50')).toBe(false);
    expect(nl.linkExists(HOST, 'cni0')).toBe(true);
    expect(ipam.files().has(`${IPAM_DIR}/10.244.1.2`)).toBe(false);
    expect(ipam.files().get(`${IPAM_DIR}/10.244.1.3`)).toBe('c-kr-pb\r\neth0');
    // Round-robin: the next pod does not get .2 back.
    expect(plugin.add(conf, podArgs('kr-pa', NS_PA)).result.ips[0]?.address).toBe('10.244.1.4/24');
  });

  it('is idempotent, and without a netns releases only the address', () => {
    const { nl, plugin, conf, ipam } = setup();
    plugin.add(conf, podArgs('kr-pa', NS_PA));
    plugin.del(conf, podArgs('kr-pa', NS_PA));
    expect(() => plugin.del(conf, podArgs('kr-pa', NS_PA))).not.toThrow();
    plugin.add(conf, podArgs('kr-pb', NS_PB));
    nl.calls.length = 0;
    plugin.del(conf, { ...podArgs('kr-pb', NS_PB), netns: '' });
    expect(nl.calls).toEqual([]);
    expect([...ipam.files().keys()].filter((p) => /\/10\./.test(p))).toEqual([]);
    expect(nl.linkExists(NS_PB, 'eth0')).toBe(true);
  });

  it('removes the ipMasq rules of the deleted addresses', () => {
    const { nl, plugin, conf } = setup({ ...flannelDelegate, ipMasq: true });
    plugin.add(conf, podArgs('kr-pa', NS_PA));
    const chain = ipMasqChainName('cbr0', 'c-kr-pa');
    plugin.del(conf, podArgs('kr-pa', NS_PA));
    expect(nl.nat.has(chain)).toBe(false);
    expect(nl.nat.get('POSTROUTING')).toEqual([]);
    expect(nl.calls.filter(([m]) => m === 'deleteRule' || m === 'clearChain' || m === 'deleteChain').map(([m, , , c, r]) => [m, c, Array.isArray(r) ? r[1] : undefined])).toEqual([
      ['deleteRule', 'POSTROUTING', '10.244.1.2'],
      ['deleteRule', 'POSTROUTING', '10.244.1.2/24'],
      ['clearChain', chain, undefined],
      ['deleteChain', chain, undefined],
    ]);
  });
});

describe('host veth names', () => {
  it('are veth + 8 hex digits: 4 random bytes, or sha256 of a stable name as in the references', () => {
    expect(randomVethName(Uint8Array.of(0x0a, 0xbc, 0x00, 0xff))).toBe('veth0abc00ff');
    expect(['kr-pa', 'kr-pb', 'kr-pc', 'kr-pd'].map(hashedVethName)).toEqual(['veth748aed50', 'veth78830a10', 'veth7a19c301', 'veth5ccb5cce']);
  });
});
