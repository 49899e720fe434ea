/**
 * curl 7.88.1 (Debian 12's, the kernel references' client) for plain HTTP/1.1: the request bytes
 * curl sends (`GET / HTTP/1.1`, Host, `User-Agent: curl/7.88.1`, `Accept: *\/*`, then -H headers in
 * order, then -d's Content-Length and Content-Type), TCP_NODELAY on, the response read as it
 * arrives, and everything curl prints: the body on stdout (-i/-I: the header block too), -v's
 * trace on stderr (`*   Trying …`, `> ` request lines, `< ` response lines, `{ [N bytes data]`
 * when stdout is not a terminal), the progress meter unless -s or a terminal, `-w` after the
 * transfer, and an error as `curl: (N) message` (shown unless -s, or with -S) with curl's exit
 * code. After the response curl closes the socket itself (its FIN comes first on a keep-alive
 * connection), saying `Connection #0 to host H left intact` — or `Closing connection 0` when the
 * server asked to close.
 *
 * Messages and codes are lib/connect.c, lib/multi.c, lib/transfer.c, lib/http.c and
 * lib/strerror.c of 7.88.1, checked against the real binary. Times come from the virtual clock;
 * a timeout fires at the first millisecond past its deadline, as curl's poll() wakes (the real
 * tool reports `after 1001 milliseconds` for -m 1).
 *
 * Names: getaddrinfo through the context's resolver (glibc-resolver.ts) with PF_UNSPEC (PF_INET
 * with -4) and no AI_ADDRCONFIG (lib/asyn-thread.c, Curl_getaddrinfo): curl asks PF_UNSPEC when
 * socket(AF_INET6) works (Curl_ipv6works), and on a Linux kernel with IPv6 it does in every pod,
 * addresses or not — so an A and an AAAA query per candidate name, as the real curl's captures on
 * the kernel show (kernel parity of ndots-external).
 */
import { formatIpv4, type Ipv4Addr } from '../packet/addr.js';
import { STRERROR, type TcpConnection, type TcpErrno } from '../net/tcp-api.js';
import type { TimerHandle } from '../sim/scheduler.js';
import { UsageError, type App, type AppContext } from './app.js';
import { ProgressMeter } from './curl-progress.js';
import { BodyReader, HeadReader, headerValue, responseFraming, type HttpHead } from './http-message.js';
import { resolverFor } from './glibc-resolver.js';
import { ipv4Of } from './resolver.js';
import { unixSeconds } from './wall-clock.js';

export interface CurlOptions {
  readonly url: CurlUrl;
  readonly silent: boolean;
  readonly showError: boolean;
  readonly verbose: boolean;
  readonly include: boolean;
  readonly head: boolean;
  readonly method: string | undefined;
  readonly headers: readonly string[];
  readonly data: string | undefined;
  readonly maxTimeMs: number | undefined;
  readonly connectTimeoutMs: number | undefined;
  readonly writeOut: string | undefined;
  readonly fail: boolean;
  /** -o /dev/null: the body is read and dropped. */
  readonly discard: boolean;
  /** -4: names resolve to IPv4 only (PF_INET). */
  readonly ipv4Only: boolean;
}

export interface CurlUrl {
  readonly host: string;
  readonly port: number;
  /** Path and query, as sent in the request line. */
  readonly target: string;
  /** The URL as curl shows it (%{url_effective}). */
  readonly effective: string;
}

const TRY_HELP = "curl: try 'curl --help' or 'curl --manual' for more information";
const USER_AGENT = 'curl/7.88.1';
/** DEFAULT_CONNECT_TIMEOUT (lib/connect.h): 300 s when --connect-timeout is not given. */
const DEFAULT_CONNECT_TIMEOUT_MS = 300_000;

/** A curl failure: its exit code and the text failf() gave it. */
class CurlError {
  constructor(
    readonly code: number,
    readonly message: string,
  ) {}
}

