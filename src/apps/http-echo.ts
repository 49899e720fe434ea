/**
 * hashicorp/http-echo 1.0 (`/http-echo -listen=:3000 -text="ok" [-status-code=503]`): a Go
 * net/http server answering every path with the text and a newline, `/health` with
 * `{"status":"ok"}`. Its source (main.go, handlers.go) and Go's net/http decide the bytes:
 * withAppHeaders() sets X-App-Name and X-App-Version; net/http writes the handler's headers
 * sorted by name, then Date, Content-Length and the sniffed Content-Type (chunkWriter.writeHeader,
 * extraHeader.Write), and since the body fits the 4 KiB buffer, headers and body leave in ONE
 * write when the handler returns. Keep-alive for HTTP/1.1; on the client's FIN the connection is
 * closed. Logs: log.Printf's `2026/01/01 00:00:00 [INFO] server is listening on :3000` on stderr;
 * each request to paths other than /health on stdout, httpLog's format, with the duration as
 * Go prints a time.Duration (the handler takes no virtual time: `0s`).
 */
import { formatIpv4, parseIpv4, type Ipv4Addr } from '../packet/addr.js';
import { TcpSocketError, STRERROR, type TcpConnection } from '../net/tcp-api.js';
import { UsageError, type App, type AppContext } from './app.js';
import { BodyReader, HeadReader, headerValue, type HttpHead } from './http-message.js';
import { goLogDate, httpDate, unixSeconds } from './wall-clock.js';

export interface HttpEchoOptions {
  /** -listen as written (`:5678`, `127.0.0.1:3000`). */
  readonly listen: string;
  readonly addr: Ipv4Addr;
  readonly port: number;
  readonly text: string | undefined;
  readonly statusCode: number;
}

const APP_VERSION = '1.0.0';

