import type { Argv, CommandModule } from 'yargs';
import { CompareInputError, compareRun, formatReport, type CompareReport } from '../../compare/index.js';
import { UserError } from '../user-error.js';

interface CompareArgs {
  readonly reference: string;
  readonly run: string;
  readonly json: boolean;
  readonly all: boolean;
  readonly knownDifferences?: string;
}

/** Exit status: 0 when every capture point matches (known differences allowed), 1 when one differs. */
export function compareExitCode(report: CompareReport): number {
  return report.ok ? 0 : 1;
}

export const compareCommand: CommandModule<object, CompareArgs> = {
  command: 'compare <reference> <run>',
  describe: 'Compare a run folder with a kernel reference folder, capture point by capture point',
  builder: (y: Argv) =>
    y
      .positional('reference', {
        type: 'string',
        demandOption: true,
        describe: 'Kernel reference folder (fixtures/kernel/<scenario>)',
      })
      .positional('run', { type: 'string', demandOption: true, describe: 'Run folder written by podwire run -o DIR' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON' })
      .option('all', { type: 'boolean', default: false, describe: 'Show every capture point, not only those that differ' })
      .option('known-differences', {
        type: 'string',
        describe: 'Known differences file (default: known-differences.yaml of the repository)',
      })
      .example('$0 compare fixtures/kernel/same-node-ping out/same-node-ping', 'exit status 0: every capture point matches')
      .epilog('Exit status: 0 all match (known differences allowed), 1 a capture point differs, 2 bad input.') as unknown as Argv<CompareArgs>,
  handler: (args) => {
    let report: CompareReport;
    try {
      report = compareRun(args.reference, args.run, {
        ...(args.knownDifferences !== undefined && { knownDifferencesFile: args.knownDifferences }),
      });
    } catch (e) {
      if (e instanceof CompareInputError) throw new UserError(e.message);
      throw e;
    }
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, { all: args.all }));
    process.exitCode = compareExitCode(report);
  },
};
