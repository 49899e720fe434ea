/**
 * Acceptance: the real iptables-restore (iptables 1.8.9, nf_tables) takes what podwire renders,
 * and iptables-save then prints the same rules back.
 *
 * The one test that touches a real network namespace: it creates `podwire-test-<pid>` with
 * `ip netns add`, runs iptables-restore / iptables-save only inside it (`ip netns exec NAME …`),
 * and deletes it by that exact name afterwards. The root namespace's rules are never read or
 * written. Skipped, with the reason, when not root or when iptables-restore or ip is missing.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKubeProxyCanaries, syncIptables } from '../../../src/k8s/kube-proxy/proxier.js';
import type { KubeProxyInput } from '../../../src/k8s/kube-proxy/model.js';
import { generatedDate, parseIptablesSave, renderIptablesSave } from '../../../src/net/netfilter/iptables-save.js';
import { createRuleset } from '../../../src/net/netfilter/rules.js';
import { parseIpv4 } from '../../../src/packet/addr.js';

const KERNEL = join(import.meta.dirname, '../../../fixtures/kernel');
const NETNS = `podwire-test-${process.pid}`;

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** Why the test cannot run here, or null when it can. */
function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (ip netns add)';
  if (!have('ip')) return 'ip (iproute2) is not installed';
  if (!have('iptables-restore')) return 'iptables-restore is not installed (apt-get install iptables)';
  return null;
}
const reason = skipReason();
if (reason !== null) console.warn(`iptables-restore acceptance test skipped: ${reason}`);

function inNetns(argv: string[], input?: string) {
  const r = spawnSync('ip', ['netns', 'exec', NETNS, ...argv], { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** iptables-save text without the `# Generated/Completed` lines and with every counter zeroed. */
function rulesOnly(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/^(:\S+ \S+) \[\d+:\d+\]$/, '$1 [0:0]').replace(/^\[\d+:\d+\] /, ''))
    .join('\n');
}


/** Two Services besides the usual one: one without endpoints, one with ClientIP affinity. */
const SERVICES: KubeProxyInput = {
  config: { clusterCidr: { addr: parseIpv4('10.244.0.0'), prefixLen: 16 } },
  services: [
    {
      namespace: 'default', name: 'web', clusterIP: parseIpv4('10.96.0.100'),
      ports: [{ name: 'http', protocol: 'TCP', port: 80, endpoints: [
        { ip: parseIpv4('10.244.1.3'), port: 8080, ready: true, isLocal: true },
        { ip: parseIpv4('10.244.2.2'), port: 8080, ready: true, isLocal: false },
      ] }],
    },
    { namespace: 'default', name: 'noep', clusterIP: parseIpv4('10.96.0.200'), ports: [{ name: 'http', protocol: 'TCP', port: 80, endpoints: [] }] },
    {
      namespace: 'default', name: 'sticky', clusterIP: parseIpv4('10.96.0.150'), sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 600,
      ports: [{ name: '', protocol: 'UDP', port: 5353, endpoints: [
        { ip: parseIpv4('10.244.1.2'), port: 5353, ready: true, isLocal: true },
        { ip: parseIpv4('10.244.2.3'), port: 5353, ready: true, isLocal: false },
      ] }],
    },
  ],
};

function kubeProxyRules(): string {
  const rs = createRuleset();
  ensureKubeProxyCanaries(rs);
  syncIptables(rs, SERVICES);
  return renderIptablesSave(rs, { date: new Date(Date.UTC(2026, 10, 23, 0, 40, 37)) });
}

function referenceRules(): string {
  const text = readFileSync(join(KERNEL, 'clusterip-http/iptables-save-n1.txt'), 'utf8');
  return renderIptablesSave(parseIptablesSave(text), { date: generatedDate(text) as Date });
}

describe.skipIf(reason !== null)('the real iptables-restore accepts podwire\'s rules (in a netns of its own)', () => {
  beforeAll(() => {
    const r = spawnSync('ip', ['netns', 'add', NETNS], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip netns add ${NETNS}: ${r.stderr}`);
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', NETNS], { encoding: 'utf8' });
  });

  it('is iptables 1.8.9 with the nf_tables backend, as the references were taken with', () => {
    expect(inNetns(['iptables-restore', '--version']).stdout).toMatch(/^iptables-restore v1\.8\.9 \(nf_tables\)/);
  });

  it.each([
    ['the clusterip-http reference ruleset, parsed and rendered again', referenceRules],
    ['kube-proxy\'s rules for three Services (no endpoints, ClientIP affinity)', kubeProxyRules],
  ])('%s: --test accepts it, and iptables-save prints it back after a real restore', (_name, make) => {
    const text = make();
    const check = inNetns(['iptables-restore', '--test'], text);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);

    const restore = inNetns(['iptables-restore'], text);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    const saved = inNetns(['iptables-save']);
    expect(saved.code).toBe(0);
    expect(rulesOnly(saved.stdout)).toBe(rulesOnly(text));
    // podwire's parser reads what the real iptables-save printed back into the same rules.
    expect(rulesOnly(renderIptablesSave(parseIptablesSave(saved.stdout), { date: new Date(0) }))).toBe(rulesOnly(saved.stdout));
  });

  it('prints kube-proxy\'s rules byte for byte as the real iptables-save does (table order, recent --mask)', () => {
    const text = kubeProxyRules();
    expect(inNetns(['iptables-restore'], text).code).toBe(0);
    expect(rulesOnly(inNetns(['iptables-save']).stdout)).toBe(rulesOnly(text));
  });

  it('is refused when a rule is broken, so acceptance means something', () => {
    // An option iptables cannot parse: --test already refuses it.
    const badPort = referenceRules().replace('--dport 80', '--dport 99999');
    const r = inNetns(['iptables-restore', '--test'], badPort);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid port\/service `99999' specified\nError occurred at line: \d+/);
    // A jump to a chain nobody declared: --test (nf_tables) lets it through, the real restore
    // does not — which is why the test above restores for real as well.
    const badJump = referenceRules().replace('-j KUBE-MARK-MASQ', '-j KUBE-NO-SUCH-CHAIN');
    expect(inNetns(['iptables-restore', '--test'], badJump).code).toBe(0);
    const real = inNetns(['iptables-restore'], badJump);
    expect(real.code).toBe(2);
    expect(real.stderr).toMatch(/Chain 'KUBE-NO-SUCH-CHAIN' does not exist/);
  });
});