/** Go's flag package: -name=value, -name value, --name; booleans without a value. */
export function parseHttpEchoArgs(args: readonly string[]): HttpEchoOptions {
  let listen = ':5678';
  let text: string | undefined;
  let statusCode = 200;
  const usage = (msg: string) => new UsageError(`${msg}\nUsage of /http-echo:\n  -listen string\n    \taddress and port to listen (default ":5678")\n  -status-code int\n    \thttp response code, e.g.: 200 (default 200)\n  -text string\n    \ttext to put on the webpage\n  -version\n    \tdisplay version information`, 2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-') || a === '-' ) throw new UsageError('Too many arguments!', 127);
    if (a === '--') {
      if (i + 1 < args.length) throw new UsageError('Too many arguments!', 127);
      break;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = (): string => {
      if (eq >= 0) return body.slice(eq + 1);
      const v = args[++i];
      if (v === undefined) throw usage(`flag needs an argument: -${name}`);
      return v;
    };
    if (name === 'listen') listen = value();
    else if (name === 'text') text = value();
    else if (name === 'status-code') {
      const v = value();
      if (!/^[-+]?\d+$/.test(v)) throw usage(`invalid value "${v}" for flag -status-code: parse error`);
      statusCode = Number(v);
    } else if (name === 'version') throw new UsageError(`http-echo v${APP_VERSION} ()`, 0);
    else throw usage(`flag provided but not defined: -${name}`);
  }
  const colon = listen.lastIndexOf(':');
  const host = colon < 0 ? listen : listen.slice(0, colon);
  const portText = colon < 0 ? '' : listen.slice(colon + 1);
  const port = Number(portText);
  if (colon < 0 || !/^\d+$/.test(portText) || port > 65535) throw new UsageError(`${goLogDate(unixSeconds(0))} [ERR] server exited with: listen tcp: address ${listen}: ${colon < 0 ? 'missing port in address' : 'invalid port'}`, 1);
  let addr = 0;
  if (host !== '' && host !== '0.0.0.0') {
    try {
      addr = host === 'localhost' ? 0x7f00_0001 : parseIpv4(host);
    } catch {
      throw new UsageError(`${goLogDate(unixSeconds(0))} [ERR] server exited with: listen tcp: lookup ${host}: no such host`, 1);
    }
  }
  if (statusCode < 100 || statusCode > 999) throw new UsageError(`podwire: -status-code ${statusCode}: net/http panics on a status outside 100-999`, 2);
  return { listen, addr, port, text, statusCode };
}

/** net/http's StatusText for the codes an echo server is usually asked for. */
const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
  304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 408: 'Request Timeout', 409: 'Conflict', 418: "I'm a teapot", 429: 'Too Many Requests',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export class HttpEcho implements App {
  constructor(readonly opts: HttpEchoOptions) {}

  start(ctx: AppContext): void {
    const o = this.opts;
    const text = o.text !== undefined && o.text !== '' ? o.text : (ctx.env?.get('ECHO_TEXT') ?? '');
    if (text === '') {
      ctx.stderr('Missing -text option or ECHO_TEXT env var!\n');
      return ctx.exit(127);
    }
    const now = () => goLogDate(unixSeconds(ctx.sched.nowNs));
    ctx.stderr(`${now()} [INFO] server is listening on ${o.listen}\n`);
    try {
      ctx.ns.tcp.listen({ addr: o.addr, port: o.port }, (c) => serve(c, ctx, text, o.statusCode));
    } catch (e) {
      if (!(e instanceof TcpSocketError)) throw e;
      ctx.stderr(`${now()} [ERR] server exited with: listen tcp ${o.listen}: bind: ${STRERROR[e.errno].toLowerCase()}\n`);
      ctx.exit(1);
    }
  }
}

/** One connection: net/http's conn.serve loop (read a request, answer, until close or EOF). */
function serve(conn: TcpConnection, ctx: AppContext, text: string, statusCode: number): void {
  const reader = new HeadReader();
  let pending: { head: HttpHead; body: BodyReader } | undefined;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    conn.close();
  };
  const feed = (data: Uint8Array) => {
    let rest: Uint8Array = data;
    while (!closed) {
      if (!pending) {
        const got = reader.push(rest);
        if (!got) return;
        const length = Number(headerValue(got.head.headers, 'Content-Length') ?? '0');
        pending = { head: got.head, body: new BodyReader({ kind: 'length', length: Number.isFinite(length) ? length : 0 }) };
        rest = got.rest;
      }
      // withAppHeaders drains the request body before answering.
      const r = pending.body.push(rest);
      rest = r.rest;
      if (!pending.body.done) return;
      const head = pending.head;
      pending = undefined;
      respond(head);
      if (rest.length === 0) return;
    }
  };
  const respond = (head: HttpHead) => {
    const [method = '', target = '/', proto = 'HTTP/1.0'] = head.startLine.split(' ');
    const path = target.split('?', 1)[0]!;
    const isHealth = path === '/health';
    const code = isHealth ? 200 : statusCode;
    const body = Buffer.from(isHealth ? '{"status":"ok"}\n' : `${text}\n`, 'utf8');
    const keepAlive = proto === 'HTTP/1.1' ? (headerValue(head.headers, 'Connection') ?? '').toLowerCase() !== 'close' : (headerValue(head.headers, 'Connection') ?? '').toLowerCase() === 'keep-alive';
    const lines = [
      `HTTP/1.1 ${code} ${STATUS_TEXT[code] ?? `status code ${code}`}`,
      'X-App-Name: http-echo',
      `X-App-Version: ${APP_VERSION}`,
      `Date: ${httpDate(unixSeconds(ctx.sched.nowNs))}`,
      `Content-Length: ${body.length}`,
      'Content-Type: text/plain; charset=utf-8',
    ];
    if (!keepAlive) lines.push('Connection: close');
    const headBytes = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    conn.write(method === 'HEAD' ? headBytes : Buffer.concat([headBytes, body]));
    if (!isHealth) {
      const host = headerValue(head.headers, 'Host') ?? '';
      const ua = headerValue(head.headers, 'User-Agent') ?? '';
      const remote = `${formatIpv4(conn.remote.addr)}:${conn.remote.port}`;
      ctx.stdout(`${goLogDate(unixSeconds(ctx.sched.nowNs))} ${host} ${remote} "${method} ${path} ${proto}" ${code} ${body.length} "${ua}" 0s\n`);
    }
    if (!keepAlive) close();
  };
  conn.onData = feed;
  conn.onEnd = close;
  conn.onError = () => (closed = true);
}
