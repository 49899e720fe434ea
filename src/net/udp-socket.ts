/**
 * UDP sockets (net/ipv4/udp.c): bind to a port (or get an ephemeral one from 32768–60999, chosen
 * at random as udp_lib_get_port does), connect to fix the peer, send datagrams whose IPv4 header
 * the kernel writes — the ID from the socket's counter when connected, else from the
 * per-destination generator — and receive datagrams addressed to the port. A datagram for a port
 * nobody has bound is answered with ICMP port unreachable (__udp4_lib_rcv → icmp_send).
 *
 * IP_MTU_DISCOVER as Linux (ip_make_skb, __ip_append_data): `want`, the default, sets DF when the
 * datagram fits the route's MTU and fragments it locally when it does not; `do` sets DF always
 * and refuses a datagram over the MTU with EMSGSIZE; `dont` never sets DF. The MTU is the path
 * MTU once an ICMP fragmentation needed taught one. ICMP errors about the socket's datagrams
 * arrive through __udp4_lib_err: a hard one (port unreachable, or fragmentation needed unless
 * `dont`) on a connected socket is reported by its next send or receive.
 */
import type { Ipv4Addr } from '../packet/addr.js';
import * as icmp from '../packet/icmp.js';
import * as ipv4 from '../packet/ipv4.js';
import * as udp from '../packet/udp.js';
import { ICMP_UNREACH_ERRNO, type Errno } from './errno.js';
import { ipOutput, routeMtu, routeOutput, sourceFor, updatePmtu } from './ip-output.js';
import type { Netns } from './netns.js';
import { Skb } from './skb.js';

export const EPHEMERAL_MIN = 32768;
export const EPHEMERAL_MAX = 60999;
/** The largest UDP payload an IPv4 datagram carries: 65535 − 20 − 8. */
export const MAX_PAYLOAD = ipv4.MAX_TOTAL_LEN - ipv4.HEADER_LEN - udp.HEADER_LEN;

export interface Datagram {
  readonly from: Ipv4Addr;
  readonly fromPort: number;
  readonly to: Ipv4Addr;
  readonly data: Uint8Array;
  readonly timeNs: number;
}

export type UdpSendError = Errno;
export type PmtuDiscovery = 'want' | 'do' | 'dont';

/** IP_MTU_DISCOVER's values (include/uapi/linux/in.h). */
export const IP_PMTUDISC: Readonly<Record<PmtuDiscovery, number>> = { dont: 0, want: 1, do: 2 };

export class UdpSocket {
  localPort = 0;
  localAddr: Ipv4Addr = 0;
  peer: { addr: Ipv4Addr; port: number } | undefined;
  pmtudisc: PmtuDiscovery = 'want';
  onDatagram: (d: Datagram) => void = () => {};
  /** Called when an ICMP error sets a pending error (sk_error_report), as poll wakes a reader. */
  onError: (err: Errno) => void = () => {};
  /** sk_err: a hard error an ICMP message reported, returned by the next call. */
  private pendingError: Errno | undefined;
  private ipId = 0;
  private txHash = 0;

  constructor(readonly ns: Netns) {}

  /** bind(): a given port, or an ephemeral one. Throws on a port in use (EADDRINUSE). */
  bind(port = 0, addr: Ipv4Addr = 0): void {
    this.localPort = port || this.ns.udp.ephemeralPort();
    this.localAddr = addr;
    this.ns.udp.add(this);
  }

  /** connect(): the peer is fixed and the per-socket IP ID counter starts at a random value. */
  connect(addr: Ipv4Addr, port: number): void {
    if (!this.localPort) this.bind();
    this.peer = { addr, port };
    this.ipId = this.ns.random.stream(`udp-ip-id/${this.ns.name}`).nextU32() & 0xffff;
    // ip4_datagram_connect → sk_set_txhash: a connected socket's packets carry its random flow
    // hash, so a tunnel picks a port per socket and direction (the dns reference shows it).
    this.txHash = this.ns.random.stream(`udp-txhash/${this.ns.name}`).nextU32() | 1;
  }

  close(): void {
    this.ns.udp.remove(this);
  }

  /** getsockopt(IP_MTU) on a connected socket: the MTU of its route (ENOTCONN, undefined, otherwise). */
  pathMtu(): number | undefined {
    if (!this.peer) return undefined;
    const route = routeOutput(this.ns, this.peer.addr);
    return route ? routeMtu(this.ns, route, this.peer.addr) : undefined;
  }

  /** sock_error: the pending error, cleared as it is read (what the next send or recv returns). */
  takeError(): Errno | undefined {
    const e = this.pendingError;
    this.pendingError = undefined;
    return e;
  }

