/**
 * BIND 9.18's lookup machinery (bin/dig/dighost.c), shared by dig and nslookup as it is there:
 * a queue of lookups, each one DNS message sent to the lookup's servers in turn, over UDP, on the
 * virtual clock.
 *
 * - setup_lookup: the query name is the text as given when it has at least `ndots` dots or the
 *   search list is off, else the text under the first search domain; the message gets a random
 *   ID (isc_random16), RD when recursing, AD when asked (dig), and an OPT record (EDNS 0, the UDP
 *   size, and an 8-byte client COOKIE) when the lookup uses EDNS (dig; nslookup does not).
 * - start_udp / udp_ready / send_udp: every query (every try) is a new UDP socket connected to
 *   the server (isc_nm_udpconnect: a new ephemeral port); the read times out after `timeout`
 *   seconds (UDP_TIMEOUT 5). Tries reuse the rendered message, so they carry the same ID.
 * - recv_done: a reply must match the ID and the question, else it is ignored (with dig's
 *   warning) and the read goes on. A read error (timed out, connection refused) prints
 *   `;; communications error to ADDR#53: ERROR` and tries again while `retries > 1`, then the
 *   next server; with none left the lookup's command line and `;; no servers could be reached`
 *   (exit code 9). NXDOMAIN under a search domain requeues the lookup with the next origin
 *   (next_origin: the search list, then the name as given unless already tried).
 *
 * Left out: TCP (a TC=1 reply is used as it is; +tcp, AXFR), TSIG, +trace/+nssearch, IPv6
 * servers, and BADCOOKIE/BADVERS retries.
 */
import * as dns from '../packet/dns.js';
import { formatIpv4, parseIpv4, type Ipv4Addr } from '../packet/addr.js';
import { UdpSocket, type Datagram } from '../net/udp-socket.js';
import type { Errno } from '../net/errno.js';
import type { TimerHandle } from '../sim/scheduler.js';
import type { AppContext } from './app.js';
import { parseResolvConf, RESOLV_CONF_PATH } from './resolv-conf.js';

/** The BIND release modelled: the dnsutils/netshoot images ship a 9.18 (Alpine's bind-tools). */
export const BIND_VERSION = '9.18.27';

/** dighost.h: UDP_TIMEOUT seconds per try; irs_resconf's default attempts (dig's `+tries` default). */
export const UDP_TIMEOUT_SEC = 5;
export const DEFAULT_TRIES = 3;
/** DEFAULT_EDNS_BUFSIZE (lib/dns): the UDP size dig 9.18 advertises. */
export const DEFAULT_EDNS_BUFSIZE = 1232;

/** What dig/nslookup take from /etc/resolv.conf (lib/irs/resconf.c), as setup_system reads it. */
export interface DigResolvConf {
  readonly nameservers: readonly Ipv4Addr[];
  readonly search: readonly string[];
  readonly ndots: number;
  /** `options timeout:N`, else undefined (then UDP_TIMEOUT). */
  readonly timeoutSec: number | undefined;
  /** `options attempts:N`, else undefined (then DEFAULT_TRIES). */
  readonly attempts: number | undefined;
}

const decoder = new TextDecoder();

export function readDigResolvConf(ctx: AppContext): DigResolvConf {
  const data = ctx.fs?.readFile(RESOLV_CONF_PATH);
  const text = data ? decoder.decode(data) : '';
  const conf = parseResolvConf(text);
  let timeoutSec: number | undefined;
  let attempts: number | undefined;
  for (const line of text.split('\n')) {
    const [key, ...opts] = line.trim().split(/[ \t]+/);
    if (key !== 'options') continue;
    for (const o of opts) {
      const m = /^(timeout|attempts):(\d+)$/.exec(o);
      if (m?.[1] === 'timeout') timeoutSec = Number(m[2]);
      else if (m?.[1] === 'attempts') attempts = Number(m[2]);
    }
  }
  // irs_resconf has no loopback default of its own when the file names no server: dig then
  // falls back to 127.0.0.1 (add_fallback_nameserver), which parseResolvConf already gives.
  return { nameservers: conf.nameservers, search: conf.search, ndots: conf.ndots, timeoutSec, attempts };
}

/** A server of a lookup: its address text (servname) and what the user called it (userarg). */
export interface DigServer {
  readonly addr: Ipv4Addr;
  readonly servname: string;
  readonly userarg: string;
}

/** The per-lookup settings (dig_lookup_t's fields podwire uses). */
export interface LookupSpec {
  textname: string;
  rdtype: number;
  recurse: boolean;
  adflag: boolean;
  /** EDNS: undefined for none (lookup->edns == -1 and udpsize == -1). */
  edns: { readonly udpSize: number; readonly sendCookie: boolean } | undefined;
  /** servfail_stops: false makes a SERVFAIL go on to the next server (nslookup's nofail). */
  servfailStops: boolean;
  comments: boolean;
  /** The greeting dig prints before the first message of this lookup (cleared once printed). */
  cmdline: string;
  retries: number;
}

