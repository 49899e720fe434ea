/**
 * A CNI network configuration for the bridge plugin with host-local IPAM — the JSON of
 * /etc/cni/net.d/10-bridge.conf, or a .conflist whose first plugin is the bridge — parsed and
 * validated the way the pieces that read it do, in their order:
 *
 * 1. the runtime (libcni) injects the list's `name` and `cniVersion` into each plugin of a list;
 * 2. skel (containernetworking/cni pkg/skel/skel.go `validateConfig`, `checkVersionAndCall`):
 *    network name present (code 7 "missing network name") and well formed (code 7 "invalid
 *    characters found in network name", pkg/utils/utils.go), cniVersion supported (code 1
 *    "incompatible CNI versions"; a missing cniVersion reads as "0.1.0", pkg/version/conf.go);
 * 3. the bridge plugin's `loadNetConf` (plugins/main/bridge/bridge.go): `bridge` defaults to
 *    "cni0", `preserveDefaultVlan` to true, everything else to Go's zero value; a JSON type error
 *    is "failed to load netconf: json: cannot unmarshal …"; vlan outside 0–4094 rejected;
 * 4. host-local's `LoadIPAMConfig` (plugins/ipam/host-local/backend/allocator/config.go) and
 *    `Range.Canonicalize` (range.go): the old flat `subnet`/`rangeStart`/`rangeEnd`/`gateway`
 *    form becomes the first range set, each range gets rangeStart = network+1, rangeEnd =
 *    broadcast−1, gateway = network+1 when not given; /31 and /32 are "too small to allocate
 *    from", host bits in the subnet are refused, overlapping ranges are refused.
 *
 * Plugin errors (3, 4) are CniError code 999 as skel wraps them. Like Go's encoding/json, keys
 * match case-insensitively when no exact key exists, unknown keys are ignored and `null` leaves
 * the default. JSON syntax errors carry JavaScript's parser message, not Go's.
 */
import type { Ipv4Addr } from '../../packet/index.js';
import { formatIpv4 } from '../../packet/index.js';
import {
  broadcastAddress,
  cidrContains,
  formatIpv4Cidr,
  hasHostBits,
  networkAddress,
  parseIpv4Address,
  parseIpv4Cidr,
  type Ipv4Cidr,
} from '../ipv4-range.js';
import { CniError, CniErrorCode } from './cni-error.js';
import { goQuoteList } from './go-json.js';
import { SUPPORTED_CNI_VERSIONS, type CniDns, type CniRoute } from './result.js';

export type JsonObject = { readonly [key: string]: unknown };

export const DEFAULT_BRIDGE_NAME = 'cni0';
/** backend/disk/backend.go `defaultDataDir`. */
export const DEFAULT_HOST_LOCAL_DATA_DIR = '/var/lib/cni/networks';

/** One canonical host-local range (range.go `Range` after `Canonicalize`). */
export interface HostLocalRange {
  /** As written; never has host bits (Canonicalize refuses them). */
  readonly subnet: Ipv4Cidr;
  readonly rangeStart: Ipv4Addr;
  readonly rangeEnd: Ipv4Addr;
  readonly gateway: Ipv4Addr;
}

export type HostLocalRangeSet = readonly HostLocalRange[];

export interface HostLocalConfig {
  readonly kind: 'host-local';
  /** The network name (`IPAMConfig.Name`): the store directory under dataDir. */
  readonly name: string;
  readonly cniVersion: string;
  /** Range sets in allocation order; set i tracks its cursor in `last_reserved_ip.<i>`. */
  readonly ranges: readonly HostLocalRangeSet[];
  /** `ipam.routes`, returned as is in the result. */
  readonly routes: readonly CniRoute[];
  readonly dataDir: string;
  /** '' when unset. */
  readonly resolvConf: string;
  /** Requested addresses from `args.cni.ips` and `runtimeConfig.ips` (CNI_ARGS `IP=` joins at ADD). */
  readonly requestedIps: readonly Ipv4Addr[];
}

/** No `ipam` or no `ipam.type`: the bridge plugin runs in L2 mode (no addresses). */
export interface NoIpamConfig {
  readonly kind: 'none';
}

