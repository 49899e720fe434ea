/**
 * iputils ping (as Debian 12 ships it) over a raw ICMP socket: one echo request per interval with
 * a 16-byte timeval and ping's byte pattern as data, replies matched by ICMP id, the lines and the
 * statistics ping prints, exit 0 when any reply came, 1 when none, 2 on an error.
 */
import { formatIpv4, type Ipv4Addr } from '../packet/addr.js';
import * as icmp from '../packet/icmp.js';
import * as ipv4 from '../packet/ipv4.js';
import { routeMtu, routeOutput } from '../net/ip-output.js';
import { RawIcmpSocket } from '../net/raw-socket.js';
import { VIRTUAL_EPOCH_SEC } from '../sim/scheduler.js';
import { UsageError, type App, type AppContext } from './app.js';
import { resolverFor } from './glibc-resolver.js';
import { GAI_STRERROR, inetAton, ipv4Of } from './resolver.js';

/** iputils' MININTERVAL (ping.h): SCHINT never waits less than 10 ms. */
const MIN_INTERVAL_NS = 10e6;

export interface PingOptions {
  /** The target when it is an IPv4 literal (inet_aton); undefined: a name getaddrinfo resolves at start. */
  readonly dst: Ipv4Addr | undefined;
  readonly target: string;
  readonly count: number;
  readonly intervalNs: number;
  readonly dataLen: number;
  readonly ttl: number | undefined;
  readonly pmtudisc: 'want' | 'do' | 'dont';
  readonly quiet: boolean;
  /** -W: how long to wait for a reply after the last request (iputils' linger time, 10 s). */
  readonly lingerNs: number;
}

/** ping's argv (after `ping`). Names are resolved when the program starts (resolver.ts). */
export function parsePingArgs(args: readonly string[]): PingOptions {
  let count = Number.POSITIVE_INFINITY;
  let intervalNs = 1e9;
  let dataLen = 56;
  let ttl: number | undefined;
  let pmtudisc: PingOptions['pmtudisc'] = 'want';
  let quiet = false;
  let lingerNs = 10e9;
  let target: string | undefined;
  const num = (flag: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`ping: invalid argument: '${v ?? ''}'${flag === '-c' ? ': out of range: 1 <= value <= 9223372036854775807' : ''}`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string | undefined => (a.length > 2 ? a.slice(2) : args[++i]);
    if (a.startsWith('-c')) count = num('-c', value(), 1, Number.MAX_SAFE_INTEGER);
    else if (a.startsWith('-i')) intervalNs = num('-i', value(), 0.002, 1e6) * 1e9;
    else if (a.startsWith('-s')) dataLen = num('-s', value(), 0, 65507);
    else if (a.startsWith('-t')) ttl = num('-t', value(), 1, 255);
    else if (a.startsWith('-W')) lingerNs = num('-W', value(), 0, 1e6) * 1e9;
    else if (a === '-q') quiet = true;
    else if (a.startsWith('-M')) {
      const m = value();
      if (m !== 'do' && m !== 'dont' && m !== 'want') throw new UsageError(`ping: invalid -M argument: ${m ?? ''}`);
      pmtudisc = m;
    } else if (a.startsWith('-')) throw new UsageError(`ping: invalid option -- '${a.slice(1, 2)}'`);
    else if (target === undefined) target = a;
    else throw new UsageError('ping: usage error: only one destination');
  }
  if (target === undefined) throw new UsageError('ping: usage error: Destination address required');
  const dst = inetAton(target);
  return { dst, target, count, intervalNs, dataLen, ttl, pmtudisc, quiet, lingerNs };
}

/** iputils' rtt format: 3 decimals under 1 ms, 2 under 10, 1 under 100, none above. */
export function formatRtt(us: number): string {
  const t = Math.round(us);
  if (t >= 100_000 - 50) return `${Math.floor((t + 500) / 1000)}`;
  if (t >= 10_000 - 5) return `${Math.floor((t + 50) / 1000)}.${Math.floor(((t + 50) % 1000) / 100)}`;
  if (t >= 1000) return `${Math.floor((t + 5) / 1000)}.${String(Math.floor(((t + 5) % 1000) / 10)).padStart(2, '0')}`;
  return `${Math.floor(t / 1000)}.${String(t % 1000).padStart(3, '0')}`;
}

function ms3(us: number): string {
  const t = Math.round(us);
  return `${Math.floor(t / 1000)}.${String(t % 1000).padStart(3, '0')}`;
}

