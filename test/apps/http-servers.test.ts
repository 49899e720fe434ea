import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/apps/app.js';
import { ContainerFs } from '../../src/apps/container-fs.js';
import { parseHttpEchoArgs } from '../../src/apps/http-echo.js';
import { parsePythonHttpServerArgs } from '../../src/apps/python-http-server.js';
import { unixSeconds } from '../../src/apps/wall-clock.js';
import { world } from './world.js';

/** A ConfigMap volume as the kubelet's atomic writer lays it out: keys are symlinks into ..data. */
function configMapFs(mount: string, data: Record<string, string>): ContainerFs {
  const fs = new ContainerFs(unixSeconds(0));
  const stamp = '..2026_01_01_00_00_00.1234567890';
  for (const [k, v] of Object.entries(data)) {
    fs.addFile(`${mount}/${stamp}/${k}`, Buffer.from(v));
    fs.addSymlink(`${mount}/${k}`, `..data/${k}`);
  }
  fs.addSymlink(`${mount}/..data`, stamp);
  return fs;
}

function twoPods() {
  const w = world();
  w.pod('pa', '10.244.1.2');
  w.pod('pc', '10.244.2.2');
  return w;
}

describe('python3 -m http.server (CPython 3.11)', () => {
  it('answers with the reference header bytes in one write and the body in a second; logs as log_message does', () => {
    const w = twoPods();
    const server = w.start('pc', ['python3', '-m', 'http.server', '--protocol', 'HTTP/1.1', '8080'], { fs: configMapFs('/www', { 'index.html': 'kr-pc\n' }), cwd: '/www' });
    w.sched.run(1e9);
    w.until(w.start('pa', ['curl', '-sS', 'http://10.244.2.2:8080/']));
    const fromServer = w.net.writes.filter((x) => x.from === '10.244.2.2:8080').map((x) => x.bytes.toString('latin1'));
    expect(fromServer).toEqual([
      'HTTP/1.1 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\nDate: Thu, 01 Jan 2026 00:00:01 GMT\r\nContent-type: text/html\r\nContent-Length: 6\r\nLast-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n',
      'kr-pc\n',
    ]);
    expect(fromServer[0]!.length).toBe(184); // the reference's 184-byte header segment (its Date is as long)
    expect(server.err).toBe('10.244.1.2 - - [01/Jan/2026 00:00:01] "GET / HTTP/1.1" 200 -\n');
    // stdout is a pipe: Python holds "Serving HTTP on …" in its buffer; -u or PYTHONUNBUFFERED shows it.
    expect(server.out).toBe('');
    const u = w.start('pc', ['python3', '-u', '-m', 'http.server', '9090']);
    expect(u.out).toBe('Serving HTTP on 0.0.0.0 port 9090 (http://0.0.0.0:9090/) ...\n');
  });

  it('HTTP/1.0 by default: the server closes after the response (its FIN first); 404 page byte for byte', () => {
    const w = twoPods();
    const server = w.start('pc', ['python3', '-m', 'http.server', '8080'], { fs: configMapFs('/www', { 'index.html': 'x\n' }), cwd: '/www' });
    w.sched.run(1e9);
    const p = w.until(w.start('pa', ['curl', '-sv', 'http://10.244.2.2:8080/nope']));
    expect(p.out).toBe(
      '<!DOCTYPE HTML>\n<html lang="en">\n    <head>\n        <meta charset="utf-8">\n        <title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n        <p>Error code: 404</p>\n        <p>Message: File not found.</p>\n        <p>Error code explanation: 404 - Nothing matches the given URI.</p>\n    </body>\n</html>\n',
    );
    expect(p.err).toContain('* HTTP 1.0, assume close after body\n< HTTP/1.0 404 File not found\r\n');
    expect(p.err).toContain('< Connection: close\r\n< Content-Type: text/html;charset=utf-8\r\n< Content-Length: 335\r\n< \r\n{ [335 bytes data]\n* Closing connection 0\n');
    expect(w.net.fins[0]).toBe('10.244.2.2:8080');
    expect(server.err).toBe('10.244.1.2 - - [01/Jan/2026 00:00:01] code 404, message File not found\n10.244.1.2 - - [01/Jan/2026 00:00:01] "GET /nope HTTP/1.1" 404 -\n');
  });

  it('lists a ConfigMap directory without index.html as list_directory does (keys are symlinks: @)', () => {
    const w = twoPods();
    w.start('pc', ['python3', '-m', 'http.server', '-d', '/etc/app', '8080'], { fs: configMapFs('/etc/app', { health: 'ok\n', 'a b&<.txt': 'x' }) });
    w.sched.run(1e9);
    const p = w.until(w.start('pa', ['curl', '-s', 'http://10.244.2.2:8080/']));
    expect(p.out).toBe(
      '<!DOCTYPE HTML>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Directory listing for /</title>\n</head>\n<body>\n<h1>Directory listing for /</h1>\n<hr>\n<ul>\n' +
        '<li><a href="..2026_01_01_00_00_00.1234567890/">..2026_01_01_00_00_00.1234567890/</a></li>\n' +
        '<li><a href="..data/">..data@</a></li>\n' +
        '<li><a href="a%20b%26%3C.txt">a b&amp;&lt;.txt@</a></li>\n' +
        '<li><a href="health">health@</a></li>\n' +
        '</ul>\n<hr>\n</body>\n</html>\n',
    );
    const h = w.until(w.start('pa', ['curl', '-si', 'http://10.244.2.2:8080/health']));
    expect(h.out).toContain('Content-type: application/octet-stream\r\nContent-Length: 3\r\n');
    expect(h.out.endsWith('\r\n\r\nok\n')).toBe(true);
  });

  it('bound to 127.0.0.1: the pod IP is refused, a sibling container reaches it over localhost', () => {
    const w = twoPods();
    w.start('pc', ['python3', '-m', 'http.server', '--bind', '127.0.0.1', '8080'], { fs: configMapFs('/www', { 'index.html': 'hi\n' }), cwd: '/www' });
    w.sched.run(1e9);
    expect(w.until(w.start('pa', ['curl', '-sS', 'http://10.244.2.2:8080/'])).code).toBe(7);
    const local = w.until(w.start('pc', ['curl', '-sv', 'http://localhost:8080/']));
    expect(local.out).toBe('hi\n');
    expect(local.err).toContain('*   Trying 127.0.0.1:8080...\n* Connected to localhost (127.0.0.1) port 8080 (#0)\n> GET / HTTP/1.0\r\n'.replace('HTTP/1.0', 'HTTP/1.1'));
    expect(local.err).toContain('> Host: localhost:8080\r\n');
  });

  it('argparse errors and a port in use', () => {
    expect(() => parsePythonHttpServerArgs(['abc'], false)).toThrow("usage: server.py [-h] [--cgi] [-b ADDRESS] [-d DIRECTORY] [-p VERSION] [port]\nserver.py: error: argument port: invalid int value: 'abc'");
    expect(() => parsePythonHttpServerArgs(['--foo'], false)).toThrow('server.py: error: unrecognized arguments: --foo');
    const w = twoPods();
    w.start('pc', ['python3', '-m', 'http.server', '8080']);
    const second = w.start('pc', ['python3', '-m', 'http.server', '8080']);
    expect(second.code).toBe(1);
    expect(second.err).toMatch(/OSError: \[Errno 98\] Address already in use\n$/);
  });
});

