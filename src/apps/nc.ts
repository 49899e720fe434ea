/**
 * netcat-openbsd 1.219 (Debian 12's `nc`). UDP: `nc -u [-w s] [-q s] [-p port] HOST PORT` sends
 * what it reads on stdin as one datagram and prints what comes back; `nc -lu[k] [-p] PORT`
 * prints every datagram it receives (without -k only the first sender's, as nc "connects" to
 * it). As the real tool, it never exits on its own unless -w (idle timeout) or -q (quit after
 * stdin ends) says so. TCP: nc-tcp.ts.
 */
import { parseIpv4, type Ipv4Addr } from '../packet/addr.js';
import { STRERROR } from '../net/errno.js';
import { UdpSocket, type Datagram } from '../net/udp-socket.js';
import type { TimerHandle } from '../sim/scheduler.js';
import { UsageError, type App, type AppContext } from './app.js';
import { startNcTcp } from './nc-tcp.js';
import { resolverFor } from './glibc-resolver.js';
import { GAI_STRERROR, inetAton, ipv4Of } from './resolver.js';

export interface NcOptions {
  readonly listen: boolean;
  readonly keepOpen: boolean;
  /** The destination when it is an IPv4 literal; a name is resolved at start (getaddrinfo). */
  readonly host: Ipv4Addr | undefined;
  /** -n: AI_NUMERICHOST, no name lookups. */
  readonly numeric: boolean;
  readonly port: number;
  readonly sourcePort: number | undefined;
  readonly idleTimeoutNs: number | undefined;
  readonly quitAfterEofNs: number | undefined;
  readonly udp: boolean;
  /** -v: connection messages on stderr. */
  readonly verbose: boolean;
  /** -z: connect and close, sending nothing (a port scan). */
  readonly scan: boolean;
  /** -N: shutdown(SHUT_WR) once stdin ends. */
  readonly shutdownOnEof: boolean;
  /** The destination as written (messages quote it). */
  readonly hostText: string | undefined;
}

const USAGE = 'usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n\t  [destination] [port]';

export function parseNcArgs(args: readonly string[]): NcOptions {
  let listen = false;
  let keepOpen = false;
  let isUdp = false;
  let sourcePort: number | undefined;
  let idle: number | undefined;
  let quit: number | undefined;
  let verbose = false;
  let scan = false;
  let shutdownOnEof = false;
  let numeric = false;
  const pos: string[] = [];
  const port = (v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`nc: port number invalid: ${v ?? ''}`, 1);
    return n;
  };
  const seconds = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n)) throw new UsageError(`nc: ${flag === 'w' ? 'timeout' : 'quit timer'} invalid: ${v ?? ''}`, 1);
    return n * 1e9;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-') || a === '-') {
      pos.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const f = a[j]!;
      const value = (): string | undefined => (j + 1 < a.length ? a.slice(j + 1) : args[++i]);
      if (f === 'l') listen = true;
      else if (f === 'k') keepOpen = true;
      else if (f === 'u') isUdp = true;
      else if (f === 'v') verbose = true;
      else if (f === 'z') scan = true;
      else if (f === 'N') shutdownOnEof = true;
      else if (f === 'n') numeric = true;
      else if (f === 'd') continue;
      else if (f === 'p') { sourcePort = port(value()); break; }
      else if (f === 'w') { idle = seconds('w', value()); break; }
      else if (f === 'q') { quit = seconds('q', value()); break; }
      else throw new UsageError(`nc: invalid option -- '${f}'\n${USAGE}`, 1);
    }
  }
  const common = { idleTimeoutNs: idle, quitAfterEofNs: quit, udp: isUdp, verbose, scan, shutdownOnEof, numeric };
  if (listen) {
    const p = pos.length ? port(pos[pos.length - 1]) : sourcePort;
    if (p === undefined) throw new UsageError(USAGE, 1);
    return { ...common, listen, keepOpen, host: undefined, hostText: undefined, port: p, sourcePort: undefined };
  }
  if (pos.length !== 2) throw new UsageError(USAGE, 1);
  return { ...common, listen, keepOpen, host: inetAton(pos[0]!), hostText: pos[0]!, port: port(pos[1]), sourcePort };
}

export class Netcat implements App {
  private idleTimer: TimerHandle | undefined;

  constructor(readonly opts: NcOptions) {}

  /** remote_connect: getaddrinfo(host, port, AF_UNSPEC [, AI_NUMERICHOST with -n]), then the first IPv4 address. */
  start(ctx: AppContext): void {
    const o = this.opts;
    if (o.listen || o.host !== undefined) return this.run(ctx, o);
    const flags = o.numeric ? { numerichost: true } : {};
    resolverFor(ctx).getaddrinfo(o.hostText!, { family: 'unspec', flags }, (r) => {
      const [host] = ipv4Of(r);
      if (host === undefined) {
        ctx.stderr(`nc: getaddrinfo for host "${o.hostText}" port ${o.port}: ${GAI_STRERROR[r.ok ? 'EAI_ADDRFAMILY' : r.error]}\n`);
        return ctx.exit(1);
      }
      this.run(ctx, { ...o, host });
    });
  }

  private run(ctx: AppContext, o: NcOptions): void {
    if (!o.udp) return startNcTcp(o, ctx);
    const sock = new UdpSocket(ctx.ns);
    let done = false;
    const exit = (code: number) => {
      if (done) return;
      done = true;
      this.idleTimer?.cancel();
      sock.close();
      ctx.exit(code);
    };
    const touch = () => {
      if (o.idleTimeoutNs === undefined) return;
      this.idleTimer?.cancel();
      this.idleTimer = ctx.sched.after(o.idleTimeoutNs, () => exit(0));
    };
    try {
      sock.bind(o.listen ? o.port : (o.sourcePort ?? 0));
    } catch {
      ctx.stderr(`nc: Address already in use\n`);
      return exit(1);
    }
    let first: { addr: Ipv4Addr; port: number } | undefined;
    sock.onDatagram = (d: Datagram) => {
      if (o.listen && !o.keepOpen) {
        first ??= { addr: d.from, port: d.fromPort };
        if (first.addr !== d.from || first.port !== d.fromPort) return;
      }
      ctx.stdout(Buffer.from(d.data).toString('latin1'));
      touch();
    };
    if (o.listen) return touch();
    sock.connect(o.host!, o.port);
    // An ICMP error that leaves the connected socket in error (port unreachable: ECONNREFUSED)
    // makes poll report POLLERR: readwrite() stops watching the socket without a word, both
    // inputs are then gone, and nc returns (exit 0) at once — or, with -q N, N seconds later.
    sock.onError = () => {
      sock.takeError();
      if (o.quitAfterEofNs === undefined || o.quitAfterEofNs <= 0) exit(0);
    };
    const input = ctx.stdin ?? '';
    if (input.length > 0) {
      const err = sock.send(Buffer.from(input, 'latin1'));
      if (err) {
        ctx.stderr(`nc: write failed (${STRERROR[err]})\n`);
        return exit(1);
      }
    }
    touch();
    if (o.quitAfterEofNs !== undefined && o.quitAfterEofNs >= 0) ctx.sched.after(o.quitAfterEofNs, () => exit(0));
  }
}
