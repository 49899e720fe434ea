/**
 * The kernel side of hashicorp/http-echo 1.0 (`/http-echo -listen=:5678 -text=…`): there is no Go
 * binary on this machine, so parity runs a small HTTP server standing in for it (issue 7 allows
 * one) — the real /usr/bin/python3 on the real kernel socket API, answering byte for byte as
 * podwire's emulation (src/apps/http-echo.ts) documents the Go program: every path the text and a
 * newline, `/health` `{"status":"ok"}\n`; the handler's headers sorted (X-App-Name,
 * X-App-Version), then net/http's Date, Content-Length and sniffed Content-Type
 * (chunkWriter.writeHeader, extraHeader.Write), `Connection: close` when the request does not keep
 * the connection alive; headers and body in ONE write (the body fits net/http's 4 KiB buffer);
 * keep-alive for HTTP/1.1, the connection closed on the client's FIN. Like Go's net.Listen it sets
 * SO_REUSEADDR on the listener, and like net/http's accepted connections TCP_NODELAY and a 15 s
 * keep-alive — none of which puts a byte on the wire in a parity run.
 *
 * What the wire shows of it is what compare's signatures see: TCP flags, sequence numbers and
 * lengths, the status code. Its Date comes from the wall clock, podwire's from the virtual one:
 * IMF-fixdate is always 29 characters, so the lengths agree.
 */
import { UsageError } from '../../apps/app.js';
import { parseHttpEchoArgs } from '../../apps/http-echo.js';
import type { StandIn } from './program.js';

/** Go's net/http StatusText (src/net/http/status.go) for the codes an echo server is asked for. */
const GO_STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
  304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 408: 'Request Timeout', 409: 'Conflict', 418: "I'm a teapot", 429: 'Too Many Requests',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/**
 * The stand-in, run as `python3 -u -c SCRIPT LISTEN ADDR PORT STATUS_LINE_REST TEXT`: the
 * arguments are podwire's own reading of the command line (parseHttpEchoArgs), so both sides
 * serve the same address, port, status and text. Threads: one per connection, as net/http's
 * goroutine per conn. Logs as http-echo does: the start line on stderr, each request but /health
 * on stdout (httpLog's format; the duration as Go prints a time.Duration).
 */
export const HTTP_ECHO_SCRIPT = String.raw`import os, signal, socket, sys, threading, time
from email.utils import formatdate
# Parity ends it by PID with SIGINT: it goes without a word (podwire's never receives one).
signal.signal(signal.SIGINT, lambda *_: os._exit(0))
listen, addr, port, status, text = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
code = int(status.split(' ', 1)[0])
def logdate():
    return time.strftime('%Y/%m/%d %H:%M:%S', time.gmtime())
def goduration(s):
    ns = int(s * 1e9)
    if ns < 1000: return '%dns' % ns
    # time.Duration.String: every nanosecond shown, trailing zeros trimmed (under a minute).
    for unit, scale, digits in (('\u00b5s', 1e3, 3), ('ms', 1e6, 6)):
        if ns < scale * 1000: return ('%.*f' % (digits, ns / scale)).rstrip('0').rstrip('.') + unit
    return ('%.9f' % (ns / 1e9)).rstrip('0').rstrip('.') + 's'
def header(head, name):
    for line in head[1:]:
        k, sep, v = line.partition(':')
        if sep and k.lower() == name.lower(): return v.strip()
    return None
def serve(conn, peer):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 15)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 15)
    buf = b''
    try:
        while True:
            # The head ends at the first empty line (LF LF or LF CR LF), as podwire's HeadReader.
            ends = [(i, n) for i, n in ((buf.find(b'\n\n'), 2), (buf.find(b'\n\r\n'), 3)) if i >= 0]
            if not ends:
                data = conn.recv(65536)
                if not data: break
                buf += data
                continue
            cut, sep = min(ends)
            start = time.monotonic()
            head = [l.rstrip('\r') for l in buf[:cut].decode('latin1').split('\n')]
            buf = buf[cut + sep:]
            length = header(head, 'Content-Length')
            length = int(length) if length and length.isdigit() else 0
            while len(buf) < length:
                data = conn.recv(65536)
                if not data: return
                buf += data
            buf = buf[length:]
            parts = head[0].split(' ')
            method, target, proto = (parts + ['', '/', 'HTTP/1.0'][len(parts):])[:3]
            path = target.split('?', 1)[0]
            health = path == '/health'
            body = ('{"status":"ok"}\n' if health else text + '\n').encode('utf-8')
            connection = (header(head, 'Connection') or '').lower()
            keep = connection != 'close' if proto == 'HTTP/1.1' else connection == 'keep-alive'
            lines = ['HTTP/1.1 ' + ('200 OK' if health else status), 'X-App-Name: http-echo', 'X-App-Version: 1.0.0',
                     'Date: ' + formatdate(usegmt=True), 'Content-Length: %d' % len(body), 'Content-Type: text/plain; charset=utf-8']
            if not keep: lines.append('Connection: close')
            out = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin1')
            conn.sendall(out if method == 'HEAD' else out + body)
            if not health:
                print('%s %s %s:%d "%s %s %s" %d %d "%s" %s' % (logdate(), header(head, 'Host') or '', peer[0], peer[1], method, path, proto,
                      200 if health else code, len(body), header(head, 'User-Agent') or '', goduration(time.monotonic() - start)), flush=True)
            if not keep:
                # net/http's closeWriteAndWait: FIN, then a moment for the client's data before close.
                conn.shutdown(socket.SHUT_WR)
                time.sleep(0.5)
                break
    except OSError:
        pass
    finally:
        conn.close()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(4096)
print('%s [INFO] server is listening on %s' % (logdate(), listen), file=sys.stderr, flush=True)
while True:
    c, peer = s.accept()
    threading.Thread(target=serve, args=(c, peer), daemon=True).start()
`;

const PYTHON = '/usr/bin/python3';

/** `/http-echo ARGS` (the image's entrypoint, by path or name) as the stand-in; a reason when it would not serve. */
export function httpEchoStandIn(argv: readonly string[], env: ReadonlyMap<string, string>): StandIn | string | undefined {
  const [path, ...args] = argv;
  if (path === undefined || path.slice(path.lastIndexOf('/') + 1) !== 'http-echo') return undefined;
  let o;
  try {
    o = parseHttpEchoArgs(args);
  } catch (e) {
    if (e instanceof UsageError) return `${argv.join(' ')} (exits at once: ${e.message.split('\n')[0] ?? ''})`;
    throw e;
  }
  const text = o.text !== undefined && o.text !== '' ? o.text : (env.get('ECHO_TEXT') ?? '');
  if (text === '') return `${argv.join(' ')} (exits at once: Missing -text option or ECHO_TEXT env var!)`;
  const addr = [o.addr >>> 24, (o.addr >>> 16) & 0xff, (o.addr >>> 8) & 0xff, o.addr & 0xff].join('.');
  const status = `${o.statusCode} ${GO_STATUS_TEXT[o.statusCode] ?? `status code ${o.statusCode}`}`;
  return {
    argv: [PYTHON, '-u', '-c', HTTP_ECHO_SCRIPT, o.listen, addr, String(o.port), status, text],
    listen: { protocol: 'tcp', port: o.port },
    what: `a Python stand-in for ${argv.join(' ')} (no Go binary here)`,
  };
}
