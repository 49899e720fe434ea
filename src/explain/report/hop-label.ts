/**
 * The short label of an arrow in the ladder: what a reader needs to tell packets apart at a
 * glance — `ICMP echo request 10.244.1.2 → 10.244.2.2`, `TCP [SYN] 10.244.1.2:51610 → 10.96.0.80:80`,
 * `DNS A? checkout-api.default.svc.cluster.local`, `ARP who-has 10.244.1.1`, and for a tunnelled
 * frame `VXLAN: ` before the inner packet's label. Decoded with the
 * packet codecs (packet/frame.ts), never by hand.
 */
import { formatIpv4 } from '../../packet/addr.js';
import * as arp from '../../packet/arp.js';
import * as dns from '../../packet/dns.js';
import { decodeFrame, type Layer } from '../../packet/frame.js';
import * as icmp from '../../packet/icmp.js';
import { tcpFlagNames } from '../journey-frame.js';

function dnsLabel(m: dns.DnsMessage): string {
  const q = m.questions[0];
  const what = q ? `${dns.typeName(q.type)}${m.flags.qr ? '' : '?'} ${q.name || '.'}` : '(no question)';
  if (!m.flags.qr) return `DNS ${what}`;
  if (m.flags.rcode !== dns.RCODE_NOERROR) return `DNS ${what} ${dns.rcodeName(m.flags.rcode)}`;
  return `DNS ${what}: ${m.answers.length} answer${m.answers.length === 1 ? '' : 's'}`;
}

function icmpLabel(r: icmp.IcmpRepr): string {
  switch (r.type) {
    case icmp.TYPE_ECHO_REQUEST: return 'ICMP echo request';
    case icmp.TYPE_ECHO_REPLY: return 'ICMP echo reply';
    case icmp.TYPE_DEST_UNREACHABLE: return `ICMP unreachable (code ${r.code})`;
    case icmp.TYPE_TIME_EXCEEDED: return 'ICMP time exceeded';
    default: return `ICMP type ${r.type} code ${r.code}`;
  }
}

/** The label of the packet in `layers` (the inner one, when the caller has cut off a tunnel's outer headers). */
function packetLabel(layers: readonly Layer[]): string {
  const a = layers.find((l) => l.kind === 'arp');
  if (a?.kind === 'arp') {
    const r = a.repr;
    return r.op === arp.OP_REQUEST ? `ARP who-has ${formatIpv4(r.targetIp)} tell ${formatIpv4(r.senderIp)}` : `ARP ${formatIpv4(r.senderIp)} is-at`;
  }
  const ip = layers.find((l) => l.kind === 'ipv4');
  if (ip?.kind !== 'ipv4') return 'non-IPv4 frame';
  const src = formatIpv4(ip.repr.src);
  const dst = formatIpv4(ip.repr.dst);
  const d = layers.find((l) => l.kind === 'dns');
  if (d?.kind === 'dns') return `${dnsLabel(d.repr)}  ${src} → ${dst}`;
  const t = layers.find((l) => l.kind === 'tcp');
  if (t?.kind === 'tcp') {
    const data = layers.find((l) => l.kind === 'payload');
    return `TCP [${tcpFlagNames(t.repr.flags)}]${data ? ` len ${data.length}` : ''} ${src}:${t.repr.srcPort} → ${dst}:${t.repr.dstPort}`;
  }
  const u = layers.find((l) => l.kind === 'udp');
  if (u?.kind === 'udp') return `UDP ${src}:${u.repr.srcPort} → ${dst}:${u.repr.dstPort} len ${u.repr.payloadLen}`;
  const c = layers.find((l) => l.kind === 'icmp');
  if (c?.kind === 'icmp') return `${icmpLabel(c.repr)} ${src} → ${dst}`;
  const frag = ip.repr.fragmentOffset !== 0 ? ' fragment' : '';
  return `IPv4${frag} proto ${ip.repr.protocol} ${src} → ${dst}`;
}

export function hopLabel(frame: Uint8Array): string {
  const layers = decodeFrame(frame, 0, frame.length, { verifyChecksums: false });
  const vx = layers.findIndex((l) => l.kind === 'vxlan');
  if (vx < 0) return packetLabel(layers);
  // The lanes already say between which nodes; the label names the packet inside.
  return `VXLAN: ${packetLabel(layers.slice(vx + 1))}`;
}
