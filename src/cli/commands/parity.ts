import type { Argv, CommandModule } from 'yargs';
import { CompareInputError, formatReport } from '../../compare/index.js';
import { loadScenarioFile } from '../../scenario/load.js';
import { KernelCommandError } from '../../parity/kernel.js';
import { ParityOutputError, ParityUnavailable, runParity } from '../../parity/parity.js';
import { UserError } from '../user-error.js';
import { replayCommand } from './parity-replay.js';

interface ParityArgs {
  readonly scenario: string;
  readonly out: string | undefined;
  readonly seed: number;
  readonly keep: boolean;
  readonly all: boolean;
  readonly replay: boolean;
}

export const parityCommand: CommandModule<object, ParityArgs> = {
  command: 'parity <scenario>',
  describe: "Run a scenario in podwire and on the real Linux kernel (network namespaces built from podwire's model) and compare every interface's capture",
  builder: (y: Argv) =>
    y
      .positional('scenario', { type: 'string', demandOption: true, describe: 'Scenario YAML file' })
      .option('out', { alias: 'o', type: 'string', describe: 'Folder to create: podwire/, kernel/ (runs laid out alike) and report.json; default: a new temp folder' })
      .option('seed', { type: 'number', default: 1, describe: "Seed of podwire's run" })
      .option('keep', { type: 'boolean', default: false, describe: 'Leave the kernel namespaces in place to look at (delete them with ip netns del NAME)' })
      .option('all', { type: 'boolean', default: false, describe: 'Show every interface, not only those that differ' })
      .option('replay', { type: 'boolean', default: false, describe: "Inject podwire's own frames (ARP, ICMP, UDP, TCP SYNs the command-running pods sent) into the kernel's realization and compare the kernel's reaction to each with podwire's (needs the optional dependency cap)" })
      .check((a) =>
        Number.isInteger(a.seed) && a.seed >= 0 && a.seed <= 0xffff_ffff ? true : `--seed must be an integer from 0 to 4294967295, got ${String(a.seed)}`,
      )
      .example('sudo $0 parity scenarios/same-node-ping.yaml -o /tmp/parity', 'exit status 0: every interface captured the same packets on the kernel')
      .epilog('Needs root and ip netns. Exit status: 0 everything realized and every interface matches, 1 a difference or something not realizable here, 2 bad input or parity cannot run on this machine.') as unknown as Argv<ParityArgs>,
  handler: async (args) => {
    const spec = loadScenarioFile(args.scenario);
    if (args.replay) return replayCommand(spec, args);
    let r;
    try {
      r = await runParity(spec, {
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
    if (r.report) {
      const text = formatReport(r.report, { all: args.all })
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
    process.stdout.write(`parity ${r.scenario}: ${r.ok ? 'pass' : r.report ? 'FAIL' : r.notRealizable.some((n) => n.startsWith('not compared')) ? 'not compared' : 'not run'}; folder ${r.outDir}\n`);
    process.exitCode = r.ok ? 0 : 1;
  },
};
