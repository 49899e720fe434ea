/**
 * A netns's netfilter state: its iptables ruleset and, once anything needs it, its connection
 * tracking table. The kernel registers conntrack's hooks in a netns only when a user needs them
 * (a nat table, a conntrack/state match: nf_ct_netns_get); a netns with no rules — a pod's —
 * keeps neither and its packets pass no hook at all.
 */
import { ConntrackTable, type ConntrackOptions } from './conntrack.js';
import { createRuleset, type Ruleset } from './rules.js';

export class Netfilter {
  readonly ruleset: Ruleset = createRuleset();
  /** null until conntrack is enabled (enableConntrack). */
  conntrack: ConntrackTable | null = null;

  /** nf_ct_netns_get: from now on every IPv4 packet of this netns is tracked. */
  enableConntrack(opts: ConntrackOptions = {}): ConntrackTable {
    this.conntrack ??= new ConntrackTable(opts);
    return this.conntrack;
  }
}
