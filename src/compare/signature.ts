/**
 * Packet signatures: every packet of one capture file as one normalized line, the form in which
 * fixtures/kernel/<scenario>/signatures.txt lists the kernel's captures (README, "Signatures").
 * Two captures of the same journey give the same lines when the packets agree in everything but
 * what legitimately differs from run to run — times, MAC and IP ID values, ephemeral ports, TCP
 * initial sequence numbers, window and timestamp values, checksums. Those become labels that
 * count from 1 in order of first appearance in the file (M1 for the first MAC, P1 for the first
 * ephemeral port, C1 / D1 for the first ICMP echo / DNS id), relative sequence numbers, or a
 * class (`id=0`, `id=same`, `id=*`).
 *
 * The references were normalized from tshark 4.0's dissection (TCP reassembly and IP
 * defragmentation off, VXLAN on UDP 8472); where tshark's view decides what a line shows — the
 * relative TCP numbers, an ICMP echo's timestamp, which TCP segments are HTTP — the rules below
 * follow tshark, and each says so. Everything is per file: a capture point's lines do not depend
 * on any other capture point.
 */
import {
  BROADCAST_MAC,
  MalformedPacketError,
  ZERO_MAC,
  arp,
  decodeFrame,
  dns,
  formatIpv4,
  formatMac,
  icmp,
  ipv4,
  tcp,
  u32,
  udp,
  type Layer,
} from '../packet/index.js';

/** What a signature needs of a captured packet (a pcap reader's CapturePacket has all of it). */
export interface SignaturePacket {
  readonly data: Uint8Array;
  /** The length on the wire (tcpdump -s 0 captures all of it). */
  readonly originalLen: number;
  /** Seconds of the capture timestamp: tshark's ICMP echo timestamp heuristic compares with it. */
  readonly timestampSec: number;
}

/**
 * Ports kept as numbers; every other port becomes a first-seen label (P1, P2 …) because its value
 * is an ephemeral choice (README, "Signatures").
 */
export const WELL_KNOWN_PORTS: ReadonlySet<number> = new Set([
  22, 53, 80, 443, 2379, 4789, 6443, 8080, 8285, 8472, 9000, 10250,
]);

/** tshark 4.0's default `http.tcp.port` range: TCP payload on these ports is dissected as HTTP. */
export const HTTP_PORTS: ReadonlySet<number> = new Set([80, 1900, 2710, 2869, 3128, 3132, 5985, 8080, 8088, 11371]);

/** UDP ports decoded as VXLAN (the references: tshark -d udp.port==8472,vxlan, plus IANA's 4789). */
const VXLAN_PORTS: readonly number[] = [4789, 8472];

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'PATCH', 'TRACE'];
const HTTP_REQUEST_LINE = new RegExp(`^(${HTTP_METHODS.join('|')}) (\\S+) HTTP/\\d\\.\\d$`);
const HTTP_STATUS_LINE = /^HTTP\/\d\.\d (\d{3})(?: |$)/;

/** ICMP types whose body quotes the offending datagram (RFC 792). */
const ICMP_ERROR_TYPES: ReadonlySet<number> = new Set([
  icmp.TYPE_DEST_UNREACHABLE,
  icmp.TYPE_SOURCE_QUENCH,
  icmp.TYPE_REDIRECT,
  icmp.TYPE_TIME_EXCEEDED,
  icmp.TYPE_PARAMETER_PROBLEM,
]);

/** TCP flag letters in the order the references write them ([S], [SA], [AP], [AF]). */
const TCP_FLAG_LETTERS: ReadonlyArray<readonly [number, string]> = [
  [tcp.SYN, 'S'],
  [tcp.ACK, 'A'],
  [tcp.PSH, 'P'],
  [tcp.FIN, 'F'],
  [tcp.RST, 'R'],
  [tcp.URG, 'U'],
  [tcp.ECE, 'E'],
  [tcp.CWR, 'C'],
  [tcp.AE, 'N'],
];

const SECONDS_PER_DAY = 86_400;
const ECHO_TIMESTAMP_LEN = 8;

/** First-seen labels: the first value asked for is `<prefix>1`, the next new one `<prefix>2` … */
class Labels<K> {
  private readonly seen = new Map<K, string>();
  constructor(private readonly prefix: string) {}
  of(key: K): string {
    let label = this.seen.get(key);
    if (label === undefined) {
      label = `${this.prefix}${this.seen.size + 1}`;
      this.seen.set(key, label);
    }
    return label;
  }
}

