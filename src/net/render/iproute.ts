/**
 * What iproute2 (6.1, as Debian 12 ships it) prints for `ip addr`, `ip link`, `ip route` and
 * `ip neigh` in a netns — including its trailing spaces on route and neighbour lines, which the
 * kernel reference dumps show.
 */
import { formatIpv4, formatMac } from '../../packet/addr.js';
import type { NetDevice } from '../device.js';
import type { Route } from '../fib.js';
import { NudState } from '../neighbour.js';
import type { Netns } from '../netns.js';
import { Veth } from '../veth.js';

/** iproute2's print_link_flags: NO-CARRIER first when the device is UP but not RUNNING. */
function flags(d: NetDevice): string {
  const f = d.isUp && !d.hasCarrier ? ['NO-CARRIER'] : [];
  f.push(...(d.kind === 'loopback' ? ['LOOPBACK'] : ['BROADCAST', 'MULTICAST']));
  if (d.isUp) f.push('UP');
  if (d.isUp && d.hasCarrier) f.push('LOWER_UP');
  return `<${f.join(',')}>`;
}

/**
 * The operstate. A pulled cable is DOWN, as on a NIC (rfc2863 default_operstate without a lower
 * device; podwire's cable stands for a physical link, not for a veth whose peer went down).
 */
function state(d: NetDevice): string {
  if (!d.isUp || !d.hasCarrier) return 'DOWN';
  return d.kind === 'loopback' || d.kind === 'vxlan' ? 'UNKNOWN' : 'UP';
}

/** `eth0@if5`: a veth shows its peer's ifindex. */
function linkName(d: NetDevice): string {
  return d instanceof Veth ? `${d.name}@if${d.peer.ifindex}` : d.name;
}

/** The first line of a device: index, name, flags, mtu, qdisc, master, state. */
export function linkHeadLine(d: NetDevice, withMode: boolean): string {
  const master = d.master ? ` master ${d.master.name}` : '';
  return `${d.ifindex}: ${linkName(d)}: ${flags(d)} mtu ${d.mtu} qdisc noqueue${master} state ${state(d)}${withMode ? ' mode DEFAULT' : ''} group default qlen 1000`;
}

/**
 * The `link/…` line. A veth whose peer lives in another netns names it: by its netns name where
 * ip can resolve the peer's nsid to a name (`ip netns exec` on a host whose netns are named, as
 * the kernel references were taken), else by the nsid (inside a container, which sees no names).
 */
export function linkAddressLine(d: NetDevice, peerNetns: 'nsid' | 'name'): string {
  if (d.kind === 'loopback') return '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00';
  const otherNs = d instanceof Veth && d.peer.netnsName !== d.netnsName;
  const peer = !otherNs ? '' : peerNetns === 'name' ? ` link-netns ${(d as Veth).peer.netnsName}` : ' link-netnsid 0';
  return `    link/ether ${formatMac(d.mac)} brd ff:ff:ff:ff:ff:ff${peer}`;
}

function linkLines(d: NetDevice, withMode: boolean): string[] {
  return [linkHeadLine(d, withMode), linkAddressLine(d, 'nsid')];
}

/** Devices by ifindex, the order the kernel dumps them in (dev_index_head buckets). */
export function devicesInOrder(ns: Netns): NetDevice[] {
  return [...ns.devices.values()].sort((a, b) => a.ifindex - b.ifindex);
}

export function ipLink(ns: Netns): string {
  return devicesInOrder(ns).flatMap((d) => linkLines(d, true)).map((l) => `${l}\n`).join('');
}

export function ipAddr(ns: Netns): string {
  const out: string[] = [];
  for (const d of devicesInOrder(ns)) {
    out.push(...linkLines(d, false));
    for (const a of d.addresses) {
      const brd = a.broadcast ? ` brd ${formatIpv4(a.broadcast)}` : '';
      out.push(`    inet ${formatIpv4(a.address)}/${a.prefixLen}${brd} scope ${a.scope} ${d.name}`);
      out.push('       valid_lft forever preferred_lft forever');
    }
  }
  return out.map((l) => `${l}\n`).join('');
}

export function formatRoute(r: Route): string {
  const parts: string[] = [];
  if (r.type !== 'unicast') parts.push(r.type);
  parts.push(r.prefixLen === 0 && r.type === 'unicast' ? 'default' : r.prefixLen === 32 ? formatIpv4(r.dst) : `${formatIpv4(r.dst)}/${r.prefixLen}`);
  if (r.gateway !== undefined) parts.push('via', formatIpv4(r.gateway));
  if (r.dev) parts.push('dev', r.dev.name);
  if (r.proto !== 'boot') parts.push('proto', r.proto);
  if (r.scope !== 'global') parts.push('scope', r.scope);
  if (r.prefsrc !== undefined) parts.push('src', formatIpv4(r.prefsrc));
  if (r.metric) parts.push('metric', String(r.metric));
  if (r.onlink) parts.push('onlink');
  // RTNH_F_LINKDOWN: the nexthop's device has no carrier (fib_sync_down_dev on NETDEV_CHANGE).
  if (r.dev && !r.dev.hasCarrier) parts.push('linkdown');
  return `${parts.join(' ')} `;
}

export function ipRoute(ns: Netns, table: 'main' | 'local' = 'main'): string {
  return ns.fib.routes(table).map((r) => `${formatRoute(r)}\n`).join('');
}

const STATE_NAMES: ReadonlyArray<[NudState, string]> = [
  [NudState.Incomplete, 'INCOMPLETE'], [NudState.Reachable, 'REACHABLE'], [NudState.Stale, 'STALE'],
  [NudState.Delay, 'DELAY'], [NudState.Probe, 'PROBE'], [NudState.Failed, 'FAILED'],
  [NudState.NoArp, 'NOARP'], [NudState.Permanent, 'PERMANENT'],
];

export function ipNeigh(ns: Netns): string {
  return ns.neigh
    .all()
    .filter((n) => n.state !== NudState.None)
    .map((n) => {
      const ll = n.lladdr !== undefined && n.state !== NudState.Incomplete && n.state !== NudState.Failed ? ` lladdr ${formatMac(n.lladdr)}` : '';
      const st = STATE_NAMES.find(([s]) => s === n.state)?.[1] ?? 'NONE';
      return `${formatIpv4(n.ip)} dev ${n.dev.name}${ll} ${st} \n`;
    })
    .join('');
}
