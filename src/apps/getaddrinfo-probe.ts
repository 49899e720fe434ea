/**
 * `getaddrinfo`: podwire's own probe step — the plain library call, as the kernel reference "dns"
 * was taken with (Python's socket.getaddrinfo(name, None): AF_UNSPEC, no flags → A and AAAA).
 *
 *   getaddrinfo NAME [--family inet|inet6|unspec] [--flags ADDRCONFIG,CANONNAME,NUMERICHOST]
 *
 * It calls getaddrinfo(NAME, NULL, {family, flags}) once through the container's resolver
 * (glibc-resolver.ts: /etc/hosts, then DNS per /etc/resolv.conf) and prints one line per address,
 * `inet 10.96.0.100` (first, with CANONNAME, `canonname NAME`), exit 0; on failure one line
 * `getaddrinfo: NAME: <gai_strerror>`, exit 2. Default family unspec, no flags.
 */
import { UsageError, type App, type AppContext } from './app.js';
import { resolverFor } from './glibc-resolver.js';
import { formatAddress, GAI_STRERROR, type GaiFamily, type GaiFlags } from './resolver.js';

export interface GetaddrinfoOptions {
  readonly name: string;
  readonly family: GaiFamily;
  readonly flags: GaiFlags;
}

export const GETADDRINFO_USAGE = 'usage: getaddrinfo NAME [--family inet|inet6|unspec] [--flags ADDRCONFIG,CANONNAME,NUMERICHOST]';

export function parseGetaddrinfoArgs(args: readonly string[]): GetaddrinfoOptions {
  const usage = (why: string) => new UsageError(`getaddrinfo: ${why}\n${GETADDRINFO_USAGE}`, 2);
  let name: string | undefined;
  let family: GaiFamily = 'unspec';
  const flags: { addrconfig?: boolean; canonname?: boolean; numerichost?: boolean } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const value = () => (a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : args[++i]);
    if (flag === '--family') {
      const v = value();
      if (v !== 'inet' && v !== 'inet6' && v !== 'unspec') throw usage(`--family is inet, inet6 or unspec, not '${v ?? ''}'`);
      family = v;
    } else if (flag === '--flags') {
      for (const f of (value() ?? '').split(',').filter(Boolean)) {
        const k = f.toUpperCase().replace(/^AI_/, '');
        if (k === 'ADDRCONFIG') flags.addrconfig = true;
        else if (k === 'CANONNAME') flags.canonname = true;
        else if (k === 'NUMERICHOST') flags.numerichost = true;
        else throw usage(`unknown flag '${f}' (ADDRCONFIG, CANONNAME, NUMERICHOST)`);
      }
    } else if (a.startsWith('-')) throw usage(`unknown option '${flag}'`);
    else if (name === undefined) name = a;
    else throw usage(`one name only ('${name}', then '${a}')`);
  }
  if (name === undefined) throw usage('the NAME is missing');
  return { name, family, flags };
}

export class GetaddrinfoProbe implements App {
  constructor(readonly opts: GetaddrinfoOptions) {}

  start(ctx: AppContext): void {
    const o = this.opts;
    resolverFor(ctx).getaddrinfo(o.name, { family: o.family, flags: o.flags }, (r) => {
      if (!r.ok) {
        ctx.stdout(`getaddrinfo: ${o.name}: ${GAI_STRERROR[r.error]}\n`);
        return ctx.exit(2);
      }
      if (r.canonname !== undefined) ctx.stdout(`canonname ${r.canonname}\n`);
      for (const a of r.addresses) ctx.stdout(`${a.family} ${formatAddress(a)}\n`);
      ctx.exit(0);
    });
  }
}
