/**
 * The run's topology as interfaces.json records it: hosts (nodes, pods, external hosts, the
 * underlay switch), their interfaces, and the cables between them (a veth's peer). Only
 * interfaces that carried traffic are in interfaces.json, so only those are here.
 *
 * interfaces.json does not say which bridge a veth is enslaved to; the bridge CNI plugin and the
 * underlay switch attach every address-less veth of their host to the host's one bridge, so a
 * host with exactly one bridge gets its address-less veths as that bridge's ports. A host with
 * several bridges gets none: the picture does not guess.
 */
import type { HostKind, InterfaceRecord } from '../../capture/index.js';

export interface TopoInterface {
  readonly name: string;
  readonly kind: string;
  readonly mac: string;
  readonly mtu: number;
  readonly addresses: readonly string[];
  readonly file: string;
  readonly packets: number;
  readonly peer?: { readonly host: string; readonly name: string };
  /** The bridge this interface is a port of (inferred, see above). */
  readonly bridge?: string;
}

export interface TopoHost {
  readonly name: string;
  readonly kind: HostKind;
  readonly netns: string;
  readonly interfaces: TopoInterface[];
  /** For a pod: the node its eth0's peer lives on. */
  readonly node?: string;
}

export interface Topology {
  /** Every host, in the order interfaces.json first names it. */
  readonly hosts: TopoHost[];
  readonly nodes: TopoHost[];
  readonly switches: TopoHost[];
  readonly externals: TopoHost[];
  /** Pods by the node they run on; pods whose node is unknown under ''. */
  readonly podsByNode: ReadonlyMap<string, TopoHost[]>;
}

/** Interfaces in the order a reader meets them from the pods down to the cable: bridge, ports, tunnels, uplink. */
function rank(i: TopoInterface, hosts: ReadonlyMap<string, HostKind>): number {
  if (i.kind === 'bridge') return 0;
  if (i.bridge !== undefined) return 1;
  if (i.kind === 'vxlan') return 2;
  if (i.kind === 'loopback') return 3;
  if (i.peer !== undefined && hosts.get(i.peer.host) === 'switch') return 5;
  return 4;
}

export function buildTopology(records: readonly InterfaceRecord[]): Topology {
  const byHost = new Map<string, { kind: HostKind; netns: string; records: InterfaceRecord[] }>();
  for (const r of records) {
    let h = byHost.get(r.host);
    if (h === undefined) byHost.set(r.host, (h = { kind: r.hostKind, netns: r.netns, records: [] }));
    h.records.push(r);
  }
  const kinds = new Map([...byHost].map(([name, h]) => [name, h.kind]));
  const hosts: TopoHost[] = [];
  for (const [name, h] of byHost) {
    const bridges = h.records.filter((r) => r.kind === 'bridge');
    const only = bridges.length === 1 ? bridges[0]!.name : undefined;
    const interfaces = h.records.map((r): TopoInterface => ({
      name: r.name, kind: r.kind, mac: r.mac, mtu: r.mtu, addresses: r.addresses, file: r.file, packets: r.packets,
      ...(r.peer !== undefined ? { peer: r.peer } : {}),
      ...(only !== undefined && r.kind === 'veth' && r.addresses.length === 0 ? { bridge: only } : {}),
    }));
    // A stable sort: within a rank, interfaces.json's order.
    interfaces.sort((a, b) => rank(a, kinds) - rank(b, kinds));
    const node = h.kind === 'pod' ? h.records.map((r) => r.peer?.host).find((p) => p !== undefined && kinds.get(p) === 'node') : undefined;
    hosts.push({ name, kind: h.kind, netns: h.netns, interfaces, ...(node !== undefined ? { node } : {}) });
  }
  const podsByNode = new Map<string, TopoHost[]>();
  for (const h of hosts) {
    if (h.kind !== 'pod') continue;
    const key = h.node ?? '';
    let list = podsByNode.get(key);
    if (list === undefined) podsByNode.set(key, (list = []));
    list.push(h);
  }
  return {
    hosts,
    nodes: hosts.filter((h) => h.kind === 'node'),
    switches: hosts.filter((h) => h.kind === 'switch'),
    externals: hosts.filter((h) => h.kind === 'external'),
    podsByNode,
  };
}

/** `eth0 (veth)`, then its addresses and MAC: the two lines that label an interface. */
export function interfaceLines(i: TopoInterface): [string, string] {
  const first = `${i.name} (${i.kind}${i.mtu !== 1500 ? `, mtu ${i.mtu}` : ''})`;
  const second = [...i.addresses, i.mac].join('  ');
  return [first, second];
}
