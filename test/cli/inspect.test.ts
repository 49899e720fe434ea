import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';

function podwire(...args: string[]) {
  const r = spawnSync('node', ['dist/src/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CNP = 'scenarios/reference/cross-node-ping.yaml';
const headers = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('== '));
const section = (out: string, header: string): string => {
  const start = out.indexOf(`${header}\n`);
  if (start < 0) return '';
  const body = out.slice(start + header.length + 1);
  const next = body.indexOf('\n== ');
  return next < 0 ? body : body.slice(0, next + 1);
};
const leftovers = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('podwire-inspect-'));

describe('podwire inspect', () => {
  it('prints every default section of a node at the end of the run, each after its header', () => {
    const before = leftovers();
    const r = podwire('inspect', CNP, '--node', 'n1');
    // Both VXLAN flows and pa's ping, as in the kernel's dump (compared below).
    expect(r.stderr).toBe('conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.\n');
    expect(r.code).toBe(0);
    expect(headers(r.stdout)).toEqual([
      '== iptables-save (n1) ==', '== ip addr (n1) ==', '== ip -d link (n1) ==', '== ip route (n1) ==',
      '== ip neigh (n1) ==', '== bridge fdb (n1) ==', '== conntrack -L (n1) ==', '== kubectl get pods -o wide ==',
    ]);
    expect(section(r.stdout, '== ip route (n1) ==')).toBe([
      'default via 192.168.1.1 dev eth0 ',
      '10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1 ',
      '10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink ',
      '192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10 ',
      '',
    ].join('\n'));
    // One second after ping's last reply, as the kernel's dump: pa's entry on cni0 is in DELAY.
    expect(section(r.stdout, '== ip neigh (n1) ==')).toMatch(/^10\.244\.1\.2 dev cni0 lladdr \S+ DELAY $/m);
    expect(section(r.stdout, '== kubectl get pods -o wide ==')).toMatch(/^pa +1\/1 +Running +0 +3s +10\.244\.1\.2 +n1 /m);
    expect(leftovers()).toEqual(before);
  });

  it('--at stops the run at a virtual time: before the traffic, pa has not resolved its gateway yet', () => {
    const before = leftovers();
    const early = podwire('inspect', CNP, '--node', 'pa', '--at', '500ms', '--show', 'neigh,route');
    expect(early.code).toBe(0);
    expect(headers(early.stdout)).toEqual(['== ip route (pa) ==', '== ip neigh (pa) ==']); // always in inspect's order
    expect(section(early.stdout, '== ip neigh (pa) ==')).toBe('');
    expect(section(early.stdout, '== ip route (pa) ==')).toContain('default via 10.244.1.1 dev eth0 ');
    const during = podwire('inspect', CNP, '--node', 'pa', '--at', '1.5s', '--show', 'neigh');
    expect(section(during.stdout, '== ip neigh (pa) ==')).toMatch(/^10\.244\.1\.1 dev eth0 lladdr \S+ REACHABLE $/m);
    expect(leftovers()).toEqual(before); // stopped mid-step: nothing half-written is left
    // Long after the end the entry has gone stale (timers keep running while the cluster idles).
    const later = podwire('inspect', CNP, '--node', 'pa', '--at', '2m', '--show', 'neigh');
    expect(section(later.stdout, '== ip neigh (pa) ==')).toMatch(/^10\.244\.1\.1 dev eth0 lladdr \S+ STALE $/m);
  });

  it('shows an external host\'s netns too, and the same seed gives the same output', () => {
    const a = podwire('inspect', CNP, '--node', 'ext', '--show', 'addr,fdb');
    expect(a.code).toBe(0);
    expect(section(a.stdout, '== ip addr (ext) ==')).toContain('inet 192.168.1.100/24 brd 192.168.1.255 scope global eth0');
    expect(podwire('inspect', CNP, '--node', 'ext', '--show', 'addr,fdb').stdout).toBe(a.stdout);
  });

  it.each([
    [['--node', 'n9'], /^podwire: --node n9: no node, pod or host of that name in .*cross-node-ping\.yaml \(nodes n1, n2; pods pa, pb, pc, pd; hosts ext, gw\)$/],
    [['--node', 'n1', '--show', 'route,bogus'], /^podwire: --show: unknown section "bogus" \(one of iptables, /],
    [['--node', 'n1', '--at', '3'], /^podwire: --at: invalid duration "3" \(a unit is needed: 3s\?\)$/],
    [['--node', 'n1', '--seed', '-1'], /^podwire: --seed must be an integer/],
    [[], /^podwire: Missing required argument: node$/],
  ])('refuses %j with one line on stderr, exit 2, no stack trace', (args, message) => {
    const r = podwire('inspect', CNP, ...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });

  it('refuses a scenario that does not load as the run command does', () => {
    const r = podwire('inspect', 'scenarios/nope.yaml', '--node', 'n1');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each(['n1', 'n2'])('cross-node-ping on %s: built-in chain counters and conntrack -L as the kernel dumped them', (node) => {
    const r = podwire('inspect', CNP, '--node', node, '--show', 'iptables-counters,conntrack');
    expect(r.code).toBe(0);
    const kernel = (f: string) => readFileSync(`fixtures/kernel/cross-node-ping/${f}-${node}.txt`, 'utf8');
    // Policy counters of the built-in chains (what every packet that crossed a hook added up to).
    const builtins = (text: string) => text.split('\n').filter((l) => /^:[A-Z]+ (ACCEPT|DROP) \[/.test(l) || l.startsWith('*'));
    const ours = builtins(section(r.stdout, `== iptables-save -c (${node}) ==`)).join('\n');
    for (const table of kernel('iptables-save-counters').split(/(?=^\*)/m).filter((b) => b.startsWith('*'))) {
      expect(ours).toContain(builtins(table).join('\n'));
    }
    // conntrack -L: the same flows; ephemeral ports, ICMP ids and the dump's hash order differ.
    const norm = (text: string) => text.split('\n').filter(Boolean).map((l) => l.replace(/(sport|dport|id)=(\d+)/g, (m, k: string, v: string) => (v === '8472' ? m : `${k}=*`))).sort();
    expect(norm(section(r.stdout, `== conntrack -L (${node}) ==`))).toEqual(norm(kernel('conntrack')));
  });
});