export class Ping implements App {
  private sent = 0;
  private received = 0;
  private errors = 0;
  private readonly sentAt = new Map<number, number>();
  private readonly rtts: number[] = [];
  private startNs = 0;
  private lastSendNs = 0;
  private done = false;
  private ident = 0;
  /** The options with the destination resolved and the name ping shows (the canonical name). */
  private resolved: PingOptions | undefined;

  constructor(readonly opts: PingOptions) {}

  /**
   * iputils' main: getaddrinfo(target, AF_UNSPEC, AI_CANONNAME), `ping: NAME: <gai_strerror>` and
   * exit 2 when it fails; a name's canonical name is what PING and the statistics show.
   */
  start(ctx: AppContext): void {
    const o = this.opts;
    if (o.dst !== undefined) return this.run(ctx, o.dst, o.target);
    resolverFor(ctx).getaddrinfo(o.target, { family: 'unspec', flags: { canonname: true } }, (r) => {
      const [dst] = ipv4Of(r);
      if (!r.ok || dst === undefined) {
        ctx.stderr(`ping: ${o.target}: ${GAI_STRERROR[r.ok ? 'EAI_ADDRFAMILY' : r.error]}\n`);
        return ctx.exit(2);
      }
      this.run(ctx, dst, r.canonname ?? o.target);
    });
  }

  private run(ctx: AppContext, dst: Ipv4Addr, hostname: string): void {
    const o = { ...this.opts, dst, target: hostname };
    this.resolved = o;
    const sock = new RawIcmpSocket(ctx.ns);
    if (o.ttl !== undefined) sock.ttl = o.ttl;
    sock.pmtudisc = o.pmtudisc;
    this.ident = ctx.random.stream(`ping-ident/${ctx.label}`).nextU32() & 0xffff;
    this.startNs = ctx.sched.nowNs;
    const finish = () => {
      if (this.done) return;
      this.done = true;
      sock.close();
      this.summary(ctx);
    };
    sock.onMessage = (m) => this.onPacket(ctx, m.packet, m.timeNs, finish);
    ctx.stdout(`PING ${o.target} (${formatIpv4(o.dst)}) ${o.dataLen}(${o.dataLen + 28}) bytes of data.\n`);
    const sendNext = () => {
      if (this.done) return;
      const seq = this.sent + 1;
      const data = this.payload(ctx.sched.nowNs);
      const err = sock.send(o.dst, { type: icmp.TYPE_ECHO_REQUEST, code: 0, rest: icmp.echoRest(this.ident, seq & 0xffff) }, data);
      if (err === 'ENETUNREACH' && this.sent === 0) {
        ctx.stderr('ping: connect: Network is unreachable\n');
        this.done = true;
        sock.close();
        return ctx.exit(2);
      }
      if (err === 'EMSGSIZE') {
        ctx.stderr(`ping: local error: message too long, mtu=${mtuHint(ctx, o.dst)}\n`);
        this.errors++;
      }
      this.sent++;
      this.lastSendNs = ctx.sched.nowNs;
      this.sentAt.set(seq, ctx.sched.nowNs);
      if (this.sent < o.count) ctx.sched.after(o.intervalNs, sendNext);
      // A hard local error (EMSGSIZE): pinger() returns SCHINT(interval) and main_loop polls that
      // long before it checks the counts again (ping_common.c) — ping -M do -c 2 ends a second
      // after its second, failed probe, not at once.
      else if (err === 'EMSGSIZE') ctx.sched.after(Math.max(o.intervalNs, MIN_INTERVAL_NS), () => this.received + this.errors >= o.count ? finish() : ctx.sched.after(o.lingerNs, finish));
      else if (this.received + this.errors >= o.count) finish(); // every probe already answered or failed
      else ctx.sched.after(o.lingerNs, finish);
    };
    sendNext();
  }

  /** 16 bytes of struct timeval (little-endian tv_sec, tv_usec), then bytes 0x10, 0x11, … */
  private payload(nowNs: number): Uint8Array {
    const d = new Uint8Array(this.opts.dataLen);
    for (let i = 0; i < d.length; i++) d[i] = i & 0xff;
    if (d.length >= 16) {
      const sec = VIRTUAL_EPOCH_SEC + Math.floor(nowNs / 1e9);
      const usec = Math.floor((nowNs % 1e9) / 1000);
      const v = new DataView(d.buffer);
      v.setBigUint64(0, BigInt(sec), true);
      v.setBigUint64(8, BigInt(usec), true);
    }
    return d;
  }

