import { describe, expect, it } from 'vitest';
import { Random, RandomStream } from '../../src/sim/random.js';

const draws = (s: RandomStream, n: number): number[] => Array.from({ length: n }, () => s.nextU32());

/** Pearson's chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: readonly number[], total: number): number {
  const expected = total / counts.length;
  return counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
}

describe('Random: one seed, independent streams per purpose (DESIGN.md "Determinism")', () => {
  it('the same seed and purpose give the same sequence, in any Random instance', () => {
    const a = draws(new Random(42).stream('mac'), 1_000);
    const b = draws(new Random(42).stream('mac'), 1_000);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(990); // and it is not a constant
  });

  it('pins the first draws of one stream: changing the generator changes every capture', () => {
    // xoshiro128** seeded by splitmix32 of FNV-1a("1/ip-ident/pa"), as recorded from this
    // implementation: a regression pin (the golden captures depend on these draws), not a derivation.
    expect(draws(new Random(1).stream('ip-ident/pa'), 4)).toEqual([0xe6653e78, 0xbdeec575, 0x3fbf2549, 0xa834e5fa]);
  });

  it('a different seed or a different purpose gives a different sequence', () => {
    const base = draws(new Random(42).stream('mac'), 16);
    expect(draws(new Random(43).stream('mac'), 16)).not.toEqual(base);
    expect(draws(new Random(42).stream('ports'), 16)).not.toEqual(base);
  });

  it('drawing from one stream never changes another stream’s sequence', () => {
    const quiet = draws(new Random(7).stream('b'), 100);

    const busy = new Random(7);
    const a = busy.stream('a');
    for (let i = 0; i < 1_000; i++) a.nextU32();
    busy.stream('c').bytes(33);
    const b = busy.stream('b');
    const interleaved: number[] = [];
    for (let i = 0; i < 100; i++) {
      interleaved.push(b.nextU32());
      a.intBetween(0, 9);
      a.nextFloat();
    }
    expect(interleaved).toEqual(quiet);
  });

  it('stream(purpose) returns the same stream each time: its draws continue, they do not restart', () => {
    const r = new Random(3);
    const s = r.stream('x');
    expect(r.stream('x')).toBe(s);
    const first = s.nextU32();
    expect(r.stream('x').nextU32()).not.toBe(first);
    expect(draws(new Random(3).stream('x'), 2)).toEqual([first, expect.any(Number)]);
  });

  it('nextFloat is in [0, 1) and is nextU32 / 2^32', () => {
    const s1 = new Random(5).stream('f');
    const s2 = new Random(5).stream('f');
    for (let i = 0; i < 10_000; i++) {
      const f = s1.nextFloat();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
      expect(f).toBe(s2.nextU32() / 0x1_0000_0000);
    }
  });

  describe('intBetween', () => {
    it('stays within [min, max] inclusive and reaches both ends', () => {
      const s = new Random(11).stream('bounds');
      for (const [min, max] of [[0, 1], [-3, 3], [1_000, 1_007], [32_768, 60_999]] as const) {
        let lo = Number.POSITIVE_INFINITY;
        let hi = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < 20_000; i++) {
          const v = s.intBetween(min, max);
          expect(Number.isInteger(v)).toBe(true);
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
        expect(lo).toBeGreaterThanOrEqual(min);
        expect(hi).toBeLessThanOrEqual(max);
        if (max - min < 100) expect([lo, hi]).toEqual([min, max]);
      }
    });

    it('a one-value range always gives that value; the full 32-bit span is allowed', () => {
      const s = new Random(11).stream('edges');
      for (let i = 0; i < 100; i++) expect(s.intBetween(9, 9)).toBe(9);
      for (let i = 0; i < 100; i++) {
        const v = s.intBetween(0, 0xffff_ffff);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(0xffff_ffff);
      }
    });

    it('rejects empty and over-wide ranges with a RangeError', () => {
      const s = new Random(11).stream('bad');
      expect(() => s.intBetween(5, 4)).toThrow(RangeError);
      expect(() => s.intBetween(0, 0x1_0000_0000)).toThrow(RangeError);
      expect(() => s.intBetween(0, Number.NaN)).toThrow(RangeError);
    });

    it('is uniform on small ranges: chi-square over 60 000 draws', () => {
      const s = new Random(2024).stream('chi');
      for (const k of [2, 3, 6, 10]) {
        const counts = new Array<number>(k).fill(0);
        for (let i = 0; i < 60_000; i++) counts[s.intBetween(0, k - 1)]!++;
        // 99.9th percentiles of chi-square with k-1 degrees of freedom: 10.83, 13.82, 20.52, 27.88.
        const critical = { 2: 10.83, 3: 13.82, 6: 20.52, 10: 27.88 }[k]!;
        expect(chiSquare(counts, 60_000), `k=${k}: ${counts.join(',')}`).toBeLessThan(critical);
      }
    });

    it('has no modulo bias where plain `u32 % span` would have a large one', () => {
      // span = 3·2^30: u32 % span would land in the first third twice as often (1/2 instead of 1/3).
      const s = new Random(99).stream('bias');
      const span = 0xc000_0000;
      let low = 0;
      const n = 60_000;
      for (let i = 0; i < n; i++) if (s.intBetween(0, span - 1) < 0x4000_0000) low++;
      expect(low / n).toBeGreaterThan(0.32);
      expect(low / n).toBeLessThan(0.347);
    });
  });

  describe('bytes', () => {
    it('returns n bytes: each 32-bit draw little-endian, the last one cut short', () => {
      for (let n = 0; n <= 9; n++) {
        const got = new Random(8).stream('b').bytes(n);
        const words = draws(new Random(8).stream('b'), Math.ceil(n / 4));
        const expected = new Uint8Array(n);
        words.forEach((w, i) => {
          for (let k = 0; k < 4 && 4 * i + k < n; k++) expected[4 * i + k] = (w >>> (8 * k)) & 0xff;
        });
        expect(got).toBeInstanceOf(Uint8Array);
        expect(got).toEqual(expected);
      }
    });

    it('consumes whole draws: after bytes(5) the stream is where two nextU32 calls leave it', () => {
      const a = new Random(8).stream('b');
      a.bytes(5);
      const b = new Random(8).stream('b');
      b.nextU32();
      b.nextU32();
      expect(draws(a, 5)).toEqual(draws(b, 5));
    });

    it('covers every byte value over many draws', () => {
      const seen = new Set(new Random(1).stream('all').bytes(20_000));
      expect(seen.size).toBe(256);
    });
  });
});

describe('Random scripted draws', () => {
  it('the scripted purpose returns its draws first, then the seeded stream from its beginning', () => {
    const scripted = new Random(1, { scripted: new Map([['statistic/n1', [0x7fff_ffff, 0, 0xffff_ffff]]]) });
    const s = scripted.stream('statistic/n1');
    expect(draws(s, 3)).toEqual([0x7fff_ffff, 0, 0xffff_ffff]);
    expect(draws(s, 4)).toEqual(draws(new Random(1).stream('statistic/n1'), 4));
  });

  it('leaves every other stream as the seed makes it, a purpose sharing the prefix included', () => {
    const plain = new Random(1);
    const scripted = new Random(1, { scripted: new Map([['statistic/n1', [5, 6]]]) });
    for (const purpose of ['mac', 'tcp-isn/n1', 'statistic/n2', 'statistic/n10']) {
      expect(draws(scripted.stream(purpose), 8), purpose).toEqual(draws(plain.stream(purpose), 8));
    }
  });

  it('derived draws (intBetween, bytes) read the script too', () => {
    const scripted = new Random(1, { scripted: new Map([['p', [7, 0x0403_0201]]]) });
    expect(scripted.stream('p').intBetween(0, 9)).toBe(7);
    expect([...scripted.stream('p').bytes(4)]).toEqual([1, 2, 3, 4]);
  });

  it('refuses a draw that is not a u32', () => {
    expect(() => new Random(1, { scripted: new Map([['p', [0x1_0000_0000]]]) })).toThrow(/scripted draw 4294967296 for p is not a u32/);
    expect(() => new Random(1, { scripted: new Map([['p', [-1]]]) })).toThrow(RangeError);
  });
});
