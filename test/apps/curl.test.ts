import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/packet/addr.js';
import { UsageError } from '../../src/apps/app.js';
import { ContainerFs } from '../../src/apps/container-fs.js';
import { parseCurlArgs } from '../../src/apps/curl.js';
import { max5data } from '../../src/apps/curl-progress.js';
import { unixSeconds } from '../../src/apps/wall-clock.js';
import { world } from './world.js';

/** pa (10.244.1.2) and pc (10.244.2.2), pc serving index.html = "kr-pc\n" with python's HTTP/1.1. */
function served(extraPc: readonly string[] = []) {
  const w = world();
  w.pod('pa', '10.244.1.2');
  w.pod('pc', '10.244.2.2');
  const fs = new ContainerFs(unixSeconds(0));
  fs.addFile('/srv/index.html', Buffer.from('kr-pc\n'));
  const server = w.start('pc', ['python3', '-m', 'http.server', '--protocol', 'HTTP/1.1', '--directory', '/srv', '8080', ...extraPc], { fs });
  w.sched.run(1e9);
  return { ...w, server };
}

describe('curl 7.88.1', () => {
  it('sends the 75-byte request of the reference capture, prints the body, closes first (client FIN), exit 0', () => {
    const w = served();
    const p = w.until(w.start('pa', ['curl', '-sS', '--max-time', '5', 'http://10.244.2.2:8080/']));
    expect(p).toMatchObject({ out: 'kr-pc\n', err: '', code: 0 });
    const request = w.net.writes.find((x) => x.from.startsWith('10.244.1.2'))!.bytes.toString('latin1');
    expect(request).toBe('GET / HTTP/1.1\r\nHost: 10.244.2.2:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n');
    w.sched.run(w.sched.nowNs + 1e9);
    expect(w.net.fins).toEqual(['10.244.1.2:40000', '10.244.2.2:8080']);
  });

  it('Host carries no port for port 80: the reference GET is exactly 75 bytes', () => {
    const w = world();
    w.pod('pa', '10.244.1.2');
    const p = w.start('pa', ['curl', '-sS', 'http://10.96.0.100/']);
    w.until(p);
    expect(w.net.writes).toEqual([]);
    expect(p.err).toBe("curl: (7) Failed to connect to 10.96.0.100 port 80 after 0 ms: Couldn't connect to server\n");
    expect(p.code).toBe(7);
    expect(Buffer.byteLength('GET / HTTP/1.1\r\nHost: 10.96.0.100\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n')).toBe(75);
  });

  it('-v prints the trace as curl 7.88.1 does when stdout is not a terminal', () => {
    const w = served();
    const p = w.until(w.start('pa', ['curl', '-sv', 'http://10.244.2.2:8080/']));
    expect(p.err).toBe(
      '*   Trying 10.244.2.2:8080...\n' +
        '* Connected to 10.244.2.2 (10.244.2.2) port 8080 (#0)\n' +
        '> GET / HTTP/1.1\r\n> Host: 10.244.2.2:8080\r\n> User-Agent: curl/7.88.1\r\n> Accept: */*\r\n> \r\n' +
        '< HTTP/1.1 200 OK\r\n< Server: SimpleHTTP/0.6 Python/3.11.2\r\n< Date: Thu, 01 Jan 2026 00:00:01 GMT\r\n' +
        '< Content-type: text/html\r\n< Content-Length: 6\r\n< Last-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\n< \r\n' +
        '{ [6 bytes data]\n' +
        '* Connection #0 to host 10.244.2.2 left intact\n',
    );
    const tty = w.until(w.start('pa', ['curl', '-sv', 'http://10.244.2.2:8080/'], { tty: true }));
    expect(tty.err).not.toContain('bytes data');
  });

  it('without -s, the progress meter goes to stderr (not on a terminal)', () => {
    const w = served();
    const p = w.until(w.start('pa', ['curl', 'http://10.244.2.2:8080/']));
    expect(p.out).toBe('kr-pc\n');
    expect(p.err).toBe(
      '  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n' +
        '                                 Dload  Upload   Total   Spent    Left  Speed\n' +
        '\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0' +
        '\r100     6  100     6    0     0  20000      0 --:--:-- --:--:-- --:--:--     0\n',
    );
    expect(w.until(w.start('pa', ['curl', 'http://10.244.2.2:8080/'], { tty: true })).err).toBe('');
  });

  it('connection refused: exit 7 with curl\'s words; -s alone prints nothing; -v shows the errno', () => {
    const w = world();
    w.pod('pa', '10.244.1.2');
    w.pod('pc', '10.244.2.2');
    expect(w.until(w.start('pa', ['curl', '-s', 'http://10.244.2.2:3000/']))).toMatchObject({ out: '', err: '', code: 7 });
    const v = w.until(w.start('pa', ['curl', '-sSv', 'http://10.244.2.2:3000/health']));
    expect(v.err).toBe(
      '*   Trying 10.244.2.2:3000...\n' +
        '* connect to 10.244.2.2 port 3000 failed: Connection refused\n' +
        "* Failed to connect to 10.244.2.2 port 3000 after 0 ms: Couldn't connect to server\n" +
        '* Closing connection 0\n' +
        "curl: (7) Failed to connect to 10.244.2.2 port 3000 after 0 ms: Couldn't connect to server\n",
    );
    const wo = w.until(w.start('pa', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}\\n', 'http://10.244.2.2:3000/']));
    expect(wo).toMatchObject({ out: '000\n', code: 7 });
  });

  it('--max-time against a black hole: (28) Connection timed out after 5001 milliseconds; --connect-timeout words it differently', () => {
    const w = world();
    w.pod('pa', '10.244.1.2');
    w.net.blackHoles.add(parseIpv4('10.244.9.9'));
    const p = w.until(w.start('pa', ['curl', '-sS', '-m', '5', 'http://10.244.9.9/']));
    expect(p).toMatchObject({ err: 'curl: (28) Connection timed out after 5001 milliseconds\n', code: 28 });
    const c = w.until(w.start('pa', ['curl', '-sSv', '--connect-timeout', '1', 'http://10.244.9.9/']));
    expect(c.err).toContain('* ipv4 connect timeout after 1000ms, move on!\n');
    expect(c.err).toMatch(/curl: \(28\) Failed to connect to 10\.244\.9\.9 port 80 after 1001 ms: Timeout was reached\n$/);
  });

  it('a server that says nothing: (28) Operation timed out … with 0 bytes received', () => {
    const w = world();
    w.pod('pa', '10.244.1.2');
    w.pod('pc', '10.244.2.2');
    w.start('pc', ['nc', '-lk', '3000']);
    const p = w.until(w.start('pa', ['curl', '-sS', '-m', '2', 'http://10.244.2.2:3000/']));
    expect(p).toMatchObject({ err: 'curl: (28) Operation timed out after 2001 milliseconds with 0 bytes received\n', code: 28 });
  });

  it('a server that closes without answering: (52) Empty reply; one that resets: (56) Recv failure', () => {
    const w = world();
    w.pod('pa', '10.244.1.2');
    const pc = w.pod('pc', '10.244.2.2');
    pc.tcp.listen({ addr: 0, port: 3000 }, (c) => (c.onData = () => c.close()));
    pc.tcp.listen({ addr: 0, port: 3001 }, (c) => (c.onData = () => c.abort()));
    expect(w.until(w.start('pa', ['curl', '-sS', 'http://10.244.2.2:3000/']))).toMatchObject({ err: 'curl: (52) Empty reply from server\n', code: 52 });
    const v = w.until(w.start('pa', ['curl', '-sv', 'http://10.244.2.2:3001/']));
    expect(v.code).toBe(56);
    expect(v.err).toMatch(/> \r\n\* Recv failure: Connection reset by peer\n\* Closing connection 0\n$/);
  });

  it('-i, -I, -f, -X, -H and -d compose the request and the output as curl does', () => {
    const w = served();
    const i = w.until(w.start('pa', ['curl', '-si', 'http://10.244.2.2:8080/']));
    expect(i.out).toMatch(/^HTTP\/1\.1 200 OK\r\nServer: SimpleHTTP\/0\.6 Python\/3\.11\.2\r\n.*\r\n\r\nkr-pc\n$/s);
    const f = w.until(w.start('pa', ['curl', '-sSf', 'http://10.244.2.2:8080/nope']));
    expect(f).toMatchObject({ out: '', err: 'curl: (22) The requested URL returned error: 404\n', code: 22 });
    w.net.writes.length = 0;
    const d = w.until(w.start('pa', ['curl', '-s', '-H', 'X-Foo: bar', '-d', 'a=1', 'http://10.244.2.2:8080/']));
    expect(w.net.writes.find((x) => x.from.startsWith('10.244.1.2'))!.bytes.toString('latin1')).toBe(
      'POST / HTTP/1.1\r\nHost: 10.244.2.2:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nX-Foo: bar\r\nContent-Length: 3\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\na=1',
    );
    expect(d.out).toContain("<p>Message: Unsupported method ('POST').</p>");
  });

  it('names: localhost is 127.0.0.1; other names do not resolve yet (exit 6)', () => {
    const w = world();
    w.pod('pa', '10.244.1.2');
    const p = w.until(w.start('pa', ['curl', '-sS', 'http://payment-api:3000/health']));
    expect(p).toMatchObject({ err: 'curl: (6) Could not resolve host: payment-api\n', code: 6 });
  });

  it('rejects bad command lines as curl does', () => {
    expect(() => parseCurlArgs([])).toThrow("curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information");
    expect(() => parseCurlArgs(['--bogus', 'x'])).toThrow('curl: option --bogus: is unknown');
    expect(() => parseCurlArgs(['-m', 'x', 'http://a/'])).toThrow(UsageError);
    expect(parseCurlArgs(['-sSm5', 'http://a/'])).toMatchObject({ silent: true, showError: true, maxTimeMs: 5000 });
  });

  it('max5data formats as lib/progress.c', () => {
    expect([6, 99999, 100000, 15_000_000, 500e6].map(max5data)).toEqual(['    6', '99999', '  97k', '14.3M', ' 476M']);
  });
});
