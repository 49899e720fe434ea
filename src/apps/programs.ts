/**
 * Which program a command line runs, as a container's PATH decides on a real node: argv[0] names
 * it (with or without a /bin-style path). Unknown programs fail as `kubectl exec` reports it.
 */
import { UsageError, type App } from './app.js';
import { IpCommand, parseIpArgs } from './iproute.js';
import { Netcat, parseNcArgs } from './nc.js';
import { Ping, parsePingArgs } from './ping.js';
import { Sleep, parseSleepArgs } from './sleep.js';
import { UdpSend, parseUdpSendArgs } from './udp-send.js';

export class CommandNotFound extends Error {
  constructor(readonly program: string) {
    super(`OCI runtime exec failed: exec failed: unable to start container process: exec: "${program}": executable file not found in $PATH: unknown`);
  }
}

export function programFor(argv: readonly string[]): App {
  const [path, ...args] = argv;
  if (path === undefined) throw new UsageError('you must specify at least one command for the container', 1);
  const name = path.slice(path.lastIndexOf('/') + 1);
  switch (name) {
    case 'ping':
      return new Ping(parsePingArgs(args));
    case 'ip':
      return new IpCommand(parseIpArgs(args));
    case 'nc':
    case 'netcat':
      return new Netcat(parseNcArgs(args));
    case 'sleep':
      return new Sleep(parseSleepArgs(args));
    case 'udp-send': // podwire's own probe (udp-send.ts), available in every container
      return new UdpSend(parseUdpSendArgs(args));
    default:
      throw new CommandNotFound(path);
  }
}
