/**
 * The netns's TCP layer (net/ipv4/tcp_ipv4.c): the socket tables, the receive demultiplexer
 * (tcp_v4_rcv: established connections first, then listeners), connect() with an ephemeral port,
 * listen(), and the RST the kernel sends for a segment nobody owns (tcp_v4_send_reset: seq 0 and
 * ACK of the segment's end for a SYN, window 0, no options; from the per-netns control socket, so
 * DF set and IP ID 0).
 */
import type { Ipv4Addr } from '../packet/addr.js';
import * as ipv4 from '../packet/ipv4.js';
import * as tcp from '../packet/tcp.js';
import type { NetDevice } from './device.js';
import { ipOutput, routeOutput, sourceFor } from './ip-output.js';
import type { Netns } from './netns.js';
import type { Skb } from './skb.js';
import { TcpSocketError, type TcpConnection, type TcpEndpoint, type TcpErrno, type TcpListener, type TcpSockets } from './tcp-api.js';
import { buildReset, parseOptions, type ParsedOptions } from './tcp-output.js';
import { APP_WAKEUP_NS, TcpSock, type TcpHost, type TcpState } from './tcp-sock.js';
import { EPHEMERAL_MAX, EPHEMERAL_MIN } from './udp-socket.js';

class Listener implements TcpListener {
  open = true;
  /** Connections that completed the handshake and wait for accept() (sk_ack_backlog). */
  acceptQueue = 0;
  constructor(
    private readonly stack: TcpStack,
    readonly local: TcpEndpoint,
    readonly onAccept: (c: TcpConnection) => void,
    readonly backlog: number,
  ) {}

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.stack.removeListener(this);
  }
}

/** A connect() that failed before any packet left (no route): the error comes as a later event. */
class FailedConnection implements TcpConnection {
  onConnect = () => {};
  onData = (_d: Uint8Array) => {};
  onEnd = () => {};
  onError = (_e: TcpErrno) => {};
  constructor(readonly local: TcpEndpoint, readonly remote: TcpEndpoint) {}
  write(): void {}
  shutdown(): void {}
  close(): void {
    this.onError = () => {};
  }
  abort(): void {
    this.close();
  }
  setNoDelay(): void {}
}

/** Connections by local port, then by remote address·port (a number: addr·65536 + port). */
type ConnTable = Map<number, Map<number, TcpSock[]>>;

const remoteKey = (addr: Ipv4Addr, port: number): number => addr * 65536 + port;

export class TcpStack implements TcpSockets, TcpHost {
  private readonly conns: ConnTable = new Map();
  private readonly listeners = new Map<number, Listener[]>();
  private readonly listenerOf = new WeakMap<TcpSock, Listener>();
  private readonly opts: ParsedOptions = { mss: 0, windowScale: -1, sackPermitted: false, hasTimestamps: false, tsval: 0, tsecr: 0, sackBlocks: 0 };

  constructor(readonly ns: Netns) {}

  connect(remote: TcpEndpoint, bind: Partial<TcpEndpoint> = {}): TcpConnection {
    const route = routeOutput(this.ns, remote.addr);
    const fail = (errno: TcpErrno) => {
      const c = new FailedConnection({ addr: bind.addr ?? 0, port: bind.port ?? 0 }, remote);
      this.ns.sched.after(APP_WAKEUP_NS, () => c.onError(errno));
      return c;
    };
    if (!route || (route.type !== 'unicast' && route.type !== 'local')) return fail(route?.type === 'unreachable' ? 'EHOSTUNREACH' : 'ENETUNREACH');
    if (bind.addr && !this.ns.isLocalAddress(bind.addr)) throw new TcpSocketError('EADDRNOTAVAIL');
    const src = bind.addr || sourceFor(this.ns, route, remote.addr);
    if (src === undefined) return fail('ENETUNREACH');
    const port = bind.port || this.ephemeralPort(src, remote);
    const sock = new TcpSock(this, { addr: src, port }, remote, route);
    this.hash(sock);
    sock.connect();
    return sock;
  }

  listen(local: TcpEndpoint, onAccept: (c: TcpConnection) => void, backlog = 128): TcpListener {
    if (local.addr !== 0 && !this.ns.isLocalAddress(local.addr)) throw new TcpSocketError('EADDRNOTAVAIL');
    const list = this.listeners.get(local.port) ?? [];
    if (list.some((l) => l.local.addr === 0 || local.addr === 0 || l.local.addr === local.addr)) throw new TcpSocketError('EADDRINUSE');
    const l = new Listener(this, local, onAccept, backlog);
    list.push(l);
    this.listeners.set(local.port, list);
    return l;
  }

  removeListener(l: Listener): void {
    const rest = (this.listeners.get(l.local.port) ?? []).filter((o) => o !== l);
    if (rest.length) this.listeners.set(l.local.port, rest);
    else this.listeners.delete(l.local.port);
  }

