import { describe, expect, it } from 'vitest';
import { IptablesRestoreError, ensureRule, restoreNoFlush } from '../../../src/k8s/kube-proxy/iptables-client.js';
import type { KubeProxyInput, ProxyEndpoint, ProxyService } from '../../../src/k8s/kube-proxy/model.js';
import { buildRestoreInput, computeProbability, syncIptables } from '../../../src/k8s/kube-proxy/proxier.js';
import { renderIptablesSave } from '../../../src/net/netfilter/iptables-save.js';
import { createRuleset, ensureTable, type Ruleset } from '../../../src/net/netfilter/rules.js';
import { parseIpv4 } from '../../../src/packet/addr.js';
import { CLUSTER_CIDR } from './reference-cluster.js';

const DATE = new Date(Date.UTC(2026, 0, 1));
const ep = (ip: string, port: number, extra: Partial<ProxyEndpoint> = {}): ProxyEndpoint => ({ ip: parseIpv4(ip), port, ready: true, isLocal: false, ...extra });

function svc(name: string, eps: ProxyEndpoint[], extra: Partial<ProxyService> = {}): ProxyService {
  return { namespace: 'ns', name, clusterIP: parseIpv4('10.96.1.1'), ports: [{ name: 'p', protocol: 'TCP', port: 80, endpoints: eps }], ...extra };
}

function natRules(rs: Ruleset, chainPrefix: string): string[] {
  return renderIptablesSave(rs, { date: DATE }).split('\n').filter((l) => l.startsWith(`-A ${chainPrefix}`));
}

function synced(input: KubeProxyInput): Ruleset {
  const rs = createRuleset();
  syncIptables(rs, input);
  return rs;
}

