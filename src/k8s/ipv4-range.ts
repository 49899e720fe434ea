/**
 * IPv4 prefixes as the CNI plugins and the node IPAM controller read them: "a.b.c.d/n" parsed the
 * way Go's `types.ParseCIDR` (containernetworking/cni pkg/types/types.go) does, keeping the address
 * as written — host bits included — beside the prefix length, so a caller can both print the text
 * back exactly (`net.IPNet.String()` prints the stored address) and compute the network from it.
 * Addresses are packet/addr.ts numbers (unsigned 32-bit integers).
 */
import { broadcastOf, formatIpv4, networkOf, parseIpv4, prefixMask, type Ipv4Addr } from '../packet/index.js';

export interface Ipv4Cidr {
  /** The address as written, host bits kept (Go's `types.ParseCIDR` sets `IPNet.IP = ip`). */
  readonly ip: Ipv4Addr;
  readonly prefixLen: number;
}

/** Go's `net.ParseError{Type: "CIDR address"}` text, the message every CNI plugin passes on. */
export function invalidCidrMessage(text: string): string {
  return `invalid CIDR address: ${text}`;
}

/** Go's `net.ParseError{Type: "IP address"}` text (`net.IP.UnmarshalText`). */
export function invalidIpMessage(text: string): string {
  return `invalid IP address: ${text}`;
}

/** Parses dotted-quad text, throwing RangeError with Go's `invalid IP address: …` message. */
export function parseIpv4Address(text: string): Ipv4Addr {
  try {
    return parseIpv4(text);
  } catch {
    throw new RangeError(invalidIpMessage(text));
  }
}

/** Parses "a.b.c.d/n" (0 ≤ n ≤ 32); throws RangeError with Go's `invalid CIDR address: …` message. */
export function parseIpv4Cidr(text: string): Ipv4Cidr {
  const slash = text.indexOf('/');
  const lenText = slash < 0 ? '' : text.slice(slash + 1);
  if (slash < 0 || !/^(0|[1-9][0-9]?)$/.test(lenText) || Number(lenText) > 32) {
    throw new RangeError(invalidCidrMessage(text));
  }
  let ip: Ipv4Addr;
  try {
    ip = parseIpv4(text.slice(0, slash));
  } catch {
    throw new RangeError(invalidCidrMessage(text));
  }
  return { ip, prefixLen: Number(lenText) };
}

/** "a.b.c.d/n" with the address as stored, like Go's `(*net.IPNet).String()`. */
export function formatIpv4Cidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.ip)}/${c.prefixLen}`;
}

export { prefixMask };

export function networkAddress(c: Ipv4Cidr): Ipv4Addr {
  return networkOf(c.ip, c.prefixLen);
}

export function broadcastAddress(c: Ipv4Cidr): Ipv4Addr {
  return broadcastOf(c.ip, c.prefixLen);
}

/** The prefix with its host bits cleared (Go's `ipnet.IP.Mask(ipnet.Mask)`). */
export function maskedCidr(c: Ipv4Cidr): Ipv4Cidr {
  return { ip: networkAddress(c), prefixLen: c.prefixLen };
}

export function hasHostBits(c: Ipv4Cidr): boolean {
  return networkAddress(c) !== c.ip;
}

/** Whether `ip` falls inside the prefix (Go's `net.IPNet.Contains`, which masks both sides). */
export function cidrContains(c: Ipv4Cidr, ip: Ipv4Addr): boolean {
  return networkOf(ip, c.prefixLen) === networkOf(c.ip, c.prefixLen);
}

/** Whether two prefixes share any address. */
export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return cidrContains(a, b.ip) || cidrContains(b, a.ip);
}

/** Number of addresses in the prefix (2^(32-n)), exact in a double. */
export function cidrSize(c: Ipv4Cidr): number {
  return 2 ** (32 - c.prefixLen);
}

/**
 * The usable host addresses, network+1 … broadcast−1 (the defaults of host-local's rangeStart and
 * rangeEnd); undefined for /31 and /32, which host-local refuses ("too small to allocate from").
 */
export function hostRange(c: Ipv4Cidr): { readonly first: Ipv4Addr; readonly last: Ipv4Addr } | undefined {
  if (c.prefixLen > 30) return undefined;
  return { first: (networkAddress(c) + 1) >>> 0, last: (broadcastAddress(c) - 1) >>> 0 };
}

/** The next address, wrapping 255.255.255.255 to 0.0.0.0 as plugins' `ip.NextIP` does. */
export function nextIpv4(ip: Ipv4Addr): Ipv4Addr {
  return (ip + 1) >>> 0;
}
