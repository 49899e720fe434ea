/**
 * Addresses as plain numbers, so that reading, comparing and hashing them allocates nothing:
 * an IPv4 address is an unsigned 32-bit integer, a MAC address a 48-bit integer (exact in a double).
 */
import { u16, u32, setU16, setU32 } from './bytes.js';

export type Ipv4Addr = number;
export type MacAddr = number;

export const BROADCAST_MAC: MacAddr = 0xffff_ffff_ffff;
export const ZERO_MAC: MacAddr = 0;

const TWO_32 = 0x1_0000_0000;

export function readMac(b: Uint8Array, off: number): MacAddr {
  return u16(b, off) * TWO_32 + u32(b, off + 2);
}

export function writeMac(b: Uint8Array, off: number, mac: MacAddr): void {
  setU16(b, off, Math.floor(mac / TWO_32));
  setU32(b, off + 2, mac >>> 0);
}

export function readIpv4(b: Uint8Array, off: number): Ipv4Addr {
  return u32(b, off);
}

export function writeIpv4(b: Uint8Array, off: number, addr: Ipv4Addr): void {
  setU32(b, off, addr);
}

export function formatMac(mac: MacAddr): string {
  const hex = mac.toString(16).padStart(12, '0');
  return hex.replace(/(..)(?!$)/g, '$1:');
}

/** Parses `aa:bb:cc:dd:ee:ff`; throws RangeError naming the text otherwise. */
export function parseMac(text: string): MacAddr {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(text);
  if (!m) throw new RangeError(`not a MAC address: ${JSON.stringify(text)}`);
  return Number.parseInt(m.slice(1).join(''), 16);
}

export function isMulticastMac(mac: MacAddr): boolean {
  return Math.floor(mac / 0x100_0000_0000) % 2 === 1;
}

export function formatIpv4(addr: Ipv4Addr): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** Parses dotted-quad text; throws RangeError naming the text otherwise. */
export function parseIpv4(text: string): Ipv4Addr {
  const parts = text.split('.');
  if (parts.length !== 4) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) {
      throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`);
    }
    v = v * 256 + Number(p);
  }
  return v >>> 0;
}

/** The netmask of a prefix length as a u32 (`/24` → 0xffffff00; `/0` → 0). */
export function prefixMask(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (0xffff_ffff << (32 - prefixLen)) >>> 0;
}

/** The network address of `addr` under a prefix length (host bits cleared). */
export function networkOf(addr: Ipv4Addr, prefixLen: number): Ipv4Addr {
  return (addr & prefixMask(prefixLen)) >>> 0;
}

/** The subnet broadcast address of `addr` under a prefix length (host bits set). */
export function broadcastOf(addr: Ipv4Addr, prefixLen: number): Ipv4Addr {
  return (addr | ~prefixMask(prefixLen)) >>> 0;
}
