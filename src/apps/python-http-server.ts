/**
 * `python3 -m http.server [--bind ADDR] [--directory DIR] [--protocol VERSION] [PORT]` as CPython
 * 3.11 runs it (Lib/http/server.py, socketserver.py): SimpleHTTPRequestHandler serving the
 * container's files. What goes on the wire is what its code writes: the status line and headers
 * gathered and sent in ONE write at end_headers(), the file in a SECOND write (copyfileobj, 64 KiB
 * at a time) — the two segments of the kernel references; keep-alive only with `--protocol
 * HTTP/1.1` and an HTTP/1.1 request; send_error()'s HTML page with `Connection: close`; the
 * directory listing of list_directory() when there is no index.html (ConfigMap keys are symlinks
 * there, so they list with `@`). A connection ends as socketserver's shutdown_request() ends it:
 * shutdown(SHUT_WR), then close().
 *
 * Output: the request log on stderr (unbuffered), log_message()'s `ADDR - - [DATE] MSG`; the
 * startup line `Serving HTTP on …` on stdout, which Python block-buffers when stdout is not a
 * terminal — a container's log does not show it (the server never exits to flush it) unless
 * `python3 -u` or PYTHONUNBUFFERED is set, as on a real cluster.
 * Not modelled: --cgi, If-Modified-Since (curl does not send it), HTTP/0.9 requests.
 */
import { formatIpv4, parseIpv4, type Ipv4Addr } from '../packet/addr.js';
import { TcpSocketError, STRERROR, type TcpConnection } from '../net/tcp-api.js';
import { UsageError, type App, type AppContext } from './app.js';
import { ContainerFs, resolvePath } from './container-fs.js';
import { HeadReader, headerValue, type HttpHead } from './http-message.js';
import { httpDate, pythonLogDate, unixSeconds } from './wall-clock.js';

export interface PythonHttpServerOptions {
  readonly bind: string | undefined;
  readonly port: number;
  readonly directory: string | undefined;
  readonly protocol: string;
  /** python3 -u. */
  readonly unbuffered: boolean;
}

const USAGE = 'usage: server.py [-h] [--cgi] [-b ADDRESS] [-d DIRECTORY] [-p VERSION] [port]';
const argError = (msg: string) => new UsageError(`${USAGE}\nserver.py: error: ${msg}`, 2);

/** The arguments after `-m http.server`, as its argparse parser reads them. */
export function parsePythonHttpServerArgs(args: readonly string[], unbuffered: boolean): PythonHttpServerOptions {
  let bind: string | undefined;
  let directory: string | undefined;
  let protocol = 'HTTP/1.0';
  let port: number | undefined;
  const unknown: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = (flag: string): string => {
      if (eq > 0) return a.slice(eq + 1);
      if (a.length > 2 && !a.startsWith('--')) return a.slice(2);
      const v = args[++i];
      if (v === undefined || (v.startsWith('-') && v.length > 1)) throw argError(`argument ${flag}: expected one argument`);
      return v;
    };
    if (name === '-b' || name === '--bind' || (a.startsWith('-b') && !a.startsWith('--'))) bind = value('-b/--bind');
    else if (name === '-d' || name === '--directory' || (a.startsWith('-d') && !a.startsWith('--'))) directory = value('-d/--directory');
    else if (name === '-p' || name === '--protocol' || (a.startsWith('-p') && !a.startsWith('--'))) protocol = value('-p/--protocol');
    else if (a === '--cgi') throw new UsageError('podwire: python3 -m http.server --cgi is not emulated', 1);
    else if (a === '-h' || a === '--help') throw new UsageError(USAGE, 0);
    else if (a.startsWith('-') && a !== '-' && !/^-\d/.test(a)) unknown.push(a);
    else if (port === undefined) {
      if (!/^[-+]?\d+$/.test(a.trim())) throw argError(`argument port: invalid int value: '${a}'`);
      port = Number(a);
    } else unknown.push(a);
  }
  if (unknown.length > 0) throw argError(`unrecognized arguments: ${unknown.join(' ')}`);
  port ??= 8000;
  if (port < 0 || port > 65535) throw new UsageError('OverflowError: bind(): port must be 0-65535.', 1);
  return { bind, port, directory, protocol, unbuffered };
}

/** HTTPStatus phrases and descriptions (http/__init__.py) for the codes this server sends. */
const RESPONSES: Readonly<Record<number, readonly [string, string]>> = {
  200: ['OK', 'Request fulfilled, document follows'],
  301: ['Moved Permanently', 'Object moved permanently -- see URI list'],
  400: ['Bad Request', 'Bad request syntax or unsupported method'],
  404: ['Not Found', 'Nothing matches the given URI'],
  414: ['URI Too Long', 'URI is too long'],
  501: ['Not Implemented', 'Server does not support this operation'],
  505: ['HTTP Version Not Supported', 'Cannot fulfill request'],
};

