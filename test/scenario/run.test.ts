import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { captureProblems } from '../helpers/tshark.js';

const root = mkdtempSync(join(tmpdir(), 'podwire-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('podwire run scenarios/same-node-ping.yaml', () => {
  const spec = loadScenarioFile('scenarios/same-node-ping.yaml');
  const a = runScenario(spec, { out: join(root, 'a'), seed: 7 });

  it("prints ping's output and exits 0", () => {
    expect(a.steps).toHaveLength(1);
    expect(a.steps[0]!.exitCode).toBe(0);
    const out = readFileSync(join(a.dir, a.steps[0]!.outputFile), 'utf8');
    expect(out).toMatch(/^PING 10\.244\.1\.3 \(10\.244\.1\.3\) 56\(84\) bytes of data\.\n64 bytes from 10\.244\.1\.3: icmp_seq=1 ttl=64 time=\d+\.\d{3} ms\n64 bytes from 10\.244\.1\.3: icmp_seq=2 ttl=64 time=\d+\.\d{3} ms\n\n--- 10\.244\.1\.3 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time 1000ms\nrtt min\/avg\/max\/mdev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms\n$/);
  });

  it('writes one pcap per interface that carried traffic, indexed by host, all clean in tshark', () => {
    const index = JSON.parse(readFileSync(join(a.dir, 'interfaces.json'), 'utf8')) as { interfaces: { file: string; host: string; name: string; kind: string; peer?: { host: string } }[] };
    const names = index.interfaces.map((i) => `${i.host}/${i.name}`).sort();
    expect(names.filter((n) => !n.startsWith('n1/veth'))).toEqual(['n1/cni0', 'pa/eth0', 'pb/eth0']);
    expect(index.interfaces.filter((i) => i.kind === 'veth' && i.host === 'n1').map((i) => i.peer?.host).sort()).toEqual(['pa', 'pb']);
    for (const i of index.interfaces) expect(captureProblems(join(a.dir, i.file)), i.file).toEqual([]);
    expect(captureProblems(join(a.dir, 'all.pcapng'))).toEqual([]);
  });

  it('traces every device crossing with the frame number of its capture file', () => {
    const lines = readFileSync(join(a.dir, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const index = JSON.parse(readFileSync(join(a.dir, 'interfaces.json'), 'utf8')) as { interfaces: { netns: string; name: string; packets: number }[] };
    for (const i of index.interfaces) {
      const hops = lines.filter((l) => l['hop'] && l['netns'] === i.netns && l['dev'] === i.name);
      expect(hops.map((h) => h['frame']), `${i.netns}/${i.name}`).toEqual(Array.from({ length: i.packets }, (_, k) => k + 1));
    }
    const first = lines.find((l) => l['hop'] === 'tx' && l['netns'] === 'pa' && typeof l['t'] === 'number' && (l['t'] as number) >= a.trafficStartNs)!;
    expect(first).toMatchObject({ dev: 'eth0', len: 42 }); // pa's ARP request opens the journey
  });

  it('gives byte-identical files for the same seed, different ones for another seed', () => {
    const b = runScenario(spec, { out: join(root, 'b'), seed: 7 });
    const c = runScenario(spec, { out: join(root, 'c'), seed: 8 });
    const content = (dir: string) => files(dir).map((f) => [relative(dir, f), readFileSync(f).toString('hex')]).sort();
    expect(content(b.dir)).toEqual(content(a.dir));
    expect(content(c.dir)).not.toEqual(content(a.dir));
  });

  it('leaves no folder behind when the output exists and may not be replaced', () => {
    expect(() => runScenario(spec, { out: a.dir, seed: 7 })).toThrow(/already exists/);
    expect(readdirSync(root).filter((n) => n.startsWith('.podwire-tmp'))).toEqual([]);
  });
});
