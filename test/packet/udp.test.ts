import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as udp from '../../src/packet/udp.js';
import { MalformedPacketError } from '../../src/packet/errors.js';
import { KEEP_CHECKSUM, type PseudoHeader } from '../../src/packet/emit-options.js';
import { finish, fold, pseudoHeaderSum, sum } from '../../src/packet/checksum.js';
import { parseIpv4 } from '../../src/packet/addr.js';
import { expectThrowsOnly } from '../helpers/errors.js';
import { hex, kernelReferenceFrames, sentinel } from '../helpers/frames.js';
import { writeClassicPcap } from '../helpers/pcap-file.js';
import { rawIpv4Frame } from '../helpers/raw-frames.js';
import { ipv4Packets, referenceL4Sites, rewriteIpv4Address, siteLabel as label, type ReferenceSite as UdpSite } from '../helpers/reference-ipv4.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dir.js';
import { captureProblems, tsharkFields } from '../helpers/tshark.js';

afterAll(removeTempDirs);

// The IPv4 header is located by hand (ipv4.ts is not a dependency of this test): see reference-ipv4.ts.
const udpSites: UdpSite[] = referenceL4Sites(17);

/** Re-emits the UDP header over a sentinel and returns the frame's hex. */
function reemit(s: UdpSite, r: udp.UdpRepr, opts = KEEP_CHECKSUM): string {
  const out = Buffer.from(s.frame.bytes);
  out.fill(0xa5, s.packet.l4, s.packet.l4 + udp.HEADER_LEN);
  expect(udp.emit(r, out, s.packet.l4, s.packet.pseudo, opts)).toBe(8);
  return out.toString('hex');
}

/** Ethernet + IPv4 (20 bytes, DF, TTL 64) around a UDP datagram of the given payload. */
function udpFrame(pseudo: PseudoHeader, r: Omit<udp.UdpRepr, 'payloadLen' | 'checksum'>, payload: Buffer): Buffer {
  return rawIpv4Frame({ ...pseudo, protocol: 17 }, 8 + payload.length, (f, l4) => {
    payload.copy(f, l4 + 8);
    udp.emit({ ...r, checksum: 0, payloadLen: payload.length }, f, l4, pseudo);
  });
}

const PSEUDO: PseudoHeader = { src: parseIpv4('10.244.1.2'), dst: parseIpv4('10.244.2.3') };

const arbRepr: fc.Arbitrary<udp.UdpRepr> = fc.record({
  srcPort: fc.integer({ min: 0, max: 0xffff }),
  dstPort: fc.integer({ min: 0, max: 0xffff }),
  checksum: fc.integer({ min: 0, max: 0xffff }),
  payloadLen: fc.integer({ min: 0, max: 64 }),
});
const arbPseudo = fc.record({ src: fc.nat({ max: 0xffff_ffff }), dst: fc.nat({ max: 0xffff_ffff }) });

