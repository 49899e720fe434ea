/**
 * Declarative field tables for annotated dumps (`podwire explain`, golden-check messages): each
 * fixed-size header is declared once as a buffer-layout structure, and every field gets a label
 * and, where a bare number says little, a meaning ("DF 1 = don't fragment"). These tables are for
 * reading and teaching, not for the datapath: the codecs' hand-written accessors are what forwards
 * packets, because buffer-layout's Buffer.read*-based decoding costs several times more (the encode
 * benchmark prints both).
 */
import { struct, u8, u16be, u24be, u32be, u48be, bits, type BitStructure, type Layout, type Structure } from 'buffer-layout';
import { formatIpv4, formatMac } from './addr.js';

export type HeaderKind = 'ethernet' | 'ieee8021q' | 'arp' | 'ipv4' | 'icmp' | 'udp' | 'tcp' | 'vxlan' | 'dns';

export interface AnnotatedField {
  readonly header: HeaderKind;
  /** Property path, e.g. `flags.df`. */
  readonly name: string;
  readonly label: string;
  /** Absolute offset in the buffer of the first byte the field touches. */
  readonly byteOffset: number;
  /** Bytes the field spans (a 3-bit field spans one byte). */
  readonly byteLength: number;
  /** For a sub-byte or bit-packed field: its first bit counted from the MSB of its first byte. */
  readonly bitOffset: number;
  readonly bitWidth: number;
  /** The spanned bytes in hex. */
  readonly raw: string;
  readonly value: number;
  /** The value as a reader would say it: an address, a flag's meaning, a protocol's name. */
  readonly meaning: string;
}

interface FieldInfo {
  readonly label: string;
  readonly meaning?: (value: number) => string;
}

interface HeaderTable {
  readonly layout: Structure;
  readonly info: Readonly<Record<string, FieldInfo>>;
}

const flag = (set: string, clear = 'not set') => (v: number) => (v ? `1 = ${set}` : `0 = ${clear}`);
const named = (names: Readonly<Record<number, string>>) => (v: number) => names[v] ?? 'unknown';
const hexValue = (digits: number) => (v: number) => `0x${v.toString(16).padStart(digits, '0')}`;

function bitField(word: Layout, property: string, parts: ReadonlyArray<readonly [string, number]>): BitStructure {
  const b = bits(word, true, property);
  for (const [name, width] of parts) b.addField(width, name);
  return b;
}

const ETHERTYPES: Record<number, string> = { 0x0800: 'IPv4', 0x0806: 'ARP', 0x8100: '802.1Q VLAN tag', 0x86dd: 'IPv6' };
const IP_PROTOCOLS: Record<number, string> = { 1: 'ICMP', 4: 'IPv4 (IP-in-IP)', 6: 'TCP', 17: 'UDP', 47: 'GRE', 50: 'ESP' };

