/**
 * `podwire parity --replay`: the frame-level differential (src/parity/replay.ts). Prints one line
 * per injected frame (the kernel's reaction next to podwire's), what was not injected and why,
 * the injecting pods' own frames, the interface comparison, and a summary; exit status 0 only
 * when every reaction is the same.
 */
import { CompareInputError } from '../../compare/index.js';
import { KernelCommandError } from '../../parity/kernel.js';
import { ParityOutputError, ParityUnavailable } from '../../parity/parity.js';
import { formatReplay, runReplay } from '../../parity/replay.js';
import type { ScenarioSpec } from '../../scenario/spec.js';
import { UserError } from '../user-error.js';

export async function replayCommand(spec: ScenarioSpec, args: { seed: number; keep: boolean; out: string | undefined; all: boolean }): Promise<void> {
  let r;
  try {
    r = await runReplay(spec, {
      seed: args.seed,
      keep: args.keep,
      ...(args.out !== undefined && { out: args.out }),
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (e) {
    if (e instanceof ParityUnavailable || e instanceof ParityOutputError || e instanceof CompareInputError) throw new UserError(e.message);
    if (e instanceof KernelCommandError) {
      process.stderr.write(`podwire: kernel: ${e.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
  const p = r.parity;
  for (const line of formatReplay(r)) process.stdout.write(`${line}\n`);
  if (r.report && (args.all || r.interfacesNotCompared === undefined)) {
    for (const pt of r.report.points) {
      if (!args.all && pt.status === 'match') continue;
      const status = pt.status === 'match' ? 'match' : pt.status === 'known' ? 'match (known differences)' : `differ (${pt.differingPackets} packets)`;
      process.stdout.write(`${pt.capturePoint.padEnd(28)} ${String(pt.reference.length).padStart(4)} kernel ${String(pt.podwire.length).padStart(4)} podwire  ${status}\n`);
    }
  }
  for (const n of p.notes) process.stdout.write(`${n}\n`);
  for (const n of p.notRealizable) process.stdout.write(`${n}\n`);
  for (const w of p.warnings) process.stderr.write(`warning: ${w}\n`);
  if (p.kept) process.stderr.write(`kept namespaces: ${p.namespaces.join(' ')}\n`);
  const verdict = r.ok ? 'pass' : r.report ? 'FAIL' : 'not run';
  process.stdout.write(`parity --replay ${p.scenario}: ${verdict}; folder ${p.outDir}\n`);
  process.exitCode = r.ok ? 0 : 1;
}
