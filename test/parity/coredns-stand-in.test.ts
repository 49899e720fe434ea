/**
 * Kernel parity's CoreDNS (src/parity/stand-ins/coredns.ts) without a kernel: the world file
 * parity writes from podwire's model at the first traffic step, read back as coredns-main.js reads
 * it, must answer every query of podwire's run with the very bytes podwire's emulated CoreDNS sent
 * — so that on the kernel, any difference is the datapath's or a client's, never the server's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCorednsArgs, startCoredns, type CorednsQuery } from '../../src/apps/coredns.js';
import { BUILTIN_NAMESPACES } from '../../src/k8s/services/dns-view.js';
import { planServers } from '../../src/parity/servers.js';
import { WORLD_FILE, snapshotDnsView, viewOfSnapshot, worldRuntime, type CorednsWorld, type DnsViewSnapshot } from '../../src/parity/stand-ins/coredns.js';
import type { KernelProgram } from '../../src/parity/stand-ins/program.js';
import { readCaptureFile } from '../../src/pcap/index.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { RunStopped, runScenario } from '../../src/scenario/run.js';
import type { PodSpec } from '../../src/scenario/spec.js';
import type { KubeletFiles } from '../../src/scenario/container-files.js';

const work = mkdtempSync(join(tmpdir(), 'podwire-coredns-stand-in-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** podwire's run of `scenario`, and the CoreDNS programs parity would start on the kernel for it. */
function planned(scenario: string): { dir: string; programs: readonly KernelProgram[]; unrealizable: readonly string[] } {
  const spec = loadScenarioFile(`scenarios/${scenario}.yaml`);
  const dir = join(work, scenario);
  const run = runScenario(spec, { out: dir, seed: 1 });
  let plan: ReturnType<typeof planServers> | undefined;
  try {
    runScenario(spec, {
      out: join(work, `${scenario}-model`),
      seed: 1,
      stopAtNs: run.trafficStartNs,
      onStop: (cluster, seen) => {
        const kubelet = (p: PodSpec): KubeletFiles => ({ podIp: cluster.pod(p.namespace, p.name)?.ip, clusterDns: cluster.services.dnsServiceIp, nodeNameservers: spec.cluster.nameservers });
        const namespaces = [...BUILTIN_NAMESPACES, ...[...cluster.pods.values()].map((p) => p.model.namespace)];
        const dns = seen.dnsView === undefined ? undefined : snapshotDnsView(seen.dnsView, namespaces);
        plan = planServers(spec, 1, run.trafficStartNs, (ns, name) => cluster.pod(ns, name)?.netns.name, kubelet, dns);
      },
    });
  } catch (e) {
    if (!(e instanceof RunStopped)) throw e;
  }
  return { dir, programs: plan!.programs, unrealizable: plan!.unrealizable.map((u) => `${u.label}: ${u.reason}`) };
}

/** The DNS payloads of a capture's UDP frames to port 53 (queries) and from it (answers), in order. */
function dnsOf(pcap: string): { queries: Uint8Array[]; answers: Uint8Array[] } {
  const queries: Uint8Array[] = [];
  const answers: Uint8Array[] = [];
  for (const p of readCaptureFile(pcap).packets) {
    const b = p.data;
    if (b[12] !== 0x08 || b[13] !== 0x00 || b[14 + 9] !== 17) continue;
    const l4 = 14 + (b[14]! & 0x0f) * 4;
    const src = (b[l4]! << 8) | b[l4 + 1]!;
    const dst = (b[l4 + 2]! << 8) | b[l4 + 3]!;
    const payload = b.subarray(l4 + 8);
    if (dst === 53) queries.push(payload);
    else if (src === 53) answers.push(payload);
  }
  return { queries, answers };
}

