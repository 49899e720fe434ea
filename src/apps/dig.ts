/**
 * `dig` from BIND 9.18 (bin/dig/dig.c over dighost.c, see dns-client.ts), as the dnsutils and
 * netshoot images ship it:
 *
 *   dig [@server] [name] [type] [-x addr] [-t type] [+[no]short] [+[no]search] [+[no]all]
 *       [+[no]answer|question|authority|additional|comments|stats|cmd] [+[no]cookie] [+[no]edns]
 *       [+[no]adflag] [+[no]recurse] [+tries=N] [+retry=N] [+timeout=N] [+ndots=N] [+bufsize=N]
 *
 * The query: RD and AD set, EDNS version 0 with a 1232-byte UDP size and an 8-byte client COOKIE,
 * a random ID; the server is the first resolv.conf nameserver unless @server; no search list
 * unless +search. The reply is printed as printmessage() and received() print it (greeting,
 * header, OPT pseudosection, sections in masterdump's columns, the stats); +short prints only the
 * answers' RDATA. Exit 0 on any reply (NXDOMAIN included), 9 when no server answered, 1 on bad
 * usage (usage() exits 1).
 */
import * as dns from '../packet/dns.js';
import { UsageError, type App, type AppContext } from './app.js';
import {
  BIND_VERSION, DEFAULT_EDNS_BUFSIZE, DEFAULT_TRIES, DigHost, Lookup, readDigResolvConf, resolvConfServers, reverseName, serverFromArg,
  type DigServer, type Query,
} from './dns-client.js';
import { questionLine, rdataText, recordLine } from './dns-text.js';
import { digWhen, unixSeconds } from './wall-clock.js';

export interface DigOptions {
  readonly argv: readonly string[];
  readonly server?: string;
  readonly name: string;
  readonly rdtype: number;
  readonly short: boolean;
  readonly printcmd: boolean;
  readonly search: boolean;
  readonly sections: { question: boolean; answer: boolean; authority: boolean; additional: boolean };
  readonly comments: boolean;
  readonly stats: boolean;
  readonly cookie: boolean;
  readonly edns: boolean;
  readonly adflag: boolean;
  readonly recurse: boolean;
  readonly tries?: number;
  readonly timeoutSec?: number;
  readonly ndots?: number;
  readonly bufsize?: number;
}

const TYPES: ReadonlyMap<string, number> = new Map([
  ['A', dns.TYPE_A], ['NS', dns.TYPE_NS], ['CNAME', dns.TYPE_CNAME], ['SOA', dns.TYPE_SOA], ['PTR', dns.TYPE_PTR],
  ['MX', dns.TYPE_MX], ['TXT', dns.TYPE_TXT], ['AAAA', dns.TYPE_AAAA], ['SRV', dns.TYPE_SRV], ['ANY', dns.TYPE_ANY],
]);

const USAGE =
  'Usage:  dig [@global-server] [domain] [q-type] [q-class] {q-opt}\n' +
  '            {global-d-opt} host [@local-server] {local-d-opt}\n' +
  '            [ host [@local-server] {local-d-opt} [...]]\n\n' +
  'Use "dig -h" (or "dig -h | more") for complete list of options';

function usage(first: string): UsageError {
  return new UsageError(`${first}\n${USAGE}`, 1);
}

function uint(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new UsageError(`dig: invalid ${what} '${value ?? ''}'`, 1);
  return Number(value);
}

