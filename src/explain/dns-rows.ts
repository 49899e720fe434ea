/**
 * Rows for a DNS message past its fixed header: each question's name, type and class, and each
 * record's name, type, class, TTL, RDLENGTH and RDATA (RFC 1035 §4.1). The values come from
 * dns.parse (which follows compression pointers and checks every bound); this walk only finds
 * where each field sits, so it runs after parse succeeded and never reads past what parse read.
 */
import { formatIpv4 } from '../packet/addr.js';
import { u16, u32 } from '../packet/bytes.js';
import * as dns from '../packet/dns.js';
import type { FieldRow } from './model.js';
import { hex, row } from './rows.js';

/** The byte after the name at `p`: its labels up to the root label or the first pointer. */
function skipName(b: Uint8Array, p: number): number {
  for (;;) {
    const len = b[p]!;
    if (len === 0) return p + 1;
    if ((len & 0xc0) === 0xc0) return p + 2;
    p += 1 + len;
  }
}

const className = (c: number): string => (c === dns.CLASS_IN ? 'IN' : c === dns.CLASS_ANY ? 'ANY' : `CLASS${c}`);
const shown = (name: string): string => (name === '' ? '<root>' : name);

export function rdataText(r: dns.DnsRecord): string {
  const d = r.data;
  switch (d.kind) {
    case 'a':
      return formatIpv4(d.address);
    case 'aaaa':
      return dns.formatIpv6(d.address);
    case 'ns':
    case 'cname':
    case 'ptr':
      return shown(d.target);
    case 'mx':
      return `${d.preference} ${shown(d.exchange)}`;
    case 'soa':
      return `${shown(d.mname)} ${shown(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'srv':
      return `${d.priority} ${d.weight} ${d.port} ${shown(d.target)}`;
    case 'txt':
      return d.strings.map((s) => JSON.stringify(s)).join(' ');
    case 'opt':
      return `${d.options.length} EDNS option${d.options.length === 1 ? '' : 's'}`;
    case 'unknown':
      return `${d.raw.length} bytes ${hex(d.raw, 0, d.raw.length)}`;
  }
}

/** `off`: the message's first byte (its header, which annotate covers). */
export function dnsBodyRows(b: Uint8Array, off: number, m: dns.DnsMessage): FieldRow[] {
  const rows: FieldRow[] = [];
  let p = off + dns.HEADER_LEN;
  m.questions.forEach((q, i) => {
    const at = `questions[${i}]`;
    const nameEnd = skipName(b, p);
    rows.push(row(b, `${at}.name`, `Question ${i + 1} name`, p, nameEnd - p, q.name, shown(q.name)));
    rows.push(row(b, `${at}.type`, `Question ${i + 1} type`, nameEnd, 2, q.type, dns.typeName(q.type)));
    rows.push(row(b, `${at}.class`, `Question ${i + 1} class`, nameEnd + 2, 2, q.class, className(q.class)));
    p = nameEnd + 4;
  });
  const sections = [
    ['answers', 'Answer', m.answers],
    ['authorities', 'Authority', m.authorities],
    ['additionals', 'Additional', m.additionals],
  ] as const;
  for (const [key, label, records] of sections) {
    records.forEach((r, i) => {
      const at = `${key}[${i}]`;
      const nameEnd = skipName(b, p);
      const rdlen = u16(b, nameEnd + 8);
      const opt = r.type === dns.TYPE_OPT;
      rows.push(row(b, `${at}.name`, `${label} ${i + 1} name`, p, nameEnd - p, r.name, shown(r.name)));
      rows.push(row(b, `${at}.type`, `${label} ${i + 1} type`, nameEnd, 2, r.type, dns.typeName(r.type)));
      rows.push(opt
        ? row(b, `${at}.class`, `${label} ${i + 1} UDP payload size`, nameEnd + 2, 2, r.class, `${r.class} bytes`)
        : row(b, `${at}.class`, `${label} ${i + 1} class`, nameEnd + 2, 2, r.class, className(r.class)));
      rows.push(opt
        ? row(b, `${at}.ttl`, `${label} ${i + 1} EDNS flags`, nameEnd + 4, 4, u32(b, nameEnd + 4), `0x${u32(b, nameEnd + 4).toString(16).padStart(8, '0')}`)
        : row(b, `${at}.ttl`, `${label} ${i + 1} TTL`, nameEnd + 4, 4, r.ttl, `${r.ttl} s`));
      rows.push(row(b, `${at}.rdlength`, `${label} ${i + 1} RDATA length`, nameEnd + 8, 2, rdlen, `${rdlen} bytes`));
      if (rdlen > 0) rows.push(row(b, `${at}.rdata`, `${label} ${i + 1} RDATA`, nameEnd + 10, rdlen, rdataText(r)));
      p = nameEnd + 10 + rdlen;
    });
  }
  return rows;
}
