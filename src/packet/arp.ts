/**
 * ARP for IPv4 over Ethernet (RFC 826): a 28-byte body. Other hardware/protocol pairs are
 * rejected as malformed because nothing in a Kubernetes datapath sends them.
 */
import { readIpv4, readMac, writeIpv4, writeMac, type Ipv4Addr, type MacAddr } from './addr.js';
import { u16, u8, setU16, setU8 } from './bytes.js';
import { malformed, need } from './errors.js';

export const HEADER_LEN = 28;
export const HTYPE_ETHERNET = 1;
export const PTYPE_IPV4 = 0x0800;
export const OP_REQUEST = 1;
export const OP_REPLY = 2;

const OFF = { HTYPE: 0, PTYPE: 2, HLEN: 4, PLEN: 5, OP: 6, SHA: 8, SPA: 14, THA: 18, TPA: 24 } as const;

export interface ArpRepr {
  readonly op: number;
  readonly senderMac: MacAddr;
  readonly senderIp: Ipv4Addr;
  readonly targetMac: MacAddr;
  readonly targetIp: Ipv4Addr;
}

export const op = (b: Uint8Array, off: number): number => u16(b, off + OFF.OP);
export const senderMac = (b: Uint8Array, off: number): MacAddr => readMac(b, off + OFF.SHA);
export const senderIp = (b: Uint8Array, off: number): Ipv4Addr => readIpv4(b, off + OFF.SPA);
export const targetMac = (b: Uint8Array, off: number): MacAddr => readMac(b, off + OFF.THA);
export const targetIp = (b: Uint8Array, off: number): Ipv4Addr => readIpv4(b, off + OFF.TPA);

/** A gratuitous ARP announces the sender's own address: sender IP equals target IP. */
export function isGratuitous(r: ArpRepr): boolean {
  return r.senderIp === r.targetIp;
}

export function parse(b: Uint8Array, off = 0, end: number = b.length): ArpRepr {
  need(b, off, HEADER_LEN, 'arp', 'header', end);
  if (u16(b, off + OFF.HTYPE) !== HTYPE_ETHERNET) malformed('arp', 'hardware type', off + OFF.HTYPE, 'not Ethernet');
  if (u16(b, off + OFF.PTYPE) !== PTYPE_IPV4) malformed('arp', 'protocol type', off + OFF.PTYPE, 'not IPv4');
  if (u8(b, off + OFF.HLEN) !== 6) malformed('arp', 'hardware length', off + OFF.HLEN, 'not 6');
  if (u8(b, off + OFF.PLEN) !== 4) malformed('arp', 'protocol length', off + OFF.PLEN, 'not 4');
  return {
    op: op(b, off),
    senderMac: senderMac(b, off),
    senderIp: senderIp(b, off),
    targetMac: targetMac(b, off),
    targetIp: targetIp(b, off),
  };
}

export function emit(r: ArpRepr, b: Uint8Array, off = 0): number {
  setU16(b, off + OFF.HTYPE, HTYPE_ETHERNET);
  setU16(b, off + OFF.PTYPE, PTYPE_IPV4);
  setU8(b, off + OFF.HLEN, 6);
  setU8(b, off + OFF.PLEN, 4);
  setU16(b, off + OFF.OP, r.op);
  writeMac(b, off + OFF.SHA, r.senderMac);
  writeIpv4(b, off + OFF.SPA, r.senderIp);
  writeMac(b, off + OFF.THA, r.targetMac);
  writeIpv4(b, off + OFF.TPA, r.targetIp);
  return HEADER_LEN;
}
