/**
 * Seeded randomness, split into independent streams per purpose (MAC addresses, IP IDs,
 * ephemeral ports, TCP ISNs, kube-proxy's statistic match, …): a stream's draws depend only on
 * the seed and the purpose's name, so a new draw in one place never changes choices elsewhere.
 * The generator is xoshiro128** (Blackman & Vigna), seeded through splitmix32 from a 32-bit FNV-1a
 * hash of seed and purpose.
 */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class RandomStream {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const st = { s: seed | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number {
    return this.nextU32() / 0x1_0000_0000;
  }

  /** An integer in [min, max], inclusive, without modulo bias. */
  intBetween(min: number, max: number): number {
    const span = max - min + 1;
    if (!(span >= 1 && span <= 0x1_0000_0000)) throw new RangeError(`bad range ${min}..${max}`);
    const limit = Math.floor(0x1_0000_0000 / span) * span;
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return min + (x % span);
  }

  /** n random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.nextU32();
      for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * The run's randomness: one seed, a stream per purpose, created on first use. `reseed` gives the
 * streams whose purpose starts with a prefix a seed of their own (kernel parity re-seeds only
 * kube-proxy's `statistic/` streams, so that every other draw stays the run's).
 */
export class Random {
  private readonly streams = new Map<string, RandomStream>();
  constructor(
    readonly seed: number,
    private readonly reseed: ReadonlyMap<string, number> = new Map(),
  ) {}

  stream(purpose: string): RandomStream {
    let s = this.streams.get(purpose);
    if (!s) {
      let seed = this.seed;
      for (const [prefix, own] of this.reseed) if (purpose.startsWith(prefix)) seed = own;
      s = new RandomStream(fnv1a(`${seed}/${purpose}`));
      this.streams.set(purpose, s);
    }
    return s;
  }
}
