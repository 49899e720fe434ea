/**
 * The frames of `podwire example`: pod 10.244.1.2 pings 10.244.2.2 on another node, as the
 * kernel reference cross-node-ping shows it on the first node — ARP for the pod's gateway on
 * cni0, then each ICMP echo on the pod's eth0 and again on the node's eth0 inside flannel's VXLAN
 * (UDP 8472, VNI 1, TTL decremented by the node's forwarding). Built with the packet codecs only;
 * the emulator that computes such journeys comes with the scenario runner.
 */
import * as arp from '../packet/arp.js';
import * as ethernet from '../packet/ethernet.js';
import * as icmp from '../packet/icmp.js';
import * as ipv4 from '../packet/ipv4.js';
import * as udp from '../packet/udp.js';
import * as vxlan from '../packet/vxlan.js';
import { BROADCAST_MAC, ZERO_MAC, parseIpv4, parseMac } from '../packet/addr.js';

export interface ExampleFrame {
  /** Where tcpdump would have seen it. */
  readonly iface: 'pod-eth0' | 'node-eth0';
  readonly timestampNs: number;
  readonly bytes: Uint8Array;
  readonly comment?: string;
}

const POD_A = parseIpv4('10.244.1.2');
const POD_C = parseIpv4('10.244.2.2');
const GATEWAY = parseIpv4('10.244.1.1');
const NODE_1 = parseIpv4('192.168.1.10');
const NODE_2 = parseIpv4('192.168.1.11');
const MAC_POD_A = parseMac('7e:4c:51:0a:01:02');
const MAC_CNI0 = parseMac('2a:9d:03:0a:01:01');
const MAC_NODE_1 = parseMac('52:54:00:c0:a8:0a');
const MAC_NODE_2 = parseMac('52:54:00:c0:a8:0b');
const MAC_VTEP_1 = parseMac('6e:1f:8a:00:00:01');
const MAC_VTEP_2 = parseMac('6e:1f:8a:00:00:02');
const PING_ID = 0x1c2b;
const PING_DATA = 56; // ping's default: 8 bytes of timestamp + 48 bytes of pattern
const HEADROOM = 50; // flannel's encapOverhead: outer Ethernet + IPv4 + UDP + VXLAN
const ARP_LEN = ethernet.HEADER_LEN + arp.HEADER_LEN;
const ECHO_LEN = ethernet.HEADER_LEN + ipv4.HEADER_LEN + icmp.HEADER_LEN + PING_DATA;

function arpFrame(op: number, srcMac: number, srcIp: number, dstMac: number, dstIp: number): Uint8Array {
  const b = new Uint8Array(ARP_LEN);
  arp.emit({ op, senderMac: srcMac, senderIp: srcIp, targetMac: op === arp.OP_REQUEST ? ZERO_MAC : dstMac, targetIp: dstIp }, b, ethernet.HEADER_LEN);
  ethernet.emit({ dst: op === arp.OP_REQUEST ? BROADCAST_MAC : dstMac, src: srcMac, ethertype: ethernet.ETHERTYPE_ARP }, b, 0);
  return b;
}

/** An echo request as ping sends it, built into a buffer with room in front for encapsulation. */
function echoRequest(seq: number, ipId: number): Uint8Array {
  const b = new Uint8Array(HEADROOM + ECHO_LEN);
  const ip = HEADROOM + ethernet.HEADER_LEN;
  const l4 = ip + ipv4.HEADER_LEN;
  for (let i = 0; i < PING_DATA; i++) b[l4 + icmp.HEADER_LEN + i] = i < 8 ? seq : i; // timestamp stand-in, then ping's pattern
  icmp.emit(icmp.echoRequest(PING_ID, seq, PING_DATA), b, l4);
  ipv4.emit(ipv4.ipv4Repr({ src: POD_A, dst: POD_C, protocol: ipv4.PROTO_ICMP, payloadLen: icmp.HEADER_LEN + PING_DATA, dontFragment: true, id: ipId }), b, ip);
  ethernet.emit({ dst: MAC_CNI0, src: MAC_POD_A, ethertype: ethernet.ETHERTYPE_IPV4 }, b, HEADROOM);
  return b;
}

/** Node 1 forwards the echo: rewrites MACs for flannel.1, decrements TTL, encapsulates in front of it. */
function encapsulate(b: Uint8Array, outerId: number, srcPort: number): Uint8Array {
  const inner = HEADROOM;
  ethernet.setSrc(b, inner, MAC_VTEP_1);
  ethernet.setDst(b, inner, MAC_VTEP_2);
  ipv4.decrementTtl(b, inner + ethernet.HEADER_LEN);
  vxlan.emit(vxlan.vxlanRepr(1), b, 42);
  udp.emit({ srcPort, dstPort: vxlan.PORT_LINUX, checksum: 0, payloadLen: vxlan.HEADER_LEN + ECHO_LEN }, b, 34, { src: NODE_1, dst: NODE_2 });
  ipv4.emit(ipv4.ipv4Repr({ src: NODE_1, dst: NODE_2, protocol: ipv4.PROTO_UDP, payloadLen: 16 + ECHO_LEN, id: outerId }), b, 14);
  ethernet.emit({ dst: MAC_NODE_2, src: MAC_NODE_1, ethertype: ethernet.ETHERTYPE_IPV4 }, b, 0);
  return b;
}

export function exampleFrames(): ExampleFrame[] {
  const frames: ExampleFrame[] = [
    { iface: 'pod-eth0', timestampNs: 1_000_000_000, bytes: arpFrame(arp.OP_REQUEST, MAC_POD_A, POD_A, ZERO_MAC, GATEWAY), comment: 'pod ARPs its gateway, cni0' },
    { iface: 'pod-eth0', timestampNs: 1_000_021_000, bytes: arpFrame(arp.OP_REPLY, MAC_CNI0, GATEWAY, MAC_POD_A, POD_A) },
  ];
  for (let seq = 1; seq <= 2; seq++) {
    const t = 1_000_050_000 + (seq - 1) * 1_000_000_000;
    const b = echoRequest(seq, 0x750f + seq * 0xd8);
    frames.push({ iface: 'pod-eth0', timestampNs: t, bytes: b.slice(HEADROOM) });
    frames.push({ iface: 'node-eth0', timestampNs: t + 40_000, bytes: encapsulate(b, 0x3e80 + seq, 51235), comment: 'VXLAN encapsulation by flannel.1: VNI 1, UDP 8472' });
  }
  return frames;
}
