/** Reference capture point names to roles, and roles to podwire's interfaces. */
import { describe, expect, test } from 'vitest';
import { mapByRole, parseReferenceName, playsRole, referenceVethName, type RunInterface } from '../../src/compare/index.js';

const iface = (fields: Partial<RunInterface> & Pick<RunInterface, 'host' | 'name' | 'kind' | 'hostKind'>): RunInterface => ({
  file: `captures/${fields.host}/${fields.name}.pcap`,
  netns: fields.host,
  mac: '02:00:00:00:00:01',
  mtu: 1500,
  addresses: [],
  packets: 1,
  ...fields,
});

describe('parseReferenceName', () => {
  test('devices, host veths and the switch', () => {
    expect(parseReferenceName('kr-n1-flannel.1.pcap')).toEqual({
      name: 'kr-n1-flannel.1',
      file: 'kr-n1-flannel.1.pcap',
      netns: 'n1',
      iface: 'flannel.1',
      role: { kind: 'device', host: 'n1', name: 'flannel.1' },
    });
    expect(parseReferenceName('kr-n2-veth5ccb5cce.pcap')?.role).toEqual({ kind: 'veth', host: 'n2', peerHash: '5ccb5cce' });
    expect(parseReferenceName('kr-underlay-br0.pcap')?.role).toEqual({ kind: 'switch', device: 'br0' });
    expect(parseReferenceName('kr-ext-eth0.pcap')?.role).toEqual({ kind: 'device', host: 'ext', name: 'eth0' });
    expect(parseReferenceName('n1-eth0.pcap')).toBeUndefined();
    expect(parseReferenceName('kr-n1.pcap')).toBeUndefined();
  });

  test("the reference names a pod's host veth after sha256 of its namespace", () => {
    expect(['pa', 'pb', 'pc', 'pd'].map(referenceVethName)).toEqual(['veth748aed50', 'veth78830a10', 'veth7a19c301', 'veth5ccb5cce']);
  });
});

describe('mapByRole', () => {
  const points = ['kr-n1-veth748aed50.pcap', 'kr-underlay-br0.pcap', 'kr-pa-eth0.pcap', 'kr-n1-cni0.pcap'].map((f) => parseReferenceName(f)!);

  test('pairs each point with the interface in its role; the rest is extra', () => {
    const vethPa = iface({ host: 'n1', hostKind: 'node', name: 'veth0a1b2c3d', kind: 'veth', peer: { host: 'pa', name: 'eth0' } });
    const vethPb = iface({ host: 'n1', hostKind: 'node', name: 'veth9f8e7d6c', kind: 'veth', peer: { host: 'pb', name: 'eth0' } });
    const sw = iface({ host: 'underlay', hostKind: 'switch', name: 'br0', kind: 'bridge' });
    const swPort = iface({ host: 'underlay', hostKind: 'switch', name: 'sw-n1', kind: 'veth', peer: { host: 'n1', name: 'eth0' } });
    const pa = iface({ host: 'pa', hostKind: 'pod', name: 'eth0', kind: 'veth', peer: { host: 'n1', name: 'veth0a1b2c3d' } });
    const m = mapByRole(points, [pa, vethPb, swPort, sw, vethPa]);
    expect(m.pairs.map((p) => [p.point.name, p.podwire?.file])).toEqual([
      ['kr-n1-veth748aed50', 'captures/n1/veth0a1b2c3d.pcap'],
      ['kr-underlay-br0', 'captures/underlay/br0.pcap'],
      ['kr-pa-eth0', 'captures/pa/eth0.pcap'],
      ['kr-n1-cni0', undefined],
    ]);
    expect(m.extra).toEqual([vethPb, swPort]);
    expect(m.warnings).toEqual([]);
  });

  test("a pod's own eth0 (a veth whose peer is on the node) is not the node's host veth", () => {
    const pa = iface({ host: 'pa', hostKind: 'pod', name: 'eth0', kind: 'veth', peer: { host: 'n1', name: 'veth748aed50' } });
    expect(playsRole(points[0]!.role, pa)).toBe(false);
  });

  test('two bridges on switches: the one of the same name, with a warning', () => {
    const br0 = iface({ host: 'underlay', hostKind: 'switch', name: 'br0', kind: 'bridge' });
    const other = iface({ host: 'tor', hostKind: 'switch', name: 'br1', kind: 'bridge' });
    const m = mapByRole([points[1]!], [other, br0]);
    expect(m.pairs[0]!.podwire).toBe(br0);
    expect(m.warnings).toEqual(['kr-underlay-br0: 2 podwire interfaces play this role (captures/tor/br1.pcap, captures/underlay/br0.pcap); compared with captures/underlay/br0.pcap']);
  });
});
