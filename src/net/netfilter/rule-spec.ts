/**
 * One rule's argument text (`-s 10.0.0.0/8 -p tcp -m tcp --dport 80 -j ACCEPT`): split as
 * iptables-restore splits a line, parsed into a Rule, and rendered back the way iptables-save
 * v1.8.9 (nf_tables) prints it — iptables/nft-ipv4.c nft_ipv4_save_rule: `-s`, `-d`, then
 * save_rule_details (`-i`, `-o`, `-p`), then save_matches_and_target (each `-m` with the
 * extension's save(), in rule order; then `-j`/`-g` with the target's save()).
 */
import { formatIpv4, parseIpv4, prefixMask } from '../../packet/addr.js';
import {
  ADDR_TYPES, CT_STATE, LOG_FLAGS, REJECT_WITH, chainNameProblem, emptyRule, markTarget, quantizeProbability,
  type AddrMatch, type AddrTypeMatch, type AddrTypeSel, type CtStateName, type IfaceMatch, type LogTarget,
  type Match, type NatRange, type PortRange, type RecentCommand, type RejectWith, type Rule, type Target,
} from './rules.js';

/** A bad rule specification; `message` is one line, without position (the caller adds it). */
export class RuleSpecError extends Error {}

/**
 * Splits like iptables-restore's add_param_to_argv (iptables/xshared.c): whitespace separates;
 * `"` opens and closes a quoted run in which `\` escapes the next character.
 */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let have = false;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '\\' && i + 1 < text.length) cur += text[++i];
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') {
      quoted = true;
      have = true;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (have) out.push(cur);
      cur = '';
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (quoted) throw new RuleSpecError('unterminated quoted string');
  if (have) out.push(cur);
  return out;
}

// ---- value parsers ----

/** xtables_strtoui with base 0: decimal, 0x hex or leading-0 octal, within [0, max]. */
function parseUint(text: string, max: number, what: string): number {
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) v = Number.parseInt(text.slice(2), 16);
  else if (/^0[0-7]*$/.test(text)) v = Number.parseInt(text, 8);
  else if (/^[1-9][0-9]*$/.test(text)) v = Number(text);
  else throw new RuleSpecError(`bad ${what} ${JSON.stringify(text)}`);
  if (!(v <= max)) throw new RuleSpecError(`${what} ${text} out of range (max ${max})`);
  return v;
}

function parseDecimal(text: string, max: number, what: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > max) throw new RuleSpecError(`bad ${what} ${JSON.stringify(text)}`);
  return Number(text);
}

function parseAddr(text: string, what: string): number {
  try {
    return parseIpv4(text);
  } catch {
    throw new RuleSpecError(`bad ${what} address ${JSON.stringify(text)}`);
  }
}

/** `addr[/len|/dotted-mask]`, the address ANDed with the mask (xtables_ipparse_multiple). */
function parseAddrMask(text: string, negated: boolean): AddrMatch | null {
  const slash = text.indexOf('/');
  const addr = parseAddr(slash < 0 ? text : text.slice(0, slash), 'source/destination');
  let mask = 0xffff_ffff;
  if (slash >= 0) {
    const m = text.slice(slash + 1);
    if (m.includes('.')) mask = parseAddr(m, 'mask');
    else mask = prefixMask(parseDecimal(m, 32, 'prefix length'));
  }
  const masked = (addr & mask) >>> 0;
  // "0.0.0.0/0" is no test at all; iptables stores (and prints) nothing for it.
  if (mask === 0 && masked === 0 && !negated) return null;
  return { addr: masked, mask, negated };
}

/** nft-ipv4.c mask_to_str: a prefix length when the mask is contiguous, else dotted. */
function formatAddrMask(a: AddrMatch): string {
  let len = 0;
  while (len <= 32 && prefixMask(len) !== a.mask) len++;
  return `${formatIpv4(a.addr)}/${len <= 32 ? String(len) : formatIpv4(a.mask)}`;
}

/** IFNAMSIZ - 1; a `+` is a wildcard only as the last character. */
function parseIface(text: string, negated: boolean): IfaceMatch | null {
  if (text.length === 0 || text.length > 15) throw new RuleSpecError(`bad interface name ${JSON.stringify(text)}`);
  if (text === '+' && !negated) return null; // "any interface": xshared.c save_iface prints nothing
  return { name: text, negated };
}

/** xtables_chain_protos (libxtables/xtables.c): the names -p accepts and save prints. */
const PROTO_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['tcp', 6], ['sctp', 132], ['udp', 17], ['udplite', 136], ['icmp', 1], ['icmpv6', 58], ['ipv6-icmp', 58],
  ['esp', 50], ['ah', 51], ['ipv6-mh', 135], ['mh', 135], ['all', 0],
];

