/**
 * `podwire report`: the model behind the page (topology from interfaces.json, the ladder from
 * trace.jsonl), the page's escaping of what comes from a scenario, byte-identical output for the
 * same run, and the one-line errors that leave no report behind.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { InterfaceRecord } from '../../../src/capture/index.js';
import { JourneyRun } from '../../../src/explain/journey-run.js';
import { buildLadder } from '../../../src/explain/report/ladder.js';
import { buildTopology } from '../../../src/explain/report/topology.js';
import { ReportInputError, writeReport } from '../../../src/explain/report/write-report.js';
import { loadScenarioFile } from '../../../src/scenario/load.js';
import { runScenario } from '../../../src/scenario/run.js';
import { captureProblems } from '../../helpers/tshark.js';

const root = mkdtempSync(join(tmpdir(), 'podwire-report-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** As test/explain/journey.test.ts: all.pcapng holds each packet once per interface, so no TCP analysis across copies. */
const MERGED = ['-o', 'tcp.analyze_sequence_numbers:FALSE', '-o', 'tcp.desegment_tcp_streams:FALSE', '--disable-protocol', 'http'];

function run(name: string, as = name): string {
  const dir = runScenario(loadScenarioFile(`scenarios/${name}.yaml`), { out: join(root, as), seed: 1 }).dir;
  expect(captureProblems(join(dir, 'all.pcapng'), MERGED)).toEqual([]);
  return dir;
}

