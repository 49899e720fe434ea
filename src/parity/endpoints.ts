/**
 * Which endpoint kube-proxy chose, read back from a run's captures. kube-proxy's iptables rules
 * pick a Service's endpoint at random (`-m statistic --mode random --probability 0.5`, xt_statistic
 * draws get_random_u32 on the kernel; podwire draws its seeded `statistic/<node>` stream), so a
 * kernel run and a podwire run only see the same packets when both made the same choices. Parity
 * finds the kernel's choices here, then scripts podwire's statistic draws to make the same ones
 * (statistic-draws.ts).
 *
 * A DNATed connection is recognised by its SYN: DNAT rewrites the destination and leaves the
 * initial sequence number alone (nf_nat_manip_pkt touches addresses, ports and checksums only), so
 * a SYN to a ClusterIP and a SYN to another address with the same ISN and source port are one
 * connection before and after kube-proxy's DNAT. A UDP flow (a DNS lookup through kube-dns) takes
 * one draw for its conntrack entry, at its first datagram: the flow is its source address and port
 * and the ClusterIP:port, and its first datagram after DNAT the one with the same source port and
 * payload. The node that did it is the one whose interfaces carry both (cni0 sees the original
 * bridged in, flannel.1 or cni0 the rewritten).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import type { InterfaceRecord } from '../capture/index.js';
import { formatIpv4, type Ipv4Addr } from '../packet/addr.js';
import * as ethernet from '../packet/ethernet.js';
import * as ipv4 from '../packet/ipv4.js';
import * as tcp from '../packet/tcp.js';
import * as udp from '../packet/udp.js';
import { readCaptureFile } from '../pcap/index.js';

/** One DNATed connection's first endpoint: `service` (ClusterIP:port) became `endpoint` on `node`. */
export interface DnatChoice {
  readonly node: string;
  readonly service: string;
  readonly endpoint: string;
  readonly protocol: 'tcp' | 'udp';
}

const ETH_P_IP = 0x0800;

interface Seen {
  readonly ns: number;
  readonly netns: string;
  readonly hostKind: string;
  readonly dst: string;
  readonly toService: boolean;
}

/** Appends to the list under `key`. */
function add<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * The DNAT choices visible in a run folder (podwire's or the kernel's, laid out alike), one per
 * connection to a ClusterIP in `serviceIps`, in the order the connections were opened.
 */
export function dnatChoices(runDir: string, serviceIps: ReadonlySet<Ipv4Addr>): DnatChoice[] {
  const { interfaces } = JSON.parse(readFileSync(join(runDir, 'interfaces.json'), 'utf8')) as { interfaces: InterfaceRecord[] };
  // TCP: the SYNs of a connection, before and after DNAT, by ISN and source port.
  const synsByConnection = new Map<string, Seen[]>();
  // UDP: the datagrams to a ClusterIP by flow; every datagram by source port and payload.
  const udpByFlow = new Map<string, (Seen & { readonly datagram: string })[]>();
  const udpByDatagram = new Map<string, Seen[]>();
  for (const i of interfaces) {
    const file = join(runDir, i.file);
    if (!existsSync(file)) continue;
    for (const p of readCaptureFile(file).packets) {
      const b = p.data;
      if (b.length < ethernet.HEADER_LEN + ipv4.HEADER_LEN || ethernet.ethertype(b, 0) !== ETH_P_IP) continue;
      const ip = ethernet.HEADER_LEN;
      const l4 = ipv4.payloadOffset(b, ip);
      const proto = ipv4.protocol(b, ip);
      const dstIp = ipv4.dst(b, ip);
      const at = { ns: p.timestampNs, netns: i.netns, hostKind: i.hostKind, toService: serviceIps.has(dstIp) };
      if (proto === ipv4.PROTO_TCP) {
        if (l4 + tcp.HEADER_LEN > b.length || (tcp.flags(b, l4) & (tcp.SYN | tcp.ACK)) !== tcp.SYN) continue;
        // The source may be SNATed on the way; the ISN and the source port identify the connection.
        add(synsByConnection, `${tcp.seq(b, l4)}/${tcp.srcPort(b, l4)}`, { ...at, dst: `${formatIpv4(dstIp)}:${tcp.dstPort(b, l4)}` });
      } else if (proto === ipv4.PROTO_UDP && ipv4.fragmentOffset(b, ip) === 0) {
        const end = Math.min(b.length, ip + ipv4.totalLength(b, ip));
        if (l4 + udp.HEADER_LEN > end) continue;
        const dst = `${formatIpv4(dstIp)}:${udp.dstPort(b, l4)}`;
        const datagram = `${udp.srcPort(b, l4)}/${createHash('sha1').update(b.subarray(l4 + udp.HEADER_LEN, end)).digest('hex')}`;
        add(udpByDatagram, datagram, { ...at, dst });
        if (at.toService) add(udpByFlow, `${formatIpv4(ipv4.src(b, ip))}:${udp.srcPort(b, l4)}>${dst}`, { ...at, dst, datagram });
      }
    }
  }
  const choices: { ns: number; choice: DnatChoice }[] = [];
  const choose = (seen: readonly Seen[], protocol: DnatChoice['protocol']): void => {
    const original = seen.filter((s) => s.toService).sort((a, b) => a.ns - b.ns);
    const rewritten = seen.filter((s) => !s.toService).sort((a, b) => a.ns - b.ns);
    const first = original[0];
    const chosen = rewritten[0];
    if (first === undefined || chosen === undefined) return;
    const node = original.find((o) => o.hostKind === 'node' && rewritten.some((r) => r.netns === o.netns))?.netns ?? chosen.netns;
    choices.push({ ns: first.ns, choice: { node, service: first.dst, endpoint: chosen.dst, protocol } });
  };
  for (const seen of synsByConnection.values()) choose(seen, 'tcp');
  for (const flow of udpByFlow.values()) {
    // The flow's first datagram made its conntrack entry (and took the draw); later ones followed it.
    const first = [...flow].sort((a, b) => a.ns - b.ns)[0]!;
    choose(udpByDatagram.get(first.datagram) ?? [], 'udp');
  }
  return choices.sort((a, b) => a.ns - b.ns).map((c) => c.choice);
}

/** The choices as one comparable line each. */
export function describeChoices(choices: readonly DnatChoice[]): string[] {
  return choices.map((c) => `kube-proxy on ${c.node} chose ${c.endpoint} for ${c.service}${c.protocol === 'udp' ? '/udp' : ''}`);
}