/** DEFAULT_ERROR_MESSAGE of Lib/http/server.py. */
const errorPage = (code: number, message: string, explain: string) =>
  `<!DOCTYPE HTML>
<html lang="en">
    <head>
        <meta charset="utf-8">
        <title>Error response</title>
    </head>
    <body>
        <h1>Error response</h1>
        <p>Error code: ${code}</p>
        <p>Message: ${message}.</p>
        <p>Error code explanation: ${code} - ${explain}.</p>
    </body>
</html>
`;

/** mimetypes' built-in table (CPython 3.11) for common extensions; /etc/mime.types is not read. */
const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html', '.htm': 'text/html', '.txt': 'text/plain', '.json': 'application/json', '.css': 'text/css',
  '.js': 'text/javascript', '.mjs': 'text/javascript', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg',
  '.gif': 'image/gif', '.svg': 'image/svg+xml', '.xml': 'application/xml', '.csv': 'text/csv', '.md': 'text/markdown',
  '.ico': 'image/vnd.microsoft.icon', '.pdf': 'application/pdf', '.sh': 'text/x-sh', '.py': 'text/x-python',
  '.wasm': 'application/wasm', '.webp': 'image/webp', '.tar': 'application/x-tar', '.zip': 'application/zip',
  // SimpleHTTPRequestHandler.extensions_map
  '.gz': 'application/gzip', '.Z': 'application/octet-stream', '.bz2': 'application/x-bzip2', '.xz': 'application/x-xz',
};

/** shutil.COPY_BUFSIZE on Linux: copyfileobj() writes the file in pieces of this size. */
const COPY_BUFSIZE = 64 * 1024;

export class PythonHttpServer implements App {
  constructor(readonly opts: PythonHttpServerOptions) {}

  start(ctx: AppContext): void {
    const o = this.opts;
    let addr: Ipv4Addr = 0;
    if (o.bind !== undefined) {
      const resolved = o.bind === 'localhost' ? [0x7f00_0001] : tryParse(o.bind);
      if (resolved.length === 0) return this.fail(ctx, 'socket.gaierror: [Errno -2] Name or service not known');
      addr = resolved[0]!;
    }
    const fs = ctx.fs ?? new ContainerFs(unixSeconds(0));
    const directory = resolvePath(ctx.cwd ?? '/', o.directory ?? '.');
    try {
      ctx.ns.tcp.listen({ addr, port: o.port }, (c) => new Handler(c, ctx, fs, directory, o.protocol), 5);
    } catch (e) {
      if (!(e instanceof TcpSocketError)) throw e;
      const errno = e.errno === 'EADDRINUSE' ? 98 : 99;
      return this.fail(ctx, `OSError: [Errno ${errno}] ${STRERROR[e.errno]}`);
    }
    const line = `Serving HTTP on ${formatIpv4(addr)} port ${o.port} (http://${formatIpv4(addr)}:${o.port}/) ...\n`;
    if (o.unbuffered || (ctx.env?.get('PYTHONUNBUFFERED') ?? '') !== '') ctx.stdout(line);
  }

  /** An exception out of test(): the traceback's last line on stderr (the frames are left out), exit 1. */
  private fail(ctx: AppContext, last: string): void {
    ctx.stderr(`Traceback (most recent call last):\n  File "/usr/local/lib/python3.11/http/server.py", line 1260, in test\n${last}\n`);
    ctx.exit(1);
  }
}

function tryParse(text: string): Ipv4Addr[] {
  try {
    return [parseIpv4(text)];
  } catch {
    return [];
  }
}

/** One connection: BaseHTTPRequestHandler.handle() — requests until close_connection. */
class Handler {
  private readonly reader = new HeadReader();
  private closed = false;
  private readonly client: string;

  constructor(
    private readonly conn: TcpConnection,
    private readonly ctx: AppContext,
    private readonly fs: ContainerFs,
    private readonly directory: string,
    private readonly protocol: string,
  ) {
    this.client = formatIpv4(conn.remote.addr);
    conn.onData = (d) => {
      let got = this.reader.push(d);
      while (got && !this.closed) {
        this.reader.unshift(got.rest);
        this.handleOne(got.head);
        got = this.closed ? undefined : this.reader.take();
      }
    };
    // readline() returns b'' at the client's FIN: handle() ends, and shutdown_request() follows.
    conn.onEnd = () => this.finish();
    conn.onError = () => (this.closed = true);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.shutdown();
    this.conn.close();
  }

