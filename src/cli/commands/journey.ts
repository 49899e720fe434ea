import type { Argv, CommandModule } from 'yargs';
import { FlowFilterError, parseFlowFilter } from '../../explain/journey-filter.js';
import { formatJourney, formatPacketList } from '../../explain/journey-format.js';
import { JourneyInputError, JourneyRun } from '../../explain/journey-run.js';
import { findPackets, packetAtFrame, packetJourney } from '../../explain/journey.js';

interface JourneyArgs {
  readonly run: string;
  readonly flow?: string;
  readonly packet?: number;
  readonly frame?: string;
  readonly all: boolean;
  readonly json: boolean;
}

export const journeyCommand: CommandModule<object, JourneyArgs> = {
  command: 'journey <run>',
  describe: "Follow one packet through the cluster: every device it crossed, what changed at each hop and why",
  builder: (y: Argv) =>
    y
      .positional('run', { type: 'string', demandOption: true, describe: 'Run folder written by podwire run -o DIR' })
      .option('flow', { type: 'string', describe: 'First packet matching FILTER: tcp|udp|icmp|arp, [src|dst] host A, [src|dst] port N, syn; joined by "and"' })
      .option('packet', { type: 'number', describe: "The packet's number (trace.jsonl's pkt)" })
      .option('frame', { type: 'string', describe: 'The packet of frame N in a capture file: FILE:N, e.g. captures/n1/eth0.pcap:7' })
      .option('all', { type: 'boolean', default: false, describe: 'With --flow: list every matching packet, one line each' })
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON' })
      .example('$0 journey out/clusterip-http --flow "tcp and dst 10.96.0.80 and port 80 and syn"', 'the first SYN to the ClusterIP')
      .example('$0 journey out/cross-node-ping --frame captures/n1/eth0.pcap:3', 'the packet of frame 3 on n1 eth0')
      .epilog('Exit status: 0 shown; 1 not a run folder, no such packet, or a bad filter (one line on stderr); 2 bad flags.') as unknown as Argv<JourneyArgs>,
  handler: (args) => {
    try {
      process.stdout.write(journeyText(args));
    } catch (e) {
      // Nothing to follow is an answer, not a misuse of the command line: exit 1, as grep does.
      if (e instanceof JourneyInputError || e instanceof FlowFilterError) {
        process.stderr.write(`podwire: ${e.message}\n`);
        process.exitCode = 1;
        return;
      }
      throw e;
    }
  },
};

function journeyText(args: JourneyArgs): string {
  const given = [args.flow, args.packet, args.frame].filter((x) => x !== undefined).length;
  if (given !== 1) throw new JourneyInputError('give one of --flow FILTER, --packet ID, --frame FILE:N');
  if (args.all && args.flow === undefined) throw new JourneyInputError('--all lists the packets of a --flow filter');
  const run = new JourneyRun(args.run);
  let id: number;
  if (args.flow !== undefined) {
    const terms = parseFlowFilter(args.flow);
    const ids = findPackets(run, terms, args.all ? Infinity : 1);
    if (ids.length === 0) throw new JourneyInputError(`no packet matches "${args.flow}"`);
    if (args.all) {
      const list = ids.map((p) => {
        const j = packetJourney(run, p);
        const h = j.hops[0];
        return { packet: p, summary: j.summary, where: h ? `${h.host} ${h.dev} ${h.dir} #${h.frame}` : '' };
      });
      return args.json ? `${JSON.stringify(list, null, 2)}\n` : formatPacketList(list);
    }
    id = ids[0]!;
  } else if (args.packet !== undefined) {
    if (!Number.isInteger(args.packet) || args.packet < 1) throw new JourneyInputError(`--packet ${args.packet}: a packet number is 1 or more`);
    id = args.packet;
  } else {
    const m = /^(.+):(\d+)$/.exec(args.frame!);
    if (m === null) throw new JourneyInputError(`--frame ${args.frame}: expected FILE:N, e.g. captures/n1/eth0.pcap:7`);
    id = packetAtFrame(run, m[1]!, Number(m[2]));
  }
  const j = packetJourney(run, id);
  if (!args.json) return formatJourney(j);
  return `${JSON.stringify({ ...j, hops: j.hops.map(({ view: _v, ...h }) => h) }, null, 2)}\n`;
}
