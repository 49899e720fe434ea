/**
 * The anatomy of one captured frame: its headers outermost first, each with the rows of its
 * fields (where in the frame, raw bytes, value, meaning), nested headers one level deeper (the
 * inner frame of a VXLAN tunnel, the datagram an ICMP error quotes). Pure: bytes in, layers out.
 *
 * The walk is packet/frame.ts's decodeFrame (the codecs, checksums not enforced so that a wrong
 * one is reported rather than fatal); this module turns its layers into rows with packet/fields.ts's
 * tables and adds what those tables leave out: options, checksum verdicts, ICMP's second word and
 * quote, DNS's questions and records, payloads. A header that does not parse becomes a malformed
 * layer — the fields that are there, and the codec's error — and the frame ends there; nothing
 * in a frame's bytes makes this throw.
 */
import { formatIpv4 } from '../packet/addr.js';
import * as arp from '../packet/arp.js';
import { u16 } from '../packet/bytes.js';
import { MalformedPacketError } from '../packet/errors.js';
import * as ethernet from '../packet/ethernet.js';
import type { HeaderKind } from '../packet/fields.js';
import { decodeFrame, decodeIpv4Packet, type DecodeOptions, type Layer as Decoded } from '../packet/frame.js';
import * as icmp from '../packet/icmp.js';
import * as ipv4 from '../packet/ipv4.js';
import * as udp from '../packet/udp.js';
import * as vxlan from '../packet/vxlan.js';
import { ipv4Checksum, tcpChecksum, udpChecksum, type Carrier } from './checksums.js';
import { dnsBodyRows } from './dns-rows.js';
import { icmpRows } from './icmp-rows.js';
import {
  LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW,
  SLL2_HEADER_LEN, SLL_HEADER_LEN, linkTypeName, sll2Rows, sllRows,
} from './link.js';
import type { ExplainedKind, ExplainedLayer, FieldRow } from './model.js';
import { ipv4OptionRows, tcpOptionRows } from './options.js';
import { dataRow, payloadRows } from './payload-rows.js';
import { amend, annotatePresent, hex16 } from './rows.js';

type Draft = Omit<ExplainedLayer, 'id'>;

const DECODE: DecodeOptions = { verifyChecksums: false };
const FIXED_KINDS: ReadonlySet<string> = new Set<HeaderKind>(['ethernet', 'arp', 'ipv4', 'icmp', 'udp', 'tcp', 'vxlan', 'dns']);
const ETHERTYPE_NAMES: Readonly<Record<number, string>> = { 0x86dd: 'IPv6', 0x88cc: 'LLDP', 0x8847: 'MPLS', 0x88a8: '802.1ad' };
const IP_PROTOCOL_NAMES: Readonly<Record<number, string>> = { 2: 'IGMP', 4: 'IP-in-IP', 41: 'IPv6', 47: 'GRE', 50: 'ESP', 89: 'OSPF', 132: 'SCTP' };

export function dissectFrame(frame: Uint8Array, linkType: number): ExplainedLayer[] {
  const out: Draft[] = [];
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      explainDecoded(frame, decodeFrame(frame, 0, frame.length, DECODE), 0, out);
      break;
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
      network(frame, 0x0800, 0, 0, out);
      break;
    case LINKTYPE_LINUX_SLL:
    case LINKTYPE_LINUX_SLL2: {
      const v2 = linkType === LINKTYPE_LINUX_SLL2;
      const len = v2 ? SLL2_HEADER_LEN : SLL_HEADER_LEN;
      const proto = v2 ? 'sll2' : 'sll';
      if (frame.length < len) {
        malformedLayer(frame, 0, frame.length, 0, new MalformedPacketError(proto, 'header', 0, `needs ${len} bytes, ${frame.length} left`), out);
        break;
      }
      const { rows, protocol } = v2 ? sll2Rows(frame) : sllRows(frame);
      out.push(layer(proto, `Linux cooked capture ${v2 ? 'v2' : 'v1'}`, 0, 0, len, rows));
      network(frame, protocol, len, 0, out);
      break;
    }
    default:
      out.push(layer('unsupported', `Unsupported link type ${linkType} (${linkTypeName(linkType)})`, 0, 0, frame.length,
        frame.length ? [dataRow(frame, 0, frame.length)] : [], [`unsupported link type ${linkType}: the frame is shown as bytes`]));
  }
  return withIds(out);
}

