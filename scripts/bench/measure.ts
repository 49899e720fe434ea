/**
 * A tiny harness for throughput figures: runs `body(n)` with growing n until one run takes at least
 * `minMs`, repeats that `rounds` times and reports the median rate. Figures are printed, never
 * asserted (DESIGN.md: performance targets live in benchmarks, not in timed tests).
 */
export interface Rate {
  readonly perSecond: number;
  readonly iterations: number;
}

export function measureRate(body: (iterations: number) => void, minMs = 400, rounds = 5): Rate {
  let n = 1000;
  body(n); // warm-up: let the JIT settle before timing
  for (;;) {
    const t0 = process.hrtime.bigint();
    body(n);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= minMs / 4) {
      n = Math.max(n, Math.ceil((n * minMs) / Math.max(ms, 1)));
      break;
    }
    n *= 4;
  }
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    body(n);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    rates.push(n / s);
  }
  rates.sort((a, b) => a - b);
  return { perSecond: rates[Math.floor(rates.length / 2)]!, iterations: n };
}

export function fmtRate(perSecond: number, unit: string): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M ${unit}/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k ${unit}/s`;
  return `${perSecond.toFixed(0)} ${unit}/s`;
}

export function row(label: string, value: string, note = ''): void {
  console.log(`  ${label.padEnd(58)} ${value.padStart(18)}${note ? `  ${note}` : ''}`);
}
