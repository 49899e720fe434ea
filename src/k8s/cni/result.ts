/**
 * The CNI ADD result and its JSON text per spec version, as libcni (containernetworking/cni) prints
 * it. A plugin builds the current type (pkg/types/100, spec 1.1.0) and prints it converted to the
 * configuration's cniVersion (`types.PrintResult(result, cniVersion)`), so the text depends on the
 * version asked for:
 *
 * - 1.0.0 / 1.1.0 (pkg/types/100/types.go): `interfaces[]` {name, mac, sandbox, …}, `ips[]`
 *   {interface, address, gateway} — no `version` — `routes[]`, `dns`. Since libcni v1.2.0
 *   (containernetworking/cni#1039, "Add Marshal function in Result/NetConf to omit empty value")
 *   `Result.MarshalJSON` round-trips through `map[string]interface{}` to drop an empty `dns`, and
 *   Go writes map keys sorted, so every object in the text has its keys in byte order
 *   (`cniVersion, dns, interfaces, ips, routes`; `address, gateway, interface`). Older libcni
 *   wrote struct order and always printed `"dns": {}`.
 * - 0.3.0 / 0.3.1 / 0.4.0 (pkg/types/040/types.go, `convertTo04x`): struct order, `ips[]` as
 *   {version "4"|"6", interface, address, gateway}, interfaces reduced to {name, mac, sandbox}, and
 *   `"dns": {}` always (Go's omitempty never omits a struct).
 * - 0.1.0 / 0.2.0 (pkg/types/020/types.go): `ip4`/`ip6` {ip, gateway, routes}, first address of
 *   each family only; no IP at all is an error ("cannot convert: no valid IP addresses").
 *
 * Empty lists are omitted (omitempty), and `ips[].interface` is absent from IPAM results.
 */
import { marshalIndent, sortKeysDeep, type GoJsonValue } from './go-json.js';

export interface CniInterface {
  readonly name: string;
  readonly mac?: string;
  readonly mtu?: number;
  /** The netns path for interfaces inside the container; absent on host interfaces. */
  readonly sandbox?: string;
  readonly socketPath?: string;
  readonly pciID?: string;
}

export interface CniIpConfig {
  /** Index into `interfaces` (the bridge plugin: 2, the container veth); absent from IPAM results. */
  readonly interface?: number;
  /** CIDR with the host's address, e.g. "10.244.1.2/24" (Go prints `IPNet{IP: podIP, Mask}`). */
  readonly address: string;
  readonly gateway?: string;
}

export interface CniRoute {
  readonly dst: string;
  readonly gw?: string;
  readonly mtu?: number;
  readonly advmss?: number;
  readonly priority?: number;
  readonly table?: number;
  readonly scope?: number;
}

export interface CniDns {
  readonly nameservers?: readonly string[];
  readonly domain?: string;
  readonly search?: readonly string[];
  readonly options?: readonly string[];
}

/** The current (1.1.0) result type, what a plugin builds before printing in the asked version. */
export interface CniResult {
  readonly cniVersion: string;
  readonly interfaces: readonly CniInterface[];
  readonly ips: readonly CniIpConfig[];
  readonly routes: readonly CniRoute[];
  readonly dns: CniDns;
}

/** pkg/version/version.go `All`: what the reference plugins accept. */
export const SUPPORTED_CNI_VERSIONS: readonly string[] = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

/** Which libcni marshals the 1.x result: v1.2.0 and later (sorted keys, empty dns dropped) or earlier. */
export type LibcniStyle = 'libcni-1.2' | 'libcni-1.1';

export interface ResultJsonOptions {
  /** Default 'libcni-1.2' (what containernetworking/plugins v1.5+ vendor). */
  readonly style?: LibcniStyle;
}

export function isDnsEmpty(d: CniDns): boolean {
  return (d.nameservers?.length ?? 0) === 0 && (d.domain ?? '') === '' && (d.search?.length ?? 0) === 0 && (d.options?.length ?? 0) === 0;
}

function dnsObject(d: CniDns): Record<string, GoJsonValue> {
  const o: Record<string, GoJsonValue> = {};
  if (d.nameservers !== undefined && d.nameservers.length > 0) o['nameservers'] = [...d.nameservers];
  if (d.domain !== undefined && d.domain !== '') o['domain'] = d.domain;
  if (d.search !== undefined && d.search.length > 0) o['search'] = [...d.search];
  if (d.options !== undefined && d.options.length > 0) o['options'] = [...d.options];
  return o;
}

/** types.Route's JSON (pkg/types/types.go `route`): dst, then the omitempty fields. */
function routeObject(r: CniRoute): Record<string, GoJsonValue> {
  const o: Record<string, GoJsonValue> = { dst: r.dst };
  if (r.gw !== undefined) o['gw'] = r.gw;
  if (r.mtu !== undefined && r.mtu !== 0) o['mtu'] = r.mtu;
  if (r.advmss !== undefined && r.advmss !== 0) o['advmss'] = r.advmss;
  if (r.priority !== undefined && r.priority !== 0) o['priority'] = r.priority;
  // Table and Scope are *int: present whenever set, even to 0.
  if (r.table !== undefined) o['table'] = r.table;
  if (r.scope !== undefined) o['scope'] = r.scope;
  return o;
}

