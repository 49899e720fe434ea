/**
 * Which program a command line runs, as a container's PATH decides on a real node: argv[0] names
 * it (with or without a /bin-style path). Unknown programs fail as `kubectl exec` reports it.
 */
import { UsageError, type App } from './app.js';
import { Coredns, parseCorednsArgs } from './coredns.js';
import { Curl, parseCurlArgs } from './curl.js';
import { Dig, parseDigArgs } from './dig.js';
import { GetaddrinfoProbe, parseGetaddrinfoArgs } from './getaddrinfo-probe.js';
import { Getent, parseGetentArgs } from './getent.js';
import { HttpEcho, parseHttpEchoArgs } from './http-echo.js';
import { IpCommand, parseIpArgs } from './iproute.js';
import { Netcat, parseNcArgs } from './nc.js';
import { Netstat, parseNetstatArgs } from './netstat.js';
import { Nslookup, parseNslookupArgs } from './nslookup.js';
import { Ping, parsePingArgs } from './ping.js';
import { PythonHttpServer, parsePythonHttpServerArgs } from './python-http-server.js';
import { Sleep, parseSleepArgs } from './sleep.js';
import { withSocketOwners } from './socket-owners.js';
import { Ss, parseSsArgs } from './ss.js';
import { UdpSend, parseUdpSendArgs } from './udp-send.js';

export class CommandNotFound extends Error {
  constructor(readonly program: string) {
    super(`OCI runtime exec failed: exec failed: unable to start container process: exec: "${program}": executable file not found in $PATH: unknown`);
  }
}

export function programFor(argv: readonly string[]): App {
  const [path, ...args] = argv;
  if (path === undefined) throw new UsageError('you must specify at least one command for the container', 1);
  // Every program runs as a process that owns the sockets it opens (netstat -p, ss -p).
  return withSocketOwners(program(path, args), path);
}

function program(path: string, args: readonly string[]): App {
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
    case 'curl':
      return new Curl(parseCurlArgs(args));
    case 'coredns':
      return new Coredns(parseCorednsArgs(args));
    case 'dig':
      return new Dig(parseDigArgs(args));
    case 'nslookup':
      return new Nslookup(parseNslookupArgs(args));
    case 'getent':
      return new Getent(parseGetentArgs(args));
    case 'getaddrinfo': // podwire's own probe (getaddrinfo-probe.ts), available in every container
      return new GetaddrinfoProbe(parseGetaddrinfoArgs(args));
    case 'netstat':
      return new Netstat(parseNetstatArgs(args));
    case 'ss':
      return new Ss(parseSsArgs(args));
    case 'http-echo':
      return new HttpEcho(parseHttpEchoArgs(args));
    case 'python3':
    case 'python':
    case 'python3.11':
      return python(path, args);
    default:
      throw new CommandNotFound(path);
  }
}

/** `python3 [-u] -m http.server …`: the one Python program podwire runs. */
function python(path: string, args: readonly string[]): App {
  let unbuffered = false;
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-') && args[i] !== '-m'; i++) {
    if (args[i] === '-u') unbuffered = true;
    else throw new UsageError(`podwire: ${path} ${args[i]} is not emulated (only python3 [-u] -m http.server)`, 1);
  }
  if (args[i] !== '-m' || args[i + 1] !== 'http.server') {
    throw new UsageError(`podwire: ${[path, ...args].join(' ')} is not emulated (only python3 [-u] -m http.server)`, 1);
  }
  return new PythonHttpServer(parsePythonHttpServerArgs(args.slice(i + 2), unbuffered));
}
