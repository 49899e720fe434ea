import type { Argv, CommandModule } from 'yargs';
import { RunFolderError } from '../../capture/index.js';
import { loadScenarioFile } from '../../scenario/load.js';
import { runScenario } from '../../scenario/run.js';
import { UserError } from '../user-error.js';

interface RunArgs {
  readonly scenario: string;
  readonly out: string;
  readonly seed: number;
  readonly force: boolean;
  readonly quiet: boolean;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <scenario>',
  describe: 'Run a scenario: one pcap per interface, a merged pcapng, each command\'s output, a hop trace',
  builder: (y: Argv) =>
    y
      .positional('scenario', { type: 'string', demandOption: true, describe: 'Scenario YAML file' })
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'Folder to create for the run' })
      .option('seed', { type: 'number', default: 1, describe: 'Seed for every random choice (same seed, same bytes)' })
      .option('force', { type: 'boolean', default: false, describe: 'Replace the output folder if it exists' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: "Do not echo the commands' output" })
      .check((a) =>
        Number.isInteger(a.seed) && a.seed >= 0 && a.seed <= 0xffff_ffff ? true : `--seed must be an integer from 0 to 4294967295, got ${String(a.seed)}`,
      )
      .example('$0 run scenarios/same-node-ping.yaml -o out/same-node-ping', 'then open out/same-node-ping/all.pcapng in Wireshark') as unknown as Argv<RunArgs>,
  handler: (args) => {
    const spec = loadScenarioFile(args.scenario);
    let result;
    try {
      result = runScenario(spec, {
        out: args.out, seed: args.seed, force: args.force,
        ...(args.quiet ? {} : { echo: (t: string) => process.stdout.write(t) }),
      });
    } catch (e) {
      if (e instanceof RunFolderError) throw new UserError(`--out ${e.message}`);
      throw e;
    }
    const files = result.interfaces;
    console.log(`\nwrote ${result.dir}: ${files.length} capture files, all.pcapng, ${result.steps.length} command outputs, trace.jsonl`);
    const failed = result.steps.filter((s) => s.expectExit !== undefined && s.expectExit !== s.exitCode);
    for (const s of failed) console.error(`podwire: step ${s.index + 1} (${s.text}) exited ${s.exitCode}, the scenario expects ${s.expectExit}`);
    if (failed.length) process.exitCode = 1;
  },
};

export const validateCommand: CommandModule<object, { scenario: string }> = {
  command: 'validate <scenario>',
  describe: 'Check a scenario file without running it',
  builder: (y: Argv) => y.positional('scenario', { type: 'string', demandOption: true, describe: 'Scenario YAML file' }) as unknown as Argv<{ scenario: string }>,
  handler: (args) => {
    const spec = loadScenarioFile(args.scenario);
    console.log(`${args.scenario}: ok — ${spec.nodes.length} nodes, ${spec.pods.length} pods, ${spec.steps.length} steps`);
  },
};
