/**
 * Kernel parity on the real kernel: `podwire parity` builds the scenario out of real network
 * namespaces (named pwp<pid>-<netns>, deleted afterwards by exact name), runs the real ping and
 * curl in them against the real python3 -m http.server, captures on every interface and compares with podwire's run. Needs root and `ip netns`:
 * without them the tests are skipped LOUDLY (a warning with the reason), never passed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompareReport } from '../../src/compare/index.js';
import { kernelUnavailable } from '../../src/parity/kernel.js';
import { tsharkSummary } from '../helpers/tshark.js';

const reason = kernelUnavailable();
if (reason !== undefined) console.warn(`KERNEL PARITY NOT RUN (skipped, not passed): ${reason}`);

const work = mkdtempSync(join(tmpdir(), 'podwire-parity-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function parity(scenario: string, out: string) {
  rmSync(out, { recursive: true, force: true }); // a retried test runs again into the same folder
  const r = spawnSync('node', ['dist/src/cli/main.js', 'parity', scenario, '-o', out], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The kernel namespaces the run says it created: none may be left. */
function leftBehind(stderr: string): string[] {
  const made = /kernel: \d+ namespaces \(([^)]*)\)/.exec(stderr)?.[1]?.split(', ') ?? [];
  const now = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]);
  return made.filter((n) => now.includes(n));
}

