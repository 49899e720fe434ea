import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as vxlan from '../../src/packet/vxlan.js';
import * as ethernet from '../../src/packet/ethernet.js';
import { MalformedPacketError } from '../../src/packet/errors.js';
import { formatIpv4 } from '../../src/packet/addr.js';
import { expectThrowsOnly } from '../helpers/errors.js';
import { hex, kernelReferenceFrames, sentinel } from '../helpers/frames.js';

// Outer Ethernet 14 + IPv4 20 (flannel's outer header has no options) + UDP 8.
const VXLAN_OFF = 42;
const vxlanFrames = kernelReferenceFrames().filter(
  (f) =>
    f.bytes.length > VXLAN_OFF + 8 &&
    ethernet.ethertype(f.bytes, 0) === ethernet.ETHERTYPE_IPV4 &&
    f.bytes[23] === 17 &&
    f.bytes.readUInt16BE(36) === vxlan.PORT_LINUX,
);

describe('vxlan', () => {
  it(`reads flannel's header in every encapsulated reference frame: flags 0x08, VNI 1 (${vxlanFrames.length} frames)`, () => {
    expect(vxlanFrames.length).toBeGreaterThan(100);
    for (const f of vxlanFrames) {
      const r = vxlan.parse(f.bytes, VXLAN_OFF);
      expect(r).toEqual({ flags: 0x08, vni: 1, reserved1: 0, reserved2: 0 });
      const out = Buffer.from(f.bytes);
      out.fill(0, VXLAN_OFF, VXLAN_OFF + 8);
      vxlan.emit(r, out, VXLAN_OFF);
      expect(out).toEqual(f.bytes);
    }
  });

  it('carries an inner Ethernet frame without FCS: cross-node ping from pa inside node 1 eth0', () => {
    const f = vxlanFrames.find((x) => x.file === 'cross-node-ping/kr-n1-eth0.pcap')!;
    const inner = VXLAN_OFF + vxlan.HEADER_LEN;
    expect(ethernet.ethertype(f.bytes, inner)).toBe(ethernet.ETHERTYPE_IPV4);
    expect(formatIpv4(f.bytes.readUInt32BE(inner + 14 + 12))).toBe('10.244.1.2');
    expect(f.bytes.length).toBe(148); // 98-byte inner frame + 50 bytes of encapsulation
  });

  it('emits into a sentinel buffer', () => {
    const b = sentinel(10);
    expect(vxlan.emit(vxlan.vxlanRepr(4096), b, 1)).toBe(8);
    expect(b).toEqual(hex('a5 08 000000 001000 00 a5'));
  });

  it('rejects a header without the I flag, naming the flags byte', () => {
    expect(() => vxlan.parse(hex('00 000000 000001 00'))).toThrow(
      expect.objectContaining({ protocol: 'vxlan', field: 'flags', offset: 0 }),
    );
  });

  it('round-trips, and parse throws only the typed error', () => {
    const arb = fc.record({
      flags: fc.integer({ min: 0, max: 255 }).map((f) => f | vxlan.FLAG_VNI_VALID),
      vni: fc.integer({ min: 0, max: 0xffffff }),
      reserved1: fc.integer({ min: 0, max: 0xffffff }),
      reserved2: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(arb, (r) => {
        const b = Buffer.alloc(8);
        vxlan.emit(r, b);
        expect(vxlan.parse(b)).toEqual(r);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), (bytes) => {
        expectThrowsOnly(MalformedPacketError, () => vxlan.parse(bytes));
      }),
    );
  });
});
