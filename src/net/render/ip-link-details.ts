/**
 * `ip -d link` (iproute2 6.1): `ip link` plus, per device, the generic details (promiscuity,
 * allmulti, MTU bounds), the link kind's attributes (IFLA_INFO_DATA: veth, bridge, vxlan), the
 * bridge port's (IFLA_INFO_SLAVE_DATA: bridge_slave) and the queue and offload limits — field by
 * field as the kernel reference dumps show them (fixtures/kernel/*\/ip-link-*.txt; iproute2 prints
 * each field followed by a space, so every details line ends in one).
 *
 * Values podwire does not model are the kernel's for the devices it stands for, from the
 * references' kernel (6.18, 2 CPUs): veth's queue count is the CPU count (veth_get_num_queues),
 * the GSO/GRO/TSO limits are the defaults (GSO_MAX_SIZE 65536, GSO_MAX_SEGS 65535, TSO 524280),
 * addrgenmode eui64, and STP is off so its timers are not pending. Two timers that are pending on
 * a real bridge are not modelled: the gc timer and a port's forward-delay timer; they are printed
 * as a freshly created and enabled device has them (gc work queued HZ/10 after br_dev_open,
 * forward_delay_timer armed for forward_delay by br_make_forwarding), not counted down.
 */
import { formatIpv4, formatMac } from '../../packet/addr.js';
import { Bridge, type BridgePort } from '../bridge.js';
import type { NetDevice } from '../device.js';
import type { Netns } from '../netns.js';
import { Veth } from '../veth.js';
import { Vxlan } from '../vxlan.js';
import { devicesInOrder, linkAddressLine, linkHeadLine } from './iproute.js';

/** The CPUs of the machine the references ran on: veth's default queue count (veth_get_num_queues). */
const REFERENCE_CPUS = 2;
/** The IPv4 default hop limit: a VXLAN TTL of 0 ("auto") sends with it (ip4_dst_hoplimit). */
const DEFAULT_TTL = 64;

/** Bridge STP parameters (br_dev_setup defaults) in the units iproute2 prints: centiseconds. */
const FORWARD_DELAY_CS = 1500;
const HELLO_TIME_CS = 200;
const MAX_AGE_CS = 2000;
/** The gc work's first run is HZ/10 after the bridge opens (br_stp_enable_bridge): a fresh bridge's gc_timer. */
const FRESH_GC_TIMER_CS = 10;

const TAIL = 'gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 ';

/** iproute2's print_timer: "%4i.%.2i" seconds and hundredths. */
function timer(name: string, cs: number): string {
  return `${name} ${String(Math.floor(cs / 100)).padStart(4)}.${String(cs % 100).padStart(2, '0')} `;
}

function queues(d: NetDevice): number {
  return d.kind === 'veth' ? REFERENCE_CPUS : 1;
}

/** dev->min_mtu / max_mtu: ETH_MIN_MTU and the drivers' maxima; loopback has none set. */
function mtuBounds(d: NetDevice): string {
  return d.kind === 'loopback' ? 'minmtu 0 maxmtu 0 ' : 'minmtu 68 maxmtu 65535 ';
}

/** A bridge port is promiscuous and allmulti (br_add_if: dev_set_promiscuity, dev_set_allmulti). */
function promiscuity(d: NetDevice): string {
  const n = d.master instanceof Bridge ? 1 : 0;
  return `promiscuity ${n}  allmulti ${n} `;
}

function bridgeId(br: Bridge): string {
  return `8000.${formatMac(br.mac)}`;
}

