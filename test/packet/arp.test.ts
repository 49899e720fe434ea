import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as arp from '../../src/packet/arp.js';
import * as ethernet from '../../src/packet/ethernet.js';
import { MalformedPacketError } from '../../src/packet/errors.js';
import { formatIpv4, formatMac, parseIpv4, parseMac } from '../../src/packet/addr.js';
import { expectThrowsOnly } from '../helpers/errors.js';
import { hex, kernelReferenceFrames, sentinel } from '../helpers/frames.js';

const arpFrames = kernelReferenceFrames().filter(
  (f) => f.bytes.length >= 42 && ethernet.ethertype(f.bytes, 0) === ethernet.ETHERTYPE_ARP,
);

const arbRepr: fc.Arbitrary<arp.ArpRepr> = fc.record({
  op: fc.integer({ min: 0, max: 0xffff }),
  senderMac: fc.integer({ min: 0, max: 0xffff_ffff_ffff }),
  senderIp: fc.nat({ max: 0xffff_ffff }),
  targetMac: fc.integer({ min: 0, max: 0xffff_ffff_ffff }),
  targetIp: fc.nat({ max: 0xffff_ffff }),
});

describe('arp', () => {
  it('decodes the same-node reference request: who-has 10.244.1.3 tell 10.244.1.2', () => {
    const f = arpFrames.find((x) => x.file === 'same-node-ping/kr-pa-eth0.pcap' && x.index === 0)!;
    const r = arp.parse(f.bytes, ethernet.HEADER_LEN);
    expect(r.op).toBe(arp.OP_REQUEST);
    expect(formatIpv4(r.senderIp)).toBe('10.244.1.2');
    expect(formatIpv4(r.targetIp)).toBe('10.244.1.3');
    expect(formatMac(r.targetMac)).toBe('00:00:00:00:00:00');
    expect(r.senderMac).toBe(ethernet.src(f.bytes, 0));
    expect(f.bytes.length).toBe(42); // veth frames are not padded to 60 bytes
  });

  it(`re-emits every ARP frame of the kernel references byte for byte (${arpFrames.length} frames)`, () => {
    expect(arpFrames.length).toBeGreaterThan(20);
    for (const f of arpFrames) {
      const out = Buffer.alloc(f.bytes.length);
      const n = ethernet.emit(ethernet.parse(f.bytes), out, 0);
      arp.emit(arp.parse(f.bytes, n), out, n);
      expect(out, `${f.file}#${f.index + 1}`).toEqual(f.bytes);
    }
  });

  it('emits a gratuitous ARP (sender IP = target IP) into a sentinel buffer', () => {
    const b = sentinel(30);
    const r: arp.ArpRepr = {
      op: arp.OP_REQUEST,
      senderMac: parseMac('02:42:0a:f4:01:02'),
      senderIp: parseIpv4('10.244.1.2'),
      targetMac: 0,
      targetIp: parseIpv4('10.244.1.2'),
    };
    expect(arp.emit(r, b, 1)).toBe(28);
    expect(b).toEqual(hex('a5 0001 0800 06 04 0001 02420af40102 0af40102 000000000000 0af40102 a5'));
    expect(arp.isGratuitous(r)).toBe(true);
  });

  it.each([
    ['hardware type', 0, '0006 0800 06 04 0001'],
    ['protocol type', 2, '0001 86dd 06 04 0001'],
    ['hardware length', 4, '0001 0800 08 04 0001'],
    ['protocol length', 5, '0001 0800 06 10 0001'],
  ])('rejects a bad %s at byte %i', (field, offset, head) => {
    const b = Buffer.concat([hex(head), Buffer.alloc(20)]);
    expect(() => arp.parse(b)).toThrow(expect.objectContaining({ protocol: 'arp', field, offset }));
  });

  it('rejects a cut body with the typed error at the body start', () => {
    expect(() => arp.parse(Buffer.alloc(27), 0)).toThrow(expect.objectContaining({ protocol: 'arp', field: 'header', offset: 0 }));
  });

  it('round-trips any repr, and parse throws only the typed error', () => {
    fc.assert(
      fc.property(arbRepr, (r) => {
        const b = Buffer.alloc(28);
        arp.emit(r, b);
        expect(arp.parse(b)).toEqual(r);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expectThrowsOnly(MalformedPacketError, () => arp.parse(bytes));
      }),
    );
  });
});
