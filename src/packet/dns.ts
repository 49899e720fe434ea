/**
 * DNS messages (RFC 1035 §4): a 12-byte header, then questions and three sections of resource
 * records (answer, authority, additional), with name compression (RFC 1035 §4.1.4). Typed RDATA
 * for A, NS, CNAME, SOA, PTR, MX, TXT (RFC 1035 §3.3), AAAA (RFC 3596), SRV (RFC 2782) and the
 * EDNS OPT pseudo-record (RFC 6891); every other type is kept raw (RFC 3597).
 *
 * Unlike the fixed headers, a DNS message is variable in every part, so its Repr is a tree
 * (DnsMessage) and emit allocates a little (a name-compression map per message): DNS is not on the
 * forwarding hot path. What the datapath needs (the ID, the QR bit, the counts) has
 * allocation-free accessors.
 *
 * Names are in presentation form (RFC 1035 §5.1) without the trailing dot: `my-svc.default.svc.
 * cluster.local`, the root is `''`. Case is kept as on the wire (RFC 4343: DNS compares names
 * case-insensitively, but it must preserve case). A label byte that is not printable ASCII, or is
 * a space, is written `\DDD` (three decimal digits); a dot or backslash inside a label is written
 * `\.` or `\\` — so any wire name, and only that one, corresponds to each string parse returns,
 * and parse(emit(m)) is m. emit also accepts a trailing dot and `.` for the root.
 *
 * Byte-exactness: all 16 header flag bits are kept (DnsFlags decodes each of them, Z included);
 * OPT keeps its class (the UDP payload size) and TTL (extended RCODE, version, DO, Z) as the
 * record's raw `class` and `ttl`; TXT strings are byte strings, one char per byte (latin1: the
 * wire has no charset). Re-emitting a parsed message reproduces the original bytes whenever the
 * sender compressed as emit does (see emit); otherwise it reproduces the same decoded message.
 */
import type { Ipv4Addr } from './addr.js';
import { setU16, setU32, u16, u32, u8 } from './bytes.js';
import { malformed, need } from './errors.js';

export const HEADER_LEN = 12;
/** The port a DNS server listens on, UDP and TCP (RFC 1035 §4.2). */
export const PORT = 53;
/** RFC 1035 §4.2.1: a UDP message without EDNS carries at most 512 bytes. */
export const UDP_MAX_LEN = 512;
/** RFC 1035 §2.3.4: a label is at most 63 bytes, a name at most 255 bytes on the wire. */
export const MAX_LABEL_LEN = 63;
export const MAX_NAME_LEN = 255;
/** A compression pointer has 14 bits of offset (RFC 1035 §4.1.4). */
const MAX_POINTER_OFFSET = 0x3fff;

const OFF = { ID: 0, FLAGS: 2, QDCOUNT: 4, ANCOUNT: 6, NSCOUNT: 8, ARCOUNT: 10 } as const;

export const TYPE_A = 1;
export const TYPE_NS = 2;
export const TYPE_CNAME = 5;
export const TYPE_SOA = 6;
export const TYPE_PTR = 12;
export const TYPE_MX = 15;
export const TYPE_TXT = 16;
export const TYPE_AAAA = 28;
export const TYPE_SRV = 33;
export const TYPE_OPT = 41;
export const TYPE_ANY = 255;

export const CLASS_IN = 1;
export const CLASS_ANY = 255;

export const OPCODE_QUERY = 0;

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;

/** EDNS option codes (IANA "DNS EDNS0 Option Codes"): COOKIE is RFC 7873, padding RFC 7830. */
export const EDNS_OPTION_COOKIE = 10;
export const EDNS_OPTION_PADDING = 12;
/** The DO bit ("DNSSEC OK", RFC 3225) in the OPT record's TTL field (RFC 6891 §6.1.4). */
export const EDNS_DO = 0x8000;

// Header flag bits (RFC 1035 §4.1.1; AD and CD from RFC 4035 §3.2, the registry in RFC 6895 §2).
const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const RA = 0x0080;
const Z = 0x0040;
const AD = 0x0020;
const CD = 0x0010;

