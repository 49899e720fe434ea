import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as icmp from '../../src/packet/icmp.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as ethernet from '../../src/packet/ethernet.js';
import { MalformedPacketError } from '../../src/packet/errors.js';
import { parseIpv4, parseMac } from '../../src/packet/addr.js';
import { KEEP_CHECKSUM } from '../../src/packet/emit-options.js';
import { expectThrowsOnly, thrown } from '../helpers/errors.js';
import { hex, readClassicPcapFrames, KERNEL_DIR, sentinel } from '../helpers/frames.js';
import { writeClassicPcap } from '../helpers/pcap-file.js';
import { writeUdp } from '../helpers/raw-frames.js';
import { referenceSites, siteLabel } from '../helpers/reference-ipv4.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dir.js';
import { captureProblems, tsharkFields } from '../helpers/tshark.js';

const ETH_LEN = 14;

afterAll(removeTempDirs);

interface Located {
  readonly where: string;
  readonly frame: Buffer;
  /** Offset of the IPv4 header carrying the ICMP message. */
  readonly ip: number;
  readonly off: number;
  readonly end: number;
}

/** Every ICMP message in the kernel references: over IPv4 after Ethernet, and inside flannel's VXLAN. */
function referenceIcmpMessages(): Located[] {
  return referenceSites((p) => p.protocol === ipv4.PROTO_ICMP).map((s) => ({
    where: siteLabel(s),
    frame: s.frame.bytes,
    ip: s.packet.ip,
    off: s.packet.l4,
    end: s.packet.end,
  }));
}

const ROUTER_MAC = parseMac('8e:c8:45:7c:6a:64');
const POD_MAC = parseMac('46:55:0a:a9:14:52');
const POD = parseIpv4('10.244.1.2');
const GATEWAY = parseIpv4('10.244.1.1');
const REMOTE = parseIpv4('10.244.2.2');

/** The offending datagram, as the router holds it: IPv4 from the pod, then `build` writes the L4 bytes. */
function offendingDatagram(r: ipv4.Ipv4Repr, build: (b: Buffer, l4: number) => void): Buffer {
  const b = Buffer.alloc(ipv4.reprHeaderLen(r) + r.payloadLen);
  build(b, ipv4.reprHeaderLen(r));
  ipv4.emit(r, b, 0);
  return b;
}

/** An ICMP error frame as Linux builds one: outer IPv4 from the router, TOS and quote length per __icmp_send. */
function errorFrame(type: number, code: number, restWord: number, offending: Buffer, id: number): Buffer {
  const quoteLen = icmp.linuxQuoteLen(offending.length);
  const frame = Buffer.alloc(ETH_LEN + 20 + icmp.HEADER_LEN + quoteLen);
  ethernet.emit({ dst: POD_MAC, src: ROUTER_MAC, ethertype: ethernet.ETHERTYPE_IPV4 }, frame);
  const r: icmp.IcmpRepr = { type, code, checksum: 0, rest: restWord, payloadLen: quoteLen };
  expect(icmp.emitError(r, offending, 0, frame, ETH_LEN + 20)).toBe(8 + quoteLen);
  ipv4.emit(
    ipv4.ipv4Repr({ tos: icmp.linuxErrorTos(ipv4.tos(offending, 0)), id, protocol: ipv4.PROTO_ICMP, src: GATEWAY, dst: POD, payloadLen: 8 + quoteLen }),
    frame,
    ETH_LEN,
  );
  return frame;
}

const arbRepr: fc.Arbitrary<icmp.IcmpRepr> = fc.record({
  type: fc.integer({ min: 0, max: 255 }),
  code: fc.integer({ min: 0, max: 255 }),
  checksum: fc.integer({ min: 0, max: 0xffff }),
  rest: fc.integer({ min: 0, max: 0xffff_ffff }),
  payloadLen: fc.integer({ min: 0, max: 64 }),
});

