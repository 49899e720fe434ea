/**
 * flannel's VXLAN backend as it programs each node (pkg/backend/vxlan): the `flannel.1` device
 * (VNI 1, UDP 8472 unless configured, local = the node's IP, no learning, MTU = node MTU − 50)
 * with the node subnet's network address as a /32, and for every other node a route
 * `<subnet> via <subnet.0> dev flannel.1 onlink`, a permanent neighbour entry for `<subnet.0>`
 * with that node's VTEP MAC, and an FDB entry sending that MAC to the node's IP.
 */
import type { Ipv4Addr, MacAddr } from '../packet/addr.js';
import type { Netns } from '../net/netns.js';
import type { Vxlan } from '../net/vxlan.js';
import type { RandomStream } from '../sim/random.js';
import { randomMac } from './kernel-netlink.js';

/** flannel's encapOverhead: outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_ENCAP_OVERHEAD = 50;
export const FLANNEL_VXLAN_DEVICE = 'flannel.1';

export interface FlannelNode {
  readonly netns: Netns;
  readonly nodeIp: Ipv4Addr;
  /** The node's pod subnet (network address and prefix). */
  readonly subnet: Ipv4Addr;
  readonly subnetPrefixLen: number;
  readonly mtu: number;
}

export interface FlannelVxlanOptions {
  readonly vni?: number;
  readonly port?: number;
}

/** Creates flannel.1 on every node and the routes, neighbours and FDB entries towards the others. */
export function programFlannelVxlan(nodes: readonly FlannelNode[], macs: RandomStream, opts: FlannelVxlanOptions = {}): void {
  const vni = opts.vni ?? 1;
  const port = opts.port ?? 8472;
  const vteps: { node: FlannelNode; dev: Vxlan; mac: MacAddr }[] = nodes.map((node) => {
    const dev = node.netns.addVxlan(`flannel.${vni}`, randomMac(macs), node.mtu - VXLAN_ENCAP_OVERHEAD, {
      vni, dstPort: port, local: node.nodeIp, ttl: 64,
    });
    // "so that no broadcast routes are created": the subnet's network address as a /32.
    node.netns.addAddress(dev, node.subnet, 32);
    node.netns.linkUp(dev);
    return { node, dev, mac: dev.mac };
  });
  for (const self of vteps) {
    for (const other of vteps) {
      if (other === self) continue;
      const ns = self.node.netns;
      ns.addRoute({ dst: other.node.subnet, prefixLen: other.node.subnetPrefixLen, gateway: other.node.subnet, dev: self.dev, onlink: true, scope: 'global' });
      ns.neigh.addPermanent(self.dev, other.node.subnet, other.mac);
      self.dev.fdb.set(other.mac, other.node.nodeIp);
    }
  }
}

/** flannel's host-gw backend (pkg/backend/hostgw): `<subnet> via <node IP> dev eth0` per other node, no encapsulation. */
export function programFlannelHostGw(nodes: readonly FlannelNode[], externalDevice = 'eth0'): void {
  for (const self of nodes) {
    const dev = self.netns.device(externalDevice);
    if (!dev) throw new Error(`${self.netns.name}: no ${externalDevice} for flannel host-gw`);
    for (const other of nodes) {
      if (other === self) continue;
      self.netns.addRoute({ dst: other.subnet, prefixLen: other.subnetPrefixLen, gateway: other.nodeIp, dev });
    }
  }
}