/**
 * One TCP conversation as tshark tracks it (both directions of an address and port pair): the base
 * each direction's relative numbers count from, and whether an HTTP request went by.
 */
interface TcpConversation {
  readonly base: Map<string, number>;
  requestSeen: boolean;
  closing: boolean;
}

/**
 * Signs the packets of one capture file in order, keeping the per-file state the labels, the
 * relative TCP numbers and `id=same` need. Use one per file: `signatures(packets)` does.
 */
export class Signer {
  private readonly macs = new Labels<number>('M');
  private readonly ports = new Labels<number>('P');
  private readonly echoIds = new Labels<number>('C');
  private readonly dnsIds = new Labels<number>('D');
  /** IPv4 datagrams seen so far (outer, inner and quoted headers), by the fields that identify one. */
  private readonly ipIds = new Set<string>();
  private readonly conversations = new Map<string, TcpConversation>();

  sign(p: SignaturePacket): string {
    const layers = decodeFrame(p.data, 0, p.data.length, { vxlanPorts: VXLAN_PORTS, verifyChecksums: false });
    const parts = [`[${p.originalLen}]`];
    this.describe(p, layers, parts);
    return parts.join(' / ');
  }

  private describe(p: SignaturePacket, layers: readonly Layer[], parts: string[]): void {
    // The innermost IPv4 header so far: its addresses key the conversation of the TCP segment after it.
    let ip: ipv4.Ipv4Repr | undefined;
    let icmpLayer: Extract<Layer, { kind: 'icmp' }> | undefined;
    // A TCP segment's payload is described with the segment (it needs the conversation).
    let tcpPayload = false;
    for (const l of layers) {
      switch (l.kind) {
        case 'ethernet':
          parts.push(`eth ${this.mac(l.repr.src)}>${this.mac(l.repr.dst)} 0x${hex(l.repr.ethertype, 4)}`);
          icmpLayer = undefined;
          break;
        case 'arp':
          parts.push(this.arp(l.repr));
          break;
        case 'ipv4':
          ip = l.repr;
          parts.push(this.ipv4(l.repr));
          break;
        case 'icmp':
          icmpLayer = l;
          parts.push(this.icmp(l.repr));
          break;
        case 'udp':
          parts.push(this.udp(l.repr));
          break;
        case 'tcp':
          parts.push(...this.tcp(l.repr, ip, p.data, l.offset + l.length));
          tcpPayload = true;
          break;
        case 'vxlan':
          // tshark's vxlan.flags is 16 bits: the flags byte and the first reserved byte (GBP).
          parts.push(`vxlan flags0x${hex((l.repr.flags << 8) | (l.repr.reserved1 >>> 16), 4)} vni${l.repr.vni}`);
          break;
        case 'dns':
          parts.push(this.dns(l.repr));
          break;
        case 'payload':
          if (tcpPayload) break;
          if (icmpLayer) parts.push(...this.icmpBody(icmpLayer.repr, p, l.offset, l.offset + l.length));
          else parts.push(`data${l.length}`);
          break;
        case 'padding':
          break; // counted in the frame length only, as tshark shows it inside Ethernet
        case 'malformed':
          parts.push(malformedText(l.error));
          break;
      }
    }
  }

  /** Broadcast and the all-zero MAC (an ARP request's unknown target) stay as they are. */
  private mac(m: number): string {
    return m === BROADCAST_MAC || m === ZERO_MAC ? formatMac(m) : this.macs.of(m);
  }

  private port(n: number): string {
    return WELL_KNOWN_PORTS.has(n) ? String(n) : this.ports.of(n);
  }

  private arp(r: arp.ArpRepr): string {
    const op = r.op === arp.OP_REQUEST ? 'req' : r.op === arp.OP_REPLY ? 'reply' : `op${r.op}`;
    const sender = `${formatIpv4(r.senderIp)}(${this.mac(r.senderMac)})`;
    const target = `${formatIpv4(r.targetIp)}(${this.mac(r.targetMac)})`;
    return `arp ${op} ${sender}>${target}`;
  }

  private ipv4(r: ipv4.Ipv4Repr): string {
    const total = r.payloadLen + ipv4.HEADER_LEN + r.options.length;
    let text = `ip ${formatIpv4(r.src)}>${formatIpv4(r.dst)} p${r.protocol} ttl${r.ttl} len${total} id=${this.ipId(r)}`;
    if (r.dontFragment) text += ' DF';
    if (r.moreFragments) text += ' MF';
    if (r.fragmentOffset !== 0) text += ` off${r.fragmentOffset}`;
    if (r.tos !== 0) text += ` tos0x${hex(r.tos, 2)}`;
    if (r.options.length !== 0) text += ` opts${r.options.length}`;
    return text;
  }

