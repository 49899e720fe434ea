import { describe, expect, it } from 'vitest';
import { JIFFY_NS, wheelExpiryNs } from '../../src/net/timer-wheel.js';

const J = JIFFY_NS;

describe('timer wheel expiry (kernel/time/timer.c calc_wheel_index, HZ=250)', () => {
  it('a short timer (level 0) runs on the tick after its expiry jiffy', () => {
    // 200 ms = 50 jiffies armed on jiffy 10: expires at 60, bucket 61.
    expect(wheelExpiryNs(10 * J, 200e6)).toBe(61 * J);
    // Armed mid-jiffy: the jiffy it is in counts.
    expect(wheelExpiryNs(10 * J + 1, 200e6)).toBe(61 * J);
  });

  it('1 s (level 1, 8-jiffy buckets) armed on a bucket boundary fires 1.024 s later, as the kernel retransmits SYNs', () => {
    expect(wheelExpiryNs(800 * J, 1e9) - 800 * J).toBe(1_024_000_000);
    // One jiffy past the boundary: the same bucket, 1.020 s (the kernel's 1020 ms gaps).
    expect(wheelExpiryNs(801 * J, 1e9) - 801 * J).toBe(1_020_000_000);
  });

  it('2 s still level 1 (500 < 504 jiffies): 2.016 s; 4 s goes to level 2 (64-jiffy buckets)', () => {
    expect(wheelExpiryNs(800 * J, 2e9) - 800 * J).toBe(2_016_000_000);
    expect(wheelExpiryNs(1024 * J, 4e9)).toBe((Math.floor((1024 + 1000) / 64) + 1) * 64 * J);
  });

  it('never fires early, at most one bucket late', () => {
    for (const delay of [1e6, 40e6, 200e6, 999e6, 1e9, 3e9, 16e9, 64e9, 120e9]) {
      for (const now of [0, 3 * J + 17, 12345 * J + 999]) {
        const at = wheelExpiryNs(now, delay);
        expect(at).toBeGreaterThan(now + delay - J);
        expect(at - (now + delay)).toBeLessThanOrEqual(delay / 8 + 2 * J);
      }
    }
  });
});
