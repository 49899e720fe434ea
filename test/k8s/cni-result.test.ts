import { describe, expect, it } from 'vitest';
import { CniError, cniErrorJson } from '../../src/k8s/cni/cni-error.js';
import { resultJson, resultObject, type CniResult } from '../../src/k8s/cni/result.js';
import { specFixture } from './spec-fixtures.js';

/** The keys of an object, recursively: [key, childKeys] per level, to compare field order. */
function keyOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(keyOrder);
  if (v !== null && typeof v === 'object') return Object.entries(v).map(([k, c]) => (c !== null && typeof c === 'object' ? [k, keyOrder(c)] : k));
  return v;
}

// The interfaces of the spec's bridge examples (0.4.0 and 1.0.0): [bridge, host veth, container veth].
const specInterfaces: CniResult['interfaces'] = [
  { name: 'cni0', mac: '00:11:22:33:44:55' },
  { name: 'veth3243', mac: '55:44:33:22:11:11' },
  { name: 'eth0', mac: '99:88:77:66:55:44', sandbox: '/var/run/netns/blue' },
];

// The values of the spec 1.0.0 "Add example" bridge result.
const specAdd: CniResult = {
  cniVersion: '1.0.0',
  interfaces: specInterfaces,
  ips: [{ interface: 2, address: '10.1.0.5/16', gateway: '10.1.0.1' }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: { nameservers: ['10.1.0.1'] },
};

describe('CNI result 1.0.0 / 1.1.0', () => {
  it('has the structure of the spec 1.0.0 bridge ADD example', () => {
    const spec = specFixture('cni-spec-1.0.0-bridge-add-result.jsonc');
    expect(JSON.parse(resultJson(specAdd, '1.0.0'))).toEqual({ cniVersion: '1.0.0', ...spec });
    // No `version` in ips since 1.0.0.
    expect(JSON.stringify(resultObject(specAdd, '1.0.0'))).not.toContain('"version"');
  });

  it('has the structure of the spec 1.0.0 host-local (IPAM) example: no interfaces, no ips[].interface', () => {
    const spec = specFixture('cni-spec-1.0.0-host-local-add-result.jsonc');
    const ipamResult: CniResult = { cniVersion: '1.0.0', interfaces: [], ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: { nameservers: ['10.1.0.1'] } };
    expect(JSON.parse(resultJson(ipamResult, '1.0.0'))).toEqual({ cniVersion: '1.0.0', ...spec });
  });

  it('prints keys sorted at every level, as libcni >= 1.2 does through its map round trip', () => {
    expect(keyOrder(resultObject(specAdd, '1.0.0'))).toEqual([
      'cniVersion',
      ['dns', [['nameservers', ['10.1.0.1']]]],
      ['interfaces', [['mac', 'name'], ['mac', 'name'], ['mac', 'name', 'sandbox']]],
      ['ips', [['address', 'gateway', 'interface']]],
      ['routes', [['dst']]],
    ]);
    expect(resultJson(specAdd, '1.1.0')).toBe(
      [
        '{',
        '    "cniVersion": "1.1.0",',
        '    "dns": {',
        '        "nameservers": [',
        '            "10.1.0.1"',
        '        ]',
        '    },',
        '    "interfaces": [',
        '        {',
        '            "mac": "00:11:22:33:44:55",',
        '            "name": "cni0"',
        '        },',
        '        {',
        '            "mac": "55:44:33:22:11:11",',
        '            "name": "veth3243"',
        '        },',
        '        {',
        '            "mac": "99:88:77:66:55:44",',
        '            "name": "eth0",',
        '            "sandbox": "/var/run/netns/blue"',
        '        }',
        '    ],',
        '    "ips": [',
        '        {',
        '            "address": "10.1.0.5/16",',
        '            "gateway": "10.1.0.1",',
        '            "interface": 2',
        '        }',
        '    ],',
        '    "routes": [',
        '        {',
        '            "dst": "0.0.0.0/0"',
        '        }',
        '    ]',
        '}',
      ].join('\n'),
    );
  });

  it('drops an empty dns (libcni >= 1.2) and keeps it, in struct order, for older libcni', () => {
    const noDns: CniResult = { ...specAdd, dns: {} };
    expect(Object.keys(resultObject(noDns, '1.0.0') as object)).toEqual(['cniVersion', 'interfaces', 'ips', 'routes']);
    const old = resultObject(noDns, '1.0.0', { style: 'libcni-1.1' });
    expect(keyOrder(old)).toEqual([
      'cniVersion',
      ['interfaces', [['name', 'mac'], ['name', 'mac'], ['name', 'mac', 'sandbox']]],
      ['ips', [['interface', 'address', 'gateway']]],
      ['routes', [['dst']]],
      ['dns', []],
    ]);
  });

  it('escapes <, > and & in strings as Go does', () => {
    const r: CniResult = { ...specAdd, interfaces: [{ name: 'eth0', sandbox: '/run/netns/a&b<c>' }] };
    expect(resultJson(r, '1.0.0')).toContain('"sandbox": "/run/netns/a\\u0026b\\u003cc\\u003e"');
  });
});

describe('CNI result 0.3.x / 0.4.0', () => {
  it('has the structure and field order of the spec 0.3.1 prevResult example', () => {
    const spec = specFixture('cni-spec-0.3.1-prev-result.jsonc');
    const r: CniResult = { cniVersion: '0.3.1', interfaces: [], ips: [{ interface: 0, address: '10.0.0.5/32' }], routes: [], dns: { nameservers: ['10.1.0.1'] } };
    const o = resultObject(r, '0.3.1');
    expect(o).toEqual({ cniVersion: '0.3.1', ...spec });
    // types040 order: cniVersion, interfaces, ips, routes, dns; ips: version, interface, address, gateway.
    expect(keyOrder(o)).toEqual(['cniVersion', ['ips', [['version', 'interface', 'address']]], ['dns', [['nameservers', ['10.1.0.1']]]]]);
    expect(keyOrder(spec)).toEqual([['ips', [['version', 'address', 'interface']]], ['dns', [['nameservers', ['10.1.0.1']]]]]);
  });

  it('renders the bridge result of the spec 0.4.0 example with its interface list [bridge, host veth, container veth]', () => {
    const spec = specFixture('cni-spec-0.4.0-bridge-prev-result.jsonc');
    const r: CniResult = {
      cniVersion: '0.4.0',
      interfaces: specInterfaces,
      ips: [{ interface: 2, address: '10.0.0.5/32' }],
      routes: [],
      dns: { nameservers: ['10.1.0.1'] },
    };
    for (const v of ['0.3.1', '0.4.0']) {
      const o = resultObject(r, v);
      expect(o).toEqual({ cniVersion: v, ...spec });
      expect(keyOrder(o)).toEqual([
        'cniVersion',
        ['interfaces', [['name', 'mac'], ['name', 'mac'], ['name', 'mac', 'sandbox']]],
        ['ips', [['version', 'interface', 'address']]],
        ['dns', [['nameservers', ['10.1.0.1']]]],
      ]);
    }
  });

  it('always prints "dns": {} (a Go struct is never omitted) and drops 1.x-only interface fields', () => {
    const r: CniResult = { ...specAdd, interfaces: [{ name: 'eth0', mac: 'aa:bb:cc:dd:ee:ff', mtu: 1450, sandbox: '/x', socketPath: '/s', pciID: '0000:00:01.0' }], dns: {} };
    const text = resultJson(r, '0.3.1');
    expect(text.endsWith('    "dns": {}\n}')).toBe(true);
    expect(JSON.parse(text).interfaces).toEqual([{ name: 'eth0', mac: 'aa:bb:cc:dd:ee:ff', sandbox: '/x' }]);
    expect(JSON.parse(resultJson(r, '1.1.0')).interfaces).toEqual([
      { name: 'eth0', mac: 'aa:bb:cc:dd:ee:ff', mtu: 1450, sandbox: '/x', socketPath: '/s', pciID: '0000:00:01.0' },
    ]);
  });
});

describe('CNI result 0.1.0 / 0.2.0 and errors', () => {
  it('uses the ip4 form with the first IPv4 address and its routes', () => {
    expect(resultObject({ ...specAdd, routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1', mtu: 1400 }] }, '0.2.0')).toEqual({
      cniVersion: '0.2.0',
      ip4: { ip: '10.1.0.5/16', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }] },
      dns: { nameservers: ['10.1.0.1'] },
    });
    expect(() => resultObject({ ...specAdd, ips: [] }, '0.2.0')).toThrow('cannot convert: no valid IP addresses');
    expect(() => resultObject(specAdd, '2.0.0')).toThrow('no converter for CNI result version 1.1.0 to 2.0.0');
  });

  it('prints the error object as libcni does (no cniVersion), or with the spec cniVersion on request', () => {
    const e = new CniError(1, 'incompatible CNI versions', 'config is "2.0.0", plugin supports ["1.0.0"]');
    expect(e.message).toBe('incompatible CNI versions; config is "2.0.0", plugin supports ["1.0.0"]');
    expect(cniErrorJson(e)).toBe('{\n    "code": 1,\n    "msg": "incompatible CNI versions",\n    "details": "config is \\"2.0.0\\", plugin supports [\\"1.0.0\\"]"\n}');
    expect(Object.keys(JSON.parse(cniErrorJson(e, { cniVersion: '1.0.0' })))).toEqual(['cniVersion', 'code', 'msg', 'details']);
  });
});