function seconds(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`curl: option ${flag}: expected a proper numerical parameter\n${TRY_HELP}`, 2);
  }
  return Math.round(n * 1000);
}

/** The command line as curl's getparameter() reads it (short options may be bundled: -sSv, -m5). */
export function parseCurlArgs(args: readonly string[]): CurlOptions {
  let silent = false, showError = false, verbose = false, include = false, head = false, fail = false, discard = false, ipv4Only = false;
  let method: string | undefined;
  let writeOut: string | undefined;
  let maxTimeMs: number | undefined;
  let connectTimeoutMs: number | undefined;
  const headers: string[] = [];
  const data: string[] = [];
  const urls: string[] = [];
  const takesValue = new Set(['X', 'H', 'd', 'm', 'w', 'o', 'A', 'e', 'u', 'x', 'T', 'F', 'b', 'c', 'r', 'C', 'K', 'U', 'Y', 'y', 'z', 'E', 'D', 'P', 'Q', 't']);
  const notEmulated = (flag: string) => new UsageError(`podwire: curl ${flag} is not emulated`, 2);
  const long: Record<string, string> = {
    silent: 's', 'show-error': 'S', verbose: 'v', include: 'i', head: 'I', request: 'X', header: 'H', data: 'd',
    'data-raw': 'd', 'data-ascii': 'd', 'max-time': 'm', 'write-out': 'w', fail: 'f', 'user-agent': 'A', output: 'o',
    'remote-name': 'O', location: 'L', insecure: 'k', 'ipv4': '4',
  };
  const apply = (f: string, flagText: string, value: () => string | undefined): void => {
    switch (f) {
      case 's': silent = true; return;
      case 'S': showError = true; return;
      case 'v': verbose = true; return;
      case 'i': include = true; return;
      case 'I': head = true; return;
      case 'f': fail = true; return;
      case '4': ipv4Only = true; return;
      case 'X': method = value(); return;
      case 'H': headers.push(value()!); return;
      case 'A': headers.push(`User-Agent: ${value()!}`); return;
      case 'd': {
        const v = value()!;
        if (flagText !== '--data-raw' && v.startsWith('@')) throw notEmulated(`${flagText} @file`);
        data.push(v);
        return;
      }
      case 'm': maxTimeMs = seconds(flagText, value()); return;
      case 'w': writeOut = value(); return;
      case 'o': {
        // -o /dev/null (with -w) is the common way to see only the status; files are not written.
        if (value() !== '/dev/null') throw notEmulated(`${flagText} FILE (only -o /dev/null)`);
        discard = true;
        return;
      }
      default: throw notEmulated(flagText);
    }
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--') && a.length > 2) {
      const name = a.slice(2);
      const need = (): string => {
        const v = args[++i];
        if (v === undefined) throw new UsageError(`curl: option ${a}: requires parameter\n${TRY_HELP}`, 2);
        return v;
      };
      if (name === 'url') urls.push(need());
      else if (name === 'connect-timeout') connectTimeoutMs = seconds(a, need());
      else if (name === 'no-progress-meter') continue;
      else if (name === 'http1.1') continue;
      else if (long[name] !== undefined) apply(long[name]!, a, takesValue.has(long[name]!) ? need : () => undefined);
      else throw new UsageError(`curl: option ${a}: is unknown\n${TRY_HELP}`, 2);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const f = a[j]!;
        if (takesValue.has(f)) {
          const rest = a.slice(j + 1);
          const v = rest !== '' ? rest : args[++i];
          if (v === undefined) throw new UsageError(`curl: option -${f}: requires parameter\n${TRY_HELP}`, 2);
          apply(f, `-${f}`, () => v);
          break;
        }
        if (!'sSviIf4LOk'.includes(f)) throw new UsageError(`curl: option -${f}: is unknown\n${TRY_HELP}`, 2);
        apply(f, `-${f}`, () => undefined);
      }
      continue;
    }
    urls.push(a);
  }
  if (urls.length === 0) throw new UsageError(`curl: no URL specified!\n${TRY_HELP}`, 2);
  if (urls.length > 1) throw new UsageError('podwire: curl with more than one URL is not emulated', 2);
  const url = parseUrl(urls[0]!);
  return {
    url, silent, showError, verbose, include, head, method, headers,
    data: data.length > 0 ? data.join('&') : undefined,
    maxTimeMs, connectTimeoutMs, writeOut, fail, discard, ipv4Only,
  };
}

