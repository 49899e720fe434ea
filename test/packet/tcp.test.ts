import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as tcp from '../../src/packet/tcp.js';
import { MalformedPacketError } from '../../src/packet/errors.js';
import { KEEP_CHECKSUM, type PseudoHeader } from '../../src/packet/emit-options.js';
import { parseIpv4 } from '../../src/packet/addr.js';
import { expectThrowsOnly } from '../helpers/errors.js';
import { hex, sentinel } from '../helpers/frames.js';
import { writeClassicPcap } from '../helpers/pcap-file.js';
import { rawIpv4Frame } from '../helpers/raw-frames.js';
import { referenceL4Sites, rewriteIpv4Address, siteLabel as label, type ReferenceSite as TcpSite } from '../helpers/reference-ipv4.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dir.js';
import { captureProblems, tsharkFields } from '../helpers/tshark.js';

afterAll(removeTempDirs);

// The IPv4 header is located by hand (ipv4.ts is not a dependency of this test): see reference-ipv4.ts.
const tcpSites: TcpSite[] = referenceL4Sites(6);
const firstTcp = (file: string): TcpSite => tcpSites.find((s) => s.frame.file === file)!;
const parseSite = (s: TcpSite): tcp.TcpRepr => tcp.parse(s.frame.bytes, s.packet.l4, s.packet.end, { pseudo: s.packet.pseudo });
const tcpHeaderHex = (s: TcpSite, b: Buffer = s.frame.bytes) =>
  b.subarray(s.packet.l4, s.packet.l4 + tcp.headerLen(b, s.packet.l4)).toString('hex');

/** Re-emits the TCP header over a sentinel and returns the frame's hex. */
function reemit(s: TcpSite, r: tcp.TcpRepr, opts = KEEP_CHECKSUM): string {
  const out = Buffer.from(s.frame.bytes);
  const hl = tcp.headerLen(out, s.packet.l4);
  out.fill(0xa5, s.packet.l4, s.packet.l4 + hl);
  expect(tcp.emit(r, out, s.packet.l4, s.packet.pseudo, opts)).toBe(hl);
  return out.toString('hex');
}

/** Ethernet + IPv4 (20 bytes, DF, TTL 64) around a TCP segment built from r and the payload. */
function tcpFrame(pseudo: PseudoHeader, r: Omit<tcp.TcpRepr, 'payloadLen' | 'checksum'>, payload: Buffer): Buffer {
  const hl = tcp.reprHeaderLen(r);
  return rawIpv4Frame({ ...pseudo, protocol: 6 }, hl + payload.length, (f, l4) => {
    payload.copy(f, l4 + hl);
    expect(tcp.emit({ ...r, checksum: 0, payloadLen: payload.length }, f, l4, pseudo)).toBe(hl);
  });
}

