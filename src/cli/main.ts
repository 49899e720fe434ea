#!/usr/bin/env node
/**
 * The podwire command line. Commands are yargs modules with no logic of their own. A UserError (or
 * a bad flag) prints one line and exits 2; anything else is a bug and keeps its stack trace.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { compareCommand } from './commands/compare.js';
import { exampleCommand } from './commands/example.js';
import { explainCommand } from './commands/explain.js';
import { goldenCommand } from './commands/golden.js';
import { inspectCommand } from './commands/inspect.js';
import { journeyCommand } from './commands/journey.js';
import { parityCommand } from './commands/parity.js';
import { reportCommand } from './commands/report.js';
import { runCommand, validateCommand } from './commands/run.js';
import { ScenarioError } from '../scenario/errors.js';
import { UserError } from './user-error.js';

function fail(message: string): never {
  process.stderr.write(`podwire: ${message}\n`);
  process.exit(2);
}

export async function main(argv: string[]): Promise<void> {
  try {
    await yargs(argv)
      .scriptName('podwire')
      .usage('$0 <command> [options]\n\nByte-accurate, packet-level emulator of Kubernetes cluster networking.')
      .command(runCommand)
      .command(validateCommand)
      .command(compareCommand)
      .command(inspectCommand)
      .command(journeyCommand)
      .command(parityCommand)
      .command(goldenCommand)
      .command(explainCommand)
      .command(reportCommand)
      .command(exampleCommand)
      .demandCommand(1, 'give a command; see podwire --help')
      .strict()
      .help()
      .alias('h', 'help')
      .version()
      .fail((msg, err) => {
        // yargs' own usage errors (bad flags, failed checks) are the user's; anything else a bug.
        if (err instanceof Error && err.name !== 'YError') throw err;
        fail(msg ?? (err instanceof Error ? err.message : String(err ?? 'invalid command line')));
      })
      .parseAsync();
  } catch (e) {
    if (e instanceof UserError || e instanceof ScenarioError) fail(e.message);
    throw e;
  }
}

await main(hideBin(process.argv));
