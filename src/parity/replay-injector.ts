/**
 * `parity --replay`'s injector: a small program run inside one kernel namespace
 * (`ip netns exec NS node replay-injector.js PLAN.json`; a process cannot switch namespace per
 * socket) that opens the pod's interfaces with libpcap and sends podwire's frames on them in
 * order, at their original times relative to a start time shared by every injector, never two
 * closer than the plan's minimum gap (so the kernel's answer to one frame is on the wire before
 * the next goes, as it was in podwire's run). Bounded: it refuses more than MAX_INJECTED_FRAMES frames and
 * stops at the plan's deadline. One line per frame sent on standard output.
 */
import { readFileSync } from 'node:fs';
import { capMissing, loadCap, type FrameSender } from './replay-cap.js';
import { MAX_INJECTED_FRAMES, type InjectorPlan } from './replay-injector-plan.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function main(planFile: string): Promise<number> {
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as InjectorPlan;
  if (plan.frames.length > MAX_INJECTED_FRAMES) {
    process.stderr.write(`replay-injector: ${plan.frames.length} frames, more than ${MAX_INJECTED_FRAMES}\n`);
    return 2;
  }
  const cap = loadCap();
  if (!cap.ok) {
    process.stderr.write(`${capMissing(cap.reason)}\n`);
    return 2;
  }
  const open = new Map<string, FrameSender>();
  try {
    for (const f of plan.frames) if (!open.has(f.iface)) open.set(f.iface, cap.open(f.iface));
    const deadline = plan.startAtMs + plan.maxSeconds * 1000;
    let last = -Infinity;
    for (const [i, f] of plan.frames.entries()) {
      const due = Math.max(plan.startAtMs + f.offsetNs / 1e6, last + plan.minGapMs);
      if (due > deadline) {
        process.stderr.write(`replay-injector: frame ${i + 1} is due after the ${plan.maxSeconds} s bound: stopped\n`);
        return 3;
      }
      await sleep(due - Date.now());
      open.get(f.iface)!.send(Buffer.from(f.hex, 'hex'));
      last = Date.now();
      process.stdout.write(`${JSON.stringify({ frame: i + 1, iface: f.iface, atMs: last, lateMs: last - (plan.startAtMs + f.offsetNs / 1e6) })}\n`);
    }
    return 0;
  } finally {
    for (const s of open.values()) s.close();
  }
}

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: replay-injector.js PLAN.json\n');
  process.exitCode = 2;
} else {
  main(file).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`replay-injector: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
