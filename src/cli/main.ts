#!/usr/bin/env node
/**
 * The podwire command line. Commands are yargs modules with no logic of their own. A UserError (or
 * a bad flag) prints one line and exits 2; anything else is a bug and keeps its stack trace.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { exampleCommand } from './commands/example.js';
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
      .command(exampleCommand)
      .demandCommand(1, 'give a command; see podwire --help')
      .strict()
      .help()
      .alias('h', 'help')
      .version()
      .fail((msg, err) => {
        if (err) throw err;
        fail(msg);
      })
      .parseAsync();
  } catch (e) {
    if (e instanceof UserError) fail(e.message);
    throw e;
  }
}

await main(hideBin(process.argv));