  /**
   * The sockets as /proc/net/tcp (tcp4_seq_show) and inet_diag list them: listeners first, then
   * the connection table. The kernel walks its hash buckets (an order keyed per boot); here
   * listeners go by port and address, connections by local port, then remote address and port.
   */
  sockets(): TcpSocketView[] {
    const out: TcpSocketView[] = [];
    const ls = [...this.listeners.values()].flat().sort((a, b) => a.local.port - b.local.port || a.local.addr - b.local.addr);
    for (const l of ls) {
      // get_tcp4_sock / inet_sk_diag_fill for TCP_LISTEN: rx = sk_ack_backlog, diag tx = sk_max_ack_backlog.
      out.push({ state: 'LISTEN', local: l.local, remote: { addr: 0, port: 0 }, recvQ: l.acceptQueue, sendQ: 0, backlog: l.backlog, socket: l });
    }
    const cs = [...this.connections()].filter((s) => s.state !== 'CLOSED');
    cs.sort((a, b) => a.local.port - b.local.port || a.local.addr - b.local.addr || a.remote.addr - b.remote.addr || a.remote.port - b.remote.port);
    for (const s of cs) out.push({ state: s.state, local: s.local, remote: s.remote, recvQ: 0, sendQ: sendQueue(s), backlog: 0, socket: s });
    return out;
  }

  /** Every connection, for views such as `ss`. */
  *connections(): Iterable<TcpSock> {
    for (const byRemote of this.conns.values()) for (const list of byRemote.values()) yield* list;
  }

  // ─── Tables ─────────────────────────────────────────────────────────────────────────────

  private hash(sock: TcpSock): void {
    let byRemote = this.conns.get(sock.local.port);
    if (!byRemote) this.conns.set(sock.local.port, (byRemote = new Map()));
    const key = remoteKey(sock.remote.addr, sock.remote.port);
    const list = byRemote.get(key);
    if (list) list.push(sock);
    else byRemote.set(key, [sock]);
  }

  unhash(sock: TcpSock): void {
    const byRemote = this.conns.get(sock.local.port);
    const key = remoteKey(sock.remote.addr, sock.remote.port);
    const list = byRemote?.get(key);
    if (!byRemote || !list) return;
    const rest = list.filter((s) => s !== sock);
    if (rest.length) byRemote.set(key, rest);
    else byRemote.delete(key);
    if (byRemote.size === 0) this.conns.delete(sock.local.port);
  }

  private lookup(dst: Ipv4Addr, dstPort: number, src: Ipv4Addr, srcPort: number): TcpSock | undefined {
    const list = this.conns.get(dstPort)?.get(remoteKey(src, srcPort));
    if (!list) return undefined;
    for (let i = 0; i < list.length; i++) if (list[i]!.local.addr === dst) return list[i];
    return undefined;
  }

  private listenerFor(dst: Ipv4Addr, dstPort: number): Listener | undefined {
    const list = this.listeners.get(dstPort);
    if (!list) return undefined;
    return list.find((l) => l.local.addr === dst) ?? list.find((l) => l.local.addr === 0);
  }

  accepted(sock: TcpSock): void {
    const l = this.listenerOf.get(sock);
    if (!l?.open) return;
    l.acceptQueue++;
    this.ns.sched.after(APP_WAKEUP_NS, () => {
      l.acceptQueue--;
      if (l.open) l.onAccept(sock);
    });
  }

  /**
   * __inet_hash_connect: a port from ip_local_port_range for this destination. The kernel starts
   * at a keyed hash of the addresses and steps by two from an even port (connect() keeps even
   * ports, bind() odd ones); here the start is a seeded random even port.
   */
  private ephemeralPort(src: Ipv4Addr, remote: TcpEndpoint): number {
    const rng = this.ns.random.stream(`tcp-port/${this.ns.name}`);
    const span = EPHEMERAL_MAX - EPHEMERAL_MIN + 1;
    const start = rng.intBetween(0, span - 1) & ~1;
    for (let i = 0; i < span; i++) {
      const port = EPHEMERAL_MIN + ((start + 2 * i + (2 * i >= span ? 1 : 0)) % span);
      if (this.listeners.has(port)) continue;
      if (!this.lookup(src, port, remote.addr, remote.port)) return port;
    }
    throw new TcpSocketError('EADDRNOTAVAIL');
  }

  // ─── Receive ────────────────────────────────────────────────────────────────────────────

