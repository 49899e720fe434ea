/**
 * Netfilter rules as plain data: the four iptables tables (filter, mangle, raw, nat), their
 * built-in chains on the five hooks, user chains, and rules made of an address/interface/protocol
 * header, an ordered list of extension matches and one target.
 *
 * Values are kept the way the kernel's xt structures keep them (that is what iptables-save prints
 * from): addresses with a u32 mask, the statistic probability quantized to u32, MARK as the
 * canonical (value, mask) pair of xt_mark_tginfo2, conntrack states as the xt_conntrack bitmask.
 * No evaluation here — later layers walk this model.
 */

/** The netfilter hooks, numbered as enum nf_inet_hooks (include/uapi/linux/netfilter.h). */
export const HOOKS = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'] as const;
export type HookName = (typeof HOOKS)[number];

export type TableName = 'filter' | 'mangle' | 'raw' | 'nat';

/**
 * The order iptables-nft 1.8.9 prints tables in: enum nft_table_type (iptables/nft.h:
 * MANGLE, SECURITY, RAW, FILTER, NAT; security is not modelled) — what the real iptables-save
 * printed in the acceptance test's namespace.
 */
export const TABLE_ORDER: readonly TableName[] = ['mangle', 'raw', 'filter', 'nat'];

/** Built-in chains per table, in hook order (the order of builtin_table.chains in iptables/nft.c). */
export const BUILTIN_CHAINS: Readonly<Record<TableName, readonly HookName[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
};

/**
 * Hook priorities, enum nf_ip_hook_priorities (include/uapi/linux/netfilter_ipv4.h): lower runs
 * first. nat is DNAT (-100) on PREROUTING/OUTPUT and SNAT (100) on INPUT/POSTROUTING; conntrack
 * itself sits at -200 (after raw, before mangle).
 */
export const NF_IP_PRI_CONNTRACK = -200;
export function hookPriority(table: TableName, hook: HookName): number {
  switch (table) {
    case 'raw':
      return -300;
    case 'mangle':
      return -150;
    case 'nat':
      return hook === 'PREROUTING' || hook === 'OUTPUT' ? -100 : 100;
    case 'filter':
      return 0;
  }
}

/** Packet and byte counters (struct xt_counters); numbers, exact up to 2^53. */
export interface Counters {
  packets: number;
  bytes: number;
}

export type Policy = 'ACCEPT' | 'DROP';

export interface Chain {
  readonly name: string;
  /** Built-in chains have a policy and chain counters; user chains have neither (printed `-`). */
  readonly builtin: boolean;
  policy: Policy | null;
  readonly counters: Counters;
  readonly rules: Rule[];
}

export interface Table {
  readonly name: TableName;
  /** Built-in chains are always present; user chains are added and removed by name. */
  readonly chains: Map<string, Chain>;
}

export interface Ruleset {
  readonly tables: Map<TableName, Table>;
}

// ---- rule header (struct ipt_ip) ----

/** `[!] -s/-d addr[/mask]`; `addr` already ANDed with `mask` as iptables stores it. */
export interface AddrMatch {
  addr: number;
  mask: number;
  negated: boolean;
}

/** `[!] -i/-o name`; a trailing `+` matches every interface with that prefix. */
export interface IfaceMatch {
  name: string;
  negated: boolean;
}

/** `[!] -p proto` as its IP protocol number. */
export interface ProtoMatch {
  proto: number;
  negated: boolean;
}

// ---- matches (-m ...) ----

export interface PortRange {
  min: number;
  max: number;
  negated: boolean;
}

/** `-m tcp|udp [[!] --sport a[:b]] [[!] --dport a[:b]]` (struct xt_tcp / xt_udp). */
export interface PortMatch {
  kind: 'tcp' | 'udp';
  sport: PortRange | null;
  dport: PortRange | null;
}

/** `-m comment --comment text` (at most 255 bytes, XT_MAX_COMMENT_LEN - 1). */
export interface CommentMatch {
  kind: 'comment';
  text: string;
}

/** `-m mark [!] --mark value[/mask]`: matches when (skb->mark & mask) == value. */
export interface MarkMatch {
  kind: 'mark';
  mark: number;
  mask: number;
  negated: boolean;
}

/** conntrack states as bits of xt_conntrack's state_mask (include/uapi/linux/netfilter/xt_conntrack.h). */
export const CT_STATE = {
  INVALID: 1 << 0,
  ESTABLISHED: 1 << 1,
  RELATED: 1 << 2,
  NEW: 1 << 3,
  UNTRACKED: 1 << 8,
  SNAT: 1 << 9,
  DNAT: 1 << 10,
} as const;
export type CtStateName = keyof typeof CT_STATE;

