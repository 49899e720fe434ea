/**
 * One readiness probe as the kubelet runs it (pkg/probe/http, pkg/probe/tcp), from the node's
 * network namespace to the pod's IP with real packets:
 *
 * - tcpSocket: connect, then close at once (ProbeDialer; SO_LINGER 1 s keeps close() an
 *   ordinary FIN) — success when the handshake completes;
 * - httpGet: Go's net/http client with DisableKeepAlives and DisableCompression, so the request
 *   is exactly `GET PATH HTTP/1.1`, Host (address:port, net.JoinHostPort), User-Agent
 *   kube-probe/MAJOR.MINOR, the probe's headers and Accept (sorted, Header.writeSubset), then the
 *   transport's `Connection: close`; the body is read (up to 10 KiB) and the connection closed;
 *   a status in 200..399 is success. Redirects are not followed (a 3xx counts as success, as the
 *   kubelet counts a redirect it does not follow).
 *
 * Go sets TCP_NODELAY on every TCP connection. The whole exchange must end within timeoutSeconds
 * (http.Client.Timeout / net.Dialer.Timeout): past it the probe fails and the socket is closed.
 */
import { formatIpv4, type Ipv4Addr } from '../../packet/addr.js';
import type { TcpConnection, TcpSockets } from '../../net/tcp-api.js';
import type { Scheduler } from '../../sim/scheduler.js';
import { BodyReader, HeadReader, responseFraming } from '../../apps/http-message.js';

/** kubelet's User-Agent: kube-probe/<major>.<minor> of the kubelet (1.31 here). */
export const KUBE_PROBE_USER_AGENT = 'kube-probe/1.31';
/** maxRespBodyLength (pkg/probe/http/http.go). */
const MAX_BODY = 10 * 1024;

export type ProbeAction =
  | { readonly kind: 'httpGet'; readonly path: string; readonly port: number | string; readonly httpHeaders: readonly { readonly name: string; readonly value: string }[] }
  | { readonly kind: 'tcpSocket'; readonly port: number | string };

/** A container's readinessProbe with the API's defaults filled in. */
export interface ProbeSpec {
  readonly action: ProbeAction;
  readonly initialDelaySeconds: number;
  /** Default 10. */
  readonly periodSeconds: number;
  /** Default 1. */
  readonly timeoutSeconds: number;
  /** Default 1. */
  readonly successThreshold: number;
  /** Default 3. */
  readonly failureThreshold: number;
}

/** The bytes of the kubelet's HTTP probe request (Go's Request.write order). */
export function probeRequest(ip: Ipv4Addr, port: number, path: string, headers: readonly { readonly name: string; readonly value: string }[]): string {
  const canonical = (n: string) => n.toLowerCase().replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());
  const given = new Map<string, string[]>();
  for (const h of headers) given.set(canonical(h.name), [...(given.get(canonical(h.name)) ?? []), h.value]);
  const userAgent = given.get('User-Agent')?.[0] ?? KUBE_PROBE_USER_AGENT;
  given.delete('User-Agent');
  if (!given.has('Accept')) given.set('Accept', ['*/*']);
  const host = given.get('Host')?.[0] ?? `${formatIpv4(ip)}:${port}`;
  given.delete('Host');
  let text = `GET ${path === '' ? '/' : path.startsWith('/') ? path : `/${path}`} HTTP/1.1\r\nHost: ${host}\r\n`;
  if (userAgent !== '') text += `User-Agent: ${userAgent}\r\n`;
  for (const name of [...given.keys()].sort()) for (const v of given.get(name)!) text += `${name}: ${v}\r\n`;
  return `${text}Connection: close\r\n\r\n`;
}

/** Runs one probe; `done(success)` is called exactly once. */
export function runProbe(tcp: TcpSockets, sched: Scheduler, ip: Ipv4Addr, port: number, spec: ProbeSpec, done: (success: boolean) => void): void {
  let finished = false;
  let conn: TcpConnection | undefined;
  const finish = (ok: boolean) => {
    if (finished) return;
    finished = true;
    timer.cancel();
    conn?.close();
    done(ok);
  };
  const timer = sched.after(spec.timeoutSeconds * 1e9, () => finish(false));
  conn = tcp.connect({ addr: ip, port });
  conn.setNoDelay(true);
  conn.onError = () => finish(false);
  const action = spec.action;
  if (action.kind === 'tcpSocket') {
    conn.onConnect = () => finish(true);
    return;
  }
  const c = conn;
  c.onConnect = () => c.write(Buffer.from(probeRequest(ip, port, action.path, action.httpHeaders), 'latin1'));
  const head = new HeadReader();
  let status: number | undefined;
  let body: BodyReader | undefined;
  c.onData = (data) => {
    if (status === undefined) {
      const got = head.push(data);
      if (!got) return;
      const m = /^HTTP\/\d\.\d (\d{3})/.exec(got.head.startLine);
      if (!m) return finish(false);
      status = Number(m[1]);
      body = new BodyReader(responseFraming('GET', status, got.head.headers));
      data = got.rest;
    }
    const b = body!;
    b.push(data);
    if (b.done || b.received >= MAX_BODY) finish(status >= 200 && status < 400);
  };
  c.onEnd = () => finish(status !== undefined && status >= 200 && status < 400);
}
