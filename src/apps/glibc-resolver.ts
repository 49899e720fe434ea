/**
 * getaddrinfo as glibc 2.36 does it with `hosts: files dns`, over the emulated network.
 *
 * - Numeric hosts (inet_aton, then inet_pton AF_INET6) answer at once; AI_ADDRCONFIG first narrows
 *   AF_UNSPEC to the families the netns has a non-loopback address of (__check_pf), and fails
 *   with EAI_NONAME a family it has none of.
 * - /etc/hosts (nss_files) next: every line naming the host, case-insensitively.
 * - DNS (nss_dns → res_context_search, resolv/res_query.c): a name with at least `ndots` dots, or
 *   a trailing dot, is tried as given first (with a trailing dot, only that); then each search
 *   domain; then the name as given unless already tried. NXDOMAIN and NODATA go on to the next
 *   domain, as does SERVFAIL; a timeout ends the search-list walk (the name as given is still
 *   tried); ECONNREFUSED ends everything.
 * - Each candidate name is one res_send (resolv/res_send.c, send_dg): a new UDP socket connected
 *   to the nameserver (a new ephemeral port), the A and AAAA queries sent back to back
 *   (sendmmsg) for AF_UNSPEC, each with its own random ID, RD set, no EDNS unless `options
 *   edns0`; then every answer is read. No answer within `timeout` (5 s; for the nth server
 *   timeout<<n / nservers) resends both on the same socket, `attempts` (2) times per server. A
 *   SERVFAIL, NOTIMP or REFUSED answer gives up on that server (socket closed) unless the other
 *   query was answered. The socket is closed when the candidate is done (no RES_STAYOPEN).
 *
 * Left out: TCP retry after TC=1 (the truncated answer is used as it is), the
 * single-request(-reopen) fallbacks after a timeout with one of two answers (the one answer is
 * used), `options rotate`, and the RFC 3484 sort beyond "IPv4 first" (podwire has no IPv6).
 */
import * as dns from '../packet/dns.js';
import type { Netns } from '../net/netns.js';
import { UdpSocket, type Datagram } from '../net/udp-socket.js';
import type { TimerHandle } from '../sim/scheduler.js';
import type { AppContext } from './app.js';
import { readHosts, readResolvConf, type HostsEntry, type ResolvConf } from './resolv-conf.js';
import { inetAton, ipv4Bytes, type GaiAddress, type GaiError, type GaiRequest, type GaiResult, type HostResolver } from './resolver.js';

/** h_errno values (netdb.h), what res_search leaves behind. */
type HErrno = 'HOST_NOT_FOUND' | 'TRY_AGAIN' | 'NO_RECOVERY' | 'NO_DATA';

/** The resolver a program in this context uses: the context's own, else glibc over its files. */
export function resolverFor(ctx: AppContext): HostResolver {
  return ctx.resolver ?? new GlibcResolver(ctx.ns, readResolvConf(ctx.fs), readHosts(ctx.fs));
}

/** What one res_send of a candidate name gave. */
type SendOutcome =
  | { readonly kind: 'answers'; readonly replies: readonly (dns.DnsMessage | undefined)[] }
  | { readonly kind: 'timeout' | 'refused' | 'servfail' };

export class GlibcResolver implements HostResolver {
  constructor(
    private readonly ns: Netns,
    readonly conf: ResolvConf,
    private readonly hosts: readonly HostsEntry[],
  ) {}

