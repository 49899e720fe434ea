/**
 * Name resolution as a program asks for it (getaddrinfo). DNS comes with a later issue: until
 * then the seam answers IP literals and `localhost` only, and a program prints what the real tool
 * prints when a name does not resolve (curl: `(6) Could not resolve host: NAME`).
 *
 * `localhost` is 127.0.0.1 alone. A kubelet-written /etc/hosts also lists `::1 localhost`, but
 * podwire's pods are IPv4-only, like a kernel booted with ipv6.disable=1 — where curl 7.88.1 tries
 * only 127.0.0.1 and Python binds 0.0.0.0 by default (both checked on such a host).
 */
import { parseIpv4, type Ipv4Addr } from '../packet/addr.js';

export interface HostResolver {
  /** The addresses of `name` in the order a connect should try them; empty: it does not resolve. */
  resolve(name: string): readonly Ipv4Addr[];
}

const LOOPBACK: Ipv4Addr = 0x7f00_0001;

/** inet_aton's dotted quad only: curl and nc take `10.0.0.1`, and this seam nothing looser. */
export const literalResolver: HostResolver = {
  resolve(name: string): readonly Ipv4Addr[] {
    if (name.toLowerCase() === 'localhost') return [LOOPBACK];
    try {
      return [parseIpv4(name)];
    } catch {
      return [];
    }
  },
};
