/**
 * podwire's kubelet + kube-proxy + flannel rules for the reference Services against the kernel
 * dumps (fixtures/kernel/<journey>/iptables-save-n<N>.txt): every chain the dump has, rule for
 * rule, up to counters, the header/footer comments and the order of service rules in
 * KUBE-SERVICES (Go map order in syncProxyRules).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { programFlannelIptables } from '../../../src/k8s/flannel-iptables.js';
import { ensureKubeletFirewall } from '../../../src/k8s/kube-proxy/kubelet-firewall.js';
import { ensureKubeProxyCanaries, syncIptables } from '../../../src/k8s/kube-proxy/proxier.js';
import { generatedDate, parseIptablesSave, renderIptablesSave } from '../../../src/net/netfilter/iptables-save.js';
import { renderRuleSpec } from '../../../src/net/netfilter/rule-spec.js';
import { createRuleset, type Ruleset } from '../../../src/net/netfilter/rules.js';
import { CLUSTER_CIDR, NODES, referenceInput } from './reference-cluster.js';

const KERNEL = join(import.meta.dirname, '../../../fixtures/kernel');

/**
 * The one line where the hand-written dump and proxier.go disagree: iptablesJumpChains says
 * "kubernetes externally-visible service portals" (with the hyphen, as real dumps print it).
 */
const DUMP_TYPO: [string, string] = ['kubernetes externally visible service portals', 'kubernetes externally-visible service portals'];

function nodeRuleset(node: (typeof NODES)[number], opts: { canaries: boolean }): Ruleset {
  const rs = createRuleset();
  // Start-up order on a node: kubelet, then flanneld and kube-proxy (their rules commute).
  ensureKubeletFirewall(rs);
  programFlannelIptables(rs, { network: CLUSTER_CIDR, subnet: node.subnet });
  if (opts.canaries) ensureKubeProxyCanaries(rs);
  syncIptables(rs, referenceInput(node.name));
  return rs;
}

/** Rules of every chain as text; service rules of KUBE-SERVICES sorted (the tail rule kept last). */
function chainTexts(rs: Ruleset): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [tname, table] of rs.tables) {
    for (const [cname, chain] of table.chains) {
      let rules = chain.rules.map((r) => renderRuleSpec(r));
      if (cname === 'KUBE-SERVICES') {
        const tail = tname === 'nat' ? rules.slice(-1) : [];
        rules = [...rules.slice(0, rules.length - tail.length).sort(), ...tail];
      }
      out.set(`${tname} ${cname}${chain.builtin ? ` ${chain.policy ?? ''}` : ''}`, rules);
    }
  }
  return out;
}

const journeys = readdirSync(KERNEL, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

describe('kube-proxy + flannel rules equal the kernel dumps', () => {
  it.each(journeys.flatMap((j) => NODES.map((n) => [j, n] as const)))('%s on %o', (journey, node) => {
    const text = readFileSync(join(KERNEL, journey, `iptables-save-${node.name}.txt`), 'utf8').replaceAll(...DUMP_TYPO);
    const dump = chainTexts(parseIptablesSave(text));
    const ours = chainTexts(nodeRuleset(node, { canaries: true }));
    for (const [chain, rules] of dump) expect(ours.get(chain), chain).toEqual(rules);
    // What podwire has beyond the dump: only kube-proxy's canaries (real kube-proxy makes them).
    expect([...ours.keys()].filter((c) => !dump.has(c)).sort()).toEqual([
      'filter KUBE-PROXY-CANARY', 'mangle FORWARD ACCEPT', 'mangle INPUT ACCEPT', 'mangle KUBE-PROXY-CANARY',
      'mangle OUTPUT ACCEPT', 'mangle POSTROUTING ACCEPT', 'mangle PREROUTING ACCEPT', 'nat KUBE-PROXY-CANARY',
    ]);
  });

  it.each(NODES.map((n) => [n.name, n] as const))('without canaries, iptables-save prints node %s as the dump (counters zeroed)', (name, node) => {
    const text = readFileSync(join(KERNEL, 'clusterip-http', `iptables-save-${name}.txt`), 'utf8').replaceAll(...DUMP_TYPO);
    const zeroed = text.replace(/^(:\S+ \S+) \[\d+:\d+\]$/gm, '$1 [0:0]');
    const rendered = renderIptablesSave(nodeRuleset(node, { canaries: false }), { date: generatedDate(text) as Date });
    // The same lines; only the order of service rules within KUBE-SERVICES may differ.
    expect(rendered.split('\n').sort()).toEqual(zeroed.split('\n').sort());
    const firstDiff = rendered.split('\n').findIndex((l, i) => l !== zeroed.split('\n')[i]);
    if (firstDiff >= 0) expect(rendered.split('\n')[firstDiff]).toMatch(/^-A KUBE-SERVICES /);
  });
});