  getaddrinfo(name: string, request: GaiRequest, done: (result: GaiResult) => void): void {
    let family = request.family;
    const flags = request.flags ?? {};
    if (flags.addrconfig) {
      // __check_pf: an IPv4 address other than 127.0.0.1 counts; podwire has no IPv6 addresses.
      const seenV4 = [...this.ns.localAddrs.keys()].some((a) => a !== 0x7f00_0001);
      const seenV6 = false;
      if (family === 'unspec' && (seenV4 || seenV6)) {
        if (seenV4 !== seenV6) family = seenV4 ? 'inet' : 'inet6';
      } else if ((family === 'inet' && !seenV4) || (family === 'inet6' && !seenV6)) {
        return done({ ok: false, error: 'EAI_NONAME' });
      }
    }
    if (name === '') return done({ ok: false, error: 'EAI_NONAME' });
    const canon = (c: string) => (flags.canonname ? c : undefined);
    const v4 = inetAton(name);
    if (v4 !== undefined) {
      if (family === 'inet6') return done({ ok: false, error: 'EAI_ADDRFAMILY' });
      return done({ ok: true, addresses: [{ family: 'inet', bytes: ipv4Bytes(v4) }], canonname: canon(name) });
    }
    const v6 = parseIpv6Literal(name);
    if (v6) {
      if (family === 'inet') return done({ ok: false, error: 'EAI_ADDRFAMILY' });
      return done({ ok: true, addresses: [{ family: 'inet6', bytes: v6 }], canonname: canon(name) });
    }
    if (flags.numerichost) return done({ ok: false, error: 'EAI_NONAME' });

    const fromFile = this.hostsLookup(name, family);
    if (fromFile) return done({ ok: true, addresses: fromFile.addresses, canonname: canon(fromFile.canon) });

    const qtypes = family === 'inet' ? [dns.TYPE_A] : family === 'inet6' ? [dns.TYPE_AAAA] : [dns.TYPE_A, dns.TYPE_AAAA];
    this.search(name, qtypes, (r) => {
      if ('herrno' in r) return done({ ok: false, error: gaiError(r.herrno) });
      const found = extractAddresses(r.replies, qtypes);
      if (found.addresses.length === 0) return done({ ok: false, error: 'EAI_NODATA' });
      done({ ok: true, addresses: found.addresses, canonname: canon(found.canon) });
    });
  }

  /** _nss_files_gethostbyname4_r: every matching line, in file order; IPv4 first (RFC 3484 rule 1: no IPv6 source). */
  private hostsLookup(name: string, family: GaiRequest['family']): { addresses: GaiAddress[]; canon: string } | undefined {
    const key = name.toLowerCase();
    const hits = this.hosts.filter((h) => h.names.some((n) => n.toLowerCase() === key) && (family === 'unspec' || h.family === family));
    if (hits.length === 0) return undefined;
    const addresses = [...hits.filter((h) => h.family === 'inet'), ...hits.filter((h) => h.family === 'inet6')].map((h) => ({ family: h.family, bytes: h.address }));
    return { addresses, canon: hits[0]!.names[0]! };
  }

  /** res_context_search: the candidate names in glibc's order, stopping as it stops. */
  private search(name: string, qtypes: readonly number[], done: (r: { replies: readonly (dns.DnsMessage | undefined)[] } | { herrno: HErrno }) => void): void {
    const conf = this.conf;
    const dots = [...name].filter((c) => c === '.').length;
    const trailingDot = name.endsWith('.');
    const asIsFirst = dots >= conf.ndots || trailingDot;
    const domains = trailingDot ? [] : conf.search.map((d) => (d.startsWith('.') ? d.slice(1) : d));
    const rootOnList = domains.some((d) => d === '');
    let savedHerrno: HErrno | undefined;
    let gotNodata = false;
    let gotServfail = false;
    let lastHerrno: HErrno = 'HOST_NOT_FOUND';

    const finish = () => done({ herrno: savedHerrno ?? (gotNodata ? 'NO_DATA' : gotServfail ? 'TRY_AGAIN' : lastHerrno) });
    const finalAsIs = () => {
      if (asIsFirst || rootOnList) return finish();
      this.queryDomain(name, qtypes, (r) => {
        if ('replies' in r) return done(r);
        lastHerrno = r.herrno;
        finish();
      });
    };
    const walk = (i: number) => {
      const domain = domains[i];
      if (domain === undefined) return finalAsIs();
      this.queryDomain(domain === '' ? `${name}.` : `${name}.${domain}`, qtypes, (r) => {
        if ('replies' in r) return done(r);
        lastHerrno = r.herrno;
        if (r.refused) return done({ herrno: 'TRY_AGAIN' });
        if (r.herrno === 'NO_DATA') gotNodata = true;
        else if (r.herrno === 'TRY_AGAIN' && r.servfail) gotServfail = true;
        else if (r.herrno !== 'HOST_NOT_FOUND') return finalAsIs();
        walk(i + 1);
      });
    };
    if (!asIsFirst) return walk(0);
    this.queryDomain(name, qtypes, (r) => {
      if ('replies' in r) return done(r);
      if (trailingDot) return done({ herrno: r.herrno });
      savedHerrno = r.herrno;
      walk(0);
    });
  }

