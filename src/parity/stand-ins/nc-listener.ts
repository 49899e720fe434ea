/**
 * `nc -l…` as a container's (or Host's) command on the kernel: the real netcat-openbsd 1.219
 * (Debian 12's, the one podwire emulates in src/apps/nc.ts), with the command line as the
 * scenario gives it — checked first with podwire's own parser, so that what runs is a listener
 * both sides read alike. It runs until parity ends it by PID; its stdin is /dev/null, as a
 * container's is without `stdin: true`. A UDP listener is ready once `ss -lun` shows its socket.
 */
import { UsageError } from '../../apps/app.js';
import { parseNcArgs } from '../../apps/nc.js';
import type { StandIn } from './program.js';

/** The real netcat-openbsd (update-alternatives may point /usr/bin/nc elsewhere). */
export const NC_OPENBSD = '/usr/bin/nc.openbsd';

const NC_NAMES = new Set(['nc', 'netcat', 'nc.openbsd']);

/** A listening nc; a reason for any other nc; undefined for another program. */
export function ncListener(argv: readonly string[]): StandIn | string | undefined {
  const [path, ...args] = argv;
  if (path === undefined || !NC_NAMES.has(path.slice(path.lastIndexOf('/') + 1))) return undefined;
  let o;
  try {
    o = parseNcArgs(args);
  } catch (e) {
    if (e instanceof UsageError) return `${argv.join(' ')} (${e.message.split('\n')[0] ?? ''})`;
    throw e;
  }
  if (!o.listen) return `${argv.join(' ')} (nc as a container's client: only listeners run as long-running programs)`;
  return {
    argv: [NC_OPENBSD, ...args],
    listen: { protocol: o.udp ? 'udp' : 'tcp', port: o.port },
    what: `the real ${NC_OPENBSD}`,
  };
}
