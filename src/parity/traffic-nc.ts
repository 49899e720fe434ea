/**
 * `kubectl exec [-i] POD -- nc …` as a step on the kernel: the real netcat-openbsd 1.219 (the
 * program podwire's src/apps/nc.ts emulates), fed the step's `stdin:`. The command line is read
 * with podwire's own parser first, so that only what both sides understand runs, and it must end
 * by itself: a client (never a listener — that is a container's job) to an IPv4 address, bounded
 * by its -w idle timeout or -q quit timer plus a margin, else by DEFAULT_SECONDS (killed then, as
 * timeout(1) kills: podwire's nc without either waits until the step limit). Options that run a
 * program or reach outside the pod's network namespace are refused, never run.
 */
import { UsageError } from '../apps/app.js';
import { parseNcArgs } from '../apps/nc.js';
import { NC_OPENBSD } from './stand-ins/nc-listener.js';

/** The bound of an nc with neither -w nor -q. */
const DEFAULT_SECONDS = 10;
/** The longest an nc step may run. */
const MAX_SECONDS = 60;
/** What the real nc needs beyond its own timers: start-up, and the last idle period. */
const MARGIN_SECONDS = 5;

/** Options netcat-openbsd has that parity never runs, and why. */
const REFUSED: Readonly<Record<string, string>> = {
  e: 'runs a program (not netcat-openbsd; parity never runs one)',
  c: 'runs a program (not netcat-openbsd; parity never runs one)',
  U: 'a Unix-domain socket: a file of this machine',
  x: 'a proxy: the traffic would go elsewhere',
  X: 'a proxy: the traffic would go elsewhere',
  P: 'a proxy: the traffic would go elsewhere',
  s: 'a source address is not an option parity runs',
  F: 'passes a descriptor to another process',
};

/** The real nc's argv and its bound, or why it is not run here. */
export function planNcClient(argv: readonly string[]): { argv: readonly string[]; timeoutSec: number } | string {
  const args = argv.slice(1);
  for (const a of args) {
    if (!a.startsWith('-') || a === '-') continue;
    for (const f of a.slice(1)) {
      const why = REFUSED[f];
      if (why !== undefined) return `nc -${f}: ${why}`;
      // The rest of the word is a value (-w1, -p5000).
      if ('pwqIiMmOTVW'.includes(f)) break;
    }
  }
  let o;
  try {
    o = parseNcArgs(args);
  } catch (e) {
    if (e instanceof UsageError) return `${argv.join(' ')}: ${e.message.split('\n')[0] ?? ''}`;
    throw e;
  }
  if (o.listen) return 'nc -l as a step never ends by itself (run a listener as a container\'s command)';
  if (o.host === undefined) return `nc ${o.hostText ?? ''} (only an IPv4 address: a name would need the pod's resolv.conf)`;
  const idle = o.idleTimeoutNs !== undefined ? o.idleTimeoutNs / 1e9 : undefined;
  const quit = o.quitAfterEofNs !== undefined && o.quitAfterEofNs >= 0 ? o.quitAfterEofNs / 1e9 : undefined;
  for (const [flag, v] of [['-w', idle], ['-q', quit]] as const) {
    if (v !== undefined && !(v >= 0 && v <= MAX_SECONDS - MARGIN_SECONDS)) return `nc ${flag} ${String(v)} (a bound from 0 to ${MAX_SECONDS - MARGIN_SECONDS} s)`;
  }
  const own = Math.min(idle ?? Infinity, quit ?? Infinity);
  const timeoutSec = Number.isFinite(own) ? Math.ceil(own) + MARGIN_SECONDS : DEFAULT_SECONDS;
  return { argv: [NC_OPENBSD, ...args], timeoutSec };
}