  /** res_context_query: send, then judge the answers as glibc does (success: any NOERROR with answers). */
  private queryDomain(
    qname: string,
    qtypes: readonly number[],
    done: (r: { replies: readonly (dns.DnsMessage | undefined)[] } | { herrno: HErrno; servfail?: boolean; refused?: boolean }) => void,
  ): void {
    this.send(qname, qtypes, (o) => {
      if (o.kind === 'timeout') return done({ herrno: 'TRY_AGAIN' });
      if (o.kind === 'refused') return done({ herrno: 'TRY_AGAIN', refused: true });
      if (o.kind !== 'answers') return done({ herrno: 'TRY_AGAIN', servfail: true });
      const hp = o.replies[0] ?? o.replies[1]!;
      const hp2 = o.replies[1] ?? hp;
      const good = (m: dns.DnsMessage) => m.flags.rcode === dns.RCODE_NOERROR && m.answers.length > 0;
      if (good(hp) || good(hp2)) return done({ replies: o.replies });
      const rcode = hp.flags.rcode === dns.RCODE_NOERROR ? hp2.flags.rcode : hp.flags.rcode;
      if (rcode === dns.RCODE_NXDOMAIN) return done({ herrno: 'HOST_NOT_FOUND' });
      if (rcode === dns.RCODE_SERVFAIL) return done({ herrno: 'TRY_AGAIN', servfail: true });
      if (rcode === dns.RCODE_NOERROR) return done({ herrno: 'NO_DATA' });
      done({ herrno: 'NO_RECOVERY' });
    });
  }

  /** res_send over UDP (send_dg) for one candidate name: one socket per server, tries × servers. */
  private send(qname: string, qtypes: readonly number[], done: (o: SendOutcome) => void): void {
    const conf = this.conf;
    const ids = this.ns.random.stream(`res-id/${this.ns.name}`);
    const queries = qtypes.map((type) => {
      const m: dns.DnsMessage = {
        id: ids.nextU32() & 0xffff,
        flags: dns.makeFlags({ rd: true }),
        questions: [{ name: qname, type, class: dns.CLASS_IN }],
        answers: [],
        authorities: [],
        // RESOLV_EDNS_BUFFER_SIZE: what glibc advertises with `options edns0`.
        additionals: conf.edns0 ? [dns.optRecord({ udpPayloadSize: 1200 })] : [],
      };
      const bytes = new Uint8Array(dns.encodedLength(m));
      dns.emit(m, bytes);
      return { message: m, bytes };
    });
    const sockets = new Map<number, UdpSocket>();
    const closeAll = () => {
      for (const s of sockets.values()) s.close();
      sockets.clear();
    };
    const servers = conf.nameservers;
    let gotSomewhere = false;
    let lastServfail = false;
    let timer: TimerHandle | undefined;

    const attempt = (n: number) => {
      const tryIndex = Math.floor(n / servers.length);
      const nsIndex = n % servers.length;
      if (tryIndex >= conf.attempts) {
        closeAll();
        return done({ kind: lastServfail ? 'servfail' : gotSomewhere ? 'timeout' : 'refused' });
      }
      let sock = sockets.get(nsIndex);
      if (!sock) {
        sock = new UdpSocket(this.ns);
        sock.connect(servers[nsIndex]!, dns.PORT);
        sockets.set(nsIndex, sock);
      }
      const s = sock;
      const replies: (dns.DnsMessage | undefined)[] = queries.map(() => undefined);
      const received = queries.map(() => false);
      let settled = false;
      const settle = (next: () => void) => {
        settled = true;
        timer?.cancel();
        s.onDatagram = () => {};
        s.onError = () => {};
        next();
      };
      const giveUpOnServer = () => {
        s.close();
        sockets.delete(nsIndex);
        attempt(n + 1);
      };
      s.onDatagram = (d: Datagram) => {
        if (settled) return;
        let m: dns.DnsMessage;
        try {
          m = dns.parse(d.data);
        } catch {
          return;
        }
        if (!m.flags.qr) return;
        const i = queries.findIndex((q, k) => !received[k] && q.message.id === m.id && questionsMatch(q.message, m));
        if (i < 0) return;
        received[i] = true;
        const rc = m.flags.rcode;
        if (rc === dns.RCODE_SERVFAIL || rc === dns.RCODE_NOTIMP || rc === dns.RCODE_REFUSED) {
          lastServfail = rc === dns.RCODE_SERVFAIL;
          if (replies.some((r) => r !== undefined)) return settle(() => finishOk());
          if (received.every(Boolean)) return settle(giveUpOnServer);
          return;
        }
        lastServfail = false;
        replies[i] = m;
        if (received.every(Boolean)) settle(() => finishOk());
      };
      const finishOk = () => {
        closeAll();
        done({ kind: 'answers', replies });
      };
      // A connected socket's port unreachable: recvfrom fails with ECONNREFUSED, the server is dropped.
      s.onError = () => {
        if (settled) return;
        s.takeError();
        settle(giveUpOnServer);
      };
      for (const q of queries) {
        const err = s.send(q.bytes);
        if (err) return settle(giveUpOnServer);
      }
      let seconds = conf.timeoutSec * 2 ** nsIndex;
      if (nsIndex > 0) seconds = Math.floor(seconds / servers.length);
      if (seconds <= 0) seconds = 1;
      timer = this.ns.sched.after(seconds * 1e9, () => {
        if (settled) return;
        gotSomewhere = true;
        if (replies.some((r) => r !== undefined)) return settle(() => finishOk());
        settle(() => attempt(n + 1));
      });
    };
    attempt(0);
  }
}