/** The header's second word, every bit decoded, so that encodeFlags(decodeFlags(w)) === w. */
export interface DnsFlags {
  /** Response (true) or query. */
  readonly qr: boolean;
  /** 4 bits; 0 is a standard query. */
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  /** The one bit still reserved; senders set it to 0 (RFC 1035 §4.1.1). */
  readonly z: boolean;
  readonly ad: boolean;
  readonly cd: boolean;
  /** The low 4 bits of the RCODE; EDNS adds 8 high bits in the OPT record (see fullRcode). */
  readonly rcode: number;
}

export interface DnsQuestion {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export interface AData {
  readonly kind: 'a';
  readonly address: Ipv4Addr;
}
export interface AaaaData {
  readonly kind: 'aaaa';
  /** 16 bytes, network order; formatIpv6 / parseIpv6 convert the text form. */
  readonly address: Uint8Array;
}
/** NS, CNAME and PTR: a single domain name. */
export interface NameData {
  readonly kind: 'ns' | 'cname' | 'ptr';
  readonly target: string;
}
export interface MxData {
  readonly kind: 'mx';
  readonly preference: number;
  readonly exchange: string;
}
export interface SoaData {
  readonly kind: 'soa';
  readonly mname: string;
  /** The mailbox as a name: `hostmaster.cluster.local` for hostmaster@cluster.local. */
  readonly rname: string;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
}
export interface SrvData {
  readonly kind: 'srv';
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
}
export interface TxtData {
  readonly kind: 'txt';
  /** Byte strings (one char per byte, 0–255), each at most 255 bytes. */
  readonly strings: readonly string[];
}
export interface EdnsOption {
  readonly code: number;
  readonly data: Uint8Array;
}
/** RFC 6891 §6.1.2: the OPT RDATA is a list of {code, length, data} options. */
export interface OptData {
  readonly kind: 'opt';
  readonly options: readonly EdnsOption[];
}
/** Any other type, or a class-specific type outside class IN (RFC 3597 §2: opaque RDATA). */
export interface UnknownData {
  readonly kind: 'unknown';
  readonly raw: Uint8Array;
}

export type RData = AData | AaaaData | NameData | MxData | SoaData | SrvData | TxtData | OptData | UnknownData;
export type RDataKind = RData['kind'];

export interface DnsRecord {
  readonly name: string;
  readonly type: number;
  /** For OPT, the requestor's UDP payload size (RFC 6891 §6.1.2). */
  readonly class: number;
  /** Unsigned 32 bits. For OPT, extended RCODE << 24 | version << 16 | DO | Z (RFC 6891 §6.1.3). */
  readonly ttl: number;
  /** Its kind must be rdataKind(type, class): parse gives exactly that, emit checks it. */
  readonly data: RData;
}

export interface DnsMessage {
  readonly id: number;
  readonly flags: DnsFlags;
  readonly questions: readonly DnsQuestion[];
  readonly answers: readonly DnsRecord[];
  readonly authorities: readonly DnsRecord[];
  readonly additionals: readonly DnsRecord[];
}

export interface DnsEmitOptions {
  /** Default true: compress names as described at emit. */
  readonly compress?: boolean;
}

/** What the OPT pseudo-record of a message says (RFC 6891 §6.1), for reading and building it. */
export interface Edns {
  readonly udpPayloadSize: number;
  /** The high 8 bits of the 12-bit RCODE. */
  readonly extendedRcode: number;
  readonly version: number;
  readonly dnssecOk: boolean;
  /** The 15 other flag bits, reserved (zero when sent, RFC 6891 §6.1.4). */
  readonly z: number;
  readonly options: readonly EdnsOption[];
}

// ---------------------------------------------------------------------------------------------
// Accessors: allocation-free reads of the header, for a resolver matching replies or a datapath
// that only needs to know what kind of message goes by. They do not bounds-check.

export const id = (b: Uint8Array, off: number): number => u16(b, off + OFF.ID);
export const setId = (b: Uint8Array, off: number, v: number): void => setU16(b, off + OFF.ID, v);
/** The header's second word, all flags and the 4-bit RCODE. */
export const rawFlags = (b: Uint8Array, off: number): number => u16(b, off + OFF.FLAGS);
export const isResponse = (b: Uint8Array, off: number): boolean => (rawFlags(b, off) & QR) !== 0;
export const isTruncated = (b: Uint8Array, off: number): boolean => (rawFlags(b, off) & TC) !== 0;
export const opcode = (b: Uint8Array, off: number): number => (rawFlags(b, off) >>> 11) & 0xf;
export const rcode = (b: Uint8Array, off: number): number => rawFlags(b, off) & 0xf;
export const questionCount = (b: Uint8Array, off: number): number => u16(b, off + OFF.QDCOUNT);
export const answerCount = (b: Uint8Array, off: number): number => u16(b, off + OFF.ANCOUNT);
export const authorityCount = (b: Uint8Array, off: number): number => u16(b, off + OFF.NSCOUNT);
export const additionalCount = (b: Uint8Array, off: number): number => u16(b, off + OFF.ARCOUNT);

// ---------------------------------------------------------------------------------------------
// Flags, names of codes, EDNS.

export function decodeFlags(w: number): DnsFlags {
  return {
    qr: (w & QR) !== 0,
    opcode: (w >>> 11) & 0xf,
    aa: (w & AA) !== 0,
    tc: (w & TC) !== 0,
    rd: (w & RD) !== 0,
    ra: (w & RA) !== 0,
    z: (w & Z) !== 0,
    ad: (w & AD) !== 0,
    cd: (w & CD) !== 0,
    rcode: w & 0xf,
  };
}

export function encodeFlags(f: DnsFlags): number {
  return (
    (f.qr ? QR : 0) |
    ((f.opcode & 0xf) << 11) |
    (f.aa ? AA : 0) |
    (f.tc ? TC : 0) |
    (f.rd ? RD : 0) |
    (f.ra ? RA : 0) |
    (f.z ? Z : 0) |
    (f.ad ? AD : 0) |
    (f.cd ? CD : 0) |
    (f.rcode & 0xf)
  );
}

/** All bits clear (a standard query without RD) except those given. */
export function makeFlags(given: Partial<DnsFlags> = {}): DnsFlags {
  return { ...decodeFlags(0), ...given };
}

const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [TYPE_A, 'A'], [TYPE_NS, 'NS'], [TYPE_CNAME, 'CNAME'], [TYPE_SOA, 'SOA'], [TYPE_PTR, 'PTR'],
  [TYPE_MX, 'MX'], [TYPE_TXT, 'TXT'], [TYPE_AAAA, 'AAAA'], [TYPE_SRV, 'SRV'], [TYPE_OPT, 'OPT'],
  [TYPE_ANY, 'ANY'],
]);

