/**
 * `netstat` of net-tools 2.10 (as in the nicolaka/netshoot image), for Internet sockets: -t, -u,
 * -l, -a, -n, -p (and -W, which changes nothing for IPv4). What it prints is netstat.c's:
 * the "Active Internet connections" banner with (only servers) / (servers and established) /
 * (w/o servers), the column header, and one line per socket from tcp_do_one / udp_do_one with
 * their printf widths — trailing spaces included. Which sockets: tcp_do_one keeps listeners
 * (remote port 0) for -l and the rest without it, udp_do_one does the same on the remote address;
 * -a keeps all. Without -t or -u netstat also lists raw sockets (none here) and then the UNIX
 * domain section: its header prints, with no entries (no emulated program opens a UNIX socket).
 *
 * -p: the PID/Program name column from /proc (prg_cache_load): "PID/argv[0]" (the basename when
 * argv[0] is a path), cut to 19 characters; `-` for a socket no visible process holds
 * (socket-owners.ts). Containers run as root, so the "(Not all processes could be identified…)"
 * note never prints.
 *
 * Not emulated: name resolution (without -n netstat prints host and service names), -r, -i, -s,
 * -e, -o, -c, -g and the other families; those exit 1 saying so.
 */
import { formatIpv4 } from '../packet/addr.js';
import { UsageError, type App, type AppContext } from './app.js';
import { canListSockets, parseFlags, tcpSockets, udpSockets, type InetSocket } from './inet-sockets.js';

export interface NetstatOptions {
  readonly tcp: boolean;
  readonly udp: boolean;
  readonly listening: boolean;
  readonly all: boolean;
  readonly programs: boolean;
}

const LONG: Readonly<Record<string, string>> = {
  tcp: 't', udp: 'u', listening: 'l', all: 'a', numeric: 'n', programs: 'p', wide: 'W',
};

const notEmulated = (what: string) => new UsageError(`podwire: netstat ${what} is not emulated (only -t -u -l -a -n -p -W)`, 1);

export function parseNetstatArgs(args: readonly string[]): NetstatOptions {
  const flags = parseFlags(args, 'tulanpW', LONG, notEmulated, 'argument');
  if (!flags.has('n')) throw new UsageError('podwire: netstat without -n is not emulated (it would print host and service names)', 1);
  return { tcp: flags.has('t'), udp: flags.has('u'), listening: flags.has('l'), all: flags.has('a'), programs: flags.has('p') };
}

/** PROGNAME_WIDTH: the column's width, and the size of the "PID/name" buffer (19 characters and a NUL). */
const PROGNAME_WIDTH = 20;

const padEnd = (s: string, n: number) => s.padEnd(n);
const padStart = (n: number, w: number) => String(n).padStart(w);

export class Netstat implements App {
  constructor(readonly opts: NetstatOptions) {}

  start(ctx: AppContext): void {
    if (!canListSockets(ctx)) {
      ctx.stderr('podwire: netstat as a container\'s own command is not emulated (run it with kubectl exec)\n');
      return ctx.exit(1);
    }
    const o = this.opts;
    // flag_arg: with neither -t nor -u every family is listed (tcp, udp, raw, then UNIX).
    const any = !o.tcp && !o.udp;
    const which = o.all ? '(servers and established)' : o.listening ? '(only servers)' : '(w/o servers)';
    let out = `Active Internet connections ${which}\n`;
    out += 'Proto Recv-Q Send-Q Local Address           Foreign Address         State      ';
    if (o.programs) out += ` ${padEnd('PID/Program name', PROGNAME_WIDTH)}`;
    out += '\n';
    if (any || o.tcp) for (const s of tcpSockets(ctx)) if (this.shows(s.remotePort !== 0)) out += this.tcpLine(s);
    if (any || o.udp) for (const s of udpSockets(ctx)) if (this.shows(s.remoteAddr !== 0)) out += this.udpLine(s);
    if (any) {
      // unix_info(): the banner and header, then /proc/net/unix's lines (none in an emulated netns).
      out += `Active UNIX domain sockets ${which}\n`;
      out += 'Proto RefCnt Flags       Type       State         I-Node  ';
      if (o.programs) out += ` ${padEnd('PID/Program name', PROGNAME_WIDTH)}`;
      out += ' Path\n';
    }
    ctx.stdout(out);
    ctx.exit(0);
  }

  /** -a: all; -l: only the unconnected; neither: only the connected. */
  private shows(connected: boolean): boolean {
    return this.opts.all || (this.opts.listening ? !connected : connected);
  }

  /** tcp_do_one: "%-4s  %6ld %6ld %-*s %-*s %-11s" (the address columns at least 23 wide). */
  private tcpLine(s: InetSocket): string {
    const l = address(s.localAddr, s.localPort);
    const r = address(s.remoteAddr, s.remotePort);
    // /proc/net/tcp: tx_queue = write_seq − snd_una (0 for a listener), rx_queue = accept queue or unread bytes.
    return `${padEnd('tcp', 4)}  ${padStart(s.recvQ, 6)} ${padStart(s.sendQ, 6)} ${padEnd(l, Math.max(23, l.length))} ${padEnd(r, Math.max(23, r.length))} ${padEnd(s.state, 11)}${this.finish(s)}`;
  }

  /** udp_do_one: "%-5s %6ld %6ld %-23s %-23s %-11s", state ESTABLISHED when connected, else empty. */
  private udpLine(s: InetSocket): string {
    const state = s.state === 'ESTABLISHED' ? 'ESTABLISHED' : s.state === 'CLOSE' ? '' : 'UNKNOWN';
    return `${padEnd('udp', 5)} ${padStart(s.recvQ, 6)} ${padStart(s.sendQ, 6)} ${padEnd(address(s.localAddr, s.localPort), 23)} ${padEnd(address(s.remoteAddr, s.remotePort), 23)} ${padEnd(state, 11)}${this.finish(s)}`;
  }

  /** finish_this_one: " %-20s" of the program when -p, then the newline. */
  private finish(s: InetSocket): string {
    if (!this.opts.programs) return '\n';
    return ` ${padEnd(programName(s), PROGNAME_WIDTH)}\n`;
  }
}

/** addr_do_one with -n: the dotted address, `:`, the port or `*` for port 0 (get_sname). */
function address(addr: number, port: number): string {
  return `${formatIpv4(addr)}:${port === 0 ? '*' : port}`;
}

/** prg_cache_load: "PID/cmdline" — the basename when argv[0] is an absolute path — in a 20-byte buffer. */
function programName(s: InetSocket): string {
  const o = s.owner;
  if (!o) return '-';
  const a = o.process.argv0;
  const name = a.startsWith('/') ? a.slice(a.lastIndexOf('/') + 1) : a;
  return `${o.process.pid}/${name}`.slice(0, PROGNAME_WIDTH - 1);
}