/** `-m conntrack [!] --ctstate A,B`. */
export interface ConntrackMatch {
  kind: 'conntrack';
  states: number;
  negated: boolean;
}

/** `-m state [!] --state A,B` (the older match; no SNAT/DNAT states). */
export interface StateMatch {
  kind: 'state';
  states: number;
  negated: boolean;
}

/**
 * `-m statistic --mode random [!] --probability p`. `probability` is what the kernel holds:
 * lround(p * 2^31) (libxt_statistic.c statistic_parse), compared with prandom_u32() & 0x7fffffff.
 */
export interface StatisticMatch {
  kind: 'statistic';
  probability: number;
  negated: boolean;
}

/** Route types of `-m addrtype`, bit i = 1 << i in order of enum rtn_type (RTN_UNSPEC…RTN_XRESOLVE). */
export const ADDR_TYPES = [
  'UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST',
  'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE',
] as const;
export type AddrTypeName = (typeof ADDR_TYPES)[number];

export interface AddrTypeSel {
  types: number;
  negated: boolean;
}

/** `-m addrtype [[!] --src-type T,..] [[!] --dst-type T,..] [--limit-iface-in|out]` (revision 1). */
export interface AddrTypeMatch {
  kind: 'addrtype';
  src: AddrTypeSel | null;
  dst: AddrTypeSel | null;
  limitIfaceIn: boolean;
  limitIfaceOut: boolean;
}

export type RecentCommand = 'set' | 'rcheck' | 'update' | 'remove';

/** `-m recent` (xt_recent_mtinfo_v1): one named list of addresses with last-seen times. */
export interface RecentMatch {
  kind: 'recent';
  command: RecentCommand;
  negated: boolean;
  name: string;
  /** 0 = no age limit. */
  seconds: number;
  reap: boolean;
  hitcount: number;
  rttl: boolean;
  /** Applied to the address before it is stored or looked up; 0xffffffff by default. */
  mask: number;
  side: 'source' | 'dest';
}

/** `-m physdev [!] --physdev-is-bridged`. */
export interface PhysdevMatch {
  kind: 'physdev';
  isBridged: boolean;
  negated: boolean;
}

export type Match =
  | PortMatch
  | CommentMatch
  | MarkMatch
  | ConntrackMatch
  | StateMatch
  | StatisticMatch
  | AddrTypeMatch
  | RecentMatch
  | PhysdevMatch;

// ---- targets (-j / -g) ----

export interface VerdictTarget {
  kind: 'verdict';
  verdict: 'ACCEPT' | 'DROP' | 'RETURN';
}

/** `-j CHAIN` (push a return point) or `-g CHAIN` (goto: RETURN goes back past this chain). */
export interface JumpTarget {
  kind: 'jump';
  chain: string;
  goto: boolean;
}

/**
 * `-j MARK`: new mark = (mark & ~mask) ^ value (xt_mark_tginfo2, net/netfilter/xt_mark.c
 * mark_tg). Every spelling maps onto it (libxt_MARK.c mark_tg_parse): --set-mark v/m → (v, v|m),
 * --and-mark b → (0, ~b), --or-mark b → (b, b), --xor-mark b → (b, 0).
 */
export interface MarkTarget {
  kind: 'MARK';
  value: number;
  mask: number;
}

/** A NAT range (struct nf_nat_range2): addresses and/or ports, each possibly a range. */
export interface NatRange {
  /** null: keep the address (ports-only mapping, e.g. `--to-destination :8080`). */
  addr: { min: number; max: number } | null;
  ports: { min: number; max: number } | null;
}

export interface NatTarget {
  kind: 'DNAT' | 'SNAT';
  range: NatRange;
  random: boolean;
  /** SNAT only (NF_NAT_RANGE_PROTO_RANDOM_FULLY). */
  randomFully: boolean;
  persistent: boolean;
}

export interface MasqueradeTarget {
  kind: 'MASQUERADE';
  ports: { min: number; max: number } | null;
  random: boolean;
  randomFully: boolean;
}

/** `--reject-with` names as libipt_REJECT.c prints them. */
export const REJECT_WITH = [
  'icmp-net-unreachable', 'icmp-host-unreachable', 'icmp-port-unreachable', 'icmp-proto-unreachable',
  'icmp-net-prohibited', 'icmp-host-prohibited', 'tcp-reset', 'icmp-admin-prohibited',
] as const;
export type RejectWith = (typeof REJECT_WITH)[number];

