/**
 * `nslookup` from BIND 9.18 (bin/dig/nslookup.c over dighost.c, see dns-client.ts), in its
 * non-interactive form:
 *
 *   nslookup [-type=T|-query=T|-q=T] [-timeout=N] [-retry=N] [-ndots=N] [-[no]search] NAME [SERVER]
 *
 * dighost's lookup with nslookup's settings: the search list on (ndots from resolv.conf), RD
 * set, no AD, no EDNS (so no COOKIE either), SERVFAIL not final (nofail), and check_ra unless a
 * SERVER is named. An IPv4 address NAME becomes a PTR lookup. With the default type, an A lookup
 * whose reply is NOERROR queues an AAAA lookup for the name its CNAME chain ends at — that
 * absolute name, with no search list.
 *
 * Output (printmessage, short form): `Server:\t\tSERVER` / `Address:\tADDR#53` / a blank line
 * before an A reply (or any reply with -type); `Non-authoritative answer:` when AA is clear;
 * `Name:\tNAME` / `Address: ADDR` per address, `NAME\tcanonical name = TARGET.` and the like for
 * other records; `** server can't find NAME: RCODE` for an error reply. A blank line ends the
 * run. Exit 0, or 1 when no server answered or a reply was an error.
 */
import * as dns from '../packet/dns.js';
import { formatIpv4 } from '../packet/addr.js';
import { UsageError, type App, type AppContext } from './app.js';
import { DEFAULT_TRIES, DigHost, Lookup, readDigResolvConf, resolvConfServers, reverseName, serverFromArg, type DigServer, type Query } from './dns-client.js';
import { rdataText } from './dns-text.js';

export interface NslookupOptions {
  readonly name: string;
  readonly server?: string;
  /** `-type=`: undefined keeps default_lookups (A, then AAAA). */
  readonly rdtype?: number;
  readonly timeoutSec?: number;
  readonly tries?: number;
  readonly ndots?: number;
  readonly search: boolean;
}

const TYPES: ReadonlyMap<string, number> = new Map([
  ['A', dns.TYPE_A], ['NS', dns.TYPE_NS], ['CNAME', dns.TYPE_CNAME], ['SOA', dns.TYPE_SOA], ['PTR', dns.TYPE_PTR],
  ['MX', dns.TYPE_MX], ['TXT', dns.TYPE_TXT], ['AAAA', dns.TYPE_AAAA], ['SRV', dns.TYPE_SRV], ['ANY', dns.TYPE_ANY],
]);

export function parseNslookupArgs(args: readonly string[]): NslookupOptions {
  let name: string | undefined;
  let server: string | undefined;
  let rdtype: number | undefined;
  let timeoutSec: number | undefined;
  let tries: number | undefined;
  let ndots: number | undefined;
  let search = true;
  const num = (v: string, what: string) => {
    if (!/^\d+$/.test(v)) throw new UsageError(`invalid ${what} '${v}'`, 1);
    return Number(v);
  };
  for (const a of args) {
    if (a.startsWith('-') && a.length > 1) {
      const opt = a.slice(1);
      const m = /^(type|ty|querytype|query|qu|q|timeout|t|retry|ret|ndots)=(.*)$/i.exec(opt);
      if (m) {
        const key = m[1]!.toLowerCase();
        const v = m[2]!;
        if (key === 'timeout' || key === 't') timeoutSec = num(v, 'timeout');
        else if (key === 'retry' || key === 'ret') tries = num(v, 'tries');
        else if (key === 'ndots') ndots = num(v, 'ndots');
        else {
          const t = TYPES.get(v.toUpperCase());
          if (t === undefined) throw new UsageError(`podwire: nslookup -${key}=${v} is not emulated (${[...TYPES.keys()].join(', ')})`, 1);
          rdtype = t;
        }
      } else if (/^(nosearch|nodefname)$/i.test(opt)) search = false;
      else if (/^(search|defname)$/i.test(opt)) search = true;
      else throw new UsageError(`podwire: nslookup ${a} is not emulated`, 1);
    } else if (a === '-') {
      throw new UsageError('podwire: interactive nslookup is not emulated (give a name)', 1);
    } else if (name === undefined) {
      name = a;
    } else {
      server = a;
    }
  }
  if (name === undefined) throw new UsageError('podwire: interactive nslookup is not emulated (give a name)', 1);
  return {
    name, search,
    ...(server !== undefined ? { server } : {}),
    ...(rdtype !== undefined ? { rdtype } : {}),
    ...(timeoutSec !== undefined ? { timeoutSec } : {}),
    ...(tries !== undefined ? { tries } : {}),
    ...(ndots !== undefined ? { ndots } : {}),
  };
}

/** nslookup.c's rtypetext: the words before each record type's RDATA. */
const RTYPE_TEXT: Readonly<Record<number, string>> = {
  [dns.TYPE_A]: 'internet address = ', [dns.TYPE_NS]: 'nameserver = ', [dns.TYPE_CNAME]: 'canonical name = ',
  [dns.TYPE_PTR]: 'name = ', [dns.TYPE_MX]: 'mail exchanger = ', [dns.TYPE_TXT]: 'text = ', [dns.TYPE_AAAA]: 'has AAAA address ',
  [dns.TYPE_SRV]: 'service = ',
};

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE', 'RESERVED11', 'RESERVED12', 'RESERVED13', 'RESERVED14', 'RESERVED15', 'BADVERS'];

