/**
 * UDP sockets (net/ipv4/udp.c): bind to a port (or get an ephemeral one from 32768–60999, chosen
 * at random as udp_lib_get_port does), connect to fix the peer, send datagrams whose IPv4 header
 * the kernel writes — DF set when PMTU discovery wants it and the datagram fits, the ID from the
 * socket's counter when connected, else from the per-destination generator — and receive
 * datagrams addressed to the port. A datagram for a port nobody has bound is answered with ICMP
 * port unreachable (__udp4_lib_rcv → icmp_send).
 */
import type { Ipv4Addr } from '../packet/addr.js';
import * as ipv4 from '../packet/ipv4.js';
import * as udp from '../packet/udp.js';
import { ipOutput, routeOutput, sourceFor } from './ip-output.js';
import type { Netns } from './netns.js';
import { Skb } from './skb.js';

export const EPHEMERAL_MIN = 32768;
export const EPHEMERAL_MAX = 60999;

export interface Datagram {
  readonly from: Ipv4Addr;
  readonly fromPort: number;
  readonly to: Ipv4Addr;
  readonly data: Uint8Array;
  readonly timeNs: number;
}

export type UdpSendError = 'ENETUNREACH' | 'EMSGSIZE' | 'EDESTADDRREQ';

export class UdpSocket {
  localPort = 0;
  localAddr: Ipv4Addr = 0;
  peer: { addr: Ipv4Addr; port: number } | undefined;
  pmtudisc: 'want' | 'do' | 'dont' = 'want';
  onDatagram: (d: Datagram) => void = () => {};
  private ipId = 0;

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
  }

  close(): void {
    this.ns.udp.remove(this);
  }

  send(data: Uint8Array, to?: { addr: Ipv4Addr; port: number }): UdpSendError | undefined {
    const dst = to ?? this.peer;
    if (!dst) return 'EDESTADDRREQ';
    if (!this.localPort) this.bind();
    const route = routeOutput(this.ns, dst.addr);
    if (!route || (route.type !== 'unicast' && route.type !== 'local' && route.type !== 'broadcast')) return 'ENETUNREACH';
    const src = this.localAddr || sourceFor(this.ns, route, dst.addr);
    if (src === undefined) return 'ENETUNREACH';
    const len = ipv4.HEADER_LEN + udp.HEADER_LEN + data.length;
    const mtu = route.type === 'local' ? this.ns.lo.mtu : (route.dev?.mtu ?? 1500);
    // With DF wanted or forced, a datagram over the MTU is EMSGSIZE; without DF the kernel would
    // fragment it locally, which comes with the MTU work of the cross-node issue.
    if (len > mtu) return 'EMSGSIZE';
    const skb = Skb.alloc(len);
    const l4 = skb.head + ipv4.HEADER_LEN;
    skb.buf.set(data, l4 + udp.HEADER_LEN);
    udp.emit({ srcPort: this.localPort, dstPort: dst.port, checksum: 0, payloadLen: data.length }, skb.buf, l4, { src, dst: dst.addr });
    const connected = this.peer !== undefined && to === undefined;
    const id = connected ? (this.ipId = (this.ipId + 1) & 0xffff) : this.ns.ipIdent.next(this.ns.sched.nowNs, dst.addr, src, ipv4.PROTO_UDP);
    ipv4.emit(
      ipv4.ipv4Repr({ src, dst: dst.addr, protocol: ipv4.PROTO_UDP, payloadLen: udp.HEADER_LEN + data.length, dontFragment: this.pmtudisc !== 'dont', id, ttl: this.ns.sysctl.defaultTtl }),
      skb.buf, skb.head,
    );
    ipOutput(this.ns, skb, route);
    return undefined;
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

  /** __udp4_lib_lookup: the socket bound to the address, else the wildcard one; a connected socket only takes its peer. */
  lookup(dst: Ipv4Addr, dstPort: number, src: Ipv4Addr, srcPort: number): UdpSocket | undefined {
    const list = this.byPort.get(dstPort);
    if (!list) return undefined;
    const fits = (s: UdpSocket) => (s.localAddr === 0 || s.localAddr === dst) && (!s.peer || (s.peer.addr === src && s.peer.port === srcPort));
    return list.find((s) => s.localAddr === dst && fits(s)) ?? list.find(fits);
  }
}