function podwire(...args: string[]) {
  const r = spawnSync('node', ['dist/src/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineError(r: ReturnType<typeof podwire>, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const vethName = (s: string): string => s.replace(/veth[0-9a-f]{8}/g, 'veth*');

describe('the report of scenarios/cross-node-ping.yaml', () => {
  const dir = run('cross-node-ping');
  const records = (JSON.parse(readFileSync(join(dir, 'interfaces.json'), 'utf8')) as { interfaces: InterfaceRecord[] }).interfaces;

  it('builds the topology from interfaces.json: pods under their node, bridge ports, tunnels, the switch', () => {
    const t = buildTopology(records);
    expect(t.nodes.map((h) => h.name)).toEqual(['n1', 'n2']);
    expect(t.switches.map((h) => h.name)).toEqual(['underlay']);
    expect(t.podsByNode.get('n1')?.map((h) => h.name)).toEqual(['pa']);
    expect(t.podsByNode.get('n2')?.map((h) => h.name)).toEqual(['pc']);
    const n1 = t.nodes[0]!;
    // From the pods down to the cable: the bridge, its port, the tunnel, the uplink.
    expect(n1.interfaces.map((i) => `${vethName(i.name)} ${i.kind}${i.bridge ? ` port of ${i.bridge}` : ''}`)).toEqual([
      'cni0 bridge', 'veth* veth port of cni0', 'flannel.1 vxlan', 'eth0 veth',
    ]);
    expect(n1.interfaces.find((i) => i.name === 'eth0')?.addresses).toEqual(['192.168.1.10/24']);
    const underlay = t.switches[0]!;
    expect(underlay.interfaces.filter((i) => i.bridge === 'br0').map((i) => i.name).sort()).toEqual(['sw-n1', 'sw-n2']);
  });

  it('draws one ladder arrow per cable the first echo request crossed, pod to node to switch to node to pod', () => {
    const r = new JourneyRun(dir);
    const ladder = buildLadder(r, buildTopology(r.interfaces), 100);
    expect(ladder.lanes.map((l) => l.host)).toEqual(['pa', 'n1', 'underlay', 'n2', 'pc']);
    expect(ladder.totalPackets).toBe(12);
    const request = ladder.arrows.find((a) => a.label.startsWith('ICMP echo request'))!.pkt;
    const hops = ladder.arrows.filter((a) => a.pkt === request);
    expect(hops.map((a) => `${ladder.lanes[a.from]!.host}→${ladder.lanes[a.to]!.host} ${a.label}`)).toEqual([
      'pa→n1 ICMP echo request 10.244.1.2 → 10.244.2.2',
      'n1→underlay VXLAN: ICMP echo request 10.244.1.2 → 10.244.2.2',
      'underlay→n2 VXLAN: ICMP echo request 10.244.1.2 → 10.244.2.2',
      'n2→pc ICMP echo request 10.244.1.2 → 10.244.2.2',
    ]);
    // Every arrow arrived (no lossy cable here), after it left; rows are in the order frames left.
    for (const a of ladder.arrows) expect(a.rxNs).toBeGreaterThan(a.txNs);
    const tx = ladder.arrows.map((a) => a.txNs);
    expect(tx).toEqual([...tx].sort((a, b) => a - b));
  });

  it('keeps the first N packets with --limit and says in the page that it cut the rest', () => {
    const r = new JourneyRun(dir);
    const ladder = buildLadder(r, buildTopology(r.interfaces), 3);
    expect(ladder.packets).toEqual([1, 2, 3]);
    expect(new Set(ladder.arrows.map((a) => a.pkt))).toEqual(new Set([1, 2, 3]));
    const out = join(root, 'limited.html');
    expect(writeReport(dir, { out, limit: 3 })).toMatchObject({ packets: 3, totalPackets: 12 });
    const html = readFileSync(out, 'utf8');
    expect(html).toContain("Truncated: the first 3 of the run's 12 packets are shown");
    expect(html).toContain('id="pkt-3"');
    expect(html).not.toContain('id="pkt-4"');
  });

  it('writes the page: topology names and addresses, ladder rows linked to each packet\'s journey and anatomy', () => {
    const r = podwire('report', dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*report\.html: 12 packets\n$/);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    for (const text of ['node n1', 'pod pc', '10.244.2.2/24', '192.168.1.11/24', 'flannel.1 (vxlan, mtu 1450)', 'switch underlay']) expect(html).toContain(text);
    // Nothing fetched: no external URL anywhere in the page.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    // The VXLAN frame's anatomy: outer and inner headers, the TTL, the marked hex dump.
    const from = html.indexOf('<details class="packet" id="pkt-3">');
    const pkt3 = html.slice(from, html.indexOf('<details class="packet"', from + 1));
    for (const text of ['[V] VXLAN VNI 1', '[i] IPv4 10.244.1.2 → 10.244.2.2', 'Time to live', 'ttl 64 → 63', 'delivered in pod pc']) expect(pkt3).toContain(text);
    expect(html).toMatch(/<a class="hop" href="#pkt-3-hop-\d+" data-pkt="3"/);
  });

  it('writes the same bytes for the same run, wherever the run folder is', () => {
    const again = run('cross-node-ping', 'cross-node-ping-again');
    const a = writeReport(dir, { out: join(root, 'a.html') });
    const b = writeReport(again, { out: join(root, 'b.html') });
    expect(readFileSync(b.file).equals(readFileSync(a.file))).toBe(true);
    expect(readFileSync(writeReport(dir, { out: join(root, 'a2.html') }).file).equals(readFileSync(a.file))).toBe(true);
  });

  it('escapes what comes from the scenario: host names, commands and their output', () => {
    const evil = join(root, 'evil');
    cpSync(dir, evil, { recursive: true });
    rmSync(join(evil, 'report.html'), { force: true });
    const tag = '<script>alert("pwned")</script>';
    const ifPath = join(evil, 'interfaces.json');
    writeFileSync(ifPath, readFileSync(ifPath, 'utf8').replaceAll('"host": "pa"', `"host": ${JSON.stringify(`pa${tag}`)}`));
    writeFileSync(join(evil, 'outputs/01-pa.txt'), `${readFileSync(join(evil, 'outputs/01-pa.txt'), 'utf8')}${tag}\n<img src=x onerror=alert(1)>\n`);
    const runJson = join(evil, 'run.json');
    writeFileSync(runJson, readFileSync(runJson, 'utf8').replace('"scenario": "scenarios/cross-node-ping.yaml"', `"scenario": ${JSON.stringify(`x${tag}.yaml`)}`));
    const html = readFileSync(writeReport(evil).file, 'utf8');
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).toContain('pa&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // The page's own script is its only one.
    expect(html.match(/<script>/g)).toHaveLength(1);
  });
});

describe('the ladder of a lossy cable', () => {
  it('marks a frame that left and never arrived as lost, and the page says so', () => {
    // cross-node-ping with half of what crosses n2's cable lost (the seed decides which).
    const yaml = join(root, 'lossy.yaml');
    writeFileSync(yaml, readFileSync('scenarios/cross-node-ping.yaml', 'utf8')
      .replace('  overlay: flannel-vxlan\n', '  overlay: flannel-vxlan\n  underlay: { links: [{ name: n2, loss: 0.5 }] }\n')
      .replace('ping -c 2', 'ping -c 4 -W 1'));
    const dir = runScenario(loadScenarioFile(yaml), { out: join(root, 'lossy'), seed: 1 }).dir;
    expect(captureProblems(join(dir, 'all.pcapng'), MERGED)).toEqual([]);
    const r = new JourneyRun(dir);
    const ladder = buildLadder(r, buildTopology(r.interfaces), 100);
    const lost = ladder.arrows.filter((a) => a.rxNs === undefined);
    expect(lost.length).toBeGreaterThan(0);
    // Only n2's cable loses frames, and a lost frame's packet was never seen on the far side.
    for (const a of lost) {
      expect([a.fromDev, a.toDev].sort()).toEqual(['n2 eth0', 'underlay sw-n2']);
      const far = a.toDev.split(' ');
      expect(r.byPacket.get(a.pkt)!.some((l) => l.kind === 'hop' && l.t >= a.txNs && r.device(l.netns, l.dev)?.host === far[0] && l.dev === far[1])).toBe(false);
    }
    const html = readFileSync(writeReport(dir).file, 'utf8');
    expect(html.match(/never received \(lost\)"/g)).toHaveLength(lost.length);
  });
});

describe('podwire report: errors are one line, exit 2, and leave no report behind', () => {
  it('a missing folder', () => {
    expectOneLineError(podwire('report', join(root, 'nowhere')), /^podwire: .*nowhere: no such folder$/m);
  });

  it('a folder that is not a run folder', () => {
    const d = mkdtempSync(join(root, 'plain-'));
    expectOneLineError(podwire('report', d), /not a run folder \(no interfaces\.json or trace\.jsonl/);
    expect(readdirSync(d)).toEqual([]);
  });

  it('an unreadable trace', () => {
    const d = join(root, 'bad-trace');
    cpSync(join(root, 'cross-node-ping'), d, { recursive: true });
    rmSync(join(d, 'report.html'), { force: true });
    writeFileSync(join(d, 'trace.jsonl'), `${readFileSync(join(d, 'trace.jsonl'), 'utf8').split('\n').slice(0, 5).join('\n')}\n{"t":1,"hop":\n`);
    expectOneLineError(podwire('report', d), /trace\.jsonl:6: not a JSON line/);
    expect(existsSync(join(d, 'report.html'))).toBe(false);
  });

  it('a capture cut short while the page is being written: nothing half-written, an old report kept', () => {
    const d = join(root, 'cut-capture');
    cpSync(join(root, 'cross-node-ping'), d, { recursive: true });
    writeFileSync(join(d, 'report.html'), 'the old report');
    const pcap = join(d, 'captures/pc/eth0.pcap');
    // Only the file header and the first record remain: later frames the trace names are gone.
    writeFileSync(pcap, readFileSync(pcap).subarray(0, 24 + 16 + 42));
    expect(() => writeReport(d)).toThrow(ReportInputError);
    const r = podwire('report', d);
    expectOneLineError(r, /captures\/pc\/eth0\.pcap has no frame \d+/);
    expect(readFileSync(join(d, 'report.html'), 'utf8')).toBe('the old report');
    expect(readdirSync(d).filter((f) => f.includes('tmp'))).toEqual([]);
  });

  it('a bad --limit', () => {
    expectOneLineError(podwire('report', join(root, 'cross-node-ping'), '--limit', '0'), /--limit 0: a number of packets, 1 or more/);
  });
});

describe('podwire run --report', () => {
  it('writes RUN/report.html once the run is complete', () => {
    const out = join(root, 'run-report');
    const r = podwire('run', 'scenarios/same-node-ping.yaml', '-o', out, '-q', '--report');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('report.html');
    expect(captureProblems(join(out, 'all.pcapng'), MERGED)).toEqual([]);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('podwire report: scenarios/same-node-ping.yaml (seed 1)');
    expect(html).toContain('ICMP echo request');
    // The same page podwire report writes for the folder afterwards.
    expect(readFileSync(writeReport(out, { out: join(root, 'same-node.html') }).file).equals(readFileSync(join(out, 'report.html')))).toBe(true);
  });
});
