/**
 * A VXLAN device (drivers/net/vxlan, RFC 7348) as flannel creates it: `flannel.1`, VNI 1, UDP
 * 8472, local address the node's IP, no learning, udpcsum on. Transmit looks the inner frame's
 * destination MAC up in the device's FDB (`bridge fdb … dst <node IP> self permanent`), writes the
 * VXLAN, UDP and IPv4 headers into the headroom in front of the inner frame (no copy), and sends
 * the packet as this host's own UDP datagram. Receive is the UDP encapsulation hook on the port:
 * the outer headers are pulled and the inner frame enters the stack through this device.
 */
import type { Ipv4Addr, MacAddr } from '../packet/addr.js';
import * as ethernet from '../packet/ethernet.js';
import * as ipv4 from '../packet/ipv4.js';
import * as udp from '../packet/udp.js';
import * as vxlan from '../packet/vxlan.js';
import { NetDevice } from './device.js';
import { ipOutput, routeOutput } from './ip-output.js';
import type { Netns } from './netns.js';
import type { Skb } from './skb.js';

/** Outer IPv4 + UDP + VXLAN: what is pushed in front of the inner Ethernet frame. */
export const VXLAN_ENCAP_LEN = ipv4.HEADER_LEN + udp.HEADER_LEN + vxlan.HEADER_LEN;

/** ip_local_port_range's default: udp_flow_src_port scales the flow hash into it. */
const PORT_MIN = 32768;
const PORT_MAX = 60999;

export interface VxlanConfig {
  readonly vni: number;
  readonly dstPort: number;
  readonly local: Ipv4Addr;
  readonly ttl: number;
}

export class Vxlan extends NetDevice {
  /** Static FDB: inner MAC → remote VTEP address (nolearning: nothing is added by traffic). */
  readonly fdb = new Map<MacAddr, Ipv4Addr>();
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
  }

  /**
   * udp_flow_src_port: the inner flow's hash scaled into 32768–60999. The flow dissector keys on
   * the addresses in a fixed order (__flow_hash_consistentify), so both directions of a flow get
   * the same port, and on the TCP/UDP ports too — but not for IPv4 fragments, which hash on
   * addresses only (the first fragment too: skb_get_hash does not parse it), so all pieces of a
   * datagram take one port, another than its unfragmented siblings'.
   */
  sourcePort(skb: Skb): number {
    const b = skb.buf;
    const ip = skb.head + ethernet.HEADER_LEN;
    let h = this.hashSeed;
    if (ethernet.ethertype(b, skb.head) === ethernet.ETHERTYPE_IPV4) {
      let s = ipv4.src(b, ip);
      let d = ipv4.dst(b, ip);
      const protocol = ipv4.protocol(b, ip);
      const hasPorts = (protocol === ipv4.PROTO_UDP || protocol === ipv4.PROTO_TCP) && !ipv4.isFragment(b, ip);
      let sp = 0;
      let dp = 0;
      if (hasPorts) {
        const l4 = ipv4.payloadOffset(b, ip);
        sp = udp.srcPort(b, l4); // TCP's ports sit where UDP's do
        dp = udp.dstPort(b, l4);
      }
      if (d < s || (d === s && dp < sp)) {
        const a = s;
        s = d;
        d = a;
        const p = sp;
        sp = dp;
        dp = p;
      }
      h = mix(mix(mix(h, s), d), protocol);
      if (hasPorts) h = mix(h, ((sp << 16) | dp) >>> 0);
    } else {
      h = mix(mix(h, ethernet.src(b, skb.head) >>> 0), ethernet.dst(b, skb.head) >>> 0);
    }
    const scrambled = (h ^ (h << 16)) >>> 0;
    return Math.floor((scrambled * (PORT_MAX - PORT_MIN)) / 0x1_0000_0000) + PORT_MIN;
  }

  protected xmit(skb: Skb): void {
    const innerLen = skb.len;
    const remote = this.fdb.get(ethernet.dst(skb.buf, skb.head));
    if (remote === undefined) return this.ns.drop(this, skb, 'vxlan: no FDB entry for the inner destination MAC');
    const route = routeOutput(this.ns, remote);
    if (!route || route.type !== 'unicast') return this.ns.drop(this, skb, 'vxlan: no route to the remote VTEP');
    const srcPort = this.sourcePort(skb);
    const b = skb.buf;
    const vx = skb.push(vxlan.HEADER_LEN);
    vxlan.emit(vxlan.vxlanRepr(this.config.vni), b, vx);
    const u = skb.push(udp.HEADER_LEN);
    const local = this.config.local;
    udp.emit({ srcPort, dstPort: this.config.dstPort, checksum: 0, payloadLen: vxlan.HEADER_LEN + innerLen }, b, u, { src: local, dst: remote });
    const ip = skb.push(ipv4.HEADER_LEN);
    ipv4.emit(
      ipv4.ipv4Repr({
        src: local, dst: remote, protocol: ipv4.PROTO_UDP, payloadLen: udp.HEADER_LEN + vxlan.HEADER_LEN + innerLen,
        ttl: this.config.ttl, id: this.ns.ipIdent.next(this.ns.sched.nowNs, remote, local, ipv4.PROTO_UDP),
      }),
      b, ip,
    );
    ipOutput(this.ns, skb, route);
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
    skb.pull(vx + vxlan.HEADER_LEN - skb.head);
    skb.networkOffset = -1;
    skb.isForHost = false;
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