function layer(kind: ExplainedKind, name: string, depth: number, offset: number, length: number, fields: FieldRow[], problems: string[] = []): Draft {
  return { kind, name, depth, offset, length, fields, problems };
}

/** Numbers the layers of each kind: `ipv4:1` outermost, `ipv4:2` the next one in. */
function withIds(drafts: readonly Draft[]): ExplainedLayer[] {
  const seen = new Map<string, number>();
  return drafts.map((d) => {
    const n = (seen.get(d.kind) ?? 0) + 1;
    seen.set(d.kind, n);
    return { id: `${d.kind}:${n}`, ...d };
  });
}

/** What follows a cooked or raw-IP link header, by its EtherType. */
function network(b: Uint8Array, ethertype: number, off: number, depth: number, out: Draft[]): void {
  if (off >= b.length) return;
  if (ethertype === ethernet.ETHERTYPE_IPV4) {
    if (b[off]! >>> 4 === 4) explainDecoded(b, decodeIpv4Packet(b, off, b.length, DECODE), depth, out);
    else out.push(layer('data', `Data (IP version ${b[off]! >>> 4}, not decoded)`, depth, off, b.length - off, [dataRow(b, off, b.length - off)]));
  } else if (ethertype === ethernet.ETHERTYPE_ARP) {
    try {
      arp.parse(b, off);
      out.push(layer('arp', 'ARP', depth, off, arp.HEADER_LEN, annotatePresent('arp', b, off, b.length)));
      if (off + arp.HEADER_LEN < b.length) out.push(layer('padding', 'Padding', depth, off + arp.HEADER_LEN, b.length - off - arp.HEADER_LEN, [dataRow(b, off + arp.HEADER_LEN, b.length - off - arp.HEADER_LEN)]));
    } catch (e) {
      if (!(e instanceof MalformedPacketError)) throw e;
      malformedLayer(b, off, b.length, depth, e, out);
    }
  } else {
    out.push(unknownEthertype(b, ethertype, off, b.length - off, depth));
  }
}

function unknownEthertype(b: Uint8Array, ethertype: number, off: number, len: number, depth: number): Draft {
  const name = ETHERTYPE_NAMES[ethertype];
  return layer('data', `Data (EtherType ${hex16(ethertype)}${name ? ` ${name}` : ''}, not decoded)`, depth, off, len, [dataRow(b, off, len)]);
}

function malformedLayer(b: Uint8Array, off: number, end: number, depth: number, e: MalformedPacketError, out: Draft[]): void {
  const fields = FIXED_KINDS.has(e.protocol) ? annotatePresent(e.protocol as HeaderKind, b, off, end) : [];
  if (fields.length === 0 && end > off) fields.push(dataRow(b, off, end - off));
  out.push({
    kind: 'malformed',
    name: `Malformed ${e.protocol.toUpperCase()}`,
    depth,
    offset: off,
    length: end - off,
    fields,
    problems: [e.message],
    malformed: { protocol: e.protocol, field: e.field, offset: e.offset, ...(e.detail !== undefined && { detail: e.detail }) },
  });
}

function ipv4Layer(b: Uint8Array, off: number, r: ipv4.Ipv4Repr, depth: number, name: string): Draft {
  const hl = ipv4.reprHeaderLen(r);
  const fields = annotatePresent('ipv4', b, off, off + hl);
  const sum = ipv4Checksum(b, off, hl);
  amend(fields, 'checksum', sum.meaning);
  fields.push(...ipv4OptionRows(b, off + ipv4.HEADER_LEN, off + hl));
  const problems = sum.problem ? [sum.problem] : [];
  if (r.reservedFlag) problems.push('IPv4 reserved flag set (RFC 791: must be zero)');
  return layer('ipv4', name, depth, off, hl, fields, problems);
}

/**
 * The datagram an ICMP error quotes (RFC 792: its IPv4 header and at least the first 8 bytes of its
 * data; Linux quotes up to 576 bytes in all, icmp.ts linuxQuoteLen), one level deeper.
 */