export function parseDigArgs(args: readonly string[]): DigOptions {
  let server: string | undefined;
  let name: string | undefined;
  let rdtype: number | undefined;
  let short = false;
  let printcmd = true;
  let search = false;
  const sections = { question: true, answer: true, authority: true, additional: true };
  let comments = true;
  let stats = true;
  let cookie = true;
  let edns = true;
  let adflag = true;
  let recurse = true;
  let tries: number | undefined;
  let timeoutSec: number | undefined;
  let ndots: number | undefined;
  let bufsize: number | undefined;
  const setName = (n: string) => {
    if (name !== undefined) throw new UsageError(`podwire: dig with more than one name (${name}, ${n}) is not emulated`, 1);
    name = n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('@')) {
      server = a.slice(1);
    } else if (a.startsWith('+')) {
      const [rawCmd, value] = a.slice(1).split('=', 2) as [string, string | undefined];
      const state = !rawCmd.toLowerCase().startsWith('no');
      const cmd = (state ? rawCmd : rawCmd.slice(2)).toLowerCase();
      switch (cmd) {
        case 'short':
          short = state;
          if (state) {
            printcmd = false;
            sections.additional = false;
            sections.answer = true;
            sections.authority = false;
            sections.question = false;
            comments = false;
            stats = false;
          }
          break;
        case 'search':
        case 'defname':
          search = state;
          break;
        case 'all':
          sections.question = sections.answer = sections.authority = sections.additional = state;
          comments = state;
          stats = state;
          printcmd = state;
          break;
        case 'answer':
        case 'question':
        case 'authority':
        case 'additional':
          sections[cmd] = state;
          break;
        case 'comments':
          comments = state;
          break;
        case 'stats':
          stats = state;
          break;
        case 'cmd':
          printcmd = state;
          break;
        case 'cookie':
          cookie = state;
          break;
        case 'edns':
          edns = state;
          break;
        case 'adflag':
          adflag = state;
          break;
        case 'recurse':
        case 'rdflag':
          recurse = state;
          break;
        case 'tries':
          tries = Math.max(1, uint(value, 'tries'));
          break;
        case 'retry':
          tries = uint(value, 'retry') + 1;
          break;
        case 'time':
        case 'timeout':
          timeoutSec = Math.max(1, uint(value, 'timeout'));
          break;
        case 'ndots':
          ndots = uint(value, 'ndots');
          break;
        case 'bufsize':
          bufsize = Math.min(65535, uint(value, 'buffer size'));
          break;
        default:
          throw usage(`Invalid option: ${a}`);
      }
    } else if (a === '-x') {
      const v = args[++i];
      const rev = v === undefined ? undefined : reverseName(v);
      if (rev === undefined) throw new UsageError(`dig: '${v ?? ''}' is not a valid IPv4 address (podwire: -x takes IPv4 only)`, 1);
      setName(rev);
      rdtype = dns.TYPE_PTR;
    } else if (a === '-t') {
      const v = args[++i];
      const t = v === undefined ? undefined : TYPES.get(v.toUpperCase());
      if (t === undefined) throw new UsageError(`podwire: dig -t ${v ?? ''} is not emulated (${[...TYPES.keys()].join(', ')})`, 1);
      rdtype = t;
    } else if (a === '-4') {
      // IPv4 transport only: podwire's only transport.
    } else if (a.startsWith('-')) {
      throw new UsageError(`podwire: dig ${a} is not emulated`, 1);
    } else if (TYPES.has(a.toUpperCase())) {
      rdtype = TYPES.get(a.toUpperCase())!;
    } else if (a.toUpperCase() === 'IN') {
      // The class: IN is the default and the only one modelled.
    } else {
      setName(a);
    }
  }
  // No name: dig asks the root's NS records.
  const opts = {
    argv: args, name: name ?? '.', rdtype: rdtype ?? (name === undefined ? dns.TYPE_NS : dns.TYPE_A), short, printcmd, search, sections,
    comments, stats, cookie, edns, adflag, recurse,
  };
  return {
    ...opts,
    ...(server !== undefined ? { server } : {}),
    ...(tries !== undefined ? { tries } : {}),
    ...(timeoutSec !== undefined ? { timeoutSec } : {}),
    ...(ndots !== undefined ? { ndots } : {}),
    ...(bufsize !== undefined ? { bufsize } : {}),
  };
}

