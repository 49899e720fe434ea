/**
 * `ss` of iproute2 6.x (6.8 to 6.15, as Alpine ships it in nicolaka/netshoot) for TCP and UDP:
 * -t, -u, -l, -a, -n, -p, -H, -4. Output is misc/ss.c's: each field is buffered as a token, then
 * render() lays the columns out. Standard output is not a terminal under `kubectl exec` (and a
 * `-t` terminal has no size), so render_calc_width() takes the compact layout: every column is as
 * wide as its longest field plus its left delimiter, nothing more. Columns: Netid (only when
 * both -t and -u), State, Recv-Q and Send-Q (printed "%-6d"), the local and peer address
 * (right-aligned, "ADDR:") each followed by its port (`*` for 0), then the details column headed
 * "Process" — with no delimiter before it, hence ss's "PortProcess" — where -p writes
 * ` users:(("comm",pid=N,fd=N))`, and an empty last column. Left-aligned fields are padded to
 * the column width, so lines end in spaces as ss's do.
 *
 * Which sockets (main's state filter): -l listening TCP and unconnected UDP; -a all; neither:
 * connected TCP sockets except TIME-WAIT and SYN-RECV (SS_CONN), connected UDP. UDP is listed
 * before TCP (udp_show, then tcp_show); a listener's Recv-Q is its accept queue and its Send-Q
 * its backlog (inet_diag), as the kernel reports them.
 *
 * Not emulated: name resolution (without -n ss prints service names), filters and `state`
 * expressions, the other socket tables and the extended views (-e -o -m -i …).
 */
import { formatIpv4 } from '../packet/addr.js';
import { UsageError, type App, type AppContext } from './app.js';
import { canListSockets, parseFlags, tcpSockets, udpSockets, type InetSocket, type InetState } from './inet-sockets.js';

export interface SsOptions {
  readonly tcp: boolean;
  readonly udp: boolean;
  readonly listening: boolean;
  readonly all: boolean;
  readonly processes: boolean;
  readonly header: boolean;
}

const LONG: Readonly<Record<string, string>> = {
  tcp: 't', udp: 'u', listening: 'l', all: 'a', numeric: 'n', processes: 'p', 'no-header': 'H', ipv4: '4',
};

const notEmulated = (what: string) => new UsageError(`podwire: ss ${what} is not emulated (only -t -u -l -a -n -p -H -4)`, 1);

export function parseSsArgs(args: readonly string[]): SsOptions {
  const flags = parseFlags(args, 'tulanpH4', LONG, notEmulated, 'filter');
  if (!flags.has('t') && !flags.has('u')) throw notEmulated('without -t or -u (every socket table)');
  if (!flags.has('n')) throw new UsageError('podwire: ss without -n is not emulated (it would print service names)', 1);
  return { tcp: flags.has('t'), udp: flags.has('u'), listening: flags.has('l'), all: flags.has('a'), processes: flags.has('p'), header: !flags.has('H') };
}

/** sock_state_print's sstate_name. */
const STATE_NAME: Readonly<Record<InetState, string>> = {
  ESTABLISHED: 'ESTAB', SYN_SENT: 'SYN-SENT', SYN_RECV: 'SYN-RECV', FIN_WAIT1: 'FIN-WAIT-1', FIN_WAIT2: 'FIN-WAIT-2',
  TIME_WAIT: 'TIME-WAIT', CLOSE: 'UNCONN', CLOSE_WAIT: 'CLOSE-WAIT', LAST_ACK: 'LAST-ACK', LISTEN: 'LISTEN', CLOSING: 'CLOSING',
};