function quote(b: Uint8Array, off: number, end: number, depth: number, out: Draft[]): void {
  let r: ipv4.Ipv4Repr;
  try {
    r = ipv4.parse(b, off, end, { verifyChecksum: false, allowTruncated: true });
  } catch (e) {
    if (!(e instanceof MalformedPacketError)) throw e;
    malformedLayer(b, off, end, depth, e, out);
    return;
  }
  out.push(ipv4Layer(b, off, r, depth, 'IPv4 (quoted)'));
  const l4 = off + ipv4.reprHeaderLen(r);
  const l4End = Math.min(end, l4 + r.payloadLen);
  if (l4 >= l4End) return;
  const kind = r.fragmentOffset !== 0 ? undefined : r.protocol === ipv4.PROTO_UDP ? 'udp' : r.protocol === ipv4.PROTO_TCP ? 'tcp' : r.protocol === ipv4.PROTO_ICMP ? 'icmp' : undefined;
  let next = l4;
  if (kind) {
    // Linux quotes up to 576 bytes: a short datagram is quoted whole, and its checksums can be checked.
    const whole = l4 + r.payloadLen <= end;
    const carrier: Carrier = { src: r.src, dst: r.dst, firstFragment: r.moreFragments };
    const fields = kind === 'icmp' ? icmpRows(b, l4, l4End, whole).fields : annotatePresent(kind, b, l4, l4End);
    if (kind === 'tcp' && l4 + 20 <= l4End) {
      const hl = (b[l4 + 12]! >>> 4) * 4;
      if (hl > 20 && l4 + hl <= l4End) fields.push(...tcpOptionRows(b, l4 + 20, l4 + hl));
    }
    const covered = fields.reduce((m, f) => Math.max(m, f.offset + f.length), l4);
    if (kind === 'udp' && covered - l4 >= 8) {
      amend(fields, 'checksum', whole ? udpChecksum(b, l4, carrier).meaning : `${hex16(u16(b, l4 + 6))} (not verified: the quote holds only part of the datagram)`);
    }
    if (kind === 'tcp' && covered - l4 >= 18) {
      amend(fields, 'checksum', whole ? tcpChecksum(b, l4, l4End, carrier).meaning : `${hex16(u16(b, l4 + 16))} (not verified: the quote holds only part of the segment)`);
    }
    const name = `${kind.toUpperCase()} (quoted, ${covered - l4} bytes)`;
    if (covered > l4) {
      out.push(layer(kind, name, depth, l4, covered - l4, fields));
      next = covered;
    }
  }
  if (next < l4End) out.push(layer('data', 'Quoted data', depth, next, l4End - next, [dataRow(b, next, l4End - next)]));
  if (l4End < end) out.push(layer('data', 'Quoted bytes past the quoted datagram', depth, l4End, end - l4End, [dataRow(b, l4End, end - l4End)]));
}