  /**
   * `0` for ID 0 (what Linux sends on a DF datagram without a socket counter, e.g. a SYN-ACK from
   * the request socket), `same` when an earlier header in the file had this ID with the same
   * source, destination and protocol (RFC 791's datagram identity: a fragment of it, a copy the
   * bridge passed on, the header an ICMP error quotes), `*` otherwise: any other value is a
   * counter's or a hash's choice.
   */
  private ipId(r: ipv4.Ipv4Repr): string {
    const key = `${r.src}|${r.dst}|${r.protocol}|${r.id}`;
    const seen = this.ipIds.has(key);
    this.ipIds.add(key);
    if (r.id === 0) return '0';
    return seen ? 'same' : '*';
  }

  private icmp(r: icmp.IcmpRepr): string {
    let text = `icmp ${r.type}/${r.code}`;
    if (icmp.isEcho(r.type)) {
      text += ` id=${this.echoIds.of(r.rest >>> 16)} seq${r.rest & 0xffff}`;
    } else if (r.type === icmp.TYPE_DEST_UNREACHABLE && r.code === icmp.FRAGMENTATION_NEEDED) {
      text += ` mtu${r.rest & 0xffff}`; // RFC 1191 §4: the next-hop MTU in the low 16 bits
    }
    return text;
  }

  /** What follows an ICMP header: echo data, or the quoted datagram of an error. */
  private icmpBody(r: icmp.IcmpRepr, p: SignaturePacket, off: number, end: number): string[] {
    if (ICMP_ERROR_TYPES.has(r.type)) return this.quote(p.data, off, end);
    if (icmp.isEcho(r.type)) return echoData(p, off, end);
    return [`data${end - off}`];
  }

  /**
   * The datagram an ICMP error quotes (RFC 792): its IPv4 header and as much of the transport
   * header as is there. A quoted TCP header has no place in its conversation, so no seq/ack/len.
   */
  private quote(b: Uint8Array, off: number, end: number): string[] {
    let r: ipv4.Ipv4Repr;
    try {
      r = ipv4.parse(b, off, end, { verifyChecksum: false, allowTruncated: true });
    } catch (e) {
      if (e instanceof MalformedPacketError) return [malformedText(e)];
      throw e;
    }
    const out = [this.ipv4(r)];
    const l4 = off + ipv4.HEADER_LEN + r.options.length;
    if (r.fragmentOffset !== 0 || l4 >= end) return out;
    if (r.protocol === ipv4.PROTO_TCP) {
      out.push(this.quotedTcp(b, l4, end));
    } else if (r.protocol === ipv4.PROTO_UDP && end - l4 >= udp.HEADER_LEN) {
      out.push(`udp ${this.port(udp.srcPort(b, l4))}>${this.port(udp.dstPort(b, l4))} len${udp.length(b, l4)}`);
    } else if (r.protocol === ipv4.PROTO_ICMP && end - l4 >= icmp.HEADER_LEN) {
      out.push(this.icmp(icmp.parse(b, l4, end, { verifyChecksum: false })));
    }
    return out;
  }

  private quotedTcp(b: Uint8Array, off: number, end: number): string {
    try {
      const r = tcp.parse(b, off, end);
      return `tcp ${this.port(r.srcPort)}>${this.port(r.dstPort)} [${tcpFlags(r.flags)}] ${tcpOptions(r)}`;
    } catch (e) {
      if (!(e instanceof MalformedPacketError)) throw e;
      // RFC 792 promises only 8 bytes: the ports and the sequence number.
      if (end - off < 4) return malformedText(e);
      return `tcp ${this.port(tcp.srcPort(b, off))}>${this.port(tcp.dstPort(b, off))} truncated`;
    }
  }

  private udp(r: udp.UdpRepr): string {
    return `udp ${this.port(r.srcPort)}>${this.port(r.dstPort)} len${r.payloadLen + udp.HEADER_LEN}`;
  }

