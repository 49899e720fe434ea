/**
 * The CNI plugin's netlink calls, carried out on the emulated kernel: the same operations
 * `ip link`/`ip addr`/`ip route`/sysctl perform, on podwire's netns by name (a netns path such as
 * /var/run/netns/pa names the netns `pa`, as `ip netns` mounts them). New devices get MACs from
 * a seeded stream, as the kernel gives them random ones (eth_hw_addr_random).
 */
import { formatIpv4, formatMac, parseIpv4, parseMac, type MacAddr } from '../packet/addr.js';
import type { Bridge } from '../net/bridge.js';
import type { NetDevice } from '../net/device.js';
import { Netns } from '../net/netns.js';
import type { RandomStream } from '../sim/random.js';
import { NetlinkError, type Netlink, type RouteSpec, type VethPairSpec } from './cni/netlink.js';

/** A random locally administered unicast MAC (the kernel's eth_random_addr). */
export function randomMac(rng: RandomStream): MacAddr {
  const b = rng.bytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return Number.parseInt(Buffer.from(b).toString('hex'), 16);
}

/** A device whose MTU nobody set (the plugin's mtu 0) has Ethernet's. */
const DEFAULT_MTU = 1500;

export class KernelNetlink implements Netlink {
  constructor(
    private readonly namespaces: ReadonlyMap<string, Netns>,
    private readonly macs: RandomStream,
  ) {}

  private ns(path: string): Netns {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const ns = this.namespaces.get(name);
    if (!ns) throw new NetlinkError('ENOENT', `netns ${path} does not exist`);
    return ns;
  }

  private dev(netns: string, name: string): NetDevice {
    const d = this.ns(netns).device(name);
    if (!d) throw new NetlinkError('ENODEV', `Link not found: ${name}`);
    return d;
  }

  netnsExists(netns: string): boolean {
    return this.namespaces.has(netns.slice(netns.lastIndexOf('/') + 1));
  }

  ensureBridge(netns: string, name: string, opts: { readonly mtu: number }): { readonly mac: string } {
    const mtu = opts.mtu || DEFAULT_MTU;
    const ns = this.ns(netns);
    const existing = ns.device(name);
    if (existing) {
      if (existing.kind !== 'bridge') throw new NetlinkError('EEXIST', `${name} already exists but is not a bridge`);
      return { mac: formatMac(existing.mac) };
    }
    return { mac: formatMac(ns.addBridge(name, randomMac(this.macs), mtu).mac) };
  }

  createVethPair(spec: VethPairSpec): { readonly hostMac: string; readonly containerMac: string } {
    const host = this.ns(spec.hostNetns);
    const cont = this.ns(spec.containerNetns);
    if (host.device(spec.hostName)) throw new NetlinkError('EEXIST', `container veth name provided (${spec.hostName}) already exists`);
    if (cont.device(spec.containerName)) throw new NetlinkError('EEXIST', `container veth name provided (${spec.containerName}) already exists`);
    const cmac = spec.containerMac !== undefined ? parseMac(spec.containerMac) : randomMac(this.macs);
    const [h, c] = Netns.addVethPair(host, spec.hostName, randomMac(this.macs), cont, spec.containerName, cmac, spec.mtu || DEFAULT_MTU);
    return { hostMac: formatMac(h.mac), containerMac: formatMac(c.mac) };
  }

  setMaster(netns: string, dev: string, master: string): void {
    const m = this.dev(netns, master);
    if (m.kind !== 'bridge') throw new NetlinkError('EINVAL', `${master} is not a bridge`);
    (m as Bridge).addPort(this.dev(netns, dev));
  }

  setHairpin(netns: string, dev: string, on: boolean): void {
    const d = this.dev(netns, dev);
    const port = d.master ? (d.master as Bridge).portOf(d) : undefined;
    if (!port) throw new NetlinkError('EOPNOTSUPP', `${dev} is not a bridge port`);
    port.hairpin = on;
  }

  setLinkUp(netns: string, dev: string): void {
    this.ns(netns).linkUp(this.dev(netns, dev));
  }

  addAddress(netns: string, dev: string, cidr: string): void {
    const [ip, len] = cidr.split('/');
    const d = this.dev(netns, dev);
    const addr = parseIpv4(ip!);
    if (d.addresses.some((a) => a.address === addr)) throw new NetlinkError('EEXIST', 'file exists');
    this.ns(netns).addAddress(d, addr, Number(len));
  }

  listAddresses(netns: string, dev: string): readonly string[] {
    return this.dev(netns, dev).addresses.map((a) => `${formatIpv4(a.address)}/${a.prefixLen}`);
  }

  deleteAddress(netns: string, dev: string, cidr: string): void {
    const d = this.dev(netns, dev);
    const [ip] = cidr.split('/');
    const addr = parseIpv4(ip!);
    const i = d.addresses.findIndex((a) => a.address === addr);
    if (i < 0) throw new NetlinkError('EADDRNOTAVAIL', 'cannot assign requested address');
    const ns = this.ns(netns);
    d.addresses.splice(i, 1);
    ns.localAddrs.delete(addr);
    ns.fib.remove((r) => r.dev === d && (r.prefsrc === addr || r.dst === addr));
  }

  setHardwareAddress(netns: string, dev: string, mac: string): void {
    const d = this.dev(netns, dev);
    if (d.kind === 'bridge') (d as Bridge).setMac(parseMac(mac));
    else d.mac = parseMac(mac);
  }

  linkMac(netns: string, dev: string): string {
    return formatMac(this.dev(netns, dev).mac);
  }

  addRoute(netns: string, route: RouteSpec): void {
    const ns = this.ns(netns);
    const [dst, len] = route.dst.split('/');
    ns.addRoute({
      dst: parseIpv4(dst!),
      prefixLen: Number(len ?? 32),
      dev: this.dev(netns, route.dev),
      ...(route.gw !== undefined ? { gateway: parseIpv4(route.gw) } : {}),
    });
  }

  setSysctl(netns: string, key: string, value: string): void {
    const ns = this.ns(netns);
    const arpNotify = /^net\.ipv4\.conf\.([^.]+)\.arp_notify$/.exec(key);
    if (arpNotify) {
      if (value === '1') ns.sysctl.arpNotify.add(arpNotify[1]!);
      else ns.sysctl.arpNotify.delete(arpNotify[1]!);
    } else if (key === 'net.ipv4.ip_forward') {
      ns.sysctl.ipForward = value === '1';
    }
    // Others the plugin sets (IPv6 accept_ra, …) change nothing podwire models: IPv6 is off.
  }

  deleteLink(netns: string, dev: string): void {
    const ns = this.ns(netns);
    ns.deleteLink(this.dev(netns, dev));
  }

  linkExists(netns: string, dev: string): boolean {
    return this.netnsExists(netns) && this.ns(netns).device(dev) !== undefined;
  }
}
