/**
 * The errno values the emulated sockets report, with glibc's strerror text (what a program that
 * prints `strerror(errno)` or perror shows), and ICMP's mapping of unreachable codes to them.
 */
export const STRERROR = {
  EMSGSIZE: 'Message too long',
  ENETUNREACH: 'Network is unreachable',
  EHOSTUNREACH: 'No route to host',
  ECONNREFUSED: 'Connection refused',
  ENOPROTOOPT: 'Protocol not available',
  EOPNOTSUPP: 'Operation not supported',
  EHOSTDOWN: 'Host is down',
  ENONET: 'Machine is not on the network',
  EPROTO: 'Protocol error',
  EDESTADDRREQ: 'Destination address required',
  ETIMEDOUT: 'Connection timed out',
  ECONNRESET: 'Connection reset by peer',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EPIPE: 'Broken pipe',
} as const;

export type Errno = keyof typeof STRERROR;

/**
 * icmp_err_convert (net/ipv4/icmp.c): the errno each destination-unreachable code (0–15) maps
 * to, and whether it is fatal — a hard error a connected socket reports to its next call.
 */
export const ICMP_UNREACH_ERRNO: readonly { readonly errno: Errno; readonly fatal: boolean }[] = [
  { errno: 'ENETUNREACH', fatal: false }, // net unreachable
  { errno: 'EHOSTUNREACH', fatal: false }, // host unreachable
  { errno: 'ENOPROTOOPT', fatal: true }, // protocol unreachable
  { errno: 'ECONNREFUSED', fatal: true }, // port unreachable
  { errno: 'EMSGSIZE', fatal: false }, // fragmentation needed
  { errno: 'EOPNOTSUPP', fatal: false }, // source route failed
  { errno: 'ENETUNREACH', fatal: true }, // net unknown
  { errno: 'EHOSTDOWN', fatal: true }, // host unknown
  { errno: 'ENONET', fatal: true }, // host isolated
  { errno: 'ENETUNREACH', fatal: true }, // net administratively prohibited
  { errno: 'EHOSTUNREACH', fatal: true }, // host administratively prohibited
  { errno: 'ENETUNREACH', fatal: false }, // net unreachable for TOS
  { errno: 'EHOSTUNREACH', fatal: false }, // host unreachable for TOS
  { errno: 'EHOSTUNREACH', fatal: true }, // communication administratively prohibited
  { errno: 'EHOSTUNREACH', fatal: true }, // host precedence violation
  { errno: 'EHOSTUNREACH', fatal: true }, // precedence cutoff
];
