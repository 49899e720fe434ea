/**
 * The three iptables operations kube-proxy (and kubelet, flannel) use, applied to the netfilter
 * model the way the iptables binaries apply them to the kernel (k/k pkg/util/iptables/iptables.go):
 *
 * - EnsureChain: `iptables -N`, tolerating "already exists";
 * - EnsureRule: `iptables -C` and, when the rule is absent, `-I chain` (Prepend) or `-A` (Append);
 *   -C compares the rule as the kernel holds it, so two spellings of one rule are the same rule;
 * - RestoreAll with NoFlushTables: `iptables-restore --noflush`. A `:CHAIN - [0:0]` line creates
 *   the chain or flushes it, `-A` appends, `-X` deletes; chains not named are left alone. Each
 *   table is checked whole before anything changes, as iptables-restore commits a table at once.
 */
import {
  ensureTable, ensureUserChain, isBuiltinChain, TABLE_ORDER, type Rule, type Ruleset, type TableName,
} from '../../net/netfilter/rules.js';
import { parseRuleSpec, renderRuleSpec, tokenize } from '../../net/netfilter/rule-spec.js';

/** A restore input line that iptables-restore would refuse; `line` is 1-based. */
export class IptablesRestoreError extends Error {
  constructor(readonly line: number, reason: string) {
    super(`iptables-restore: line ${line}: ${reason}`);
    this.name = 'IptablesRestoreError';
  }
}

const TABLES: ReadonlySet<string> = new Set(TABLE_ORDER);

export function ensureChain(ruleset: Ruleset, table: TableName, chain: string): boolean {
  const t = ensureTable(ruleset, table);
  if (t.chains.has(chain)) return true;
  ensureUserChain(t, chain);
  return false;
}

/** iptables -C: is a rule equal (as the kernel holds it) to `args` already in the chain? */
function ruleExists(rules: readonly Rule[], wanted: Rule): boolean {
  const spec = renderRuleSpec(wanted);
  return rules.some((r) => renderRuleSpec(r) === spec);
}

/** Returns true when the rule already existed (utiliptables EnsureRule's first result). */
export function ensureRule(ruleset: Ruleset, position: 'prepend' | 'append', table: TableName, chain: string, args: readonly string[]): boolean {
  const t = ensureTable(ruleset, table);
  const c = t.chains.get(chain);
  if (c === undefined) throw new RangeError(`iptables: chain ${chain} does not exist in table ${table}`);
  const rule = parseRuleSpec(args);
  if (rule.target?.kind === 'jump' && !t.chains.has(rule.target.chain)) {
    throw new RangeError(`iptables: chain ${rule.target.chain} (jump target) does not exist in table ${table}`);
  }
  if (ruleExists(c.rules, rule)) return true;
  if (position === 'prepend') c.rules.unshift(rule);
  else c.rules.push(rule);
  return false;
}

type Op =
  | { kind: 'chain'; name: string; line: number }
  | { kind: 'append'; chain: string; rule: Rule; line: number }
  | { kind: 'delete'; chain: string; line: number };

/** iptables-restore --noflush of `text` (tables in `*name … COMMIT` blocks). */
export function restoreNoFlush(ruleset: Ruleset, text: string): void {
  let table: TableName | null = null;
  let ops: Op[] = [];
  const lines = text.split('\n');
  lines.forEach((line, idx) => {
    const no = idx + 1;
    if (line.trim() === '' || line.startsWith('#')) return;
    if (line.startsWith('*')) {
      const name = line.slice(1).trim();
      if (table !== null) throw new IptablesRestoreError(no, `table ${table} not committed before ${line}`);
      if (!TABLES.has(name)) throw new IptablesRestoreError(no, `unknown table ${JSON.stringify(name)}`);
      table = name as TableName;
      ops = [];
      return;
    }
    if (table === null) throw new IptablesRestoreError(no, `${JSON.stringify(line)} outside a table`);
    if (line === 'COMMIT') {
      commit(ruleset, table, ops);
      table = null;
      return;
    }
    if (line.startsWith(':')) {
      const m = /^:(\S+) (\S+)(?: \[\d+:\d+\])?$/.exec(line);
      if (m === null) throw new IptablesRestoreError(no, `bad chain line ${JSON.stringify(line)}`);
      ops.push({ kind: 'chain', name: m[1] as string, line: no });
      return;
    }
    let tokens: string[];
    try {
      tokens = tokenize(line);
    } catch (e) {
      throw new IptablesRestoreError(no, (e as Error).message);
    }
    const [op, chain] = tokens;
    if (chain === undefined) throw new IptablesRestoreError(no, `${op ?? ''} without a chain`);
    if (op === '-X') {
      ops.push({ kind: 'delete', chain, line: no });
    } else if (op === '-A') {
      try {
        ops.push({ kind: 'append', chain, rule: parseRuleSpec(tokens.slice(2)), line: no });
      } catch (e) {
        throw new IptablesRestoreError(no, (e as Error).message);
      }
    } else {
      throw new IptablesRestoreError(no, `unsupported command ${JSON.stringify(op)}`);
    }
  });
  if (table !== null) throw new IptablesRestoreError(lines.length, `table ${table as string} has no COMMIT`);
}

/** Checks a table's operations against the chains that will exist, then applies them. */
function commit(ruleset: Ruleset, tableName: TableName, ops: readonly Op[]): void {
  const t = ensureTable(ruleset, tableName);
  const exists = new Set(t.chains.keys());
  for (const op of ops) {
    if (op.kind === 'chain') {
      if (isBuiltinChain(tableName, op.name)) continue;
      exists.add(op.name);
    } else if (op.kind === 'delete') {
      if (!exists.has(op.chain)) throw new IptablesRestoreError(op.line, `chain ${op.chain} does not exist`);
      exists.delete(op.chain);
    } else {
      if (!exists.has(op.chain)) throw new IptablesRestoreError(op.line, `chain ${op.chain} does not exist in table ${tableName}`);
      const target = op.rule.target;
      if (target?.kind === 'jump' && !exists.has(target.chain)) {
        throw new IptablesRestoreError(op.line, `unknown target or chain ${JSON.stringify(target.chain)}`);
      }
    }
  }
  for (const op of ops) {
    if (op.kind === 'chain') {
      if (isBuiltinChain(tableName, op.name)) continue;
      ensureUserChain(t, op.name).rules.length = 0;
    } else if (op.kind === 'delete') {
      t.chains.delete(op.chain);
    } else {
      (t.chains.get(op.chain) as NonNullable<ReturnType<typeof t.chains.get>>).rules.push(op.rule);
    }
  }
}