describe('udp', () => {
  it('reads the DNS query of the dns reference: pa 55489 → 53, length 58, checksum 0x6cfa', () => {
    const s = udpSites.find((x) => x.frame.file === 'dns/kr-pa-eth0.pcap' && x.packet.l4 === 34)!;
    const r = udp.parse(s.frame.bytes, s.packet.l4, s.packet.end, { pseudo: s.packet.pseudo });
    expect(r).toEqual({ srcPort: 55489, dstPort: 53, checksum: 0x6cfa, payloadLen: 50 });
    const b = s.frame.bytes;
    expect([udp.srcPort(b, 34), udp.dstPort(b, 34), udp.length(b, 34), udp.checksum(b, 34)]).toEqual([55489, 53, 58, 0x6cfa]);
    expect(udp.hasValidChecksum(b, 34, s.packet.pseudo)).toBe(true);
  });

  it("reads flannel's outer VXLAN header: node 1 → node 2 on port 8472 with a checksum", () => {
    const s = udpSites.find((x) => x.frame.file === 'clusterip-http/kr-n1-eth0.pcap' && !x.packet.inner && x.packet.protocol === 17)!;
    const r = udp.parse(s.frame.bytes, s.packet.l4, s.packet.end, { pseudo: s.packet.pseudo });
    expect(r).toEqual({ srcPort: udp.srcPort(s.frame.bytes, 34), dstPort: 8472, checksum: 0xe013, payloadLen: 82 });
  });

  it(`parses every UDP header of the kernel references, outer and inside VXLAN, and re-emits it byte for byte (${udpSites.length} headers)`, () => {
    expect(udpSites.length).toBeGreaterThan(450);
    let firstFragments = 0;
    for (const s of udpSites) {
      const { frame, packet: p } = s;
      if (p.moreFragments) {
        // The header sits in the first fragment; its length and checksum cover the whole datagram.
        expect(() => udp.parse(frame.bytes, p.l4, p.end, { pseudo: p.pseudo }), label(s)).toThrow(MalformedPacketError);
        const r = udp.parse(frame.bytes, p.l4, p.end, { pseudo: p.pseudo, firstFragment: true });
        expect(r.payloadLen + 8, label(s)).toBeGreaterThan(p.end - p.l4);
        expect(reemit(s, r), label(s)).toBe(frame.bytes.toString('hex'));
        firstFragments++;
        continue;
      }
      const r = udp.parse(frame.bytes, p.l4, p.end, { pseudo: p.pseudo });
      expect(r.checksum, label(s)).not.toBe(0);
      expect(r.payloadLen, label(s)).toBe(p.end - p.l4 - 8);
      expect(reemit(s, r), label(s)).toBe(frame.bytes.toString('hex'));
      expect(reemit(s, r, {}), label(s)).toBe(frame.bytes.toString('hex'));
    }
    expect(firstFragments).toBe(10); // the mtu scenario's 1472-byte datagram, plain and inside VXLAN
  });

  it('agrees with tshark on every UDP field of the dns and clusterip-http node captures', () => {
    for (const file of ['dns/kr-n1-eth0.pcap', 'dns/kr-pa-eth0.pcap', 'dns/kr-n2-flannel.1.pcap', 'clusterip-http/kr-underlay-br0.pcap']) {
      const lines = tsharkFields(join('fixtures/kernel', file), ['udp.srcport', 'udp.dstport', 'udp.length', 'udp.checksum'])
        .trimEnd()
        .split('\n')
        .slice(1);
      const frames = kernelReferenceFrames().filter((f) => f.file === file);
      expect(lines.length).toBe(frames.length);
      let seen = 0;
      frames.forEach((f, i) => {
        const rs = udpSites
          .filter((s) => s.frame === f)
          .map((s) => udp.parse(f.bytes, s.packet.l4, s.packet.end));
        const cols = [
          rs.map((r) => r.srcPort).join(','),
          rs.map((r) => r.dstPort).join(','),
          rs.map((r) => r.payloadLen + 8).join(','),
          rs.map((r) => `0x${r.checksum.toString(16).padStart(4, '0')}`).join(','),
        ];
        expect(rs.length === 0 ? '\t\t\t' : cols.join('\t'), `${file}#${i + 1}`).toBe(lines[i]);
        seen += rs.length;
      });
      expect(seen).toBeGreaterThan(0);
    }
  });

  it("the mtu scenario's first fragment: header only, and the checksum verifies once reassembled", () => {
    const frames = kernelReferenceFrames().filter((f) => f.file === 'mtu/kr-pa-eth0.pcap');
    const first = frames.find((f) => ipv4Packets(f.bytes)[0]?.moreFragments)!;
    const p = ipv4Packets(first.bytes)[0]!;
    const r = udp.parse(first.bytes, p.l4, p.end, { pseudo: p.pseudo, firstFragment: true });
    expect(r).toEqual({ srcPort: 33977, dstPort: 9000, checksum: 0x3391, payloadLen: 1472 });
    // The next fragment (offset 1480) carries the rest; glue the two IPv4 payloads together.
    const second = frames[first.index + 1]!;
    const q = ipv4Packets(second.bytes)[0]!;
    expect(q.fragmentOffset * 8).toBe(p.end - p.l4);
    const whole = Buffer.concat([first.bytes.subarray(p.l4, p.end), second.bytes.subarray(q.l4, q.end)]);
    expect(udp.parse(whole, 0, whole.length, { pseudo: p.pseudo })).toEqual(r);
  });

  it('emits into a sentinel buffer: the header only, checksum over the payload in place', () => {
    const b = sentinel(8 + 8 + 4);
    b.write('ping', 9);
    const n = udp.emit({ srcPort: 0x1234, dstPort: 53, checksum: 0, payloadLen: 4 }, b, 1, {
      src: parseIpv4('10.0.0.1'),
      dst: parseIpv4('10.0.0.2'),
    });
    expect(n).toBe(8);
    // pseudo 0x1420 + header 0x1275 + 'ping' 0xded0 = 0x10565 → folds to 0x0566 → ~ = 0xfa99
    expect(b).toEqual(hex('a5 1234 0035 000c fa99 70696e67 a5a5a5a5a5a5a5'));
  });

  it('sends a checksum that computes to 0 as 0xffff (RFC 768), and tshark accepts it', () => {
    // Choose the first payload word so the sum folds to 0xffff: the complement is then 0.
    const payload = Buffer.from('\0\0zero-fold', 'latin1');
    const r = { srcPort: 40000, dstPort: 9000 };
    const scratch = udpFrame(PSEUDO, r, payload);
    scratch.writeUInt16BE(0, 40);
    const rest = fold(sum(scratch, 34, scratch.length, pseudoHeaderSum(PSEUDO.src, PSEUDO.dst, 17, 8 + payload.length)));
    payload.writeUInt16BE(0xffff - rest, 0);
    const f = udpFrame(PSEUDO, r, payload);
    const check = Buffer.from(f);
    check.writeUInt16BE(0, 40);
    expect(finish(sum(check, 34, check.length, pseudoHeaderSum(PSEUDO.src, PSEUDO.dst, 17, 8 + payload.length)))).toBe(0);
    expect(udp.checksum(f, 34)).toBe(0xffff);
    expect(udp.parse(f, 34, f.length, { pseudo: PSEUDO }).checksum).toBe(0xffff);

    // No checksum: a kept 0 is sent as 0 and parse does not verify it.
    const none = udpFrame(PSEUDO, { srcPort: 40001, dstPort: 9000 }, Buffer.from('no checksum'));
    udp.emit({ srcPort: 40001, dstPort: 9000, checksum: 0, payloadLen: 11 }, none, 34, PSEUDO, KEEP_CHECKSUM);
    expect(udp.parse(none, 34, none.length, { pseudo: PSEUDO }).checksum).toBe(0);

    // NAT of a reference DNS query: source 10.244.1.2:55489 → 192.168.1.10:61000, patched incrementally.
    const s = udpSites.find((x) => x.frame.file === 'dns/kr-pa-eth0.pcap' && !x.packet.inner)!;
    const nat = Buffer.from(s.frame.bytes);
    const newSrc = parseIpv4('192.168.1.10');
    rewriteIpv4Address(nat, s.packet, 'src', newSrc);
    udp.updateChecksumForAddress(nat, s.packet.l4, s.packet.pseudo.src, newSrc);
    udp.setSrcPort(nat, s.packet.l4, 61000);
    expect(udp.hasValidChecksum(nat, s.packet.l4, { src: newSrc, dst: s.packet.pseudo.dst })).toBe(true);

    const file = join(tempDir('udp'), 'udp-vectors.pcap');
    writeClassicPcap(file, [f, none, nat]);
    expect(captureProblems(file)).toEqual([]);
    expect(tsharkFields(file, ['udp.srcport', 'udp.checksum', 'udp.checksum.status'])).toBe(
      'udp.srcport\tudp.checksum\tudp.checksum.status\n' +
        '40000\t0xffff\t1\n' +
        '40001\t0x0000\t3\n' + // 3: not present
        '61000\t' + `0x${udp.checksum(nat, s.packet.l4).toString(16)}` + '\t1\n',
    );
  });

  it('keeps "no checksum" through NAT rewrites, and never lets an update produce 0', () => {
    const b = hex('1f90 0035 000c 0000 70696e67');
    udp.setSrcPort(b, 0, 1234);
    udp.setDstPort(b, 0, 5353);
    udp.updateChecksumForAddress(b, 0, parseIpv4('10.0.0.1'), parseIpv4('10.0.0.9'));
    expect(b).toEqual(hex('04d2 14e9 000c 0000 70696e67'));

    // A checksum field whose update lands on 0 must go out as 0xffff: with checksum C and the
    // source port changed from P to P', the RFC 1624 result is ~(~C + ~P + P'); pick P' so that
    // ~C + ~P + P' = 0xffff.
    const c = 0x1234;
    const p = 0x0400;
    const pNew = 0xffff - ((~c & 0xffff) + (~p & 0xffff)) % 0xffff;
    const z = Buffer.alloc(8);
    z.writeUInt16BE(p, 0);
    z.writeUInt16BE(c, 6);
    udp.setSrcPort(z, 0, pNew);
    expect(udp.checksum(z, 0)).toBe(0xffff);
  });

  it('incremental NAT updates equal a full recomputation', () => {
    fc.assert(
      fc.property(arbRepr, arbPseudo, fc.nat({ max: 0xffff_ffff }), fc.integer({ min: 0, max: 0xffff }), (r, ph, newSrc, newPort) => {
        const b = Buffer.alloc(8 + r.payloadLen, 0x5c);
        udp.emit(r, b, 0, ph);
        udp.updateChecksumForAddress(b, 0, ph.src, newSrc);
        udp.setDstPort(b, 0, newPort);
        const fresh = Buffer.from(b);
        udp.emit({ ...r, dstPort: newPort }, fresh, 0, { src: newSrc, dst: ph.dst });
        expect(udp.checksum(b, 0)).toBe(udp.checksum(fresh, 0));
        expect(udp.hasValidChecksum(b, 0, { src: newSrc, dst: ph.dst })).toBe(true);
      }),
    );
  });

  it.each([
    ['header', 'header', 2, hex('0000 1234 0035 0008 00'), {}],
    ['length below 8', 'length', 6, hex('0000 1234 0035 0007 0000'), {}],
    ['length past the end', 'length', 6, hex('0000 1234 0035 000d 0000 6869'), {}],
    ['length below 8 in a first fragment', 'length', 6, hex('0000 1234 0035 0000 0000'), { firstFragment: true }],
    ['checksum', 'checksum', 8, hex('0000 1234 0035 000a 0001 6869'), { pseudo: PSEUDO }],
  ] as const)('rejects a bad %s, naming field and absolute offset', (_name, field, offset, bytes, opts) => {
    expect(() => udp.parse(bytes, 2, bytes.length, opts)).toThrow(
      expect.objectContaining({ name: 'MalformedPacketError', protocol: 'udp', field, offset }),
    );
  });

  it('accepts a datagram shorter than its IPv4 payload, and any length in a first fragment', () => {
    const b = hex('1234 0035 000a 0000 6869 0000 0000');
    expect(udp.parse(b, 0, b.length).payloadLen).toBe(2);
    const frag = hex('1234 0035 05c8 ffff 0000');
    expect(udp.parse(frag, 0, frag.length, { pseudo: PSEUDO, firstFragment: true }).payloadLen).toBe(1472);
  });

  it('round-trips: parse(emit(r)) is r, and emit(parse(bytes)) is the bytes', () => {
    fc.assert(
      fc.property(arbRepr, arbPseudo, (r, ph) => {
        const b = Buffer.alloc(8 + r.payloadLen, 0x3c);
        udp.emit(r, b, 0, ph, KEEP_CHECKSUM);
        expect(udp.parse(b)).toEqual(r);
        udp.emit(r, b, 0, ph);
        const computed = udp.parse(b, 0, b.length, { pseudo: ph });
        expect(computed).toEqual({ ...r, checksum: udp.checksum(b, 0) });
        expect(computed.checksum).not.toBe(0);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 40 }), fc.nat(), (bytes, cut) => {
        const b = Buffer.from(bytes);
        b.writeUInt16BE(8 + (cut % (b.length - 7)), 4);
        const again = Buffer.from(b);
        again.fill(0, 0, 8);
        udp.emit(udp.parse(b), again, 0, PSEUDO, KEEP_CHECKSUM);
        expect(again).toEqual(b);
      }),
    );
  });

  it('parse throws only MalformedPacketError on arbitrary bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.integer({ min: -2, max: 44 }),
        fc.integer({ min: -2, max: 44 }),
        fc.option(arbPseudo, { nil: undefined }),
        fc.boolean(),
        (bytes, off, end, pseudo, firstFragment) => {
          expectThrowsOnly(MalformedPacketError, () => udp.parse(bytes, off, end, pseudo ? { pseudo, firstFragment } : { firstFragment }));
        },
      ),
    );
  });
});
