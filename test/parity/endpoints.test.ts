/**
 * Reading kube-proxy's endpoint choice back from a run's captures (no root needed: podwire's own
 * runs of the clusterip-http reference and of service-three-endpoints), and the scripted statistic
 * draws (statistic-draws.ts, computed from the node's rendered rules) that steer it through the
 * real statistic match without touching anything else of the run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/packet/addr.js';
import * as ethernet from '../../src/packet/ethernet.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import { readCaptureFile } from '../../src/pcap/index.js';
import { parseIptablesSave, renderIptablesSave } from '../../src/net/netfilter/iptables-save.js';
import type { Ruleset } from '../../src/net/netfilter/rules.js';
import { describeChoices, dnatChoices, type DnatChoice } from '../../src/parity/endpoints.js';
import { statisticDraws } from '../../src/parity/statistic-draws.js';
import { loadScenarioFile, loadScenarioText } from '../../src/scenario/load.js';
import { runScenario, type RunOptions } from '../../src/scenario/run.js';
import type { ScenarioSpec } from '../../src/scenario/spec.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-endpoints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const spec = loadScenarioFile('scenarios/reference/clusterip-http.yaml');
const services = new Set([parseIpv4('10.96.0.100'), parseIpv4('10.96.0.10'), parseIpv4('10.96.0.200'), parseIpv4('10.96.0.1')]);

/** A run, and n1's iptables rules as iptables-save prints them at its end (what parity hands the kernel). */
function runWithRules(s: ScenarioSpec, opts: RunOptions): Map<string, Ruleset> {
  const rules = new Map<string, Ruleset>();
  runScenario(s, {
    ...opts,
    onStop: (cluster) => {
      for (const node of cluster.nodes.keys()) {
        const ruleset = cluster.namespaces.get(node)?.netfilter?.ruleset;
        if (ruleset !== undefined) rules.set(node, parseIptablesSave(renderIptablesSave(ruleset, { date: new Date(0) })));
      }
    },
  });
  return rules;
}

