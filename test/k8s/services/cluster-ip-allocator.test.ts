import { describe, expect, it } from 'vitest';
import { formatIpv4, parseIpv4 } from '../../../src/packet/addr.js';
import { ClusterIpAllocator, ClusterIpError, calculateRangeOffset } from '../../../src/k8s/services/cluster-ip-allocator.js';
import { Random } from '../../../src/sim/random.js';

const alloc = (cidr: string, seed = 1) => {
  const [net, len] = cidr.split('/');
  return new ClusterIpAllocator(parseIpv4(net!), Number(len), new Random(seed).stream('clusterip'));
};

describe('the ClusterIP allocator (ipallocator/bitmap.go)', () => {
  it('reserves min(max(16, size/16), 256) addresses at the start of the range', () => {
    expect(calculateRangeOffset(2 ** 20)).toBe(256); // /12
    expect(calculateRangeOffset(2 ** 12)).toBe(256); // /20: 4096/16
    expect(calculateRangeOffset(2 ** 11)).toBe(128); // /21
    expect(calculateRangeOffset(256)).toBe(16); // /24
    expect(calculateRangeOffset(16)).toBe(16); // /28
    expect(calculateRangeOffset(8)).toBe(0); // /29: too small for a band
    const a = alloc('10.96.0.0/12');
    expect(a.size).toBe(2 ** 20 - 2);
    expect(formatIpv4(a.addressAt(0))).toBe('10.96.0.1');
    expect(formatIpv4(a.addressAt(9))).toBe('10.96.0.10');
  });

  it('gives dynamic addresses above the static band', () => {
    const a = alloc('10.96.0.0/24');
    for (let i = 0; i < 254 - 16; i++) {
      const ip = a.allocateNext();
      expect(ip - parseIpv4('10.96.0.1')).toBeGreaterThanOrEqual(16);
    }
    // The upper part is full: the band is used only now.
    const next = a.allocateNext();
    expect(next - parseIpv4('10.96.0.1')).toBeLessThan(16);
  });

  it('takes given addresses exactly and refuses taken or foreign ones as the apiserver words it', () => {
    const a = alloc('10.96.0.0/12');
    a.allocate(parseIpv4('10.96.0.10'));
    expect(a.isAllocated(parseIpv4('10.96.0.10'))).toBe(true);
    expect(() => a.allocate(parseIpv4('10.96.0.10'))).toThrow(new ClusterIpError('failed to allocate IP 10.96.0.10: provided IP is already allocated'));
    expect(() => a.allocate(parseIpv4('10.0.0.1'))).toThrow(
      new ClusterIpError('failed to allocate IP 10.0.0.1: provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12'),
    );
    // Network and broadcast addresses are not in the bitmap.
    expect(() => a.allocate(parseIpv4('10.96.0.0'))).toThrow(ClusterIpError);
    expect(() => a.allocate(parseIpv4('10.111.255.255'))).toThrow(ClusterIpError);
  });

  it('says the range is full when it is', () => {
    const a = alloc('10.96.0.0/29');
    const got = new Set<number>();
    for (let i = 0; i < 6; i++) got.add(a.allocateNext());
    expect(got.size).toBe(6);
    expect(() => a.allocateNext()).toThrow(new ClusterIpError('failed to allocate a serviceIP: range is full'));
    a.release([...got][0]!);
    expect(a.allocateNext()).toBe([...got][0]);
  });

  it('draws the same addresses for the same seed, others for another', () => {
    const draw = (seed: number) => {
      const a = alloc('10.96.0.0/12', seed);
      return [0, 1, 2, 3].map(() => formatIpv4(a.allocateNext()));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });
});