/** The mnemonic, or RFC 3597 §5's generic `TYPE<n>`. */
export function typeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `TYPE${type}`;
}

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'] as const;

/** As dig prints the status; unassigned codes as `RCODE<n>`. */
export function rcodeName(code: number): string {
  return RCODE_NAMES[code] ?? `RCODE${code}`;
}

/**
 * The RDATA kind parse produces and emit requires for a type. A and AAAA are defined for class IN
 * only (RFC 1035 §3.4, RFC 3596 §2.1), and SRV is used there only (RFC 2782), so elsewhere they are
 * opaque; the OPT class is a payload size, not a class.
 */
export function rdataKind(type: number, cls: number): RDataKind {
  switch (type) {
    case TYPE_A:
      return cls === CLASS_IN ? 'a' : 'unknown';
    case TYPE_AAAA:
      return cls === CLASS_IN ? 'aaaa' : 'unknown';
    case TYPE_SRV:
      return cls === CLASS_IN ? 'srv' : 'unknown';
    case TYPE_NS:
      return 'ns';
    case TYPE_CNAME:
      return 'cname';
    case TYPE_PTR:
      return 'ptr';
    case TYPE_MX:
      return 'mx';
    case TYPE_SOA:
      return 'soa';
    case TYPE_TXT:
      return 'txt';
    case TYPE_OPT:
      return 'opt';
    default:
      return 'unknown';
  }
}

