import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ethernet from '../../src/packet/ethernet.js';
import { MalformedPacketError } from '../../src/packet/errors.js';
import { formatMac, parseMac } from '../../src/packet/addr.js';
import { expectThrowsOnly } from '../helpers/errors.js';
import { hex, kernelReferenceFrames, sentinel } from '../helpers/frames.js';

const arbMac = fc.integer({ min: 0, max: 0xffff_ffff_ffff });
const arbRepr: fc.Arbitrary<ethernet.EthernetRepr> = fc.record(
  {
    dst: arbMac,
    src: arbMac,
    vlan: fc.record({ pcp: fc.integer({ min: 0, max: 7 }), dei: fc.boolean(), vid: fc.integer({ min: 0, max: 4095 }) }),
    ethertype: fc.integer({ min: 0, max: 0xffff }).filter((t) => t !== ethernet.ETHERTYPE_VLAN),
  },
  { requiredKeys: ['dst', 'src', 'ethertype'] },
);

describe('ethernet', () => {
  it('reads the first frame of the same-node ping reference (ARP broadcast from pod pa)', () => {
    const frame = kernelReferenceFrames().find((f) => f.file === 'same-node-ping/kr-pa-eth0.pcap')!.bytes;
    const r = ethernet.parse(frame);
    expect(formatMac(r.dst)).toBe('ff:ff:ff:ff:ff:ff');
    expect(r.ethertype).toBe(ethernet.ETHERTYPE_ARP);
    expect(ethernet.src(frame, 0)).toBe(r.src);
  });

  it('emits an 802.1Q-tagged header into a sentinel buffer and touches nothing else', () => {
    const b = sentinel(20);
    const n = ethernet.emit(
      { dst: parseMac('00:11:22:33:44:55'), src: parseMac('66:77:88:99:aa:bb'), vlan: { pcp: 5, dei: true, vid: 100 }, ethertype: 0x0800 },
      b,
      1,
    );
    expect(n).toBe(18);
    expect(b).toEqual(hex('a5 001122334455 66778899aabb 8100 b064 0800 a5'));
  });

  it('throws the typed error, naming the tag, on a frame cut inside the 802.1Q tag', () => {
    const b = hex('001122334455 66778899aabb 8100 b0');
    expect(() => ethernet.parse(b)).toThrow(MalformedPacketError);
    try {
      ethernet.parse(b);
    } catch (e) {
      expect(e).toMatchObject({ protocol: 'ethernet', field: '802.1Q tag', offset: 0 });
    }
  });

  it('round-trips: parse(emit(r)) is r, and emit(parse(bytes)) is the bytes', () => {
    fc.assert(
      fc.property(arbRepr, (r) => {
        const b = Buffer.alloc(18);
        const n = ethernet.emit(r, b);
        expect(ethernet.parse(b.subarray(0, n))).toEqual(r);
        const again = Buffer.alloc(n);
        ethernet.emit(ethernet.parse(b), again);
        expect(again).toEqual(b.subarray(0, n));
      }),
    );
  });

  it('parse throws only MalformedPacketError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expectThrowsOnly(MalformedPacketError, () => ethernet.parse(bytes));
      }),
    );
  });
});
