/**
 * A VXLAN device (drivers/net/vxlan, RFC 7348) as flannel creates it: `flannel.1`, VNI 1, UDP
 * 8472, local address the node's IP, no learning, udpcsum on. Transmit looks the inner frame's
 * destination MAC up in the device's FDB (`bridge fdb … dst <node IP> self permanent`), writes the
 * VXLAN, UDP and IPv4 headers into the headroom in front of the inner frame (no copy), and sends
 * the packet as this host's own UDP datagram. Receive is the UDP encapsulation hook on the port:
 * the outer headers are pulled and the inner frame enters the stack through this device.
 */
import { formatIpv4, type Ipv4Addr, type MacAddr } from '../packet/addr.js';
import * as ethernet from '../packet/ethernet.js';
import * as ipv4 from '../packet/ipv4.js';
import * as udp from '../packet/udp.js';
import * as vxlan from '../packet/vxlan.js';
import { NetDevice } from './device.js';
import { ipOutput, routeOutput } from './ip-output.js';
import type { Netns } from './netns.js';
import type { Skb } from './skb.js';
import { packetId, tracing } from './trace.js';

/** Outer IPv4 + UDP + VXLAN: what is pushed in front of the inner Ethernet frame. */
export const VXLAN_ENCAP_LEN = ipv4.HEADER_LEN + udp.HEADER_LEN + vxlan.HEADER_LEN;

/** ip_local_port_range's default: udp_flow_src_port scales the flow hash into it. */
const PORT_MIN = 32768;
const PORT_MAX = 60999;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface VxlanConfig {
  readonly vni: number;
  readonly dstPort: number;
  readonly local: Ipv4Addr;
  readonly ttl: number;
}

export class Vxlan extends NetDevice {
  /** Static FDB: inner MAC → remote VTEP address (nolearning: nothing is added by traffic). */
  readonly fdb = new Map<MacAddr, Ipv4Addr>();
  /** The outer headers, as Reprs refilled for each packet (see xmit). */
  private readonly outer: { vxlan: vxlan.VxlanRepr; udp: Mutable<udp.UdpRepr>; pseudo: { src: Ipv4Addr; dst: Ipv4Addr }; ip: Mutable<ipv4.Ipv4Repr> };
  /**
   * The boot-time random key of the flow hash (hashrnd). One key for the whole emulation, as the
   * references ran on one kernel: then both directions of an unconnected flow get the same port.
   */
  private readonly hashSeed: number;

  constructor(
    private readonly ns: Netns,
    name: string,
    ifindex: number,
    mac: MacAddr,
    mtu: number,
    readonly config: VxlanConfig,
  ) {
    super(ns, name, ifindex, mac, mtu, 'vxlan');
    this.hashSeed = flowHashKey(ns);
    const local = config.local;
    this.outer = {
      vxlan: vxlan.vxlanRepr(config.vni),
      udp: { srcPort: 0, dstPort: config.dstPort, checksum: 0, payloadLen: 0 },
      pseudo: { src: local, dst: 0 },
      ip: { ...ipv4.ipv4Repr({ src: local, dst: 0, protocol: ipv4.PROTO_UDP, payloadLen: 0, ttl: config.ttl }) },
    };
  }

  /**
   * udp_flow_src_port: the inner flow's hash scaled into 32768–60999. A connected socket's packets
   * carry the socket's random hash (a port per connection and direction); unconnected traffic
   * (ping) hashes its addresses in a fixed order, so both directions get the same port.
   */
  sourcePort(skb: Skb): number {
    let h = skb.flowHash;
    if (h === 0) h = this.dissectorHash(skb);
    const scrambled = (h ^ (h << 16)) >>> 0;
    return Math.floor((scrambled * (PORT_MAX - PORT_MIN)) / 0x1_0000_0000) + PORT_MIN;
  }

  /**
   * skb_get_hash without a socket's hash: the flow dissector over the inner headers, made
   * symmetric (__flow_hash_consistentify: the lower address, with its port, first). Ports count
   * for TCP and UDP unless the packet is a fragment, which hashes on addresses only.
   */
  private dissectorHash(skb: Skb): number {
    const b = skb.buf;
    const ip = skb.head + ethernet.HEADER_LEN;
    let h = this.hashSeed;
    if (ethernet.ethertype(b, skb.head) !== ethernet.ETHERTYPE_IPV4) {
      return mix(mix(h, ethernet.src(b, skb.head) >>> 0), ethernet.dst(b, skb.head) >>> 0);
    }
    const s = ipv4.src(b, ip);
    const d = ipv4.dst(b, ip);
    const proto = ipv4.protocol(b, ip);
    h = mix(mix(mix(h, Math.min(s, d)), Math.max(s, d)), proto);
    if ((proto === ipv4.PROTO_TCP || proto === ipv4.PROTO_UDP) && !ipv4.isFragment(b, ip)) {
      const l4 = ipv4.payloadOffset(b, ip);
      const sp = (b[l4]! << 8) | b[l4 + 1]!;
      const dp = (b[l4 + 2]! << 8) | b[l4 + 3]!;
      const swap = d < s || (d === s && dp < sp);
      h = mix(mix(h, swap ? dp : sp), swap ? sp : dp);
    }
    return h;
  }