/** An OPT pseudo-record for the additional section (owner: the root, RFC 6891 §6.1.2). */
export function optRecord(e: Partial<Edns> & { readonly udpPayloadSize: number }): DnsRecord {
  const ttl =
    (((e.extendedRcode ?? 0) & 0xff) << 24) |
    (((e.version ?? 0) & 0xff) << 16) |
    (e.dnssecOk ? EDNS_DO : 0) |
    ((e.z ?? 0) & 0x7fff);
  return { name: '', type: TYPE_OPT, class: e.udpPayloadSize, ttl: ttl >>> 0, data: { kind: 'opt', options: e.options ?? [] } };
}

/** The message's EDNS parameters, from its first OPT record; undefined without one. */
export function edns(m: DnsMessage): Edns | undefined {
  const r = m.additionals.find((x) => x.type === TYPE_OPT);
  if (!r) return undefined;
  return {
    udpPayloadSize: r.class,
    extendedRcode: r.ttl >>> 24,
    version: (r.ttl >>> 16) & 0xff,
    dnssecOk: (r.ttl & EDNS_DO) !== 0,
    z: r.ttl & 0x7fff,
    options: r.data.kind === 'opt' ? r.data.options : [],
  };
}

/** The 12-bit RCODE: the OPT record's 8 high bits over the header's 4 (RFC 6891 §6.1.3). */
export function fullRcode(m: DnsMessage): number {
  return ((edns(m)?.extendedRcode ?? 0) << 4) | m.flags.rcode;
}

// ---------------------------------------------------------------------------------------------
// IPv6 text for AAAA (RFC 4291 §2.2 in, RFC 5952 §4 out).

/** RFC 5952 §4: lowercase, no leading zeros, the longest run (first on a tie) of 2+ zero groups as `::`. */
export function formatIpv6(a: Uint8Array): string {
  if (a.length !== 16) throw new RangeError(`not an IPv6 address: ${a.length} bytes`);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (u16(a, i * 2) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && u16(a, j * 2) === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexGroups = (from: number, to: number): string[] => {
    const out: string[] = [];
    for (let i = from; i < to; i++) out.push(u16(a, i * 2).toString(16));
    return out;
  };
  if (bestAt < 0) return hexGroups(0, 8).join(':');
  return `${hexGroups(0, bestAt).join(':')}::${hexGroups(bestAt + bestLen, 8).join(':')}`;
}

/** Parses RFC 4291 §2.2 text (with `::` and a trailing dotted quad); throws RangeError otherwise. */
export function parseIpv6(text: string): Uint8Array {
  const fail = (): never => {
    throw new RangeError(`not an IPv6 address: ${JSON.stringify(text)}`);
  };
  const groups = (part: string, last: boolean): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    pieces.forEach((p, i) => {
      if (last && i === pieces.length - 1 && p.includes('.')) {
        const q = p.split('.');
        if (q.length !== 4 || q.some((x) => !/^(0|[1-9][0-9]{0,2})$/.test(x) || Number(x) > 255)) fail();
        const n = q.map(Number);
        out.push((n[0]! << 8) | n[1]!, (n[2]! << 8) | n[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) fail();
        out.push(Number.parseInt(p, 16));
      }
    });
    return out;
  };
  const halves = text.split('::');
  if (halves.length > 2) fail();
  const head = groups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1]!, true) : [];
  const zeros = 8 - head.length - tail.length;
  if (halves.length === 2 ? zeros < 1 : zeros !== 0) fail();
  const out = new Uint8Array(16);
  [...head, ...new Array<number>(zeros).fill(0), ...tail].forEach((g, i) => setU16(out, i * 2, g));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parse.

const P = 'dns';

/** Where the last readName stopped: the byte after the name's inline part (after its first pointer). */
let nameNext = 0;