/** A lookup in the queue: the spec plus the search-list state setup_lookup/next_origin keep. */
export class Lookup {
  origin: number | null = null;
  needSearch = false;
  doneAsIs = false;
  newSearch = true;
  /** The server cookie learnt from a reply (process_cookie), sent on requeued lookups. */
  cookie: Uint8Array | undefined;
  /** The query name setup_lookup made (absolute, no trailing dot). */
  name = '';

  constructor(
    readonly spec: LookupSpec,
    readonly servers: readonly DigServer[],
  ) {}

  clone(): Lookup {
    const l = new Lookup({ ...this.spec }, this.servers);
    l.origin = this.origin;
    l.needSearch = this.needSearch;
    l.doneAsIs = this.doneAsIs;
    l.newSearch = false;
    l.cookie = this.cookie;
    return l;
  }
}

/** One query of a lookup (dig_query_t): a server, with the times printed in the stats. */
export interface Query {
  readonly lookup: Lookup;
  readonly server: DigServer;
  sentNs: number;
  recvNs: number;
}

/** The program-specific halves (dig.c / nslookup.c callbacks). */
export interface DigHostCallbacks {
  /** dighost_printmessage. */
  printMessage(q: Query, msg: dns.DnsMessage, raw: Uint8Array): void;
  /** dighost_received: a reply of `bytes` bytes from `from`. */
  received(bytes: number, from: string, q: Query): void;
  /** Every lookup done (dighost_shutdown). */
  shutdown(): void;
}

/** The COOKIE option's client part: compute_cookie copies the process's random cookie secret. */
function clientCookie(ctx: AppContext): Uint8Array {
  const s = ctx.random.stream(`dig-cookie/${ctx.label}`);
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i += 4) {
    const v = s.nextU32();
    out.set([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff], i);
  }
  return out;
}

/** count_dots: every dot of the text, a trailing one included. */
function countDots(s: string): number {
  let n = 0;
  for (const c of s) if (c === '.') n++;
  return n;
}