// One retry: the real programs race each other, and a loaded two-core machine can move a timer past a packet.
describe.skipIf(reason !== undefined)(`podwire parity on the real kernel${reason ? ` — SKIPPED: ${reason}` : ''}`, { retry: 1 }, () => {
  for (const [scenario, points] of [
    // Every device of every namespace, lo included.
    ['scenarios/same-node-ping.yaml', 12],
    ['scenarios/cross-node-ping.yaml', 18],
  ] as const) {
    it(`${scenario}: every interface captures the same packets on the kernel as in podwire`, () => {
      const out = join(work, scenario.replace(/\W/g, '_'));
      const r = parity(scenario, out);
      expect(leftBehind(r.stderr)).toEqual([]);
      expect(r.stderr).not.toContain('warning:');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as CompareReport;
      expect(report.points.length).toBe(points);
      expect(report.points.filter((p) => p.status !== 'match').map((p) => p.capturePoint)).toEqual([]);
      // Traffic really ran: the pinging pod's eth0 saw the ARP exchange and both echoes, on both sides.
      const pa = report.points.find((p) => p.capturePoint === 'kr-pa-eth0')!;
      expect(pa.reference.length).toBe(7);
      expect(pa.reference).toEqual(pa.podwire);
      expect(r.stdout).toContain(`${report.summary}\n`);
      // The kernel's capture files are real tcpdump output that tshark reads.
      expect(tsharkSummary(join(out, 'kernel', 'captures', 'pa', 'eth0.pcap'))).toHaveLength(7);
    });
  }

  // The two deterministic HTTP references (no random endpoint choice): real python servers in pb,
  // pc and ext, the real curl in pa, podwire's kube-proxy and flannel rules in the nodes.
  for (const [scenario, paPackets, servers, exitLine] of [
    ['scenarios/reference/egress-masquerade.yaml', 15, 3, /^kr-ext$/],
    // curl's milliseconds are the machine's wall clock (podwire prints 0 ms): the refusal is what counts.
    ['scenarios/reference/no-endpoints.yaml', 5, 2, /^curl: \(7\) Failed to connect to 10\.96\.0\.200 port 80 after \d+ ms: Couldn't connect to server$/],
  ] as const) {
    it(`${scenario}: curl against real servers, every interface the same on the kernel as in podwire`, () => {
      const out = join(work, scenario.replace(/\W/g, '_'));
      const r = parity(scenario, out);
      expect(leftBehind(r.stderr)).toEqual([]);
      expect(r.stderr).not.toContain('warning:');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^kernel: pod default\/pb \(web\): \/usr\/bin\/python3 -m http.server --protocol HTTP\/1.1 --bind 10.244.1.3 8080 listening \(pid \d+\)$/m);
      // pd runs CoreDNS, which parity cannot run; in podwire's run it sends nothing, so it is left idle — said so.
      expect(r.stdout).toMatch(/^idle here: pod kube-system\/pd \(dns\): coredns\/coredns:1.11.1: .*its pod sends nothing/m);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as CompareReport;
      expect(report.points.length).toBe(30);
      expect(report.points.filter((p) => p.status !== 'match').map((p) => p.capturePoint)).toEqual([]);
      const pa = report.points.find((p) => p.capturePoint === 'kr-pa-eth0')!;
      expect(pa.reference.length).toBe(paPackets);
      expect(pa.reference).toEqual(pa.podwire);
      // What the real curl printed: the page, or the refusal.
      expect(readFileSync(join(out, 'kernel', 'outputs', '01-pa.txt'), 'utf8').trim()).toMatch(exitLine);
      expect(tsharkSummary(join(out, 'kernel', 'captures', 'pa', 'eth0.pcap'))).toHaveLength(paPackets);
      // The servers (by the PIDs the run reported) ended with it.
      const pids = [...r.stderr.matchAll(/listening \(pid (\d+)\)/g)].map((m) => m[1]!);
      expect(pids).toHaveLength(servers);
      expect(pids.filter((pid) => existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('http.server'))).toEqual([]);
    });
  }

  // kube-proxy picks web's endpoint at random on the kernel (statistic --probability 0.5): parity
  // reads the kernel's choice from its captures and, when seed 1 chooses otherwise, scripts
  // podwire's statistic draw on n1 to make the same one — not flaky, whichever endpoint the kernel picks.
  for (const scenario of ['scenarios/reference/clusterip-http.yaml', 'scenarios/reference/clusterip-http-local.yaml']) {
    it(`${scenario}: podwire follows the kernel's endpoint choice, every interface the same`, () => {
      const out = join(work, scenario.replace(/\W/g, '_'));
      const r = parity(scenario, out);
      expect(leftBehind(r.stderr)).toEqual([]);
      expect(r.stderr).not.toContain('warning:');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const choice = /^kube-proxy on n1 chose (10\.244\.1\.3|10\.244\.2\.2):8080 for 10\.96\.0\.100:80 on the kernel; podwire (?:seed 1 makes the same choice|followed the kernel's choices: seed 1 with kube-proxy's statistic draws scripted \(n1: 1 draw\))$/m.exec(r.stdout);
      expect(choice, r.stdout).not.toBeNull();
      // pd (CoreDNS) receives n2's flooded ARP in podwire's first run (seed 1 picks pc) but sends nothing: left idle, said so.
      expect(r.stdout).toMatch(/^idle here: pod kube-system\/pd \(dns\): coredns\/coredns:1.11.1: .*its pod sends nothing/m);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as CompareReport;
      expect(report.points.length).toBe(30);
      expect(report.points.filter((p) => p.status !== 'match').map((p) => p.capturePoint)).toEqual([]);
      // The real curl got the page of the endpoint the kernel chose; podwire's curl the same.
      const page = choice![1] === '10.244.1.3' ? 'kr-pb' : 'kr-pc';
      expect(readFileSync(join(out, 'kernel', 'outputs', '01-pa.txt'), 'utf8').trim()).toBe(page);
      expect(readFileSync(join(out, 'podwire', 'outputs', '01-pa.txt'), 'utf8').trim()).toBe(page);
      const pa = report.points.find((p) => p.capturePoint === 'kr-pa-eth0')!;
      expect(pa.reference.length).toBeGreaterThan(10);
      expect(pa.reference).toEqual(pa.podwire);
      // Traffic to pc crosses flannel.1; to pb it stays on n1's bridge.
      const flannel = report.points.find((p) => p.capturePoint === 'kr-n1-flannel.1')!;
      expect(flannel.reference.length > 0).toBe(page === 'kr-pc');
      expect(tsharkSummary(join(out, 'kernel', 'captures', 'pa', 'eth0.pcap'))).toHaveLength(pa.reference.length);
    });
  }

  it('reports what it cannot realize and claims no pass (exit 1)', () => {
    // 150 pings are more than parity lets a step send on the kernel (bounded traffic).
    const file = join(work, 'unbounded.yaml');
    writeFileSync(file, readFileSync('scenarios/same-node-ping.yaml', 'utf8').replace('ping -c 2 10.244.1.3', 'ping -c 150 -i 0.2 10.244.1.3'));
    const r = parity(file, join(work, 'unbounded'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^not realizable here: step 1 \(kubectl exec pa -- ping -c 150 -i 0\.2 10\.244\.1\.3\): ping needs -c with a count from 1 to 100 \(bounded traffic\)$/m);
    expect(r.stdout).toContain('parity unbounded: not run');
  });

  it('bad input is one line and exit 2', () => {
    const r = parity('scenarios/none.yaml', join(work, 'none'));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
