import { describe, expect, it } from 'vitest';
import { cniErrorJson } from '../../src/k8s/cni/cni-error.js';
import { bridgeConfigFromPlugin, parseBridgeConfig, parseNetworkConfigFile, type BridgeConfig } from '../../src/k8s/cni/config.js';
import { caught, flannelDelegate } from './cni-fixtures.js';
import { specFixtureText } from './spec-fixtures.js';

const minimal = { cniVersion: '0.3.1', name: 'mynet', type: 'bridge' };

describe('bridge network configuration', () => {
  it('reads the spec 0.4.0 "dbnet" example with the plugin defaults filled in', () => {
    const c = parseBridgeConfig(specFixtureText('cni-spec-0.4.0-dbnet-bridge.conf.jsonc'));
    const expected: BridgeConfig = {
      cniVersion: '0.4.0',
      name: 'dbnet',
      type: 'bridge',
      bridge: 'cni0',
      isGateway: false,
      isDefaultGateway: false,
      forceAddress: false,
      ipMasq: false,
      hairpinMode: false,
      promiscMode: false,
      mtu: 0,
      vlan: 0,
      preserveDefaultVlan: true,
      dns: { nameservers: ['10.1.0.1'] },
      ipam: {
        kind: 'host-local',
        name: 'dbnet',
        cniVersion: '0.4.0',
        ranges: [[{ subnet: { ip: 0x0a01_0000, prefixLen: 16 }, rangeStart: 0x0a01_0001, rangeEnd: 0x0a01_fffe, gateway: 0x0a01_0001 }]],
        routes: [],
        dataDir: '/var/lib/cni/networks',
        resolvConf: '',
        requestedIps: [],
      },
    };
    expect(c).toEqual(expected);
  });

  it('reads the spec 1.0.0 conflist example: the list name and version injected into the bridge', () => {
    const text = specFixtureText('cni-spec-1.0.0-dbnet.conflist.jsonc');
    const file = parseNetworkConfigFile(text);
    expect(file.kind).toBe('conflist');
    const c = parseBridgeConfig(text);
    expect(c.name).toBe('dbnet');
    expect(c.cniVersion).toBe('1.0.0');
    expect(c.ipam.kind === 'host-local' && c.ipam.routes).toEqual([{ dst: '0.0.0.0/0' }]);
    expect(c.ipam.kind === 'host-local' && c.ipam.name).toBe('dbnet');
  });

  it("reads flannel's delegated bridge configuration", () => {
    const c = bridgeConfigFromPlugin(flannelDelegate);
    expect([c.bridge, c.hairpinMode, c.isGateway, c.isDefaultGateway, c.mtu]).toEqual(['cni0', true, true, true, 1450]);
  });

  it('matches keys case-insensitively, ignores unknown keys and lets null keep the default', () => {
    const c = bridgeConfigFromPlugin({ ...minimal, IsGateway: true, bridge: null, somethingElse: [1] });
    expect(c.isGateway).toBe(true);
    expect(c.bridge).toBe('cni0');
    expect(c.ipam).toEqual({ kind: 'none' });
  });

  it('takes the container MAC from runtimeConfig over args.cni', () => {
    expect(bridgeConfigFromPlugin({ ...minimal, args: { cni: { mac: '0a:00:00:00:00:01' } } }).mac).toBe('0a:00:00:00:00:01');
    expect(bridgeConfigFromPlugin({ ...minimal, args: { cni: { mac: '0a:00:00:00:00:01' } }, runtimeConfig: { mac: '0a:00:00:00:00:02' } }).mac).toBe('0a:00:00:00:00:02');
  });

  it('keeps an IPAM type it does not model for the ADD to fail on', () => {
    expect(bridgeConfigFromPlugin({ ...minimal, ipam: { type: 'dhcp' } }).ipam).toEqual({ kind: 'other', type: 'dhcp' });
  });
});

describe('bridge network configuration errors', () => {
  it('fails like skel on the name and version', () => {
    const noName = caught(() => bridgeConfigFromPlugin({ cniVersion: '1.0.0', type: 'bridge' }));
    expect([noName.code, noName.msg]).toEqual([7, 'missing network name']);
    const badName = caught(() => bridgeConfigFromPlugin({ ...minimal, name: 'my net' }));
    expect([badName.code, badName.msg, badName.details]).toEqual([7, 'invalid characters found in network name', 'my net']);
    const ver = caught(() => bridgeConfigFromPlugin({ ...minimal, cniVersion: '2.0.0' }));
    expect(cniErrorJson(ver)).toBe(
      '{\n    "code": 1,\n    "msg": "incompatible CNI versions",\n    "details": "config is \\"2.0.0\\", plugin supports [\\"0.1.0\\" \\"0.2.0\\" \\"0.3.0\\" \\"0.3.1\\" \\"0.4.0\\" \\"1.0.0\\" \\"1.1.0\\"]"\n}',
    );
    expect(bridgeConfigFromPlugin({ name: 'n', type: 'bridge' }).cniVersion).toBe('0.1.0');
    const json = caught(() => parseBridgeConfig('{"name": '));
    expect(json.code).toBe(6);
    expect(json.msg.startsWith('error unmarshall network config: ')).toBe(true);
  });

  it('fails like loadNetConf on JSON types and the VLAN range (code 999)', () => {
    const t = caught(() => bridgeConfigFromPlugin({ ...minimal, isGateway: 'true' }));
    expect([t.code, t.msg]).toEqual([999, 'failed to load netconf: json: cannot unmarshal string into Go struct field NetConf.isGateway of type bool']);
    expect(caught(() => bridgeConfigFromPlugin({ ...minimal, mtu: 1450.5 })).msg).toBe(
      'failed to load netconf: json: cannot unmarshal number 1450.5 into Go struct field NetConf.mtu of type int',
    );
    expect(caught(() => bridgeConfigFromPlugin({ ...minimal, vlan: 4095 })).msg).toBe('invalid VLAN ID 4095 (must be between 0 and 4094)');
  });

  it('fails like host-local on a /31 subnet', () => {
    const e = caught(() => bridgeConfigFromPlugin({ ...minimal, ipam: { type: 'host-local', subnet: '192.168.0.0/31' } }));
    expect(cniErrorJson(e)).toBe('{\n    "code": 999,\n    "msg": "invalid range set 0: Network 192.168.0.0/31 too small to allocate from"\n}');
  });

  it('refuses a list whose first plugin is not the bridge, and an empty list', () => {
    expect(() => parseBridgeConfig(JSON.stringify({ cniVersion: '1.0.0', name: 'x', plugins: [{ type: 'flannel' }] }))).toThrow(
      'not a bridge plugin configuration: the first plugin has type "flannel"',
    );
    expect(caught(() => parseBridgeConfig(JSON.stringify({ cniVersion: '1.0.0', name: 'x', plugins: [] }))).msg).toBe(
      'error parsing configuration list: no plugins in list',
    );
  });
});