  protected xmit(skb: Skb): void {
    const innerLen = skb.len;
    const remote = this.fdb.get(ethernet.dst(skb.buf, skb.head));
    if (remote === undefined) return this.ns.drop(this, skb, 'vxlan: no FDB entry for the inner destination MAC');
    const route = routeOutput(this.ns, remote);
    if (!route || route.type !== 'unicast') return this.ns.drop(this, skb, 'vxlan: no route to the remote VTEP');
    const srcPort = this.sourcePort(skb);
    const b = skb.buf;
    // The outer headers' Reprs are this device's own, refilled per packet: encapsulation
    // allocates nothing but what the frame already has (its headroom).
    const o = this.outer;
    const vx = skb.push(vxlan.HEADER_LEN);
    vxlan.emit(o.vxlan, b, vx);
    const u = skb.push(udp.HEADER_LEN);
    o.udp.srcPort = srcPort;
    o.udp.payloadLen = vxlan.HEADER_LEN + innerLen;
    o.pseudo.dst = remote;
    udp.emit(o.udp, b, u, o.pseudo);
    const ip = skb.push(ipv4.HEADER_LEN);
    o.ip.dst = remote;
    o.ip.payloadLen = udp.HEADER_LEN + vxlan.HEADER_LEN + innerLen;
    o.ip.id = this.ns.ipIdent.next(this.ns.sched.nowNs, remote, this.config.local, ipv4.PROTO_UDP);
    ipv4.emit(o.ip, b, ip);
    if (tracing(this.ns.trace)) this.traceTunnel('encap', skb, ip);
    skb.scrub(); // iptunnel_xmit: the outer packet is a new one to netfilter (its own conntrack entry)
    ipOutput(this.ns, skb, route);
  }

  /**
   * The trace's encap / decap event: the outer headers as they are (or were) on the wire,
   * `VXLAN vni 1 udp 192.168.1.10:40123 → 192.168.1.11:8472`.
   */
  private traceTunnel(event: 'encap' | 'decap', skb: Skb, ip: number): void {
    const b = skb.buf;
    const u = ipv4.payloadOffset(b, ip);
    const vni = vxlan.vni(b, u + udp.HEADER_LEN);
    const ns = this.ns;
    ns.trace.event(
      {
        timeNs: ns.sched.nowNs, netns: ns.name, dev: this.name, event, pkt: packetId(ns.sched, skb),
        detail: `VXLAN vni ${vni} udp ${formatIpv4(ipv4.src(b, ip))}:${udp.srcPort(b, u)} → ${formatIpv4(ipv4.dst(b, ip))}:${udp.dstPort(b, u)}`,
      },
      skb,
    );
  }

  /** vxlan_rcv: `skb.head` is at the outer IPv4 header; strips the outer headers and receives the inner frame. */
  encapRcv(skb: Skb, ipOff: number): void {
    const b = skb.buf;
    const u = ipv4.payloadOffset(b, ipOff);
    const vx = u + udp.HEADER_LEN;
    if (skb.end - vx < vxlan.HEADER_LEN + ethernet.HEADER_LEN) return this.ns.drop(this, skb, 'vxlan: truncated');
    // udp4_csum_init: a datagram whose checksum does not verify never reaches the tunnel.
    if (udp.checksum(b, u) !== 0 && !udp.hasValidChecksum(b, u, { src: ipv4.src(b, ipOff), dst: ipv4.dst(b, ipOff) })) {
      return this.ns.drop(this, skb, 'udp: bad checksum');
    }
    if ((vxlan.flags(b, vx) & vxlan.FLAG_VNI_VALID) === 0 || vxlan.vni(b, vx) !== this.config.vni) {
      return this.ns.drop(this, skb, 'vxlan: unknown VNI');
    }
    if (tracing(this.ns.trace)) this.traceTunnel('decap', skb, ipOff);
    skb.pull(vx + vxlan.HEADER_LEN - skb.head);
    skb.networkOffset = -1;
    skb.isForHost = false;
    skb.scrub(); // the inner frame is tracked on its own (vxlan_rcv → skb_scrub_packet)
    this.receive(skb);
  }
}

const flowHashKeys = new WeakMap<object, number>();

function flowHashKey(ns: Netns): number {
  let k = flowHashKeys.get(ns.random);
  if (k === undefined) {
    k = ns.random.stream('flow-hash').nextU32();
    flowHashKeys.set(ns.random, k);
  }
  return k;
}

/** A 32-bit multiply-xorshift step (a stand-in for the kernel's siphash of the flow keys). */
function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}
