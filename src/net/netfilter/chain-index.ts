/**
 * A chain prepared for evaluation: its rules, plus an index over the runs of "service portal"
 * rules kube-proxy writes by the thousand (`-d IP/32 -p tcp -m tcp --dport N -j …`, comments
 * allowed). Inside such a run at most the rules whose (destination, protocol, port) equal the
 * packet's can match, so the walk jumps straight to them instead of testing each rule: the
 * outcome, counters and the number of rules the kernel would have traversed are the same, but
 * podwire's cost per packet no longer grows with the number of Services.
 *
 * The kernel itself walks every rule (ipt_do_table is linear); `traversed` in the evaluator
 * reports that count so the cost the real datapath pays stays visible.
 */
import { HOOKS, type Chain, type Rule, type Table } from './rules.js';

/** A run of indexable rules: [start, end) in the chain, and the matching rule indices per key. */
export interface IndexedRun {
  readonly start: number;
  readonly end: number;
  /** key(dst, proto, dport) → ascending rule indices within [start, end). */
  readonly byKey: Map<number, number[]>;
}

export interface CompiledChain {
  readonly chain: Chain;
  readonly rules: readonly Rule[];
  /** For each rule index: the indexed run it belongs to, else undefined. */
  readonly runAt: readonly (IndexedRun | undefined)[];
  /** Jump targets resolved once (index → compiled chain), filled lazily by the evaluator. */
  readonly jumps: (CompiledChain | undefined)[];
}

/** Runs shorter than this are walked rule by rule: a map lookup would not pay for itself. */
const MIN_RUN = 8;

/** A number that identifies (dst, proto, dport) exactly: 32 + 8 + 16 bits fit in a double. */
export function portalKey(dst: number, proto: number, dport: number): number {
  return (dst >>> 0) * 0x100_0000 + proto * 0x1_0000 + dport;
}

/** The key of a rule that matches exactly one (dst/32, proto, dport) and nothing else, else -1. */
function ruleKey(r: Rule): number {
  if (r.src !== null || r.inIface !== null || r.outIface !== null) return -1;
  if (r.dst === null || r.dst.negated || r.dst.mask !== 0xffff_ffff) return -1;
  if (r.protocol === null || r.protocol.negated || r.protocol.proto === 0) return -1;
  let dport = -1;
  for (const m of r.matches) {
    if (m.kind === 'comment') continue;
    if ((m.kind === 'tcp' || m.kind === 'udp') && m.sport === null && m.dport !== null && !m.dport.negated && m.dport.min === m.dport.max && dport < 0) {
      dport = m.dport.min;
      continue;
    }
    return -1;
  }
  if (dport < 0) return -1;
  return portalKey(r.dst.addr, r.protocol.proto, dport);
}

export function compileChain(chain: Chain): CompiledChain {
  const rules = chain.rules;
  const runAt: (IndexedRun | undefined)[] = new Array<IndexedRun | undefined>(rules.length).fill(undefined);
  let i = 0;
  while (i < rules.length) {
    if (ruleKey(rules[i]!) < 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < rules.length && ruleKey(rules[j]!) >= 0) j++;
    if (j - i >= MIN_RUN) {
      const byKey = new Map<number, number[]>();
      for (let k = i; k < j; k++) {
        const key = ruleKey(rules[k]!);
        const list = byKey.get(key);
        if (list) list.push(k);
        else byKey.set(key, [k]);
      }
      const run: IndexedRun = { start: i, end: j, byKey };
      for (let k = i; k < j; k++) runAt[k] = run;
    }
    i = j;
  }
  return { chain, rules, runAt, jumps: new Array<CompiledChain | undefined>(rules.length).fill(undefined) };
}

/** The compiled chains of one table; rebuilt whole when the ruleset changes (a commit). */
export class CompiledTable {
  private readonly chains = new Map<string, CompiledChain>();
  /** The built-in chain of each hook (by HOOKS index), compiled up front: the per-packet entry. */
  readonly byHook: readonly (CompiledChain | undefined)[];

  constructor(readonly table: Table) {
    // Everything up front, as iptables-restore loads a whole table: no compiling on the datapath.
    for (const name of table.chains.keys()) this.chain(name);
    for (const c of this.chains.values()) {
      c.rules.forEach((r, i) => {
        if (r.target?.kind === 'jump') c.jumps[i] = this.chains.get(r.target.chain);
      });
    }
    this.byHook = HOOKS.map((h) => this.chains.get(h));
  }

  chain(name: string): CompiledChain | undefined {
    let c = this.chains.get(name);
    if (c === undefined) {
      const chain = this.table.chains.get(name);
      if (chain === undefined) return undefined;
      c = compileChain(chain);
      this.chains.set(name, c);
    }
    return c;
  }
}