/** res_queriesmatch: same questions (names case-insensitively), type and class. */
function questionsMatch(query: dns.DnsMessage, reply: dns.DnsMessage): boolean {
  if (reply.questions.length !== query.questions.length) return false;
  return query.questions.every((q, i) => {
    const r = reply.questions[i]!;
    return r.type === q.type && r.class === q.class && stripDot(r.name).toLowerCase() === stripDot(q.name).toLowerCase();
  });
}

function stripDot(n: string): string {
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** gaih_getanswer: the address records of each answer, CNAMEs followed from the question name. */
function extractAddresses(replies: readonly (dns.DnsMessage | undefined)[], qtypes: readonly number[]): { addresses: GaiAddress[]; canon: string } {
  const addresses: GaiAddress[] = [];
  let canon: string | undefined;
  replies.forEach((m, i) => {
    if (!m || m.flags.rcode !== dns.RCODE_NOERROR) return;
    const qtype = qtypes[i]!;
    let current = stripDot(m.questions[0]?.name ?? '');
    for (const rr of m.answers) {
      if (rr.class !== dns.CLASS_IN || stripDot(rr.name).toLowerCase() !== current.toLowerCase()) continue;
      if (rr.data.kind === 'cname') current = stripDot(rr.data.target);
      else if (rr.type === qtype && rr.data.kind === 'a') {
        addresses.push({ family: 'inet', bytes: ipv4Bytes(rr.data.address) });
        canon ??= stripDot(rr.name);
      } else if (rr.type === qtype && rr.data.kind === 'aaaa') {
        addresses.push({ family: 'inet6', bytes: rr.data.address });
        canon ??= stripDot(rr.name);
      }
    }
  });
  return { addresses, canon: canon ?? '' };
}

function gaiError(h: HErrno): GaiError {
  switch (h) {
    case 'NO_DATA':
      return 'EAI_NODATA';
    case 'TRY_AGAIN':
      return 'EAI_AGAIN';
    default:
      return 'EAI_NONAME';
  }
}

function parseIpv6Literal(text: string): Uint8Array | undefined {
  if (!text.includes(':')) return undefined;
  try {
    return dns.parseIpv6(text);
  } catch {
    return undefined;
  }
}
