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
 * a SYN to a ClusterIP and a SYN to another address with the same ISN, source port and source
 * address are one connection before and after kube-proxy's DNAT. The node that did it is the one
 * whose interfaces carry both (cni0 sees the original bridged in, flannel.1 or cni0 the rewritten).
 */
import { join } from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import type { InterfaceRecord } from '../capture/index.js';
import { formatIpv4, type Ipv4Addr } from '../packet/addr.js';
import * as ethernet from '../packet/ethernet.js';
import * as ipv4 from '../packet/ipv4.js';
import * as tcp from '../packet/tcp.js';
import { readCaptureFile } from '../pcap/index.js';

/** One DNATed connection's first endpoint: `service` (ClusterIP:port) became `endpoint` on `node`. */
export interface DnatChoice {
  readonly node: string;
  readonly service: string;
  readonly endpoint: string;
}

const ETH_P_IP = 0x0800;

interface SynSeen {
  readonly ns: number;
  readonly netns: string;
  readonly hostKind: string;
  readonly dst: string;
  readonly toService: boolean;
}

/**
 * The DNAT choices visible in a run folder (podwire's or the kernel's, laid out alike), one per
 * connection to a ClusterIP in `serviceIps`, in the order the connections were opened.
 */
export function dnatChoices(runDir: string, serviceIps: ReadonlySet<Ipv4Addr>): DnatChoice[] {
  const { interfaces } = JSON.parse(readFileSync(join(runDir, 'interfaces.json'), 'utf8')) as { interfaces: InterfaceRecord[] };
  const byConnection = new Map<string, SynSeen[]>();
  for (const i of interfaces) {
    const file = join(runDir, i.file);
    if (!existsSync(file)) continue;
    for (const p of readCaptureFile(file).packets) {
      const b = p.data;
      if (b.length < ethernet.HEADER_LEN + ipv4.HEADER_LEN + tcp.HEADER_LEN || ethernet.ethertype(b, 0) !== ETH_P_IP) continue;
      const ip = ethernet.HEADER_LEN;
      if (ipv4.protocol(b, ip) !== ipv4.PROTO_TCP) continue;
      const t = ipv4.payloadOffset(b, ip);
      if (t + tcp.HEADER_LEN > b.length || (tcp.flags(b, t) & (tcp.SYN | tcp.ACK)) !== tcp.SYN) continue;
      // The source may be SNATed on the way; the ISN and the source port identify the connection.
      const key = `${tcp.seq(b, t)}/${tcp.srcPort(b, t)}`;
      const dstIp = ipv4.dst(b, ip);
      const seen: SynSeen = { ns: p.timestampNs, netns: i.netns, hostKind: i.hostKind, dst: `${formatIpv4(dstIp)}:${tcp.dstPort(b, t)}`, toService: serviceIps.has(dstIp) };
      const list = byConnection.get(key);
      if (list) list.push(seen);
      else byConnection.set(key, [seen]);
    }
  }
  const choices: { ns: number; choice: DnatChoice }[] = [];
  for (const seen of byConnection.values()) {
    const original = seen.filter((s) => s.toService).sort((a, b) => a.ns - b.ns);
    const rewritten = seen.filter((s) => !s.toService).sort((a, b) => a.ns - b.ns);
    const first = original[0];
    const chosen = rewritten[0];
    if (first === undefined || chosen === undefined) continue;
    const node = original.find((o) => o.hostKind === 'node' && rewritten.some((r) => r.netns === o.netns))?.netns ?? chosen.netns;
    choices.push({ ns: first.ns, choice: { node, service: first.dst, endpoint: chosen.dst } });
  }
  return choices.sort((a, b) => a.ns - b.ns).map((c) => c.choice);
}

/** The choices as one comparable line each. */
export function describeChoices(choices: readonly DnatChoice[]): string[] {
  return choices.map((c) => `kube-proxy on ${c.node} chose ${c.endpoint} for ${c.service}`);
}