const TABLES: Readonly<Record<HeaderKind, HeaderTable>> = {
  ethernet: {
    layout: struct([u48be('dst'), u48be('src'), u16be('ethertype')]),
    info: {
      dst: { label: 'Destination MAC', meaning: (v) => (v === 0xffff_ffff_ffff ? 'broadcast' : formatMac(v)) },
      src: { label: 'Source MAC', meaning: formatMac },
      ethertype: { label: 'EtherType', meaning: named(ETHERTYPES) },
    },
  },
  ieee8021q: {
    layout: struct([bitField(u16be(), 'tci', [['pcp', 3], ['dei', 1], ['vid', 12]]), u16be('ethertype')]),
    info: {
      'tci.pcp': { label: 'Priority code point' },
      'tci.dei': { label: 'Drop eligible', meaning: flag('drop eligible') },
      'tci.vid': { label: 'VLAN ID' },
      ethertype: { label: 'EtherType', meaning: named(ETHERTYPES) },
    },
  },
  arp: {
    layout: struct([
      u16be('htype'), u16be('ptype'), u8('hlen'), u8('plen'), u16be('op'),
      u48be('sha'), u32be('spa'), u48be('tha'), u32be('tpa'),
    ]),
    info: {
      htype: { label: 'Hardware type', meaning: named({ 1: 'Ethernet' }) },
      ptype: { label: 'Protocol type', meaning: named(ETHERTYPES) },
      hlen: { label: 'Hardware address length' },
      plen: { label: 'Protocol address length' },
      op: { label: 'Operation', meaning: named({ 1: 'request', 2: 'reply' }) },
      sha: { label: 'Sender MAC', meaning: formatMac },
      spa: { label: 'Sender IP', meaning: formatIpv4 },
      tha: { label: 'Target MAC', meaning: formatMac },
      tpa: { label: 'Target IP', meaning: formatIpv4 },
    },
  },
  ipv4: {
    layout: struct([
      bitField(u8(), 'vihl', [['version', 4], ['ihl', 4]]),
      bitField(u8(), 'tos', [['dscp', 6], ['ecn', 2]]),
      u16be('totalLength'),
      u16be('id'),
      bitField(u16be(), 'frag', [['reserved', 1], ['df', 1], ['mf', 1], ['offset', 13]]),
      u8('ttl'),
      u8('protocol'),
      u16be('checksum'),
      u32be('src'),
      u32be('dst'),
    ]),
    info: {
      'vihl.version': { label: 'Version' },
      'vihl.ihl': { label: 'Header length', meaning: (v) => `${v * 4} bytes` },
      'tos.dscp': { label: 'DSCP', meaning: (v) => (v === 0x30 ? 'CS6 (network control)' : `${v}`) },
      'tos.ecn': { label: 'ECN', meaning: named({ 0: 'Not-ECT', 1: 'ECT(1)', 2: 'ECT(0)', 3: 'CE' }) },
      totalLength: { label: 'Total length', meaning: (v) => `${v} bytes` },
      id: { label: 'Identification', meaning: hexValue(4) },
      'frag.reserved': { label: 'Reserved flag', meaning: flag('evil bit set', 'not set') },
      'frag.df': { label: "Don't fragment", meaning: flag("don't fragment", 'may fragment') },
      'frag.mf': { label: 'More fragments', meaning: flag('more fragments follow', 'last fragment') },
      'frag.offset': { label: 'Fragment offset', meaning: (v) => `${v * 8} bytes` },
      ttl: { label: 'Time to live' },
      protocol: { label: 'Protocol', meaning: named(IP_PROTOCOLS) },
      checksum: { label: 'Header checksum', meaning: hexValue(4) },
      src: { label: 'Source address', meaning: formatIpv4 },
      dst: { label: 'Destination address', meaning: formatIpv4 },
    },
  },
  icmp: {
    layout: struct([u8('type'), u8('code'), u16be('checksum'), u32be('rest')]),
    info: {
      type: {
        label: 'Type',
        meaning: named({ 0: 'echo reply', 3: 'destination unreachable', 8: 'echo request', 11: 'time exceeded' }),
      },
      code: { label: 'Code' },
      checksum: { label: 'Checksum', meaning: hexValue(4) },
      rest: { label: 'Rest of header', meaning: hexValue(8) },
    },
  },
  udp: {
    layout: struct([u16be('srcPort'), u16be('dstPort'), u16be('length'), u16be('checksum')]),
    info: {
      srcPort: { label: 'Source port' },
      dstPort: { label: 'Destination port' },
      length: { label: 'Length', meaning: (v) => `${v} bytes (header + payload)` },
      checksum: { label: 'Checksum', meaning: (v) => (v === 0 ? 'none' : `0x${v.toString(16).padStart(4, '0')}`) },
    },
  },
  tcp: {
    layout: struct([
      u16be('srcPort'), u16be('dstPort'), u32be('seq'), u32be('ack'),
      bitField(u16be(), 'ctl', [
        ['dataOffset', 4], ['reserved', 3], ['ae', 1], ['cwr', 1], ['ece', 1],
        ['urg', 1], ['ack', 1], ['psh', 1], ['rst', 1], ['syn', 1], ['fin', 1],
      ]),
      u16be('window'), u16be('checksum'), u16be('urgentPointer'),
    ]),
    info: {
      srcPort: { label: 'Source port' },
      dstPort: { label: 'Destination port' },
      seq: { label: 'Sequence number' },
      ack: { label: 'Acknowledgment number' },
      'ctl.dataOffset': { label: 'Data offset', meaning: (v) => `${v * 4} bytes` },
      'ctl.reserved': { label: 'Reserved' },
      'ctl.ae': { label: 'AE (accurate ECN)', meaning: flag('set') },
      'ctl.cwr': { label: 'CWR', meaning: flag('congestion window reduced') },
      'ctl.ece': { label: 'ECE', meaning: flag('ECN echo') },
      'ctl.urg': { label: 'URG', meaning: flag('urgent pointer valid') },
      'ctl.ack': { label: 'ACK', meaning: flag('acknowledgment valid') },
      'ctl.psh': { label: 'PSH', meaning: flag('push') },
      'ctl.rst': { label: 'RST', meaning: flag('reset') },
      'ctl.syn': { label: 'SYN', meaning: flag('synchronize sequence numbers') },
      'ctl.fin': { label: 'FIN', meaning: flag('no more data from sender') },
      window: { label: 'Window' },
      checksum: { label: 'Checksum', meaning: hexValue(4) },
      urgentPointer: { label: 'Urgent pointer' },
    },
  },
  vxlan: {
    layout: struct([
      bitField(u8(), 'flags', [['r1', 4], ['i', 1], ['r2', 3]]),
      u24be('reserved1'),
      u24be('vni'),
      u8('reserved2'),
    ]),
    info: {
      'flags.r1': { label: 'Reserved flags' },
      'flags.i': { label: 'I flag', meaning: flag('VNI valid', 'VNI not valid') },
      'flags.r2': { label: 'Reserved flags' },
      reserved1: { label: 'Reserved' },
      vni: { label: 'VXLAN network identifier' },
      reserved2: { label: 'Reserved' },
    },
  },
  dns: {
    layout: struct([
      u16be('id'),
      bitField(u16be(), 'flags', [
        ['qr', 1], ['opcode', 4], ['aa', 1], ['tc', 1], ['rd', 1], ['ra', 1], ['z', 1], ['ad', 1], ['cd', 1], ['rcode', 4],
      ]),
      u16be('qdcount'), u16be('ancount'), u16be('nscount'), u16be('arcount'),
    ]),
    info: {
      id: { label: 'Transaction ID', meaning: hexValue(4) },
      'flags.qr': { label: 'QR', meaning: (v) => (v ? '1 = response' : '0 = query') },
      'flags.opcode': { label: 'Opcode', meaning: named({ 0: 'standard query', 1: 'inverse query', 2: 'status' }) },
      'flags.aa': { label: 'AA', meaning: flag('authoritative answer') },
      'flags.tc': { label: 'TC', meaning: flag('truncated') },
      'flags.rd': { label: 'RD', meaning: flag('recursion desired') },
      'flags.ra': { label: 'RA', meaning: flag('recursion available') },
      'flags.z': { label: 'Z', meaning: flag('reserved bit set') },
      'flags.ad': { label: 'AD', meaning: flag('authenticated data') },
      'flags.cd': { label: 'CD', meaning: flag('checking disabled') },
      'flags.rcode': {
        label: 'Response code',
        meaning: named({ 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' }),
      },
      qdcount: { label: 'Questions' },
      ancount: { label: 'Answer RRs' },
      nscount: { label: 'Authority RRs' },
      arcount: { label: 'Additional RRs' },
    },
  },
};

/** Bytes the fixed part of a header spans. */
export function fixedHeaderLen(kind: HeaderKind): number {
  return TABLES[kind].layout.span;
}

function hexOf(b: Uint8Array, start: number, len: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, len).toString('hex');
}

/**
 * Every field of the fixed part of a `kind` header at `off`, in wire order. Throws RangeError when
 * fewer bytes than the fixed header are present (callers annotate what the codecs already parsed).
 */
export function annotate(kind: HeaderKind, b: Uint8Array, off: number): AnnotatedField[] {
  const table = TABLES[kind];
  if (off < 0 || off + table.layout.span > b.length) {
    throw new RangeError(`${kind}: ${table.layout.span} bytes needed at byte ${off}, ${Math.max(0, b.length - off)} left`);
  }
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const decoded = table.layout.decode(buf, off);
  const out: AnnotatedField[] = [];
  let fieldOff = off;
  for (const field of table.layout.fields) {
    const prop = field.property!;
    if ('addField' in field) {
      const bs = field as BitStructure;
      const values = decoded[prop] as Record<string, number>;
      const wordBits = bs.span * 8;
      for (const bf of bs.fields) {
        const name = `${prop}.${bf.property!}`;
        const fromMsb = wordBits - bf.start - bf.bits;
        const firstByte = Math.floor(fromMsb / 8);
        const lastByte = Math.floor((fromMsb + bf.bits - 1) / 8);
        out.push(describe(kind, table, name, b, fieldOff + firstByte, lastByte - firstByte + 1, fromMsb % 8, bf.bits, values[bf.property!]!));
      }
    } else {
      out.push(describe(kind, table, prop, b, fieldOff, field.span, 0, field.span * 8, decoded[prop] as number));
    }
    fieldOff += field.span;
  }
  return out;
}

function describe(
  header: HeaderKind, table: HeaderTable, name: string, b: Uint8Array,
  byteOffset: number, byteLength: number, bitOffset: number, bitWidth: number, value: number,
): AnnotatedField {
  const info = table.info[name];
  return {
    header, name, label: info?.label ?? name, byteOffset, byteLength, bitOffset, bitWidth,
    raw: hexOf(b, byteOffset, byteLength), value,
    meaning: info?.meaning ? info.meaning(value) : String(value),
  };
}
