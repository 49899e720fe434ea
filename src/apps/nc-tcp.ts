/**
 * netcat-openbsd 1.219 over TCP (netcat.c: remote_connect, local_listen, readwrite, as Debian 12
 * ships it). `nc [-v] [-z] [-N] [-w s] [-q s] HOST PORT`: connect, send stdin, print what arrives;
 * once stdin has ended, -N shuts the write side down (a FIN), -q s quits s seconds later, and
 * otherwise nc waits for the peer to close, then exits. `nc -l [-k] [-v] PORT`: accept, print
 * what arrives until the peer's FIN, then close; -k accepts the next connection, without it nc
 * exits after the first. -v messages are the real ones (`Connection to H P port [tcp/SERVICE]
 * succeeded!`, `nc: connect to H port P (tcp) failed: Connection refused`, `Listening on A P`,
 * `Connection received on A P`); service names are netbase's /etc/services, `*` for the rest.
 */
import { formatIpv4 } from '../packet/addr.js';
import { TcpSocketError, STRERROR, type TcpConnection } from '../net/tcp-api.js';
import type { AppContext } from './app.js';
import type { NcOptions } from './nc.js';

/** getservbyport(3) with netbase's /etc/services, for the ports commonly used in walkthroughs. */
const SERVICES: Readonly<Record<number, string>> = { 21: 'ftp', 22: 'ssh', 25: 'smtp', 53: 'domain', 80: 'http', 443: 'https', 8080: 'http-alt' };

export function startNcTcp(o: NcOptions, ctx: AppContext): void {
  if (o.listen) listen(o, ctx);
  else connect(o, ctx);
}

function connect(o: NcOptions, ctx: AppContext): void {
  const conn = ctx.ns.tcp.connect({ addr: o.host!, port: o.port }, o.sourcePort === undefined ? undefined : { port: o.sourcePort });
  let done = false;
  let idle: ReturnType<typeof ctx.sched.after> | undefined;
  const exit = (code: number) => {
    if (done) return;
    done = true;
    idle?.cancel();
    conn.close();
    ctx.exit(code);
  };
  const touch = () => {
    if (o.idleTimeoutNs === undefined) return;
    idle?.cancel();
    idle = ctx.sched.after(o.idleTimeoutNs, () => exit(0));
  };
  // -w also bounds connect() (timeout_connect): the attempt fails with ETIMEDOUT's message.
  if (o.idleTimeoutNs !== undefined) {
    idle = ctx.sched.after(o.idleTimeoutNs, () => {
      if (o.verbose) ctx.stderr(`nc: connect to ${o.hostText} port ${o.port} (tcp) timed out: Operation now in progress\n`);
      conn.abort();
      exit(1);
    });
  }
  conn.onError = (errno) => {
    if (done) return;
    if (!connected) {
      if (o.verbose) ctx.stderr(`nc: connect to ${o.hostText} port ${o.port} (tcp) failed: ${STRERROR[errno]}\n`);
      return exit(1);
    }
    // A reset while reading: read() fails, readwrite() returns, nc exits 0 as 1.219 does.
    exit(0);
  };
  let connected = false;
  conn.onConnect = () => {
    connected = true;
    if (o.verbose) ctx.stderr(`Connection to ${o.hostText} ${o.port} port [tcp/${SERVICES[o.port] ?? '*'}] succeeded!\n`);
    if (o.scan) return exit(0);
    touch();
    const input = ctx.stdin ?? '';
    if (input.length > 0) conn.write(Buffer.from(input, 'latin1'));
    // stdin has ended (kubectl closes it after the given text, or it was never attached).
    if (o.shutdownOnEof) conn.shutdown();
    if (o.quitAfterEofNs !== undefined && o.quitAfterEofNs >= 0) ctx.sched.after(o.quitAfterEofNs, () => exit(0));
  };
  conn.onData = (d) => {
    ctx.stdout(Buffer.from(d).toString('latin1'));
    touch();
  };
  // The network side ended and stdin is already done: readwrite() has nothing left to move.
  conn.onEnd = () => exit(0);
}

function listen(o: NcOptions, ctx: AppContext): void {
  let busy = false;
  let listener: ReturnType<typeof ctx.ns.tcp.listen> | undefined;
  const accept = (conn: TcpConnection) => {
    // Without -k, nc serves one connection: the listening socket is closed once it is accepted.
    if (busy) return conn.abort();
    busy = true;
    if (!o.keepOpen) listener?.close();
    if (o.verbose) ctx.stderr(`Connection received on ${formatIpv4(conn.remote.addr)} ${conn.remote.port}\n`);
    const input = ctx.stdin ?? '';
    if (input.length > 0) conn.write(Buffer.from(input, 'latin1'));
    if (o.shutdownOnEof) conn.shutdown();
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      conn.close();
      busy = false;
      if (!o.keepOpen) ctx.exit(0);
    };
    conn.onData = (d) => ctx.stdout(Buffer.from(d).toString('latin1'));
    conn.onEnd = end;
    conn.onError = end;
  };
  try {
    listener = ctx.ns.tcp.listen({ addr: 0, port: o.port }, accept, 1);
  } catch (e) {
    if (!(e instanceof TcpSocketError)) throw e;
    ctx.stderr(`nc: ${STRERROR[e.errno]}\n`);
    return ctx.exit(1);
  }
  if (o.verbose) ctx.stderr(`Listening on 0.0.0.0 ${o.port}\n`);
}
