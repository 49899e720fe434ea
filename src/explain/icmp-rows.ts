/**
 * ICMP's rows: the fixed table's type, code and checksum, with the code named (RFC 792, RFC 1812)
 * and the second word split as the type defines it — echo identifier and sequence number, the
 * next-hop MTU of "fragmentation needed" (RFC 1191 §4), the gateway of a redirect.
 */
import { formatIpv4, readIpv4 } from '../packet/addr.js';
import { u16, u32 } from '../packet/bytes.js';
import * as icmp from '../packet/icmp.js';
import { icmpChecksum } from './checksums.js';
import type { FieldRow } from './model.js';
import { amend, annotatePresent, replaceRow, row } from './rows.js';

const TYPES: Readonly<Record<number, string>> = {
  0: 'Echo reply', 3: 'Destination unreachable', 4: 'Source quench', 5: 'Redirect', 8: 'Echo request',
  11: 'Time exceeded', 12: 'Parameter problem', 13: 'Timestamp', 14: 'Timestamp reply',
};

const CODES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  3: {
    0: 'net unreachable', 1: 'host unreachable', 2: 'protocol unreachable', 3: 'port unreachable',
    4: "fragmentation needed and DF set", 5: 'source route failed', 6: 'destination network unknown',
    7: 'destination host unknown', 9: 'network administratively prohibited', 10: 'host administratively prohibited',
    13: 'communication administratively prohibited',
  },
  5: { 0: 'for the network', 1: 'for the host', 2: 'for the ToS and network', 3: 'for the ToS and host' },
  11: { 0: 'TTL exceeded in transit', 1: 'fragment reassembly time exceeded' },
};

/**
 * Rows for the ICMP header at `off`, the message ending at `end`. The checksum covers the whole
 * message, so it is verified only when `verify` (not for a quoted message, which is cut short).
 */
export function icmpRows(b: Uint8Array, off: number, end: number, verify: boolean): { fields: FieldRow[]; problems: string[]; name: string } {
  const fields = annotatePresent('icmp', b, off, end);
  const problems: string[] = [];
  if (off + 2 > end) return { fields, problems, name: 'ICMP' };
  const type = b[off]!;
  const code = b[off + 1]!;
  amend(fields, 'type', TYPES[type] ?? 'unknown');
  const codeName = CODES[type]?.[code];
  if (codeName) amend(fields, 'code', codeName);
  if (off + icmp.HEADER_LEN <= end) {
    if (verify) {
      const v = icmpChecksum(b, off, end);
      amend(fields, 'checksum', v.meaning);
      if (v.problem) problems.push(v.problem);
    } else {
      amend(fields, 'checksum', `0x${u16(b, off + 2).toString(16).padStart(4, '0')} (not verified: the quote holds only part of the message)`);
    }
    if (icmp.isEcho(type)) {
      replaceRow(fields, 'rest', [
        row(b, 'echoId', 'Identifier', off + 4, 2, u16(b, off + 4), `0x${u16(b, off + 4).toString(16).padStart(4, '0')}`),
        row(b, 'echoSeq', 'Sequence number', off + 6, 2, u16(b, off + 6)),
      ]);
    } else if (type === icmp.TYPE_DEST_UNREACHABLE && code === icmp.FRAGMENTATION_NEEDED) {
      replaceRow(fields, 'rest', [
        row(b, 'unused', 'Unused', off + 4, 2, u16(b, off + 4)),
        row(b, 'nextHopMtu', 'Next-hop MTU', off + 6, 2, u16(b, off + 6), `${u16(b, off + 6)} bytes`),
      ]);
    } else if (type === icmp.TYPE_REDIRECT) {
      replaceRow(fields, 'rest', [row(b, 'gateway', 'Gateway address', off + 4, 4, formatIpv4(readIpv4(b, off + 4)))]);
    } else if (icmp.isErrorType(type)) {
      const unused = u32(b, off + 4);
      replaceRow(fields, 'rest', [row(b, 'unused', 'Unused', off + 4, 4, unused, unused === 0 ? 'zero' : 'not zero')]);
    }
  }
  const extra = icmp.isEcho(type) && off + 8 <= end ? ` id ${u16(b, off + 4)} seq ${u16(b, off + 6)}` : codeName ? ` (${codeName})` : '';
  return { fields, problems, name: `ICMP ${TYPES[type] ?? `type ${type}`}${extra}` };
}
