/**
 * What programs see of TCP: the BSD socket calls they make (connect, listen/accept, send, shutdown,
 * close, TCP_NODELAY), as events on the virtual clock instead of blocking calls. The protocol
 * itself (RFC 9293 as Linux implements it) lives in tcp.ts; apps/ depends on this surface only.
 */
import type { Ipv4Addr } from '../packet/addr.js';
import { STRERROR } from './errno.js';

/** strerror() of every errno, as glibc prints it (one table for all sockets). */
export { STRERROR };

/** The errno a socket call or a failed connection reports, as Linux names it (a subset of errno.ts's). */
export type TcpErrno =
  | 'ECONNREFUSED' // RST in answer to our SYN
  | 'ETIMEDOUT' // SYN or data retransmitted tcp_syn_retries / tcp_retries2 times without an answer
  | 'EHOSTUNREACH' // ICMP host unreachable (e.g. ARP failed), or no route of the right type
  | 'ENETUNREACH' // no route to the destination
  | 'ECONNRESET' // RST on an established connection
  | 'EADDRINUSE' // bind/listen on a port in use
  | 'EADDRNOTAVAIL' // bind to an address this host does not have
  | 'EPIPE' // write after shutdown
  // ICMP errors that end a connect() (icmp_err_convert)
  | 'ENOPROTOOPT' | 'EOPNOTSUPP' | 'EHOSTDOWN' | 'ENONET' | 'EPROTO';

/** A socket call that fails at once (listen on a port in use, bind to a foreign address). */
export class TcpSocketError extends Error {
  constructor(readonly errno: TcpErrno) {
    super(`${errno}: ${STRERROR[errno]}`);
  }
}

export interface TcpEndpoint {
  readonly addr: Ipv4Addr;
  readonly port: number;
}

/**
 * A connected socket. Set the callbacks right after connect() / in onAccept: nothing fires before
 * the next clock event. Callbacks are the moments a blocking program's call would return.
 */
export interface TcpConnection {
  /** Local address and port: chosen at connect() (source address from the route, ephemeral port). */
  readonly local: TcpEndpoint;
  readonly remote: TcpEndpoint;
  /** connect() succeeded: the SYN-ACK arrived and our ACK is on its way. */
  onConnect: () => void;
  /** Bytes in order, as read() returns them (a read per arriving segment's new data). */
  onData: (data: Uint8Array) => void;
  /** The peer's FIN: read() returns 0 from now on. */
  onEnd: () => void;
  /** connect() failed, or the connection was reset or timed out. No callback follows. */
  onError: (errno: TcpErrno) => void;
  /** send(): queued in the send buffer; segments leave as window, Nagle and cwnd allow. */
  write(data: Uint8Array): void;
  /** shutdown(SHUT_WR): FIN after the queued data. */
  shutdown(): void;
  /** close(): FIN after the queued data (RST instead if received data was never read — not modelled: apps read all). */
  close(): void;
  /** close() with SO_LINGER {on, 0}: RST now. */
  abort(): void;
  /** setsockopt(TCP_NODELAY): off by default (Nagle on); curl turns it on. */
  setNoDelay(on: boolean): void;
}

export interface TcpListener {
  readonly local: TcpEndpoint;
  /** close() on the listening socket: later SYNs get RST. */
  close(): void;
}

/** The netns's TCP sockets (`ns.tcp`). */
export interface TcpSockets {
  /** socket() + connect(): addr 0 in `bind` means "choose" as the kernel does. */
  connect(remote: TcpEndpoint, bind?: Partial<TcpEndpoint>): TcpConnection;
  /** socket() + bind() + listen(): throws TcpSocketError (EADDRINUSE, EADDRNOTAVAIL). addr 0 = INADDR_ANY. */
  listen(local: TcpEndpoint, onAccept: (c: TcpConnection) => void, backlog?: number): TcpListener;
}