describe('hashicorp/http-echo', () => {
  it("writes Go net/http's response in one segment: app headers sorted, then Date, Content-Length, Content-Type", () => {
    const w = twoPods();
    const server = w.start('pc', ['/http-echo', '-listen=:3000', '-text=ok']);
    w.sched.run(1e9);
    const p = w.until(w.start('pa', ['curl', '-sS', 'http://10.244.2.2:3000/']));
    expect(p.out).toBe('ok\n');
    expect(w.net.writes.filter((x) => x.from === '10.244.2.2:3000').map((x) => x.bytes.toString('latin1'))).toEqual([
      'HTTP/1.1 200 OK\r\nX-App-Name: http-echo\r\nX-App-Version: 1.0.0\r\nDate: Thu, 01 Jan 2026 00:00:01 GMT\r\nContent-Length: 3\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nok\n',
    ]);
    expect(server.err).toBe('2026/01/01 00:00:00 [INFO] server is listening on :3000\n');
    expect(server.out).toBe('2026/01/01 00:00:01 10.244.2.2:3000 10.244.1.2:40000 "GET / HTTP/1.1" 200 3 "curl/7.88.1" 0s\n');
    w.sched.run(w.sched.nowNs + 1e9);
    expect(w.net.fins).toEqual(['10.244.1.2:40000', '10.244.2.2:3000']);
  });

  it('/health is always 200 and not logged; -status-code applies to the rest; curl -f fails on it', () => {
    const w = twoPods();
    const server = w.start('pc', ['http-echo', '-listen', ':3000', '-text', 'down', '-status-code=503']);
    w.sched.run(1e9);
    expect(w.until(w.start('pa', ['curl', '-s', 'http://10.244.2.2:3000/health'])).out).toBe('{"status":"ok"}\n');
    const f = w.until(w.start('pa', ['curl', '-sSf', 'http://10.244.2.2:3000/']));
    expect(f).toMatchObject({ code: 22, err: 'curl: (22) The requested URL returned error: 503\n' });
    expect(server.out).toContain('"GET / HTTP/1.1" 503 5 "curl/7.88.1" 0s\n');
    expect(server.out).not.toContain('/health');
  });

  it('flag errors as Go\'s flag package and http-echo print them', () => {
    expect(() => parseHttpEchoArgs(['-bogus'])).toThrow('flag provided but not defined: -bogus');
    expect(() => parseHttpEchoArgs(['-text=x', 'extra'])).toThrow(new UsageError('Too many arguments!', 127));
    expect(parseHttpEchoArgs(['-listen=127.0.0.1:3000', '-text=x'])).toMatchObject({ addr: 0x7f00_0001, port: 3000 });
    const w = twoPods();
    expect(w.start('pc', ['/http-echo'])).toMatchObject({ err: 'Missing -text option or ECHO_TEXT env var!\n', code: 127 });
  });
});

