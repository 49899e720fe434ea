/**
 * DNS clients in traffic steps, as the kernel runs them (issue 7): the real BIND 9.18 `dig` and
 * `nslookup` (Debian's bind9-dnsutils), the real glibc `getent ahosts|ahostsv4`, and podwire's probe
 * `getaddrinfo` as a python3 script calling socket.getaddrinfo — the library call the kernel
 * reference "dns" was taken with (AF_UNSPEC, no flags: A and AAAA), which getent cannot make
 * (it always sets AI_ADDRCONFIG | AI_CANONNAME). Each command line is first read with podwire's
 * own parser, so what runs on the kernel is a command podwire emulates; the pod's /etc/resolv.conf
 * and /etc/hosts are bound over the machine's for the run (parity.ts), so the names go where the
 * pod's would. The bound is the tool's own worst case (every try of every search-list name timing
 * out) with room to spare, at most MAX_DNS_SECONDS.
 */
import { UsageError } from '../apps/app.js';
import { DEFAULT_TRIES } from '../apps/dns-client.js';
import { parseDigArgs } from '../apps/dig.js';
import { parseGetaddrinfoArgs } from '../apps/getaddrinfo-probe.js';
import { parseGetentArgs } from '../apps/getent.js';
import { parseNslookupArgs } from '../apps/nslookup.js';

/** The real tools, by absolute path. */
export const DIG = '/usr/bin/dig';
export const NSLOOKUP = '/usr/bin/nslookup';
export const GETENT = '/usr/bin/getent';
const PYTHON = '/usr/bin/python3';

export const DNS_TOOLS = new Set(['dig', 'nslookup', 'getent', 'getaddrinfo']);

const MAX_DNS_SECONDS = 60;
/** The search list (three domains, ClusterFirst) plus the name as given. */
const NAMES_TRIED = 4;

/**
 * podwire's getaddrinfo probe (apps/getaddrinfo-probe.ts) on the real glibc: one call, then one
 * line per address in the order returned (the three socket types of an address are one line, as
 * the probe prints them), `canonname NAME` first with AI_CANONNAME; on failure gai_strerror's text
 * and exit 2.
 */
export const GETADDRINFO_SCRIPT = String.raw`import socket, sys
name, family, flags = sys.argv[1], sys.argv[2], sys.argv[3]
fam = {'unspec': socket.AF_UNSPEC, 'inet': socket.AF_INET, 'inet6': socket.AF_INET6}[family]
fl = 0
for f in filter(None, flags.split(',')):
    fl |= {'addrconfig': socket.AI_ADDRCONFIG, 'canonname': socket.AI_CANONNAME, 'numerichost': socket.AI_NUMERICHOST}[f]
try:
    res = socket.getaddrinfo(name, None, fam, 0, 0, fl)
except socket.gaierror as e:
    print('getaddrinfo: %s: %s' % (name, e.strerror), flush=True)
    sys.exit(2)
if fl & socket.AI_CANONNAME and res and res[0][3]:
    print('canonname %s' % res[0][3])
seen = set()
for af, _, _, _, sa in res:
    key = (af, sa[0])
    if key in seen: continue
    seen.add(key)
    print('%s %s' % ('inet' if af == socket.AF_INET else 'inet6', sa[0]))
sys.stdout.flush()
`;

const bounded = (seconds: number): number => Math.min(MAX_DNS_SECONDS, Math.ceil(seconds) + 5);

/**
 * A DNS client step: the argv the kernel runs and its wall-clock bound, or why it is not run.
 * undefined: not a DNS client.
 */
export function planDnsClient(argv: readonly string[]): { argv: readonly string[]; timeoutSec: number } | string | undefined {
  const [program, ...args] = argv;
  if (program === undefined || !DNS_TOOLS.has(program)) return undefined;
  try {
    if (program === 'dig') {
      const o = parseDigArgs(args);
      // dig's defaults: +time=5, +tries=3 (dighost.c); with +search every name of the list.
      const seconds = (o.timeoutSec ?? 5) * (o.tries ?? 3) * (o.search ? NAMES_TRIED : 1);
      return { argv: [DIG, ...args], timeoutSec: bounded(seconds) };
    }
    if (program === 'nslookup') {
      const o = parseNslookupArgs(args);
      // Two lookups (A, then AAAA) of up to every search-list name.
      const seconds = (o.timeoutSec ?? 5) * (o.tries ?? DEFAULT_TRIES) * (o.search ? NAMES_TRIED : 1) * 2;
      return { argv: [NSLOOKUP, ...args], timeoutSec: bounded(seconds) };
    }
    if (program === 'getent') {
      const o = parseGetentArgs(args);
      // glibc: timeout 5 s, 2 attempts, A and AAAA in parallel, per search-list name, per key.
      return { argv: [GETENT, ...args], timeoutSec: bounded(5 * 2 * NAMES_TRIED * Math.max(1, o.keys.length)) };
    }
    const o = parseGetaddrinfoArgs(args);
    const flags = (['addrconfig', 'canonname', 'numerichost'] as const).filter((k) => o.flags[k] === true).join(',');
    return { argv: [PYTHON, '-c', GETADDRINFO_SCRIPT, o.name, o.family, flags], timeoutSec: bounded(5 * 2 * NAMES_TRIED) };
  } catch (e) {
    if (e instanceof UsageError) return `${argv.join(' ')} (${e.message.split('\n')[0] ?? ''})`;
    throw e;
  }
}
