/**
 * `bridge fdb show` (iproute2 6.1) in a netns: what the kernel's RTM_GETNEIGH/AF_BRIDGE dump
 * (rtnl_fdb_dump) returns, printed as bridge/fdb.c print_fdb prints it — each field followed by a
 * space and the state last, so a learned entry (NUD_REACHABLE, no state word) ends in a space:
 *
 *   76:db:d1:38:bb:a3 dev veth748aed50 master cni0 ␠       learned on a bridge port
 *   46:47:18:e3:a0:1f dev veth748aed50 master cni0 permanent   a port's own MAC (local)
 *   1a:e0:2b:77:f5:09 dev flannel.1 dst 192.168.1.11 self permanent   the VXLAN device's FDB
 *   33:33:00:00:00:01 dev eth0 self permanent                the device's multicast list
 *
 * rtnl_fdb_dump walks the devices in ifindex order; for a bridge port it first asks the bridge
 * for the entries on that port (br_fdb_dump with filter_dev = the port), then the port itself for
 * its own addresses (ndo_dflt_fdb_dump: unicast list, then multicast list). The bridge device
 * lists its own address list and the entries that belong to no port (a MAC set on the bridge
 * itself). A VXLAN device has its own ndo_fdb_dump (vxlan_fdb_dump) and lists only its FDB;
 * loopback is not ARPHRD_ETHER and lists nothing. No `vlan` field: the bridges here do not
 * filter VLANs.
 */
import { formatIpv4, formatMac } from '../../packet/addr.js';
import { Bridge, type FdbEntry } from '../bridge.js';
import type { NetDevice } from '../device.js';
import type { Netns } from '../netns.js';
import { Vxlan } from '../vxlan.js';
import { devicesInOrder } from './iproute.js';

/**
 * The multicast addresses each kind of device has joined, in the order the kernel lists them, as
 * the reference dumps show (fixtures/kernel/*\/bridge-fdb-*.txt): every Ethernet device the IPv6
 * all-nodes group (33:33:00:00:00:01, joined at registration although IPv6 is then switched off)
 * and the IPv4 all-hosts group (01:00:5e:00:00:01, ip_mc_up); a bridge also the multicast
 * router groups its snooping joins (224.0.0.106 / ff02::6a, br_multicast_join_snoopers) between
 * the two. podwire keeps no per-device multicast list, and nothing in it joins other groups.
 */
const ETHERNET_GROUPS = ['33:33:00:00:00:01', '01:00:5e:00:00:01'];
const BRIDGE_GROUPS = ['33:33:00:00:00:01', '01:00:5e:00:00:6a', '33:33:00:00:00:6a', '01:00:5e:00:00:01'];

function selfGroups(d: NetDevice): string[] {
  const groups = d.kind === 'bridge' ? BRIDGE_GROUPS : ETHERNET_GROUPS;
  return groups.map((mac) => `${mac} dev ${d.name} self permanent`);
}

/** fdb_to_nud + state_n2a: local → permanent, user-added static → static, learned → nothing. */
function bridgeState(e: FdbEntry): string {
  if (e.isLocal) return 'permanent';
  if (e.isStatic) return 'static';
  return '';
}

/**
 * The bridge's entries, newest first as the kernel's br->fdb_list (hlist_add_head), without those
 * that have aged out: the kernel's gc work (br_fdb_cleanup) is scheduled for the earliest expiry,
 * so an expired entry is gone by the time a dump could list it.
 */
function liveEntries(br: Bridge, nowNs: number): FdbEntry[] {
  const out: FdbEntry[] = [];
  for (const e of br.fdb.values()) {
    if (!e.isStatic && nowNs - e.updatedNs > br.ageingTimeNs) continue;
    out.push(e);
  }
  return out.reverse();
}

function bridgeLine(br: Bridge, e: FdbEntry): string {
  const dev = e.port?.dev.name ?? br.name;
  return `${formatMac(e.mac)} dev ${dev} master ${br.name} ${bridgeState(e)}`;
}

export function bridgeFdbShow(ns: Netns): string {
  const now = ns.sched.nowNs;
  const lines: string[] = [];
  for (const d of devicesInOrder(ns)) {
    if (d.kind === 'loopback') continue;
    const master = d.master;
    if (master instanceof Bridge) {
      for (const e of liveEntries(master, now)) if (e.port?.dev === d) lines.push(bridgeLine(master, e));
    }
    if (d instanceof Vxlan) {
      for (const [mac, dst] of d.fdb) lines.push(`${formatMac(mac)} dev ${d.name} dst ${formatIpv4(dst)} self permanent`);
      continue;
    }
    lines.push(...selfGroups(d));
    if (d instanceof Bridge) {
      for (const e of liveEntries(d, now)) if (e.port === undefined) lines.push(bridgeLine(d, e));
    }
  }
  return lines.map((l) => `${l}\n`).join('');
}