  private log(message: string): void {
    const clean = message.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/\\(?!x[0-9a-f]{2})/g, '\\\\');
    this.ctx.stderr(`${this.client} - - [${pythonLogDate(unixSeconds(this.ctx.sched.nowNs))}] ${clean}\n`);
  }

  private handleOne(head: HttpHead): void {
    const requestline = head.startLine;
    const words = requestline.split(/\s+/).filter(Boolean);
    let closeConnection = true;
    let requestVersion = 'HTTP/0.9';
    const r: Request = { requestline, command: undefined, version: requestVersion, closeConnection };
    if (words.length === 0) return this.finish();
    if (words.length >= 3) {
      const version = words[words.length - 1]!;
      const m = /^HTTP\/(\d+)\.(\d+)$/.exec(version);
      if (!m) return this.sendError(r, 400, `Bad request version (${pyRepr(version)})`);
      const [major, minor] = [Number(m[1]), Number(m[2])];
      if ((major > 1 || (major === 1 && minor >= 1)) && this.protocol >= 'HTTP/1.1') closeConnection = false;
      requestVersion = version;
      r.version = version;
      r.closeConnection = closeConnection;
      if (major >= 2) return this.sendError(r, 505, `Invalid HTTP version (${m[1]}.${m[2]})`);
    }
    if (words.length < 2 || words.length > 3) return this.sendError(r, 400, `Bad request syntax (${pyRepr(requestline)})`);
    if (words.length === 2) {
      // HTTP/0.9: a bare response without status line or headers; not modelled beyond refusing.
      return this.sendError(r, 400, `Bad HTTP/0.9 request type (${pyRepr(words[0]!)})`);
    }
    const command = words[0]!;
    let path = words[1]!;
    if (path.startsWith('//')) path = `/${path.replace(/^\/+/, '')}`;
    r.command = command;
    const conntype = (headerValue(head.headers, 'Connection') ?? '').toLowerCase();
    if (conntype === 'close') r.closeConnection = true;
    else if (conntype === 'keep-alive' && this.protocol >= 'HTTP/1.1') r.closeConnection = false;
    if (command !== 'GET' && command !== 'HEAD') return this.sendError(r, 501, `Unsupported method (${pyRepr(command)})`);
    this.sendHead(r, path);
    if (r.closeConnection) this.finish();
  }

  /** SimpleHTTPRequestHandler.send_head() and, for GET, copyfile(). */
  private sendHead(r: Request, urlPath: string): void {
    let path = translatePath(this.directory, urlPath);
    if (this.fs.stat(path) === 'dir') {
      const { pathPart, suffix } = splitUrl(urlPath);
      if (!pathPart.endsWith('/')) {
        this.sendResponse(r, 301);
        this.header(r, 'Location', `${pathPart}/${suffix}`);
        this.header(r, 'Content-Length', '0');
        this.endHeaders(r);
        return;
      }
      const index = ['index.html', 'index.htm'].map((n) => `${path.replace(/\/$/, '')}/${n}`).find((p) => this.fs.stat(p) === 'file');
      if (index === undefined) return this.listDirectory(r, path, urlPath);
      path = index;
    }
    const ext = /(\.[^./]*)$/.exec(path.slice(path.lastIndexOf('/') + 1).replace(/^\.+/, ''))?.[1] ?? '';
    const ctype = MIME[ext] ?? MIME[ext.toLowerCase()] ?? 'application/octet-stream';
    const data = path.endsWith('/') || this.fs.stat(path) !== 'file' ? undefined : this.fs.readFile(path);
    if (data === undefined) return this.sendError(r, 404, 'File not found');
    this.sendResponse(r, 200);
    this.header(r, 'Content-type', ctype);
    this.header(r, 'Content-Length', String(data.length));
    this.header(r, 'Last-Modified', httpDate(this.fs.mtimeSec));
    this.endHeaders(r);
    if (r.command === 'GET') this.copyfile(data);
  }

  private copyfile(data: Uint8Array): void {
    for (let off = 0; off < data.length; off += COPY_BUFSIZE) this.conn.write(data.subarray(off, off + COPY_BUFSIZE));
  }

  /** list_directory(): names sorted case-insensitively, `/` after directories, `@` after links. */
  private listDirectory(r: Request, path: string, urlPath: string): void {
    const names = this.fs.list(path) ?? [];
    names.sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
    const base = path.replace(/\/$/, '');
    const displaypath = htmlEscape(safeUnquote(urlPath));
    const title = `Directory listing for ${displaypath}`;
    const lines = ['<!DOCTYPE HTML>', '<html lang="en">', '<head>', '<meta charset="utf-8">', `<title>${title}</title>\n</head>`, `<body>\n<h1>${title}</h1>`, '<hr>\n<ul>'];
    for (const name of names) {
      const full = `${base}/${name}`;
      let displayname = name;
      let linkname = name;
      if (this.fs.stat(full) === 'dir') {
        displayname = `${name}/`;
        linkname = `${name}/`;
      }
      if (this.fs.isSymlink(full)) displayname = `${name}@`;
      lines.push(`<li><a href="${urlQuote(linkname)}">${htmlEscape(displayname)}</a></li>`);
    }
    lines.push('</ul>\n<hr>\n</body>\n</html>\n');
    const encoded = Buffer.from(lines.join('\n'), 'utf8');
    this.sendResponse(r, 200);
    this.header(r, 'Content-type', 'text/html; charset=utf-8');
    this.header(r, 'Content-Length', String(encoded.length));
    this.endHeaders(r);
    if (r.command === 'GET') this.copyfile(encoded);
  }

  private headers: string[] = [];

  private sendResponse(r: Request, code: number, message?: string): void {
    this.log(`"${r.requestline}" ${code} -`);
    this.headers.push(`${this.protocol} ${code} ${message ?? RESPONSES[code]?.[0] ?? ''}\r\n`);
    this.header(r, 'Server', 'SimpleHTTP/0.6 Python/3.11.2');
    this.header(r, 'Date', httpDate(unixSeconds(this.ctx.sched.nowNs)));
  }

  private header(r: Request, name: string, value: string): void {
    this.headers.push(`${name}: ${value}\r\n`);
    if (name.toLowerCase() === 'connection') {
      if (value.toLowerCase() === 'close') r.closeConnection = true;
      else if (value.toLowerCase() === 'keep-alive') r.closeConnection = false;
    }
  }

  /** end_headers(): the gathered head leaves in one write. */
  private endHeaders(_r: Request): void {
    this.headers.push('\r\n');
    this.conn.write(Buffer.from(this.headers.join(''), 'latin1'));
    this.headers = [];
  }

  /** send_error(): logged, `Connection: close`, the HTML page as a second write; then the handler ends. */
  private sendError(r: Request, code: number, message: string): void {
    const explain = RESPONSES[code]?.[1] ?? '???';
    this.log(`code ${code}, message ${message}`);
    this.sendResponse(r, code, message);
    this.header(r, 'Connection', 'close');
    const body = Buffer.from(errorPage(code, htmlEscape(message), htmlEscape(explain)), 'utf8');
    this.header(r, 'Content-Type', 'text/html;charset=utf-8');
    this.header(r, 'Content-Length', String(body.length));
    this.endHeaders(r);
    if (r.command !== 'HEAD') this.conn.write(body);
    this.finish();
  }
}

