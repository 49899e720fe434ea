import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_REPORT_LIMIT, ReportInputError, writeReport } from '../../explain/report/write-report.js';
import { UserError } from '../user-error.js';

interface ReportArgs {
  readonly run: string;
  readonly out?: string;
  readonly limit: number;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <run>',
  describe: 'Write one self-contained report.html of a run: topology, a ladder of the packets between hosts, each packet\'s journey and anatomy',
  builder: (y: Argv) =>
    y
      .positional('run', { type: 'string', demandOption: true, describe: 'Run folder written by podwire run -o DIR' })
      .option('out', { alias: 'o', type: 'string', describe: 'The HTML file to write (default: RUN/report.html)' })
      .option('limit', { type: 'number', default: DEFAULT_REPORT_LIMIT, describe: 'At most this many packets (the first ones) in the ladder and details' })
      .example('$0 report out/cross-node-ping', 'writes out/cross-node-ping/report.html; open it in a browser')
      .epilog('Exit status: 0 written; 2 not a run folder, an unreadable trace or bad flags (one line on stderr, no file written).') as unknown as Argv<ReportArgs>,
  handler: (args) => {
    const r = reportFor(args.run, args.out, args.limit);
    console.log(`wrote ${r.file}: ${r.packets}${r.packets < r.totalPackets ? ` of ${r.totalPackets}` : ''} packets`);
  },
};

/** Writes the report; a run folder that cannot be read is the user's error. */
export function reportFor(run: string, out: string | undefined, limit: number): ReturnType<typeof writeReport> {
  try {
    return writeReport(run, { ...(out !== undefined ? { out } : {}), limit });
  } catch (e) {
    if (e instanceof ReportInputError) throw new UserError(e.message);
    throw e;
  }
}