  private onPacket(ctx: AppContext, p: Uint8Array, timeNs: number, finish: () => void): void {
    const ipOff = 0;
    const off = ipv4.payloadOffset(p, ipOff);
    const type = icmp.type(p, off);
    if (type === icmp.TYPE_ECHO_REPLY) {
      if (icmp.echoId(p, off) !== this.ident) return;
      const seq = icmp.echoSeq(p, off);
      const sentNs = this.sentAt.get(seq);
      if (sentNs === undefined) return;
      this.received++;
      const rttUs = (timeNs - sentNs) / 1000;
      this.rtts.push(rttUs);
      if (!this.opts.quiet) {
        const bytes = ipv4.totalLength(p, ipOff) - ipv4.headerLen(p, ipOff);
        ctx.stdout(`${bytes} bytes from ${formatIpv4(ipv4.src(p, ipOff))}: icmp_seq=${seq} ttl=${ipv4.ttl(p, ipOff)} time=${formatRtt(rttUs)} ms\n`);
      }
    } else if (icmp.isErrorType(type)) {
      // The quoted datagram must be one of ours: our echo request, with our id.
      const q = off + icmp.HEADER_LEN;
      if (p.length < q + 28 || ipv4.protocol(p, q) !== ipv4.PROTO_ICMP) return;
      const qi = ipv4.payloadOffset(p, q);
      if (icmp.type(p, qi) !== icmp.TYPE_ECHO_REQUEST || icmp.echoId(p, qi) !== this.ident) return;
      this.errors++;
      if (!this.opts.quiet) ctx.stdout(`From ${formatIpv4(ipv4.src(p, ipOff))} icmp_seq=${icmp.echoSeq(p, qi)} ${errorText(type, icmp.code(p, off), icmp.nextHopMtu(p, off))}\n`);
    } else {
      return;
    }
    if (this.sent >= this.opts.count && this.received + this.errors >= this.opts.count) finish();
  }

  private summary(ctx: AppContext): void {
    const o = this.resolved ?? this.opts;
    const loss = this.sent === 0 ? 0 : Math.floor(((this.sent - this.received) * 100) / this.sent);
    // finish(): cur_time − start_time, cur_time being when pinger() last sent (not when ping ends).
    const elapsedMs = Math.round((this.lastSendNs - this.startNs) / 1e6);
    ctx.stdout(`\n--- ${o.target} ping statistics ---\n`);
    ctx.stdout(
      `${this.sent} packets transmitted, ${this.received} received, ${this.errors ? `+${this.errors} errors, ` : ''}${loss}% packet loss, time ${elapsedMs}ms\n`,
    );
    if (this.received > 0) {
      const n = this.rtts.length;
      const min = Math.min(...this.rtts);
      const max = Math.max(...this.rtts);
      const avg = this.rtts.reduce((a, b) => a + b, 0) / n;
      const mdev = Math.sqrt(Math.max(0, this.rtts.reduce((a, b) => a + b * b, 0) / n - avg * avg));
      ctx.stdout(`rtt min/avg/max/mdev = ${ms3(min)}/${ms3(avg)}/${ms3(max)}/${ms3(mdev)} ms\n`);
    }
    ctx.exit(this.received > 0 ? 0 : 1);
  }
}

function errorText(type: number, code: number, mtu: number): string {
  if (type === icmp.TYPE_TIME_EXCEEDED) return code === 0 ? 'Time to live exceeded' : 'Frag reassembly time exceeded';
  if (type === icmp.TYPE_DEST_UNREACHABLE) {
    switch (code) {
      case icmp.NET_UNREACHABLE: return 'Destination Net Unreachable';
      case icmp.HOST_UNREACHABLE: return 'Destination Host Unreachable';
      case icmp.PROTOCOL_UNREACHABLE: return 'Destination Protocol Unreachable';
      case icmp.PORT_UNREACHABLE: return 'Destination Port Unreachable';
      case icmp.FRAGMENTATION_NEEDED: return `Frag needed and DF set (mtu = ${mtu})`;
      case icmp.ADMIN_PROHIBITED: return 'Packet filtered';
      default: return `Dest Unreachable, Bad Code: ${code}`;
    }
  }
  return `Bad ICMP type: ${type}`;
}

/** The MTU the kernel puts in the local error (ip_local_error's info: the route's MTU, a learned path MTU included). */
function mtuHint(ctx: AppContext, dst: Ipv4Addr): number {
  const route = routeOutput(ctx.ns, dst);
  return route ? routeMtu(ctx.ns, route, dst) : 1500;
}
