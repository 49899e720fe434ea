/**
 * `getent ahosts|ahostsv4 KEY…` (glibc 2.36 nss/getent.c, ahosts_keys_int): getaddrinfo with
 * AI_ADDRCONFIG | AI_CANONNAME (AF_UNSPEC, or AF_INET for ahostsv4) and no socket type, so each
 * address comes three times — STREAM, DGRAM, RAW — printed `%-15s %-6s %s\n` with the canonical
 * name on the first line only. Exit 2 when a key is not found (the others still print).
 */
import { UsageError, type App, type AppContext } from './app.js';
import { resolverFor } from './glibc-resolver.js';
import { formatAddress, type GaiFamily } from './resolver.js';

export interface GetentOptions {
  readonly database: 'ahosts' | 'ahostsv4';
  readonly keys: readonly string[];
}

export function parseGetentArgs(args: readonly string[]): GetentOptions {
  const [db, ...keys] = args;
  if (db === undefined) throw new UsageError('Usage: getent [OPTION...] database [key ...]\nTry `getent --help\' or `getent --usage\' for more information.', 1);
  if (db !== 'ahosts' && db !== 'ahostsv4') throw new UsageError(`podwire: getent ${db} is not emulated (only ahosts, ahostsv4)`, 1);
  return { database: db, keys };
}

const SOCKTYPES = ['STREAM', 'DGRAM', 'RAW'] as const;

export class Getent implements App {
  constructor(readonly opts: GetentOptions) {}

  start(ctx: AppContext): void {
    const family: GaiFamily = this.opts.database === 'ahostsv4' ? 'inet' : 'unspec';
    let status = 0;
    const next = (i: number) => {
      const key = this.opts.keys[i];
      if (key === undefined) return ctx.exit(status);
      resolverFor(ctx).getaddrinfo(key, { family, flags: { addrconfig: true, canonname: true } }, (r) => {
        if (!r.ok) status = 2;
        else {
          let first = true;
          for (const a of r.addresses) {
            for (const t of SOCKTYPES) {
              ctx.stdout(`${formatAddress(a).padEnd(15)} ${t.padEnd(6)} ${first ? (r.canonname ?? '') : ''}\n`);
              first = false;
            }
          }
        }
        next(i + 1);
      });
    };
    // Without keys getent enumerates the database (setaddrinfo has none: nothing printed).
    next(0);
  }
}
