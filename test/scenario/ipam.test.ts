import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { captureProblems } from '../helpers/tshark.js';

const root = mkdtempSync(join(tmpdir(), 'podwire-ipam-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('scenarios/ipam-round-robin.yaml', () => {
  const run = runScenario(loadScenarioFile('scenarios/ipam-round-robin.yaml'), { out: join(root, 'run'), seed: 1 });
  const out = (n: number) => readFileSync(join(run.dir, run.steps[n - 1]!.outputFile), 'utf8');

  it('shows what the bridge plugin configured, as iproute2 prints it', () => {
    expect(out(1)).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    link\/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n    inet 127\.0\.0\.1\/8 scope host lo\n/);
    expect(out(1)).toMatch(/\n2: eth0@if\d+: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n    link\/ether [0-9a-f:]{17} brd ff:ff:ff:ff:ff:ff link-netnsid 0\n    inet 10\.244\.1\.2\/29 brd 10\.244\.1\.7 scope global eth0\n/);
    expect(out(2)).toBe('default via 10.244.1.1 dev eth0 \n10.244.1.0/29 dev eth0 proto kernel scope link src 10.244.1.2 \n');
    expect(out(6)).toMatch(/^10\.244\.1\.3 dev eth0 lladdr [0-9a-f:]{17} REACHABLE \n$/);
  });

  it("keeps a sidecar's pings of 127.0.0.1 and of its pod IP inside the pod", () => {
    expect(out(3)).toContain('1 packets transmitted, 1 received');
    expect(out(4)).toContain('64 bytes from 10.244.1.2: icmp_seq=1 ttl=64');
    const index = JSON.parse(readFileSync(join(run.dir, 'interfaces.json'), 'utf8')) as { interfaces: { host: string; name: string; packets: number; file: string }[] };
    const lo = index.interfaces.find((i) => i.host === 'pa' && i.name === 'lo')!;
    expect(lo.packets).toBe(4); // two pings: request and reply; tcpdump -i lo shows each once (libpcap skips lo's outgoing copies)
    expect(captureProblems(join(run.dir, lo.file))).toEqual([]);
  });

  it('hands out IPs round-robin after a delete, wraps around, then leaves a pod in ContainerCreating', () => {
    const view = out(13);
    const ip = (pod: string) => new RegExp(`^${pod} .*`, 'm').exec(view)?.[0].split(/\s+/)[5];
    expect(out(7)).toBe('pod "pa" deleted\n');
    expect([ip('pb'), ip('pc'), ip('pd'), ip('pe'), ip('pf'), ip('pg')]).toEqual(['10.244.1.3', '10.244.1.4', '10.244.1.5', '10.244.1.6', '10.244.1.2', '<none>']);
    expect(view).toMatch(/^pg +0\/1 +ContainerCreating /m);
    const pods = JSON.parse(readFileSync(join(run.dir, 'run.json'), 'utf8')).pods as { name: string; events: string[] }[];
    expect(pods.find((p) => p.name === 'pg')!.events[0]).toContain('failed (add): failed to allocate for range 0: no IP addresses available in range set: 10.244.1.1-10.244.1.6');
  });

  it('creates a pod from a manifest applied during the run, on the address freed last', () => {
    expect(out(14)).toBe('pod "pb" deleted\n');
    expect(out(15)).toBe('pod/ph created\n');
    expect(out(16)).toMatch(/^ph +1\/1 +Running +0 +\d+s +10\.244\.1\.3 +n1 /m);
    expect(out(16)).not.toMatch(/^pb /m);
  });
});
