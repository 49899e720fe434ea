import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  broadcastAddress,
  cidrContains,
  formatIpv4Cidr,
  hasHostBits,
  hostRange,
  networkAddress,
  nextIpv4,
  parseIpv4Address,
  parseIpv4Cidr,
} from '../../src/k8s/ipv4-range.js';

describe('IPv4 prefixes', () => {
  it('parses like Go types.ParseCIDR: the address as written, host bits kept', () => {
    const c = parseIpv4Cidr('10.244.1.5/24');
    expect(c).toEqual({ ip: 0x0af4_0105, prefixLen: 24 });
    expect(formatIpv4Cidr(c)).toBe('10.244.1.5/24');
    expect(hasHostBits(c)).toBe(true);
    expect(networkAddress(c)).toBe(0x0af4_0100);
    expect(broadcastAddress(c)).toBe(0x0af4_01ff);
    expect(hostRange(c)).toEqual({ first: 0x0af4_0101, last: 0x0af4_01fe });
    expect(hostRange(parseIpv4Cidr('10.0.0.0/31'))).toBeUndefined();
    expect(cidrContains(parseIpv4Cidr('0.0.0.0/0'), 0xffff_ffff)).toBe(true);
    expect(cidrContains(c, 0x0af4_0200)).toBe(false);
    expect(nextIpv4(0xffff_ffff)).toBe(0);
  });

  it("throws Go's messages on bad text", () => {
    for (const t of ['10.0.0.0', '10.0.0.0/33', '10.0.0/8', '10.0.0.0/08', '10.0.0.0/-1', '10.0.0.256/8', '']) {
      expect(() => parseIpv4Cidr(t)).toThrow(`invalid CIDR address: ${t}`);
    }
    expect(() => parseIpv4Address('1.2.3')).toThrow('invalid IP address: 1.2.3');
  });

  it('round-trips any prefix', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0, max: 32 }), (ip, prefixLen) => {
        const c = { ip, prefixLen };
        expect(parseIpv4Cidr(formatIpv4Cidr(c))).toEqual(c);
        expect(cidrContains(c, ip)).toBe(true);
        expect(networkAddress(c) <= ip && ip <= broadcastAddress(c)).toBe(true);
      }),
    );
  });
});