  send(data: Uint8Array, to?: { addr: Ipv4Addr; port: number }): UdpSendError | undefined {
    const dst = to ?? this.peer;
    if (!dst) return 'EDESTADDRREQ';
    if (data.length > MAX_PAYLOAD) return 'EMSGSIZE';
    if (!this.localPort) this.bind();
    const route = routeOutput(this.ns, dst.addr);
    if (!route || (route.type !== 'unicast' && route.type !== 'local' && route.type !== 'broadcast')) return 'ENETUNREACH';
    const src = this.localAddr || sourceFor(this.ns, route, dst.addr);
    if (src === undefined) return 'ENETUNREACH';
    const len = ipv4.HEADER_LEN + udp.HEADER_LEN + data.length;
    const mtu = routeMtu(this.ns, route, dst.addr);
    if (this.pmtudisc === 'do' && len > mtu) return 'EMSGSIZE';
    const pending = this.takeError();
    if (pending) return pending;
    const skb = Skb.alloc(len);
    const l4 = skb.head + ipv4.HEADER_LEN;
    skb.buf.set(data, l4 + udp.HEADER_LEN);
    udp.emit({ srcPort: this.localPort, dstPort: dst.port, checksum: 0, payloadLen: data.length }, skb.buf, l4, { src, dst: dst.addr });
    const connected = this.peer !== undefined && to === undefined;
    // __ip_make_skb: DF when discovery is forced, or wanted and the datagram fits; a socket that
    // does not force it lets the stack fragment (ip_sk_ignore_df).
    const dontFragment = this.pmtudisc === 'do' || (this.pmtudisc === 'want' && len <= mtu);
    skb.ignoreDf = this.pmtudisc !== 'do';
    // ip_select_ident_segs: a connected socket counts its own IDs (inet_id); otherwise a datagram
    // whose DF the stack may not clear (IP_PMTUDISC_DO) gets ID 0, any other __ip_select_ident's.
    const id = connected
      ? (this.ipId = (this.ipId + 1) & 0xffff)
      : dontFragment && !skb.ignoreDf ? 0 : this.ns.ipIdent.next(this.ns.sched.nowNs, dst.addr, src, ipv4.PROTO_UDP);
    if (connected) skb.flowHash = this.txHash;
    ipv4.emit(
      ipv4.ipv4Repr({ src, dst: dst.addr, protocol: ipv4.PROTO_UDP, payloadLen: udp.HEADER_LEN + data.length, dontFragment, id, ttl: this.ns.sysctl.defaultTtl }),
      skb.buf, skb.head,
    );
    ipOutput(this.ns, skb, route);
    return undefined;
  }

  /**
   * __udp4_lib_err: an ICMP error about a datagram this socket sent to `dst`. Fragmentation needed lowers
   * the path MTU and, unless discovery is off, is a hard EMSGSIZE; port unreachable is a hard
   * ECONNREFUSED; the rest map as icmp_err_convert says. Without IP_RECVERR only a connected
   * socket keeps a hard error.
   */
  icmpError(type: number, code: number, info: number, dst: Ipv4Addr): void {
    let err: Errno;
    let hard: boolean;
    if (type === icmp.TYPE_DEST_UNREACHABLE) {
      if (code === icmp.FRAGMENTATION_NEEDED) {
        updatePmtu(this.ns, dst, info);
        if (this.pmtudisc === 'dont') return;
        err = 'EMSGSIZE';
        hard = true;
      } else {
        const c = ICMP_UNREACH_ERRNO[code];
        err = c?.errno ?? 'EHOSTUNREACH';
        hard = c?.fatal ?? false;
      }
    } else if (type === icmp.TYPE_TIME_EXCEEDED) {
      err = 'EHOSTUNREACH';
      hard = false;
    } else if (type === icmp.TYPE_PARAMETER_PROBLEM) {
      err = 'EPROTO';
      hard = true;
    } else {
      return;
    }
    if (!hard || !this.peer) return;
    this.pendingError = err;
    this.onError(err);
  }
}

/** The netns's UDP port table (udp_table). */
export class UdpTable {
  private readonly byPort = new Map<number, UdpSocket[]>();

  constructor(private readonly ns: Netns) {}

  /** udp_lib_get_port with port 0: a random start in the range, then the next free port. */
  ephemeralPort(): number {
    const rng = this.ns.random.stream(`ephemeral-port/${this.ns.name}`);
    const span = EPHEMERAL_MAX - EPHEMERAL_MIN + 1;
    const start = rng.intBetween(0, span - 1);
    for (let i = 0; i < span; i++) {
      const p = EPHEMERAL_MIN + ((start + i) % span);
      if (!this.byPort.has(p)) return p;
    }
    throw new Error('EAGAIN: no free ephemeral UDP port');
  }

  add(s: UdpSocket): void {
    const list = this.byPort.get(s.localPort) ?? [];
    if (list.some((o) => o.localAddr === 0 || s.localAddr === 0 || o.localAddr === s.localAddr)) {
      throw new Error(`EADDRINUSE: UDP port ${s.localPort}`);
    }
    list.push(s);
    this.byPort.set(s.localPort, list);
  }

  remove(s: UdpSocket): void {
    const list = this.byPort.get(s.localPort);
    if (!list) return;
    const rest = list.filter((o) => o !== s);
    if (rest.length) this.byPort.set(s.localPort, rest);
    else this.byPort.delete(s.localPort);
  }

  /** The bound sockets as /proc/net/udp lists them, by port then address (the kernel: hash-slot order). */
  sockets(): UdpSocket[] {
    return [...this.byPort.values()].flat().sort((a, b) => a.localPort - b.localPort || a.localAddr - b.localAddr);
  }

  /** __udp4_lib_lookup: the socket bound to the address, else the wildcard one; a connected socket only takes its peer. */
  lookup(dst: Ipv4Addr, dstPort: number, src: Ipv4Addr, srcPort: number): UdpSocket | undefined {
    const list = this.byPort.get(dstPort);
    if (!list) return undefined;
    const fits = (s: UdpSocket) => (s.localAddr === 0 || s.localAddr === dst) && (!s.peer || (s.peer.addr === src && s.peer.port === srcPort));
    return list.find((s) => s.localAddr === dst && fits(s)) ?? list.find(fits);
  }
}
