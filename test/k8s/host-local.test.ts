import { describe, expect, it } from 'vitest';
import { cniErrorJson, type CniError } from '../../src/k8s/cni/cni-error.js';
import { loadHostLocalConfig, type HostLocalConfig } from '../../src/k8s/cni/config.js';
import { HostLocalIpam, HostLocalStore, ipamResultJson, parseResolvConf } from '../../src/k8s/ipam/host-local.js';
import { caught } from './cni-fixtures.js';

const DIR = '/var/lib/cni/networks/cbr0';

function hostLocal(ipam: Record<string, unknown>, top: Record<string, unknown> = {}): HostLocalConfig {
  return loadHostLocalConfig({ cniVersion: '1.0.0', name: 'cbr0', type: 'bridge', ...top, ipam: { type: 'host-local', ...ipam } });
}

const podSubnet = hostLocal({ ranges: [[{ subnet: '10.244.1.0/24' }]], routes: [{ dst: '10.244.0.0/16' }] });

function addressOf(ipam: HostLocalIpam, conf: HostLocalConfig, id: string, ifName = 'eth0', cniArgs?: string): string {
  return ipam.add(conf, { containerId: id, ifName, ...(cniArgs !== undefined ? { cniArgs } : {}) }).ips.map((c) => c.address).join(',');
}

