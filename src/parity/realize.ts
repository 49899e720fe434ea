/**
 * The kernel realization of a podwire cluster: the `ip`, `bridge`, `sysctl` and `iptables-restore`
 * commands that rebuild, out of real network namespaces, the state podwire's model holds at the
 * first traffic step — read from the model itself (its Netns objects), not from the scenario, so
 * that what the kernel runs is what podwire computed: devices and their MACs and MTUs, veth pairs
 * across namespaces, bridges and their ports (hairpin), VXLAN devices, addresses, routes, permanent
 * neighbours, VXLAN FDB entries, sysctls and each node's iptables rules.
 *
 * Pure: it only plans. Every command names its namespace (`ip -n NS …`, `ip netns exec NS …`), so
 * nothing it plans touches the root namespace; veth pairs are created with both ends placed in
 * their target namespaces by the same netlink request (`ip -n A link add … peer name B netns B`).
 */
import { formatIpv4, formatMac } from '../packet/addr.js';
import type { Cluster } from '../k8s/cluster.js';
import { Bridge } from '../net/bridge.js';
import type { NetDevice } from '../net/device.js';
import { NudState } from '../net/neighbour.js';
import type { Netns } from '../net/netns.js';
import { renderIptablesSave } from '../net/netfilter/iptables-save.js';
import { devicesInOrder, formatRoute } from '../net/render/iproute.js';
import { Veth } from '../net/veth.js';
import { Vxlan } from '../net/vxlan.js';
import { VIRTUAL_EPOCH_SEC } from '../sim/scheduler.js';
import { unsupportedFeatures, type FeatureProbe } from './kernel-features.js';

/** One command: its argv and, for iptables-restore, what it reads on standard input. */
export interface PlannedCommand {
  readonly argv: readonly string[];
  readonly input?: string;
  /**
   * When it runs: `setup` (namespace sysctls, devices, bridge ports, addresses: nothing is up),
   * `up` (links up: the first frames, gratuitous ARPs), `state` (routes, neighbours, FDB,
   * iptables). A pod added mid-run has its captures started between setup and up.
   */
  readonly phase: 'setup' | 'up' | 'state';
}

/** A podwire netns and the kernel namespace that stands for it. */
export interface PlannedNamespace {
  /** podwire's netns name (`n1`, `pa`, `underlay`). */
  readonly model: string;
  /** The kernel's: `pwp<pid>-<model>`. */
  readonly kernel: string;
}

/** An interface to capture on: every device, lo included, as podwire taps every device. */
export interface PlannedInterface {
  readonly netns: string;
  readonly kernelNetns: string;
  readonly name: string;
}

export interface KernelPlan {
  readonly namespaces: readonly PlannedNamespace[];
  readonly commands: readonly PlannedCommand[];
  readonly interfaces: readonly PlannedInterface[];
  /** What this kernel lacks for the model (`not realizable here: ipip (this kernel has no ipip)`); non-empty: do not run. */
  readonly notRealizable: readonly string[];
}

/** The `ip link` type that realizes a device: its class's, else the kind the model gives it. */
export function linkTypeOf(d: NetDevice): string {
  if (d instanceof Veth) return 'veth';
  if (d instanceof Bridge) return 'bridge';
  if (d instanceof Vxlan) return 'vxlan';
  return d.kind;
}

/** The kernel namespace name for a podwire netns: `<prefix>-<name>`, prefix `pwp<pid>`. */
export function kernelNetnsName(prefix: string, model: string): string {
  return `${prefix}-${model}`;
}

/**
 * Plans the realization of the cluster's state as it is now. Namespaces are taken in the order the
 * cluster made them — the switch, nodes, external hosts, then pods — so devices come up in the
 * order they did in the model (a node's host veth before its pod's eth0).
 */
