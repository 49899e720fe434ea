/** coreutils sleep: ends after the given seconds (suffixes s, m, h, d) of virtual time. */
import { UsageError, type App, type AppContext } from './app.js';

const UNIT: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

export function parseSleepArgs(args: readonly string[]): number {
  if (args.length === 0) throw new UsageError("sleep: missing operand\nTry 'sleep --help' for more information.", 1);
  let total = 0;
  for (const a of args) {
    const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(a);
    if (!m) throw new UsageError(`sleep: invalid time interval '${a}'\nTry 'sleep --help' for more information.`, 1);
    total += Number(m[1]) * UNIT[m[2]!]!;
  }
  return total * 1e9;
}

export class Sleep implements App {
  constructor(private readonly durationNs: number) {}
  start(ctx: AppContext): void {
    ctx.sched.after(this.durationNs, () => ctx.exit(0));
  }
}