function parseProto(text: string): number {
  const lower = text.toLowerCase();
  for (const [name, num] of PROTO_NAMES) if (name === lower) return num;
  if (/^[0-9]+$/.test(text)) return parseDecimal(text, 255, 'protocol');
  throw new RuleSpecError(`unknown protocol ${JSON.stringify(text)}`);
}

function protoName(proto: number): string {
  for (const [name, num] of PROTO_NAMES) if (num === proto) return name;
  return String(proto);
}

/** `a`, `a:b`, `a:` (to 65535), `:b` (from 0) — xtables_parse_port / parse_ports. */
function parsePortRange(text: string, negated: boolean): PortRange {
  const colon = text.indexOf(':');
  if (colon < 0) {
    const p = parseDecimal(text, 65535, 'port');
    return { min: p, max: p, negated };
  }
  const a = text.slice(0, colon);
  const b = text.slice(colon + 1);
  const min = a === '' ? 0 : parseDecimal(a, 65535, 'port');
  const max = b === '' ? 65535 : parseDecimal(b, 65535, 'port');
  if (min > max) throw new RuleSpecError(`invalid port range ${text}`);
  return { min, max, negated };
}

function formatPortRange(flag: string, r: PortRange): string {
  if (r.min === 0 && r.max === 65535 && !r.negated) return '';
  const v = r.min === r.max ? String(r.min) : `${r.min}:${r.max}`;
  return `${r.negated ? ' !' : ''} ${flag} ${v}`;
}

