/**
 * The bridge CNI plugin (containernetworking/plugins plugins/main/bridge/bridge.go) with its
 * delegated host-local IPAM, as a model that makes the real plugin's kernel calls, in its order,
 * through the Netlink interface.
 *
 * ADD (`cmdAdd`):
 *  1. `ensureBridge`: create the bridge if missing (MTU, promiscuous), `accept_ra=0` on it, up.
 *  2. `setupVeth` (pkg/ip/link_linux.go `SetupVethWithName`): create the veth pair from inside the
 *     container netns with the host end named `veth` + 8 hex digits (`RandomVethName`: 4 random
 *     bytes) and moved to the host; host end up, `accept_ra=0` on it, enslaved to the bridge,
 *     hairpin set (always written, on or off).
 *  3. IPAM ADD (host-local); from here a failure releases the address again (deferred ExecDel).
 *  4. `calcGateways`: every IP belongs to interface 2 (the container veth; the list is [bridge,
 *     host veth, container veth]); a missing gateway becomes network+1 when isGateway; with
 *     isDefaultGateway a `0.0.0.0/0 via <gateway>` route is appended unless the IPAM gave a default
 *     route with a gateway.
 *  5. In the container: `accept_dad=0`, `arp_notify=1` — so the kernel sends a gratuitous ARP when
 *     eth0 comes up — then `ipam.ConfigureIface` (pkg/ipam/ipam_linux.go): addresses first, then
 *     link up, then the routes (a route without gw goes via the first gateway).
 *  6. isGateway (or isDefaultGateway): `ensureAddr` puts `<gateway>/<prefix>` on the bridge (an
 *     existing different IPv4 address is an error unless forceAddress) and re-sets the bridge's
 *     MAC to the value read in step 1, pinning it; then `net.ipv4.ip_forward=1`.
 *  7. ipMasq: `CNI-<sha512(name+id)[:24]>` chain in nat: ACCEPT to the pod's network, MASQUERADE
 *     the rest but multicast, jump from POSTROUTING for the pod's address.
 *  8. The host veth's and the bridge's MACs are read again for the result (a bridge takes its
 *     lowest port's MAC until its own is set).
 *
 * A failure before step 3 leaves the bridge and veth in place, as the real plugin does; the
 * runtime's DEL after a failed ADD removes them.
 *
 * DEL (`cmdDel`): without CNI_NETNS, or when the netns is gone, only IPAM DEL; otherwise delete
 * the container's interface (taking the host veth with it) remembering its addresses, IPAM DEL,
 * then remove the ipMasq rules for those addresses. The bridge stays.
 *
 * Not modelled: VLANs (`vlan`, `vlanTrunk`), macspoofchk, IPv6 (DAD settling), the bridge port
 * operstate poll, CHECK, STATUS, GC. (The host veth's port forwards once linkwatch has seen the
 * pair's carrier, after eth0 came up: its gratuitous ARP is dropped there, net/bridge.ts.)
 */
import { createHash } from 'node:crypto';
import { formatIpv4, parseMac } from '../../packet/index.js';
import type { HostLocalIpam, IpamResult } from '../ipam/host-local.js';
import { networkAddress, parseIpv4Cidr, prefixMask } from '../ipv4-range.js';
import { k8sPodOf, loadCniArgs } from './cni-args.js';
import { CniError, CniErrorCode } from './cni-error.js';
import type { BridgeConfig } from './config.js';
import { goQuote } from './go-json.js';
import type { Iptables, Netlink } from './netlink.js';
import { NetlinkError } from './netlink.js';
import { isDnsEmpty, resultJson, type CniInterface, type CniIpConfig, type CniResult, type CniRoute, type LibcniStyle } from './result.js';

/** What the runtime passes in the CNI_* environment. */
export interface CniCommandArgs {
  /** CNI_CONTAINERID. */
  readonly containerId: string;
  /** CNI_NETNS: the netns path; may be '' for DEL. */
  readonly netns: string;
  /** CNI_IFNAME. */
  readonly ifName: string;
  /** CNI_ARGS, e.g. "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=pa;…". */
  readonly args?: string;
  /** CNI_PATH (only used in the "failed to find plugin" message). Default /opt/cni/bin. */
  readonly path?: string;
}

export interface VethNameContext {
  readonly containerId: string;
  readonly netns: string;
  readonly ifName: string;
  readonly podName?: string;
  readonly podNamespace?: string;
  /** 0 for the first try; makeVeth tries up to 10 names. */
  readonly attempt: number;
}