/** One label in presentation form (RFC 1035 §5.1 escapes, canonical: see the file comment). */
function presentLabel(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (c === 0x2e || c === 0x5c) s += `\\${String.fromCharCode(c)}`;
    else if (c <= 0x20 || c >= 0x7f) s += `\\${String(c).padStart(3, '0')}`;
    else s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Reads the name at `pos`, whose inline part must end by `limit` (the end of its RDATA, or of the
 * message). `base` is the message start, the origin of compression pointers; `end` the message end.
 * Loop protection: a pointer must point before the start of the label run that contains it, so
 * the runs start at strictly decreasing offsets and the walk ends. RFC 1035 §4.1.4 has pointers
 * replace names by "a pointer to a prior occurance of the same name", and every compressor points
 * to names it wrote earlier, so this rejects nothing real. Sets nameNext.
 */
function readName(b: Uint8Array, base: number, pos: number, limit: number, end: number, field: string): string {
  let name = '';
  let wireLen = 1;
  let runStart = pos;
  let p = pos;
  let lim = limit;
  let next = -1;
  for (;;) {
    if (p >= lim) malformed(P, field, p, 'name runs past the end');
    const len = b[p]!;
    if (len === 0) {
      if (next < 0) next = p + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= lim) malformed(P, field, p, 'compression pointer cut short');
      const target = base + (((len & 0x3f) << 8) | b[p + 1]!);
      if (target >= runStart) {
        malformed(P, 'compression pointer', p, `in ${field}: points to byte ${target}, not before ${runStart}`);
      }
      if (next < 0) next = p + 2;
      runStart = p = target;
      lim = end;
      continue;
    }
    // 0x40 was the EDNS extended label type (RFC 6891 §5 deprecates it), 0x80 is reserved.
    if (kind !== 0) malformed(P, field, p, `label type 0x${kind.toString(16)} is not supported`);
    wireLen += len + 1;
    if (wireLen > MAX_NAME_LEN) malformed(P, field, p, `name longer than ${MAX_NAME_LEN} bytes`);
    if (p + 1 + len > lim) malformed(P, field, p, 'label runs past the end');
    // Labels are never empty, so an empty `name` means this is the first one.
    const label = presentLabel(b, p + 1, p + 1 + len);
    name = name === '' ? label : `${name}.${label}`;
    p += 1 + len;
  }
  nameNext = next;
  return name;
}

function copyBytes(b: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from);
  out.set(b.subarray(from, to));
  return out;
}

function readRData(
  b: Uint8Array,
  base: number,
  end: number,
  kind: RDataKind,
  rd: number,
  rdEnd: number,
  field: string,
): RData {
  const fixed = (len: number, what: string): void => {
    if (rdEnd - rd !== len) malformed(P, field, rd, `${what} RDATA is ${len} bytes, RDLENGTH ${rdEnd - rd}`);
  };
  const nameAt = (pos: number): string => readName(b, base, pos, rdEnd, end, field);
  const mustEnd = (pos: number): void => {
    if (pos !== rdEnd) malformed(P, field, pos, `RDATA ends at byte ${pos}, RDLENGTH says ${rdEnd}`);
  };
  switch (kind) {
    case 'a':
      fixed(4, 'A');
      return { kind, address: u32(b, rd) };
    case 'aaaa':
      fixed(16, 'AAAA');
      return { kind, address: copyBytes(b, rd, rd + 16) };
    case 'ns':
    case 'cname':
    case 'ptr': {
      const target = nameAt(rd);
      mustEnd(nameNext);
      return { kind, target };
    }
    case 'mx': {
      need(b, rd, 2, P, field, rdEnd);
      const exchange = nameAt(rd + 2);
      mustEnd(nameNext);
      return { kind, preference: u16(b, rd), exchange };
    }
    case 'soa': {
      const mname = nameAt(rd);
      const rname = nameAt(nameNext);
      const p = nameNext;
      need(b, p, 20, P, field, rdEnd);
      mustEnd(p + 20);
      return {
        kind,
        mname,
        rname,
        serial: u32(b, p),
        refresh: u32(b, p + 4),
        retry: u32(b, p + 8),
        expire: u32(b, p + 12),
        minimum: u32(b, p + 16),
      };
    }
    case 'srv': {
      need(b, rd, 6, P, field, rdEnd);
      // RFC 2782 forbids compressing the target, but receivers follow pointers anyway (as
      // Wireshark and the resolvers do); emit never writes one there.
      const target = nameAt(rd + 6);
      mustEnd(nameNext);
      return { kind, priority: u16(b, rd), weight: u16(b, rd + 2), port: u16(b, rd + 4), target };
    }
    case 'txt': {
      const strings: string[] = [];
      for (let p = rd; p < rdEnd; ) {
        const len = b[p]!;
        if (p + 1 + len > rdEnd) malformed(P, field, p, `character-string of ${len} bytes runs past RDATA`);
        let s = '';
        for (let i = p + 1; i < p + 1 + len; i++) s += String.fromCharCode(b[i]!);
        strings.push(s);
        p += 1 + len;
      }
      return { kind, strings };
    }
    case 'opt': {
      const options: EdnsOption[] = [];
      for (let p = rd; p < rdEnd; ) {
        need(b, p, 4, P, field, rdEnd);
        const len = u16(b, p + 2);
        if (p + 4 + len > rdEnd) malformed(P, field, p, `option ${u16(b, p)} of ${len} bytes runs past RDATA`);
        options.push({ code: u16(b, p), data: copyBytes(b, p + 4, p + 4 + len) });
        p += 4 + len;
      }
      return { kind, options };
    }
    case 'unknown':
      return { kind, raw: copyBytes(b, rd, rdEnd) };
  }
}

