import type { Argv, CommandModule } from 'yargs';
import { GoldenFolderError, summaryLine } from '../../explain/golden.js';
import { runGolden } from '../../explain/golden-run.js';
import { UserError } from '../user-error.js';

interface GoldenCheckArgs {
  readonly scenario: string;
  readonly golden: string;
  readonly seed: number | undefined;
  readonly update: boolean;
  readonly json: boolean;
}

/** Difference lines printed before `… and N more` (--json has them all). */
const MAX_LINES = 20;

const checkCommand: CommandModule<object, GoldenCheckArgs> = {
  command: 'check <scenario> <golden>',
  describe: "Run a scenario and compare every interface's capture and every output with a golden folder (exit 1 on any difference)",
  builder: (y: Argv) =>
    y
      .positional('scenario', { type: 'string', demandOption: true, describe: 'Scenario YAML file' })
      .positional('golden', { type: 'string', demandOption: true, describe: 'Golden folder (made by --update)' })
      .option('seed', { type: 'number', describe: "Seed for the run (default: the golden folder's, else 1)" })
      .option('update', { type: 'boolean', default: false, describe: 'Write the golden folder from this run instead of comparing' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON' })
      .check((a) =>
        a.seed === undefined || (Number.isInteger(a.seed) && a.seed >= 0 && a.seed <= 0xffff_ffff)
          ? true
          : `--seed must be an integer from 0 to 4294967295, got ${String(a.seed)}`,
      )
      .example('$0 golden check scenarios/cross-node-ping.yaml test/golden/cross-node-ping --update', 'make the golden folder')
      .example('$0 golden check scenarios/cross-node-ping.yaml test/golden/cross-node-ping', 'check a new run against it') as unknown as Argv<GoldenCheckArgs>,
  handler: (args) => {
    let r;
    try {
      r = runGolden(args.scenario, args.golden, { ...(args.seed !== undefined && { seed: args.seed }), update: args.update });
    } catch (e) {
      if (e instanceof GoldenFolderError) {
        throw new UserError(e.reason === 'missing' ? `${e.message}; make it with: podwire golden check ${args.scenario} ${args.golden} --update` : e.message);
      }
      throw e;
    }
    if (r.mode === 'update') {
      if (args.json) process.stdout.write(`${JSON.stringify({ updated: true, golden: args.golden, seed: r.seed, files: r.files })}\n`);
      else process.stdout.write(`golden update: wrote ${args.golden}: ${r.files} files (seed ${r.seed})\n`);
      return;
    }
    const { report } = r;
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ ok: report.ok, seed: r.seed, files: report.files, differingFiles: report.differingFiles, differences: report.differences }, null, 2)}\n`);
    } else {
      for (const d of report.differences.slice(0, MAX_LINES)) process.stdout.write(`${d.message}\n`);
      if (report.differences.length > MAX_LINES) process.stdout.write(`… and ${report.differences.length - MAX_LINES} more\n`);
      process.stdout.write(`${summaryLine(report)}\n`);
    }
    if (!report.ok) process.exitCode = 1;
  },
};

export const goldenCommand: CommandModule<object, object> = {
  command: 'golden <command>',
  describe: 'Golden folders: check that a scenario still gives the captures and outputs kept, or keep them',
  builder: (y: Argv) => y.command(checkCommand).demandCommand(1, 'give a golden command: check'),
  handler: () => {},
};
