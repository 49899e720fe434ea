/**
 * Ethernet II (IEEE 802.3 framing with an EtherType), with one optional IEEE 802.1Q tag.
 * Frames carry no FCS: neither tcpdump on Linux nor a VXLAN payload (RFC 7348 §5) includes one.
 */
import { readMac, writeMac, type MacAddr } from './addr.js';
import { u16, setU16 } from './bytes.js';
import { need } from './errors.js';

export const HEADER_LEN = 14;
export const VLAN_TAG_LEN = 4;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_IPV6 = 0x86dd;

const OFF = { DST: 0, SRC: 6, ETHERTYPE: 12, TCI: 14, INNER_ETHERTYPE: 16 } as const;

export interface VlanTag {
  /** Priority code point, 3 bits. */
  readonly pcp: number;
  /** Drop eligible indicator. */
  readonly dei: boolean;
  /** VLAN identifier, 12 bits. */
  readonly vid: number;
}

export interface EthernetRepr {
  readonly dst: MacAddr;
  readonly src: MacAddr;
  readonly vlan?: VlanTag;
  /** The EtherType of the payload (after the tag when there is one). */
  readonly ethertype: number;
}

export const dst = (b: Uint8Array, off: number): MacAddr => readMac(b, off + OFF.DST);
export const src = (b: Uint8Array, off: number): MacAddr => readMac(b, off + OFF.SRC);
export const setDst = (b: Uint8Array, off: number, mac: MacAddr): void => writeMac(b, off + OFF.DST, mac);
export const setSrc = (b: Uint8Array, off: number, mac: MacAddr): void => writeMac(b, off + OFF.SRC, mac);

export function isTagged(b: Uint8Array, off: number): boolean {
  return u16(b, off + OFF.ETHERTYPE) === ETHERTYPE_VLAN;
}

/** The payload's EtherType, looking through an 802.1Q tag. */
export function ethertype(b: Uint8Array, off: number): number {
  return isTagged(b, off) ? u16(b, off + OFF.INNER_ETHERTYPE) : u16(b, off + OFF.ETHERTYPE);
}

export function headerLen(b: Uint8Array, off: number): number {
  return isTagged(b, off) ? HEADER_LEN + VLAN_TAG_LEN : HEADER_LEN;
}

export function reprHeaderLen(r: EthernetRepr): number {
  return r.vlan ? HEADER_LEN + VLAN_TAG_LEN : HEADER_LEN;
}

export function parse(b: Uint8Array, off = 0): EthernetRepr {
  need(b, off, HEADER_LEN, 'ethernet', 'header');
  const d = dst(b, off);
  const s = src(b, off);
  if (!isTagged(b, off)) return { dst: d, src: s, ethertype: u16(b, off + OFF.ETHERTYPE) };
  need(b, off, HEADER_LEN + VLAN_TAG_LEN, 'ethernet', '802.1Q tag');
  const tci = u16(b, off + OFF.TCI);
  return {
    dst: d,
    src: s,
    vlan: { pcp: tci >>> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff },
    ethertype: u16(b, off + OFF.INNER_ETHERTYPE),
  };
}

/** Writes the header at `off` (the payload follows it) and returns the bytes written. */
export function emit(r: EthernetRepr, b: Uint8Array, off = 0): number {
  writeMac(b, off + OFF.DST, r.dst);
  writeMac(b, off + OFF.SRC, r.src);
  if (!r.vlan) {
    setU16(b, off + OFF.ETHERTYPE, r.ethertype);
    return HEADER_LEN;
  }
  setU16(b, off + OFF.ETHERTYPE, ETHERTYPE_VLAN);
  setU16(b, off + OFF.TCI, ((r.vlan.pcp & 7) << 13) | (r.vlan.dei ? 0x1000 : 0) | (r.vlan.vid & 0x0fff));
  setU16(b, off + OFF.INNER_ETHERTYPE, r.ethertype);
  return HEADER_LEN + VLAN_TAG_LEN;
}