  private tcp(r: tcp.TcpRepr, ip: ipv4.Ipv4Repr | undefined, b: Uint8Array, payloadOff: number): string[] {
    const src = `${ip?.src ?? 0}:${r.srcPort}`;
    const dst = `${ip?.dst ?? 0}:${r.dstPort}`;
    const conv = this.conversation(src, dst, r);
    const syn = (r.flags & tcp.SYN) !== 0;
    const hasAck = (r.flags & tcp.ACK) !== 0;
    // tshark's relative numbers: a direction's base is its SYN's sequence number, or one less
    // than the first sequence number seen from it, or one less than the first ACK the other side
    // sends for it — whichever comes first.
    if (!conv.base.has(src)) conv.base.set(src, syn ? r.seq : r.seq - 1);
    if (hasAck && !conv.base.has(dst)) conv.base.set(dst, r.ack - 1);
    if ((r.flags & (tcp.FIN | tcp.RST)) !== 0) conv.closing = true;
    const seq = (r.seq - conv.base.get(src)!) >>> 0;
    const ack = hasAck ? String((r.ack - conv.base.get(dst)!) >>> 0) : '-';
    const out = [
      `tcp ${this.port(r.srcPort)}>${this.port(r.dstPort)} [${tcpFlags(r.flags)}] seq${seq} ack${ack} len${r.payloadLen} ${tcpOptions(r)}`,
    ];
    if (r.payloadLen > 0) out.push(...this.tcpPayload(r, conv, b, payloadOff));
    return out;
  }

  /**
   * The conversation of a segment; a SYN with a new sequence number after a FIN or RST starts a
   * new one on the same ports (port reuse), as tshark starts a new stream.
   */
  private conversation(src: string, dst: string, r: tcp.TcpRepr): TcpConversation {
    const key = src < dst ? `${src}-${dst}` : `${dst}-${src}`;
    let conv = this.conversations.get(key);
    const isNewSyn = (r.flags & (tcp.SYN | tcp.ACK)) === tcp.SYN;
    if (!conv || (isNewSyn && conv.closing && conv.base.get(src) !== r.seq)) {
      conv = { base: new Map(), requestSeen: false, closing: false };
      this.conversations.set(key, conv);
    }
    return conv;
  }

  /**
   * TCP payload: HTTP on tshark's HTTP ports — the request line or the status code; a segment
   * that starts neither is a continuation, which tshark dissects as HTTP (a body: `http cont` and
   * its bytes) only in a conversation where it saw a request, and leaves bare otherwise (a
   * response whose request went by on another address pair, as after DNAT on cni0).
   */
  private tcpPayload(r: tcp.TcpRepr, conv: TcpConversation, b: Uint8Array, off: number): string[] {
    if (!HTTP_PORTS.has(r.srcPort) && !HTTP_PORTS.has(r.dstPort)) return [`data${r.payloadLen}`];
    const line = firstLine(b, off, off + r.payloadLen);
    const request = HTTP_REQUEST_LINE.exec(line);
    if (request) {
      conv.requestSeen = true;
      return [`http ${request[1]} ${request[2]}`];
    }
    const status = HTTP_STATUS_LINE.exec(line);
    if (status) return [`http ${status[1]}`];
    return conv.requestSeen ? ['http cont', `data${r.payloadLen}`] : [];
  }

  private dns(m: dns.DnsMessage): string {
    const kind = m.flags.qr ? `R ${dns.rcodeName(m.flags.rcode)}` : 'Q';
    const parts = [`dns id=${this.dnsIds.of(m.id)} ${kind}`];
    for (const q of m.questions) parts.push(`${dns.typeName(q.type)}?${dnsName(q.name)}`);
    parts.push(`an/ns/ar=${m.answers.length}/${m.authorities.length}/${m.additionals.length}`);
    let text = parts.join(' ');
    if (m.answers.length > 0) text += ` -> ${m.answers.map(dnsRecord).join(', ')}`;
    return text;
  }
}

/** The signature of every packet of one capture file, in order (no line numbers). */
export function signatures(packets: Iterable<SignaturePacket>): string[] {
  const signer = new Signer();
  const out: string[] = [];
  for (const p of packets) out.push(signer.sign(p));
  return out;
}

/** Numbered as in signatures.txt: the 1-based index right-aligned in four columns. */
export function numberLines(lines: readonly string[]): string[] {
  return lines.map((l, i) => `${String(i + 1).padStart(4)} ${l}`);
}

export interface SignatureFile {
  /** The capture file's name, e.g. `kr-n1-cni0.pcap`. */
  readonly name: string;
  readonly lines: readonly string[];
}