/** SS_CONN: what ss shows without -l or -a (default_dbs[TCP_DB].states). */
const CONNECTED: ReadonlySet<InetState> = new Set<InetState>(['ESTABLISHED', 'SYN_SENT', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSING']);

interface Column {
  readonly align: 'left' | 'right';
  readonly header: string;
  readonly ldelim: string;
}

/** ss.c's columns[], in order: Netid, State, Recv-Q, Send-Q, address, port, peer, port, ext ("Process"), proc. */
const COLUMNS: readonly Column[] = [
  { align: 'left', header: 'Netid', ldelim: '' },
  { align: 'left', header: 'State', ldelim: ' ' },
  { align: 'left', header: 'Recv-Q', ldelim: ' ' },
  { align: 'left', header: 'Send-Q', ldelim: ' ' },
  { align: 'right', header: 'Local Address:', ldelim: ' ' },
  { align: 'left', header: 'Port', ldelim: '' },
  { align: 'right', header: 'Peer Address:', ldelim: ' ' },
  { align: 'left', header: 'Port', ldelim: '' },
  { align: 'left', header: 'Process', ldelim: '' },
  { align: 'left', header: '', ldelim: '' },
];

export class Ss implements App {
  constructor(readonly opts: SsOptions) {}

  start(ctx: AppContext): void {
    if (!canListSockets(ctx)) {
      ctx.stderr('podwire: ss as a container\'s own command is not emulated (run it with kubectl exec)\n');
      return ctx.exit(1);
    }
    const o = this.opts;
    // Netid shows only when more than one socket table is asked for.
    const netid = o.tcp && o.udp;
    const rows: string[][] = [];
    if (o.header) rows.push(COLUMNS.map((c, i) => (i === COLUMNS.length - 1 ? '' : c.header)));
    const sockets = [...(o.udp ? udpSockets(ctx) : []), ...(o.tcp ? tcpSockets(ctx) : [])];
    for (const s of sockets) if (this.shows(s)) rows.push(fields(s, o.processes));
    const enabled = COLUMNS.map((_, i) => i !== 0 || netid);
    ctx.stdout(render(rows, enabled));
    ctx.exit(0);
  }

  private shows(s: InetSocket): boolean {
    if (this.opts.all) return true;
    if (this.opts.listening) return s.state === 'LISTEN' || s.state === 'CLOSE';
    return s.proto === 'udp' ? s.state === 'ESTABLISHED' : CONNECTED.has(s.state);
  }
}

/** One socket's tokens: sock_state_print, inet_addr_print twice, proc_ctx_print. */
function fields(s: InetSocket, processes: boolean): string[] {
  // inet_diag: a listener's queues are its accept queue and its backlog.
  const rq = s.recvQ;
  const wq = s.state === 'LISTEN' ? s.backlog : s.sendQ;
  const users = processes && s.owner ? ` users:(("${s.owner.process.comm}",pid=${s.owner.process.pid},fd=${s.owner.fd}))` : '';
  return [
    s.proto, STATE_NAME[s.state], String(rq).padEnd(6), String(wq).padEnd(6),
    `${formatIpv4(s.localAddr)}:`, s.localPort === 0 ? '*' : String(s.localPort),
    `${formatIpv4(s.remoteAddr)}:`, s.remotePort === 0 ? '*' : String(s.remotePort),
    users, '',
  ];
}

/** render_calc_width (compact: no screen width) and render(). */
function render(rows: readonly string[][], enabled: readonly boolean[]): string {
  const widths = COLUMNS.map(() => 0);
  let first = true;
  for (let i = 0; i < COLUMNS.length; i++) {
    if (!enabled[i]) continue;
    const maxLen = Math.max(0, ...rows.map((r) => r[i]!.length));
    widths[i] = !first && maxLen > 0 ? maxLen + COLUMNS[i]!.ldelim.length : maxLen;
    if (widths[i]! > 0) first = false;
  }
  let out = '';
  for (const row of rows) {
    let started = false;
    for (let i = 0; i < COLUMNS.length; i++) {
      if (!enabled[i]) continue;
      const c = COLUMNS[i]!;
      const w = widths[i]!;
      const token = row[i]!;
      let line = '';
      if (started) line += c.ldelim;
      started = true;
      if (w > 0 && c.align === 'right') line += ' '.repeat(Math.max(0, w - token.length - line.length));
      line += token;
      if (w > 0 && c.align === 'left') line += ' '.repeat(Math.max(0, w - line.length));
      out += line;
    }
    out += '\n';
  }
  return out;
}
