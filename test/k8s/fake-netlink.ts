/**
 * A recording Netlink/Iptables for the bridge plugin tests: it keeps just enough kernel state
 * (links, MACs, addresses, bridge ports) to answer the plugin's queries, and logs every call in
 * order so a test can assert the real plugin's sequence.
 */
import { formatMac } from '../../src/packet/addr.js';
import { NetlinkError, type Iptables, type Netlink, type RouteSpec, type VethPairSpec } from '../../src/k8s/cni/netlink.js';

interface Link {
  kind: 'bridge' | 'veth';
  mac: string;
  up: boolean;
  mtu: number;
  master?: string;
  hairpin?: boolean;
  promisc?: boolean;
  addrs: string[];
  peer?: { netns: string; dev: string };
  /** Bridge MAC set by the user (addr_assign_type NET_ADDR_SET): ports no longer change it. */
  pinned?: boolean;
}

export type Call = readonly [string, ...unknown[]];

export class FakeNetlink implements Netlink, Iptables {
  readonly calls: Call[] = [];
  readonly netns = new Map<string, Map<string, Link>>();
  readonly sysctls = new Map<string, string>();
  readonly routes: Array<{ netns: string } & RouteSpec> = [];
  readonly nat = new Map<string, string[][]>([['POSTROUTING', []]]);
  /** Every change of a bridge's MAC after creation: [dev, new MAC]. */
  readonly bridgeMacChanges: Array<readonly [string, string]> = [];
  private nextMac = 1;

  constructor(namespaces: readonly string[]) {
    for (const n of namespaces) this.netns.set(n, new Map());
  }

  /** A deterministic stand-in for eth_hw_addr_random: 0a:58:0a:00:00:01, :02, … in creation order. */
  private mac(): string {
    return formatMac(0x0a58_0a00_0000 + this.nextMac++);
  }

  private ns(netns: string): Map<string, Link> {
    const m = this.netns.get(netns);
    if (m === undefined) throw new NetlinkError('ENOENT', 'no such file or directory');
    return m;
  }

  link(netns: string, dev: string): Link {
    const l = this.ns(netns).get(dev);
    if (l === undefined) throw new NetlinkError('ENODEV', 'Link not found');
    return l;
  }

  /** br_stp_recalculate_bridge_id: an unpinned bridge takes its lowest port MAC. */
  private recalcBridgeMac(netns: string, br: string): void {
    const b = this.link(netns, br);
    if (b.pinned === true) return;
    const ports = [...this.ns(netns).values()].filter((l) => l.master === br).map((l) => l.mac).sort();
    if (ports[0] !== undefined && ports[0] !== b.mac) {
      b.mac = ports[0];
      this.bridgeMacChanges.push([br, b.mac]);
    }
  }

  netnsExists(netns: string): boolean {
    this.calls.push(['netnsExists', netns]);
    return this.netns.has(netns);
  }

  ensureBridge(netns: string, name: string, opts: { mtu: number; promiscMode: boolean; vlanFiltering: boolean }): { mac: string } {
    this.calls.push(['ensureBridge', netns, name, opts]);
    const m = this.ns(netns);
    let b = m.get(name);
    if (b === undefined) {
      b = { kind: 'bridge', mac: this.mac(), up: false, mtu: opts.mtu === 0 ? 1500 : opts.mtu, addrs: [] };
      m.set(name, b);
    } else if (b.kind !== 'bridge') {
      throw new NetlinkError('EEXIST', `"${name}" already exists but is not a bridge`);
    }
    if (opts.promiscMode) b.promisc = true;
    return { mac: b.mac };
  }

  createVethPair(spec: VethPairSpec): { hostMac: string; containerMac: string } {
    this.calls.push(['createVethPair', { ...spec }]);
    const host = this.ns(spec.hostNetns);
    const cont = this.ns(spec.containerNetns);
    if (cont.has(spec.containerName) || host.has(spec.hostName)) throw new NetlinkError('EEXIST', 'file exists');
    const mtu = spec.mtu === 0 ? 1500 : spec.mtu;
    const containerMac = spec.containerMac ?? this.mac();
    const hostMac = this.mac();
    cont.set(spec.containerName, { kind: 'veth', mac: containerMac, up: false, mtu, addrs: [], peer: { netns: spec.hostNetns, dev: spec.hostName } });
    host.set(spec.hostName, { kind: 'veth', mac: hostMac, up: false, mtu, addrs: [], peer: { netns: spec.containerNetns, dev: spec.containerName } });
    return { hostMac, containerMac };
  }

