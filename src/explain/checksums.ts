/**
 * Checksum verdicts as a reader wants them: "0x1c46 (correct)" or "(incorrect, should be 0x…)",
 * computed with packet/checksum.ts over exactly what each checksum covers — the IPv4 header
 * (RFC 791), the ICMP message (RFC 792), the UDP datagram and the TCP segment with their IPv4
 * pseudo-header (RFC 768, RFC 9293 §3.1).
 */
import type { Ipv4Addr } from '../packet/addr.js';
import { u16 } from '../packet/bytes.js';
import { finish, pseudoHeaderSum, sum, verifies } from '../packet/checksum.js';
import { hex16 } from './rows.js';

export interface Verdict {
  readonly meaning: string;
  /** A problem line when the checksum is wrong. */
  readonly problem?: string;
}

/** The value the field at `field` should hold for the bytes [start, end) (plus `initial`, a pseudo-header sum). */
function expected(b: Uint8Array, field: number, start: number, end: number, initial: number): number {
  const copy = b.slice(start, end);
  copy[field - start] = 0;
  copy[field - start + 1] = 0;
  return finish(sum(copy, 0, copy.length, initial));
}

function verdict(what: string, b: Uint8Array, field: number, start: number, end: number, initial: number, zeroIsFfff: boolean): Verdict {
  const got = u16(b, field);
  if (verifies(b, start, end, initial)) return { meaning: `${hex16(got)} (correct)` };
  let want = expected(b, field, start, end, initial);
  // RFC 768: a computed 0 is sent as 0xffff, because 0 means "no checksum".
  if (zeroIsFfff && want === 0) want = 0xffff;
  return { meaning: `${hex16(got)} (incorrect, should be ${hex16(want)})`, problem: `${what} checksum ${hex16(got)} is incorrect, should be ${hex16(want)}` };
}

export function ipv4Checksum(b: Uint8Array, off: number, headerLen: number): Verdict {
  return verdict('IPv4 header', b, off + 10, off, off + headerLen, 0, false);
}

export function icmpChecksum(b: Uint8Array, off: number, end: number): Verdict {
  return verdict('ICMP', b, off + 2, off, end, 0, false);
}

export interface Carrier {
  readonly src: Ipv4Addr;
  readonly dst: Ipv4Addr;
  /** The header sits in the first fragment of a fragmented datagram: its checksum covers bytes not here. */
  readonly firstFragment: boolean;
}

export function udpChecksum(b: Uint8Array, off: number, carrier: Carrier): Verdict {
  const got = u16(b, off + 6);
  if (got === 0) return { meaning: '0x0000 = none (the sender did not compute one)' };
  if (carrier.firstFragment) return { meaning: `${hex16(got)} (not verified: the datagram continues in later fragments)` };
  const len = u16(b, off + 4);
  return verdict('UDP', b, off + 6, off, off + len, pseudoHeaderSum(carrier.src, carrier.dst, 17, len), true);
}

/** `end`: where the IPv4 payload ends. */
export function tcpChecksum(b: Uint8Array, off: number, end: number, carrier: Carrier): Verdict {
  if (carrier.firstFragment) return { meaning: `${hex16(u16(b, off + 16))} (not verified: the segment continues in later fragments)` };
  return verdict('TCP', b, off + 16, off, end, pseudoHeaderSum(carrier.src, carrier.dst, 6, end - off), false);
}
