/**
 * A raw ICMP socket (SOCK_RAW, IPPROTO_ICMP), what iputils ping opens as root: it receives a
 * copy of every ICMP packet delivered to its netns and sends ICMP messages whose IPv4 header the
 * kernel writes (raw_sendmsg → ip_append_data): TTL from the socket, DF as PMTU discovery wants it
 * (by default set when the packet fits the path MTU, else the packet is fragmented), an ID from
 * the per-destination generator, the source from the route.
 */
import type { Ipv4Addr } from '../packet/addr.js';
import * as icmp from '../packet/icmp.js';
import * as ipv4 from '../packet/ipv4.js';
import { ipOutput, routeMtu, routeOutput, sourceFor } from './ip-output.js';
import type { Netns, RawListener } from './netns.js';
import { Skb } from './skb.js';

export interface RawIcmpMessage {
  /** The whole IPv4 packet as the socket reads it (a copy). */
  readonly packet: Uint8Array;
  readonly timeNs: number;
}

export type SendError = 'ENETUNREACH' | 'EMSGSIZE';

export class RawIcmpSocket implements RawListener {
  readonly protocol = ipv4.PROTO_ICMP;
  ttl: number;
  /** IP_MTU_DISCOVER: 'want' (the default: DF set), 'do' or 'dont'. */
  pmtudisc: 'want' | 'do' | 'dont' = 'want';
  onMessage: (m: RawIcmpMessage) => void = () => {};

  constructor(readonly ns: Netns) {
    this.ttl = ns.sysctl.defaultTtl;
    ns.rawListeners.add(this);
  }

  close(): void {
    this.ns.rawListeners.delete(this);
  }

  deliver(skb: Skb, ipOff: number): void {
    const len = ipv4.totalLength(skb.buf, ipOff);
    this.onMessage({ packet: Uint8Array.prototype.slice.call(skb.buf, ipOff, ipOff + len), timeNs: this.ns.sched.nowNs });
  }

  /** Sends an ICMP message (header + data, checksum computed here) to `dst`. */
  send(dst: Ipv4Addr, r: Omit<icmp.IcmpRepr, 'checksum' | 'payloadLen'>, data: Uint8Array): SendError | undefined {
    const route = routeOutput(this.ns, dst);
    if (!route || (route.type !== 'unicast' && route.type !== 'local' && route.type !== 'broadcast')) return 'ENETUNREACH';
    const src = sourceFor(this.ns, route, dst);
    if (src === undefined) return 'ENETUNREACH';
    const icmpLen = icmp.HEADER_LEN + data.length;
    const len = ipv4.HEADER_LEN + icmpLen;
    const mtu = routeMtu(this.ns, route, dst);
    if (this.pmtudisc === 'do' && len > mtu) return 'EMSGSIZE';
    // __ip_make_skb: DF when forced, or wanted and the packet fits; too big without `do`, it is fragmented here.
    const df = this.pmtudisc === 'do' || (this.pmtudisc === 'want' && len <= mtu);
    const skb = Skb.alloc(len);
    skb.ignoreDf = this.pmtudisc !== 'do';
    const l4 = skb.head + ipv4.HEADER_LEN;
    skb.buf.set(data, l4 + icmp.HEADER_LEN);
    icmp.emit({ ...r, checksum: 0, payloadLen: data.length }, skb.buf, l4);
    ipv4.emit(
      ipv4.ipv4Repr({
        src, dst, protocol: ipv4.PROTO_ICMP, payloadLen: icmpLen, ttl: this.ttl, dontFragment: df,
        // ip_select_ident_segs: a socket without a peer (inet_daddr 0) gives a packet whose DF
        // the stack may not clear (ignore_df off: IP_PMTUDISC_DO) ID 0, any other one
        // __ip_select_ident's — `ping -M do` sends ID 0, a plain ping a counted ID.
        id: df && !skb.ignoreDf ? 0 : this.ns.ipIdent.next(this.ns.sched.nowNs, dst, src, ipv4.PROTO_ICMP),
      }),
      skb.buf, skb.head,
    );
    ipOutput(this.ns, skb, route);
    return undefined;
  }
}
