/**
 * `udp-send`: podwire's own probe, for traffic no common tool sends in one command line — a UDP
 * datagram of exactly N bytes with a chosen PMTU-discovery mode, as the kernel reference "mtu"
 * sends it.
 *
 *   udp-send HOST:PORT --bytes N [--pmtudisc want|do|dont] [--count K] [--interval SECONDS]
 *
 * It opens one UDP socket, sets IP_MTU_DISCOVER (`want`, the kernel's default: DF when the
 * datagram fits the path MTU, fragmented by the sender when it does not; `do`: DF always, a
 * datagram over the MTU fails with EMSGSIZE; `dont`: never DF), connects it to HOST:PORT, and
 * sends K datagrams (default 1) of N zero bytes, one every --interval seconds (default 1). After
 * each send it prints one line, as the reference's traffic.log has it:
 *
 *   do:1472 -> ERROR EMSGSIZE (Message too long); IP_MTU=1450; IP_MTU_DISCOVER=2
 *   do:1400 -> sent 1400; IP_MTU=1450; IP_MTU_DISCOVER=2
 *
 * IP_MTU is getsockopt(IP_MTU) after the send (the route's MTU, or the path MTU learned from an
 * ICMP fragmentation needed); an error is the errno of send(2) — also one an ICMP error left
 * pending on the connected socket (ECONNREFUSED after a port unreachable, EMSGSIZE after a
 * fragmentation needed). It exits right after the last send (closing the socket, so ICMP errors
 * arriving later find no socket): 0 when every datagram was sent, 1 when a send failed, 2 on a
 * bad command line.
 */
import { parseIpv4, type Ipv4Addr } from '../packet/addr.js';
import { STRERROR } from '../net/errno.js';
import { IP_PMTUDISC, MAX_PAYLOAD, UdpSocket, type PmtuDiscovery } from '../net/udp-socket.js';
import { UsageError, type App, type AppContext } from './app.js';

export interface UdpSendOptions {
  readonly host: Ipv4Addr;
  readonly port: number;
  readonly bytes: number;
  readonly pmtudisc: PmtuDiscovery;
  readonly count: number;
  readonly intervalNs: number;
}

export const UDP_SEND_USAGE = 'usage: udp-send HOST:PORT --bytes N [--pmtudisc want|do|dont] [--count K] [--interval SECONDS]';

function usage(problem: string): UsageError {
  return new UsageError(`udp-send: ${problem}\n${UDP_SEND_USAGE}`, 2);
}

function wholeNumber(flag: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || v === '' || !Number.isInteger(n) || n < min || n > max) {
    throw usage(`${flag} wants a whole number from ${min} to ${max}, not '${v ?? ''}'`);
  }
  return n;
}

/** udp-send's argv (after `udp-send`); `--flag value` and `--flag=value` both work. */
export function parseUdpSendArgs(args: readonly string[]): UdpSendOptions {
  let target: string | undefined;
  let bytes: number | undefined;
  let pmtudisc: PmtuDiscovery = 'want';
  let count = 1;
  let intervalNs = 1e9;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-')) {
      if (target !== undefined) throw usage(`one destination only ('${target}', then '${a}')`);
      target = a;
      continue;
    }
    const eq = a.indexOf('=');
    const flag = eq < 0 ? a : a.slice(0, eq);
    const value = (): string | undefined => (eq < 0 ? args[++i] : a.slice(eq + 1));
    if (flag === '--bytes') bytes = wholeNumber(flag, value(), 0, MAX_PAYLOAD);
    else if (flag === '--count') count = wholeNumber(flag, value(), 1, 1_000_000);
    else if (flag === '--interval') {
      const v = value();
      const s = Number(v);
      if (v === undefined || v === '' || !Number.isFinite(s) || s < 0) throw usage(`--interval wants seconds (0 or more), not '${v ?? ''}'`);
      intervalNs = Math.round(s * 1e9);
    } else if (flag === '--pmtudisc') {
      const v = value();
      if (v !== 'want' && v !== 'do' && v !== 'dont') throw usage(`--pmtudisc is want, do or dont, not '${v ?? ''}'`);
      pmtudisc = v;
    } else throw usage(`unknown option '${flag}'`);
  }
  if (target === undefined) throw usage('the destination HOST:PORT is missing');
  if (bytes === undefined) throw usage('--bytes N is required');
  const colon = target.lastIndexOf(':');
  if (colon < 0) throw usage(`the destination is HOST:PORT, not '${target}'`);
  let host: Ipv4Addr;
  try {
    host = parseIpv4(target.slice(0, colon));
  } catch {
    throw usage(`'${target.slice(0, colon)}' is not an IPv4 address (names are not resolved)`);
  }
  const port = wholeNumber('the port', target.slice(colon + 1), 1, 65535);
  return { host, port, bytes, pmtudisc, count, intervalNs };
}

export class UdpSend implements App {
  constructor(readonly opts: UdpSendOptions) {}

  start(ctx: AppContext): void {
    const o = this.opts;
    const sock = new UdpSocket(ctx.ns);
    sock.pmtudisc = o.pmtudisc;
    sock.connect(o.host, o.port);
    const payload = new Uint8Array(o.bytes);
    let sent = 0;
    let failed = false;
    const sendNext = () => {
      const err = sock.send(payload);
      sent++;
      const result = err ? `ERROR ${err} (${STRERROR[err]})` : `sent ${o.bytes}`;
      ctx.stdout(`${o.pmtudisc}:${o.bytes} -> ${result}; IP_MTU=${sock.pathMtu() ?? 0}; IP_MTU_DISCOVER=${IP_PMTUDISC[o.pmtudisc]}\n`);
      if (err) failed = true;
      if (sent < o.count) {
        ctx.sched.after(o.intervalNs, sendNext);
        return;
      }
      sock.close();
      ctx.exit(failed ? 1 : 0);
    };
    sendNext();
  }
}

