import type { Argv, CommandModule } from 'yargs';
import { ExplainInputError, explainFile } from '../../explain/explain-file.js';
import { UserError } from '../user-error.js';

interface ExplainArgs {
  readonly capture: string;
  readonly packet: string | undefined;
  readonly layer: string | undefined;
  readonly json: boolean;
}

export const explainCommand: CommandModule<object, ExplainArgs> = {
  command: 'explain <capture>',
  describe: 'Show the anatomy of packets in a pcap or pcapng file: every header field with its byte offset, raw bytes and meaning, and a marked hex dump',
  builder: (y: Argv) =>
    y
      .positional('capture', { type: 'string', demandOption: true, describe: 'A pcap or pcapng file (a podwire run\'s or a real capture)' })
      .option('packet', { alias: 'p', type: 'string', describe: 'Packets to explain, numbered from 1 as in Wireshark: 3, 3-5 or 1,4,7-9 (default: all)' })
      .option('layer', {
        alias: 'l',
        type: 'string',
        describe: 'Only this layer: [outer-|inner-]KIND[:N], KIND one of ethernet, ieee8021q, sll, sll2, arp, ipv4, icmp, udp, tcp, vxlan, dns, payload, padding, data, malformed, unsupported (e.g. tcp, inner-ipv4, ipv4:2)',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON document: {file, format, packets: [...]} (fields in the README)' })
      .example('$0 explain out/cross-node-http/captures/n1/eth0.pcap --packet 1', 'the outer and inner headers of a VXLAN-encapsulated SYN')
      .example('$0 explain capture.pcapng --layer inner-tcp --packet 3-5', 'only the inner TCP header of packets 3 to 5') as unknown as Argv<ExplainArgs>,
  handler: (args) => {
    // `podwire explain … | head` closes the pipe early: that ends the output, not an error.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
    try {
      explainFile(
        args.capture,
        { ...(args.packet !== undefined && { packet: args.packet }), ...(args.layer !== undefined && { layer: args.layer }), json: args.json },
        (chunk) => process.stdout.write(chunk),
      );
    } catch (e) {
      if (e instanceof ExplainInputError) throw new UserError(e.message);
      throw e;
    }
  },
};