function interfaceObject100(i: CniInterface): Record<string, GoJsonValue> {
  const o: Record<string, GoJsonValue> = { name: i.name };
  if (i.mac !== undefined && i.mac !== '') o['mac'] = i.mac;
  if (i.mtu !== undefined && i.mtu !== 0) o['mtu'] = i.mtu;
  if (i.sandbox !== undefined && i.sandbox !== '') o['sandbox'] = i.sandbox;
  if (i.socketPath !== undefined && i.socketPath !== '') o['socketPath'] = i.socketPath;
  if (i.pciID !== undefined && i.pciID !== '') o['pciID'] = i.pciID;
  return o;
}

/** types040.Interface: name, mac, sandbox only (`convertInterfaceTo040`). */
function interfaceObject040(i: CniInterface): Record<string, GoJsonValue> {
  const o: Record<string, GoJsonValue> = { name: i.name };
  if (i.mac !== undefined && i.mac !== '') o['mac'] = i.mac;
  if (i.sandbox !== undefined && i.sandbox !== '') o['sandbox'] = i.sandbox;
  return o;
}

function ipObject100(c: CniIpConfig): Record<string, GoJsonValue> {
  const o: Record<string, GoJsonValue> = {};
  if (c.interface !== undefined) o['interface'] = c.interface;
  o['address'] = c.address;
  if (c.gateway !== undefined) o['gateway'] = c.gateway;
  return o;
}

function ipVersion(address: string): '4' | '6' {
  return address.includes(':') ? '6' : '4';
}

function ipObject040(c: CniIpConfig): Record<string, GoJsonValue> {
  // types040 ipConfig field order: Version, Interface, Address, Gateway.
  const o: Record<string, GoJsonValue> = { version: ipVersion(c.address) };
  if (c.interface !== undefined) o['interface'] = c.interface;
  o['address'] = c.address;
  if (c.gateway !== undefined) o['gateway'] = c.gateway;
  return o;
}

function result100(r: CniResult, version: string, style: LibcniStyle): GoJsonValue {
  const o: Record<string, GoJsonValue> = { cniVersion: version };
  if (r.interfaces.length > 0) o['interfaces'] = r.interfaces.map(interfaceObject100);
  if (r.ips.length > 0) o['ips'] = r.ips.map(ipObject100);
  if (r.routes.length > 0) o['routes'] = r.routes.map(routeObject);
  if (style === 'libcni-1.1') {
    o['dns'] = dnsObject(r.dns);
    return o;
  }
  if (!isDnsEmpty(r.dns)) o['dns'] = dnsObject(r.dns);
  return sortKeysDeep(o);
}

function result040(r: CniResult, version: string): GoJsonValue {
  const o: Record<string, GoJsonValue> = { cniVersion: version };
  if (r.interfaces.length > 0) o['interfaces'] = r.interfaces.map(interfaceObject040);
  if (r.ips.length > 0) o['ips'] = r.ips.map(ipObject040);
  if (r.routes.length > 0) o['routes'] = r.routes.map(routeObject);
  o['dns'] = dnsObject(r.dns);
  return o;
}

function result020(r: CniResult, version: string): GoJsonValue {
  const first4 = r.ips.find((c) => ipVersion(c.address) === '4');
  const first6 = r.ips.find((c) => ipVersion(c.address) === '6');
  if (first4 === undefined && first6 === undefined) throw new Error('cannot convert: no valid IP addresses');
  const family = (c: CniIpConfig | undefined, v: '4' | '6'): GoJsonValue | undefined => {
    if (c === undefined) return undefined;
    const o: Record<string, GoJsonValue> = { ip: c.address };
    if (c.gateway !== undefined) o['gateway'] = c.gateway;
    // convertTo02x keeps only Dst and GW of the routes of the address's family.
    const routes = r.routes.filter((rt) => ipVersion(rt.dst) === v).map((rt) => routeObject({ dst: rt.dst, ...(rt.gw !== undefined ? { gw: rt.gw } : {}) }));
    if (routes.length > 0) o['routes'] = routes;
    return o;
  };
  const o: Record<string, GoJsonValue> = { cniVersion: version };
  const ip4 = family(first4, '4');
  const ip6 = family(first6, '6');
  if (ip4 !== undefined) o['ip4'] = ip4;
  if (ip6 !== undefined) o['ip6'] = ip6;
  o['dns'] = dnsObject(r.dns);
  return o;
}

/** The result as the plain object libcni marshals for `version`, keys in the order they are printed. */
export function resultObject(r: CniResult, version: string = r.cniVersion, opts: ResultJsonOptions = {}): GoJsonValue {
  switch (version) {
    case '1.0.0':
    case '1.1.0':
      return result100(r, version, opts.style ?? 'libcni-1.2');
    case '0.3.0':
    case '0.3.1':
    case '0.4.0':
      return result040(r, version);
    case '0.1.0':
    case '0.2.0':
      return result020(r, version);
    default:
      throw new Error(`no converter for CNI result version 1.1.0 to ${version}`);
  }
}

/** The text a plugin prints on stdout for ADD: 4-space indented, no trailing newline. */
export function resultJson(r: CniResult, version: string = r.cniVersion, opts: ResultJsonOptions = {}): string {
  return marshalIndent(resultObject(r, version, opts));
}
