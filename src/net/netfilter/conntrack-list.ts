/**
 * `conntrack -L` (conntrack-tools) as it prints the table: one line per entry in the default
 * output format of libnetfilter_conntrack's snprintf_default — protocol name padded to 8 and
 * number, the remaining seconds, the TCP state, the original tuple, [UNREPLIED] when no reply has
 * been seen, the reply tuple, [ASSURED], mark and use. Only confirmed, unexpired entries are
 * shown (ctnetlink_dump_table walks the hash, which holds only confirmed ones, and skips expired).
 *
 * Order: the kernel dumps in hash-bucket order, which depends on a boot-time random key; this
 * renders in the order the entries were created, which is stable for a given run.
 */
import * as ipv4 from '../../packet/ipv4.js';
import { ConntrackTable, IPS, type CtEntry } from './conntrack.js';
import { TCP_STATE_NAMES } from './conntrack-tcp.js';
import { formatTuple } from './conntrack-tuple.js';

function protoName(proto: number): string {
  switch (proto) {
    case ipv4.PROTO_TCP:
      return 'tcp';
    case ipv4.PROTO_UDP:
      return 'udp';
    case ipv4.PROTO_ICMP:
      return 'icmp';
    default:
      return 'unknown';
  }
}

/** One entry's line, without the newline. */
export function renderConntrackEntry(e: CtEntry, nowNs: number): string {
  const proto = e.original.proto;
  let line = `${protoName(proto).padEnd(8)} ${proto} ${ConntrackTable.remainingSeconds(e, nowNs)} `;
  if (e.tcp !== null) line += `${TCP_STATE_NAMES[e.tcp.state] ?? 'NONE'} `;
  line += `${formatTuple(e.original)} `;
  if (!e.has(IPS.SEEN_REPLY)) line += '[UNREPLIED] ';
  line += `${formatTuple(e.reply)} `;
  if (e.has(IPS.ASSURED)) line += '[ASSURED] ';
  return `${line}mark=${e.mark} use=${e.use}`;
}

/** The standard output of `conntrack -L` at `nowNs`: every live entry, one per line. */
export function renderConntrackList(table: ConntrackTable, nowNs: number): string {
  let out = '';
  for (const e of table.entries()) {
    // Unconfirmed entries are not in the kernel's hash yet, expired ones are skipped by the dump.
    if (!e.has(IPS.CONFIRMED) || e.deadlineNs <= nowNs) continue;
    out += `${renderConntrackEntry(e, nowNs)}\n`;
  }
  return out;
}