/** The name as presentation text for dns.ts (no trailing dot; the root is ''). */
function stripDot(n: string): string {
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

export class DigHost {
  readonly lookups: Lookup[] = [];
  /** dighost.c's exitcode: 9 when no server answered, reset by each successful UDP setup. */
  exitcode = 0;
  private readonly cookie: Uint8Array;
  private readonly ids;

  constructor(
    private readonly ctx: AppContext,
    private readonly cb: DigHostCallbacks,
    readonly conf: { usesearch: boolean; search: readonly string[]; ndots: number; timeoutSec: number },
  ) {
    this.cookie = clientCookie(ctx);
    this.ids = ctx.random.stream(`dig-id/${ctx.label}`);
  }

  /** dighost_warning / dighost_error (default_warnerr): `;; ` + text + newline, on stdout. */
  warn(text: string): void {
    this.ctx.stdout(`;; ${text}\n`);
  }

  /** start_lookup: the head of the queue, or shutdown when it is empty. */
  startLookup(): void {
    const l = this.lookups.shift();
    if (!l) return this.cb.shutdown();
    const msg = this.setupLookup(l);
    const bytes = new Uint8Array(dns.encodedLength(msg));
    dns.emit(msg, bytes);
    this.startQuery(l, msg, bytes, 0);
  }

  /** setup_lookup: the query name from the search list state, and the message to send. */
  private setupLookup(l: Lookup): dns.DnsMessage {
    const { usesearch, search, ndots } = this.conf;
    const text = l.spec.textname;
    if (l.newSearch) {
      if (countDots(text) >= ndots || !usesearch) {
        l.origin = null;
        l.doneAsIs = true;
        l.needSearch = usesearch;
      } else if (l.origin === null && usesearch && search.length > 0) {
        l.origin = 0;
        l.needSearch = false;
      }
    }
    const origin = l.origin === null ? undefined : search[l.origin];
    l.name = origin === undefined || text.endsWith('.') ? stripDot(text) : `${text}.${stripDot(origin)}`;
    const additionals: dns.DnsRecord[] = [];
    const edns = l.spec.edns;
    if (edns) {
      const options = edns.sendCookie ? [{ code: dns.EDNS_OPTION_COOKIE, data: l.cookie ?? this.cookie }] : [];
      additionals.push(dns.optRecord({ udpPayloadSize: edns.udpSize, options }));
    }
    return {
      id: this.ids.nextU32() & 0xffff,
      flags: dns.makeFlags({ rd: l.spec.recurse, ad: l.spec.adflag }),
      questions: [{ name: l.name, type: l.spec.rdtype, class: dns.CLASS_IN }],
      answers: [],
      authorities: [],
      additionals,
    };
  }

  /** next_origin: requeue the lookup under the next search domain (or as given); false when none is left. */
  private nextOrigin(l: Lookup): boolean {
    const { usesearch, search, ndots } = this.conf;
    if (!usesearch) return false;
    const text = l.spec.textname;
    if (text.endsWith('.') || countDots(text) + 1 > ndots) return false;
    let origin: number | null;
    if (l.origin === null) {
      if (!l.needSearch) return false;
      origin = search.length > 0 ? 0 : null;
    } else {
      const next = l.origin + 1 < search.length ? l.origin + 1 : null;
      if (next === null && l.doneAsIs) return false;
      origin = next;
    }
    const n = l.clone();
    n.origin = origin;
    n.needSearch = false;
    // requeue_lookup: ISC_LIST_PREPEND, so it runs before lookups already queued.
    this.lookups.unshift(n);
    return true;
  }

  /** start_udp for the lookup's query `qi` (a server index), one try. */
  private startQuery(l: Lookup, msg: dns.DnsMessage, bytes: Uint8Array, qi: number): void {
    const server = l.servers[qi]!;
    const q: Query = { lookup: l, server, sentNs: 0, recvNs: 0 };
    const sock = new UdpSocket(this.ctx.ns);
    // libisc's netmgr (isc__nm_socket_dontfrag) sets IP_MTU_DISCOVER to IP_PMTUDISC_OMIT on its
    // UDP sockets: the queries leave without DF, as the kernel's captures of the real dig and
    // nslookup show. 'dont' is the same on the wire (DF clear, IP ID from __ip_select_ident).
    sock.pmtudisc = 'dont';
    sock.connect(server.addr, dns.PORT);
    // udp_ready: the connect worked.
    this.exitcode = 0;
    let timer: TimerHandle | undefined;
    let done = false;
    const finish = () => {
      done = true;
      timer?.cancel();
      sock.onDatagram = () => {};
      sock.onError = () => {};
      sock.close();
    };
    const arm = () => {
      timer?.cancel();
      timer = this.ctx.sched.after((this.conf.timeoutSec || UDP_TIMEOUT_SEC) * 1e9, () => {
        if (done) return;
        finish();
        this.readError(l, msg, bytes, qi, 'timed out');
      });
    };
    sock.onError = (err: Errno) => {
      if (done) return;
      sock.takeError();
      finish();
      this.readError(l, msg, bytes, qi, err === 'ECONNREFUSED' ? 'connection refused' : err);
    };
    sock.onDatagram = (d: Datagram) => {
      if (done) return;
      const raw = d.data;
      if (raw.length < dns.HEADER_LEN) {
        this.warn('Warning: short (< header size) message received');
        return arm();
      }
      const id = dns.id(raw, 0);
      if (id !== msg.id) {
        this.warn(`Warning: ID mismatch: expected ID ${msg.id}, got ${id}`);
        return arm();
      }
      if (!dns.isResponse(raw, 0)) this.warn('Warning: query response not set');
      let reply: dns.DnsMessage;
      try {
        reply = dns.parse(raw);
      } catch (e) {
        finish();
        this.ctx.stdout(`;; Got bad packet: ${e instanceof Error ? e.message : String(e)}\n`);
        return this.lookupDone();
      }
      const mine = msg.questions[0]!;
      const mismatch = reply.questions.find((rq) => rq.type !== mine.type || rq.class !== mine.class || stripDot(rq.name).toLowerCase() !== mine.name.toLowerCase());
      if (mismatch) {
        this.warn(`;; Question section mismatch: got ${mismatch.name || '.'}/${dns.typeName(mismatch.type)}/${mismatch.class === dns.CLASS_IN ? 'IN' : `CLASS${mismatch.class}`}`);
        return arm();
      }
      q.recvNs = this.ctx.sched.nowNs;
      finish();
      this.replied(q, msg, bytes, qi, reply, raw, d);
    };
    // send_udp: time_sent, then the datagram (the read is already posted).
    q.sentNs = this.ctx.sched.nowNs;
    const err = sock.send(bytes);
    arm();
    if (err) {
      finish();
      this.readError(l, msg, bytes, qi, err);
    }
  }

  /** recv_done with an error: retry the same server while retries last, then the next, then give up. */
  private readError(l: Lookup, msg: dns.DnsMessage, bytes: Uint8Array, qi: number, what: string): void {
    const s = l.servers[qi]!;
    this.warn(`communications error to ${s.servname}#${dns.PORT}: ${what}`);
    if (l.spec.retries > 1) {
      l.spec.retries--;
      return this.startQuery(l, msg, bytes, qi);
    }
    if (qi + 1 < l.servers.length) return this.startQuery(l, msg, bytes, qi + 1);
    this.ctx.stdout(l.spec.cmdline);
    l.spec.cmdline = '';
    this.ctx.stdout(';; no servers could be reached\n\n');
    if (this.exitcode < 9) this.exitcode = 9;
    this.lookupDone();
  }

  /** recv_done with a matching reply. */
  private replied(q: Query, msg: dns.DnsMessage, bytes: Uint8Array, qi: number, reply: dns.DnsMessage, raw: Uint8Array, d: Datagram): void {
    const l = q.lookup;
    const rcode = reply.flags.rcode;
    // SERVFAIL with nofail, or no recursion where it was asked and check_ra: the next server, if
    // any; with none left the reply is used, said first (9.18.49 as Debian ships it prints
    // ";; Got recursion not available from 10.96.0.10" before and after a good nslookup answer
    // from CoreDNS, which never sets RA).
    if ((rcode === dns.RCODE_SERVFAIL && !l.spec.servfailStops) || (this.checkRa && !reply.flags.ra && l.spec.recurse)) {
      const why = rcode === dns.RCODE_SERVFAIL ? 'SERVFAIL reply' : 'recursion not available';
      if (qi + 1 < l.servers.length) {
        this.startQuery(l, msg, bytes, qi + 1);
        if (l.spec.comments) this.warn(`Got ${why} from ${q.server.servname}, trying next server`);
        return;
      }
      if (l.spec.comments) this.warn(`Got ${why} from ${q.server.servname}`);
    }
    const opt = reply.additionals.find((r) => r.type === dns.TYPE_OPT);
    if (l.cookie !== undefined && !opt) this.warn('expected opt record in response');
    else if ((l.cookie !== undefined || l.spec.edns?.sendCookie) && opt) this.processCookie(l, reply, opt);
    const from = `${formatIpv4(d.from)}#${d.fromPort}`;
    if (rcode === dns.RCODE_NXDOMAIN && (l.origin !== null || l.needSearch)) {
      if (!this.nextOrigin(l)) {
        this.cb.printMessage(q, reply, raw);
        this.cb.received(raw.length, from, q);
      }
    } else {
      this.cb.printMessage(q, reply, raw);
    }
    // recv_done calls dighost_received again here for a NOERROR reply or one without an origin.
    if (rcode === dns.RCODE_NOERROR || l.origin === null) this.cb.received(raw.length, from, q);
    this.lookupDone();
  }

  /** nslookup sets check_ra unless a server was named on the command line. */
  checkRa = false;

  /** process_cookie's verdict on each reply's COOKIE (msg->cc_ok / cc_bad), for the OPT pseudosection. */
  readonly cookieStatus = new WeakMap<dns.DnsMessage, 'ok' | 'bad'>();

  /** process_cookie: good when the first 8 bytes are the cookie sent; a good one is kept for requeues. */
  private processCookie(l: Lookup, reply: dns.DnsMessage, opt: dns.DnsRecord): void {
    if (opt.data.kind !== 'opt') return;
    const c = opt.data.options.find((o) => o.code === dns.EDNS_OPTION_COOKIE);
    if (!c) return;
    const sent = l.cookie ?? this.cookie;
    if (c.data.length >= 8 && sent.length >= 8 && sent.subarray(0, 8).every((b, i) => c.data[i] === b)) {
      this.cookieStatus.set(reply, 'ok');
      l.cookie = c.data;
    } else {
      this.warn(c.data.length >= 8 ? 'Warning: Client COOKIE mismatch' : 'Warning: COOKIE bad token (too short)');
      this.cookieStatus.set(reply, 'bad');
    }
  }

  /** clear_current_lookup → start_lookup: the next queued lookup runs. */
  private lookupDone(): void {
    this.startLookup();
  }
}

/** bind9_getaddresses for a server argument: an IPv4 literal (names would need a resolver). */
export function serverFromArg(arg: string): DigServer | undefined {
  try {
    const addr = parseIpv4(arg);
    return { addr, servname: formatIpv4(addr), userarg: arg };
  } catch {
    return undefined;
  }
}

/** get_server_list: the resolv.conf servers, named by their address text. */
export function resolvConfServers(conf: DigResolvConf): DigServer[] {
  return conf.nameservers.map((addr) => ({ addr, servname: formatIpv4(addr), userarg: formatIpv4(addr) }));
}

/** get_reverse (strict): `a.b.c.d` → `d.c.b.a.in-addr.arpa.`; undefined when not an IPv4 address. */
export function reverseName(text: string): string | undefined {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return undefined;
  const parts = text.split('.');
  if (parts.some((p) => Number(p) > 255)) return undefined;
  return `${parts.reverse().join('.')}.in-addr.arpa.`;
}