function bridgeInfo(br: Bridge): string {
  return [
    `bridge forward_delay ${FORWARD_DELAY_CS} hello_time ${HELLO_TIME_CS} max_age ${MAX_AGE_CS} ageing_time ${Math.round(br.ageingTimeNs / 1e7)} `,
    `stp_state 0 priority 32768 vlan_filtering 0 bridge_id ${bridgeId(br)} designated_root ${bridgeId(br)} root_port 0 root_path_cost 0 `,
    'topology_change 0 topology_change_detected 0 ',
    timer('hello_timer', 0), timer('tcn_timer', 0), timer('topology_change_timer', 0), timer('gc_timer', FRESH_GC_TIMER_CS),
    'group_fwd_mask 0 group_address 01:80:c2:00:00:00 mcast_snooping 1 no_linklocal_learn 0 mcast_vlan_snooping 0 mcast_router 1 ',
    'mcast_query_use_ifaddr 0 mcast_querier 0 mcast_hash_elasticity 16 mcast_hash_max 4096 mcast_last_member_count 2 ',
    'mcast_startup_query_count 2 mcast_last_member_interval 100 mcast_membership_interval 26000 mcast_querier_interval 25500 ',
    'mcast_query_interval 12500 mcast_query_response_interval 1000 mcast_startup_query_interval 3124 mcast_stats_enabled 0 ',
    'mcast_igmp_version 2 mcast_mld_version 1 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 ',
  ].join('');
}

/**
 * A port's number: the kernel gives each new port the lowest free one (find_portno). podwire
 * numbers the current ports in the order they joined, which is the same while none has left.
 */
function portNumber(br: Bridge, port: BridgePort): number {
  return br.ports.length - br.ports.indexOf(port);
}

function bridgeSlaveInfo(br: Bridge, d: NetDevice): string {
  const port = br.portOf(d);
  if (!port) return '';
  const no = portNumber(br, port);
  const id = 0x8000 | no; // port priority 32 << BR_PORT_BITS (10) | port_no
  const forwarding = br.isUp && d.isUp && d.hasCarrier;
  return [
    `bridge_slave state ${forwarding ? 'forwarding' : 'disabled'} priority 32 cost 2 hairpin ${port.hairpin ? 'on' : 'off'} `,
    'guard off root_block off fastleave off learning on flood on ',
    `port_id 0x${id.toString(16)} port_no 0x${no.toString(16)} designated_port ${id} designated_cost 0 `,
    `designated_bridge ${bridgeId(br)} designated_root ${bridgeId(br)} `,
    timer('hold_timer', 0), timer('message_age_timer', 0), timer('forward_delay_timer', FORWARD_DELAY_CS),
    'topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off mcast_router 1 mcast_fast_leave off ',
    'mcast_flood on bcast_flood on mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0 ',
    'vlan_tunnel off isolated off locked off ',
  ].join('');
}

function vxlanInfo(ns: Netns, d: Vxlan): string {
  const c = d.config;
  // The device the local address is on: flannel creates the VXLAN device with `dev <node NIC>`.
  const lower = [...ns.devices.values()].find((x) => x.addresses.some((a) => a.address === c.local));
  const ttl = c.ttl === 0 || c.ttl === DEFAULT_TTL ? 'auto' : String(c.ttl);
  return `vxlan id ${c.vni} local ${formatIpv4(c.local)} ${lower ? `dev ${lower.name} ` : ''}srcport 0 0 dstport ${c.dstPort} ` +
    `nolearning ttl ${ttl} ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx `;
}

/** The lines after the head line: link/…, then the kind's and the port's details. */
function detailLines(ns: Netns, d: NetDevice): string[] {
  const lines = [`${linkAddressLine(d, 'name')} ${promiscuity(d)}${mtuBounds(d)}`];
  if (d instanceof Veth) lines.push('    veth ');
  else if (d instanceof Bridge) lines.push(`    ${bridgeInfo(d)}`);
  else if (d instanceof Vxlan) lines.push(`    ${vxlanInfo(ns, d)}`);
  if (d.master instanceof Bridge) lines.push(`    ${bridgeSlaveInfo(d.master, d)}`);
  const n = queues(d);
  lines[lines.length - 1] += `addrgenmode eui64 numtxqueues ${n} numrxqueues ${n} ${TAIL}`;
  return lines;
}

export function ipLinkDetails(ns: Netns): string {
  return devicesInOrder(ns).flatMap((d) => [linkHeadLine(d, true), ...detailLines(ns, d)]).map((l) => `${l}\n`).join('');
}