/** Turns packet/frame.ts's flat layer list into explained layers; `base` is the depth of its first. */
function explainDecoded(b: Uint8Array, decoded: readonly Decoded[], base: number, out: Draft[]): void {
  // The inner frames of VXLAN tunnels: a layer inside one is one level deeper.
  const tunnels: Array<{ readonly start: number; readonly end: number }> = [];
  let carrier: (Carrier & { readonly payloadEnd: number }) | undefined;
  let icmpError = false;
  let udpEnd = 0;
  let prev: Decoded | undefined;
  for (const l of decoded) {
    let depth = base;
    for (const t of tunnels) if (l.offset >= t.start && l.offset < t.end) depth++;
    const end = l.offset + l.length;
    switch (l.kind) {
      case 'ethernet':
        out.push(layer('ethernet', 'Ethernet II', depth, l.offset, ethernet.HEADER_LEN, annotatePresent('ethernet', b, l.offset, end)));
        if (l.repr.vlan) {
          const tag = l.offset + ethernet.HEADER_LEN;
          out.push(layer('ieee8021q', '802.1Q VLAN tag', depth, tag, ethernet.VLAN_TAG_LEN, annotatePresent('ieee8021q', b, tag, tag + ethernet.VLAN_TAG_LEN)));
        }
        break;
      case 'arp':
        out.push(layer('arp', `ARP ${l.repr.op === arp.OP_REQUEST ? 'request' : l.repr.op === arp.OP_REPLY ? 'reply' : `op ${l.repr.op}`}`, depth, l.offset, l.length, annotatePresent('arp', b, l.offset, end)));
        break;
      case 'ipv4': {
        const r = l.repr;
        out.push(ipv4Layer(b, l.offset, r, depth, `IPv4 ${formatIpv4(r.src)} → ${formatIpv4(r.dst)}`));
        carrier = { src: r.src, dst: r.dst, firstFragment: r.moreFragments && r.fragmentOffset === 0, payloadEnd: end + r.payloadLen };
        break;
      }
      case 'icmp': {
        const { fields, problems, name } = icmpRows(b, l.offset, carrier?.payloadEnd ?? end, true);
        out.push(layer('icmp', name, depth, l.offset, l.length, fields, problems));
        icmpError = icmp.isErrorType(l.repr.type);
        break;
      }
      case 'udp': {
        const fields = annotatePresent('udp', b, l.offset, end);
        const problems: string[] = [];
        if (carrier) {
          const v = udpChecksum(b, l.offset, carrier);
          amend(fields, 'checksum', v.meaning);
          if (v.problem) problems.push(v.problem);
        }
        udpEnd = l.offset + udp.HEADER_LEN + l.repr.payloadLen;
        out.push(layer('udp', `UDP ${l.repr.srcPort} → ${l.repr.dstPort}`, depth, l.offset, l.length, fields, problems));
        break;
      }
      case 'tcp': {
        const fields = annotatePresent('tcp', b, l.offset, end);
        const problems: string[] = [];
        if (carrier) {
          const v = tcpChecksum(b, l.offset, carrier.payloadEnd, carrier);
          amend(fields, 'checksum', v.meaning);
          if (v.problem) problems.push(v.problem);
        }
        fields.push(...tcpOptionRows(b, l.offset + 20, end));
        out.push(layer('tcp', `TCP ${l.repr.srcPort} → ${l.repr.dstPort}`, depth, l.offset, l.length, fields, problems));
        break;
      }
      case 'vxlan': {
        const fields = annotatePresent('vxlan', b, l.offset, end);
        const problems = l.repr.flags & vxlan.FLAG_VNI_VALID ? [] : ['VXLAN I flag clear: the VNI is not valid (RFC 7348 §5)'];
        out.push(layer('vxlan', `VXLAN VNI ${l.repr.vni}`, depth, l.offset, l.length, fields, problems));
        tunnels.push({ start: end, end: Math.max(end, udpEnd) });
        break;
      }
      case 'dns': {
        const m = l.repr;
        const fields = [...annotatePresent('dns', b, l.offset, end), ...dnsBodyRows(b, l.offset, m)];
        const what = m.flags.qr ? 'response' : 'query';
        out.push(layer('dns', `DNS ${what} ${hex16(m.id)}${m.questions[0] ? ` ${m.questions[0].name || '<root>'}` : ''}`, depth, l.offset, l.length, fields));
        break;
      }
      case 'payload':
        if (prev?.kind === 'ethernet') {
          out.push(unknownEthertype(b, prev.repr.ethertype, l.offset, l.length, depth));
        } else if (prev?.kind === 'ipv4') {
          const r = prev.repr;
          const name = r.fragmentOffset !== 0
            ? `Fragment data (bytes ${r.fragmentOffset}–${r.fragmentOffset + l.length - 1} of the datagram)`
            : `Data (IP protocol ${r.protocol}${IP_PROTOCOL_NAMES[r.protocol] ? ` ${IP_PROTOCOL_NAMES[r.protocol]}` : ''}, not decoded)`;
          out.push(layer('data', name, depth, l.offset, l.length, [dataRow(b, l.offset, l.length)]));
        } else if (prev?.kind === 'icmp' && icmpError) {
          quote(b, l.offset, end, depth + 1, out);
        } else if (prev?.kind === 'icmp') {
          out.push(layer('payload', `ICMP data, ${l.length} bytes`, depth, l.offset, l.length, [dataRow(b, l.offset, l.length)]));
        } else {
          const overTcp = prev?.kind === 'tcp';
          const partial = (prev?.kind === 'udp' || prev?.kind === 'tcp') && prev.inFirstFragment ? ' (first fragment)' : '';
          out.push(layer('payload', `Payload, ${l.length} bytes${partial}`, depth, l.offset, l.length, payloadRows(b, l.offset, l.length, overTcp)));
        }
        break;
      case 'padding':
        out.push(layer('padding', `Padding, ${l.length} bytes`, depth, l.offset, l.length, [dataRow(b, l.offset, l.length, 'Padding')]));
        break;
      case 'malformed':
        malformedLayer(b, l.offset, end, depth, l.error, out);
        break;
    }
    prev = l;
  }
}