const PSEUDO: PseudoHeader = { src: parseIpv4('10.244.1.2'), dst: parseIpv4('10.244.2.2') };

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.nat({ max: 0xffff_ffff });
const arbOption: fc.Arbitrary<tcp.TcpOption> = fc.oneof(
  fc.constant({ kind: 'nop' } as const),
  fc.record({ kind: fc.constant('mss' as const), value: u16 }),
  fc.record({ kind: fc.constant('window-scale' as const), shift: fc.integer({ min: 0, max: 255 }) }),
  fc.constant({ kind: 'sack-permitted' } as const),
  fc.record({ kind: fc.constant('sack' as const), blocks: fc.array(fc.record({ left: u32, right: u32 }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('timestamps' as const), tsval: u32, tsecr: u32 }),
  fc.record({
    kind: fc.constant('unknown' as const),
    type: fc.integer({ min: 6, max: 255 }).filter((t) => t !== tcp.TCPOPT_TIMESTAMP),
    data: fc.uint8Array({ maxLength: 12 }),
  }),
);
/** Option lists that fit in 40 bytes, some ending in an explicit EOL with padding. */
const arbOptions: fc.Arbitrary<readonly tcp.TcpOption[]> = fc
  .tuple(fc.array(arbOption, { maxLength: 10 }), fc.option(fc.nat({ max: 39 }), { nil: undefined }))
  .map(([all, eolPadding]) => {
    const out: tcp.TcpOption[] = [];
    let len = 0;
    for (const o of all) {
      if (len + tcp.optionLen(o) > tcp.MAX_OPTIONS_LEN) break;
      out.push(o);
      len += tcp.optionLen(o);
    }
    if (eolPadding !== undefined && len < tcp.MAX_OPTIONS_LEN) {
      out.push({ kind: 'eol', padding: Math.min(eolPadding, tcp.MAX_OPTIONS_LEN - len - 1) });
    }
    return out;
  });
const arbRepr: fc.Arbitrary<tcp.TcpRepr> = fc.record({
  srcPort: u16,
  dstPort: u16,
  seq: u32,
  ack: u32,
  flags: fc.integer({ min: 0, max: 0x1ff }),
  reserved: fc.integer({ min: 0, max: 7 }),
  window: u16,
  checksum: u16,
  urgentPointer: u16,
  options: arbOptions,
  payloadLen: fc.integer({ min: 0, max: 64 }),
});
const arbPseudo = fc.record({ src: u32, dst: u32 });

describe('tcp', () => {
  it("reads pa's SYN in the egress-masquerade reference: Linux's 20 option bytes, no padding", () => {
    const s = firstTcp('egress-masquerade/kr-pa-eth0.pcap');
    expect(parseSite(s)).toEqual({
      srcPort: 59054,
      dstPort: 8080,
      seq: 871333948,
      ack: 0,
      flags: tcp.SYN,
      reserved: 0,
      window: 64860,
      checksum: 0x79b1,
      urgentPointer: 0,
      options: [
        { kind: 'mss', value: 1410 },
        { kind: 'sack-permitted' },
        { kind: 'timestamps', tsval: 0xb87e9035, tsecr: 0 },
        { kind: 'nop' },
        { kind: 'window-scale', shift: 10 },
      ],
      payloadLen: 0,
    });
    const b = s.frame.bytes;
    const o = s.packet.l4;
    expect([tcp.srcPort(b, o), tcp.dstPort(b, o), tcp.seq(b, o), tcp.ack(b, o)]).toEqual([59054, 8080, 871333948, 0]);
    expect([tcp.dataOffset(b, o), tcp.headerLen(b, o), tcp.flags(b, o), tcp.window(b, o), tcp.checksum(b, o)]).toEqual([
      10, 40, tcp.SYN, 64860, 0x79b1,
    ]);
    expect([tcp.mssOption(b, o), tcp.windowScaleOption(b, o), tcp.findOption(b, o, tcp.TCPOPT_TIMESTAMP)]).toEqual([1410, 10, o + 26]);
    expect(tcp.findOption(b, o, tcp.TCPOPT_SACK)).toBe(-1);
    expect(tcp.hasValidChecksum(b, o, s.packet.end, s.packet.pseudo)).toBe(true);
  });

  it('reads the SYN-ACK, the request and the FIN of the same connection', () => {
    const sites = tcpSites.filter((s) => s.frame.file === 'egress-masquerade/kr-pa-eth0.pcap').map(parseSite);
    expect(sites[1]).toMatchObject({ srcPort: 8080, dstPort: 59054, seq: 2234585554, ack: 871333949, flags: tcp.SYN | tcp.ACK, window: 65160 });
    expect(sites[1]!.options[0]).toEqual({ kind: 'mss', value: 1460 });
    const request = sites.find((r) => r.payloadLen > 0)!;
    expect(request).toMatchObject({ srcPort: 59054, flags: tcp.PSH | tcp.ACK, payloadLen: 82 });
    expect(request.options).toEqual([{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 0xb87e9036, tsecr: 0x47deda37 }]);
    expect(sites.filter((r) => r.flags === (tcp.FIN | tcp.ACK))).toHaveLength(2);
  });

  it(`re-emits every TCP header of the kernel references byte for byte, kept and computed checksums (${tcpSites.length} headers)`, () => {
    expect(tcpSites.length).toBeGreaterThan(240);
    expect(tcpSites.filter((s) => s.packet.inner)).toHaveLength(36);
    for (const s of tcpSites) {
      expect(s.packet.moreFragments, label(s)).toBe(false);
      const r = parseSite(s);
      expect(r.payloadLen, label(s)).toBe(s.packet.end - s.packet.l4 - tcp.headerLen(s.frame.bytes, s.packet.l4));
      expect(reemit(s, r), label(s)).toBe(s.frame.bytes.toString('hex'));
      expect(reemit(s, r, {}), label(s)).toBe(s.frame.bytes.toString('hex'));
    }
  });

  it('agrees with tshark on every TCP field of every reference capture holding TCP', () => {
    const fields = [
      'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.flags', 'tcp.hdr_len', 'tcp.len',
      'tcp.window_size_value', 'tcp.checksum', 'tcp.urgent_pointer', 'tcp.option_kind', 'tcp.options.mss_val',
      'tcp.options.wscale.shift', 'tcp.options.timestamp.tsval', 'tcp.options.timestamp.tsecr',
    ];
    const files = [...new Set(tcpSites.map((s) => s.frame.file))];
    expect(files.length).toBe(25);
    for (const file of files) {
      const lines = tsharkFields(join('fixtures/kernel', file), fields).trimEnd().split('\n').slice(1);
      for (const s of tcpSites.filter((x) => x.frame.file === file)) {
        const r = parseSite(s);
        const opt = <K extends tcp.TcpOption['kind']>(k: K) =>
          r.options.filter((o): o is Extract<tcp.TcpOption, { kind: K }> => o.kind === k);
        const kinds: Record<tcp.TcpOption['kind'], number> = {
          eol: 0, nop: 1, mss: 2, 'window-scale': 3, 'sack-permitted': 4, sack: 5, timestamps: 8, unknown: -1,
        };
        const mine = [
          r.srcPort, r.dstPort, r.seq, r.ack,
          `0x${((r.reserved << 9) | r.flags).toString(16).padStart(4, '0')}`,
          tcp.reprHeaderLen(r), r.payloadLen, r.window, `0x${r.checksum.toString(16).padStart(4, '0')}`, r.urgentPointer,
          r.options.map((o) => (o.kind === 'unknown' ? o.type : kinds[o.kind])).join(','),
          opt('mss').map((o) => o.value).join(','),
          opt('window-scale').map((o) => o.shift).join(','),
          opt('timestamps').map((o) => o.tsval).join(','),
          opt('timestamps').map((o) => o.tsecr).join(','),
        ].join('\t');
        expect(mine, label(s)).toBe(lines[s.frame.index]);
      }
    }
  });

  it("patches NAT rewrites incrementally to the kernel's own bytes: flannel's masquerade and kube-proxy's DNAT", () => {
    // SNAT (egress-masquerade): pa's SYN leaves node 1 from 192.168.1.10 with a new source port.
    const before = firstTcp('egress-masquerade/kr-pa-eth0.pcap');
    const after = firstTcp('egress-masquerade/kr-n1-eth0.pcap');
    const snat = Buffer.from(before.frame.bytes);
    const newSrc = after.packet.pseudo.src;
    rewriteIpv4Address(snat, before.packet, 'src', newSrc);
    tcp.updateChecksumForAddress(snat, before.packet.l4, before.packet.pseudo.src, newSrc);
    tcp.setSrcPort(snat, before.packet.l4, tcp.srcPort(after.frame.bytes, after.packet.l4));
    expect(tcpHeaderHex(before, snat)).toBe(tcpHeaderHex(after));
    expect(tcp.checksum(snat, before.packet.l4)).toBe(0xf6d0);

    // DNAT (clusterip-http): 10.96.0.100:80 becomes the endpoint 10.244.2.2:8080, seen inside VXLAN.
    const syn = firstTcp('clusterip-http/kr-pa-eth0.pcap');
    const encapsulated = firstTcp('clusterip-http/kr-n1-eth0.pcap');
    expect(encapsulated.packet.inner).toBe(true);
    const dnat = Buffer.from(syn.frame.bytes);
    const endpoint = encapsulated.packet.pseudo.dst;
    rewriteIpv4Address(dnat, syn.packet, 'dst', endpoint);
    tcp.updateChecksumForAddress(dnat, syn.packet.l4, syn.packet.pseudo.dst, endpoint);
    tcp.setDstPort(dnat, syn.packet.l4, 8080);
    expect(tcpHeaderHex(syn, dnat)).toBe(tcpHeaderHex(encapsulated));
  });

  it('emits into a sentinel buffer: options in order, and the checksum over an odd-length payload in place', () => {
    const b = sentinel(1 + 40 + 1);
    const n = tcp.emit(
      {
        srcPort: 0x1234,
        dstPort: 80,
        seq: 0x01020304,
        ack: 0x05060708,
        flags: tcp.SYN | tcp.ECE | tcp.CWR | tcp.AE,
        reserved: 0b101,
        window: 0xfaf0,
        checksum: 0xbeef,
        urgentPointer: 0x0102,
        options: [
          { kind: 'mss', value: 1460 },
          { kind: 'sack-permitted' },
          { kind: 'timestamps', tsval: 0x11223344, tsecr: 0x55667788 },
          { kind: 'nop' },
          { kind: 'window-scale', shift: 7 },
        ],
        payloadLen: 0,
      },
      b,
      1,
      PSEUDO,
      KEEP_CHECKSUM,
    );
    expect(n).toBe(40);
    expect(b).toEqual(
      hex(`a5 1234 0050 01020304 05060708 ab c2 faf0 beef 0102
           020405b4 0402 080a1122334455667788 01 030307 a5`),
    );

    // 10.0.0.1 → 10.0.0.2, 20-byte header, payload 'A': pseudo 0x141e + header 0x16286 + 0x4100
    // = 0x1b7a4 → folds to 0xb7a5 → ~ = 0x485a.
    const c = sentinel(20 + 1 + 1);
    c[20] = 0x41;
    const pseudo = { src: parseIpv4('10.0.0.1'), dst: parseIpv4('10.0.0.2') };
    const r = { srcPort: 0x1234, dstPort: 80, seq: 1, ack: 0, flags: tcp.SYN, reserved: 0, window: 0xffff, checksum: 0, urgentPointer: 0, options: [], payloadLen: 1 };
    expect(tcp.emit(r, c, 0, pseudo)).toBe(20);
    expect(c).toEqual(hex('1234 0050 00000001 00000000 50 02 ffff 485a 0000 41 a5'));
  });

  it('pads a list that does not fill 4 bytes with zeros and reads the padding back as EOL', () => {
    const options: tcp.TcpOption[] = [{ kind: 'mss', value: 1460 }, { kind: 'window-scale', shift: 7 }];
    expect(tcp.reprHeaderLen({ options })).toBe(28);
    const b = sentinel(28);
    const r = { srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: tcp.SYN, reserved: 0, window: 5, checksum: 6, urgentPointer: 0, options, payloadLen: 0 };
    tcp.emit(r, b, 0, PSEUDO, KEEP_CHECKSUM);
    expect(b.subarray(20).toString('hex')).toBe('020405b403030700');
    expect(tcp.parse(b).options).toEqual([...options, { kind: 'eol', padding: 0 }]);
    expect(tcp.paddedOptions(options)).toEqual([...options, { kind: 'eol', padding: 0 }]);
    expect(tcp.paddedOptions([{ kind: 'nop' }, { kind: 'eol', padding: 0 }])).toEqual([{ kind: 'nop' }, { kind: 'eol', padding: 2 }]);
  });

  it('writes the vectors the references lack (SACK, EOL padding, URG, RST) into a capture tshark accepts', () => {
    const base = { reserved: 0, urgentPointer: 0 } as const;
    const sack = tcpFrame(PSEUDO, {
      ...base, srcPort: 40001, dstPort: 8080, seq: 1000, ack: 5000, flags: tcp.ACK, window: 502,
      options: [
        { kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 0x01020304, tsecr: 0x05060708 },
        { kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [{ left: 6000, right: 7000 }, { left: 8000, right: 9000 }] },
      ],
    }, Buffer.alloc(0));
    const eol = tcpFrame(PSEUDO, {
      ...base, srcPort: 40002, dstPort: 8080, seq: 100, ack: 0, flags: tcp.SYN, window: 64240,
      options: [{ kind: 'mss', value: 1460 }, { kind: 'window-scale', shift: 7 }, { kind: 'sack-permitted' }, { kind: 'eol', padding: 2 }],
    }, Buffer.alloc(0));
    const urg = tcpFrame(PSEUDO, {
      ...base, srcPort: 40003, dstPort: 8080, seq: 7, ack: 9, flags: tcp.URG | tcp.ACK | tcp.PSH, window: 512, urgentPointer: 3,
      options: [],
    }, Buffer.from('abcdef'));
    const rst = tcpFrame(PSEUDO, {
      ...base, srcPort: 8080, dstPort: 40004, seq: 0, ack: 12345, flags: tcp.RST | tcp.ACK, window: 0, options: [],
    }, Buffer.alloc(0));

    expect(eol.subarray(34 + 20, 34 + 32).toString('hex')).toBe('020405b4030307040200' + '0000');
    expect(tcp.parse(eol, 34, eol.length, { pseudo: PSEUDO }).options.at(-1)).toEqual({ kind: 'eol', padding: 2 });
    expect(tcp.parse(sack, 34, sack.length, { pseudo: PSEUDO }).options.at(-1)).toEqual({
      kind: 'sack',
      blocks: [{ left: 6000, right: 7000 }, { left: 8000, right: 9000 }],
    });
    expect(tcp.parse(urg, 34, urg.length, { pseudo: PSEUDO })).toMatchObject({ urgentPointer: 3, payloadLen: 6 });

    const file = join(tempDir('tcp'), 'tcp-vectors.pcap');
    writeClassicPcap(file, [sack, eol, urg, rst]);
    expect(captureProblems(file)).toEqual([]);
    expect(
      tsharkFields(file, [
        'tcp.srcport', 'tcp.flags', 'tcp.hdr_len', 'tcp.option_kind', 'tcp.options.sack_le', 'tcp.options.sack_re',
        'tcp.options.sack.count', 'tcp.urgent_pointer', 'tcp.seq_raw', 'tcp.window_size_value', 'tcp.checksum.status',
      ]),
    ).toBe(
      [
        'tcp.srcport\ttcp.flags\ttcp.hdr_len\ttcp.option_kind\ttcp.options.sack_le\ttcp.options.sack_re\ttcp.options.sack.count\ttcp.urgent_pointer\ttcp.seq_raw\ttcp.window_size_value\ttcp.checksum.status',
        // SACK edges are relative to the peer's first sequence number, taken from this ACK (5000 shows as 1).
        '40001\t0x0010\t52\t1,1,8,1,1,5\t1001,3001\t2001,4001\t2\t0\t1000\t502\t1',
        // tshark shows each padding byte after the EOL as one more EOL: {kind: 'eol', padding: 2} is 0,0,0.
        '40002\t0x0002\t32\t2,3,4,0,0,0\t\t\t\t0\t100\t64240\t1',
        '40003\t0x0038\t20\t\t\t\t\t3\t7\t512\t1',
        '8080\t0x0014\t20\t\t\t\t\t0\t0\t0\t1',
        '',
      ].join('\n'),
    );
  });

  it('keeps reserved bits, AE and the checksum as read, and honours every flag constant', () => {
    expect([tcp.FIN, tcp.SYN, tcp.RST, tcp.PSH, tcp.ACK, tcp.URG, tcp.ECE, tcp.CWR, tcp.AE, tcp.NS]).toEqual([
      0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x100, 0x100,
    ]);
    const b = hex('0001 0002 00000003 00000004 5f ff 0005 0006 0007');
    const r = tcp.parse(b);
    expect(r).toMatchObject({ flags: 0x1ff, reserved: 7, checksum: 6, urgentPointer: 7, options: [], payloadLen: 0 });
    expect(tcp.flags(b, 0)).toBe(0x1ff);
  });

  it('incremental NAT updates equal a full recomputation', () => {
    fc.assert(
      fc.property(arbRepr, arbPseudo, u32, u16, u16, (r, ph, newDst, newSrcPort, newDstPort) => {
        const hl = tcp.reprHeaderLen(r);
        const b = Buffer.alloc(hl + r.payloadLen, 0x5c);
        tcp.emit(r, b, 0, ph);
        tcp.updateChecksumForAddress(b, 0, ph.dst, newDst);
        tcp.setSrcPort(b, 0, newSrcPort);
        tcp.setDstPort(b, 0, newDstPort);
        const fresh = Buffer.from(b);
        tcp.emit({ ...r, srcPort: newSrcPort, dstPort: newDstPort }, fresh, 0, { src: ph.src, dst: newDst });
        expect(tcp.checksum(b, 0)).toBe(tcp.checksum(fresh, 0));
        expect(tcp.hasValidChecksum(b, 0, b.length, { src: ph.src, dst: newDst })).toBe(true);
      }),
    );
  });

  // Each row: the bytes from offset 2 (two junk bytes precede the header), the field and the
  // absolute offset the error must name.
  const fixed = (dataOffsetByte: string) => `0000 1234 0050 00000001 00000000 ${dataOffsetByte} 02 ffff 0000 0000`;
  it.each([
    ['header cut short', 'header', 2, '0000 1234 0050 00000001 00000000 50 02 ffff 0000 00'],
    ['data offset below 5', 'data offset', 14, fixed('40')],
    ['data offset past the end', 'data offset', 14, fixed('60')],
    ['option length below 2', 'option', 22, fixed('60') + '02 01 0000'],
    ['option running past the header', 'option', 22, fixed('60') + '08 0a 0000'],
    ['option without a length byte', 'option', 25, fixed('60') + '01 01 01 05'],
    ['MSS length', 'option', 22, fixed('60') + '02 03 05 00'],
    ['window scale length', 'option', 22, fixed('60') + '03 04 07 00'],
    ['SACK-permitted length', 'option', 22, fixed('60') + '04 03 00 00'],
    ['SACK length not 8n + 2', 'option', 22, fixed('80') + '05 0b 00000001 00000002 00 00'],
    ['SACK without blocks', 'option', 22, fixed('60') + '05 02 0000'],
    ['timestamps length', 'option', 22, fixed('70') + '08 08 00000000 0000'],
    ['non-zero byte after EOL', 'option', 25, fixed('60') + '01 00 00 01'],
  ] as const)('rejects %s, naming field and absolute offset', (_name, field, offset, text) => {
    const b = hex(text);
    expect(() => tcp.parse(b, 2)).toThrow(expect.objectContaining({ name: 'MalformedPacketError', protocol: 'tcp', field, offset }));
  });

  it('rejects a wrong checksum when given the pseudo-header, and skips it in a first fragment', () => {
    const f = tcpFrame(PSEUDO, {
      srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: tcp.ACK, reserved: 0, window: 5, urgentPointer: 0, options: [],
    }, Buffer.from('data'));
    expect(tcp.parse(f, 34, f.length, { pseudo: PSEUDO }).checksum).toBe(tcp.checksum(f, 34));
    f[f.length - 1]! ^= 1;
    expect(() => tcp.parse(f, 34, f.length, { pseudo: PSEUDO })).toThrow(
      expect.objectContaining({ protocol: 'tcp', field: 'checksum', offset: 34 + 16 }),
    );
    expect(tcp.parse(f, 34, f.length, { pseudo: PSEUDO, firstFragment: true }).payloadLen).toBe(4);
    // The header itself must still be there.
    expect(() => tcp.parse(f, 34, 34 + 8, { firstFragment: true })).toThrow(expect.objectContaining({ field: 'header', offset: 34 }));
  });

  it('refuses to emit more than 40 bytes of options', () => {
    const r = {
      srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: 0, reserved: 0, window: 5, checksum: 0, urgentPointer: 0, payloadLen: 0,
      options: [{ kind: 'unknown', type: 254, data: new Uint8Array(39) }] as const,
    };
    expect(() => tcp.emit(r, Buffer.alloc(80), 0, PSEUDO)).toThrow(RangeError);
  });

  it('round-trips: parse(emit(r)) is r (with emit padding read back as EOL), and emit(parse(bytes)) is the bytes', () => {
    fc.assert(
      fc.property(arbRepr, arbPseudo, (r, ph) => {
        const hl = tcp.reprHeaderLen(r);
        const b = Buffer.alloc(hl + r.payloadLen, 0x3c);
        expect(tcp.emit(r, b, 0, ph, KEEP_CHECKSUM)).toBe(hl);
        const back = tcp.parse(b);
        expect(back).toEqual({ ...r, options: tcp.paddedOptions(r.options) });
        if (tcp.optionsLen(r.options) % 4 === 0) expect(back).toEqual(r);
        tcp.emit(r, b, 0, ph);
        expect(tcp.parse(b, 0, b.length, { pseudo: ph })).toEqual({ ...r, options: tcp.paddedOptions(r.options), checksum: tcp.checksum(b, 0) });
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), arbOptions, fc.uint8Array({ maxLength: 16 }), (fixedPart, options, payload) => {
        const scratch = Buffer.alloc(60);
        const hl = tcp.emit({ srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, reserved: 0, window: 0, checksum: 0, urgentPointer: 0, options, payloadLen: 0 }, scratch, 0, PSEUDO, KEEP_CHECKSUM);
        const b = Buffer.concat([fixedPart, scratch.subarray(20, hl), payload]);
        b[12] = ((hl / 4) << 4) | (b[12]! & 0x0f);
        const again = Buffer.from(b);
        again.fill(0, 0, hl);
        expect(tcp.emit(tcp.parse(b), again, 0, PSEUDO, KEEP_CHECKSUM)).toBe(hl);
        expect(again).toEqual(b);
      }),
    );
  });

  it('parse throws only MalformedPacketError on arbitrary bytes, header lengths and bounds', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 80 }),
        fc.integer({ min: 5, max: 15 }),
        fc.boolean(),
        fc.integer({ min: -2, max: 84 }),
        fc.integer({ min: -2, max: 84 }),
        fc.option(arbPseudo, { nil: undefined }),
        fc.boolean(),
        (bytes, words, forceOffset, off, end, pseudo, firstFragment) => {
          const b = Uint8Array.from(bytes);
          // Half the runs get a plausible data offset, so the option parser sees random bytes.
          if (forceOffset && off >= 0 && off + 12 < b.length) b[off + 12] = (words << 4) | (b[off + 12]! & 0x0f);
          expectThrowsOnly(MalformedPacketError, () => tcp.parse(b, off, end, pseudo ? { pseudo, firstFragment } : { firstFragment }));
          // The allocation-free option walkers never throw either, whatever the options hold.
          if (off >= 0 && off + 20 <= b.length) {
            expect(tcp.mssOption(b, off)).toBeGreaterThanOrEqual(-1);
            expect(tcp.windowScaleOption(b, off)).toBeGreaterThanOrEqual(-1);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