/** A whole signatures.txt: the header comment, then one section per file in the order given. */
export function formatSignaturesText(scenario: string, files: readonly SignatureFile[]): string {
  const header = `# normalised packet signatures (see ../README.md, "Signatures") — scenario '${scenario}'\n`;
  const sections = files.map(
    (f) => `## ${f.name} (${f.lines.length} packets)\n${numberLines(f.lines).map((l) => `${l}\n`).join('')}`,
  );
  return `${header}\n${sections.join('\n')}`;
}

/**
 * ping (iputils) starts its data with the send time, a struct timeval; tshark shows the first 8
 * bytes as a timestamp when they read as one within a day of the frame's time (big-endian seconds
 * and microseconds, else little-endian), and the rest as data (packet-icmp.c, dissect_icmp).
 */
function echoData(p: SignaturePacket, off: number, end: number): string[] {
  const len = end - off;
  if (len < ECHO_TIMESTAMP_LEN) return len > 0 ? [`data${len}`] : [];
  const looksLikeTime = (sec: number, usec: number): boolean =>
    Math.abs(sec - p.timestampSec) < SECONDS_PER_DAY && usec < 1_000_000;
  const b = p.data;
  const isTimestamp =
    looksLikeTime(u32(b, off), u32(b, off + 4)) || looksLikeTime(u32le(b, off), u32le(b, off + 4));
  const rest = isTimestamp ? len - ECHO_TIMESTAMP_LEN : len;
  return rest > 0 ? [`data${rest}`] : [];
}

function u32le(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

function tcpFlags(flags: number): string {
  let s = '';
  for (const [bit, letter] of TCP_FLAG_LETTERS) if ((flags & bit) !== 0) s += letter;
  return s;
}

const TCP_OPTION_KIND: Readonly<Record<Exclude<tcp.TcpOption['kind'], 'unknown'>, number>> = {
  eol: tcp.TCPOPT_EOL,
  nop: tcp.TCPOPT_NOP,
  mss: tcp.TCPOPT_MSS,
  'window-scale': tcp.TCPOPT_WINDOW,
  'sack-permitted': tcp.TCPOPT_SACK_PERM,
  sack: tcp.TCPOPT_SACK,
  timestamps: tcp.TCPOPT_TIMESTAMP,
};

/** Option kinds in wire order (`opt2,4,8,1,3`, `opt-` for none) and the MSS value if one is sent. */
function tcpOptions(r: tcp.TcpRepr): string {
  const kinds = r.options.map((o) => (o.kind === 'unknown' ? o.type : TCP_OPTION_KIND[o.kind]));
  let text = `opt${kinds.length > 0 ? kinds.join(',') : '-'}`;
  const mss = r.options.find((o) => o.kind === 'mss');
  if (mss) text += ` mss${mss.value}`;
  return text;
}

/** The first line of a TCP payload (up to CR LF or LF), as latin1 text. */
function firstLine(b: Uint8Array, off: number, end: number): string {
  let s = '';
  for (let i = off; i < end && i < off + 2048; i++) {
    const c = b[i]!;
    if (c === 0x0a) break;
    if (c === 0x0d && b[i + 1] === 0x0a) break;
    s += String.fromCharCode(c);
  }
  return s;
}

function dnsName(name: string): string {
  return name === '' ? '.' : name;
}

function dnsRecord(r: dns.DnsRecord): string {
  return `${dnsName(r.name)} ${dns.typeName(r.type)} ttl${r.ttl} ${dnsData(r.data)}`.trimEnd();
}

function dnsData(d: dns.RData): string {
  switch (d.kind) {
    case 'a':
      return formatIpv4(d.address);
    case 'aaaa':
      return dns.formatIpv6(d.address);
    case 'ns':
    case 'cname':
    case 'ptr':
      return dnsName(d.target);
    case 'mx':
      return `${d.preference} ${dnsName(d.exchange)}`;
    case 'soa':
      return `${dnsName(d.mname)} ${dnsName(d.rname)}`;
    case 'srv':
      return `${d.priority} ${d.weight} ${d.port} ${dnsName(d.target)}`;
    case 'txt':
      return d.strings.map((s) => JSON.stringify(s)).join(' ');
    case 'opt':
      return '';
    case 'unknown':
      return `raw${d.raw.length}`;
  }
}

function malformedText(e: MalformedPacketError): string {
  return `malformed ${e.protocol} ${e.field}`;
}

function hex(n: number, digits: number): string {
  return n.toString(16).padStart(digits, '0');
}
