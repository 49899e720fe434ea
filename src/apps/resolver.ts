/**
 * Name resolution as a program asks for it: getaddrinfo(3) with a family and flags, answered
 * asynchronously (a DNS lookup takes packets and time on the virtual clock). The implementation
 * that goes on the wire is glibc-resolver.ts; this file is the seam (what programs call and get
 * back), the error strings of gai_strerror, and the numeric-host parsing getaddrinfo does before
 * any lookup.
 *
 * Programs choose family and flags as the real ones do: curl 7.88.1 PF_UNSPEC unless the stack
 * has no IPv6 (Curl_ipv6works: socket(AF_INET6) fails) — podwire's pods are IPv4-only like a
 * kernel booted with ipv6.disable=1, so curl asks AF_INET; iputils ping AF_UNSPEC with
 * AI_CANONNAME; netcat-openbsd AF_UNSPEC; `getent ahosts` AF_UNSPEC with AI_ADDRCONFIG |
 * AI_CANONNAME.
 */
import type { Ipv4Addr } from '../packet/addr.js';

export type GaiFamily = 'inet' | 'inet6' | 'unspec';

export interface GaiFlags {
  /** AI_ADDRCONFIG: only families the host has a (non-loopback) address of. */
  readonly addrconfig?: boolean;
  /** AI_CANONNAME: report the canonical name. */
  readonly canonname?: boolean;
  /** AI_NUMERICHOST: no lookup, the name must be an address. */
  readonly numerichost?: boolean;
}

export interface GaiRequest {
  readonly family: GaiFamily;
  readonly flags?: GaiFlags;
}

export interface GaiAddress {
  readonly family: 'inet' | 'inet6';
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
}

export type GaiError = 'EAI_NONAME' | 'EAI_NODATA' | 'EAI_AGAIN' | 'EAI_FAIL' | 'EAI_ADDRFAMILY' | 'EAI_FAMILY';

export type GaiResult =
  | { readonly ok: true; readonly addresses: readonly GaiAddress[]; readonly canonname: string | undefined }
  | { readonly ok: false; readonly error: GaiError };

/** glibc's gai_strerror (sysdeps/posix/gai_strerror-strs.h). */
export const GAI_STRERROR: Readonly<Record<GaiError, string>> = {
  EAI_NONAME: 'Name or service not known',
  EAI_NODATA: 'No address associated with hostname',
  EAI_AGAIN: 'Temporary failure in name resolution',
  EAI_FAIL: 'Non-recoverable failure in name resolution',
  EAI_ADDRFAMILY: 'Address family for hostname not supported',
  EAI_FAMILY: 'ai_family not supported',
};

export interface HostResolver {
  /**
   * getaddrinfo(name, NULL, hints): `done` gets the addresses in the order a connect should try
   * them, or the error. Numeric hosts and /etc/hosts hits call back at once (no packets).
   */
  getaddrinfo(name: string, request: GaiRequest, done: (result: GaiResult) => void): void;
}

/** The IPv4 addresses of a result, in order (what an IPv4-only program can connect to). */
export function ipv4Of(result: GaiResult): Ipv4Addr[] {
  if (!result.ok) return [];
  return result.addresses.filter((a) => a.family === 'inet').map((a) => ((a.bytes[0]! << 24) | (a.bytes[1]! << 16) | (a.bytes[2]! << 8) | a.bytes[3]!) >>> 0);
}

export function ipv4Bytes(a: Ipv4Addr): Uint8Array {
  return Uint8Array.of(a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff);
}

/**
 * inet_aton as getaddrinfo uses it (__inet_aton_exact): `a.b.c.d`, `a.b.c` (c 16 bits), `a.b`
 * (b 24 bits) and `a` (32 bits), each part decimal, octal (leading 0) or hex (0x); nothing after.
 */
export function inetAton(text: string): Ipv4Addr | undefined {
  const parts = text.split('.');
  if (parts.length > 4) return undefined;
  const values: number[] = [];
  for (const p of parts) {
    let v: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) v = p.length === 2 ? 0 : Number.parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) v = p.length === 1 ? 0 : Number.parseInt(p.slice(1), 8);
    else if (/^[1-9][0-9]*$/.test(p)) v = Number(p);
    else return undefined;
    values.push(v);
  }
  const last = values.pop()!;
  if (values.some((v) => v > 255)) return undefined;
  const room = 2 ** (8 * (4 - values.length));
  if (last >= room) return undefined;
  let addr = 0;
  values.forEach((v, i) => (addr += v * 2 ** (8 * (3 - i))));
  return (addr + last) >>> 0;
}

/** inet_ntop(AF_INET6): RFC 5952 text. */
export function formatAddress(a: GaiAddress): string {
  const b = a.bytes;
  if (a.family === 'inet') return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  return bestAt < 0 ? hex(0, 8) : `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}