  /** tcp_v4_rcv: `skb` holds an IPv4 packet for this host at skb.networkOffset. */
  rcv(dev: NetDevice, skb: Skb): void {
    const b = skb.buf;
    const ip = skb.networkOffset;
    const t = ipv4.payloadOffset(b, ip);
    const end = ip + ipv4.totalLength(b, ip);
    if (end - t < tcp.HEADER_LEN) return this.ns.drop(dev, skb, 'tcp: truncated header');
    const hl = tcp.headerLen(b, t);
    if (hl < tcp.HEADER_LEN || t + hl > end) return this.ns.drop(dev, skb, 'tcp: bad header length');
    const src = ipv4.src(b, ip);
    const dst = ipv4.dst(b, ip);
    if (!tcp.hasValidChecksum(b, t, end, { src, dst })) return this.ns.drop(dev, skb, 'tcp: bad checksum');
    const srcPort = tcp.srcPort(b, t);
    const dstPort = tcp.dstPort(b, t);
    const flags = tcp.flags(b, t);
    const dataLen = end - t - hl;
    parseOptions(b, t, hl, this.opts);
    const sock = this.lookup(dst, dstPort, src, srcPort);
    if (sock) return sock.rcv(skb, t, hl, dataLen, this.opts);
    const listener = this.listenerFor(dst, dstPort);
    if (listener && (flags & (tcp.SYN | tcp.ACK | tcp.RST | tcp.FIN)) === tcp.SYN) return this.synForListener(listener, skb, dst, dstPort, src, srcPort, t);
    if (listener && flags & tcp.RST) return;
    this.ns.drop(dev, skb, listener ? 'tcp: segment for a listener that is not a SYN' : `tcp: no socket on port ${dstPort}`);
    if (!(flags & tcp.RST)) this.sendReset(skb, ip, dataLen);
  }

  /**
   * tcp_v4_err: an ICMP error quoting one of our segments (`ip` is the quoted IPv4 header's
   * offset in `b`, followed by at least the 8 bytes of the TCP header that hold the ports).
   */
  icmpError(b: Uint8Array, ip: number, errno: TcpErrno | 'EMSGSIZE', nextHopMtu: number): void {
    const t = ipv4.payloadOffset(b, ip);
    const sock = this.lookup(ipv4.src(b, ip), tcp.srcPort(b, t), ipv4.dst(b, ip), tcp.dstPort(b, t));
    sock?.icmpError(errno, nextHopMtu);
  }

  /** tcp_conn_request: a new connection in SYN_RECV answers with a SYN-ACK. */
  private synForListener(l: Listener, skb: Skb, dst: Ipv4Addr, dstPort: number, src: Ipv4Addr, srcPort: number, t: number): void {
    const route = routeOutput(this.ns, src);
    if (!route || (route.type !== 'unicast' && route.type !== 'local')) return this.ns.drop(undefined, skb, 'tcp: no route back to the SYN\'s sender');
    let pending = 0;
    for (const s of this.connections()) if (this.listenerOf.get(s) === l && s.state === 'SYN_RECV') pending++;
    if (pending >= l.backlog) return this.ns.drop(undefined, skb, 'tcp: listen queue full');
    const sock = new TcpSock(this, { addr: dst, port: dstPort }, { addr: src, port: srcPort }, route);
    this.listenerOf.set(sock, l);
    this.hash(sock);
    sock.acceptSyn(tcp.seq(skb.buf, t), tcp.window(skb.buf, t), this.opts);
  }

  /** tcp_v4_send_reset: TOS of the segment answered (ECN bits cleared), the default TTL. */
  private sendReset(skb: Skb, ip: number, dataLen: number): void {
    const b = skb.buf;
    const route = routeOutput(this.ns, ipv4.src(b, ip));
    if (!route || (route.type !== 'unicast' && route.type !== 'local')) return;
    ipOutput(this.ns, buildReset(b, ip, dataLen, this.ns.sysctl.defaultTtl, ipv4.tos(b, ip) & ~3), route);
  }
}



/** One socket as the kernel's socket dumps show it (for netstat and ss). */
export interface TcpSocketView {
  readonly state: TcpState | 'LISTEN';
  readonly local: TcpEndpoint;
  readonly remote: TcpEndpoint;
  /**
   * Listener: the accept queue. Connection: rcv_nxt − copied_seq, bytes received and not read —
   * always 0 here, since programs read every byte as it arrives (tcp-sock.ts hands data over at once).
   */
  readonly recvQ: number;
  /** write_seq − snd_una: bytes written and not yet acknowledged, plus a SYN or FIN in flight. */
  readonly sendQ: number;
  /** listen()'s backlog (sk_max_ack_backlog); 0 for a connection. */
  readonly backlog: number;
  /** The object the program holds (its TcpListener or TcpConnection). */
  readonly socket: TcpListener | TcpConnection;
}

/**
 * write_seq − snd_una. A request socket (SYN_RECV) and a TIME_WAIT socket report 0 (get_openreq4,
 * get_timewait4_sock); a SYN in flight counts one (tcp_connect queues it at write_seq), so does a
 * FIN until it is acknowledged (tcp_send_fin advances write_seq). The fields are TcpSock's own.
 */
function sendQueue(s: TcpSock): number {
  if (s.state === 'SYN_RECV' || s.state === 'TIME_WAIT') return 0;
  if (s.state === 'SYN_SENT') return 1 + s['sendBuf'].length;
  const finOutstanding = s['finQueued'] && !(s['finSent'] && s['sndUna'] === s['sndNxt']);
  return s['sendBuf'].length + (finOutstanding ? 1 : 0);
}