export interface BridgePluginOptions {
  /** The node's netns name: where the plugin runs and the bridge lives. */
  readonly hostNetns: string;
  readonly netlink: Netlink;
  /** The node's host-local store. */
  readonly ipam: HostLocalIpam;
  /** Needed only when a configuration sets ipMasq. */
  readonly iptables?: Iptables;
  /**
   * The host veth's name. The real plugin draws 4 random bytes (`randomVethName`); a run can draw
   * them from a seeded stream, or use `hashedVethName(podName)` as the kernel references do.
   */
  readonly hostVethName: (ctx: VethNameContext) => string;
  /**
   * A container MAC when the configuration sets none: a stand-in for the kernel's random one
   * (eth_hw_addr_random) drawn from a seeded stream. Undefined leaves the choice to Netlink.
   */
  readonly containerMac?: (ctx: VethNameContext) => string | undefined;
  /** How 1.x results are printed; default 'libcni-1.2'. */
  readonly resultStyle?: LibcniStyle;
}

export interface BridgeAddOutcome {
  readonly result: CniResult;
  /** The plugin's stdout. */
  readonly json: string;
}

/** `veth` + the bytes in lowercase hex (`fmt.Sprintf("veth%x", entropy)`, 4 bytes → 8 digits). */
export function randomVethName(bytes: Uint8Array): string {
  return `veth${Buffer.from(bytes).toString('hex')}`;
}

/** `veth` + the first 8 hex digits of sha256(text): the kernel references' stable names. */
export function hashedVethName(text: string): string {
  return `veth${createHash('sha256').update(text).digest('hex').slice(0, 8)}`;
}

/** pkg/utils/utils.go `FormatChainName`: "CNI-" + sha512(name+id) in hex, 28 characters in all. */
export function ipMasqChainName(network: string, containerId: string): string {
  return `CNI-${createHash('sha512').update(network + containerId).digest('hex')}`.slice(0, 28);
}

/** pkg/utils/utils.go `FormatComment`: `name: %q id: %q`. */
export function ipMasqComment(network: string, containerId: string): string {
  return `name: ${goQuote(network)} id: ${goQuote(containerId)}`;
}

const DEFAULT_CNI_PATH = '/opt/cni/bin';
const CONTAINER_INTERFACE_INDEX = 2;