/** dig's rcode_totext: the mnemonic, or `?N` for a number without one. */
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];
function rcodeText(rcode: number): string {
  if (rcode === 16) return 'BADVERS';
  return RCODES[rcode] ?? `?${rcode}`;
}

function hex(b: Uint8Array, sep = ''): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(sep);
}

export class Dig implements App {
  constructor(readonly opts: DigOptions) {}

  start(ctx: AppContext): void {
    const o = this.opts;
    const conf = readDigResolvConf(ctx);
    let servers: DigServer[];
    let addresscount = 0;
    if (o.server !== undefined) {
      const s = serverFromArg(o.server);
      if (!s) {
        // bind9_getaddresses would resolve a name; podwire takes addresses only.
        ctx.stderr(`dig: couldn't get address for '${o.server}': not found\n`);
        return ctx.exit(10);
      }
      servers = [s];
      addresscount = 1;
    } else {
      servers = resolvConfServers(conf);
    }
    // printgreeting.
    let cmdline = '';
    if (o.printcmd) {
      cmdline = `\n; <<>> DiG ${BIND_VERSION} <<>>${o.argv.map((a) => ` ${a}`).join('')}\n`;
      if (addresscount !== 0) cmdline += `; (${addresscount} server${addresscount > 1 ? 's' : ''} found)\n`;
      cmdline += `;; global options:${o.short ? ' +short' : ''}${o.printcmd ? ' +cmd' : ''}\n`;
    }
    const host: DigHost = new DigHost(
      ctx,
      {
        printMessage: (q, msg, raw) => this.printMessage(ctx, host, q, msg, raw),
        received: (bytes, from, q) => this.received(ctx, bytes, from, q),
        shutdown: () => ctx.exit(host.exitcode),
      },
      { usesearch: o.search, search: conf.search, ndots: o.ndots ?? conf.ndots, timeoutSec: o.timeoutSec ?? conf.timeoutSec ?? 0 },
    );
    const lookup = new Lookup(
      {
        textname: o.name,
        rdtype: o.rdtype,
        recurse: o.recurse,
        adflag: o.adflag,
        edns: o.edns || o.bufsize !== undefined ? { udpSize: o.bufsize ?? DEFAULT_EDNS_BUFSIZE, sendCookie: o.cookie } : undefined,
        servfailStops: true,
        comments: o.comments,
        cmdline,
        retries: o.tries ?? conf.attempts ?? DEFAULT_TRIES,
      },
      servers,
    );
    host.lookups.push(lookup);
    host.startLookup();
  }

