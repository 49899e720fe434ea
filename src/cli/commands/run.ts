import type { Argv, CommandModule } from 'yargs';
import { RunFolderError } from '../../capture/index.js';
import { loadScenarioFile } from '../../scenario/load.js';
import { runScenario, type RunProgress } from '../../scenario/run.js';
import { DEFAULT_REPORT_LIMIT } from '../../explain/report/write-report.js';
import { ProgressBar } from '../progress-bar.js';
import { reportFor } from './report.js';
import { UserError } from '../user-error.js';

interface RunArgs {
  readonly scenario: string;
  readonly out: string;
  readonly seed: number;
  readonly force: boolean;
  readonly quiet: boolean;
  readonly json: boolean;
  readonly report: boolean;
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
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: "Do not echo the commands' output, nor show progress" })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON summary of the run (folder, capture files, steps and exit codes) and nothing else' })
      .option('report', { type: 'boolean', default: false, describe: 'Also write OUT/report.html (podwire report OUT) once the run is complete' })
      .check((a) =>
        Number.isInteger(a.seed) && a.seed >= 0 && a.seed <= 0xffff_ffff ? true : `--seed must be an integer from 0 to 4294967295, got ${String(a.seed)}`,
      )
      .example('$0 run scenarios/same-node-ping.yaml -o out/same-node-ping', 'then open out/same-node-ping/all.pcapng in Wireshark') as unknown as Argv<RunArgs>,
  handler: (args) => {
    const spec = loadScenarioFile(args.scenario);
    // A bar on the terminal (stderr), erased before each command's output is echoed and at the end.
    const bar = new ProgressBar(process.stderr);
    const showBar = bar.enabled && !args.quiet && !args.json;
    const echo = args.quiet || args.json ? undefined : (t: string) => {
      bar.clear();
      process.stdout.write(t);
    };
    let result;
    try {
      result = runScenario(spec, {
        out: args.out, seed: args.seed, force: args.force,
        ...(echo && { echo }),
        ...(showBar && { progress: (p: RunProgress) => bar.update(p) }),
      });
    } catch (e) {
      if (e instanceof RunFolderError) throw new UserError(`--out ${e.message}`);
      throw e;
    } finally {
      bar.clear();
    }
    const files = result.interfaces;
    // After the run folder is in place: the report reads it as podwire report would.
    const report = args.report ? reportFor(result.dir, undefined, DEFAULT_REPORT_LIMIT) : undefined;
    const failed = result.steps.filter((s) => s.expectExit !== undefined && s.expectExit !== s.exitCode);
    if (args.json) {
      process.stdout.write(`${JSON.stringify({
        dir: result.dir,
        captures: files.map((f) => ({ file: f.file, host: f.host, netns: f.netns, name: f.name, kind: f.kind, packets: f.packets })),
        steps: result.steps.map((s) => ({ index: s.index + 1, text: s.text, exitCode: s.exitCode, expectExit: s.expectExit ?? null, output: s.outputFile })),
        ...(report ? { report: report.file } : {}),
        ok: failed.length === 0,
      }, null, 2)}\n`);
    } else {
      console.log(`\nwrote ${result.dir}: ${files.length} capture files, all.pcapng, ${result.steps.length} command outputs, trace.jsonl${report ? ', report.html' : ''}`);
    }
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
