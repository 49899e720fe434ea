/**
 * IPv4 prefixes as plain numbers (network address as a u32, prefix length), like packet/addr.ts's
 * addresses, so the FIB and IPAM can compare them without allocating. It imports only addr.ts and
 * would sit in packet/addr.ts as well (the style models list a Cidr type there).
 */
import { formatIpv4, parseIpv4, prefixMask, type Ipv4Addr } from '../packet/index.js';

export interface Cidr {
  /** The network address: the host bits are zero. */
  readonly network: Ipv4Addr;
  readonly prefixLen: number;
}

export { prefixMask };

/**
 * Parses `a.b.c.d/len`. Throws RangeError naming the text when it is not one, or when host bits
 * are set (`10.244.1.5/16`): a range written that way is almost always a typo for its network,
 * which the message gives.
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new RangeError(`not a CIDR (a.b.c.d/len): ${JSON.stringify(text)}`);
  let addr: Ipv4Addr;
  try {
    addr = parseIpv4(text.slice(0, slash));
  } catch {
    throw new RangeError(`not a CIDR (a.b.c.d/len): ${JSON.stringify(text)}`);
  }
  const lenText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]?)$/.test(lenText) || Number(lenText) > 32) {
    throw new RangeError(`not a CIDR: prefix length ${JSON.stringify(lenText)} is not 0..32`);
  }
  const prefixLen = Number(lenText);
  const network = (addr & prefixMask(prefixLen)) >>> 0;
  if (network !== addr) {
    throw new RangeError(`${text} has host bits set (the network is ${formatCidr({ network, prefixLen })})`);
  }
  return { network, prefixLen };
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.network)}/${c.prefixLen}`;
}

/** Number of addresses in the prefix (2^(32-len)), exact in a double. */
export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefixLen);
}

/** The last address of the prefix (the broadcast address of a subnet). */
export function cidrLast(c: Cidr): Ipv4Addr {
  return c.network + cidrSize(c) - 1;
}

export function cidrContains(c: Cidr, addr: Ipv4Addr): boolean {
  return ((addr & prefixMask(c.prefixLen)) >>> 0) === c.network;
}

/** Whether `inner` lies wholly inside `outer` (a prefix contains itself). */
export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.prefixLen >= outer.prefixLen && cidrContains(outer, inner.network);
}

/** Two prefixes overlap exactly when one contains the other. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContainsCidr(a, b) || cidrContainsCidr(b, a);
}

/** The `index`-th subnet of length `prefixLen` inside `c` (10.244.0.0/16, 24, 3 → 10.244.3.0/24). */
export function subnetAt(c: Cidr, prefixLen: number, index: number): Cidr {
  if (prefixLen < c.prefixLen || prefixLen > 32) throw new RangeError(`/${prefixLen} does not split ${formatCidr(c)}`);
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** (prefixLen - c.prefixLen)) {
    throw new RangeError(`${formatCidr(c)} has no subnet /${prefixLen} number ${index}`);
  }
  return { network: c.network + index * 2 ** (32 - prefixLen), prefixLen };
}
