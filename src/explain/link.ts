/**
 * The link-layer headers of captures that are not Ethernet: Linux cooked capture v1 and v2
 * (LINKTYPE_LINUX_SLL 113, LINKTYPE_LINUX_SLL2 276, what `tcpdump -i any` writes; layouts from
 * libpcap's sll.h), and raw IP (LINKTYPE_RAW 101, LINKTYPE_IPV4 228).
 */
import { u16, u32 } from '../packet/bytes.js';
import type { FieldRow } from './model.js';
import { hex, row } from './rows.js';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_LINUX_SLL2 = 276;

export const SLL_HEADER_LEN = 16;
export const SLL2_HEADER_LEN = 20;

const LINKTYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'BSD loopback', 1: 'Ethernet', 101: 'raw IP', 105: 'IEEE 802.11', 113: 'Linux cooked v1', 127: 'IEEE 802.11 radiotap',
  228: 'raw IPv4', 229: 'raw IPv6', 276: 'Linux cooked v2',
};
export const linkTypeName = (lt: number): string => LINKTYPE_NAMES[lt] ?? 'unknown';

const PACKET_TYPES: Readonly<Record<number, string>> = {
  0: 'to us', 1: 'broadcast', 2: 'multicast', 3: 'to another host', 4: 'sent by us',
};
const ARPHRD: Readonly<Record<number, string>> = { 1: 'Ethernet', 772: 'loopback', 776: 'IPv6-in-IPv4', 778: 'GRE', 65534: 'none' };
const PROTOCOLS: Readonly<Record<number, string>> = { 0x0800: 'IPv4', 0x0806: 'ARP', 0x86dd: 'IPv6', 0x8100: '802.1Q VLAN tag' };

function addressRow(b: Uint8Array, off: number, addrLen: number): FieldRow {
  const shown = Math.min(addrLen, 8);
  const mac = shown === 6 ? [...b.subarray(off, off + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':') : hex(b, off, shown) || '(none)';
  return row(b, 'address', 'Link-layer address', off, 8, mac, `${mac} (${addrLen} of 8 bytes used)`);
}

/** The SLL header's rows and the EtherType of what follows. `b` holds at least SLL_HEADER_LEN bytes. */
export function sllRows(b: Uint8Array): { rows: FieldRow[]; protocol: number } {
  const protocol = u16(b, 14);
  return {
    protocol,
    rows: [
      row(b, 'packetType', 'Packet type', 0, 2, u16(b, 0), PACKET_TYPES[u16(b, 0)] ?? 'unknown'),
      row(b, 'arphrd', 'Link-layer address type', 2, 2, u16(b, 2), ARPHRD[u16(b, 2)] ?? 'unknown'),
      row(b, 'addressLength', 'Link-layer address length', 4, 2, u16(b, 4)),
      addressRow(b, 6, u16(b, 4)),
      row(b, 'protocol', 'Protocol', 14, 2, protocol, PROTOCOLS[protocol] ?? 'unknown'),
    ],
  };
}

export function sll2Rows(b: Uint8Array): { rows: FieldRow[]; protocol: number } {
  const protocol = u16(b, 0);
  return {
    protocol,
    rows: [
      row(b, 'protocol', 'Protocol', 0, 2, protocol, PROTOCOLS[protocol] ?? 'unknown'),
      row(b, 'reserved', 'Reserved', 2, 2, u16(b, 2)),
      row(b, 'ifindex', 'Interface index', 4, 4, u32(b, 4)),
      row(b, 'arphrd', 'Link-layer address type', 8, 2, u16(b, 8), ARPHRD[u16(b, 8)] ?? 'unknown'),
      row(b, 'packetType', 'Packet type', 10, 1, b[10]!, PACKET_TYPES[b[10]!] ?? 'unknown'),
      row(b, 'addressLength', 'Link-layer address length', 11, 1, b[11]!),
      addressRow(b, 12, b[11]!),
    ],
  };
}