  setMaster(netns: string, dev: string, master: string): void {
    this.calls.push(['setMaster', netns, dev, master]);
    this.link(netns, dev).master = master;
    this.recalcBridgeMac(netns, master);
  }

  setHairpin(netns: string, dev: string, on: boolean): void {
    this.calls.push(['setHairpin', netns, dev, on]);
    this.link(netns, dev).hairpin = on;
  }

  setLinkUp(netns: string, dev: string): void {
    this.calls.push(['setLinkUp', netns, dev]);
    this.link(netns, dev).up = true;
  }

  addAddress(netns: string, dev: string, cidr: string): void {
    this.calls.push(['addAddress', netns, dev, cidr]);
    const l = this.link(netns, dev);
    if (l.addrs.includes(cidr)) throw new NetlinkError('EEXIST', 'file exists');
    l.addrs.push(cidr);
  }

  listAddresses(netns: string, dev: string): readonly string[] {
    this.calls.push(['listAddresses', netns, dev]);
    return [...this.link(netns, dev).addrs];
  }

  deleteAddress(netns: string, dev: string, cidr: string): void {
    this.calls.push(['deleteAddress', netns, dev, cidr]);
    const l = this.link(netns, dev);
    l.addrs = l.addrs.filter((a) => a !== cidr);
  }

  setHardwareAddress(netns: string, dev: string, mac: string): void {
    this.calls.push(['setHardwareAddress', netns, dev, mac]);
    const l = this.link(netns, dev);
    if (l.kind === 'bridge') {
      if (l.mac !== mac) this.bridgeMacChanges.push([dev, mac]);
      l.pinned = true;
    }
    l.mac = mac;
  }

  linkMac(netns: string, dev: string): string {
    this.calls.push(['linkMac', netns, dev]);
    return this.link(netns, dev).mac;
  }

  addRoute(netns: string, route: RouteSpec): void {
    this.calls.push(['addRoute', netns, { ...route }]);
    this.routes.push({ netns, ...route });
  }

  setSysctl(netns: string, key: string, value: string): void {
    this.calls.push(['setSysctl', netns, key, value]);
    this.sysctls.set(`${netns}:${key}`, value);
  }

  deleteLink(netns: string, dev: string): void {
    this.calls.push(['deleteLink', netns, dev]);
    const l = this.link(netns, dev);
    this.ns(netns).delete(dev);
    // veth_dellink: the peer goes too.
    if (l.peer !== undefined) {
      const master = this.netns.get(l.peer.netns)?.get(l.peer.dev)?.master;
      this.netns.get(l.peer.netns)?.delete(l.peer.dev);
      if (master !== undefined) this.recalcBridgeMac(l.peer.netns, master);
    }
  }

  linkExists(netns: string, dev: string): boolean {
    this.calls.push(['linkExists', netns, dev]);
    return this.netns.get(netns)?.has(dev) ?? false;
  }

  // Iptables (nat table only).
  ensureChain(netns: string, table: 'nat', chain: string): void {
    this.calls.push(['ensureChain', netns, table, chain]);
    if (!this.nat.has(chain)) this.nat.set(chain, []);
  }

  appendUnique(netns: string, table: 'nat', chain: string, ruleSpec: readonly string[]): void {
    this.calls.push(['appendUnique', netns, table, chain, [...ruleSpec]]);
    const rules = this.nat.get(chain) ?? [];
    if (!rules.some((r) => r.join(' ') === ruleSpec.join(' '))) rules.push([...ruleSpec]);
    this.nat.set(chain, rules);
  }

  deleteRule(netns: string, table: 'nat', chain: string, ruleSpec: readonly string[]): void {
    this.calls.push(['deleteRule', netns, table, chain, [...ruleSpec]]);
    const rules = this.nat.get(chain);
    if (rules !== undefined) this.nat.set(chain, rules.filter((r) => r.join(' ') !== ruleSpec.join(' ')));
  }

  clearChain(netns: string, table: 'nat', chain: string): void {
    this.calls.push(['clearChain', netns, table, chain]);
    if (this.nat.has(chain)) this.nat.set(chain, []);
  }

  deleteChain(netns: string, table: 'nat', chain: string): void {
    this.calls.push(['deleteChain', netns, table, chain]);
    this.nat.delete(chain);
  }
}
