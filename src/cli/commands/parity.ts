import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { CompareInputError, formatReport } from '../../compare/index.js';
import { loadScenarioFile } from '../../scenario/load.js';
import { KernelCommandError, kernelRelease } from '../../parity/kernel.js';
import { errorRow, fidelityRow, renderFidelityTable, replaceFidelitySection, type FidelityRow } from '../../parity/fidelity.js';
import { ParityOutputError, ParityUnavailable, runParity, type ParityResult } from '../../parity/parity.js';
import { UserError } from '../user-error.js';
import { replayCommand } from './parity-replay.js';

interface ParityArgs {
  readonly scenarios: string[];
  readonly out: string | undefined;
  readonly seed: number;
  readonly keep: boolean;
  readonly all: boolean;
  readonly fidelity: string | undefined;
  readonly replay: boolean;
}

/** The scenario files named: a folder stands for every .yaml under it, sorted by path. */
function scenarioFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []));
  for (const p of paths) {
    if (!existsSync(p)) throw new UserError(`${p}: no such file or folder`);
    out.push(...(statSync(p).isDirectory() ? walk(p) : [p]));
  }
  if (out.length === 0) throw new UserError(`${paths.join(' ')}: no scenario (.yaml) found`);
  return out;
}

/** Prints one scenario's result: per interface match or differ, compare's report, notes, reasons. */
function printResult(r: ParityResult, all: boolean): void {
  if (r.report) {
    const text = formatReport(r.report, { all })
      .replaceAll('only in the reference', 'only on the kernel')
      .split('\n');
    // Per interface: match or differ, then compare's report (diff rows, summary).
    for (const p of r.report.points) {
      const status = p.status === 'match' ? 'match' : p.status === 'known' ? 'match (known differences)' : `differ (${p.differingPackets} packets)`;
      process.stdout.write(`${p.capturePoint.padEnd(28)} ${String(p.reference.length).padStart(4)} kernel ${String(p.podwire.length).padStart(4)} podwire  ${status}\n`);
    }
    process.stdout.write(`${text.join('\n')}`);
  }
  for (const n of r.notes) process.stdout.write(`${n}\n`);
  for (const n of r.notRealizable) process.stdout.write(`${n}\n`);
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  if (r.kept) process.stderr.write(`kept namespaces: ${r.namespaces.join(' ')}\n`);
  process.stdout.write(`parity ${r.scenario}: ${fidelityRow('', r).status}; folder ${r.outDir}\n`);
}

export const parityCommand: CommandModule<object, ParityArgs> = {
  command: 'parity <scenarios..>',
  describe: "Run scenarios in podwire and on the real Linux kernel (network namespaces built from podwire's model) and compare every interface's capture",
  builder: (y: Argv) =>
    y
      .positional('scenarios', { type: 'string', array: true, demandOption: true, describe: 'Scenario YAML files, or folders of them (every .yaml under a folder)' })
      .option('out', { alias: 'o', type: 'string', describe: 'Folder to create: podwire/, kernel/ (runs laid out alike) and report.json — one subfolder per scenario when there are several; default: a new temp folder' })
      .option('seed', { type: 'number', default: 1, describe: "Seed of podwire's run" })
      .option('keep', { type: 'boolean', default: false, describe: 'Leave the kernel namespaces in place to look at (delete them with ip netns del NAME)' })
      .option('all', { type: 'boolean', default: false, describe: 'Show every interface, not only those that differ' })
      .option('fidelity', { type: 'string', describe: 'Write the results as the fidelity table between the fidelity markers of this file (the README)' })
      .option('replay', { type: 'boolean', default: false, describe: "Inject podwire's own frames (ARP, ICMP, UDP, TCP SYNs the command-running pods sent) into the kernel's realization and compare the kernel's reaction to each with podwire's (needs the optional dependency cap)" })
      .check((a) =>
        Number.isInteger(a.seed) && a.seed >= 0 && a.seed <= 0xffff_ffff ? true : `--seed must be an integer from 0 to 4294967295, got ${String(a.seed)}`,
      )
      .example('sudo $0 parity scenarios/same-node-ping.yaml -o /tmp/parity', 'exit status 0: every interface captured the same packets on the kernel')
      .example('sudo $0 parity scenarios -o /tmp/parity --fidelity README.md', "every bundled scenario, one line each, and the README's fidelity table rewritten")
      .epilog('Needs root and ip netns. Exit status: 0 everything realized and every interface matches, 1 a difference or something not realizable here, 2 bad input or parity cannot run on this machine.') as unknown as Argv<ParityArgs>,
  handler: async (args) => {
    const files = scenarioFiles(args.scenarios);
    // Every scenario is read before any runs: a bad one is reported before minutes of parity.
    const specs = files.map((f) => loadScenarioFile(f));
    if (args.replay) {
      if (specs.length !== 1 || args.fidelity !== undefined) throw new UserError('--replay takes one scenario (and no --fidelity)');
      return replayCommand(specs[0]!, args);
    }
    if (args.fidelity !== undefined && !existsSync(args.fidelity)) throw new UserError(`--fidelity ${args.fidelity}: no such file`);
    const several = specs.length > 1;
    if (several && args.out !== undefined && existsSync(args.out) && readdirSync(args.out).length > 0) throw new UserError(`-o ${args.out}: exists and is not empty`);
    const rows: FidelityRow[] = [];
    for (const [i, spec] of specs.entries()) {
      const file = files[i]!;
      const out = args.out === undefined ? undefined : several ? join(args.out, file.replace(/\.ya?ml$/, '').replace(/^\.?\/?scenarios\//, '').replaceAll('/', '-')) : args.out;
      let r: ParityResult;
      try {
        r = await runParity(spec, {
          seed: args.seed,
          keep: args.keep,
          ...(out !== undefined && { out }),
          log: (line) => process.stderr.write(`${line}\n`),
        });
      } catch (e) {
        if (e instanceof ParityUnavailable || e instanceof ParityOutputError || e instanceof CompareInputError) throw new UserError(e.message);
        if (e instanceof KernelCommandError) {
          process.stderr.write(`podwire: kernel: ${e.message}\n`);
          rows.push(errorRow(file, e.message));
          continue;
        }
        throw e;
      }
      printResult(r, args.all);
      rows.push(fidelityRow(file, r));
    }
    if (several) {
      process.stdout.write('\n');
      for (const r of rows) process.stdout.write(`${r.status.padEnd(13)} ${r.points === 0 ? '' : `${r.matched}/${r.points} `}${r.file}\n`);
      process.stdout.write(`${rows.filter((r) => r.status === 'pass').length} of ${rows.length} scenarios pass on the kernel\n`);
    }
    if (args.out !== undefined) mkdirSync(args.out, { recursive: true });
    if (args.out !== undefined) writeFileSync(join(args.out, 'fidelity.json'), `${JSON.stringify({ kernel: kernelRelease(), scenarios: rows }, null, 2)}\n`);
    if (args.fidelity !== undefined) {
      let text: string;
      try {
        text = replaceFidelitySection(readFileSync(args.fidelity, 'utf8'), renderFidelityTable(rows, kernelRelease()));
      } catch (e) {
        throw new UserError(`--fidelity ${args.fidelity}: ${(e as Error).message}`);
      }
      writeFileSync(args.fidelity, text);
      process.stderr.write(`fidelity table written to ${args.fidelity}\n`);
    }
    process.exitCode = rows.every((r) => r.status === 'pass') ? 0 : 1;
  },
};
