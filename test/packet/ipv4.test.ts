import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ipv4 from '../../src/packet/ipv4.js';
import { MalformedPacketError } from '../../src/packet/errors.js';
import { parseIpv4, parseMac, writeMac } from '../../src/packet/addr.js';
import { verifies } from '../../src/packet/checksum.js';
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
  readonly off: number;
}

/** Every IPv4 header in the kernel references: after Ethernet, and inside flannel's VXLAN. */
function referenceIpv4Headers(): { outer: Located[]; inner: Located[] } {
  const sites = referenceSites();
  const located = (inner: boolean): Located[] =>
    sites.filter((s) => s.packet.inner === inner).map((s) => ({ where: siteLabel(s), frame: s.frame.bytes, off: s.packet.ip }));
  return { outer: located(false), inner: located(true) };
}

/** The header must not parse: a MalformedPacketError naming the protocol, field and absolute offset. */
function expectMalformed(f: () => unknown, want: { protocol: string; field: string; offset: number }): void {
  expect(thrown(MalformedPacketError, f)).toMatchObject(want);
}

const arbOptions = fc
  .integer({ min: 0, max: 10 })
  .chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 }))
  .map((o) => (o.length === 0 ? ipv4.NO_OPTIONS : o));

const arbRepr: fc.Arbitrary<ipv4.Ipv4Repr> = fc.record({
  tos: fc.integer({ min: 0, max: 255 }),
  id: fc.integer({ min: 0, max: 0xffff }),
  reservedFlag: fc.boolean(),
  dontFragment: fc.boolean(),
  moreFragments: fc.boolean(),
  fragmentOffset: fc.integer({ min: 0, max: 0x1fff }).map((u) => u * 8),
  ttl: fc.integer({ min: 0, max: 255 }),
  protocol: fc.integer({ min: 0, max: 255 }),
  checksum: fc.integer({ min: 0, max: 0xffff }),
  src: fc.integer({ min: 0, max: 0xffff_ffff }),
  dst: fc.integer({ min: 0, max: 0xffff_ffff }),
  options: arbOptions,
  payloadLen: fc.integer({ min: 0, max: 64 }),
});

/** A valid header (computed checksum) at `off` in a buffer with trailing payload bytes. */
const arbHeaderBytes = fc
  .tuple(arbRepr, fc.integer({ min: 0, max: 5 }))
  .map(([r, off]) => {
    const b = Buffer.alloc(off + ipv4.reprHeaderLen(r) + r.payloadLen, 0x5a);
    ipv4.emit(r, b, off);
    return { b, off };
  });

/** ip_decrease_ttl (include/net/ip.h) as it runs on a little-endian CPU: the sum is byte-swapped in memory. */
function kernelDecreaseTtlChecksum(check: number): number {
  const swap = (v: number) => ((v & 0xff) << 8) | (v >>> 8);
  let c = swap(check) + 0x0001; // htons(0x0100) on little-endian
  c = c + (c >= 0xffff ? 1 : 0);
  return swap(c & 0xffff);
}