  /** dig.c printmessage(). */
  private printMessage(ctx: AppContext, host: DigHost, q: Query, msg: dns.DnsMessage, raw: Uint8Array): void {
    const o = this.opts;
    const l = q.lookup;
    if (l.spec.cmdline !== '') {
      if (!o.short && o.printcmd) ctx.stdout(l.spec.cmdline);
      l.spec.cmdline = '';
    }
    const comments = l.spec.comments;
    const opt = msg.additionals.find((r) => r.type === dns.TYPE_OPT);
    const rcode = dns.fullRcode(msg);
    if (comments && !o.short) {
      let head = ';; Got answer:\n';
      if (msg.questions.some((qq) => /(^|\.)local\.?$/i.test(qq.name))) {
        head += ';; WARNING: .local is reserved for Multicast DNS\n;; You are currently testing what happens when an mDNS query is leaked to DNS\n';
      }
      head += `;; ->>HEADER<<- opcode: ${msg.flags.opcode === 0 ? 'QUERY' : `RESERVED${msg.flags.opcode}`}, status: ${rcodeText(rcode)}, id: ${msg.id}\n`;
      const f = msg.flags;
      head += `;; flags:${f.qr ? ' qr' : ''}${f.aa ? ' aa' : ''}${f.tc ? ' tc' : ''}${f.rd ? ' rd' : ''}${f.ra ? ' ra' : ''}${f.ad ? ' ad' : ''}${f.cd ? ' cd' : ''}${f.z ? '; MBZ: 0x4' : ''}`;
      head += `; QUERY: ${dns.questionCount(raw, 0)}, ANSWER: ${dns.answerCount(raw, 0)}, AUTHORITY: ${dns.authorityCount(raw, 0)}, ADDITIONAL: ${dns.additionalCount(raw, 0)}\n`;
      if (f.rd && !f.ra) head += ';; WARNING: recursion requested but not available\n';
      if (l.spec.edns && !opt && (rcode === dns.RCODE_FORMERR || rcode === dns.RCODE_NOTIMP)) {
        head += `\n;; WARNING: EDNS query returned status ${rcodeText(rcode)} - retry with '+noedns'\n`;
      }
      ctx.stdout(head);
    }
    let buf = '';
    if (comments && !o.short && opt) buf += this.optText(host, msg, opt);
    const section = (title: string, records: readonly dns.DnsRecord[]) => {
      if (records.length === 0) return;
      if (comments) buf += `;; ${title} SECTION:\n`;
      for (const r of records) buf += recordLine(r);
      if (comments) buf += '\n';
    };
    if (o.sections.question && !o.short && msg.questions.length > 0) {
      if (comments) buf += ';; QUESTION SECTION:\n';
      for (const qq of msg.questions) buf += `;${questionLine(qq)}`;
      if (comments) buf += '\n';
    }
    if (o.sections.answer) {
      if (!o.short) section('ANSWER', msg.answers);
      else for (const r of msg.answers) buf += `${rdataText(r)}\n`;
    }
    if (o.sections.authority && !o.short) section('AUTHORITY', msg.authorities);
    if (o.sections.additional && !o.short) section('ADDITIONAL', msg.additionals.filter((r) => r.type !== dns.TYPE_OPT));
    if (comments && !o.short) ctx.stdout('\n');
    ctx.stdout(buf);
  }

  /** dns_message_pseudosectiontotext(DNS_PSEUDOSECTION_OPT), 9.18's wording. */
  private optText(host: DigHost, msg: dns.DnsMessage, opt: dns.DnsRecord): string {
    let out = ';; OPT PSEUDOSECTION:\n';
    const mbz = opt.ttl & 0xffff & ~dns.EDNS_DO;
    out += `; EDNS: version: ${(opt.ttl >>> 16) & 0xff}, flags:${opt.ttl & dns.EDNS_DO ? ' do' : ''}`;
    out += mbz !== 0 ? `; MBZ: 0x${mbz.toString(16).padStart(4, '0')}, udp: ${opt.class}\n` : `; udp: ${opt.class}\n`;
    if (opt.data.kind !== 'opt') return out;
    for (const o of opt.data.options) {
      if (o.code === dns.EDNS_OPTION_COOKIE) {
        out += '; COOKIE';
        if (o.data.length > 0) {
          out += `: ${hex(o.data)}`;
          const status = host.cookieStatus.get(msg);
          if (status === 'ok') out += o.data.length >= 16 ? ' (good)' : ' (echoed)';
          if (status === 'bad') out += ' (bad)';
        }
        out += '\n';
        continue;
      }
      out += o.code === 3 ? '; NSID' : o.code === 12 ? '; PAD' : `; OPT=${o.code}`;
      if (o.data.length > 0) out += `: ${hex(o.data, ' ')} ("${[...o.data].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('')}")`;
      out += '\n';
    }
    return out;
  }

  /** dig.c received(): the stats after a reply. */
  private received(ctx: AppContext, bytes: number, from: string, q: Query): void {
    if (this.opts.short || !this.opts.stats) return;
    const ms = Math.floor((q.recvNs - q.sentNs) / 1e6);
    ctx.stdout(
      `;; Query time: ${ms} msec\n;; SERVER: ${from}(${q.server.userarg}) (UDP)\n;; WHEN: ${digWhen(unixSeconds(ctx.sched.nowNs))}\n;; MSG SIZE  rcvd: ${bytes}\n\n`,
    );
  }
}
