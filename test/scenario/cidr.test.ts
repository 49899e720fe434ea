import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cidrContains, cidrContainsCidr, cidrLast, cidrSize, cidrsOverlap, formatCidr, parseCidr, prefixMask, subnetAt } from '../../src/scenario/cidr.js';

const arbCidr = fc
  .record({ addr: fc.integer({ min: 0, max: 0xffff_ffff }), prefixLen: fc.integer({ min: 0, max: 32 }) })
  .map(({ addr, prefixLen }) => ({ network: (addr & prefixMask(prefixLen)) >>> 0, prefixLen }));

describe('cidr', () => {
  it('parses and formats', () => {
    expect(parseCidr('10.244.0.0/16')).toEqual({ network: 0x0af40000, prefixLen: 16 });
    expect(parseCidr('0.0.0.0/0')).toEqual({ network: 0, prefixLen: 0 });
    expect(parseCidr('255.255.255.255/32')).toEqual({ network: 0xffff_ffff, prefixLen: 32 });
    expect(formatCidr({ network: 0xc0a80100, prefixLen: 24 })).toBe('192.168.1.0/24');
    expect(prefixMask(0)).toBe(0);
    expect(prefixMask(24)).toBe(0xffff_ff00);
    expect(prefixMask(32)).toBe(0xffff_ffff);
    expect(cidrSize(parseCidr('10.0.0.0/24'))).toBe(256);
    expect(cidrLast(parseCidr('10.0.0.0/24'))).toBe(0x0a0000ff);
  });

  it.each([
    ['10.244.0.0', 'not a CIDR (a.b.c.d/len): "10.244.0.0"'],
    ['10.244.0/16', 'not a CIDR (a.b.c.d/len): "10.244.0/16"'],
    ['10.244.0.0/33', 'not a CIDR: prefix length "33" is not 0..32'],
    ['10.244.0.0/016', 'not a CIDR: prefix length "016" is not 0..32'],
    ['10.244.0.0/', 'not a CIDR: prefix length "" is not 0..32'],
    ['10.244.1.0/16', '10.244.1.0/16 has host bits set (the network is 10.244.0.0/16)'],
  ])('refuses %j', (text, message) => {
    expect(() => parseCidr(text)).toThrow(new RangeError(message));
  });

  it('contains, overlaps and splits', () => {
    const pods = parseCidr('10.244.0.0/16');
    expect(cidrContains(pods, 0x0af4ffff)).toBe(true);
    expect(cidrContains(pods, 0x0af50000)).toBe(false);
    expect(cidrContainsCidr(pods, parseCidr('10.244.3.0/24'))).toBe(true);
    expect(cidrContainsCidr(parseCidr('10.244.3.0/24'), pods)).toBe(false);
    expect(cidrsOverlap(pods, parseCidr('10.240.0.0/12'))).toBe(true);
    expect(cidrsOverlap(pods, parseCidr('10.96.0.0/12'))).toBe(false);
    expect(formatCidr(subnetAt(pods, 24, 3))).toBe('10.244.3.0/24');
    expect(formatCidr(subnetAt(pods, 24, 255))).toBe('10.244.255.0/24');
    expect(() => subnetAt(pods, 24, 256)).toThrow(RangeError);
    expect(() => subnetAt(pods, 8, 0)).toThrow(RangeError);
  });

  it('round-trips through text, and overlap is symmetric and agrees with the address ranges', () => {
    fc.assert(
      fc.property(arbCidr, arbCidr, (a, b) => {
        expect(parseCidr(formatCidr(a))).toEqual(a);
        const ranges = !(cidrLast(a) < b.network || cidrLast(b) < a.network);
        expect(cidrsOverlap(a, b)).toBe(ranges);
        expect(cidrsOverlap(b, a)).toBe(ranges);
        expect(cidrContainsCidr(a, b)).toBe(a.network <= b.network && cidrLast(b) <= cidrLast(a));
      }),
    );
  });
});