describe('ipv4', () => {
  const refs = referenceIpv4Headers();

  it('parses every IPv4 header of the kernel references and re-emits it byte for byte, kept or computed', () => {
    // tshark counts 675 frames with IPv4 after Ethernet; 141 carry flannel VXLAN, all with IPv4 inside.
    expect(refs.outer).toHaveLength(675);
    expect(refs.inner).toHaveLength(141);
    for (const { where, frame, off } of [...refs.outer, ...refs.inner]) {
      const r = ipv4.parse(frame, off);
      const hl = ipv4.reprHeaderLen(r);
      const original = frame.subarray(off, off + hl);
      for (const opts of [KEEP_CHECKSUM, undefined]) {
        const copy = Buffer.from(frame);
        copy.fill(0xa5, off, off + hl);
        expect(ipv4.emit(r, copy, off, opts), where).toBe(hl);
        expect(copy.subarray(off, off + hl), where).toEqual(original);
        expect(copy, where).toEqual(frame);
      }
      expect(ipv4.hasValidChecksum(frame, off), where).toBe(true);
      expect(ipv4.totalLength(frame, off), where).toBe(hl + r.payloadLen);
    }
  });

  it('reads the mtu reference: a DF datagram, then a 1480-byte UDP datagram cut into 1444 + 76 bytes (tshark -o ip.defragment:FALSE)', () => {
    const frames = readClassicPcapFrames(join(KERNEL_DIR, 'mtu/kr-pa-eth0.pcap'));
    const [df, first, second] = [frames[3]!, frames[4]!, frames[5]!];
    expect(ipv4.parse(df, ETH_LEN)).toEqual({
      tos: 0, id: 0x6937, reservedFlag: false, dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 64,
      protocol: ipv4.PROTO_UDP, checksum: 0xb336, src: parseIpv4('10.244.1.2'), dst: parseIpv4('10.244.2.2'),
      options: ipv4.NO_OPTIONS, payloadLen: 1408,
    });
    const a = ipv4.parse(first, ETH_LEN);
    const b = ipv4.parse(second, ETH_LEN);
    expect(a).toMatchObject({ id: 0xb9e3, moreFragments: true, dontFragment: false, fragmentOffset: 0, checksum: 0x827a, payloadLen: 1424 });
    expect(b).toMatchObject({ id: 0xb9e3, moreFragments: false, dontFragment: false, fragmentOffset: 1424, checksum: 0xa720, payloadLen: 56 });
    expect(ipv4.totalLength(first, ETH_LEN)).toBe(1444);
    expect(ipv4.totalLength(second, ETH_LEN)).toBe(76);
    expect([ipv4.isFragment(df, ETH_LEN), ipv4.isFragment(first, ETH_LEN), ipv4.isFragment(second, ETH_LEN)]).toEqual([false, true, true]);
    expect([ipv4.isFirstFragment(df, ETH_LEN), ipv4.isFirstFragment(first, ETH_LEN), ipv4.isFirstFragment(second, ETH_LEN)]).toEqual([false, true, false]);
    expect(ipv4.fragmentOffset(second, ETH_LEN)).toBe(1424);
    expect(ipv4.isDontFragment(df, ETH_LEN)).toBe(true);
    expect(ipv4.payloadOffset(first, ETH_LEN)).toBe(34);

    // The UDP datagram's own length field says 1480 bytes: Linux's plan for MTU 1450 is what was captured.
    expect(first.readUInt16BE(34 + 4)).toBe(1480);
    const plan = ipv4.fragmentPlan(1480, 20, 1450);
    expect(plan).toEqual([
      { offset: 0, len: 1424, more: true },
      { offset: 1424, len: 56, more: false },
    ]);

    // Building the second fragment's header from the first with the setters gives the kernel's bytes.
    const h = Buffer.from(first.subarray(ETH_LEN, ETH_LEN + 20));
    ipv4.setTotalLength(h, 0, 20 + plan[1]!.len);
    ipv4.setFragment(h, 0, plan[1]!.offset, plan[1]!.more);
    expect(h).toEqual(second.subarray(ETH_LEN, ETH_LEN + 20));
  });

  it('emits a header into a sentinel buffer, touching only its 20 bytes (the mtu reference DF datagram)', () => {
    const b = sentinel(22);
    const n = ipv4.emit(
      ipv4.ipv4Repr({ id: 0x6937, dontFragment: true, protocol: ipv4.PROTO_UDP, src: parseIpv4('10.244.1.2'), dst: parseIpv4('10.244.2.2'), payloadLen: 1408 }),
      b,
      1,
    );
    expect(n).toBe(20);
    expect(b).toEqual(hex('a5 4500 0594 6937 4000 4011 b336 0af40102 0af40202 a5'));
  });

  it('keeps options as raw bytes: Router Alert and a NOP + EOL padded record route, clean in tshark and round-tripped', () => {
    const options = hex('94040000 01 070708 0af40101 00 000000');
    const src = parseIpv4('10.244.1.2');
    const dst = parseIpv4('10.244.2.2');
    const r = ipv4.ipv4Repr({ id: 0x1234, ttl: 1, protocol: ipv4.PROTO_UDP, src, dst, options, payloadLen: 8 + 4 });
    const hl = ipv4.reprHeaderLen(r);
    expect(hl).toBe(36);
    const frame = Buffer.alloc(ETH_LEN + hl + r.payloadLen);
    writeMac(frame, 0, parseMac('02:00:00:00:00:02'));
    writeMac(frame, 6, parseMac('02:00:00:00:00:01'));
    frame.writeUInt16BE(0x0800, 12);
    frame.write('ping', ETH_LEN + hl + 8, 'latin1');
    writeUdp(frame, ETH_LEN + hl, src, dst, 40000, 9000, 4);
    expect(ipv4.emit(r, frame, ETH_LEN)).toBe(36);
    expect(frame.subarray(ETH_LEN, ETH_LEN + 1)).toEqual(hex('49'));

    const parsed = ipv4.parse(frame, ETH_LEN);
    expect(parsed.options).toEqual(new Uint8Array(options));
    expect(parsed).toEqual({ ...r, options: parsed.options, checksum: ipv4.checksum(frame, ETH_LEN) });
    const again = Buffer.from(frame);
    again.fill(0, ETH_LEN, ETH_LEN + hl);
    ipv4.emit(parsed, again, ETH_LEN, KEEP_CHECKSUM);
    expect(again).toEqual(frame);
    // The Repr holds a copy: rewriting the frame leaves it alone.
    frame[ETH_LEN + 20] = 0x01;
    expect(parsed.options[0]).toBe(0x94);
    frame[ETH_LEN + 20] = 0x94;

    const file = join(tempDir('ipv4'), 'ipv4-options.pcap');
    writeClassicPcap(file, [frame]);
    expect(captureProblems(file)).toEqual([]);
    expect(tsharkFields(file, ['ip.hdr_len', 'ip.opt.type', 'ip.opt.ra', 'ip.opt.ptr', 'ip.rec_rt', 'ip.checksum.status', 'udp.checksum.status']))
      // Checksum status 1 is tshark's "Good".
      .toBe('ip.hdr_len\tip.opt.type\tip.opt.ra\tip.opt.ptr\tip.rec_rt\tip.checksum.status\tudp.checksum.status\n36\t148,1,7,0\t0\t8\t10.244.1.1\t1\t1\n');
  });

  it('round-trips: parse(emit(r)) is r, and emit(parse(bytes)) is the bytes', () => {
    fc.assert(
      fc.property(arbRepr, fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 8 }), (r, off, padding) => {
        const hl = ipv4.reprHeaderLen(r);
        const end = off + hl + r.payloadLen;
        const b = Buffer.alloc(end + padding, 0x33);
        expect(ipv4.emit(r, b, off, KEEP_CHECKSUM)).toBe(hl);
        expect(ipv4.parse(b, off, b.length, { verifyChecksum: false })).toEqual(r);

        expect(ipv4.emit(r, b, off)).toBe(hl);
        const computed = ipv4.parse(b, off); // verifies the computed checksum
        expect(computed).toEqual({ ...r, checksum: ipv4.checksum(b, off) });
        const again = Buffer.alloc(b.length, 0x33);
        again.set(b.subarray(off + hl), off + hl);
        ipv4.emit(computed, again, off, KEEP_CHECKSUM);
        expect(again).toEqual(b);
      }),
    );
  });

  it('parse throws only MalformedPacketError on arbitrary bytes, offsets and ends', () => {
    const arbBytes = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      // Bytes that start like IPv4 reach the deeper checks.
      fc.tuple(fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 80 })).map(([ihl, rest]) => Uint8Array.of(0x40 | ihl, ...rest)),
    );
    fc.assert(
      fc.property(arbBytes, fc.integer({ min: -2, max: 90 }), fc.integer({ min: -2, max: 100 }), fc.boolean(), (bytes, off, end, truncated) => {
        expectThrowsOnly(MalformedPacketError, () => ipv4.parse(bytes, off, end, { allowTruncated: truncated }));
      }),
    );
  });

  it.each([
    { name: 'cut short', bytes: '4500 001c 0000 0000 4011', field: 'header', offset: 3 },
    { name: 'version 6', bytes: '6500 0014 0000 0000 4011 0000 0a000001 0a000002', field: 'version', offset: 3 },
    { name: 'IHL 4', bytes: '4400 0014 0000 0000 4011 0000 0a000001 0a000002', field: 'header length', offset: 3 },
    { name: 'IHL 6 one byte past the end', bytes: '4600 0018 0000 0000 4011 0000 0a000001 0a000002 000000', field: 'header length', offset: 3 },
    { name: 'total length under the header', bytes: '4500 0013 0000 0000 4011 0000 0a000001 0a000002', field: 'total length', offset: 5 },
    { name: 'total length one byte past the end', bytes: '4500 0017 0000 0000 4011 0000 0a000001 0a000002 0000', field: 'total length', offset: 5 },
    { name: 'bad checksum', bytes: '4500 0014 0000 0000 4011 1234 0a000001 0a000002', field: 'checksum', offset: 13 },
  ])('rejects a header with $name, naming $field at byte $offset', ({ bytes, field, offset }) => {
    // Three bytes in front, so the offsets are absolute, not relative to the header.
    const b = Buffer.concat([hex('ffffff'), hex(bytes)]);
    expectMalformed(() => ipv4.parse(b, 3), { protocol: 'ipv4', field, offset });
  });

  it('accepts Ethernet padding after the total length, a wrong checksum when not verifying, and a truncated quote when allowed', () => {
    const b = Buffer.alloc(46);
    ipv4.emit(ipv4.ipv4Repr({ protocol: ipv4.PROTO_TCP, src: 1, dst: 2, payloadLen: 0 }), b);
    expect(ipv4.parse(b).payloadLen).toBe(0);
    b[10] = b[10]! ^ 0xff;
    expect(ipv4.parse(b, 0, b.length, { verifyChecksum: false }).checksum).toBe(ipv4.checksum(b, 0));
    const quoted = Buffer.alloc(28);
    ipv4.emit(ipv4.ipv4Repr({ protocol: ipv4.PROTO_UDP, src: 1, dst: 2, payloadLen: 1480 }), quoted);
    expectMalformed(() => ipv4.parse(quoted), { protocol: 'ipv4', field: 'total length', offset: 2 });
    expect(ipv4.parse(quoted, 0, quoted.length, { allowTruncated: true }).payloadLen).toBe(1480);
  });

  it('refuses to emit a Repr no header can carry', () => {
    const base = ipv4.ipv4Repr({ protocol: 1, src: 1, dst: 2, payloadLen: 0 });
    const b = Buffer.alloc(80);
    expect(() => ipv4.emit({ ...base, options: new Uint8Array(3) }, b)).toThrow(RangeError);
    expect(() => ipv4.emit({ ...base, options: new Uint8Array(44) }, b)).toThrow(RangeError);
    expect(() => ipv4.emit({ ...base, fragmentOffset: 12 }, b)).toThrow(RangeError);
    expect(() => ipv4.emit({ ...base, payloadLen: 65516 }, b)).toThrow(RangeError);
    expect(() => ipv4.emit(base, b, 61)).toThrow(RangeError);
  });

  it('decrementTtl patches the checksum exactly as ip_decrease_ttl, for every checksum value', () => {
    const b = hex('4500 0054 750f 4000 4001 0000 0af40102 0af40103');
    for (let check = 0; check <= 0xffff; check++) {
      b[8] = 64;
      b.writeUInt16BE(check, 10);
      expect(ipv4.decrementTtl(b, 0)).toBe(63);
      if (ipv4.checksum(b, 0) !== kernelDecreaseTtlChecksum(check)) {
        expect(ipv4.checksum(b, 0), `checksum 0x${check.toString(16)}`).toBe(kernelDecreaseTtlChecksum(check));
      }
    }
    // And for every TTL the forwarding path decrements, on valid headers.
    fc.assert(
      fc.property(arbHeaderBytes, fc.integer({ min: 2, max: 255 }), ({ b: h, off }, t) => {
        ipv4.setTtl(h, off, t);
        const before = ipv4.checksum(h, off);
        expect(ipv4.decrementTtl(h, off)).toBe(t - 1);
        expect(ipv4.ttl(h, off)).toBe(t - 1);
        expect(ipv4.checksum(h, off)).toBe(kernelDecreaseTtlChecksum(before));
        expect(ipv4.hasValidChecksum(h, off)).toBe(true);
      }),
    );
  });

  it('every setter leaves a valid header valid, with the checksum a full recompute gives', () => {
    const arbEdit = fc.oneof(
      fc.record({ kind: fc.constant('src' as const), v: fc.integer({ min: 0, max: 0xffff_ffff }) }),
      fc.record({ kind: fc.constant('dst' as const), v: fc.integer({ min: 0, max: 0xffff_ffff }) }),
      fc.record({ kind: fc.constant('ttl' as const), v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('tos' as const), v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('id' as const), v: fc.integer({ min: 0, max: 0xffff }) }),
      fc.record({ kind: fc.constant('totalLength' as const), v: fc.integer({ min: 0, max: 0xffff }) }),
      fc.record({ kind: fc.constant('fragment' as const), v: fc.integer({ min: 0, max: 0x1fff }), more: fc.boolean() }),
    );
    fc.assert(
      fc.property(arbHeaderBytes, fc.array(arbEdit, { minLength: 1, maxLength: 5 }), ({ b, off }, edits) => {
        const df = ipv4.isDontFragment(b, off);
        for (const e of edits) {
          if (e.kind === 'src') ipv4.setSrc(b, off, e.v);
          else if (e.kind === 'dst') ipv4.setDst(b, off, e.v);
          else if (e.kind === 'ttl') ipv4.setTtl(b, off, e.v);
          else if (e.kind === 'tos') ipv4.setTos(b, off, e.v);
          else if (e.kind === 'id') ipv4.setId(b, off, e.v);
          else if (e.kind === 'totalLength') ipv4.setTotalLength(b, off, e.v);
          else ipv4.setFragment(b, off, e.v * 8, e.more);
        }
        const last = edits[edits.length - 1]!;
        if (last.kind === 'src') expect(ipv4.src(b, off)).toBe(last.v);
        if (last.kind === 'dst') expect(ipv4.dst(b, off)).toBe(last.v);
        if (last.kind === 'ttl') expect(ipv4.ttl(b, off)).toBe(last.v);
        if (last.kind === 'tos') expect(ipv4.tos(b, off)).toBe(last.v);
        if (last.kind === 'id') expect(ipv4.id(b, off)).toBe(last.v);
        if (last.kind === 'totalLength') expect(ipv4.totalLength(b, off)).toBe(last.v);
        if (last.kind === 'fragment') {
          expect(ipv4.fragmentOffset(b, off)).toBe(last.v * 8);
          expect(ipv4.isMoreFragments(b, off)).toBe(last.more);
        }
        expect(ipv4.isDontFragment(b, off)).toBe(df);
        expect(ipv4.version(b, off)).toBe(4);
        expect(ipv4.hasValidChecksum(b, off)).toBe(true);
        const patched = ipv4.checksum(b, off);
        ipv4.fixChecksum(b, off);
        expect(ipv4.checksum(b, off)).toBe(patched);
      }),
    );
  });

  it('fixChecksum recomputes a header checksum over the options too', () => {
    const b = Buffer.alloc(24);
    ipv4.emit(ipv4.ipv4Repr({ protocol: 1, src: 1, dst: 2, options: hex('94040000'), payloadLen: 0 }), b);
    b[22] = 0x01;
    expect(verifies(b, 0, 24)).toBe(false);
    ipv4.fixChecksum(b, 0);
    expect(ipv4.hasValidChecksum(b, 0)).toBe(true);
  });

  it('plans fragments as ip_do_fragment: multiples of 8 but the last, each packet within the MTU, offsets contiguous', () => {
    expect(ipv4.fragmentPlan(1000, 20, 1500)).toEqual([{ offset: 0, len: 1000, more: false }]);
    expect(ipv4.fragmentPlan(1480, 20, 1500)).toEqual([{ offset: 0, len: 1480, more: false }]);
    expect(ipv4.fragmentPlan(0, 20, 68)).toEqual([{ offset: 0, len: 0, more: false }]);
    // A datagram of 1481 bytes of payload at MTU 1500: 1480 + 1.
    expect(ipv4.fragmentPlan(1481, 20, 1500)).toEqual([
      { offset: 0, len: 1480, more: true },
      { offset: 1480, len: 1, more: false },
    ]);
    // With 16 bytes of options the data space is 1434 → 1432.
    expect(ipv4.fragmentPlan(3000, 36, 1470).map((p) => p.len)).toEqual([1432, 1432, 136]);
    // Refragmenting a middle fragment: offsets add, and its MF stays on the last piece.
    expect(ipv4.fragmentPlan(100, 20, 68, 800, true)).toEqual([
      { offset: 800, len: 48, more: true },
      { offset: 848, len: 48, more: true },
      { offset: 896, len: 4, more: true },
    ]);
    expect(() => ipv4.fragmentPlan(100, 60, 67)).toThrow(RangeError);

    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65515 }),
        fc.integer({ min: 5, max: 15 }),
        fc.integer({ min: 68, max: 9000 }),
        (payload, ihl, mtu) => {
          const hl = ihl * 4;
          const plan = ipv4.fragmentPlan(payload, hl, mtu);
          let next = 0;
          plan.forEach((p, i) => {
            const last = i === plan.length - 1;
            expect(p.offset).toBe(next);
            expect(p.more).toBe(!last);
            if (!last) expect(p.len % 8).toBe(0);
            expect(hl + p.len).toBeLessThanOrEqual(mtu);
            next += p.len;
          });
          expect(next).toBe(payload);
          if (hl + payload <= mtu) expect(plan).toHaveLength(1);
        },
      ),
    );
  });
});
