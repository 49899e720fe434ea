/**
 * The netns's TCP and UDP sockets as a socket-listing tool reads them (/proc/net/tcp and udp for
 * netstat, inet_diag for ss): state, addresses, queue lengths, and the owning process when the
 * tool can see it (same pid namespace: socket-owners.ts).
 */
import type { Ipv4Addr } from '../packet/addr.js';
import type { TcpStack } from '../net/tcp.js';
import type { AppContext } from './app.js';
import { pidNamespaceOf, socketOwner, type SocketOwner } from './socket-owners.js';

/** The kernel's socket states (include/net/tcp_states.h names); UDP uses ESTABLISHED and CLOSE. */
export type InetState =
  | 'ESTABLISHED' | 'SYN_SENT' | 'SYN_RECV' | 'FIN_WAIT1' | 'FIN_WAIT2' | 'TIME_WAIT'
  | 'CLOSE' | 'CLOSE_WAIT' | 'LAST_ACK' | 'LISTEN' | 'CLOSING';

export interface InetSocket {
  readonly proto: 'tcp' | 'udp';
  readonly state: InetState;
  readonly localAddr: Ipv4Addr;
  readonly localPort: number;
  readonly remoteAddr: Ipv4Addr;
  readonly remotePort: number;
  /** Listener: accept queue; otherwise unread bytes. */
  readonly recvQ: number;
  /** Unacknowledged bytes (+ SYN/FIN); 0 for a listener in /proc/net/tcp. */
  readonly sendQ: number;
  /** A listener's backlog (what inet_diag reports as its send queue). */
  readonly backlog: number;
  /** The process holding it, when the tool's pid namespace shows that process. */
  readonly owner: SocketOwner | undefined;
}

/** The TCP layer as a program's netns view exposes it; undefined when the view hides the table. */
function tcpStack(ctx: AppContext): Pick<TcpStack, 'sockets'> | undefined {
  const tcp = ctx.ns.tcp as Partial<Pick<TcpStack, 'sockets'>>;
  return typeof tcp.sockets === 'function' ? (tcp as Pick<TcpStack, 'sockets'>) : undefined;
}

export function canListSockets(ctx: AppContext): boolean {
  return tcpStack(ctx) !== undefined;
}

export function tcpSockets(ctx: AppContext): InetSocket[] {
  const pidns = pidNamespaceOf(ctx);
  const visible = (o: SocketOwner | undefined) => (o && o.process.pidNamespace === pidns ? o : undefined);
  return (tcpStack(ctx)?.sockets() ?? []).map((s) => ({
    proto: 'tcp',
    state: s.state === 'CLOSED' ? 'CLOSE' : s.state,
    localAddr: s.local.addr, localPort: s.local.port,
    remoteAddr: s.remote.addr, remotePort: s.remote.port,
    recvQ: s.recvQ, sendQ: s.sendQ, backlog: s.backlog,
    owner: visible(socketOwner(s.socket)),
  }));
}

/** UDP: a connected socket is ESTABLISHED, the rest CLOSE (udp_seq_show prints sk_state); queues empty, as programs read each datagram on arrival. */
export function udpSockets(ctx: AppContext): InetSocket[] {
  const pidns = pidNamespaceOf(ctx);
  return ctx.ns.udp.sockets().map((s) => {
    const o = socketOwner(s);
    return {
      proto: 'udp',
      state: s.peer ? 'ESTABLISHED' : 'CLOSE',
      localAddr: s.localAddr, localPort: s.localPort,
      remoteAddr: s.peer?.addr ?? 0, remotePort: s.peer?.port ?? 0,
      recvQ: 0, sendQ: 0, backlog: 0,
      owner: o && o.process.pidNamespace === pidns ? o : undefined,
    };
  });
}

/**
 * The flag parsing netstat and ss share: bundled short flags from `letters`, long ones by
 * `long`'s table; anything else is `notEmulated(what)` (`word` names a bare argument).
 */
export function parseFlags(args: readonly string[], letters: string, long: Readonly<Record<string, string>>, notEmulated: (what: string) => Error, word: string): Set<string> {
  const flags = new Set<string>();
  for (const a of args) {
    if (a.startsWith('--')) {
      const f = long[a.slice(2)];
      if (f === undefined) throw notEmulated(a);
      flags.add(f);
    } else if (a.startsWith('-') && a.length > 1) {
      for (const c of a.slice(1)) {
        if (!letters.includes(c)) throw notEmulated(`-${c}`);
        flags.add(c);
      }
    } else {
      throw notEmulated(`${word} '${a}'`);
    }
  }
  return flags;
}