/** The plugin writes most sysctls as `_, _ = sysctl.Sysctl(...)`: a failure is ignored. */
function sysctlIgnoringErrors(nl: Netlink, netns: string, key: string, value: string): void {
  try {
    nl.setSysctl(netns, key, value);
  } catch {
    // ignored, as in the plugin
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** skel's environment, container ID and interface name checks (pkg/skel, pkg/utils). */
function validateCommandArgs(a: CniCommandArgs, cmd: 'ADD' | 'DEL'): void {
  const missing: string[] = [];
  if (a.containerId === '') missing.push('CNI_CONTAINERID');
  if (cmd === 'ADD' && a.netns === '') missing.push('CNI_NETNS');
  if (a.ifName === '') missing.push('CNI_IFNAME');
  if (missing.length > 0) throw new CniError(CniErrorCode.InvalidEnvironmentVariables, `required env variables [${missing.join(',')}] missing`);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(a.containerId)) {
    throw new CniError(CniErrorCode.InvalidEnvironmentVariables, 'invalid characters in containerID', a.containerId);
  }
  if (a.ifName.length > 15) {
    throw new CniError(CniErrorCode.InvalidEnvironmentVariables, 'interface name is too long', 'interface name should be less than 16 characters');
  }
  if (a.ifName === '.' || a.ifName === '..') throw new CniError(CniErrorCode.InvalidEnvironmentVariables, 'interface name is . or ..');
  if (/[/:\s]/u.test(a.ifName)) {
    throw new CniError(CniErrorCode.InvalidEnvironmentVariables, 'interface name contains / or : or whitespace characters');
  }
}

/** loadNetConf's CNI_ARGS (MacEnvArgs) and MAC precedence: runtimeConfig, args.cni, CNI_ARGS. */
function macOf(conf: BridgeConfig, cniArgs: string): string | undefined {
  let env: Map<string, string>;
  try {
    env = loadCniArgs(cniArgs, { MAC: (v) => v });
  } catch (e) {
    throw CniError.internal(messageOf(e));
  }
  return conf.mac ?? env.get('MAC');
}

/** Go's `%v` of a *current.IPConfig, near enough for error text. */
function ipConfigText(c: CniIpConfig): string {
  const cidr = parseIpv4Cidr(c.address);
  const mask = prefixMask(cidr.prefixLen).toString(16).padStart(8, '0');
  return `{Interface:${c.interface ?? '<nil>'} Address:{IP:${formatIpv4(cidr.ip)} Mask:${mask}} Gateway:${c.gateway ?? '<nil>'}}`;
}

export class BridgePlugin {
  constructor(private readonly opts: BridgePluginOptions) {}

  /** CNI ADD. Throws CniError with the code and message the real plugin prints. */
  add(conf: BridgeConfig, a: CniCommandArgs): BridgeAddOutcome {
    validateCommandArgs(a, 'ADD');
    const cniArgs = a.args ?? '';
    const mac = macOf(conf, cniArgs);
    if (conf.vlan !== 0) throw new Error('podwire does not model bridge VLANs (vlan in the bridge configuration)');
    const isGw = conf.isGateway || conf.isDefaultGateway;
    if (conf.hairpinMode && conf.promiscMode) throw CniError.internal('cannot set hairpin mode and promiscuous mode at the same time');

    const nl = this.opts.netlink;
    const host = this.opts.hostNetns;
    const br = conf.bridge;

    // setupBridge → ensureBridge.
    let brMacAtCreate: string;
    try {
      brMacAtCreate = nl.ensureBridge(host, br, { mtu: conf.mtu, promiscMode: conf.promiscMode, vlanFiltering: false }).mac;
      // "we want to own the routes for this interface"
      sysctlIgnoringErrors(nl, host, `net.ipv6.conf.${br}.accept_ra`, '0');
      nl.setLinkUp(host, br);
    } catch (e) {
      throw CniError.internal(`failed to create bridge ${goQuote(br)}: ${messageOf(e)}`);
    }

    if (!nl.netnsExists(a.netns)) {
      throw CniError.internal(`failed to open netns ${goQuote(a.netns)}: failed to Statfs ${goQuote(a.netns)}: no such file or directory`);
    }

    const pod = k8sPodOf(cniArgs);
    const ctxBase = { containerId: a.containerId, netns: a.netns, ifName: a.ifName, ...pod };
    const { hostName, hostMacAtCreate, containerMac } = this.setupVeth(conf, a, ctxBase, mac);

    const interfaces: CniInterface[] = [
      { name: br, mac: brMacAtCreate },
      { name: hostName, mac: hostMacAtCreate },
      { name: a.ifName, mac: containerMac, sandbox: a.netns },
    ];
    let ips: CniIpConfig[] = [];
    let routes: CniRoute[] = [];
    let dns = conf.dns;

    if (conf.ipam.kind === 'none') {
      try {
        nl.setLinkUp(a.netns, a.ifName);
      } catch (e) {
        throw CniError.internal(`failed to set ${goQuote(a.ifName)} up: ${messageOf(e)}`);
      }
    } else {
      const ipamResult = this.ipamAdd(conf, a);
      try {
        ({ ips, routes } = this.configureL3(conf, a, isGw, ipamResult, interfaces, brMacAtCreate));
        if (isDnsEmpty(conf.dns)) dns = ipamResult.dns;
      } catch (e) {
        // The deferred ExecDel: release the address on any later failure.
        try {
          this.ipamDel(conf, a);
        } catch {
          // ignored, as the plugin ignores ExecDel's error
        }
        throw e;
      }
    }

    // "In certain circumstances, the host-side of the veth may change addrs"; "Refetch the bridge
    // since its MAC address may change when the first veth is added or after its IP address is set".
    interfaces[1] = { name: hostName, mac: nl.linkMac(host, hostName) };
    interfaces[0] = { name: br, mac: nl.linkMac(host, br) };

    const result: CniResult = { cniVersion: conf.cniVersion, interfaces, ips, routes, dns };
    return { result, json: resultJson(result, conf.cniVersion, this.opts.resultStyle !== undefined ? { style: this.opts.resultStyle } : {}) };
  }

  /** setupVeth + pkg/ip makeVeth/SetupVethWithName. */
  private setupVeth(
    conf: BridgeConfig,
    a: CniCommandArgs,
    ctxBase: Omit<VethNameContext, 'attempt'>,
    mac: string | undefined,
  ): { hostName: string; hostMacAtCreate: string; containerMac: string } {
    const nl = this.opts.netlink;
    const host = this.opts.hostNetns;
    const containerMac = mac ?? this.opts.containerMac?.({ ...ctxBase, attempt: 0 });
    if (containerMac !== undefined) {
      try {
        parseMac(containerMac);
      } catch {
        throw CniError.internal(`failed to make veth pair: address ${containerMac}: invalid MAC address`);
      }
    }
    let hostName = '';
    let created: { hostMac: string; containerMac: string } | undefined;
    for (let attempt = 0; attempt < 10 && created === undefined; attempt++) {
      hostName = this.opts.hostVethName({ ...ctxBase, attempt });
      try {
        created = nl.createVethPair({
          hostNetns: host,
          hostName,
          containerNetns: a.netns,
          containerName: a.ifName,
          mtu: conf.mtu,
          ...(containerMac !== undefined ? { containerMac } : {}),
        });
      } catch (e) {
        if (e instanceof NetlinkError && e.errno === 'EEXIST') {
          // makeVeth retries only when the peer name exists where it looks — the container netns.
          if (nl.linkExists(a.netns, hostName)) continue;
          throw CniError.internal(`container veth name (${goQuote(a.ifName)}) peer provided (${goQuote(hostName)}) already exists`);
        }
        throw CniError.internal(`failed to make veth pair: ${messageOf(e)}`);
      }
    }
    if (created === undefined) throw CniError.internal('failed to find a unique veth name');
    try {
      nl.setLinkUp(host, hostName);
    } catch (e) {
      throw CniError.internal(`failed to set ${goQuote(hostName)} up: ${messageOf(e)}`);
    }
    sysctlIgnoringErrors(nl, host, `net.ipv6.conf.${hostName}.accept_ra`, '0');
    try {
      nl.setMaster(host, hostName, conf.bridge);
    } catch (e) {
      throw CniError.internal(`failed to connect ${goQuote(hostName)} to bridge ${conf.bridge}: ${messageOf(e)}`);
    }
    try {
      nl.setHairpin(host, hostName, conf.hairpinMode);
    } catch (e) {
      throw CniError.internal(`failed to setup hairpin mode for ${hostName}: ${messageOf(e)}`);
    }
    return { hostName, hostMacAtCreate: created.hostMac, containerMac: created.containerMac };
  }

  private ipamAdd(conf: BridgeConfig, a: CniCommandArgs): IpamResult {
    if (conf.ipam.kind !== 'host-local') {
      throw CniError.internal(`failed to find plugin ${goQuote(conf.ipam.kind === 'other' ? conf.ipam.type : '')} in path [${a.path ?? DEFAULT_CNI_PATH}]`);
    }
    return this.opts.ipam.add(conf.ipam, { containerId: a.containerId, ifName: a.ifName, cniArgs: a.args ?? '' });
  }

  private ipamDel(conf: BridgeConfig, a: CniCommandArgs): void {
    if (conf.ipam.kind === 'none') return;
    if (conf.ipam.kind === 'other') throw CniError.internal(`failed to find plugin ${goQuote(conf.ipam.type)} in path [${a.path ?? DEFAULT_CNI_PATH}]`);
    this.opts.ipam.del(conf.ipam, { containerId: a.containerId, ifName: a.ifName, cniArgs: a.args ?? '' });
  }

  /** Steps 4–7 of ADD. */
  private configureL3(
    conf: BridgeConfig,
    a: CniCommandArgs,
    isGw: boolean,
    ipamResult: IpamResult,
    interfaces: readonly CniInterface[],
    brMacAtCreate: string,
  ): { ips: CniIpConfig[]; routes: CniRoute[] } {
    const nl = this.opts.netlink;
    const host = this.opts.hostNetns;
    if (ipamResult.ips.length === 0) throw CniError.internal('IPAM plugin returned missing IP config');

    // calcGateways (IPv4 only).
    const routes: CniRoute[] = [...ipamResult.routes];
    const gws: string[] = [];
    let defaultRouteFound = false;
    const ips = ipamResult.ips.map((ipc): CniIpConfig => {
      const cidr = parseIpv4Cidr(ipc.address);
      const gateway = ipc.gateway ?? (isGw ? formatIpv4((networkAddress(cidr) + 1) >>> 0) : undefined);
      if (conf.isDefaultGateway) {
        if (!defaultRouteFound) defaultRouteFound = routes.some((r) => r.gw !== undefined && r.dst === '0.0.0.0/0');
        if (!defaultRouteFound) {
          routes.push({ dst: '0.0.0.0/0', ...(gateway !== undefined ? { gw: gateway } : {}) });
          defaultRouteFound = true;
        }
      }
      if (isGw && gateway !== undefined) gws.push(`${gateway}/${cidr.prefixLen}`);
      return { interface: CONTAINER_INTERFACE_INDEX, address: ipc.address, ...(gateway !== undefined ? { gateway } : {}) };
    });

    // In the container netns.
    sysctlIgnoringErrors(nl, a.netns, `net.ipv6.conf.${a.ifName}.accept_dad`, '0');
    sysctlIgnoringErrors(nl, a.netns, `net.ipv4.conf.${a.ifName}.arp_notify`, '1');
    this.configureIface(a.netns, a.ifName, interfaces, ips, routes);

    if (isGw) {
      for (const gw of gws) {
        try {
          this.ensureAddr(conf, gw, brMacAtCreate);
        } catch (e) {
          throw CniError.internal(`failed to set bridge addr: ${messageOf(e)}`);
        }
      }
      if (gws.length > 0) {
        try {
          // ip.EnableIP4Forward (echo 1 > /proc/sys/net/ipv4/ip_forward).
          nl.setSysctl(host, 'net.ipv4.ip_forward', '1');
        } catch (e) {
          throw CniError.internal(`failed to enable forwarding: ${messageOf(e)}`);
        }
      }
    }

    if (conf.ipMasq) this.setupIpMasq(conf, a, ips);
    return { ips, routes };
  }

  /** pkg/ipam/ipam_linux.go `ConfigureIface`: addresses, then up, then routes. */
  private configureIface(netns: string, ifName: string, interfaces: readonly CniInterface[], ips: readonly CniIpConfig[], routes: readonly CniRoute[]): void {
    const nl = this.opts.netlink;
    if (interfaces.length === 0) throw CniError.internal('no interfaces to configure');
    let v4gw: string | undefined;
    for (const ipc of ips) {
      if (ipc.interface === undefined) continue;
      if (ipc.interface < 0 || ipc.interface >= interfaces.length || interfaces[ipc.interface]?.name !== ifName) {
        throw CniError.internal(`failed to add IP addr ${ipConfigText(ipc)} to ${goQuote(ifName)}: invalid interface index`);
      }
      try {
        nl.addAddress(netns, ifName, ipc.address);
      } catch (e) {
        throw CniError.internal(`failed to add IP addr ${ipConfigText(ipc)} to ${goQuote(ifName)}: ${messageOf(e)}`);
      }
      if (v4gw === undefined && ipc.gateway !== undefined) v4gw = ipc.gateway;
    }
    try {
      nl.setLinkUp(netns, ifName);
    } catch (e) {
      throw CniError.internal(`failed to set ${goQuote(ifName)} UP: ${messageOf(e)}`);
    }
    // configureRoutes: routes with the same destination become one (multipath) route; podwire
    // installs its first next hop.
    const seen = new Set<string>();
    for (const r of routes) {
      if (seen.has(r.dst)) continue;
      seen.add(r.dst);
      const gw = r.gw ?? v4gw;
      try {
        nl.addRoute(netns, { dst: r.dst, ...(gw !== undefined ? { gw } : {}), dev: ifName });
      } catch (e) {
        throw CniError.internal(`failed to add route '${r.dst} via [${gw ?? ''}] dev ${ifName} metric 0 (Scope: universe, Table: 0)': ${messageOf(e)}`);
      }
    }
  }

  /** bridge.go `ensureAddr` for IPv4. */
  private ensureAddr(conf: BridgeConfig, gwCidr: string, brMacAtCreate: string): void {
    const nl = this.opts.netlink;
    const host = this.opts.hostNetns;
    const br = conf.bridge;
    for (const a of nl.listAddresses(host, br)) {
      if (a === gwCidr) return;
      // IPv4: any other address conflicts.
      if (!conf.forceAddress) throw new Error(`${goQuote(br)} already has an IP address different from ${gwCidr}`);
      try {
        nl.deleteAddress(host, br, a);
      } catch (e) {
        throw new Error(`could not remove IP address from ${goQuote(br)}: ${messageOf(e)}`);
      }
    }
    try {
      nl.addAddress(host, br, gwCidr);
    } catch (e) {
      if (!(e instanceof NetlinkError && e.errno === 'EEXIST')) throw new Error(`could not add IP address to ${goQuote(br)}: ${messageOf(e)}`);
    }
    // "Set the bridge's MAC to itself. Otherwise, the bridge will take the lowest-numbered mac on
    // the bridge, and will change as ifs churn" — with the MAC read when the bridge was ensured.
    try {
      nl.setHardwareAddress(host, br, brMacAtCreate);
    } catch (e) {
      throw new Error(`could not set bridge's mac: ${messageOf(e)}`);
    }
  }

  private iptablesFor(conf: BridgeConfig): Iptables {
    const ipt = this.opts.iptables;
    if (ipt === undefined) throw new Error(`network ${conf.name} sets ipMasq but the bridge plugin was given no Iptables`);
    return ipt;
  }

  /** pkg/ip/ipmasq_iptables_linux.go `SetupIPMasq`, per address. */
  private setupIpMasq(conf: BridgeConfig, a: CniCommandArgs, ips: readonly CniIpConfig[]): void {
    const ipt = this.iptablesFor(conf);
    const host = this.opts.hostNetns;
    const chain = ipMasqChainName(conf.name, a.containerId);
    const comment = ipMasqComment(conf.name, a.containerId);
    for (const ipc of ips) {
      ipt.ensureChain(host, 'nat', chain);
      // "Packets to this network should not be touched" (ipn.String(): the pod's address with its prefix).
      ipt.appendUnique(host, 'nat', chain, ['-d', ipc.address, '-j', 'ACCEPT', '-m', 'comment', '--comment', comment]);
      // "Don't masquerade multicast".
      ipt.appendUnique(host, 'nat', chain, ['!', '-d', '224.0.0.0/4', '-j', 'MASQUERADE', '-m', 'comment', '--comment', comment]);
      ipt.appendUnique(host, 'nat', 'POSTROUTING', ['-s', parseIpv4CidrText(ipc.address), '-j', chain, '-m', 'comment', '--comment', comment]);
    }
  }

  /** CNI DEL. Throws CniError; succeeds when things are already gone. */
  del(conf: BridgeConfig, a: CniCommandArgs): void {
    validateCommandArgs(a, 'DEL');
    macOf(conf, a.args ?? '');
    const nl = this.opts.netlink;
    if (a.netns === '' || !nl.netnsExists(a.netns)) {
      this.ipamDel(conf, a);
      return;
    }
    // ip.DelLinkByNameAddr: note the global-unicast addresses, then delete the link (and its peer).
    let addrs: string[] = [];
    if (nl.linkExists(a.netns, a.ifName)) {
      addrs = nl.listAddresses(a.netns, a.ifName).filter(isGlobalUnicast);
      try {
        nl.deleteLink(a.netns, a.ifName);
      } catch (e) {
        throw CniError.internal(`failed to delete ${goQuote(a.ifName)}: ${messageOf(e)}`);
      }
    }
    this.ipamDel(conf, a);
    if (conf.ipam.kind !== 'none' && conf.ipMasq) {
      const ipt = this.iptablesFor(conf);
      const host = this.opts.hostNetns;
      const chain = ipMasqChainName(conf.name, a.containerId);
      const comment = ipMasqComment(conf.name, a.containerId);
      for (const cidr of addrs) {
        // TeardownIPMasq: the rule by address, then the older form by CIDR, then the chain.
        ipt.deleteRule(host, 'nat', 'POSTROUTING', ['-s', parseIpv4CidrText(cidr), '-j', chain, '-m', 'comment', '--comment', comment]);
        ipt.deleteRule(host, 'nat', 'POSTROUTING', ['-s', cidr, '-j', chain, '-m', 'comment', '--comment', comment]);
        ipt.clearChain(host, 'nat', chain);
        ipt.deleteChain(host, 'nat', chain);
      }
    }
  }
}

/** The address part of "a.b.c.d/n". */
function parseIpv4CidrText(cidr: string): string {
  return formatIpv4(parseIpv4Cidr(cidr).ip);
}

/** Go's `net.IP.IsGlobalUnicast` for IPv4. */
function isGlobalUnicast(cidr: string): boolean {
  const ip = parseIpv4Cidr(cidr).ip;
  const first = ip >>> 24;
  return ip !== 0 && ip !== 0xffff_ffff && first !== 127 && (first & 0xf0) !== 0xe0 && ip >>> 16 !== 0xa9fe;
}
