import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_SECTIONS, INSPECT_SECTIONS, InspectTargetError, inspectScenario, type InspectSection } from '../../scenario/inspect.js';
import { loadScenarioFile } from '../../scenario/load.js';
import { parseDuration } from '../../scenario/steps.js';
import { UserError } from '../user-error.js';

interface InspectArgs {
  readonly scenario: string;
  readonly node: string;
  readonly at: string | undefined;
  readonly show: string | undefined;
  readonly seed: number;
}

function parseSections(text: string | undefined): InspectSection[] {
  if (text === undefined) return [...DEFAULT_SECTIONS];
  const words = text.split(',').map((w) => w.trim()).filter((w) => w !== '');
  if (words.length === 0) throw new UserError(`--show needs at least one of ${INSPECT_SECTIONS.join(', ')}`);
  for (const w of words) {
    if (!(INSPECT_SECTIONS as readonly string[]).includes(w)) throw new UserError(`--show: unknown section ${JSON.stringify(w)} (one of ${INSPECT_SECTIONS.join(', ')})`);
  }
  return words as InspectSection[];
}

function parseAt(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch (e) {
    throw new UserError(`--at: ${(e as Error).message}`);
  }
}

export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect <scenario>',
  describe: "Run a scenario to its end (or --at a virtual time) and print a node's, pod's or host's tables as the real tools do",
  builder: (y: Argv) =>
    y
      .positional('scenario', { type: 'string', demandOption: true, describe: 'Scenario YAML file' })
      .option('node', { alias: 'n', type: 'string', demandOption: true, describe: 'Node, pod ([NAMESPACE/]NAME) or external host whose netns to show' })
      .option('at', { type: 'string', describe: 'Stop at this virtual time since the cluster was created (the traffic starts at 1s), e.g. 2.5s; default: the end of the run' })
      .option('show', { type: 'string', describe: `Sections, comma-separated: ${INSPECT_SECTIONS.join(',')} (default: ${DEFAULT_SECTIONS.join(',')})` })
      .option('seed', { type: 'number', default: 1, describe: 'Seed for every random choice (same seed, same state)' })
      .check((a) =>
        Number.isInteger(a.seed) && a.seed >= 0 && a.seed <= 0xffff_ffff ? true : `--seed must be an integer from 0 to 4294967295, got ${String(a.seed)}`,
      )
      .example('$0 inspect scenarios/reference/cross-node-ping.yaml --node n1 --show route,neigh,fdb', "node n1's routes, neighbours and forwarding database after the run")
      .example('$0 inspect scenarios/cross-node-http.yaml --node n1 --at 1.5s --show conntrack', 'its connection tracking table half a second into the traffic') as unknown as Argv<InspectArgs>,
  handler: (args) => {
    const sections = parseSections(args.show);
    const atNs = parseAt(args.at);
    const spec = loadScenarioFile(args.scenario);
    let r;
    try {
      r = inspectScenario(spec, { seed: args.seed, target: args.node, sections, ...(atNs !== undefined ? { atNs } : {}) });
    } catch (e) {
      if (e instanceof InspectTargetError) throw new UserError(e.message);
      throw e;
    }
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
  },
};