describe('icmp', () => {
  it('parses every ICMP message of the kernel references and re-emits it byte for byte, kept or computed', () => {
    const all = referenceIcmpMessages();
    // tshark finds ICMP in 67 frames: 55 directly over IPv4, 12 inside flannel's VXLAN.
    expect(all).toHaveLength(67);
    expect(all.filter((m) => m.where.endsWith('(inner)'))).toHaveLength(12);
    const types = new Set<number>();
    for (const { where, frame, off, end } of all) {
      const r = icmp.parse(frame, off, end);
      types.add(r.type);
      expect(r.payloadLen, where).toBe(end - off - 8);
      for (const opts of [KEEP_CHECKSUM, undefined]) {
        const copy = Buffer.from(frame);
        copy.fill(0xa5, off, off + 8);
        expect(icmp.emit(r, copy, off, opts), where).toBe(8);
        expect(copy, where).toEqual(frame);
      }
    }
    expect([...types].sort((a, b) => a - b)).toEqual([icmp.TYPE_ECHO_REPLY, icmp.TYPE_DEST_UNREACHABLE, icmp.TYPE_ECHO_REQUEST]);
  });

  it('reads the first echo request and reply of the same-node ping reference (tshark: id 12690, seq 1)', () => {
    const frames = readClassicPcapFrames(join(KERNEL_DIR, 'same-node-ping/kr-pa-eth0.pcap'));
    const request = frames[3]!;
    const reply = frames[4]!;
    const off = ETH_LEN + 20;
    expect(icmp.parse(request, off, ETH_LEN + ipv4.totalLength(request, ETH_LEN))).toEqual({
      type: icmp.TYPE_ECHO_REQUEST, code: 0, checksum: 0x84aa, rest: icmp.echoRest(12690, 1), payloadLen: 56,
    });
    expect(icmp.parse(reply, off, ETH_LEN + ipv4.totalLength(reply, ETH_LEN))).toEqual({
      type: icmp.TYPE_ECHO_REPLY, code: 0, checksum: 0x8caa, rest: icmp.echoRest(12690, 1), payloadLen: 56,
    });
    expect([icmp.type(request, off), icmp.echoId(request, off), icmp.echoSeq(request, off), icmp.checksum(request, off)]).toEqual([8, 12690, 1, 0x84aa]);
    expect(icmp.isEcho(icmp.type(reply, off))).toBe(true);
    expect(icmp.isErrorType(icmp.type(reply, off))).toBe(false);
    // An echo reply carries the request's id, sequence and data: only type and checksum differ.
    expect(reply.subarray(off + 4, ETH_LEN + 84)).toEqual(request.subarray(off + 4, ETH_LEN + 84));
  });

  it('reads the no-endpoints reference: a port unreachable with TOS 0xc0 quoting the whole 60-byte SYN, and rebuilds it', () => {
    const frame = readClassicPcapFrames(join(KERNEL_DIR, 'no-endpoints/kr-pa-eth0.pcap'))[4]!;
    expect(frame).toHaveLength(102);
    const outer = ipv4.parse(frame, ETH_LEN);
    expect(outer).toEqual({
      tos: 0xc0, id: 0xb46d, reservedFlag: false, dontFragment: false, moreFragments: false, fragmentOffset: 0, ttl: 64,
      protocol: ipv4.PROTO_ICMP, checksum: 0xad8d, src: GATEWAY, dst: POD, options: ipv4.NO_OPTIONS, payloadLen: 68,
    });
    const off = ETH_LEN + 20;
    const message = icmp.parse(frame, off, ETH_LEN + 88);
    expect(message).toEqual({ type: icmp.TYPE_DEST_UNREACHABLE, code: icmp.PORT_UNREACHABLE, checksum: 0x1449, rest: 0, payloadLen: 60 });
    expect(icmp.isErrorType(message.type)).toBe(true);
    const quoted = ipv4.parse(frame, icmp.dataOffset(off), ETH_LEN + 88);
    expect(quoted).toEqual({
      tos: 0, id: 0xd091, reservedFlag: false, dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 63,
      protocol: ipv4.PROTO_TCP, checksum: 0x540d, src: POD, dst: parseIpv4('10.96.0.200'), options: ipv4.NO_OPTIONS, payloadLen: 40,
    });
    expect(icmp.linuxQuoteLen(60)).toBe(60);
    expect(icmp.linuxErrorTos(quoted.tos)).toBe(0xc0);

    // Built from the quoted datagram alone, the way __icmp_send does, the frame comes out identical.
    const rebuilt = Buffer.alloc(frame.length, 0xa5);
    frame.copy(rebuilt, 0, 0, ETH_LEN);
    const r = icmp.destUnreachable(icmp.PORT_UNREACHABLE, icmp.linuxQuoteLen(quoted.payloadLen + 20));
    expect(icmp.emitError(r, frame, icmp.dataOffset(off), rebuilt, off)).toBe(68);
    ipv4.emit(
      ipv4.ipv4Repr({ tos: icmp.linuxErrorTos(quoted.tos), id: 0xb46d, protocol: ipv4.PROTO_ICMP, src: GATEWAY, dst: POD, payloadLen: 68 }),
      rebuilt,
      ETH_LEN,
    );
    expect(rebuilt).toEqual(frame);
  });

  it('builds the errors the references lack, which tshark decodes cleanly: TTL exceeded, fragmentation needed, host unreachable', () => {
    // traceroute's first probe: UDP to port 33434 with TTL 1; ip_forward answers before decrementing.
    const probe = offendingDatagram(
      ipv4.ipv4Repr({ id: 0x0101, ttl: 1, protocol: ipv4.PROTO_UDP, src: POD, dst: REMOTE, payloadLen: 8 + 32 }),
      (b, l4) => writeUdp(b.fill(0x40, l4 + 8), l4, POD, REMOTE, 40000, 33434, 32),
    );
    // A 1500-byte DF datagram towards a 1450-byte next hop: ip_forward's ip_exceeds_mtu, before the TTL decrement.
    const big = offendingDatagram(
      ipv4.ipv4Repr({ id: 0x0202, dontFragment: true, protocol: ipv4.PROTO_UDP, src: POD, dst: REMOTE, payloadLen: 1480 }),
      (b, l4) => writeUdp(b.fill(0x41, l4 + 8), l4, POD, REMOTE, 40001, 9000, 1472),
    );
    // A ping to an address whose neighbour never answers: ipv4_link_failure after forwarding (TTL 63), TOS 0x10 kept.
    const ping = offendingDatagram(
      ipv4.ipv4Repr({ tos: 0x10, id: 0x0303, ttl: 63, dontFragment: true, protocol: ipv4.PROTO_ICMP, src: POD, dst: parseIpv4('10.244.2.9'), payloadLen: 64 }),
      (b, l4) => {
        b.fill(0x42, l4 + 8);
        icmp.emit(icmp.echoRequest(7, 3, 56), b, l4);
      },
    );
    expect(icmp.linuxQuoteLen(big.length)).toBe(548);

    const frames = [
      errorFrame(icmp.TYPE_TIME_EXCEEDED, icmp.TTL_EXCEEDED_IN_TRANSIT, 0, probe, 0x1001),
      errorFrame(icmp.TYPE_DEST_UNREACHABLE, icmp.FRAGMENTATION_NEEDED, icmp.destUnreachable(icmp.FRAGMENTATION_NEEDED, 0, 1450).rest, big, 0x1002),
      errorFrame(icmp.TYPE_DEST_UNREACHABLE, icmp.HOST_UNREACHABLE, 0, ping, 0x1003),
    ];
    expect(frames.map((f) => f.length)).toEqual([14 + 20 + 8 + 60, 14 + 576, 14 + 20 + 8 + 84]);
    const fragNeeded = frames[1]!;
    expect(icmp.nextHopMtu(fragNeeded, ETH_LEN + 20)).toBe(1450);
    expect(ipv4.parse(fragNeeded, ETH_LEN + 28, fragNeeded.length, { allowTruncated: true })).toMatchObject({ payloadLen: 1480, dontFragment: true, ttl: 64 });

    const file = join(tempDir('icmp'), 'icmp-errors.pcap');
    writeClassicPcap(file, frames);
    expect(captureProblems(file)).toEqual([]);
    // Each frame lists the outer header's field first, then the quoted header's (and the quoted echo's:
    // tshark leaves a quoted message's checksum unverified, status 2, as the quote may be cut short).
    expect(tsharkFields(file, ['icmp.type', 'icmp.code', 'icmp.mtu', 'ip.ttl', 'ip.dsfield', 'ip.len', 'icmp.checksum.status'])).toBe(
      [
        'icmp.type\ticmp.code\ticmp.mtu\tip.ttl\tip.dsfield\tip.len\ticmp.checksum.status',
        '11\t0\t\t64,1\t0xc0,0x00\t88,60\t1',
        '3\t4\t1450\t64,64\t0xc0,0x00\t576,1500\t1',
        '3,8\t1,0\t\t64,63\t0xd0,0x10\t112,84\t1,2',
        '',
      ].join('\n'),
    );
  });

  it('emits an echo request into a sentinel buffer, touching only its 8 header bytes', () => {
    const b = sentinel(14);
    b.write('hi', 9, 'latin1');
    expect(icmp.emit(icmp.echoRequest(0x3192, 1, 2), b, 1)).toBe(8);
    // Checksum: ~(0x0800 + 0x3192 + 0x0001 + 0x6869) = ~0xa1fc = 0x5e03.
    expect(b).toEqual(hex('a5 0800 5e03 3192 0001 6869 a5a5 a5'));
  });

  it('quotes as Linux: at most 576 bytes of error datagram, less with outer options or a smaller route MTU', () => {
    expect(icmp.linuxQuoteLen(60)).toBe(60);
    expect(icmp.linuxQuoteLen(548)).toBe(548);
    expect(icmp.linuxQuoteLen(549)).toBe(548);
    expect(icmp.linuxQuoteLen(1500)).toBe(548);
    expect(icmp.linuxQuoteLen(65535)).toBe(548);
    expect(icmp.linuxQuoteLen(1500, 24)).toBe(544);
    expect(icmp.linuxQuoteLen(1500, 20, 300)).toBe(272);
    expect(icmp.linuxQuoteLen(1500, 20, 9000)).toBe(548);
  });

  it('sets the TOS of an error as __icmp_send: the TOS bits kept, precedence internetwork control', () => {
    expect(icmp.linuxErrorTos(0x00)).toBe(0xc0);
    expect(icmp.linuxErrorTos(0x10)).toBe(0xd0);
    expect(icmp.linuxErrorTos(0xb8)).toBe(0xd8); // DSCP EF: only its TOS bits survive
    // IPTOS_TOS_MASK is RFC 1349's 0x1e: it drops ECN's CE bit (0x01) but keeps ECT(0) (0x02).
    expect(icmp.linuxErrorTos(0x03)).toBe(0xc2);
    expect(icmp.linuxErrorTos(0xff)).toBe(0xde);
  });

  it('emitError copies the quote even from the same buffer, overlapping', () => {
    const b = Buffer.alloc(40);
    for (let i = 0; i < 40; i++) b[i] = i;
    const expected = Buffer.from(b.subarray(0, 28));
    expect(icmp.emitError(icmp.timeExceeded(icmp.FRAG_REASSEMBLY_TIME_EXCEEDED, 28), b, 0, b, 4)).toBe(36);
    expect(b.subarray(12, 40)).toEqual(expected);
    expect(icmp.parse(b, 4, 40)).toMatchObject({ type: 11, code: 1, rest: 0, payloadLen: 28 });
    expect(() => icmp.emitError(icmp.timeExceeded(0, 30), b, 20, b, 0)).toThrow(RangeError);
    expect(() => icmp.emitError(icmp.timeExceeded(0, 30), b, 0, b, 4)).toThrow(RangeError);
  });

  it('setEchoId patches the checksum as conntrack ICMP NAT does, equal to a full recompute', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 0xffff }), (id, seq, data, newId) => {
        const b = Buffer.alloc(8 + data.length);
        b.set(data, 8);
        icmp.emit(icmp.echoRequest(id, seq, data.length), b);
        icmp.setEchoId(b, 0, newId);
        expect(icmp.echoId(b, 0)).toBe(newId);
        expect(icmp.echoSeq(b, 0)).toBe(seq);
        expect(() => icmp.parse(b)).not.toThrow();
        const patched = icmp.checksum(b, 0);
        icmp.fixChecksum(b, 0, b.length);
        expect(icmp.checksum(b, 0)).toBe(patched);
      }),
    );
  });

  it('round-trips any type and code: parse(emit(r)) is r, and emit(parse(bytes)) is the bytes', () => {
    fc.assert(
      fc.property(arbRepr, fc.integer({ min: 0, max: 7 }), (r, off) => {
        const end = off + 8 + r.payloadLen;
        const b = Buffer.alloc(end + 3, 0x77);
        expect(icmp.emit(r, b, off, KEEP_CHECKSUM)).toBe(8);
        expect(icmp.parse(b, off, end, { verifyChecksum: false })).toEqual(r);

        expect(icmp.emit(r, b, off)).toBe(8);
        const computed = icmp.parse(b, off, end); // verifies the computed checksum
        expect(computed).toEqual({ ...r, checksum: icmp.checksum(b, off) });
        const again = Buffer.from(b);
        again.fill(0, off, off + 8);
        icmp.emit(computed, again, off, KEEP_CHECKSUM);
        expect(again).toEqual(b);
      }),
    );
  });

  it('parse throws only MalformedPacketError on arbitrary bytes, offsets and ends', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: -2, max: 45 }), fc.integer({ min: -2, max: 50 }), (bytes, off, end) => {
        expectThrowsOnly(MalformedPacketError, () => icmp.parse(bytes, off, end));
      }),
    );
  });

  it.each([
    { name: 'a 7-byte message', bytes: '0800 f7ff 0000 00', field: 'header', offset: 2 },
    { name: 'a bad checksum', bytes: '0800 f7fe 0000 0000', field: 'checksum', offset: 4 },
    { name: 'a checksum wrong over the data', bytes: '0800 f7ff 0000 0000 01', field: 'checksum', offset: 4 },
  ])('rejects $name, naming $field at byte $offset', ({ bytes, field, offset }) => {
    const b = Buffer.concat([hex('ffff'), hex(bytes)]);
    expect(thrown(MalformedPacketError, () => icmp.parse(b, 2))).toMatchObject({ protocol: 'icmp', field, offset });
  });

  it('accepts a bad checksum when not verifying, and checks only [off, end)', () => {
    const b = hex('0800 f7ff 0000 0000 ffff');
    expect(icmp.parse(b, 0, 8)).toEqual({ type: 8, code: 0, checksum: 0xf7ff, rest: 0, payloadLen: 0 });
    expect(icmp.parse(b, 0, b.length, { verifyChecksum: false }).payloadLen).toBe(2);
    expect(() => icmp.emit(icmp.echoRequest(1, 1, 8), b, 0)).toThrow(RangeError);
  });
});
