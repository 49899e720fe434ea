/**
 * parity --replay on the real kernel: podwire's own frames injected with libpcap into the
 * kernel's realization, and the kernel's reaction to each set next to podwire's. Needs root,
 * `ip netns` and the optional dependency cap (a built libpcap binding): without them the tests
 * are skipped LOUDLY (a warning with the reason), never passed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompareReport } from '../../src/compare/index.js';
import * as ethernet from '../../src/packet/ethernet.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import { kernelUnavailable, namespacesWithPrefix } from '../../src/parity/kernel.js';
import { capMissing, loadCap } from '../../src/parity/replay-cap.js';
import { runReplay, type SelectedFrame } from '../../src/parity/replay.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { captureProblems, tsharkSummary } from '../helpers/tshark.js';

const cap = loadCap();
const reason = kernelUnavailable() ?? (cap.ok ? undefined : capMissing(cap.reason));
if (reason !== undefined) console.warn(`KERNEL PARITY --replay NOT RUN (skipped, not passed): ${reason}`);

const work = mkdtempSync(join(tmpdir(), 'podwire-replay-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The first echo request, changed by `change` (IPv4 header at 14). */
const firstEcho = (change: (b: Uint8Array) => void) => (f: SelectedFrame): Uint8Array | undefined => {
  if (!/ICMP echo request id \d+ seq 1,/.test(f.what)) return undefined;
  const b = new Uint8Array(f.data);
  change(b);
  return b;
};

// One retry: the real programs race each other, and a loaded two-core machine can move a timer past a packet.
describe.skipIf(reason !== undefined)(`podwire parity --replay on the real kernel${reason ? ` — SKIPPED: ${reason}` : ''}`, { retry: 1 }, () => {
  it("scenarios/same-node-ping.yaml: pa's ARP request and echo requests, injected, get from the kernel the replies they got in podwire", () => {
    const out = join(work, 'same-node-ping');
    rmSync(out, { recursive: true, force: true }); // a retried test runs again into the same folder
    const r = spawnSync('node', ['dist/src/cli/main.js', 'parity', '--replay', 'scenarios/same-node-ping.yaml', '-o', out], { encoding: 'utf8', timeout: 120_000 });
    const made = /kernel: \d+ namespaces \(([^)]*)\)/.exec(r.stderr)?.[1]?.split(', ') ?? [];
    expect(made.length).toBe(4);
    const now = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(made.filter((n) => now.includes(n))).toEqual([]);
    expect(r.stderr).not.toContain('warning:');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('pa/eth0 #'))).toEqual([
      expect.stringMatching(/^pa\/eth0 #2 ARP who-has 10.244.1.3 tell 10.244.1.2: kernel reply: ARP reply 10.244.1.3 is-at [0-9a-f:]{17}; podwire the same — match$/),
      expect.stringMatching(/^pa\/eth0 #5 10.244.1.2 > 10.244.1.3: ICMP echo request id \d+ seq 1, ttl 64: kernel reply: 10.244.1.3 > 10.244.1.2: ICMP echo reply id \d+ seq 1, ttl 64; podwire the same — match$/),
      expect.stringMatching(/^pa\/eth0 #7 .* seq 2, ttl 64: kernel reply: .*ICMP echo reply id \d+ seq 2, ttl 64; podwire the same — match$/),
    ]);
    expect(r.stdout).toContain('replay: 3 frames injected, 3 same reaction, 0 different; 12/12 interfaces match\n');
    expect(r.stdout).toMatch(/^parity --replay same-node-ping: pass; folder /m);
    // Every interface the same, compared on podwire's clock (the rebased copy is a valid capture).
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as CompareReport;
    expect(report.points.filter((p) => p.status !== 'match').map((p) => p.capturePoint)).toEqual([]);
    const rebased = join(out, 'kernel-on-podwire-clock', 'captures', 'pa', 'eth0.pcap');
    expect(tsharkSummary(rebased)).toHaveLength(7);
    expect(captureProblems(rebased)).toEqual([]);
  });

  it('scenarios/cross-node-ping.yaml with the first echo request sent at TTL 1: the kernel answers time exceeded where podwire (TTL 64) got its reply', async () => {
    const spec = loadScenarioFile('scenarios/cross-node-ping.yaml');
    const r = await runReplay(spec, {
      seed: 1,
      out: join(work, 'ttl1'),
      alter: firstEcho((b) => {
        ipv4.setTtl(b, ethernet.HEADER_LEN, 1);
        ipv4.fixChecksum(b, ethernet.HEADER_LEN);
      }),
    });
    expect(namespacesWithPrefix(`pwp${process.pid}-`)).toEqual([]);
    expect(r.ok).toBe(false);
    expect(r.verdicts.map((v) => v.same)).toEqual([true, false, true]);
    const v = r.verdicts[1]!;
    expect(v.what).toMatch(/ICMP echo request id \d+ seq 1, ttl 64$/);
    // The kernel: n1 (the first router, cni0's address) drops it and says so (ip_forward → icmp_send ICMP_TIME_EXCEEDED).
    expect(v.kernel.error).toBe('10.244.1.1 > 10.244.1.2: ICMP time exceeded in-transit, ttl 64');
    expect(v.kernel.reply).toBeUndefined();
    expect(v.kernel.seenOn).not.toContain('pc/eth0');
    expect(v.podwire.reply).toMatch(/^10.244.2.2 > 10.244.1.2: ICMP echo reply id \d+ seq 1, ttl 62$/);
    expect(v.podwire.seenOn).toContain('pc/eth0');
  }, 120_000);

  it('scenarios/cross-node-ping.yaml with a bad IPv4 header checksum: the kernel drops it at n1 without a word', async () => {
    const spec = loadScenarioFile('scenarios/cross-node-ping.yaml');
    const r = await runReplay(spec, { seed: 1, out: join(work, 'badsum'), alter: firstEcho((b) => void (b[ethernet.HEADER_LEN + 10]! ^= 0xff)) });
    expect(namespacesWithPrefix(`pwp${process.pid}-`)).toEqual([]);
    expect(r.ok).toBe(false);
    const v = r.verdicts[1]!;
    expect(v.same).toBe(false);
    expect(v.kernel.reply).toBeUndefined();
    expect(v.kernel.error).toBeUndefined();
    // Seen only where it entered n1 (the bridge port: br_netfilter's ip_rcv checks drop it there).
    expect(v.kernel.seenOn).toHaveLength(1);
    expect(v.kernel.seenOn[0]).toMatch(/^n1\/veth/);
    expect(v.podwire.reply).toMatch(/ICMP echo reply id \d+ seq 1/);
  }, 120_000);
});