/** `value[/mask]` as xtables_parse_mark_mask reads it; the mask defaults to all ones. */
function parseMarkMask(text: string): { value: number; mask: number } {
  const slash = text.indexOf('/');
  if (slash < 0) return { value: parseUint(text, 0xffff_ffff, 'mark'), mask: 0xffff_ffff };
  return { value: parseUint(text.slice(0, slash), 0xffff_ffff, 'mark'), mask: parseUint(text.slice(slash + 1), 0xffff_ffff, 'mask') };
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** The order libxt_conntrack.c print_state prints states in. */
const CT_STATE_ORDER: readonly CtStateName[] = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'];

function parseStates(text: string, allowNat: boolean): number {
  let mask = 0;
  for (const name of text.split(',')) {
    const bit = (CT_STATE as Record<string, number>)[name.toUpperCase()];
    if (bit === undefined || (!allowNat && (name.toUpperCase() === 'SNAT' || name.toUpperCase() === 'DNAT'))) {
      throw new RuleSpecError(`bad conntrack state ${JSON.stringify(name)}`);
    }
    mask |= bit;
  }
  return mask;
}

function formatStates(mask: number): string {
  return CT_STATE_ORDER.filter((s) => (mask & CT_STATE[s]) !== 0).join(',');
}

function parseAddrTypes(text: string): number {
  let mask = 0;
  for (const name of text.split(',')) {
    const i = ADDR_TYPES.indexOf(name.toUpperCase() as (typeof ADDR_TYPES)[number]);
    if (i < 0) throw new RuleSpecError(`bad address type ${JSON.stringify(name)}`);
    mask |= 1 << i;
  }
  return mask;
}

function formatAddrTypes(mask: number): string {
  return ADDR_TYPES.filter((_, i) => (mask & (1 << i)) !== 0).join(',');
}

/**
 * printf("%.11f", v / 2^31) exactly: v/2^31 is a finite binary fraction, so scale by 10^11 in
 * integers and round the remainder half to even, as glibc does for exactly representable values
 * (JavaScript's toFixed would round such ties up).
 */
export function formatProbability(v: number): string {
  const num = BigInt(v) * 100_000_000_000n;
  const den = 0x8000_0000n;
  let q = num / den;
  const r2 = (num % den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  const s = q.toString().padStart(12, '0');
  return `${s.slice(0, -11)}.${s.slice(-11)}`;
}

/** xtables_save_string (libxtables/xtables.c): bare when only [A-Za-z0-9_-], else quoted with `"\'` escaped. */
export function saveString(value: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(value)) return value;
  return `"${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

// ---- NAT ranges ----

function parsePorts(text: string): { min: number; max: number } {
  const dash = text.indexOf('-');
  const min = parseDecimal(dash < 0 ? text : text.slice(0, dash), 65535, 'port');
  const max = dash < 0 ? min : parseDecimal(text.slice(dash + 1), 65535, 'port');
  if (min > max) throw new RuleSpecError(`invalid port range ${text}`);
  return { min, max };
}

/** `ip[-ip][:port[-port]]` (libxt_NAT.c parse_to). */
function parseNatRange(text: string): NatRange {
  const colon = text.indexOf(':');
  const addrText = colon < 0 ? text : text.slice(0, colon);
  let addr: NatRange['addr'] = null;
  if (addrText !== '') {
    const dash = addrText.indexOf('-');
    const min = parseAddr(dash < 0 ? addrText : addrText.slice(0, dash), 'NAT');
    const max = dash < 0 ? min : parseAddr(addrText.slice(dash + 1), 'NAT');
    if (min > max) throw new RuleSpecError(`invalid address range ${addrText}`);
    addr = { min, max };
  }
  const ports = colon < 0 ? null : parsePorts(text.slice(colon + 1));
  if (addr === null && ports === null) throw new RuleSpecError(`bad NAT range ${JSON.stringify(text)}`);
  return { addr, ports };
}

function formatNatRange(r: NatRange): string {
  let s = '';
  if (r.addr !== null) s += formatIpv4(r.addr.min) + (r.addr.max !== r.addr.min ? `-${formatIpv4(r.addr.max)}` : '');
  if (r.ports !== null) s += `:${r.ports.min}${r.ports.max !== r.ports.min ? `-${r.ports.max}` : ''}`;
  return s;
}

// ---- REJECT / LOG names ----

/** reject_table of libipt_REJECT.c: full names plus their short aliases. */
const REJECT_ALIASES: Readonly<Record<string, RejectWith>> = {
  'net-unreach': 'icmp-net-unreachable', 'host-unreach': 'icmp-host-unreachable', 'port-unreach': 'icmp-port-unreachable',
  'proto-unreach': 'icmp-proto-unreachable', 'net-prohib': 'icmp-net-prohibited', 'host-prohib': 'icmp-host-prohibited',
  'tcp-rst': 'tcp-reset', 'admin-prohib': 'icmp-admin-prohibited',
};

const LOG_LEVELS = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'];

/** xt_LOG's prefix array is 30 bytes (29 characters + NUL). */
const LOG_PREFIX_MAX = 29;

// ---- parsing ----

/** Matches and targets by the name `-m` / `-j` takes. */
const MATCH_NAMES = new Set(['tcp', 'udp', 'comment', 'mark', 'conntrack', 'state', 'statistic', 'addrtype', 'recent', 'physdev']);
const TARGET_EXTENSIONS = new Set(['MARK', 'DNAT', 'SNAT', 'MASQUERADE', 'REJECT', 'LOG']);
const VERDICTS = new Set(['ACCEPT', 'DROP', 'RETURN']);

function newMatch(name: string): Match {
  switch (name) {
    case 'tcp':
    case 'udp':
      return { kind: name, sport: null, dport: null };
    case 'comment':
      return { kind: 'comment', text: '' };
    case 'mark':
      return { kind: 'mark', mark: 0, mask: 0xffff_ffff, negated: false };
    case 'conntrack':
      return { kind: 'conntrack', states: 0, negated: false };
    case 'state':
      return { kind: 'state', states: 0, negated: false };
    case 'statistic':
      return { kind: 'statistic', probability: -1, negated: false };
    case 'addrtype':
      return { kind: 'addrtype', src: null, dst: null, limitIfaceIn: false, limitIfaceOut: false };
    case 'recent':
      return { kind: 'recent', command: 'set', negated: false, name: 'DEFAULT', seconds: 0, reap: false, hitcount: 0, rttl: false, mask: 0xffff_ffff, side: 'source' };
    case 'physdev':
      return { kind: 'physdev', isBridged: false, negated: false };
    default:
      throw new RuleSpecError(`unknown match ${JSON.stringify(name)}`);
  }
}

function newTarget(name: string): Target {
  switch (name) {
    case 'MARK':
      return { kind: 'MARK', value: 0, mask: 0xffff_ffff };
    case 'DNAT':
    case 'SNAT':
      return { kind: name, range: { addr: null, ports: null }, random: false, randomFully: false, persistent: false };
    case 'MASQUERADE':
      return { kind: 'MASQUERADE', ports: null, random: false, randomFully: false };
    case 'REJECT':
      return { kind: 'REJECT', with: 'icmp-port-unreachable' };
    case 'LOG':
      return { kind: 'LOG', prefix: '', level: 4, flags: 0 };
    default:
      throw new RuleSpecError(`unknown target ${JSON.stringify(name)}`);
  }
}

interface Cursor {
  readonly args: readonly string[];
  i: number;
}

function value(c: Cursor, opt: string): string {
  const v = c.args[c.i++];
  if (v === undefined) throw new RuleSpecError(`option ${opt} requires an argument`);
  return v;
}

/** Per-extension bookkeeping: which options were given (duplicates and missing ones are errors). */
type Seen = Set<string>;

function once(seen: Seen, opt: string, owner: string): void {
  if (seen.has(opt)) throw new RuleSpecError(`${owner}: ${opt} given twice`);
  seen.add(opt);
}

function noInvert(negated: boolean, opt: string): void {
  if (negated) throw new RuleSpecError(`${opt} cannot be negated`);
}

/** Applies one `--option` to a match; false when the match has no such option. */
function matchOption(m: Match, seen: Seen, opt: string, negated: boolean, c: Cursor): boolean {
  switch (m.kind) {
    case 'tcp':
    case 'udp':
      if (opt === '--sport' || opt === '--source-port') { once(seen, '--sport', m.kind); m.sport = parsePortRange(value(c, opt), negated); return true; }
      if (opt === '--dport' || opt === '--destination-port') { once(seen, '--dport', m.kind); m.dport = parsePortRange(value(c, opt), negated); return true; }
      return false;
    case 'comment':
      if (opt !== '--comment') return false;
      noInvert(negated, opt);
      once(seen, opt, 'comment');
      m.text = value(c, opt);
      if (Buffer.byteLength(m.text) > 255) throw new RuleSpecError('comment longer than 255 bytes');
      return true;
    case 'mark':
      if (opt !== '--mark') return false;
      once(seen, opt, 'mark');
      ({ value: m.mark, mask: m.mask } = parseMarkMask(value(c, opt)));
      m.negated = negated;
      return true;
    case 'conntrack':
      if (opt !== '--ctstate') return false;
      once(seen, opt, 'conntrack');
      m.states = parseStates(value(c, opt), true);
      m.negated = negated;
      return true;
    case 'state':
      if (opt !== '--state') return false;
      once(seen, opt, 'state');
      m.states = parseStates(value(c, opt), false);
      m.negated = negated;
      return true;
    case 'statistic': {
      if (opt === '--mode') {
        noInvert(negated, opt);
        once(seen, opt, 'statistic');
        const mode = value(c, opt);
        if (mode !== 'random') throw new RuleSpecError(`statistic: unsupported mode ${JSON.stringify(mode)}`);
        return true;
      }
      if (opt !== '--probability') return false;
      once(seen, opt, 'statistic');
      const text = value(c, opt);
      const p = /^[0-9]*\.?[0-9]+(e-?[0-9]+)?$/i.test(text) ? Number(text) : Number.NaN;
      if (!(p >= 0 && p <= 1)) throw new RuleSpecError(`statistic: bad probability ${JSON.stringify(text)} (must be within [0, 1])`);
      m.probability = quantizeProbability(p);
      m.negated = negated;
      return true;
    }
    case 'addrtype': {
      if (opt === '--src-type' || opt === '--dst-type') {
        once(seen, opt, 'addrtype');
        const sel: AddrTypeSel = { types: parseAddrTypes(value(c, opt)), negated };
        if (opt === '--src-type') m.src = sel;
        else m.dst = sel;
        return true;
      }
      if (opt === '--limit-iface-in' || opt === '--limit-iface-out') {
        noInvert(negated, opt);
        once(seen, opt, 'addrtype');
        if (opt === '--limit-iface-in') m.limitIfaceIn = true;
        else m.limitIfaceOut = true;
        return true;
      }
      return false;
    }
    case 'recent':
      return recentOption(m, seen, opt, negated, c);
    case 'physdev':
      if (opt !== '--physdev-is-bridged') return false;
      once(seen, opt, 'physdev');
      m.isBridged = true;
      m.negated = negated;
      return true;
  }
}

const RECENT_COMMANDS: Readonly<Record<string, RecentCommand>> = { '--set': 'set', '--rcheck': 'rcheck', '--update': 'update', '--remove': 'remove' };

function recentOption(m: Extract<Match, { kind: 'recent' }>, seen: Seen, opt: string, negated: boolean, c: Cursor): boolean {
  const cmd = RECENT_COMMANDS[opt];
  if (cmd !== undefined) {
    if (seen.has('command')) throw new RuleSpecError('recent: only one of --set, --rcheck, --update or --remove');
    seen.add('command');
    m.command = cmd;
    m.negated = negated;
    return true;
  }
  switch (opt) {
    case '--name': {
      noInvert(negated, opt);
      once(seen, opt, 'recent');
      const name = value(c, opt);
      if (name.length === 0 || name.length > 199) throw new RuleSpecError(`recent: bad --name ${JSON.stringify(name)}`);
      m.name = name;
      return true;
    }
    case '--seconds':
      once(seen, opt, 'recent');
      m.seconds = parseDecimal(value(c, opt), 0xffff_ffff, '--seconds');
      return true;
    case '--hitcount':
      once(seen, opt, 'recent');
      m.hitcount = parseDecimal(value(c, opt), 0xffff_ffff, '--hitcount');
      return true;
    case '--reap':
      once(seen, opt, 'recent');
      m.reap = true;
      return true;
    case '--rttl':
      once(seen, opt, 'recent');
      m.rttl = true;
      return true;
    case '--mask':
      once(seen, opt, 'recent');
      m.mask = parseAddr(value(c, opt), 'recent --mask');
      return true;
    case '--rsource':
    case '--rdest':
      noInvert(negated, opt);
      if (seen.has('side')) throw new RuleSpecError('recent: only one of --rsource or --rdest');
      seen.add('side');
      m.side = opt === '--rsource' ? 'source' : 'dest';
      return true;
    default:
      return false;
  }
}

/** The checks an extension's final_check makes once all its options are in. */
function finishMatch(m: Match, seen: Seen, proto: number | null): void {
  switch (m.kind) {
    case 'tcp':
    case 'udp':
      // The kernel refuses the match unless the rule is for that protocol (xt_check_match).
      if (proto !== (m.kind === 'tcp' ? 6 : 17)) throw new RuleSpecError(`-m ${m.kind} needs -p ${m.kind}`);
      return;
    case 'comment':
      if (!seen.has('--comment')) throw new RuleSpecError('comment: --comment is required');
      return;
    case 'mark':
      if (!seen.has('--mark')) throw new RuleSpecError('mark: --mark is required');
      return;
    case 'conntrack':
      if (!seen.has('--ctstate')) throw new RuleSpecError('conntrack: --ctstate is required (other conntrack options are not modelled)');
      return;
    case 'state':
      if (!seen.has('--state')) throw new RuleSpecError('state: --state is required');
      return;
    case 'statistic':
      if (!seen.has('--mode') || !seen.has('--probability')) throw new RuleSpecError('statistic: --mode random --probability p is required');
      return;
    case 'addrtype':
      if (m.src === null && m.dst === null) throw new RuleSpecError('addrtype: --src-type or --dst-type is required');
      return;
    case 'recent':
      if (!seen.has('command')) throw new RuleSpecError('recent: one of --set, --rcheck, --update or --remove is required');
      if (m.rttl && (m.command === 'set' || m.command === 'remove')) throw new RuleSpecError('recent: --rttl may only be used with --rcheck or --update');
      return;
    case 'physdev':
      if (!m.isBridged) throw new RuleSpecError('physdev: --physdev-is-bridged is required');
      return;
  }
}

const NAT_PORT_PROTOS = new Set([6, 17, 132, 33]);

function targetOption(t: Target, seen: Seen, opt: string, negated: boolean, c: Cursor, proto: number | null): boolean {
  if (t.kind === 'verdict' || t.kind === 'jump') return false;
  if (negated) throw new RuleSpecError(`${opt} cannot be negated`);
  switch (t.kind) {
    case 'MARK': {
      const ops = ['--set-xmark', '--set-mark', '--and-mark', '--or-mark', '--xor-mark'];
      if (!ops.includes(opt)) return false;
      if (seen.size > 0) throw new RuleSpecError('MARK: only one of --set-xmark, --set-mark, --and-mark, --or-mark or --xor-mark');
      seen.add(opt);
      const text = value(c, opt);
      let m: Target;
      if (opt === '--set-xmark' || opt === '--set-mark') {
        const vm = parseMarkMask(text);
        m = markTarget(opt === '--set-xmark' ? 'set-xmark' : 'set-mark', vm.value, vm.mask);
      } else {
        m = markTarget(opt.slice(2) as 'and-mark' | 'or-mark' | 'xor-mark', parseUint(text, 0xffff_ffff, 'mark'));
      }
      t.value = m.value;
      t.mask = m.mask;
      return true;
    }
    case 'DNAT':
    case 'SNAT': {
      const rangeOpt = t.kind === 'DNAT' ? '--to-destination' : '--to-source';
      if (opt === rangeOpt) {
        once(seen, opt, t.kind);
        t.range = parseNatRange(value(c, opt));
        if (t.range.ports !== null && (proto === null || !NAT_PORT_PROTOS.has(proto))) {
          throw new RuleSpecError(`${t.kind}: need TCP, UDP, SCTP or DCCP with port specification`);
        }
        return true;
      }
      if (opt === '--random' || opt === '--persistent' || (opt === '--random-fully' && t.kind === 'SNAT')) {
        once(seen, opt, t.kind);
        if (opt === '--random') t.random = true;
        else if (opt === '--persistent') t.persistent = true;
        else t.randomFully = true;
        return true;
      }
      return false;
    }
    case 'MASQUERADE':
      if (opt === '--to-ports') {
        once(seen, opt, 'MASQUERADE');
        if (proto === null || !NAT_PORT_PROTOS.has(proto)) throw new RuleSpecError('MASQUERADE: --to-ports needs TCP, UDP, SCTP or DCCP');
        t.ports = parsePorts(value(c, opt));
        return true;
      }
      if (opt === '--random' || opt === '--random-fully') {
        once(seen, opt, 'MASQUERADE');
        if (opt === '--random') t.random = true;
        else t.randomFully = true;
        return true;
      }
      return false;
    case 'REJECT': {
      if (opt !== '--reject-with') return false;
      once(seen, opt, 'REJECT');
      const name = value(c, opt);
      const w = (REJECT_WITH as readonly string[]).includes(name) ? (name as RejectWith) : REJECT_ALIASES[name];
      if (w === undefined) throw new RuleSpecError(`REJECT: unknown --reject-with ${JSON.stringify(name)}`);
      if (w === 'tcp-reset' && proto !== 6) throw new RuleSpecError('REJECT: tcp-reset needs -p tcp');
      t.with = w;
      return true;
    }
    case 'LOG':
      return logOption(t, seen, opt, c);
  }
}

function logOption(t: LogTarget, seen: Seen, opt: string, c: Cursor): boolean {
  const flag = ({
    '--log-tcp-sequence': LOG_FLAGS.TCPSEQ, '--log-tcp-options': LOG_FLAGS.TCPOPT, '--log-ip-options': LOG_FLAGS.IPOPT,
    '--log-uid': LOG_FLAGS.UID, '--log-macdecode': LOG_FLAGS.MACDECODE,
  } as Record<string, number>)[opt];
  if (flag !== undefined) {
    once(seen, opt, 'LOG');
    t.flags |= flag;
    return true;
  }
  if (opt === '--log-prefix') {
    once(seen, opt, 'LOG');
    t.prefix = value(c, opt);
    if (t.prefix.length > LOG_PREFIX_MAX) throw new RuleSpecError(`LOG: --log-prefix longer than ${LOG_PREFIX_MAX} characters`);
    return true;
  }
  if (opt === '--log-level') {
    once(seen, opt, 'LOG');
    const v = value(c, opt);
    const i = LOG_LEVELS.indexOf(v.toLowerCase());
    t.level = i >= 0 ? i : parseDecimal(v, 7, 'log level');
    return true;
  }
  return false;
}

function finishTarget(t: Target, seen: Seen): void {
  if (t.kind === 'MARK' && seen.size === 0) throw new RuleSpecError('MARK: one of --set-xmark, --set-mark, --and-mark, --or-mark or --xor-mark is required');
  if ((t.kind === 'DNAT' || t.kind === 'SNAT') && !seen.has(t.kind === 'DNAT' ? '--to-destination' : '--to-source')) {
    throw new RuleSpecError(`${t.kind}: ${t.kind === 'DNAT' ? '--to-destination' : '--to-source'} is required`);
  }
}

/**
 * Parses a rule's arguments (everything after `-A CHAIN`). Jump targets are not checked against
 * declared chains here — the caller knows the table.
 */
export function parseRuleSpec(args: readonly string[]): Rule {
  const rule = emptyRule();
  const c: Cursor = { args, i: 0 };
  const loaded: Array<{ m: Match; seen: Seen }> = [];
  let target: { t: Target; seen: Seen } | null = null;
  let negate = false;
  const header = new Set<string>();
  const headerOnce = (name: string): void => {
    if (header.has(name)) throw new RuleSpecError(`multiple ${name} flags not allowed`);
    header.add(name);
  };
  while (c.i < args.length) {
    const tok = args[c.i++] as string;
    if (tok === '!') {
      if (negate) throw new RuleSpecError('multiple consecutive ! not allowed');
      negate = true;
      continue;
    }
    const negated = negate;
    negate = false;
    switch (tok) {
      case '-s': case '--source': case '--src':
        headerOnce('-s');
        rule.src = parseAddrMask(value(c, tok), negated);
        continue;
      case '-d': case '--destination': case '--dst':
        headerOnce('-d');
        rule.dst = parseAddrMask(value(c, tok), negated);
        continue;
      case '-i': case '--in-interface':
        headerOnce('-i');
        rule.inIface = parseIface(value(c, tok), negated);
        continue;
      case '-o': case '--out-interface':
        headerOnce('-o');
        rule.outIface = parseIface(value(c, tok), negated);
        continue;
      case '-p': case '--protocol': {
        headerOnce('-p');
        const proto = parseProto(value(c, tok));
        if (proto === 0 && negated) throw new RuleSpecError('rule would never match protocol');
        rule.protocol = proto === 0 ? null : { proto, negated };
        continue;
      }
      case '-m': case '--match': {
        noInvert(negated, tok);
        const name = value(c, tok);
        if (!MATCH_NAMES.has(name)) throw new RuleSpecError(`unknown match ${JSON.stringify(name)}`);
        const m = newMatch(name);
        rule.matches.push(m);
        loaded.push({ m, seen: new Set() });
        continue;
      }
      case '-j': case '--jump': case '-g': case '--goto': {
        noInvert(negated, tok);
        if (target !== null) throw new RuleSpecError('multiple -j/-g flags not allowed');
        const name = value(c, tok);
        const isGoto = tok === '-g' || tok === '--goto';
        let t: Target;
        if (VERDICTS.has(name) && !isGoto) t = { kind: 'verdict', verdict: name as 'ACCEPT' | 'DROP' | 'RETURN' };
        else if (TARGET_EXTENSIONS.has(name) && !isGoto) t = newTarget(name);
        else {
          // Anything else names a chain; the caller checks it is declared in the table
          // (an unmodelled extension target such as CONNMARK fails there).
          const problem = chainNameProblem(name);
          if (problem !== null) throw new RuleSpecError(problem);
          if (VERDICTS.has(name) || TARGET_EXTENSIONS.has(name)) throw new RuleSpecError(`cannot goto ${name}`);
          t = { kind: 'jump', chain: name, goto: isGoto };
        }
        rule.target = t;
        target = { t, seen: new Set() };
        continue;
      }
      default:
        break;
    }
    if (!tok.startsWith('--')) throw new RuleSpecError(`unexpected argument ${JSON.stringify(tok)}`);
    const proto = rule.protocol !== null && !rule.protocol.negated ? rule.protocol.proto : null;
    if (target !== null && targetOption(target.t, target.seen, tok, negated, c, proto)) continue;
    let taken = false;
    for (let k = loaded.length - 1; k >= 0 && !taken; k--) {
      const l = loaded[k] as { m: Match; seen: Seen };
      taken = matchOption(l.m, l.seen, tok, negated, c);
    }
    if (taken) continue;
    // iptables loads the protocol's match implicitly for its options (`-p tcp --dport 80`).
    if (proto === 6 || proto === 17) {
      const m = newMatch(proto === 6 ? 'tcp' : 'udp');
      const seen: Seen = new Set();
      if (matchOption(m, seen, tok, negated, c)) {
        rule.matches.push(m);
        loaded.push({ m, seen });
        continue;
      }
    }
    throw new RuleSpecError(`unknown option ${JSON.stringify(tok)}`);
  }
  if (negate) throw new RuleSpecError('! at the end of the rule');
  const proto = rule.protocol !== null && !rule.protocol.negated ? rule.protocol.proto : null;
  for (const l of loaded) finishMatch(l.m, l.seen, proto);
  if (target !== null) finishTarget(target.t, target.seen);
  return rule;
}

// ---- rendering ----

function renderAddr(flag: string, a: AddrMatch | null): string {
  if (a === null || (a.mask === 0 && a.addr === 0 && !a.negated)) return '';
  return `${a.negated ? ' !' : ''} ${flag} ${formatAddrMask(a)}`;
}

function renderIface(flag: string, i: IfaceMatch | null): string {
  if (i === null || (i.name === '+' && !i.negated)) return '';
  return `${i.negated ? ' !' : ''} ${flag} ${i.name}`;
}

function renderAddrTypeSel(flag: string, s: AddrTypeSel | null): string {
  if (s === null || s.types === 0) return '';
  return `${s.negated ? ' !' : ''} ${flag} ${formatAddrTypes(s.types)}`;
}

/** The extension's save() output, starting with a space (or empty). */
function renderMatchOptions(m: Match): string {
  switch (m.kind) {
    case 'tcp':
    case 'udp':
      // libxt_tcp.c tcp_save / libxt_udp.c udp_save: sport, then dport.
      return (m.sport ? formatPortRange('--sport', m.sport) : '') + (m.dport ? formatPortRange('--dport', m.dport) : '');
    case 'comment':
      return ` --comment ${saveString(m.text)}`;
    case 'mark':
      // libxt_mark.c mark_mt_save / print_mark: the mask only when not all ones.
      return `${m.negated ? ' !' : ''} --mark ${hex(m.mark)}${m.mask !== 0xffff_ffff ? `/${hex(m.mask)}` : ''}`;
    case 'conntrack':
      return `${m.negated ? ' !' : ''} --ctstate ${formatStates(m.states)}`;
    case 'state':
      return `${m.negated ? ' !' : ''} --state ${formatStates(m.states)}`;
    case 'statistic':
      // libxt_statistic.c print_match: "--mode random[ !] --probability %.11f".
      return ` --mode random${m.negated ? ' !' : ''} --probability ${formatProbability(m.probability)}`;
    case 'addrtype':
      return renderAddrTypeSel('--src-type', m.src) + renderAddrTypeSel('--dst-type', m.dst) +
        (m.limitIfaceIn ? ' --limit-iface-in' : '') + (m.limitIfaceOut ? ' --limit-iface-out' : '');
    case 'recent':
      // libxt_recent.c recent_save: the IPv4 --mask is always printed, all-ones included (seen from
      // the real iptables-save 1.8.9 in the acceptance test's namespace).
      return `${m.negated ? ' !' : ''} --${m.command}` +
        (m.seconds !== 0 ? ` --seconds ${m.seconds}` : '') + (m.reap ? ' --reap' : '') +
        (m.hitcount !== 0 ? ` --hitcount ${m.hitcount}` : '') + (m.rttl ? ' --rttl' : '') +
        ` --name ${m.name} --mask ${formatIpv4(m.mask)}` +
        (m.side === 'source' ? ' --rsource' : ' --rdest');
    case 'physdev':
      return m.isBridged ? `${m.negated ? ' !' : ''} --physdev-is-bridged` : '';
  }
}

function renderTarget(t: Target): string {
  switch (t.kind) {
    case 'verdict':
      return ` -j ${t.verdict}`;
    case 'jump':
      return ` -${t.goto ? 'g' : 'j'} ${t.chain}`;
    case 'MARK':
      // libxt_MARK.c mark_tg_save: every spelling is saved as --set-xmark.
      return ` -j MARK --set-xmark ${hex(t.value)}${t.mask !== 0xffff_ffff ? `/${hex(t.mask)}` : ''}`;
    case 'DNAT':
    case 'SNAT':
      return ` -j ${t.kind} ${t.kind === 'DNAT' ? '--to-destination' : '--to-source'} ${formatNatRange(t.range)}` +
        (t.random ? ' --random' : '') + (t.randomFully ? ' --random-fully' : '') + (t.persistent ? ' --persistent' : '');
    case 'MASQUERADE':
      return ' -j MASQUERADE' +
        (t.ports !== null ? ` --to-ports ${t.ports.min}${t.ports.max !== t.ports.min ? `-${t.ports.max}` : ''}` : '') +
        (t.random ? ' --random' : '') + (t.randomFully ? ' --random-fully' : '');
    case 'REJECT':
      return ` -j REJECT --reject-with ${t.with}`;
    case 'LOG':
      // libxt_LOG.c LOG_save: prefix only when set, level only when not the default (4).
      return ' -j LOG' + (t.prefix !== '' ? ` --log-prefix ${saveString(t.prefix)}` : '') +
        (t.level !== 4 ? ` --log-level ${t.level}` : '') +
        ((t.flags & LOG_FLAGS.TCPSEQ) !== 0 ? ' --log-tcp-sequence' : '') +
        ((t.flags & LOG_FLAGS.TCPOPT) !== 0 ? ' --log-tcp-options' : '') +
        ((t.flags & LOG_FLAGS.IPOPT) !== 0 ? ' --log-ip-options' : '') +
        ((t.flags & LOG_FLAGS.UID) !== 0 ? ' --log-uid' : '') +
        ((t.flags & LOG_FLAGS.MACDECODE) !== 0 ? ' --log-macdecode' : '');
  }
}

/** The rule's text after `-A CHAIN`, starting with a space (empty for a rule matching everything with no target). */
export function renderRuleSpec(rule: Rule): string {
  let s = renderAddr('-s', rule.src) + renderAddr('-d', rule.dst) + renderIface('-i', rule.inIface) + renderIface('-o', rule.outIface);
  if (rule.protocol !== null && rule.protocol.proto !== 0) s += `${rule.protocol.negated ? ' !' : ''} -p ${protoName(rule.protocol.proto)}`;
  for (const m of rule.matches) s += ` -m ${m.kind}${renderMatchOptions(m)}`;
  if (rule.target !== null) s += renderTarget(rule.target);
  return s;
}