/** An IPAM plugin podwire does not model; ADD fails as the runtime would not find it. */
export interface OtherIpamConfig {
  readonly kind: 'other';
  readonly type: string;
}

export type IpamConfig = HostLocalConfig | NoIpamConfig | OtherIpamConfig;

export interface BridgeConfig {
  readonly cniVersion: string;
  readonly name: string;
  readonly type: 'bridge';
  /** Default "cni0". */
  readonly bridge: string;
  /** As configured; the plugin treats isDefaultGateway as implying it (cmdAdd: `n.IsGW = true`). */
  readonly isGateway: boolean;
  readonly isDefaultGateway: boolean;
  readonly forceAddress: boolean;
  readonly ipMasq: boolean;
  readonly hairpinMode: boolean;
  readonly promiscMode: boolean;
  /** 0 when not set: the plugin leaves the kernel's MTU. */
  readonly mtu: number;
  readonly vlan: number;
  readonly preserveDefaultVlan: boolean;
  /** Container MAC from `args.cni.mac` or `runtimeConfig.mac` (CNI_ARGS `MAC=` is read at ADD). */
  readonly mac?: string;
  /** The network's `dns`, which replaces the IPAM's in the result when any field is set. */
  readonly dns: CniDns;
  readonly ipam: IpamConfig;
}

// ---------------------------------------------------------------------------------------------
// Go encoding/json-like field access