describe('nc over TCP (netcat-openbsd 1.219)', () => {
  it('sends stdin, -N shuts down after it, the listener prints it and exits on the FIN; -v messages', () => {
    const w = twoPods();
    const server = w.start('pc', ['nc', '-lv', '9000']);
    w.sched.run(1e9);
    const c = w.until(w.start('pa', ['nc', '-v', '-N', '10.244.2.2', '9000'], { stdin: 'hello\n' }));
    w.until(server);
    expect(server).toMatchObject({ out: 'hello\n', code: 0, err: 'Listening on 0.0.0.0 9000\nConnection received on 10.244.1.2 40000\n' });
    expect(c).toMatchObject({ code: 0, err: 'Connection to 10.244.2.2 9000 port [tcp/*] succeeded!\n' });
  });

  it('refused: the -v message and exit 1; -z scans', () => {
    const w = twoPods();
    expect(w.until(w.start('pa', ['nc', '-v', '10.244.2.2', '9000']))).toMatchObject({ code: 1, err: 'nc: connect to 10.244.2.2 port 9000 (tcp) failed: Connection refused\n' });
    expect(w.until(w.start('pa', ['nc', '10.244.2.2', '9000']))).toMatchObject({ code: 1, err: '' });
    w.start('pc', ['nc', '-lk', '80']);
    expect(w.until(w.start('pa', ['nc', '-zv', '10.244.2.2', '80']))).toMatchObject({ code: 0, err: 'Connection to 10.244.2.2 80 port [tcp/http] succeeded!\n' });
  });
});