let recordNext = 0;

function readRecord(b: Uint8Array, base: number, pos: number, end: number, field: string): DnsRecord {
  const name = readName(b, base, pos, end, end, `${field} name`);
  const p = nameNext;
  need(b, p, 10, P, field, end);
  const type = u16(b, p);
  const cls = u16(b, p + 2);
  const ttl = u32(b, p + 4);
  const rd = p + 10;
  const rdEnd = rd + u16(b, p + 8);
  if (rdEnd > end) malformed(P, `${field} rdata`, rd, `RDLENGTH ${rdEnd - rd}, ${end - rd} bytes left`);
  const data = readRData(b, base, end, rdataKind(type, cls), rd, rdEnd, `${field} rdata`);
  recordNext = rdEnd;
  return { name, type, class: cls, ttl, data };
}

/**
 * Parses the message in b[off, end). Compression pointers count from `off` (RFC 1035 §4.1.4: from
 * the start of the message). Bytes after the last record are ignored, as resolvers do. Throws
 * only MalformedPacketError, whose field is 'header', 'question 1 name', 'question 1' (its type
 * and class), 'answer 2 name', 'answer 2' (type, class, TTL, RDLENGTH), 'answer 2 rdata' (or
 * 'authority …', 'additional …') or 'compression pointer', and whose offset is absolute in b.
 */
export function parse(b: Uint8Array, off = 0, end: number = b.length): DnsMessage {
  const limit = Math.min(end, b.length);
  need(b, off, HEADER_LEN, P, 'header', limit);
  const questions: DnsQuestion[] = [];
  let p = off + HEADER_LEN;
  for (let i = 0, n = questionCount(b, off); i < n; i++) {
    const field = `question ${i + 1}`;
    const name = readName(b, off, p, limit, limit, `${field} name`);
    p = nameNext;
    need(b, p, 4, P, field, limit);
    questions.push({ name, type: u16(b, p), class: u16(b, p + 2) });
    p += 4;
  }
  const section = (n: number, what: string): DnsRecord[] => {
    const out: DnsRecord[] = [];
    for (let i = 0; i < n; i++) {
      out.push(readRecord(b, off, p, limit, `${what} ${i + 1}`));
      p = recordNext;
    }
    return out;
  };
  const answers = section(answerCount(b, off), 'answer');
  const authorities = section(authorityCount(b, off), 'authority');
  const additionals = section(additionalCount(b, off), 'additional');
  return { id: id(b, off), flags: decodeFlags(rawFlags(b, off)), questions, answers, authorities, additionals };
}

// ---------------------------------------------------------------------------------------------
// Emit.

