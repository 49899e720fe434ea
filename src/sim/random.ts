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
 * A stream that first returns given draws, then goes on as the seeded stream of its purpose would
 * from its own beginning (the script takes no draws from it). Kernel parity scripts kube-proxy's
 * `statistic/<node>` streams so that podwire's endpoint choices are the kernel's.
 */
class ScriptedStream extends RandomStream {
  private next = 0;
  constructor(
    seed: number,
    private readonly script: readonly number[],
  ) {
    super(seed);
  }

  override nextU32(): number {
    const v = this.script[this.next];
    if (v === undefined) return super.nextU32();
    this.next++;
    return v;
  }
}

export interface RandomOptions {
  /** Draws (u32 each) that the stream of exactly this purpose returns before its seeded ones. */
  readonly scripted?: ReadonlyMap<string, readonly number[]>;
}

/**
 * The run's randomness: one seed, a stream per purpose, created on first use. A purpose given
 * `scripted` draws returns those first; every other stream is the seed's alone.
 */
export class Random {
  private readonly streams = new Map<string, RandomStream>();
  private readonly scripted: ReadonlyMap<string, readonly number[]>;
  constructor(
    readonly seed: number,
    opts: RandomOptions = {},
  ) {
    for (const [purpose, draws] of opts.scripted ?? []) {
      for (const d of draws) if (!(Number.isInteger(d) && d >= 0 && d <= 0xffff_ffff)) throw new RangeError(`scripted draw ${d} for ${purpose} is not a u32`);
    }
    this.scripted = opts.scripted ?? new Map();
  }

  stream(purpose: string): RandomStream {
    let s = this.streams.get(purpose);
    if (!s) {
      const seed = fnv1a(`${this.seed}/${purpose}`);
      const script = this.scripted.get(purpose);
      s = script === undefined ? new RandomStream(seed) : new ScriptedStream(seed, script);
      this.streams.set(purpose, s);
    }
    return s;
  }
}