/** curl's URL parser for http:// (the scheme may be left out, as curl guesses http). */
export function parseUrl(text: string): CurlUrl {
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):\/\/)?([^/?#]*)([^#]*)/.exec(text);
  const bad = () => new UsageError('curl: (3) URL using bad/illegal format or missing URL', 3);
  if (!m) throw bad();
  const scheme = (m[1] ?? 'http').toLowerCase();
  if (scheme !== 'http') {
    if (scheme === 'https') throw new UsageError('podwire: curl https:// is not emulated (no TLS); use http://', 2);
    throw new UsageError(`curl: (1) Protocol "${scheme}" not supported or disabled in libcurl`, 1);
  }
  const authority = m[2]!.replace(/^.*@/, '');
  if (authority === '' || authority.startsWith('[')) throw bad();
  const colon = authority.lastIndexOf(':');
  const host = colon < 0 ? authority : authority.slice(0, colon);
  const portText = colon < 0 ? '' : authority.slice(colon + 1);
  if (host === '' || (portText !== '' && !/^\d+$/.test(portText))) throw bad();
  const port = portText === '' ? 80 : Number(portText);
  if (port > 65535) throw bad();
  const target = m[3] === '' ? '/' : m[3]!.startsWith('/') ? m[3]! : `/${m[3]!}`;
  const hostLower = host.toLowerCase();
  return { host: hostLower, port, target, effective: `http://${hostLower}${portText === '' ? '' : `:${port}`}${target}` };
}

export class Curl implements App {
  constructor(readonly opts: CurlOptions) {}

  start(ctx: AppContext): void {
    new Transfer(this.opts, ctx).run();
  }
}

/** One curl invocation: resolve, connect, send, receive, report. */
class Transfer {
  private readonly startNs: number;
  private readonly meter: ProgressMeter | undefined;
  private conn: TcpConnection | undefined;
  private timer: TimerHandle | undefined;
  private connected = false;
  private finished = false;
  private addr: Ipv4Addr = 0;
  private status = 0;
  private responseBytes = 0;
  private bodyBytes = 0;
  private readonly head = new HeadReader();
  private response: { head: HttpHead; body: BodyReader; close: boolean } | undefined;

  constructor(
    private readonly o: CurlOptions,
    private readonly ctx: AppContext,
  ) {
    this.startNs = ctx.sched.nowNs;
    if (!o.silent && !ctx.tty) this.meter = new ProgressMeter((t) => ctx.stderr(t), this.startNs, (ns) => unixSeconds(ns));
  }

  private info(text: string): void {
    if (this.o.verbose) this.ctx.stderr(`* ${text}\n`);
  }

  private elapsedMs(): number {
    return Math.floor((this.ctx.sched.nowNs - this.startNs) / 1e6);
  }

  run(): void {
    const o = this.o;
    this.meter?.update(this.ctx.sched.nowNs);
    // The connect timeout covers name resolution too (Curl_timeleft while RESOLVING, lib/multi.c).
    const limit = Math.min(o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, o.maxTimeMs ?? Number.POSITIVE_INFINITY);
    let resolving = true;
    const resolveTimer = this.ctx.sched.at(this.startNs + (limit + 1) * 1e6, () => {
      if (!resolving) return;
      resolving = false;
      this.end(new CurlError(28, `Resolving timed out after ${this.elapsedMs()} milliseconds`));
    });
    resolverFor(this.ctx).getaddrinfo(o.url.host, { family: o.ipv4Only ? 'inet' : 'unspec' }, (result) => {
      if (!resolving) return;
      resolving = false;
      resolveTimer.cancel();
      const addrs = ipv4Of(result);
      if (addrs.length === 0) return this.end(new CurlError(6, `Could not resolve host: ${o.url.host}`));
      this.connect(addrs[0]!);
    });
  }

  private connect(addr: Ipv4Addr): void {
    const o = this.o;
    this.addr = addr;
    const ip = formatIpv4(this.addr);
    this.info(`  Trying ${ip}:${o.url.port}...`);
    const conn = this.ctx.ns.tcp.connect({ addr: this.addr, port: o.url.port });
    this.conn = conn;
    conn.setNoDelay(true);
    const connectLimit = Math.min(o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, o.maxTimeMs ?? Number.POSITIVE_INFINITY);
    this.timer = this.ctx.sched.at(this.startNs + (connectLimit + 1) * 1e6, () => this.connectTimeout());
    conn.onConnect = () => this.onConnect();
    conn.onData = (d) => this.onData(d);
    conn.onEnd = () => this.onEnd();
    conn.onError = (e) => this.onError(e);
  }

  private connectTimeout(): void {
    const o = this.o;
    const ms = this.elapsedMs();
    if (o.maxTimeMs !== undefined && (o.connectTimeoutMs === undefined || o.maxTimeMs <= o.connectTimeoutMs)) {
      return this.end(new CurlError(28, `Connection timed out after ${ms} milliseconds`));
    }
    this.info(`ipv4 connect timeout after ${ms - 1}ms, move on!`);
    this.end(new CurlError(28, `Failed to connect to ${o.url.host} port ${o.url.port} after ${ms} ms: Timeout was reached`));
  }

  private onConnect(): void {
    const o = this.o;
    const conn = this.conn!;
    this.connected = true;
    this.timer?.cancel();
    if (o.maxTimeMs !== undefined) {
      this.timer = this.ctx.sched.at(this.startNs + (o.maxTimeMs + 1) * 1e6, () => this.transferTimeout());
    }
    this.info(`Connected to ${o.url.host} (${formatIpv4(this.addr)}) port ${o.url.port} (#0)`);
    const request = this.requestHead();
    if (o.verbose) this.ctx.stderr(request.split('\r\n').slice(0, -1).map((l) => `> ${l}\r\n`).join(''));
    const body = o.data === undefined || o.head ? undefined : Buffer.from(o.data, 'latin1');
    if (this.meter && body) this.meter.expectedUpload = body.length;
    // curl sends a small request body together with the head (Curl_buffer_send: one send()).
    conn.write(body ? Buffer.concat([Buffer.from(request, 'latin1'), body]) : Buffer.from(request, 'latin1'));
    if (body) {
      if (o.verbose && !this.ctx.tty) this.ctx.stderr(`} [${body.length} bytes data]\n`);
      if (this.meter) this.meter.uploaded = body.length;
    }
  }

  /** Curl_http(): the request head, as curl composes it. */
  private requestHead(): string {
    const o = this.o;
    const custom = o.headers.map((h) => {
      const colon = h.indexOf(':');
      const semi = h.indexOf(';');
      if (colon > 0) return { name: h.slice(0, colon), value: h.slice(colon + 1).trim(), remove: h.slice(colon + 1).trim() === '' };
      if (semi > 0 && h.slice(semi + 1).trim() === '') return { name: h.slice(0, semi), value: '', remove: false };
      return undefined;
    }).filter((h): h is { name: string; value: string; remove: boolean } => h !== undefined);
    const has = (name: string) => custom.some((h) => h.name.toLowerCase() === name.toLowerCase());
    const method = o.method ?? (o.head ? 'HEAD' : o.data !== undefined ? 'POST' : 'GET');
    const lines = [`${method} ${o.url.target} HTTP/1.1`];
    const hostHeader = custom.find((h) => h.name.toLowerCase() === 'host');
    if (hostHeader) {
      if (!hostHeader.remove) lines.push(`Host: ${hostHeader.value}`);
    } else lines.push(`Host: ${o.url.host}${o.url.port === 80 ? '' : `:${o.url.port}`}`);
    if (!has('User-Agent')) lines.push(`User-Agent: ${USER_AGENT}`);
    if (!has('Accept')) lines.push('Accept: */*');
    for (const h of custom) if (h.name.toLowerCase() !== 'host' && !h.remove) lines.push(`${h.name}: ${h.value}`);
    if (o.data !== undefined && !o.head) {
      if (!has('Content-Length')) lines.push(`Content-Length: ${Buffer.byteLength(o.data, 'latin1')}`);
      if (!has('Content-Type')) lines.push('Content-Type: application/x-www-form-urlencoded');
    }
    return `${lines.join('\r\n')}\r\n\r\n`;
  }

  private onData(data: Uint8Array): void {
    if (this.finished) return;
    this.responseBytes += data.length;
    let rest: Uint8Array = data;
    if (!this.response) {
      const got = this.head.push(data);
      if (!got) return;
      if (!this.startResponse(got.head)) return;
      rest = got.rest;
    }
    const r = this.response!;
    const { body } = r.body.push(rest);
    if (body.length > 0) {
      this.bodyBytes += body.length;
      if (this.o.verbose && !this.ctx.tty) this.ctx.stderr(`{ [${body.length} bytes data]\n`);
      if (!this.o.discard) this.ctx.stdout(Buffer.from(body).toString('latin1'));
      if (this.meter) {
        this.meter.downloaded = this.bodyBytes;
        this.meter.update(this.ctx.sched.nowNs);
      }
    }
    if (r.body.done) this.complete();
  }

  /** The response head: shown with -v/-i, judged with -f. False when the transfer ended there. */
  private startResponse(head: HttpHead): boolean {
    const o = this.o;
    const m = /^HTTP\/(\d)\.(\d) (\d{3})/.exec(head.startLine);
    if (!m) {
      this.end(new CurlError(1, 'Unsupported HTTP/1 subversion in response'));
      return false;
    }
    const http10 = m[1] === '1' && m[2] === '0';
    this.status = Number(m[3]);
    const lines = [head.startLine, ...head.headers.map((h) => `${h.name}: ${h.value}`)];
    if (http10) this.info('HTTP 1.0, assume close after body');
    const failing = o.fail && this.status >= 400;
    if (o.verbose) this.ctx.stderr(lines.map((l) => `< ${l}\r\n`).join('') + (failing ? '' : '< \r\n'));
    if (o.include || o.head) this.ctx.stdout(lines.map((l) => `${l}\r\n`).join('') + (failing ? '' : '\r\n'));
    if (failing) {
      this.end(new CurlError(22, `The requested URL returned error: ${this.status}`));
      return false;
    }
    const method = o.method ?? (o.head ? 'HEAD' : o.data !== undefined ? 'POST' : 'GET');
    const framing = responseFraming(method, this.status, head.headers);
    const connection = (headerValue(head.headers, 'Connection') ?? '').toLowerCase();
    const close = connection === 'close' || (http10 && connection !== 'keep-alive') || framing.kind === 'close';
    if (this.meter && framing.kind === 'length') this.meter.expectedDownload = framing.length;
    this.response = { head, body: new BodyReader(framing), close };
    return true;
  }

  private onEnd(): void {
    if (this.finished) return;
    const r = this.response;
    if (!r) return this.end(new CurlError(52, 'Empty reply from server'));
    if (r.body.framing.kind === 'close') return this.complete();
    if (r.body.framing.kind === 'length') {
      return this.end(new CurlError(18, `transfer closed with ${r.body.framing.length - r.body.received} bytes remaining to read`));
    }
    this.end(new CurlError(18, 'transfer closed with outstanding read data remaining'));
  }

  private onError(errno: TcpErrno): void {
    if (this.finished) return;
    const o = this.o;
    if (!this.connected) {
      this.info(`connect to ${formatIpv4(this.addr)} port ${o.url.port} failed: ${STRERROR[errno]}`);
      return this.end(new CurlError(7, `Failed to connect to ${o.url.host} port ${o.url.port} after ${this.elapsedMs()} ms: Couldn't connect to server`));
    }
    this.end(new CurlError(56, `Recv failure: ${STRERROR[errno]}`));
  }

  private transferTimeout(): void {
    const r = this.response;
    const ms = this.elapsedMs();
    const size = r?.body.framing.kind === 'length' ? r.body.framing.length : undefined;
    this.end(new CurlError(28, size === undefined
      ? `Operation timed out after ${ms} milliseconds with ${this.bodyBytes} bytes received`
      : `Operation timed out after ${ms} milliseconds with ${this.bodyBytes} out of ${size} bytes received`));
  }

  private complete(): void {
    this.end(undefined, this.response?.close ?? true);
  }

  /** The transfer is over: trace, meter, connection, -w, the error line, the exit code. */
  private end(error: CurlError | undefined, close = true): void {
    if (this.finished) return;
    this.finished = true;
    this.timer?.cancel();
    const o = this.o;
    const ctx = this.ctx;
    if (error) this.info(error.message);
    this.meter?.update(ctx.sched.nowNs, true);
    if (error || close) this.info('Closing connection 0');
    else this.info(`Connection #0 to host ${o.url.host} left intact`);
    // curl_easy_cleanup() closes the socket whatever happened: a FIN on an open connection.
    if (this.conn) {
      const c = this.conn;
      c.onData = () => {};
      c.onEnd = () => {};
      c.onError = () => {};
      c.close();
    }
    if (error && (!o.silent || o.showError)) ctx.stderr(`curl: (${error.code}) ${error.message}\n`);
    if (o.writeOut !== undefined) ctx.stdout(this.writeOut(o.writeOut, error?.code ?? 0));
    ctx.exit(error?.code ?? 0);
  }

  /** -w: %{variable} and backslash escapes (tool_writeout.c). */
  private writeOut(format: string, exitCode: number): string {
    const c = this.conn;
    const vars: Record<string, () => string> = {
      http_code: () => String(this.status).padStart(3, '0'),
      response_code: () => String(this.status).padStart(3, '0'),
      exitcode: () => String(exitCode),
      size_download: () => String(this.bodyBytes),
      size_header: () => String(this.responseBytes - this.bodyBytes),
      remote_ip: () => (this.connected ? formatIpv4(this.addr) : ''),
      remote_port: () => (this.connected ? String(this.o.url.port) : ''),
      local_ip: () => (this.connected && c ? formatIpv4(c.local.addr) : ''),
      local_port: () => (this.connected && c ? String(c.local.port) : ''),
      time_total: () => ((this.ctx.sched.nowNs - this.startNs) / 1e9).toFixed(6),
      url_effective: () => this.o.url.effective,
      method: () => this.o.method ?? (this.o.head ? 'HEAD' : this.o.data !== undefined ? 'POST' : 'GET'),
      num_connects: () => (this.connected ? '1' : '0'),
    };
    let out = '';
    for (let i = 0; i < format.length; i++) {
      const ch = format[i]!;
      if (ch === '%' && format[i + 1] === '%') { out += '%'; i++; continue; }
      if (ch === '%' && format[i + 1] === '{') {
        const end = format.indexOf('}', i);
        if (end > 0) {
          const name = format.slice(i + 2, end);
          const v = vars[name];
          if (v) out += v();
          else this.ctx.stderr(`curl: unknown --write-out variable: '${name}'\n`);
          i = end;
          continue;
        }
      }
      if (ch === '\\' && i + 1 < format.length) {
        const e = format[i + 1]!;
        const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\' };
        if (map[e] !== undefined) { out += map[e]; i++; continue; }
      }
      out += ch;
    }
    return out;
  }
}