/** A name in wire form without its terminating zero, and where each label starts. */
interface WireName {
  readonly bytes: number[];
  readonly starts: number[];
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Presentation form → wire labels (RFC 1035 §5.1 escapes); RangeError on what cannot be encoded. */
function wireName(name: string): WireName {
  const bytes: number[] = [];
  const starts: number[] = [];
  if (name === '' || name === '.') return { bytes, starts };
  const bad = (why: string): never => {
    throw new RangeError(`dns: cannot encode name ${JSON.stringify(name)}: ${why}`);
  };
  let lenAt = -1;
  const close = (): void => {
    const len = bytes.length - lenAt - 1;
    if (len === 0) bad('empty label');
    if (len > MAX_LABEL_LEN) bad(`label longer than ${MAX_LABEL_LEN} bytes`);
    bytes[lenAt] = len;
    lenAt = -1;
  };
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (lenAt < 0) {
      lenAt = bytes.length;
      starts.push(lenAt);
      bytes.push(0);
    }
    if (c === 0x2e) {
      close();
      continue;
    }
    if (c === 0x5c) {
      const d = name.charCodeAt(i + 1);
      if (isDigit(d)) {
        if (!isDigit(name.charCodeAt(i + 2)) || !isDigit(name.charCodeAt(i + 3))) bad('\\DDD needs three digits');
        c = Number(name.slice(i + 1, i + 4));
        if (c > 255) bad(`\\${name.slice(i + 1, i + 4)} is not a byte`);
        i += 3;
      } else if (d >= 0x20 && d <= 0x7e) {
        c = d;
        i += 1;
      } else {
        bad('dangling backslash');
      }
    } else if (c < 0x20 || c > 0x7e) {
      bad(`character U+${c.toString(16).padStart(4, '0')} (write bytes as \\DDD)`);
    }
    bytes.push(c);
  }
  if (lenAt >= 0) close();
  if (bytes.length + 1 > MAX_NAME_LEN) bad(`longer than ${MAX_NAME_LEN} bytes on the wire`);
  return { bytes, starts };
}

/** Writes or, without a buffer, only measures. Positions are absolute; `base` is the message start. */
class Encoder {
  pos: number;
  constructor(
    readonly b: Uint8Array | undefined,
    readonly base: number,
    /** Suffix (wire bytes as a latin1 key) → message offset of its first occurrence. */
    readonly names: Map<string, number> | undefined,
  ) {
    this.pos = base;
  }
  room(n: number): void {
    if (this.b && this.pos + n > this.b.length) throw new RangeError('dns: buffer too small');
  }
  u8(v: number): void {
    this.room(1);
    if (this.b) this.b[this.pos] = v;
    this.pos += 1;
  }
  u16(v: number): void {
    this.room(2);
    if (this.b) setU16(this.b, this.pos, v);
    this.pos += 2;
  }
  u32(v: number): void {
    this.room(4);
    if (this.b) setU32(this.b, this.pos, v);
    this.pos += 4;
  }
  bytes(v: ArrayLike<number>, from = 0, to = v.length): void {
    this.room(to - from);
    if (this.b) for (let i = from; i < to; i++) this.b[this.pos + i - from] = v[i]!;
    this.pos += to - from;
  }
  /**
   * Writes a name, reusing the earliest earlier occurrence of its longest known suffix when
   * `compress` (RFC 1035 §4.1.4), as miekg/dns (CoreDNS) does: suffixes are remembered from every
   * name written, compressed or not, at offsets a pointer can reach. Matching is exact, case
   * included, so the decoded name is the one given.
   */
  name(name: string, compress: boolean): void {
    const w = wireName(name);
    const at = this.pos - this.base;
    let key = '';
    if (this.names) for (const c of w.bytes) key += String.fromCharCode(c);
    let cut = w.bytes.length;
    let pointer = -1;
    if (this.names) {
      for (const s of w.starts) {
        const suffix = key.slice(s);
        const known = this.names.get(suffix);
        if (known === undefined) {
          if (at + s <= MAX_POINTER_OFFSET) this.names.set(suffix, at + s);
        } else if (compress) {
          cut = s;
          pointer = known;
          break;
        }
      }
    }
    this.bytes(w.bytes, 0, cut);
    if (pointer >= 0) this.u16(0xc000 | pointer);
    else this.u8(0);
  }
}

function encodeMessage(m: DnsMessage, enc: Encoder, compress: boolean): void {
  const counts = [m.questions.length, m.answers.length, m.authorities.length, m.additionals.length];
  if (counts.some((n) => n > 0xffff)) throw new RangeError('dns: more than 65535 entries in a section');
  enc.u16(m.id);
  enc.u16(encodeFlags(m.flags));
  for (const n of counts) enc.u16(n);
  for (const q of m.questions) {
    enc.name(q.name, compress);
    enc.u16(q.type);
    enc.u16(q.class);
  }
  for (const r of m.answers) encodeRecord(r, enc, compress);
  for (const r of m.authorities) encodeRecord(r, enc, compress);
  for (const r of m.additionals) encodeRecord(r, enc, compress);
}