/** Go's decoder: the exact key, else the first key equal under case folding. */
function goField(o: JsonObject, key: string): unknown {
  if (Object.prototype.hasOwnProperty.call(o, key)) return o[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

function jsonKind(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

function typeError(v: unknown, struct: string, field: string, goType: string): Error {
  const kind = goType === 'int' && typeof v === 'number' ? `number ${v}` : jsonKind(v);
  return new Error(`json: cannot unmarshal ${kind} into Go struct field ${struct}.${field} of type ${goType}`);
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Decoder {
  readonly struct: string;
  readonly path: string;
}

const at = (d: Decoder, key: string): string => (d.path === '' ? key : `${d.path}.${key}`);

function getBool(o: JsonObject, key: string, d: Decoder, dflt: boolean): boolean {
  const v = goField(o, key);
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw typeError(v, d.struct, at(d, key), 'bool');
  return v;
}

function getString(o: JsonObject, key: string, d: Decoder, dflt = ''): string {
  const v = goField(o, key);
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') throw typeError(v, d.struct, at(d, key), 'string');
  return v;
}

function getInt(o: JsonObject, key: string, d: Decoder, dflt = 0): number {
  const v = goField(o, key);
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(v, d.struct, at(d, key), 'int');
  return v;
}

function getObject(o: JsonObject, key: string, d: Decoder, goType: string): JsonObject | undefined {
  const v = goField(o, key);
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw typeError(v, d.struct, at(d, key), goType);
  return v;
}

function getArray(o: JsonObject, key: string, d: Decoder, goType: string): readonly unknown[] | undefined {
  const v = goField(o, key);
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw typeError(v, d.struct, at(d, key), goType);
  return v;
}

function getStringList(o: JsonObject, key: string, d: Decoder): string[] | undefined {
  const a = getArray(o, key, d, '[]string');
  if (a === undefined) return undefined;
  return a.map((x) => {
    if (typeof x !== 'string') throw typeError(x, d.struct, at(d, key), 'string');
    return x;
  });
}

/** A `net.IP` field (UnmarshalText): undefined when absent. */
function getIp(o: JsonObject, key: string, d: Decoder): Ipv4Addr | undefined {
  const v = goField(o, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw typeError(v, d.struct, at(d, key), 'net.IP');
  return parseIpv4Address(v);
}

/** A `types.IPNet` field (custom UnmarshalJSON through a string). */
function getIpNet(o: JsonObject, key: string): Ipv4Cidr | undefined {
  const v = goField(o, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Error(`json: cannot unmarshal ${jsonKind(v)} into Go value of type string`);
  return parseIpv4Cidr(v);
}

function parseDns(o: JsonObject | undefined, d: Decoder): CniDns {
  if (o === undefined) return {};
  const nameservers = getStringList(o, 'nameservers', d);
  const domain = getString(o, 'domain', d);
  const search = getStringList(o, 'search', d);
  const options = getStringList(o, 'options', d);
  return {
    ...(nameservers !== undefined ? { nameservers } : {}),
    ...(domain !== '' ? { domain } : {}),
    ...(search !== undefined ? { search } : {}),
    ...(options !== undefined ? { options } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Runtime and skel

/** A file's JSON: a single plugin (.conf) or a list (.conflist). */
export interface NetworkConfigFile {
  readonly kind: 'conf' | 'conflist';
  /**
   * The first plugin's configuration as the runtime passes it on stdin: for a list, with the
   * list's `name` and `cniVersion` injected (SPEC.md §3, "Deriving execution configuration").
   */
  readonly plugin: JsonObject;
}

export function parseNetworkConfigFile(text: string): NetworkConfigFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CniError(CniErrorCode.DecodingFailure, `error unmarshall network config: ${(e as Error).message}`);
  }
  if (!isObject(v)) throw new CniError(CniErrorCode.DecodingFailure, `error unmarshall network config: json: cannot unmarshal ${jsonKind(v)} into Go value of type struct { Name string "json:\\"name\\"" }`);
  const plugins = goField(v, 'plugins');
  if (plugins === undefined) return { kind: 'conf', plugin: v };
  // libcni ConfListFromBytes.
  if (!Array.isArray(plugins)) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'error parsing configuration list: invalid plugins list');
  const first: unknown = plugins[0];
  if (first === undefined) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'error parsing configuration list: no plugins in list');
  if (!isObject(first)) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'error parsing configuration list: invalid plugin 0');
  const plugin: Record<string, unknown> = { ...first };
  plugin['name'] = goField(v, 'name');
  plugin['cniVersion'] = goField(v, 'cniVersion');
  return { kind: 'conflist', plugin };
}

/** skel's checks on the stdin config before the plugin runs. */
function validateAsSkel(o: JsonObject): { name: string; cniVersion: string } {
  const name = goField(o, 'name');
  if (name !== undefined && name !== null && typeof name !== 'string') {
    throw new CniError(CniErrorCode.DecodingFailure, `error unmarshall network config: json: cannot unmarshal ${jsonKind(name)} into Go struct field .name of type string`);
  }
  if (name === undefined || name === null || name === '') throw new CniError(CniErrorCode.InvalidNetworkConfig, 'missing network name');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
    throw new CniError(CniErrorCode.InvalidNetworkConfig, 'invalid characters found in network name', name);
  }
  const ver = goField(o, 'cniVersion');
  if (ver !== undefined && ver !== null && typeof ver !== 'string') {
    throw new CniError(CniErrorCode.DecodingFailure, `decoding version from network config: json: cannot unmarshal ${jsonKind(ver)} into Go struct field .cniVersion of type string`);
  }
  const cniVersion = ver === undefined || ver === null || ver === '' ? '0.1.0' : ver;
  if (!SUPPORTED_CNI_VERSIONS.includes(cniVersion)) {
    // version.ErrorIncompatible.Details(): config is %q, plugin supports %q.
    throw new CniError(
      CniErrorCode.IncompatibleCniVersion,
      'incompatible CNI versions',
      `config is "${cniVersion}", plugin supports ${goQuoteList(SUPPORTED_CNI_VERSIONS)}`,
    );
  }
  return { name, cniVersion };
}

// ---------------------------------------------------------------------------------------------
// Bridge

/** Parses a .conf or .conflist file whose (first) plugin is the bridge. */
export function parseBridgeConfig(text: string): BridgeConfig {
  const file = parseNetworkConfigFile(text);
  const type = goField(file.plugin, 'type');
  if (type !== 'bridge') throw new Error(`not a bridge plugin configuration: the ${file.kind === 'conflist' ? 'first plugin' : 'plugin'} has type ${JSON.stringify(type ?? null)}`);
  return bridgeConfigFromPlugin(file.plugin);
}

/** Validates a bridge plugin's stdin configuration object. */
export function bridgeConfigFromPlugin(o: JsonObject): BridgeConfig {
  const { name, cniVersion } = validateAsSkel(o);
  const d: Decoder = { struct: 'NetConf', path: '' };
  let conf: Omit<BridgeConfig, 'ipam'> & { ipamType: string };
  try {
    const ipamObj = getObject(o, 'ipam', d, 'types.IPAM');
    const ipamType = ipamObj === undefined ? '' : getString(ipamObj, 'type', { struct: 'IPAM', path: 'ipam' });
    const args = getObject(o, 'args', d, 'struct');
    const argsCni = args === undefined ? undefined : getObject(args, 'cni', { struct: 'NetConf', path: 'args' }, 'main.BridgeArgs');
    const argsMac = argsCni === undefined ? '' : getString(argsCni, 'mac', { struct: 'BridgeArgs', path: 'args.cni' });
    const rc = getObject(o, 'runtimeConfig', d, 'struct');
    const rcMac = rc === undefined ? '' : getString(rc, 'mac', { struct: 'NetConf', path: 'runtimeConfig' });
    // loadNetConf: runtimeConfig.mac wins over args.cni.mac, which wins over CNI_ARGS MAC.
    const mac = rcMac !== '' ? rcMac : argsMac;
    conf = {
      cniVersion,
      name,
      type: 'bridge',
      bridge: getString(o, 'bridge', d, DEFAULT_BRIDGE_NAME),
      isGateway: getBool(o, 'isGateway', d, false),
      isDefaultGateway: getBool(o, 'isDefaultGateway', d, false),
      forceAddress: getBool(o, 'forceAddress', d, false),
      ipMasq: getBool(o, 'ipMasq', d, false),
      hairpinMode: getBool(o, 'hairpinMode', d, false),
      promiscMode: getBool(o, 'promiscMode', d, false),
      mtu: getInt(o, 'mtu', d),
      vlan: getInt(o, 'vlan', d),
      preserveDefaultVlan: getBool(o, 'preserveDefaultVlan', d, true),
      ...(mac !== '' ? { mac } : {}),
      dns: parseDns(getObject(o, 'dns', d, 'types.DNS'), { struct: 'DNS', path: 'dns' }),
      ipamType,
    };
  } catch (e) {
    throw CniError.internal(`failed to load netconf: ${(e as Error).message}`);
  }
  if (conf.vlan < 0 || conf.vlan > 4094) throw CniError.internal(`invalid VLAN ID ${conf.vlan} (must be between 0 and 4094)`);
  const { ipamType, ...rest } = conf;
  let ipam: IpamConfig;
  if (ipamType === '') ipam = { kind: 'none' };
  else if (ipamType === 'host-local') ipam = loadHostLocalConfig(o);
  else ipam = { kind: 'other', type: ipamType };
  return { ...rest, ipam };
}

// ---------------------------------------------------------------------------------------------
// host-local

/** range.go `Range.String()`: "rangeStart-rangeEnd". */
export function rangeText(r: HostLocalRange): string {
  return `${formatIpv4(r.rangeStart)}-${formatIpv4(r.rangeEnd)}`;
}

/** range_set.go `RangeSet.String()`: ranges joined with ",". */
export function rangeSetText(s: HostLocalRangeSet): string {
  return s.map(rangeText).join(',');
}

/** range.go `Range.Contains`: inside the subnet and between rangeStart and rangeEnd. */
export function rangeContains(r: HostLocalRange, ip: Ipv4Addr): boolean {
  return cidrContains(r.subnet, ip) && ip >= r.rangeStart && ip <= r.rangeEnd;
}

export function rangeSetContains(s: HostLocalRangeSet, ip: Ipv4Addr): boolean {
  return s.some((r) => rangeContains(r, ip));
}

interface RawRange {
  readonly subnet: Ipv4Cidr | undefined;
  readonly rangeStart: Ipv4Addr | undefined;
  readonly rangeEnd: Ipv4Addr | undefined;
  readonly gateway: Ipv4Addr | undefined;
}

function readRange(o: JsonObject, d: Decoder): RawRange {
  return {
    subnet: getIpNet(o, 'subnet'),
    rangeStart: getIp(o, 'rangeStart', d),
    rangeEnd: getIp(o, 'rangeEnd', d),
    gateway: getIp(o, 'gateway', d),
  };
}

function readRangeSets(v: readonly unknown[] | undefined, d: Decoder): RawRange[][] {
  if (v === undefined) return [];
  return v.map((set) => {
    if (set === null) return [];
    if (!Array.isArray(set)) throw typeError(set, d.struct, d.path, 'allocator.RangeSet');
    return set.map((r: unknown) => {
      if (!isObject(r)) throw typeError(r, d.struct, d.path, 'allocator.Range');
      return readRange(r, d);
    });
  });
}

/** range.go `Range.Canonicalize` for IPv4. */
function canonicalizeRange(r: RawRange): HostLocalRange {
  if (r.subnet === undefined) throw new Error('IP <nil> not v4 nor v6');
  const subnet = r.subnet;
  const subnetText = formatIpv4Cidr(subnet);
  if (subnet.prefixLen > 30) throw new Error(`Network ${subnetText} too small to allocate from`);
  if (hasHostBits(subnet)) {
    throw new Error(`Network has host bits set. For a subnet mask of length ${subnet.prefixLen} the network address is ${formatIpv4(networkAddress(subnet))}`);
  }
  const network = networkAddress(subnet);
  // "If the gateway is nil, claim .1"; a given gateway is not checked against the subnet.
  const gateway = r.gateway ?? (network + 1) >>> 0;
  let rangeStart: Ipv4Addr;
  if (r.rangeStart !== undefined) {
    // Contains() with only RangeStart set: inside the subnet (and >= itself).
    if (!cidrContains(subnet, r.rangeStart)) throw new Error(`RangeStart ${formatIpv4(r.rangeStart)} not in network ${subnetText}`);
    rangeStart = r.rangeStart;
  } else {
    // .1: collides with the default gateway, which the iterator skips.
    rangeStart = (network + 1) >>> 0;
  }
  let rangeEnd: Ipv4Addr;
  if (r.rangeEnd !== undefined) {
    // Contains() with RangeStart set: a rangeEnd below rangeStart reads as "not in network".
    if (!cidrContains(subnet, r.rangeEnd) || r.rangeEnd < rangeStart) {
      throw new Error(`RangeEnd ${formatIpv4(r.rangeEnd)} not in network ${subnetText}`);
    }
    rangeEnd = r.rangeEnd;
  } else {
    // lastIP(): the broadcast address minus one for IPv4.
    rangeEnd = (broadcastAddress(subnet) - 1) >>> 0;
  }
  return { subnet, rangeStart, rangeEnd, gateway };
}

function rangesOverlap(a: HostLocalRange, b: HostLocalRange): boolean {
  return rangeContains(a, b.rangeStart) || rangeContains(a, b.rangeEnd) || rangeContains(b, a.rangeStart) || rangeContains(b, a.rangeEnd);
}

/** range_set.go `RangeSet.Canonicalize`. */
function canonicalizeRangeSet(set: readonly RawRange[]): HostLocalRangeSet {
  if (set.length === 0) throw new Error('empty range set');
  const out = set.map(canonicalizeRange);
  for (let i = 0; i < out.length - 1; i++) {
    for (let j = i + 1; j < out.length; j++) {
      const a = out[i] as HostLocalRange;
      const b = out[j] as HostLocalRange;
      if (rangesOverlap(a, b)) throw new Error(`subnets ${rangeText(a)} and ${rangeText(b)} overlap`);
    }
  }
  return out;
}

function versionBelow030(v: string): boolean {
  return v === '0.1.0' || v === '0.2.0';
}

function readRoutes(v: readonly unknown[] | undefined, d: Decoder): CniRoute[] {
  if (v === undefined) return [];
  return v.map((r) => {
    if (!isObject(r)) throw typeError(r, d.struct, d.path, 'types.Route');
    const dst = getIpNet(r, 'dst');
    if (dst === undefined) throw new Error('json: route without "dst"');
    const gw = getIp(r, 'gw', d);
    return { dst: formatIpv4Cidr(dst), ...(gw !== undefined ? { gw: formatIpv4(gw) } : {}) };
  });
}

/**
 * host-local's `LoadIPAMConfig` over the whole plugin configuration (IPAM plugins get the
 * parent's full stdin). Throws CniError 999 with host-local's message.
 */
export function loadHostLocalConfig(o: JsonObject): HostLocalConfig {
  try {
    const d: Decoder = { struct: 'IPAMConfig', path: 'ipam' };
    const name = getString(o, 'name', { struct: 'Net', path: '' });
    const cniVersion = getString(o, 'cniVersion', { struct: 'Net', path: '' });
    const ipam = getObject(o, 'ipam', { struct: 'Net', path: '' }, 'allocator.IPAMConfig');
    if (ipam === undefined) throw new Error("IPAM config missing 'ipam' key");

    const requestedIps: Ipv4Addr[] = [];
    const args = getObject(o, 'args', { struct: 'Net', path: '' }, 'struct');
    const argsCni = args === undefined ? undefined : getObject(args, 'cni', { struct: 'Net', path: 'args' }, 'allocator.IPAMArgs');
    for (const ip of (argsCni === undefined ? undefined : getStringList(argsCni, 'ips', { struct: 'IPAMArgs', path: 'args.cni' })) ?? []) {
      requestedIps.push(parseIpv4Address(ip));
    }
    const rc = getObject(o, 'runtimeConfig', { struct: 'Net', path: '' }, 'struct');
    for (const ip of (rc === undefined ? undefined : getStringList(rc, 'ips', { struct: 'Net', path: 'runtimeConfig' })) ?? []) {
      // pkg/ip `ip.IP` accepts an address or an address with a prefix.
      requestedIps.push(ip.includes('/') ? parseIpv4Cidr(ip).ip : parseIpv4Address(ip));
    }

    let rawSets = readRangeSets(getArray(ipam, 'ranges', d, '[]allocator.RangeSet'), d);
    // The old single-range form, prepended when it names a subnet.
    const flat = readRange(ipam, d);
    if (flat.subnet !== undefined) rawSets = [[flat], ...rawSets];
    const rcRanges = rc === undefined ? undefined : getArray(rc, 'ipRanges', { struct: 'Net', path: 'runtimeConfig' }, '[]allocator.RangeSet');
    const rcSets = readRangeSets(rcRanges, d);
    if (rcSets.length > 0) rawSets = [...rcSets, ...rawSets];
    if (rawSets.length === 0) throw new Error('no IP ranges specified');

    const ranges = rawSets.map((set, i) => {
      try {
        return canonicalizeRangeSet(set);
      } catch (e) {
        throw new Error(`invalid range set ${i}: ${(e as Error).message}`);
      }
    });
    // IPv4 only in podwire: every set counts as one more IPv4 address.
    if (ranges.length > 1 && versionBelow030(cniVersion === '' ? '0.1.0' : cniVersion)) {
      throw new Error(`CNI version ${cniVersion} does not support more than 1 address per family`);
    }
    for (let i = 0; i < ranges.length - 1; i++) {
      for (let j = i + 1; j < ranges.length; j++) {
        const a = ranges[i] as HostLocalRangeSet;
        const b = ranges[j] as HostLocalRangeSet;
        if (a.some((ra) => b.some((rb) => rangesOverlap(ra, rb)))) throw new Error(`range set ${i} overlaps with ${j}`);
      }
    }
    return {
      kind: 'host-local',
      name,
      cniVersion: cniVersion === '' ? '0.1.0' : cniVersion,
      ranges,
      routes: readRoutes(getArray(ipam, 'routes', d, '[]*types.Route'), d),
      dataDir: getString(ipam, 'dataDir', d) || DEFAULT_HOST_LOCAL_DATA_DIR,
      resolvConf: getString(ipam, 'resolvConf', d),
      requestedIps,
    };
  } catch (e) {
    if (e instanceof CniError) throw e;
    throw CniError.internal((e as Error).message);
  }
}