describe('host-local allocation order', () => {
  it('hands out .2 first (rangeStart .1 is the default gateway, skipped), then counts up', () => {
    const ipam = new HostLocalIpam();
    const r = ipam.add(podSubnet, { containerId: 'c1', ifName: 'eth0' });
    expect(r.ips).toEqual([{ address: '10.244.1.2/24', gateway: '10.244.1.1' }]);
    expect(r.routes).toEqual([{ dst: '10.244.0.0/16' }]);
    expect(addressOf(ipam, podSubnet, 'c2')).toBe('10.244.1.3/24');
    expect(addressOf(ipam, podSubnet, 'c3')).toBe('10.244.1.4/24');
  });

  it('is round-robin: after DEL of the pod on .2 the next ADD gets .4, not .2', () => {
    const ipam = new HostLocalIpam();
    expect(addressOf(ipam, podSubnet, 'c1')).toBe('10.244.1.2/24');
    expect(addressOf(ipam, podSubnet, 'c2')).toBe('10.244.1.3/24');
    ipam.del(podSubnet, { containerId: 'c1', ifName: 'eth0' });
    expect(ipam.files().has(`${DIR}/10.244.1.2`)).toBe(false);
    expect(ipam.files().get(`${DIR}/last_reserved_ip.0`)).toBe('10.244.1.3');
    expect(addressOf(ipam, podSubnet, 'c3')).toBe('10.244.1.4/24');
  });

  it('wraps from rangeEnd back to rangeStart, honouring both', () => {
    const conf = hostLocal({ ranges: [[{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.10', rangeEnd: '10.0.0.12' }]] });
    const ipam = new HostLocalIpam();
    expect(['a', 'b', 'c'].map((id) => addressOf(ipam, conf, id))).toEqual(['10.0.0.10/24', '10.0.0.11/24', '10.0.0.12/24']);
    ipam.del(conf, { containerId: 'b', ifName: 'eth0' });
    ipam.del(conf, { containerId: 'a', ifName: 'eth0' });
    // The cursor is .12 = rangeEnd: the walk wraps to rangeStart.
    expect(addressOf(ipam, conf, 'd')).toBe('10.0.0.10/24');
    expect(addressOf(ipam, conf, 'e')).toBe('10.0.0.11/24');
    expect(caught(() => addressOf(ipam, conf, 'f')).msg).toBe('failed to allocate for range 0: no IP addresses available in range set: 10.0.0.10-10.0.0.12');
  });

  it('skips the gateway when it lies inside the range, also on wrap-around', () => {
    const conf = hostLocal({ subnet: '10.0.0.0/29', gateway: '10.0.0.4' });
    const ipam = new HostLocalIpam();
    const got = ['a', 'b', 'c', 'd', 'e'].map((id) => addressOf(ipam, conf, id));
    expect(got).toEqual(['10.0.0.1/29', '10.0.0.2/29', '10.0.0.3/29', '10.0.0.5/29', '10.0.0.6/29']);
    ipam.del(conf, { containerId: 'c', ifName: 'eth0' });
    expect(addressOf(ipam, conf, 'f')).toBe('10.0.0.3/29');
  });

  it('gives up after .254 in a /24 with the real message, and writes nothing for the failed ADD', () => {
    const ipam = new HostLocalIpam();
    for (let i = 2; i <= 254; i++) expect(addressOf(ipam, podSubnet, `c${i}`)).toBe(`10.244.1.${i}/24`);
    const before = ipam.files();
    const e = caught(() => ipam.add(podSubnet, { containerId: 'c255', ifName: 'eth0' }));
    expect(e.code).toBe(999);
    expect(e.msg).toBe('failed to allocate for range 0: no IP addresses available in range set: 10.244.1.1-10.244.1.254');
    expect(cniErrorJson(e)).toBe(
      '{\n    "code": 999,\n    "msg": "failed to allocate for range 0: no IP addresses available in range set: 10.244.1.1-10.244.1.254"\n}',
    );
    expect(ipam.files()).toEqual(before);
    expect(before.get(`${DIR}/last_reserved_ip.0`)).toBe('10.244.1.254');
  });

  it('walks every range of a set, and names them all when the set is full', () => {
    const conf = hostLocal({ ranges: [[{ subnet: '10.0.0.0/30' }, { subnet: '10.0.1.0/30' }]] });
    const ipam = new HostLocalIpam();
    expect(addressOf(ipam, conf, 'a')).toBe('10.0.0.2/30');
    expect(addressOf(ipam, conf, 'b')).toBe('10.0.1.2/30');
    expect(caught(() => addressOf(ipam, conf, 'c')).msg).toBe(
      'failed to allocate for range 0: no IP addresses available in range set: 10.0.0.1-10.0.0.2,10.0.1.1-10.0.1.2',
    );
  });

  it('gives one address per range set, each set with its own cursor file, and rolls back on failure', () => {
    const conf = hostLocal({ ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.1.0.0/30' }]] });
    const ipam = new HostLocalIpam();
    expect(addressOf(ipam, conf, 'a')).toBe('10.0.0.2/24,10.1.0.2/30');
    expect(ipam.files().get(`${DIR}/last_reserved_ip.0`)).toBe('10.0.0.2');
    expect(ipam.files().get(`${DIR}/last_reserved_ip.1`)).toBe('10.1.0.2');
    // Set 1 is full: set 0's new address is released again.
    expect(caught(() => addressOf(ipam, conf, 'b')).msg).toBe('failed to allocate for range 1: no IP addresses available in range set: 10.1.0.1-10.1.0.2');
    expect(ipam.files().has(`${DIR}/10.0.0.3`)).toBe(false);
  });

  it('restarts from rangeStart when the cursor lies outside the configured range', () => {
    const store = new HostLocalStore();
    const wide = hostLocal({ subnet: '10.0.0.0/24' });
    new HostLocalIpam(store).add(wide, { containerId: 'a', ifName: 'eth0' }); // .2, cursor .2
    const narrow = hostLocal({ subnet: '10.0.0.0/24', rangeStart: '10.0.0.100' });
    expect(addressOf(new HostLocalIpam(store), narrow, 'b')).toBe('10.0.0.100/24');
  });
});

describe('host-local ADD and DEL semantics', () => {
  it('refuses a second ADD for the same container ID and ifname (no idempotent answer)', () => {
    const ipam = new HostLocalIpam();
    addressOf(ipam, podSubnet, 'c1');
    const e = caught(() => addressOf(ipam, podSubnet, 'c1'));
    expect(e.code).toBe(999);
    expect(e.msg).toBe('failed to allocate for range 0: 10.244.1.2 has been allocated to c1, duplicate allocation is not allowed');
    // Another interface of the same container is another attachment.
    expect(addressOf(ipam, podSubnet, 'c1', 'net1')).toBe('10.244.1.3/24');
  });

  it('releases by container ID and ifname only, and tolerates DEL of what is not there', () => {
    const ipam = new HostLocalIpam();
    addressOf(ipam, podSubnet, 'c1', 'eth0');
    addressOf(ipam, podSubnet, 'c1', 'net1');
    ipam.del(podSubnet, { containerId: 'c1', ifName: 'net1' });
    expect([...ipam.files().keys()].filter((p) => /\/10\./.test(p))).toEqual([`${DIR}/10.244.1.2`]);
    const before = ipam.files();
    ipam.del(podSubnet, { containerId: 'nope', ifName: 'eth0' });
    ipam.del(podSubnet, { containerId: 'c1', ifName: 'net1' });
    expect(ipam.files()).toEqual(before);
  });

  it('releases files written by older versions (container ID only)', () => {
    const store = new HostLocalStore();
    // An empty ifname writes "old\r\n", which TrimSpace reads as the pre-ifname format "old".
    store.open('/var/lib/cni/networks', 'cbr0').reserve('old', '', 0x0af4_0102, '0');
    expect(store.readFile(`${DIR}/10.244.1.2`)).toBe('old\r\n');
    new HostLocalIpam(store).del(podSubnet, { containerId: 'old', ifName: 'eth0' });
    expect(store.readFile(`${DIR}/10.244.1.2`)).toBeUndefined();
  });

  it('takes a requested address from CNI_ARGS IP= and moves the cursor there', () => {
    const ipam = new HostLocalIpam();
    expect(addressOf(ipam, podSubnet, 'a', 'eth0', 'IgnoreUnknown=1;K8S_POD_NAME=pa;IP=10.244.1.50')).toBe('10.244.1.50/24');
    expect(ipam.files().get(`${DIR}/last_reserved_ip.0`)).toBe('10.244.1.50');
    expect(addressOf(ipam, podSubnet, 'b')).toBe('10.244.1.51/24');
    expect(caught(() => addressOf(ipam, podSubnet, 'c', 'eth0', 'IP=10.244.1.1')).msg).toBe(
      "failed to allocate for range 0: requested ip 10.244.1.1 is subnet's gateway",
    );
    expect(caught(() => addressOf(ipam, podSubnet, 'd', 'eth0', 'IP=10.244.1.50')).msg).toBe(
      'failed to allocate for range 0: requested IP address 10.244.1.50 is not available in range set 10.244.1.1-10.244.1.254',
    );
    expect(caught(() => addressOf(ipam, podSubnet, 'e', 'eth0', 'IP=10.9.9.9')).msg).toBe('failed to allocate all requested IPs: 10.9.9.9');
  });

  it('rejects unknown CNI_ARGS unless IgnoreUnknown is set, as types.LoadArgs does', () => {
    const ipam = new HostLocalIpam();
    expect(caught(() => addressOf(ipam, podSubnet, 'a', 'eth0', 'K8S_POD_NAME=pa;K8S_POD_NAMESPACE=default')).msg).toBe(
      'ARGS: unknown args ["K8S_POD_NAME=pa" "K8S_POD_NAMESPACE=default"]',
    );
    expect(caught(() => addressOf(ipam, podSubnet, 'a', 'eth0', 'IgnoreUnknown=yes')).msg).toBe(
      'ARGS: error parsing value of pair "IgnoreUnknown=yes": boolean unmarshal error: invalid input yes)',
    );
    expect(caught(() => addressOf(ipam, podSubnet, 'a', 'eth0', 'IP')).msg).toBe('ARGS: invalid pair "IP"');
  });

  it('reads DNS from resolvConf when configured, and fails like a missing file when it is not there', () => {
    const conf = hostLocal({ subnet: '10.0.0.0/24', resolvConf: '/etc/resolv.conf' });
    const ipam = new HostLocalIpam(new HostLocalStore(), {
      readFile: (p) => (p === '/etc/resolv.conf' ? '# x\nnameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local\noptions ndots:5\n' : undefined),
    });
    expect(ipam.add(conf, { containerId: 'a', ifName: 'eth0' }).dns).toEqual({
      nameservers: ['10.96.0.10'],
      search: ['default.svc.cluster.local', 'svc.cluster.local'],
      options: ['ndots:5'],
    });
    expect(caught(() => new HostLocalIpam().add(conf, { containerId: 'a', ifName: 'eth0' })).msg).toBe('open /etc/resolv.conf: no such file or directory');
    expect(parseResolvConf('domain example.org\nnameserver\n; c\n')).toEqual({ domain: 'example.org' });
  });
});

describe('host-local store files', () => {
  it('mirrors /var/lib/cni/networks/<network> byte for byte', () => {
    const ipam = new HostLocalIpam();
    addressOf(ipam, podSubnet, 'd2bb4b1cd0a5e1c07cc3c1a5f8b0a4d2b7c3e0f1a2b3c4d5e6f708192a3b4c5d');
    addressOf(ipam, podSubnet, ' 5f1c ', 'eth0'); // the ID is TrimSpace'd
    const files = ipam.files();
    expect([...files.keys()]).toEqual([`${DIR}/10.244.1.2`, `${DIR}/10.244.1.3`, `${DIR}/last_reserved_ip.0`, `${DIR}/lock`]);
    const bytes = (p: string): string => Buffer.from(files.get(p) ?? '', 'utf8').toString('hex');
    expect(bytes(`${DIR}/10.244.1.2`)).toBe(Buffer.from('d2bb4b1cd0a5e1c07cc3c1a5f8b0a4d2b7c3e0f1a2b3c4d5e6f708192a3b4c5d\r\neth0').toString('hex'));
    expect(bytes(`${DIR}/10.244.1.3`)).toBe('35663163' + '0d0a' + '65746830');
    expect(bytes(`${DIR}/last_reserved_ip.0`)).toBe(Buffer.from('10.244.1.3').toString('hex'));
    expect(files.get(`${DIR}/lock`)).toBe('');
  });

  it('keeps each network in its own directory, under dataDir when given', () => {
    const store = new HostLocalStore();
    const ipam = new HostLocalIpam(store);
    ipam.add(hostLocal({ subnet: '10.0.0.0/24', dataDir: '/run/ipam/' }, { name: 'a' }), { containerId: 'x', ifName: 'eth0' });
    ipam.add(hostLocal({ subnet: '10.0.0.0/24' }, { name: 'b' }), { containerId: 'x', ifName: 'eth0' });
    expect([...store.files().keys()]).toEqual([
      '/run/ipam/a/10.0.0.2',
      '/run/ipam/a/last_reserved_ip.0',
      '/run/ipam/a/lock',
      '/var/lib/cni/networks/b/10.0.0.2',
      '/var/lib/cni/networks/b/last_reserved_ip.0',
      '/var/lib/cni/networks/b/lock',
    ]);
  });
});

describe('host-local configuration', () => {
  const err = (ipam: Record<string, unknown>, top: Record<string, unknown> = {}): CniError => caught(() => hostLocal(ipam, top));

  it('rejects /31 and /32 with the plugin text', () => {
    expect(err({ subnet: '10.0.0.0/31' }).msg).toBe('invalid range set 0: Network 10.0.0.0/31 too small to allocate from');
    expect(err({ ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.1.0.7/32' }]] }).msg).toBe('invalid range set 1: Network 10.1.0.7/32 too small to allocate from');
    expect(err({ subnet: '10.0.0.0/31' }).code).toBe(999);
  });

  it('defaults rangeStart and gateway to network+1 and rangeEnd to broadcast-1', () => {
    const c = hostLocal({ subnet: '10.0.0.0/30' });
    expect(c.ranges).toEqual([[{ subnet: { ip: 0x0a00_0000, prefixLen: 30 }, rangeStart: 0x0a00_0001, rangeEnd: 0x0a00_0002, gateway: 0x0a00_0001 }]]);
    const ipam = new HostLocalIpam();
    expect(addressOf(ipam, c, 'a')).toBe('10.0.0.2/30');
    expect(caught(() => addressOf(ipam, c, 'b')).msg).toBe('failed to allocate for range 0: no IP addresses available in range set: 10.0.0.1-10.0.0.2');
  });

  it('reports the range errors of range.go and config.go', () => {
    expect(err({ subnet: '10.244.1.5/24' }).msg).toBe('invalid range set 0: Network has host bits set. For a subnet mask of length 24 the network address is 10.244.1.0');
    expect(err({ subnet: '10.0.0.0/24', rangeStart: '10.0.1.5' }).msg).toBe('invalid range set 0: RangeStart 10.0.1.5 not in network 10.0.0.0/24');
    expect(err({ subnet: '10.0.0.0/24', rangeStart: '10.0.0.50', rangeEnd: '10.0.0.20' }).msg).toBe('invalid range set 0: RangeEnd 10.0.0.20 not in network 10.0.0.0/24');
    expect(err({ ranges: [[{ subnet: '10.0.0.0/24' }, { subnet: '10.0.0.0/25' }]] }).msg).toBe(
      'invalid range set 0: subnets 10.0.0.1-10.0.0.254 and 10.0.0.1-10.0.0.126 overlap',
    );
    expect(err({ ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.0.0.128/25' }]] }).msg).toBe('range set 0 overlaps with 1');
    expect(err({ ranges: [] }).msg).toBe('no IP ranges specified');
    expect(err({ ranges: [[]] }).msg).toBe('invalid range set 0: empty range set');
    expect(err({ subnet: '10.0.0/24' }).msg).toBe('invalid CIDR address: 10.0.0/24');
    expect(err({ subnet: '10.0.0.0/24', gateway: '10.0.0.300' }).msg).toBe('invalid IP address: 10.0.0.300');
    expect(err({ ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.1.0.0/24' }]] }, { cniVersion: '0.2.0' }).msg).toBe(
      'CNI version 0.2.0 does not support more than 1 address per family',
    );
    expect(caught(() => loadHostLocalConfig({ name: 'x', type: 'bridge' })).msg).toBe("IPAM config missing 'ipam' key");
  });

  it('puts the old flat subnet form first, before ranges', () => {
    const c = hostLocal({ subnet: '10.1.0.0/16', gateway: '10.1.0.1', ranges: [[{ subnet: '10.2.0.0/24' }]] });
    expect(c.ranges.length).toBe(2);
    expect(addressOf(new HostLocalIpam(), c, 'a')).toBe('10.1.0.2/16,10.2.0.2/24');
  });

  it('prints its own result in the configuration version', () => {
    const ipam = new HostLocalIpam();
    const r = ipam.add(podSubnet, { containerId: 'a', ifName: 'eth0' });
    expect(ipamResultJson(r, '0.3.1')).toBe(
      [
        '{',
        '    "cniVersion": "0.3.1",',
        '    "ips": [',
        '        {',
        '            "version": "4",',
        '            "address": "10.244.1.2/24",',
        '            "gateway": "10.244.1.1"',
        '        }',
        '    ],',
        '    "routes": [',
        '        {',
        '            "dst": "10.244.0.0/16"',
        '        }',
        '    ],',
        '    "dns": {}',
        '}',
      ].join('\n'),
    );
  });
});