/** The stand-in as coredns-main.js runs it, but on an in-memory socket: each query's answer bytes. */
function serve(program: KernelProgram, queries: readonly Uint8Array[]): { answers: Uint8Array[]; log: string } {
  const world = JSON.parse(new TextDecoder().decode(program.files!.get(WORLD_FILE)!)) as CorednsWorld;
  let onQuery: ((q: CorednsQuery) => void) | undefined;
  let log = '';
  const answers: Uint8Array[] = [];
  const code = startCoredns(parseCorednsArgs(world.args), {
    ...worldRuntime(world),
    stdout: (t) => (log += t),
    // podwire's run answers within the same second: TTLs of cached answers count down alike.
    nowNs: () => 0,
    after: (_delayNs, fn) => {
      fn();
      return { cancel: () => {} };
    },
    listenUdp: (port, handler) => {
      expect(port).toBe(program.listen.port);
      onQuery = handler;
    },
    dialUdp: () => {
      throw new Error('no upstream in this test');
    },
  });
  expect(code).toBeUndefined();
  for (const q of queries) onQuery!({ data: q, reply: (bytes) => answers.push(bytes) });
  return { answers, log };
}

const hex = (bs: readonly Uint8Array[]): string[] => bs.map((b) => Buffer.from(b).toString('hex'));

describe("kernel parity's CoreDNS: podwire's answer code, podwire's model", () => {
  it('dns-lookup: every answer of the kube-dns pod is byte for byte the one podwire sent (A, headless A shuffled, SRV, NXDOMAIN and NODATA with the SOA)', () => {
    const { dir, programs, unrealizable } = planned('dns-lookup');
    expect(unrealizable).toEqual([]);
    const coredns = programs.find((p) => p.label === 'pod kube-system/coredns-1 (coredns)')!;
    expect(coredns.listen).toEqual({ protocol: 'udp', port: 53 });
    expect(coredns.argv[0]).toBe(process.execPath);
    expect(coredns.argv.slice(1).map((a) => a.replace(/^.*\//, ''))).toEqual(['coredns-main.js', WORLD_FILE]);
    const { queries, answers } = dnsOf(join(dir, 'captures/coredns-1/eth0.pcap'));
    expect(queries.length).toBe(10); // nslookup 2 + 5 (search list), dig 1 + 1, getent 1
    const served = serve(coredns, queries);
    expect(hex(served.answers)).toEqual(hex(answers));
    // It starts as podwire's CoreDNS does (the same lines in its log).
    expect(served.log).toContain('.:53\n[INFO] plugin/reload: Running configuration SHA512 = ');
  });

  it("ndots-external: the DNS host's CoreDNS (hosts plugin) answers from the Host's own files, no Services", () => {
    const { dir, programs } = planned('ndots-external');
    const host = programs.find((p) => p.label === 'host dns')!;
    const world = JSON.parse(new TextDecoder().decode(host.files!.get(WORLD_FILE)!)) as CorednsWorld;
    expect([world.label, world.dns, Object.keys(world.files)]).toEqual(['dns', undefined, ['/etc/coredns/Corefile']]);
    const { queries, answers } = dnsOf(join(dir, 'captures/dns/eth0.pcap'));
    expect(queries.length).toBe(2);
    expect(hex(serve(host, queries).answers)).toEqual(hex(answers));
  });

  it("a snapshot of the Services answers as the live view did, and keeps only the namespaces that exist", () => {
    const live = {
      namespaceExists: (ns: string) => ns === 'default' || ns === 'shop',
      service: () => undefined,
      endpoints: (ns: string, name: string) => (ns === 'shop' && name === 'db' ? [{ ip: 0x0af4_0107, hostname: 'db-0', ports: [] }] : []),
      services: () => [{ namespace: 'shop', name: 'db', clusterIp: null, ports: [] }],
      modifiedUnixSec: () => 1_767_225_000,
    };
    const snap: DnsViewSnapshot = JSON.parse(JSON.stringify(snapshotDnsView(live, ['default', 'nope', 'shop']))) as DnsViewSnapshot;
    expect(snap.namespaces).toEqual(['default', 'shop']);
    const view = viewOfSnapshot(snap);
    expect([view.namespaceExists('shop'), view.namespaceExists('nope'), view.modifiedUnixSec()]).toEqual([true, false, 1_767_225_000]);
    expect(view.endpoints('shop', 'db')).toEqual(live.endpoints('shop', 'db'));
    expect(view.service('shop', 'db')).toEqual(live.services()[0]);
  });
});