interface Request {
  readonly requestline: string;
  command: string | undefined;
  version: string;
  closeConnection: boolean;
}

/** translate_path(): query and fragment dropped, unquoted, normalized, `.`/`..` words ignored. */
function translatePath(directory: string, urlPath: string): string {
  let p = urlPath.split('?', 1)[0]!.split('#', 1)[0]!;
  const trailingSlash = p.trimEnd().endsWith('/');
  // posixpath.normpath resolves `..` against earlier words; none can climb above the directory.
  const norm = resolvePath('/', safeUnquote(p)).split('/').filter(Boolean);
  let out = directory.replace(/\/$/, '');
  for (const w of norm) out += `/${w}`;
  if (out === '') out = '/';
  return trailingSlash && !out.endsWith('/') ? `${out}/` : out;
}

function splitUrl(urlPath: string): { pathPart: string; suffix: string } {
  const q = urlPath.search(/[?#]/);
  return q < 0 ? { pathPart: urlPath, suffix: '' } : { pathPart: urlPath.slice(0, q), suffix: urlPath.slice(q) };
}

function safeUnquote(s: string): string {
  return s.replace(/(%[0-9A-Fa-f]{2})+/g, (m) => {
    try {
      return decodeURIComponent(m);
    } catch {
      return m;
    }
  });
}

/** urllib.parse.quote(s, safe='/'): RFC 3986 unreserved characters and '/' stay. */
function urlQuote(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9_.\-~/]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

/** html.escape(s, quote=False). */
function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** repr() of a str: single quotes unless it holds one and no double quote. */
function pyRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replace(/\\/g, '\\\\').replace(/[\x00-\x1f\x7f]/g, (c) => ({ '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `${q}${q === "'" ? body.replace(/'/g, "\\'") : body}${q}`;
}
