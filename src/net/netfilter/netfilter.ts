/**
 * A netns's netfilter state: its iptables ruleset and, once anything needs it, its connection
 * tracking table. The kernel registers conntrack's hooks in a netns only when a user needs them
 * (a nat table, a conntrack/state match: nf_ct_netns_get); a netns with no rules — a pod's —
 * keeps neither and its packets pass no hook at all.
 *
 * Whoever changes the ruleset calls `commit()` afterwards, as iptables-restore commits a
 * transaction: the evaluator then works from chains compiled from the new rules.
 */
import type { RandomStream } from '../../sim/random.js';
import { CompiledTable } from './chain-index.js';
import { ConntrackTable, type ConntrackOptions } from './conntrack.js';
import { createRuleset, type Ruleset, type TableName } from './rules.js';
import { XtEvaluator } from './xt-eval.js';
import { RecentTables } from './xt-recent.js';

export class Netfilter {
  readonly ruleset: Ruleset = createRuleset();
  /** null until conntrack is enabled (enableConntrack, or a commit whose rules need it). */
  conntrack: ConntrackTable | null = null;
  readonly evaluator = new XtEvaluator();
  readonly recent = new RecentTables();
  /** The compiled tables (undefined: the table does not exist, its hooks are not registered). */
  raw: CompiledTable | undefined;
  mangle: CompiledTable | undefined;
  nat: CompiledTable | undefined;
  filter: CompiledTable | undefined;

  constructor(
    /** prandom_u32 for the statistic match (kube-proxy's endpoint choice). */
    readonly random: RandomStream,
    private readonly conntrackOptions: ConntrackOptions = {},
  ) {}

  /** nf_ct_netns_get: from now on every IPv4 packet of this netns is tracked. */
  enableConntrack(opts: ConntrackOptions = {}): ConntrackTable {
    this.conntrack ??= new ConntrackTable({ ...this.conntrackOptions, ...opts });
    return this.conntrack;
  }

  /**
   * The ruleset changed: recompile, and switch conntrack on when the rules need it (a nat table,
   * a conntrack or state match), as loading those modules does.
   */
  commit(): void {
    const compile = (name: TableName): CompiledTable | undefined => {
      const t = this.ruleset.tables.get(name);
      return t === undefined ? undefined : new CompiledTable(t);
    };
    this.raw = compile('raw');
    this.mangle = compile('mangle');
    this.nat = compile('nat');
    this.filter = compile('filter');
    if (this.conntrack === null && this.needsConntrack()) this.enableConntrack();
  }


  private needsConntrack(): boolean {
    if (this.ruleset.tables.has('nat')) return true;
    for (const t of this.ruleset.tables.values()) {
      for (const c of t.chains.values()) {
        for (const r of c.rules) if (r.matches.some((m) => m.kind === 'conntrack' || m.kind === 'state')) return true;
      }
    }
    return false;
  }
}
