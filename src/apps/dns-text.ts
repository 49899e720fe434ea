/**
 * DNS records as BIND prints them (lib/dns/masterdump.c and rdata/*): owner, TTL, class, type and
 * RDATA in columns, each column reached by indent() — tabs of 8 to the column, then spaces, and at
 * least one blank when the text before already reaches it. dig's default style puts the TTL at
 * column 24, the class at 32, the type at 40, the RDATA at 48; a question line (after dig's `;`)
 * has the class at 32 and the type at 40.
 */
import * as dns from '../packet/dns.js';
import { formatIpv4 } from '../packet/addr.js';

export interface Columns {
  readonly ttl: number;
  readonly cls: number;
  readonly type: number;
  readonly rdata: number;
}

/** dig's dns_master_stylecreate(…, 24, 32, 40, 48, 80, 8, …). */
export const DIG_COLUMNS: Columns = { ttl: 24, cls: 32, type: 40, rdata: 48 };
const TAB = 8;

/** masterdump.c indent(): from column `from` to `to` (at least one blank); returns the text. */
function indent(from: number, to: number): { text: string; col: number } {
  if (to < from + 1) to = from + 1;
  const ntabs = Math.max(0, Math.floor(to / TAB) - Math.floor(from / TAB));
  let f = from;
  let text = '';
  if (ntabs > 0) {
    text = '\t'.repeat(ntabs);
    f = Math.floor(to / TAB) * TAB;
  }
  return { text: text + ' '.repeat(Math.max(0, to - f)), col: to };
}

/** A name as dns_name_totext writes it: absolute, with its final dot (`.` for the root). */
export function absName(name: string): string {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  return n === '' ? '.' : `${n}.`;
}

export function className(cls: number): string {
  return cls === dns.CLASS_IN ? 'IN' : cls === dns.CLASS_ANY ? 'ANY' : `CLASS${cls}`;
}

/** TXT character-strings (txt_totext): quoted, `"` and `\` escaped, other non-printables as \DDD. */
function txtString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) out += `\\${s[i]}`;
    else if (c < 0x20 || c > 0x7e) out += `\\${String(c).padStart(3, '0')}`;
    else out += s[i];
  }
  return `${out}"`;
}

/** dns_rdata_totext, single-line style. */
export function rdataText(rr: dns.DnsRecord): string {
  const d = rr.data;
  switch (d.kind) {
    case 'a':
      return formatIpv4(d.address);
    case 'aaaa':
      return dns.formatIpv6(d.address);
    case 'ns':
    case 'cname':
    case 'ptr':
      return absName(d.target);
    case 'mx':
      return `${d.preference} ${absName(d.exchange)}`;
    case 'soa':
      return `${absName(d.mname)} ${absName(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'srv':
      return `${d.priority} ${d.weight} ${d.port} ${absName(d.target)}`;
    case 'txt':
      return d.strings.map(txtString).join(' ');
    case 'opt':
    case 'unknown': {
      // RFC 3597 §5 generic form.
      const raw = d.kind === 'unknown' ? d.raw : new Uint8Array(0);
      return raw.length === 0 ? '\\# 0' : `\\# ${raw.length} ${[...raw].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join('')}`;
    }
  }
}

/** One record line (rdataset_totext) with its newline. */
export function recordLine(rr: dns.DnsRecord, cols: Columns = DIG_COLUMNS): string {
  let out = absName(rr.name);
  let col = out.length;
  const field = (to: number, text: string) => {
    const ind = indent(col, to);
    out += ind.text + text;
    col = ind.col + text.length;
  };
  field(cols.ttl, String(rr.ttl));
  field(cols.cls, className(rr.class));
  field(cols.type, dns.typeName(rr.type));
  field(cols.rdata, rdataText(rr));
  return `${out}\n`;
}

/** A question line (question_totext), without dig's leading `;`, with its newline. */
export function questionLine(q: dns.DnsQuestion, cols: Columns = DIG_COLUMNS): string {
  let out = absName(q.name);
  let col = out.length;
  const field = (to: number, text: string) => {
    const ind = indent(col, to);
    out += ind.text + text;
    col = ind.col + text.length;
  };
  field(cols.cls, className(q.class));
  field(cols.type, dns.typeName(q.type));
  return `${out}\n`;
}
