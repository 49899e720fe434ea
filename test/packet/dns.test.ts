import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as dns from '../../src/packet/dns.js';
import { MalformedPacketError } from '../../src/packet/errors.js';
import { formatIpv4, parseIpv4 } from '../../src/packet/addr.js';
import { expectThrowsOnly } from '../helpers/errors.js';
import { hex, KERNEL_DIR, kernelReferenceFrames, sentinel, type ReferenceFrame } from '../helpers/frames.js';
import { writeClassicPcap } from '../helpers/pcap-file.js';
import { rawIpv4Frame, writeUdp } from '../helpers/raw-frames.js';
import { ipv4Packets, VXLAN_PORT } from '../helpers/reference-ipv4.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dir.js';
import { captureProblems, tsharkFields } from '../helpers/tshark.js';

afterAll(removeTempDirs);

// ---------------------------------------------------------------------------------------------
// Locating DNS in the references by hand (ipv4.ts / udp.ts are not dependencies of this test):
// the innermost IPv4 packet of the frame (reference-ipv4.ts walks into flannel's VXLAN), UDP from
// or to port 53, the message from after the UDP header to where the UDP length says.

interface DnsFrame extends ReferenceFrame {
  /** Where the DNS message starts and ends (the UDP length says where). */
  readonly off: number;
  readonly end: number;
  readonly inVxlan: boolean;
}

const dnsFrames: DnsFrame[] = kernelReferenceFrames().flatMap((f) => {
  const p = ipv4Packets(f.bytes).at(-1);
  if (p === undefined || p.protocol !== 17 || f.bytes.length < p.l4 + 8) return [];
  const sport = f.bytes.readUInt16BE(p.l4);
  const dport = f.bytes.readUInt16BE(p.l4 + 2);
  if (dport === VXLAN_PORT || (sport !== dns.PORT && dport !== dns.PORT)) return [];
  return [{ ...f, off: p.l4 + 8, end: p.l4 + f.bytes.readUInt16BE(p.l4 + 4), inVxlan: p.inner }];
});

const hex4 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;
const allRecords = (m: dns.DnsMessage): dns.DnsRecord[] => [...m.answers, ...m.authorities, ...m.additionals];

// ---------------------------------------------------------------------------------------------
// Writing vectors into a capture: Ethernet + IPv4 + UDP by hand, correct checksums, classic pcap.

const POD_MAC = Buffer.from('0a580af40102', 'hex');
const GW_MAC = Buffer.from('0a580af40101', 'hex');
const POD_IP = parseIpv4('10.244.1.2');
const DNS_IP = parseIpv4('10.96.0.10');

function udpFrame(msg: dns.DnsMessage, fromClient: boolean, ipId: number): Buffer {
  const n = dns.encodedLength(msg);
  const [src, dst] = fromClient ? [POD_IP, DNS_IP] : [DNS_IP, POD_IP];
  const [srcPort, dstPort] = fromClient ? [40000 + ipId, 53] : [53, 40000 + ipId];
  const macs = fromClient ? { dstMac: GW_MAC, srcMac: POD_MAC } : { dstMac: POD_MAC, srcMac: GW_MAC };
  return rawIpv4Frame({ src, dst, protocol: 17, id: ipId, ...macs }, 8 + n, (frame, udp) => {
    expect(dns.emit(msg, frame, udp + 8)).toBe(n);
    writeUdp(frame, udp, src, dst, srcPort, dstPort, n);
  });
}

/** tsharkFields output as rows of field → value (the header line names the fields). */
function tsharkRows(file: string, fields: readonly string[]): Record<string, string>[] {
  const [head, ...lines] = tsharkFields(file, fields).split('\n').filter((l) => l.length > 0);
  const names = head!.split('\t');
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [names[i]!, v])));
}

// ---------------------------------------------------------------------------------------------
// Messages the references lack, as CoreDNS and dig send them.

const SVC = 'my-svc.default.svc.cluster.local';
const IN = dns.CLASS_IN;
const q = (name: string, type: number): dns.DnsQuestion => ({ name, type, class: IN });
const rr = (name: string, type: number, ttl: number, data: dns.RData): dns.DnsRecord => ({ name, type, class: IN, ttl, data });
// CoreDNS answers cluster names authoritatively without RA: "flags: qr aa rd".
const COREDNS_FLAGS = dns.makeFlags({ qr: true, aa: true, rd: true });
const reply = (
  id: number,
  question: dns.DnsQuestion,
  sections: Partial<Pick<dns.DnsMessage, 'answers' | 'authorities' | 'additionals' | 'flags'>>,
): dns.DnsMessage => ({
  id,
  flags: sections.flags ?? COREDNS_FLAGS,
  questions: [question],
  answers: sections.answers ?? [],
  authorities: sections.authorities ?? [],
  additionals: sections.additionals ?? [],
});