describe('syncIptables', () => {
  it('spreads over n endpoints with probabilities 1/n, 1/(n-1), … in "IP:port" string order', () => {
    const rs = synced({ config: { clusterCidr: CLUSTER_CIDR }, services: [svc('s', [ep('10.244.2.2', 80), ep('10.244.10.2', 80), ep('10.244.1.9', 80)])] });
    const lines = natRules(rs, 'KUBE-SVC-');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('-A KUBE-SVC-' + lines[0]?.slice(12, 28) + ' ! -s 10.244.0.0/16 -d 10.96.1.1/32 -p tcp -m comment --comment "ns/s:p cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ');
    // 10.244.1.9 < 10.244.10.2 < 10.244.2.2 as strings; iptables-save prints the quantized value.
    expect(lines[1]).toMatch(/"ns\/s:p -> 10\.244\.1\.9:80" -m statistic --mode random --probability 0\.33333333349 -j KUBE-SEP-/);
    expect(lines[2]).toMatch(/"ns\/s:p -> 10\.244\.10\.2:80" -m statistic --mode random --probability 0\.50000000000 -j KUBE-SEP-/);
    expect(lines[3]).toMatch(/"ns\/s:p -> 10\.244\.2\.2:80" -j KUBE-SEP-/);
  });

  it('writes probabilities as kube-proxy does (%0.10f)', () => {
    expect([2, 3, 4, 5, 7].map(computeProbability)).toEqual(['0.5000000000', '0.3333333333', '0.2500000000', '0.2000000000', '0.1428571429']);
  });

  // iptables-save prints the all-ones recent --mask (seen from the real one in the acceptance test).
  it('sessionAffinity ClientIP: recent --rcheck per endpoint before the random rules, --set in the DNAT rule', () => {
    const rs = synced({ config: { clusterCidr: CLUSTER_CIDR }, services: [svc('a', [ep('10.244.1.2', 8080), ep('10.244.1.3', 8080)], { sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 60 })] });
    const svcLines = natRules(rs, 'KUBE-SVC-');
    expect(svcLines[1]).toMatch(/^-A KUBE-SVC-\S+ -m comment --comment "ns\/a:p -> 10\.244\.1\.2:8080" -m recent --rcheck --seconds 60 --reap --name (KUBE-SEP-\S+) --mask 255\.255\.255\.255 --rsource -j \1$/);
    expect(svcLines[3]).toMatch(/statistic --mode random --probability 0\.50000000000 -j KUBE-SEP-/);
    const dnat = natRules(rs, 'KUBE-SEP-').filter((l) => l.includes('DNAT'));
    expect(dnat[0]).toMatch(/^-A (KUBE-SEP-\S+) -p tcp -m comment --comment "ns\/a:p" -m recent --set --name \1 --mask 255\.255\.255\.255 --rsource -m tcp -j DNAT --to-destination 10\.244\.1\.2:8080$/);
  });

  it('defaults the affinity timeout to 10800 s', () => {
    const text = buildRestoreInput({ config: { clusterCidr: CLUSTER_CIDR }, services: [svc('a', [ep('10.244.1.2', 80)], { sessionAffinity: 'ClientIP' })] });
    expect(text).toContain('--rcheck --seconds 10800 --reap');
  });

  it('internalTrafficPolicy Local: KUBE-SVL- with only this node\'s endpoints, DROP when it has none', () => {
    const eps = [ep('10.244.1.2', 80, { isLocal: true }), ep('10.244.2.2', 80)];
    const rs = synced({ config: { clusterCidr: CLUSTER_CIDR }, services: [svc('l', eps, { internalTrafficPolicy: 'Local' })] });
    expect(natRules(rs, 'KUBE-SVL-').filter((l) => l.includes('KUBE-SEP-'))).toEqual([expect.stringContaining('10.244.1.2:80')]);
    expect(natRules(rs, 'KUBE-SVC-')).toEqual([]);
    const none = synced({ config: { clusterCidr: CLUSTER_CIDR }, services: [svc('l', [ep('10.244.2.2', 80)], { internalTrafficPolicy: 'Local' })] });
    expect(renderIptablesSave(none, { date: DATE })).toContain('-A KUBE-SERVICES -d 10.96.1.1/32 -p tcp -m comment --comment "ns/l:p has no local endpoints" -m tcp --dport 80 -j DROP');
  });

  it('uses serving terminating endpoints only when none is ready', () => {
    const eps = [ep('10.244.1.2', 80, { ready: false, serving: true, terminating: true }), ep('10.244.1.3', 80, { ready: false })];
    const text = buildRestoreInput({ config: { clusterCidr: CLUSTER_CIDR }, services: [svc('t', eps)] });
    expect(text).toContain('-> 10.244.1.2:80');
    expect(text).not.toContain('10.244.1.3');
    const withReady = buildRestoreInput({ config: { clusterCidr: CLUSTER_CIDR }, services: [svc('t', [...eps, ep('10.244.1.4', 80)])] });
    expect(withReady).not.toContain('10.244.1.2');
  });

  it('--masquerade-all marks every source; without a cluster CIDR (no local detector) none', () => {
    const all = buildRestoreInput({ config: { clusterCidr: CLUSTER_CIDR, masqueradeAll: true }, services: [svc('m', [ep('10.244.1.2', 80)])] });
    expect(all).toMatch(/-A KUBE-SVC-\S+ -m comment --comment "ns\/m:p cluster IP" -m tcp -p tcp -d 10\.96\.1\.1 --dport 80 -j KUBE-MARK-MASQ/);
    const none = buildRestoreInput({ config: { clusterCidr: null }, services: [svc('m', [ep('10.244.1.2', 80)])] });
    expect(none).not.toMatch(/-A KUBE-SVC-\S+ .*KUBE-MARK-MASQ/);
  });

  it('a second sync changes nothing; a removed service loses its chains, other programs\' rules stay', () => {
    const input: KubeProxyInput = { config: { clusterCidr: CLUSTER_CIDR }, services: [svc('a', [ep('10.244.1.2', 80)]), svc('b', [ep('10.244.1.3', 80)], { clusterIP: parseIpv4('10.96.1.2') })] };
    const rs = createRuleset();
    ensureTable(rs, 'nat');
    ensureRule(rs, 'append', 'nat', 'POSTROUTING', ['-s', '10.0.0.0/8', '-j', 'MASQUERADE']);
    syncIptables(rs, input);
    const once = renderIptablesSave(rs, { date: DATE });
    syncIptables(rs, input);
    expect(renderIptablesSave(rs, { date: DATE })).toBe(once);
    syncIptables(rs, { ...input, services: [input.services[0] as ProxyService] });
    const after = renderIptablesSave(rs, { date: DATE });
    expect(after).not.toContain('ns/b');
    expect(after.match(/^:KUBE-SEP-/gm)).toHaveLength(1);
    expect(after).toContain('-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING\n-A POSTROUTING -s 10.0.0.0/8 -j MASQUERADE');
  });

  it('drops per-endpoint comments above 1000 endpoints (large-cluster mode)', () => {
    const eps = Array.from({ length: 1001 }, (_, i) => ep(`10.244.${i >> 8}.${i & 255}`, 80));
    const text = buildRestoreInput({ config: { clusterCidr: CLUSTER_CIDR }, services: [svc('big', eps)] });
    expect(text).not.toContain('-> 10.244.0.1:80');
    expect(text).toContain('"ns/big:p cluster IP"');
  });
});

describe('restoreNoFlush', () => {
  it('refuses a jump to a chain that does not exist, and changes nothing', () => {
    const rs = createRuleset();
    expect(() => restoreNoFlush(rs, '*nat\n:A - [0:0]\n-A A -j NOPE\nCOMMIT\n')).toThrow(IptablesRestoreError);
    expect(rs.tables.get('nat')?.chains.has('A')).toBe(false);
  });
  it('says which line is wrong', () => {
    expect(() => restoreNoFlush(createRuleset(), '*nat\n-A MISSING -j ACCEPT\nCOMMIT\n')).toThrow('iptables-restore: line 2: chain MISSING does not exist in table nat');
    expect(() => restoreNoFlush(createRuleset(), '*nat\n:A - [0:0]\n')).toThrow('has no COMMIT');
  });
});