/** dns_name_format: no final dot, `.` for the root. */
function nameText(n: string): string {
  const s = n.endsWith('.') ? n.slice(0, -1) : n;
  return s === '' ? '.' : s;
}

export class Nslookup implements App {
  constructor(readonly opts: NslookupOptions) {}

  start(ctx: AppContext): void {
    const o = this.opts;
    const conf = readDigResolvConf(ctx);
    let servers: DigServer[];
    if (o.server !== undefined) {
      const s = serverFromArg(o.server);
      if (!s) {
        ctx.stderr(`nslookup: couldn't get address for '${o.server}': not found\n`);
        return ctx.exit(1);
      }
      servers = [s];
    } else {
      servers = resolvConfServers(conf);
    }
    const defaultLookups = o.rdtype === undefined;
    const tries = o.tries ?? conf.attempts ?? DEFAULT_TRIES;
    let queryError = 1;
    let printError = 0;
    let aNoAnswer = false;
    const host: DigHost = new DigHost(
      ctx,
      {
        printMessage: (q, msg) => {
          queryError = 0;
          const l = q.lookup;
          const rdtype = l.spec.rdtype;
          let out = '';
          if (!defaultLookups || rdtype === dns.TYPE_A) {
            out += `Server:\t\t${q.server.userarg}\nAddress:\t${formatIpv4(q.server.addr)}#${dns.PORT}\n\n`;
          }
          const rcode = dns.fullRcode(msg);
          if (rcode !== dns.RCODE_NOERROR) {
            ctx.stdout(`${out}** server can't find ${nameText(l.name)}: ${RCODES[rcode] ?? `?${rcode}`}\n`);
            printError |= 1;
            return;
          }
          if (defaultLookups && rdtype === dns.TYPE_A) {
            // Add the AAAA lookup, for the end of the A answer's CNAME chain (chase_cnamechain).
            let name = l.name;
            for (let i = msg.answers.length; i-- > 0; ) {
              const c = msg.answers.find((r) => r.data.kind === 'cname' && r.name.toLowerCase() === name.toLowerCase());
              if (!c || c.data.kind !== 'cname') break;
              name = c.data.target;
            }
            const aaaa = l.clone();
            aaaa.spec.textname = nameText(name);
            aaaa.spec.rdtype = dns.TYPE_AAAA;
            aaaa.spec.retries = tries;
            aaaa.origin = null;
            host.lookups.push(aaaa);
          }
          if (!msg.flags.aa && (!defaultLookups || rdtype === dns.TYPE_A)) out += 'Non-authoritative answer:\n';
          if (msg.answers.length > 0) out += this.section(msg.answers, true);
          else if (defaultLookups && rdtype === dns.TYPE_A) aNoAnswer = true;
          else if (!defaultLookups || (rdtype === dns.TYPE_AAAA && aNoAnswer)) out += `*** Can't find ${l.spec.textname}: No answer\n`;
          if (!msg.flags.aa && rdtype !== dns.TYPE_A && rdtype !== dns.TYPE_AAAA) {
            out += '\nAuthoritative answers can be found from:\n';
            out += this.section(msg.authorities, false);
            out += this.section(msg.additionals.filter((r) => r.type !== dns.TYPE_OPT), false);
          }
          ctx.stdout(out);
        },
        received: () => {},
        shutdown: () => {
          ctx.stdout('\n');
          ctx.exit(queryError | printError);
        },
      },
      { usesearch: o.search, search: conf.search, ndots: o.ndots ?? conf.ndots, timeoutSec: o.timeoutSec ?? conf.timeoutSec ?? 0 },
    );
    host.checkRa = o.server === undefined;
    const rev = reverseName(o.name);
    host.lookups.push(
      new Lookup(
        {
          textname: rev ?? o.name,
          rdtype: rev !== undefined ? dns.TYPE_PTR : (o.rdtype ?? dns.TYPE_A),
          recurse: true,
          adflag: false,
          edns: undefined,
          servfailStops: false,
          comments: true,
          cmdline: '',
          retries: tries,
        },
        servers,
      ),
    );
    host.startLookup();
  }

  /** printsection: answer addresses as Name/Address pairs, SOA spelled out, the rest `NAME\t<words> RDATA`. */
  private section(records: readonly dns.DnsRecord[], answer: boolean): string {
    let out = '';
    for (const r of records) {
      const owner = nameText(r.name);
      if (answer && (r.data.kind === 'a' || r.data.kind === 'aaaa')) {
        out += `Name:\t${owner}\nAddress: ${rdataText(r)}\n`;
      } else if (r.data.kind === 'soa') {
        const s = r.data;
        out += `${owner}\n\torigin = ${nameText(s.mname)}\n\tmail addr = ${nameText(s.rname)}\n\tserial = ${s.serial}\n\trefresh = ${s.refresh}\n\tretry = ${s.retry}\n\texpire = ${s.expire}\n\tminimum = ${s.minimum}\n`;
      } else {
        out += `${owner}\t${RTYPE_TEXT[r.type] ?? `rdata_${r.type} = `}${rdataText(r)}\n`;
      }
    }
    return out;
  }
}