const srvReply = reply(0x5301, q(`_http._tcp.${SVC}`, dns.TYPE_SRV), {
  answers: [rr(`_http._tcp.${SVC}`, dns.TYPE_SRV, 5, { kind: 'srv', priority: 0, weight: 100, port: 80, target: SVC })],
  additionals: [rr(SVC, dns.TYPE_A, 5, { kind: 'a', address: parseIpv4('10.96.0.100') })],
});
const ptrReply = reply(0x5302, q('100.0.96.10.in-addr.arpa', dns.TYPE_PTR), {
  answers: [rr('100.0.96.10.in-addr.arpa', dns.TYPE_PTR, 5, { kind: 'ptr', target: SVC })],
});
const cnameReply = reply(0x5303, q('my-ext.default.svc.cluster.local', dns.TYPE_A), {
  flags: dns.makeFlags({ qr: true, aa: true, rd: true, ra: true }),
  answers: [
    rr('my-ext.default.svc.cluster.local', dns.TYPE_CNAME, 5, { kind: 'cname', target: 'www.example.com' }),
    rr('www.example.com', dns.TYPE_CNAME, 300, { kind: 'cname', target: 'api.example.com' }),
    rr('api.example.com', dns.TYPE_A, 300, { kind: 'a', address: parseIpv4('192.168.1.100') }),
  ],
});
const SOA: dns.SoaData = {
  kind: 'soa',
  mname: 'ns.dns.cluster.local',
  rname: 'hostmaster.cluster.local',
  serial: 1700000000,
  refresh: 7200,
  retry: 1800,
  expire: 86400,
  minimum: 30,
};
const nxReply = reply(0x5304, q('nosuch.default.svc.cluster.local', dns.TYPE_A), {
  flags: dns.makeFlags({ qr: true, aa: true, rd: true, rcode: dns.RCODE_NXDOMAIN }),
  authorities: [rr('cluster.local', dns.TYPE_SOA, 30, SOA)],
});
// Every byte worked out by hand: the question name at 12 has "cluster.local" at 31 (0x1f).
const NX_REPLY_BYTES = hex(`
  5304 8503 0001 0000 0001 0000
  06 6e6f73756368 07 64656661756c74 03 737663 07 636c7573746572 05 6c6f63616c 00 0001 0001
  c01f 0006 0001 0000001e 002a
    02 6e73 03 646e73 c01f
    0a 686f73746d6173746572 c01f
    6553f100 00001c20 00000708 00015180 0000001e`);
const AAAA = 'fd00:10:96::100';
const aaaaReply = reply(0x5305, q(SVC, dns.TYPE_AAAA), {
  answers: [rr(SVC, dns.TYPE_AAAA, 5, { kind: 'aaaa', address: dns.parseIpv6(AAAA) })],
});
const COOKIE = new Uint8Array(hex('c0ffee00deadbeef'));
// dig 9.18's default query: "flags: rd ad", EDNS version 0, udp 1232, a client COOKIE.
const digQuery: dns.DnsMessage = {
  id: 0x5306,
  flags: dns.makeFlags({ rd: true, ad: true }),
  questions: [q(SVC, dns.TYPE_A)],
  answers: [],
  authorities: [],
  additionals: [dns.optRecord({ udpPayloadSize: 1232, options: [{ code: dns.EDNS_OPTION_COOKIE, data: COOKIE }] })],
};
const txtReply = reply(0x5307, q('dns-version.cluster.local', dns.TYPE_TXT), {
  answers: [rr('dns-version.cluster.local', dns.TYPE_TXT, 5, { kind: 'txt', strings: ['1.1.0', 'a "quoted" one'] })],
});

// ---------------------------------------------------------------------------------------------
// Arbitraries.

/** The test's own presentation of a label, independent of the codec: RFC 1035 §5.1 escapes. */
function present(label: readonly number[]): string {
  return label
    .map((c) =>
      c === 0x2e || c === 0x5c ? `\\${String.fromCharCode(c)}` : c <= 0x20 || c >= 0x7f ? `\\${String(c).padStart(3, '0')}` : String.fromCharCode(c),
    )
    .join('');
}
const arbLabel = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'ab', 'svc', 'A', 'x-1') },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(0x61, 0x42, 0x2e, 0x5c, 0x20, 0x00, 0xff, 0x2d), { minLength: 1, maxLength: 4 }).map(present) },
);
const arbName = fc.array(arbLabel, { maxLength: 4 }).map((ls) => ls.join('.'));
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.nat({ max: 0xffff_ffff });
const bytes = (maxLength: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });

const arbTypedRecord: fc.Arbitrary<dns.DnsRecord> = fc.oneof(
  fc.record({ name: arbName, type: fc.constant(dns.TYPE_A), class: fc.constant(IN), ttl: u32, data: fc.record({ kind: fc.constant('a' as const), address: u32 }) }),
  fc.record({
    name: arbName,
    type: fc.constant(dns.TYPE_AAAA),
    class: fc.constant(IN),
    ttl: u32,
    data: fc.record({ kind: fc.constant('aaaa' as const), address: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
  }),
  fc.constantFrom(['ns', dns.TYPE_NS], ['cname', dns.TYPE_CNAME], ['ptr', dns.TYPE_PTR] as const).chain(([kind, type]) =>
    fc.record({ name: arbName, type: fc.constant(type), class: fc.constantFrom(IN, 3, 255), ttl: u32, data: fc.record({ kind: fc.constant(kind as 'ns'), target: arbName }) }),
  ),
  fc.record({ name: arbName, type: fc.constant(dns.TYPE_MX), class: u16, ttl: u32, data: fc.record({ kind: fc.constant('mx' as const), preference: u16, exchange: arbName }) }),
  fc.record({
    name: arbName,
    type: fc.constant(dns.TYPE_SOA),
    class: fc.constant(IN),
    ttl: u32,
    data: fc.record({ kind: fc.constant('soa' as const), mname: arbName, rname: arbName, serial: u32, refresh: u32, retry: u32, expire: u32, minimum: u32 }),
  }),
  fc.record({
    name: arbName,
    type: fc.constant(dns.TYPE_SRV),
    class: fc.constant(IN),
    ttl: u32,
    data: fc.record({ kind: fc.constant('srv' as const), priority: u16, weight: u16, port: u16, target: arbName }),
  }),
  fc.record({
    name: arbName,
    type: fc.constant(dns.TYPE_TXT),
    class: fc.constant(IN),
    ttl: u32,
    data: fc.record({ kind: fc.constant('txt' as const), strings: fc.array(fc.string({ unit: fc.nat({ max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 6 }), { maxLength: 3 }) }),
  }),
  fc.record({
    name: arbName,
    type: fc.constant(dns.TYPE_OPT),
    class: u16,
    ttl: u32,
    data: fc.record({ kind: fc.constant('opt' as const), options: fc.array(fc.record({ code: u16, data: bytes(6) }), { maxLength: 3 }) }),
  }),
  // Opaque: an unknown type, or A / AAAA / SRV outside class IN (RFC 3597).
  fc.record({
    name: arbName,
    type: fc.constantFrom(99, 250, 65280, dns.TYPE_A, dns.TYPE_AAAA, dns.TYPE_SRV),
    class: fc.constantFrom(3, 4),
    ttl: u32,
    data: fc.record({ kind: fc.constant('unknown' as const), raw: bytes(8) }),
  }),
);

const arbFlags: fc.Arbitrary<dns.DnsFlags> = u16.map(dns.decodeFlags);
const arbMessage: fc.Arbitrary<dns.DnsMessage> = fc.record({
  id: u16,
  flags: arbFlags,
  questions: fc.array(fc.record({ name: arbName, type: u16, class: u16 }), { maxLength: 3 }),
  answers: fc.array(arbTypedRecord, { maxLength: 4 }),
  authorities: fc.array(arbTypedRecord, { maxLength: 2 }),
  additionals: fc.array(arbTypedRecord, { maxLength: 2 }),
});

const expectMalformedOnly = (run: () => unknown): void => expectThrowsOnly(MalformedPacketError, run, { protocol: 'dns' });

// ---------------------------------------------------------------------------------------------

describe('dns', () => {
  it(`finds every DNS frame of the references: 28 per capture point in the dns scenario (${dnsFrames.length} frames)`, () => {
    expect(dnsFrames.length).toBe(308);
    expect(new Set(dnsFrames.map((f) => f.file)).size).toBe(11);
    expect(dnsFrames.every((f) => f.file.startsWith('dns/'))).toBe(true);
    expect(dnsFrames.filter((f) => f.inVxlan).length).toBe(3 * 28); // n1/eth0, n2/eth0, underlay br0
  });

  it('decodes the A answer from dnsmasq at pod pa: my-svc.default.svc.cluster.local A 10.96.0.100, TTL 5', () => {
    const f = dnsFrames.find((x) => x.file === 'dns/kr-pa-eth0.pcap' && x.index === 5)!;
    const m = dns.parse(f.bytes, f.off, f.end);
    expect(m.id).toBe(0xc63d);
    expect(dns.encodeFlags(m.flags)).toBe(0x8580);
    expect(m.flags).toEqual({ qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: true, z: false, ad: false, cd: false, rcode: 0 });
    expect(m.questions).toEqual([{ name: SVC, type: dns.TYPE_A, class: IN }]);
    expect(m.answers).toEqual([{ name: SVC, type: dns.TYPE_A, class: IN, ttl: 5, data: { kind: 'a', address: parseIpv4('10.96.0.100') } }]);
    expect(m.authorities).toEqual([]);
    expect(m.additionals).toEqual([]);
    // The owner name is a pointer to the question name at 12.
    expect(f.bytes.readUInt16BE(f.off + 12 + 34 + 4)).toBe(0xc00c);
    expect(dns.id(f.bytes, f.off)).toBe(0xc63d);
    expect(dns.isResponse(f.bytes, f.off)).toBe(true);
    expect(dns.answerCount(f.bytes, f.off)).toBe(1);
  });

  it("decodes glibc's queries (RD, no EDNS) and dnsmasq's NXDOMAIN for a search-list miss", () => {
    const query = dnsFrames.find((x) => x.file === 'dns/kr-pa-eth0.pcap' && x.index === 4)!;
    const qm = dns.parse(query.bytes, query.off, query.end);
    expect(qm).toEqual({
      id: 0x5f23,
      flags: dns.makeFlags({ rd: true }),
      questions: [{ name: SVC, type: dns.TYPE_AAAA, class: IN }],
      answers: [],
      authorities: [],
      additionals: [],
    });
    expect(dns.isResponse(query.bytes, query.off)).toBe(false);
    expect(dns.questionCount(query.bytes, query.off)).toBe(1);
    const nx = dnsFrames.find((x) => x.file === 'dns/kr-pa-eth0.pcap' && x.index === 9)!;
    const nm = dns.parse(nx.bytes, nx.off, nx.end);
    expect(dns.rcode(nx.bytes, nx.off)).toBe(dns.RCODE_NXDOMAIN);
    expect(dns.rcodeName(nm.flags.rcode)).toBe('NXDOMAIN');
    expect(nm.questions[0]!.name).toBe('my-svc.default.default.svc.cluster.local');
    expect(nm.answers.length + nm.authorities.length + nm.additionals.length).toBe(0);
  });

  it('reads and rewrites the header in place with the accessors', () => {
    const b = Buffer.alloc(dns.encodedLength(digQuery) + 3);
    dns.emit(digQuery, b, 3);
    expect([dns.id(b, 3), dns.rawFlags(b, 3), dns.opcode(b, 3), dns.isTruncated(b, 3), dns.isResponse(b, 3)]).toEqual([0x5306, 0x0120, 0, false, false]);
    expect([dns.questionCount(b, 3), dns.answerCount(b, 3), dns.authorityCount(b, 3), dns.additionalCount(b, 3)]).toEqual([1, 0, 0, 1]);
    dns.setId(b, 3, 0xbeef);
    expect(b.subarray(3, 5)).toEqual(hex('beef'));
    expect(dns.parse(b, 3)).toEqual({ ...digQuery, id: 0xbeef });
    const tc = hex('0001 8383 0000 0000 0000 0000');
    expect([dns.isTruncated(tc, 0), dns.rcode(tc, 0), dns.opcode(tc, 0)]).toEqual([true, 3, 0]);
    expect(dns.typeName(dns.TYPE_SRV)).toBe('SRV');
    expect(dns.typeName(65280)).toBe('TYPE65280');
    expect(dns.rcodeName(9)).toBe('RCODE9');
  });

  it('agrees with tshark on every reference DNS frame (id, flags, names, types, A, rcode, TTLs)', () => {
    const fields = ['frame.number', 'dns.id', 'dns.flags', 'dns.qry.name', 'dns.qry.type', 'dns.resp.name', 'dns.a', 'dns.flags.rcode', 'dns.resp.ttl'];
    let checked = 0;
    for (const file of [...new Set(dnsFrames.map((f) => f.file))]) {
      const rows = tsharkRows(join(KERNEL_DIR, file), fields);
      for (const f of dnsFrames.filter((x) => x.file === file)) {
        const m = dns.parse(f.bytes, f.off, f.end);
        const rs = allRecords(m);
        expect(rows[f.index], `${file}#${f.index + 1}`).toEqual({
          'frame.number': String(f.index + 1),
          'dns.id': hex4(m.id),
          'dns.flags': hex4(dns.encodeFlags(m.flags)),
          'dns.qry.name': m.questions.map((x) => x.name).join(','),
          'dns.qry.type': m.questions.map((x) => x.type).join(','),
          'dns.resp.name': rs.map((r) => r.name).join(','),
          'dns.a': rs.flatMap((r) => (r.data.kind === 'a' ? [formatIpv4(r.data.address)] : [])).join(','),
          'dns.flags.rcode': m.flags.qr ? String(m.flags.rcode) : '',
          'dns.resp.ttl': rs.map((r) => r.ttl).join(','),
        });
        checked++;
      }
    }
    expect(checked).toBe(308);
  });

  it('re-emits every reference DNS message byte for byte: 308 of 308 compress as dnsmasq did', () => {
    let identical = 0;
    for (const f of dnsFrames) {
      const original = f.bytes.subarray(f.off, f.end);
      const m = dns.parse(f.bytes, f.off, f.end);
      const out = Buffer.alloc(dns.encodedLength(m));
      const n = dns.emit(m, out);
      if (out.equals(original)) {
        identical++;
        // Same length, so the UDP length field (8 + DNS) of the original is what we would write.
        expect(n).toBe(f.bytes.readUInt16BE(f.off - 4) - 8);
      } else {
        expect(dns.parse(out), `${f.file}#${f.index + 1}`).toEqual(m);
      }
    }
    expect(identical).toBe(308);
  });

  it('re-emits a reference answer in place, inside the VXLAN frame on node 1 eth0', () => {
    const f = dnsFrames.find((x) => x.file === 'dns/kr-n1-eth0.pcap' && x.inVxlan && dns.answerCount(x.bytes, x.off) === 1)!;
    expect(f.off).toBe(50 + 42);
    const copy = Buffer.from(f.bytes);
    copy.fill(0, f.off);
    expect(dns.emit(dns.parse(f.bytes, f.off, f.end), copy, f.off)).toBe(f.end - f.off);
    expect(copy).toEqual(f.bytes);
  });

  it('writes the vectors the references lack; tshark decodes them cleanly with the expected fields', () => {
    const messages = [srvReply, ptrReply, cnameReply, nxReply, aaaaReply, digQuery, txtReply];
    const file = join(tempDir('dns'), 'dns-vectors.pcap');
    writeClassicPcap(file, messages.map((m, i) => udpFrame(m, !m.flags.qr, i + 1)));
    expect(captureProblems(file)).toEqual([]);
    const fields = [
      'dns.id', 'dns.flags', 'dns.qry.name', 'dns.flags.rcode', 'dns.srv.priority', 'dns.srv.weight', 'dns.srv.port', 'dns.srv.target',
      'dns.a', 'dns.ptr.domain_name', 'dns.cname', 'dns.soa.mname', 'dns.soa.rname', 'dns.soa.serial_number',
      'dns.soa.refresh_interval', 'dns.soa.retry_interval', 'dns.soa.expire_limit', 'dns.soa.minimum_ttl', 'dns.resp.ttl',
      'dns.aaaa', 'dns.rr.udp_payload_size', 'dns.resp.edns0_version', 'dns.resp.z.do', 'dns.opt.code', 'dns.opt.cookie.client', 'dns.txt',
    ];
    const rows = tsharkRows(file, fields);
    const blank = Object.fromEntries(fields.map((f) => [f, '']));
    const row = (m: dns.DnsMessage, given: Record<string, string>): Record<string, string> => ({
      ...blank,
      'dns.id': hex4(m.id),
      'dns.flags': hex4(dns.encodeFlags(m.flags)),
      'dns.qry.name': m.questions[0]!.name,
      'dns.flags.rcode': m.flags.qr ? String(m.flags.rcode) : '',
      ...given,
    });
    expect(rows).toEqual([
      row(srvReply, {
        'dns.srv.priority': '0', 'dns.srv.weight': '100', 'dns.srv.port': '80', 'dns.srv.target': SVC,
        'dns.a': '10.96.0.100', 'dns.resp.ttl': '5,5',
      }),
      row(ptrReply, { 'dns.ptr.domain_name': SVC, 'dns.resp.ttl': '5' }),
      row(cnameReply, { 'dns.cname': 'www.example.com,api.example.com', 'dns.a': '192.168.1.100', 'dns.resp.ttl': '5,300,300' }),
      row(nxReply, {
        'dns.flags.rcode': '3', 'dns.soa.mname': 'ns.dns.cluster.local', 'dns.soa.rname': 'hostmaster.cluster.local',
        'dns.soa.serial_number': '1700000000', 'dns.soa.refresh_interval': '7200', 'dns.soa.retry_interval': '1800',
        'dns.soa.expire_limit': '86400', 'dns.soa.minimum_ttl': '30', 'dns.resp.ttl': '30',
      }),
      row(aaaaReply, { 'dns.aaaa': AAAA, 'dns.resp.ttl': '5' }),
      row(digQuery, {
        'dns.flags': '0x0120', 'dns.rr.udp_payload_size': '1232', 'dns.resp.edns0_version': '0', 'dns.resp.z.do': '0',
        'dns.opt.code': '10', 'dns.opt.cookie.client': 'c0ffee00deadbeef',
      }),
      row(txtReply, { 'dns.txt': '1.1.0,a "quoted" one', 'dns.resp.ttl': '5' }),
    ]);
  });

  it('compresses as CoreDNS: the NXDOMAIN with its SOA, byte for byte, into a sentinel buffer', () => {
    const b = sentinel(NX_REPLY_BYTES.length + 2);
    expect(dns.emit(nxReply, b, 1)).toBe(104);
    expect(b).toEqual(Buffer.concat([hex('a5'), NX_REPLY_BYTES, hex('a5')]));
    expect(dns.encodedLength(nxReply)).toBe(104);
    expect(dns.parse(b, 1, 105)).toEqual(nxReply);
  });

  it('never compresses an SRV target (RFC 2782) but lets later names point into it', () => {
    const n = dns.encodedLength(srvReply);
    const b = Buffer.alloc(n);
    dns.emit(srvReply, b);
    // question name at 12: 06 _http 04 _tcp, so my-svc… starts at 23 (0x17)
    const answerAt = 12 + 45 + 4;
    expect(b.readUInt16BE(answerAt)).toBe(0xc00c);
    const rdLen = b.readUInt16BE(answerAt + 10);
    expect(rdLen).toBe(6 + 34);
    const target = b.subarray(answerAt + 12 + 6, answerAt + 12 + rdLen);
    expect(target).toEqual(hex('06 6d792d737663 07 64656661756c74 03 737663 07 636c7573746572 05 6c6f63616c 00'));
    // the additional A record's owner reuses the question's suffix, its earliest occurrence
    expect(b.readUInt16BE(answerAt + 12 + rdLen)).toBe(0xc017);
    expect(n).toBe(answerAt + 12 + rdLen + 2 + 10 + 4);
  });

  it('follows the CNAME chain with pointers into earlier RDATA', () => {
    const b = Buffer.alloc(dns.encodedLength(cnameReply));
    dns.emit(cnameReply, b);
    const qEnd = 12 + 34 + 4; // my-ext.default.svc.cluster.local is 34 bytes
    // answer 1: owner c00c, RDATA "www.example.com" in full (17 bytes) at qEnd + 12
    expect(b.readUInt16BE(qEnd)).toBe(0xc00c);
    expect(b.readUInt16BE(qEnd + 10)).toBe(17);
    const www = qEnd + 12;
    // answer 2: owner → www…; RDATA "api" + pointer to example.com at www + 4
    const a2 = www + 17;
    expect(b.readUInt16BE(a2)).toBe(0xc000 | www);
    expect(b.subarray(a2 + 10, a2 + 12 + 6)).toEqual(hex(`0006 03617069 c0${(www + 4).toString(16)}`));
    // answer 3: owner → api… in answer 2's RDATA
    expect(b.readUInt16BE(a2 + 12 + 6)).toBe(0xc000 | (a2 + 12));
    expect(b.length).toBe(a2 + 12 + 6 + 2 + 10 + 4);
    expect(dns.parse(b)).toEqual(cnameReply);
  });

  it('reads and builds EDNS: payload size, version, DO, the COOKIE option, the 12-bit RCODE', () => {
    const b = Buffer.alloc(dns.encodedLength(digQuery));
    dns.emit(digQuery, b);
    // OPT: root owner, type 41, class 1232, TTL 0, RDLENGTH 12, COOKIE (10) of 8 bytes
    expect(b.subarray(b.length - 23)).toEqual(hex('00 0029 04d0 00000000 000c 000a 0008 c0ffee00deadbeef'));
    const m = dns.parse(b);
    expect(dns.edns(m)).toEqual({
      udpPayloadSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, z: 0,
      options: [{ code: dns.EDNS_OPTION_COOKIE, data: COOKIE }],
    });
    const badVers: dns.DnsMessage = {
      ...m,
      flags: { ...m.flags, qr: true, rcode: 0 },
      additionals: [dns.optRecord({ udpPayloadSize: 1232, extendedRcode: 1, dnssecOk: true })],
    };
    expect(badVers.additionals[0]!.ttl).toBe(0x0100_8000);
    expect(dns.fullRcode(badVers)).toBe(16); // BADVERS (RFC 6891 §9)
    expect(dns.edns(ptrReply)).toBeUndefined();
  });

  it('keeps all 16 flag bits and reads AAAA and IPv6 text as RFC 5952 writes it', () => {
    for (const w of [0, 0xffff, 0x8580, 0x0120, 0x7850, 0x0040]) expect(dns.encodeFlags(dns.decodeFlags(w))).toBe(w);
    expect(dns.formatIpv6(dns.parseIpv6('fd00:0010:0096:0000:0000:0000:0000:0100'))).toBe(AAAA);
    expect(dns.formatIpv6(dns.parseIpv6('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(dns.formatIpv6(dns.parseIpv6('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(dns.formatIpv6(dns.parseIpv6('::'))).toBe('::');
    expect(dns.formatIpv6(dns.parseIpv6('::ffff:10.96.0.10'))).toBe('::ffff:a60:a');
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7', '12345::', 'g::', '1.2.3.4::']) expect(() => dns.parseIpv6(bad)).toThrow(RangeError);
  });

  it('escapes label bytes in presentation form and encodes them back', () => {
    const raw = hex('04 612e5c62 03 200001 02 ff41 00');
    const m: dns.DnsMessage = { id: 1, flags: dns.makeFlags(), questions: [], answers: [], authorities: [], additionals: [] };
    const b = Buffer.concat([hex('0001 0000 0001 0000 0000 0000'), raw, hex('0001 0001')]);
    const parsed = dns.parse(b);
    expect(parsed.questions[0]!.name).toBe('a\\.\\\\b.\\032\\000\\001.\\255A');
    const out = Buffer.alloc(dns.encodedLength(parsed));
    dns.emit(parsed, out);
    expect(out).toEqual(b);
    // A trailing dot, '.' for the root, and a plain escaped letter are accepted.
    const withDot = { ...m, questions: [q('Example.COM.', 1), q('.', 2), q('\\a', 3)] };
    const b2 = Buffer.alloc(dns.encodedLength(withDot, { compress: false }));
    dns.emit(withDot, b2, 0, { compress: false });
    expect(dns.parse(b2).questions.map((x) => x.name)).toEqual(['Example.COM', '', 'a']);
  });

  it.each([
    ['a..b', /empty label/],
    ['.a', /empty label/],
    [`${'x'.repeat(64)}.com`, /label longer than 63/],
    [Array.from({ length: 4 }, () => 'y'.repeat(63)).join('.'), /longer than 255/],
    ['a\\25', /three digits/],
    ['a\\256', /not a byte/],
    ['é.com', /U\+00e9/],
    ['a\\', /dangling/],
  ])('emit refuses the name %j with a RangeError', (name, why) => {
    const m: dns.DnsMessage = { id: 1, flags: dns.makeFlags(), questions: [q(name, 1)], answers: [], authorities: [], additionals: [] };
    expect(() => dns.emit(m, Buffer.alloc(600))).toThrow(RangeError);
    expect(() => dns.encodedLength(m)).toThrow(why);
  });

  it('accepts the longest name, 255 bytes on the wire', () => {
    const name = [...Array.from({ length: 3 }, () => 'y'.repeat(63)), 'z'.repeat(61)].join('.');
    const m: dns.DnsMessage = { id: 1, flags: dns.makeFlags(), questions: [q(name, 1)], answers: [], authorities: [], additionals: [] };
    expect(dns.encodedLength(m)).toBe(12 + 255 + 4);
    const b = Buffer.alloc(12 + 255 + 4);
    dns.emit(m, b);
    expect(dns.parse(b)).toEqual(m);
  });

  it('refuses RDATA that does not fit its type, and a buffer that is too small', () => {
    const mismatch = { ...ptrReply, answers: [rr('x', dns.TYPE_A, 1, { kind: 'ptr', target: 'y' })] };
    expect(() => dns.encodedLength(mismatch)).toThrow(/needs 'a' data, not 'ptr'/);
    const n = dns.encodedLength(nxReply);
    const small = sentinel(n - 1);
    expect(() => dns.emit(nxReply, small)).toThrow(new RangeError('dns: buffer too small'));
    expect(() => dns.emit(nxReply, Buffer.alloc(n + 5), 6)).toThrow(new RangeError('dns: buffer too small'));
    expect(dns.emit(nxReply, Buffer.alloc(n + 5), 5)).toBe(n);
    expect(() => dns.encodedLength({ ...txtReply, answers: [rr('t', dns.TYPE_TXT, 1, { kind: 'txt', strings: ['\u0100'] })] })).toThrow(/byte strings/);
    expect(() => dns.encodedLength({ ...aaaaReply, answers: [rr('t', dns.TYPE_AAAA, 1, { kind: 'aaaa', address: new Uint8Array(4) })] })).toThrow(/4 bytes/);
  });

  it('writes every name in full without compression, and reads it back the same', () => {
    const full = dns.encodedLength(nxReply, { compress: false });
    // owner "cluster.local" 15, mname 22, rname 26 instead of 2 + 9 + 13
    expect(full).toBe(104 + (15 - 2) + (22 - 9) + (26 - 13));
    const b = Buffer.alloc(full);
    expect(dns.emit(nxReply, b, 0, { compress: false })).toBe(full);
    expect(b.includes(0xc0)).toBe(false);
    expect(dns.parse(b)).toEqual(nxReply);
  });

  // Every offset is absolute: the message starts at byte 5 of the buffer.
  const AT = 5;
  const HDR = (qd: number, an: number, ns = 0, ar = 0): string =>
    `1234 8180 ${[qd, an, ns, ar].map((n) => n.toString(16).padStart(4, '0')).join(' ')}`;
  const Q_A = '01 61 00 0001 0001'; // question "a" A IN, 7 bytes: 12..18
  it.each([
    ['a cut header', '1234 8180 0001 0000 0000', 'header', 0],
    ['a question name that runs past the end', `${HDR(1, 0)} 03 6162`, 'question 1 name', 12],
    ['a name without its terminating zero', `${HDR(1, 0)} 01 61`, 'question 1 name', 14],
    ['a question without type and class', `${HDR(1, 0)} 01 61 00 0001`, 'question 1', 15],
    ['a pointer cut short', `${HDR(1, 0)} 01 61 c0`, 'question 1 name', 14],
    ['a forward pointer', `${HDR(1, 0)} c0 0e 00 0001 0001`, 'compression pointer', 12],
    ['a pointer to itself', `${HDR(1, 0)} c0 0c 0001 0001`, 'compression pointer', 12],
    ['a pointer into its own name', `${HDR(1, 0)} 01 61 c0 0c 0001 0001`, 'compression pointer', 14],
    ['a pointer loop between two names', `${HDR(2, 0)} 01 61 c0 13 0001 0001 01 62 c0 0c 0001 0001`, 'compression pointer', 14],
    ['an extended label type', `${HDR(1, 0)} 41 61 00 0001 0001`, 'question 1 name', 12],
    ['a reserved label type', `${HDR(1, 0)} 81 61 00 0001 0001`, 'question 1 name', 12],
    ['a name over 255 bytes', `${HDR(1, 0)} ${`3f ${'79'.repeat(63)} `.repeat(4)} 00 0001 0001`, 'question 1 name', 12 + 3 * 64],
    ['a missing answer', `${HDR(1, 2)} ${Q_A} c00c 0001 0001 00000005 0004 0a600064`, 'answer 2 name', 35],
    ['a cut record header', `${HDR(1, 1)} ${Q_A} c00c 0001 0001 0000`, 'answer 1', 21],
    ['RDATA past the end', `${HDR(1, 1)} ${Q_A} c00c 0001 0001 00000005 0005 0a600064`, 'answer 1 rdata', 31],
    ['an A record of 5 bytes', `${HDR(1, 1)} ${Q_A} c00c 0001 0001 00000005 0005 0a60006400`, 'answer 1 rdata', 31],
    ['a CNAME shorter than its RDATA', `${HDR(1, 1)} ${Q_A} c00c 0005 0001 00000005 0004 c00c 0000`, 'answer 1 rdata', 33],
    ['a CNAME name past its RDATA', `${HDR(1, 1)} ${Q_A} c00c 0005 0001 00000005 0002 01 62 00`, 'answer 1 rdata', 33],
    ['a forward pointer in RDATA', `${HDR(1, 1)} ${Q_A} c00c 0005 0001 00000005 0002 c0 25 00`, 'compression pointer', 31],
    ['a cut SOA', `${HDR(1, 0, 1)} ${Q_A} c00c 0006 0001 00000005 0008 00 00 00000001 0002`, 'authority 1 rdata', 33],
    ['a TXT string past its RDATA', `${HDR(1, 1)} ${Q_A} c00c 0010 0001 00000005 0003 05 6162`, 'answer 1 rdata', 31],
    ['an EDNS option past its RDATA', `${HDR(0, 0, 0, 1)} 00 0029 04d0 00000000 0006 000a 0008 c0ff`, 'additional 1 rdata', 23],
    ['a cut EDNS option header', `${HDR(0, 0, 0, 1)} 00 0029 04d0 00000000 0002 000a`, 'additional 1 rdata', 23],
    ['an SRV without its fixed fields', `${HDR(1, 1)} ${Q_A} c00c 0021 0001 00000005 0004 00000000`, 'answer 1 rdata', 31],
  ])('rejects %s, naming the field and the absolute offset', (_what, bytesHex, field, offset) => {
    const b = Buffer.concat([Buffer.alloc(AT, 0xee), hex(bytesHex)]);
    expect(() => dns.parse(b, AT)).toThrow(MalformedPacketError);
    expect(() => dns.parse(b, AT)).toThrow(expect.objectContaining({ protocol: 'dns', field, offset: AT + offset }));
  });

  it('stops at `end`: a message cut by its UDP length is malformed even with bytes after it', () => {
    const b = Buffer.alloc(dns.encodedLength(ptrReply) + 10);
    const n = dns.emit(ptrReply, b);
    expect(dns.parse(b, 0, n)).toEqual(ptrReply);
    expect(() => dns.parse(b, 0, n - 1)).toThrow(expect.objectContaining({ protocol: 'dns', field: 'answer 1 rdata' }));
  });

  it('round-trips any message, with and without compression, at any offset', () => {
    fc.assert(
      fc.property(arbMessage, fc.boolean(), fc.nat({ max: 20 }), (m, compress, at) => {
        const opts = { compress };
        const n = dns.encodedLength(m, opts);
        const b = sentinel(at + n + 3);
        expect(dns.emit(m, b, at, opts)).toBe(n);
        expect(b.subarray(at + n)).toEqual(sentinel(3));
        const parsed = dns.parse(b, at, at + n);
        expect(parsed).toEqual(m);
        // emit(parse(bytes)) is the bytes, wherever the message sits
        const again = Buffer.alloc(n);
        expect(dns.emit(parsed, again, 0, opts)).toBe(n);
        expect(again).toEqual(b.subarray(at, at + n));
        if (compress) expect(n).toBeLessThanOrEqual(dns.encodedLength(m, { compress: false }));
      }),
      { numRuns: 300 },
    );
  });

  it('parse throws only MalformedPacketError, on arbitrary bytes and on damaged messages', () => {
    fc.assert(
      fc.property(bytes(300), fc.nat({ max: 20 }), fc.nat({ max: 320 }), (b, off, end) => {
        expectMalformedOnly(() => dns.parse(b, off, end));
        expectMalformedOnly(() => dns.parse(b));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        arbMessage,
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (m, damage, cut) => {
          const b = Buffer.alloc(dns.encodedLength(m));
          dns.emit(m, b);
          for (const [pos, v] of damage) if (b.length > 0) b[pos % b.length] = v;
          expectMalformedOnly(() => dns.parse(b));
          expectMalformedOnly(() => dns.parse(b, 0, cut % (b.length + 1)));
        },
      ),
      { numRuns: 500 },
    );
  });
});