export function planRealization(cluster: Cluster, prefix: string, features?: FeatureProbe): KernelPlan {
  const ordered = [...cluster.namespaces.values()];
  // Every device kind against what this kernel has (probed once per run): a missing one is
  // reported, and nothing is planned, rather than failing half-way through the build.
  if (features !== undefined) {
    const kinds = ordered.flatMap((ns) => devicesInOrder(ns).filter((d) => d.kind !== 'loopback').map(linkTypeOf));
    const notRealizable = unsupportedFeatures(kinds, features);
    if (notRealizable.length > 0) return { namespaces: [], commands: [], interfaces: [], notRealizable };
  }
  const k = (ns: { name: string } | string): string => kernelNetnsName(prefix, typeof ns === 'string' ? ns : ns.name);
  const known = new Set(ordered.map((ns) => ns.name));
  const cmds: PlannedCommand[] = [];
  let phase: PlannedCommand['phase'] = 'setup';
  const ip = (ns: Netns, ...args: string[]): void => void cmds.push({ argv: ['ip', '-n', k(ns), ...args], phase });
  const exec = (ns: Netns, ...args: string[]): void => void cmds.push({ argv: ['ip', 'netns', 'exec', k(ns), ...args], phase });
  const sysctl = (ns: Netns, key: string, value: string | number): void => exec(ns, 'sysctl', '-qw', `${key}=${value}`);

  // 1. In each namespace (created beforehand, from `namespaces`, by whoever records them for
  //    cleanup): IPv6 off before any device exists (the references ran without it: no router
  //    solicitations or MLD reports), and the namespace-wide sysctls.
  for (const ns of ordered) {
    sysctl(ns, 'net.ipv6.conf.all.disable_ipv6', 1);
    sysctl(ns, 'net.ipv6.conf.default.disable_ipv6', 1);
    sysctl(ns, 'net.ipv4.ip_forward', ns.sysctl.ipForward ? 1 : 0);
    sysctl(ns, 'net.ipv4.ip_default_ttl', ns.sysctl.defaultTtl);
  }

  // 2. Devices, each with its MAC and MTU. A veth pair once, from its first end.
  const made = new Set<NetDevice>();
  for (const ns of ordered) {
    for (const d of devicesInOrder(ns)) {
      if (d.kind === 'loopback' || made.has(d)) continue;
      made.add(d);
      const common = ['address', formatMac(d.mac), 'mtu', String(d.mtu)];
      if (d instanceof Veth) {
        const peer = d.peer;
        const peerNs = peer.netnsName;
        if (!known.has(peerNs)) throw new Error(`${ns.name}: veth ${d.name}'s peer is in ${peerNs}, which the cluster does not list`);
        made.add(peer);
        ip(ns, 'link', 'add', d.name, ...common, 'type', 'veth', 'peer', 'name', peer.name, 'netns', k(peerNs), 'address', formatMac(peer.mac), 'mtu', String(peer.mtu));
      } else if (d instanceof Bridge) {
        // stp off and a zero forwarding delay: ports forward at once, as podwire's bridge does.
        ip(ns, 'link', 'add', d.name, ...common, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
      } else if (d instanceof Vxlan) {
        const c = d.config;
        const lower = devicesInOrder(ns).find((x) => x.addresses.some((a) => a.address === c.local));
        const ttl = c.ttl === 0 || c.ttl === ns.sysctl.defaultTtl ? [] : ['ttl', String(c.ttl)];
        ip(ns, 'link', 'add', d.name, ...common, 'type', 'vxlan', 'id', String(c.vni), 'local', formatIpv4(c.local),
          ...(lower ? ['dev', lower.name] : []), 'dstport', String(c.dstPort), 'nolearning', ...ttl, 'udpcsum');
      } else {
        throw new Error(`${ns.name}: ${d.name} is a ${d.kind} device, which parity cannot realize yet`);
      }
    }
  }

  // 3. Per-device sysctls (before the devices come up: arp_notify acts on NETDEV_UP), bridge
  //    ports with hairpin, pinned MTUs (a bridge follows its ports' smallest otherwise), addresses.
  for (const ns of ordered) {
    for (const dev of ns.sysctl.arpNotify) exec(ns, 'sysctl', '-qw', `net/ipv4/conf/${dev}/arp_notify=1`);
    if (ns.sysctl.bridgeNfCallIptables || [...ns.devices.values()].some((d) => d instanceof Bridge)) {
      sysctl(ns, 'net.bridge.bridge-nf-call-iptables', ns.sysctl.bridgeNfCallIptables ? 1 : 0);
    }
    for (const d of devicesInOrder(ns)) {
      if (!(d instanceof Bridge)) continue;
      // Oldest port first: the model keeps them most recent first (br->port_list).
      for (const p of [...d.ports].reverse()) {
        ip(ns, 'link', 'set', p.dev.name, 'master', d.name);
        if (p.hairpin) ip(ns, 'link', 'set', p.dev.name, 'type', 'bridge_slave', 'hairpin', 'on');
      }
      ip(ns, 'link', 'set', d.name, 'address', formatMac(d.mac), 'mtu', String(d.mtu));
    }
    for (const d of devicesInOrder(ns)) {
      if (d.kind === 'loopback') continue;
      for (const a of d.addresses) {
        ip(ns, 'addr', 'add', `${formatIpv4(a.address)}/${a.prefixLen}`, ...(a.broadcast ? ['broadcast', formatIpv4(a.broadcast)] : []), 'dev', d.name);
      }
    }
  }

  // 4. Links up, namespace by namespace in cluster order (host ends before the pods' ends).
  phase = 'up';
  for (const ns of ordered) {
    ip(ns, 'link', 'set', 'lo', 'up');
    for (const d of devicesInOrder(ns)) if (d.kind !== 'loopback' && d.isUp) ip(ns, 'link', 'set', d.name, 'up');
  }

  // 5. Routes the kernel does not make itself, permanent neighbours, VXLAN FDB, iptables.
  phase = 'state';
  for (const ns of ordered) {
    for (const r of ns.fib.routes('main')) {
      if (r.proto === 'kernel') continue;
      const words = formatRoute(r).trim().split(' ').filter((w) => w !== 'linkdown');
      ip(ns, 'route', 'add', ...words);
    }
    for (const n of ns.neigh.all()) {
      if (n.state !== NudState.Permanent || n.lladdr === undefined) continue;
      ip(ns, 'neigh', 'replace', formatIpv4(n.ip), 'lladdr', formatMac(n.lladdr), 'dev', n.dev.name, 'nud', 'permanent');
    }
    for (const d of devicesInOrder(ns)) {
      if (!(d instanceof Vxlan)) continue;
      for (const [mac, dst] of d.fdb) cmds.push({ argv: ['bridge', '-n', k(ns), 'fdb', 'append', formatMac(mac), 'dev', d.name, 'dst', formatIpv4(dst), 'self', 'permanent'], phase });
    }
    const rules = ns.netfilter?.ruleset;
    if (rules) {
      const date = new Date(VIRTUAL_EPOCH_SEC * 1000 + Math.floor(cluster.sched.nowNs / 1e6));
      cmds.push({ argv: ['ip', 'netns', 'exec', k(ns), 'iptables-restore'], input: renderIptablesSave(rules, { date, counters: false }), phase });
    }
  }

  const interfaces: PlannedInterface[] = [];
  for (const ns of ordered) {
    // lo too: podwire taps it (a pod talking to itself, curl http://localhost/), and tcpdump -i lo
    // shows what the kernel puts there.
    for (const d of devicesInOrder(ns)) interfaces.push({ netns: ns.name, kernelNetns: k(ns), name: d.name });
  }
  return { namespaces: ordered.map((ns) => ({ model: ns.name, kernel: k(ns) })), commands: cmds, interfaces, notRealizable: [] };
}