describe('dnatChoices', () => {
  it('finds the endpoint kube-proxy on n1 DNATed the SYN to, whichever it was', () => {
    const toPc = join(dir, 'pc');
    runScenario(spec, { out: toPc, seed: 1 });
    expect(readFileSync(join(toPc, 'outputs', '01-pa.txt'), 'utf8')).toBe('kr-pc\n');
    expect(dnatChoices(toPc, services)).toEqual([{ node: 'n1', service: '10.96.0.100:80', endpoint: '10.244.2.2:8080', protocol: 'tcp' }]);

    // Only the statistic stream scripted: the other endpoint, with everything else the run's own.
    const rules = runWithRules(spec, { out: join(dir, 'rules'), seed: 1 });
    const follow = statisticDraws([{ node: 'n1', service: '10.96.0.100:80', endpoint: '10.244.1.3:8080', protocol: 'tcp' }], rules);
    expect(follow.ok).toBe(true);
    if (!follow.ok) return;
    const toPb = join(dir, 'pb');
    runScenario(spec, { out: toPb, seed: 1, statisticDraws: follow.draws });
    expect(readFileSync(join(toPb, 'outputs', '01-pa.txt'), 'utf8')).toBe('kr-pb\n');
    expect(describeChoices(dnatChoices(toPb, services))).toEqual(['kube-proxy on n1 chose 10.244.1.3:8080 for 10.96.0.100:80']);
    const macs = (run: string): string[] => (JSON.parse(readFileSync(join(run, 'interfaces.json'), 'utf8')) as { interfaces: { netns: string; name: string; mac: string }[] }).interfaces.map((i) => `${i.netns}/${i.name} ${i.mac}`);
    // (interfaces.json lists the interfaces that carried packets: pb's run never used the underlay.)
    expect(macs(toPb).length).toBeGreaterThan(5);
    expect(macs(toPb).filter((m) => !macs(toPc).includes(m))).toEqual([]);
    // The run says how it was made.
    expect((JSON.parse(readFileSync(join(toPb, 'run.json'), 'utf8')) as { statisticDraws?: unknown }).statisticDraws).toEqual({ n1: [0] });
  });

  it('thirty connections among three endpoints follow a chosen sequence, in order', () => {
    const three = loadScenarioFile('scenarios/service-three-endpoints.yaml');
    const web = new Set([parseIpv4('10.96.0.60')]);
    const plain = join(dir, 'three-plain');
    const rules = runWithRules(three, { out: plain, seed: 1 });
    const seeded = dnatChoices(plain, web);
    expect(seeded).toHaveLength(30);
    // The seed's own choices, each moved on to the next endpoint: a sequence the seed does not make.
    const endpoints = ['10.244.1.3:5678', '10.244.2.2:5678', '10.244.2.3:5678'];
    const wanted: DnatChoice[] = seeded.map((c) => ({ ...c, endpoint: endpoints[(endpoints.indexOf(c.endpoint) + 1) % 3]! }));
    const follow = statisticDraws(wanted, rules);
    expect(follow.ok).toBe(true);
    if (!follow.ok) return;
    const steered = join(dir, 'three-steered');
    runScenario(three, { out: steered, seed: 1, statisticDraws: follow.draws });
    expect(dnatChoices(steered, web)).toEqual(wanted);
    // Each curl printed the page of the endpoint chosen (web-1 on n1, web-2 and web-3 on n2).
    const pages = Array.from({ length: 30 }, (_, i) => readFileSync(join(steered, 'outputs', `${String(i + 2).padStart(2, '0')}-client.txt`), 'utf8').trim());
    expect(pages).toEqual(wanted.map((c) => `web-${endpoints.indexOf(c.endpoint) + 1}`));
  });

  it('sees each UDP flow through kube-dns with two CoreDNS endpoints, once, and steers it', () => {
    // dns-lookup with a second CoreDNS replica on n1: every lookup's flow to 10.96.0.10:53 takes a
    // draw. ping's getaddrinfo (AF_UNSPEC) sends A and AAAA on one socket: one flow, one draw.
    const text = readFileSync('scenarios/dns-lookup.yaml', 'utf8');
    const coredns1 = /---\napiVersion: v1\nkind: Pod\nmetadata: \{ name: coredns-1,[\s\S]*?(?=\n---)/.exec(text)![0];
    const withTwo = text.replace(coredns1, `${coredns1}\n${coredns1.replace('coredns-1', 'coredns-2').replace('nodeName: n2', 'nodeName: n1')}`);
    const twoDns = loadScenarioText(`${withTwo}  - kubectl exec shell -- ping -c 1 -W 1 checkout-api\n`, 'dns-lookup-two-coredns.yaml');
    const dns = new Set([parseIpv4('10.96.0.10')]);
    const plain = join(dir, 'dns-plain');
    const rules = runWithRules(twoDns, { out: plain, seed: 1 });
    const seeded = dnatChoices(plain, dns);
    // A flow per resolver socket: ping's A and AAAA share one, so there is one choice fewer than queries.
    const toKubeDns = (b: Uint8Array): boolean => ethernet.ethertype(b, 0) === 0x0800 && ipv4.protocol(b, ethernet.HEADER_LEN) === ipv4.PROTO_UDP && ipv4.dst(b, ethernet.HEADER_LEN) === parseIpv4('10.96.0.10');
    const queries = readCaptureFile(join(plain, 'captures', 'shell', 'eth0.pcap')).packets.filter((p) => toKubeDns(p.data)).length;
    expect(seeded).toHaveLength(queries - 1);
    expect(seeded.length).toBeGreaterThan(5);
    expect(new Set(seeded.map((c) => `${c.node} ${c.service} ${c.protocol}`))).toEqual(new Set(['n1 10.96.0.10:53 udp']));
    const endpoints = [...new Set(seeded.map((c) => c.endpoint))].sort();
    expect(endpoints).toHaveLength(2);
    const flipped: DnatChoice[] = seeded.map((c) => ({ ...c, endpoint: c.endpoint === endpoints[0] ? endpoints[1]! : endpoints[0]! }));
    const follow = statisticDraws(flipped, rules);
    expect(follow.ok).toBe(true);
    if (!follow.ok) return;
    const steered = join(dir, 'dns-steered');
    runScenario(twoDns, { out: steered, seed: 1, statisticDraws: follow.draws });
    expect(dnatChoices(steered, dns)).toEqual(flipped);
    expect(describeChoices(flipped)[0]).toMatch(/^kube-proxy on n1 chose 10\.244\.\d\.\d+:53 for 10\.96\.0\.10:53\/udp$/);
  });

  it('sees no choice where nothing went to a ClusterIP', () => {
    const run = join(dir, 'none');
    runScenario(spec, { out: run, seed: 1 });
    expect(dnatChoices(run, new Set())).toEqual([]);
  });
});