export interface RejectTarget {
  kind: 'REJECT';
  with: RejectWith;
}

/** LOG flag bits (include/uapi/linux/netfilter/xt_LOG.h). */
export const LOG_FLAGS = {
  TCPSEQ: 0x01,
  TCPOPT: 0x02,
  IPOPT: 0x04,
  UID: 0x08,
  MACDECODE: 0x20,
} as const;

export interface LogTarget {
  kind: 'LOG';
  prefix: string;
  /** syslog level 0..7; 4 (warning) by default. */
  level: number;
  flags: number;
}

export type Target = VerdictTarget | JumpTarget | MarkTarget | NatTarget | MasqueradeTarget | RejectTarget | LogTarget;

export interface Rule {
  src: AddrMatch | null;
  dst: AddrMatch | null;
  inIface: IfaceMatch | null;
  outIface: IfaceMatch | null;
  protocol: ProtoMatch | null;
  /** In the order given; iptables keeps (and prints) them in that order. */
  matches: Match[];
  /** null: a rule that only counts. */
  target: Target | null;
  readonly counters: Counters;
}

// ---- constructors ----

export function zeroCounters(): Counters {
  return { packets: 0, bytes: 0 };
}

export function emptyRule(): Rule {
  return { src: null, dst: null, inIface: null, outIface: null, protocol: null, matches: [], target: null, counters: zeroCounters() };
}

export function createRuleset(): Ruleset {
  return { tables: new Map() };
}

/** The table, created with all its built-in chains (policy ACCEPT) when absent. */
export function ensureTable(ruleset: Ruleset, name: TableName): Table {
  let t = ruleset.tables.get(name);
  if (t === undefined) {
    t = { name, chains: new Map() };
    for (const hook of BUILTIN_CHAINS[name]) {
      t.chains.set(hook, { name: hook, builtin: true, policy: 'ACCEPT', counters: zeroCounters(), rules: [] });
    }
    ruleset.tables.set(name, t);
  }
  return t;
}

export function isBuiltinChain(table: TableName, name: string): name is HookName {
  return (BUILTIN_CHAINS[table] as readonly string[]).includes(name);
}

/**
 * iptables' chain-name limit: XT_EXTENSION_MAXNAMELEN (29) including the NUL; names may not
 * look like options (libiptc / nft "Invalid chain name").
 */
export const MAX_CHAIN_NAME_LEN = 28;
export function chainNameProblem(name: string): string | null {
  if (name.length === 0) return 'empty chain name';
  if (name.length > MAX_CHAIN_NAME_LEN) return `chain name ${JSON.stringify(name)} longer than ${MAX_CHAIN_NAME_LEN} characters`;
  if (name.startsWith('-') || name.startsWith('!')) return `invalid chain name ${JSON.stringify(name)}`;
  if (/\s/.test(name)) return `invalid chain name ${JSON.stringify(name)}`;
  return null;
}

/** Adds (or returns the existing) user chain. Throws RangeError on a bad or built-in name. */
export function ensureUserChain(table: Table, name: string): Chain {
  const existing = table.chains.get(name);
  if (existing !== undefined) {
    if (existing.builtin) throw new RangeError(`${name} is a built-in chain of ${table.name}`);
    return existing;
  }
  const problem = chainNameProblem(name);
  if (problem !== null) throw new RangeError(problem);
  const chain: Chain = { name, builtin: false, policy: null, counters: zeroCounters(), rules: [] };
  table.chains.set(name, chain);
  return chain;
}

// ---- value conversions shared by parser, renderer and builders ----

/** libxt_statistic.c: `lround(0x80000000 * prob)`; p must be within [0, 1]. */
export function quantizeProbability(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${p} not within [0, 1]`);
  return Math.round(0x8000_0000 * p);
}

/** The MARK (value, mask) pair each kube-proxy / iptables spelling stands for (libxt_MARK.c). */
export function markTarget(op: 'set-xmark' | 'set-mark' | 'and-mark' | 'or-mark' | 'xor-mark', value: number, mask = 0xffff_ffff): MarkTarget {
  switch (op) {
    case 'set-xmark':
      return { kind: 'MARK', value: value >>> 0, mask: mask >>> 0 };
    case 'set-mark':
      return { kind: 'MARK', value: value >>> 0, mask: (value | mask) >>> 0 };
    case 'and-mark':
      return { kind: 'MARK', value: 0, mask: ~value >>> 0 };
    case 'or-mark':
      return { kind: 'MARK', value: value >>> 0, mask: value >>> 0 };
    case 'xor-mark':
      return { kind: 'MARK', value: value >>> 0, mask: 0 };
  }
}
