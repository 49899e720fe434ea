import { describe, expect, it } from 'vitest';
import { MIN_PMTU, MTU_EXPIRES_NS, PmtuCache } from '../../src/net/pmtu-cache.js';

describe('learned path MTUs (route exceptions)', () => {
  it('lowers the MTU towards one destination for net.ipv4.route.mtu_expires (600 s)', () => {
    const c = new PmtuCache();
    expect(c.update(7, 1450, 1500, 0)).toBe(1450);
    expect(c.lookup(7, MTU_EXPIRES_NS - 1)).toBe(1450);
    expect(c.lookup(8, 0)).toBeUndefined();
    expect(c.lookup(7, MTU_EXPIRES_NS)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('never raises it, and settles at min_pmtu (552) for a smaller report', () => {
    const c = new PmtuCache();
    expect(c.update(7, 1600, 1500, 0)).toBe(1500);
    expect(c.lookup(7, 0)).toBeUndefined();
    expect(c.update(7, 200, 1500, 0)).toBe(MIN_PMTU);
    expect(c.lookup(7, 0)).toBe(552);
  });

  it('the same MTU again renews the expiry', () => {
    const c = new PmtuCache();
    c.update(7, 1400, 1500, 0);
    c.update(7, 1400, 1400, 500e9);
    expect(c.lookup(7, 700e9)).toBe(1400);
  });

  it('holds a bounded number of destinations, dropping the oldest', () => {
    const c = new PmtuCache();
    for (let d = 0; d < 5000; d++) c.update(d, 1400, 1500, 0);
    expect(c.size).toBe(2048);
    expect(c.lookup(0, 0)).toBeUndefined();
    expect(c.lookup(4999, 0)).toBe(1400);
  });
});
