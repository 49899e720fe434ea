/**
 * DNS on the real kernel: `podwire parity scenarios/dns-lookup.yaml` runs podwire's CoreDNS on real
 * sockets in the kube-dns pod's namespace and the real nslookup, dig and getent in the shell pod
 * with its resolv.conf (kube-dns's ClusterIP, the search list, ndots:5) and hosts bound, and every
 * interface must capture the same packets as podwire's run. Needs root, `ip netns`, dist/ built
 * and bind9-dnsutils: without root or netns the test is skipped LOUDLY (a warning with the
 * reason), never passed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompareReport } from '../../src/compare/index.js';
import { kernelUnavailable } from '../../src/parity/kernel.js';

const reason = kernelUnavailable();
if (reason !== undefined) console.warn(`KERNEL PARITY (DNS) NOT RUN (skipped, not passed): ${reason}`);

const work = mkdtempSync(join(tmpdir(), 'podwire-dns-parity-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(reason !== undefined)(`podwire parity: DNS on the real kernel${reason ? ` — SKIPPED: ${reason}` : ''}`, () => {
  it('dns-lookup: nslookup, dig and getent against the kernel\'s CoreDNS put the same packets on every interface as podwire', () => {
    const out = join(work, 'dns-lookup');
    const r = spawnSync('node', ['dist/src/cli/main.js', 'parity', 'scenarios/dns-lookup.yaml', '-o', out], { encoding: 'utf8', timeout: 180_000 });
    // The namespaces it made are gone.
    const made = /kernel: \d+ namespaces \(([^)]*)\)/.exec(r.stderr)?.[1]?.split(', ') ?? [];
    expect(made.length).toBe(9);
    const now = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]);
    expect(made.filter((n) => now.includes(n))).toEqual([]);
    expect(r.stderr).toContain("pod kube-system/coredns-1 (coredns): podwire's CoreDNS answer code on real sockets");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as CompareReport;
    expect(report.points.filter((p) => p.status !== 'match').map((p) => p.capturePoint)).toEqual([]);
    // The traffic really ran: the shell's eth0 carried every query and answer (10 of each, plus ARP).
    const shell = report.points.find((p) => p.capturePoint === 'kr-shell-eth0')!;
    expect(shell.reference.length).toBe(23);
    expect(shell.reference).toEqual(shell.podwire);
    // What the real tools printed is what podwire's printed (dig's full output aside: its version, ID, cookie and times differ).
    for (const step of ['01', '02', '03', '05']) {
      expect(readFileSync(join(out, 'kernel', 'outputs', `${step}-shell.txt`), 'utf8'), step).toBe(readFileSync(join(out, 'podwire', 'outputs', `${step}-shell.txt`), 'utf8'));
    }
    expect(readFileSync(join(out, 'kernel', 'outputs', '01-shell.txt'), 'utf8')).toContain(';; Got recursion not available from 10.96.0.10\n');
  });
});