function encodeRecord(r: DnsRecord, enc: Encoder, compress: boolean): void {
  const kind = rdataKind(r.type, r.class);
  if (r.data.kind !== kind) {
    throw new RangeError(`dns: ${typeName(r.type)} record ${JSON.stringify(r.name)} needs '${kind}' data, not '${r.data.kind}'`);
  }
  enc.name(r.name, compress);
  enc.u16(r.type);
  enc.u16(r.class);
  enc.u32(r.ttl);
  const lenAt = enc.pos;
  enc.u16(0);
  const d = r.data;
  switch (d.kind) {
    case 'a':
      enc.u32(d.address);
      break;
    case 'aaaa':
      if (d.address.length !== 16) throw new RangeError(`dns: AAAA address of ${d.address.length} bytes`);
      enc.bytes(d.address);
      break;
    // RFC 3597 §4: only the RFC 1035 types may carry compressed names in RDATA.
    case 'ns':
    case 'cname':
    case 'ptr':
      enc.name(d.target, compress);
      break;
    case 'mx':
      enc.u16(d.preference);
      enc.name(d.exchange, compress);
      break;
    case 'soa':
      enc.name(d.mname, compress);
      enc.name(d.rname, compress);
      enc.u32(d.serial);
      enc.u32(d.refresh);
      enc.u32(d.retry);
      enc.u32(d.expire);
      enc.u32(d.minimum);
      break;
    case 'srv':
      enc.u16(d.priority);
      enc.u16(d.weight);
      enc.u16(d.port);
      // RFC 2782: "name compression is not to be used for this field".
      enc.name(d.target, false);
      break;
    case 'txt':
      for (const s of d.strings) {
        if (s.length > 255) throw new RangeError(`dns: TXT string of ${s.length} bytes (at most 255)`);
        enc.u8(s.length);
        for (let i = 0; i < s.length; i++) {
          const c = s.charCodeAt(i);
          if (c > 0xff) throw new RangeError('dns: TXT strings are byte strings (chars 0-255)');
          enc.u8(c);
        }
      }
      break;
    case 'opt':
      for (const o of d.options) {
        if (o.data.length > 0xffff) throw new RangeError('dns: EDNS option longer than 65535 bytes');
        enc.u16(o.code);
        enc.u16(o.data.length);
        enc.bytes(o.data);
      }
      break;
    case 'unknown':
      enc.bytes(d.raw);
      break;
  }
  const rdLen = enc.pos - lenAt - 2;
  if (rdLen > 0xffff) throw new RangeError(`dns: RDATA of ${rdLen} bytes (at most 65535)`);
  if (enc.b) setU16(enc.b, lenAt, rdLen);
}

/** The bytes emit(m, …, opts) writes, so a caller can allocate exactly (or check UDP's 512). */
export function encodedLength(m: DnsMessage, opts: DnsEmitOptions = {}): number {
  const compress = opts.compress ?? true;
  const enc = new Encoder(undefined, 0, compress ? new Map() : undefined);
  encodeMessage(m, enc, compress);
  return enc.pos;
}

/**
 * Writes the message at `off` and returns its length. With compression (the default) every name
 * — owner names, question names and the names in NS/CNAME/PTR/MX/SOA RDATA — ends in a pointer
 * (0xC000 | offset from `off`) to the earliest earlier occurrence of its longest suffix already in
 * the message, as dnsmasq and CoreDNS do; SRV targets are written in full (RFC 2782) but can be
 * pointed to. Throws RangeError('dns: buffer too small') rather than write past b.length (see
 * encodedLength), and RangeError for what the wire cannot carry (a label over 63 bytes, a name over
 * 255, RDATA whose kind does not fit the type).
 */
export function emit(m: DnsMessage, b: Uint8Array, off = 0, opts: DnsEmitOptions = {}): number {
  const compress = opts.compress ?? true;
  const enc = new Encoder(b, off, compress ? new Map() : undefined);
  encodeMessage(m, enc, compress);
  return enc.pos - off;
}
