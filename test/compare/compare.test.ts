/**
 * compareRun on run folders built from the kernel captures themselves: unchanged they match
 * everywhere; one changed, added or missing packet shows as exactly that row at exactly that
 * capture point; known differences allow what they name and nothing more; bad input is a
 * CompareInputError.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import {
  CompareInputError,
  compareRun,
  defaultKnownDifferencesPath,
  diffRows,
  formatReport,
  loadKnownDifferences,
  parseKnownDifferences,
  signatures,
  type CompareReport,
} from '../../src/compare/index.js';
import { decodeFrame, dns, ethernet, ipv4, layerOf, udp } from '../../src/packet/index.js';
import { readCaptureFile } from '../../src/pcap/index.js';
import { KERNEL_DIR } from '../helpers/frames.js';
import { buildRunFolder, framesOf, removeDir, roleEntry, tempDir, type Frame } from './run-folder.js';

const SCENARIOS = readdirSync(KERNEL_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

const NO_KNOWN = { knownDifferences: [] };
const made: string[] = [];

function run(scenario: string, opts: Parameters<typeof buildRunFolder>[1] = {}): string {
  const dir = buildRunFolder(scenario, opts);
  made.push(dir);
  return dir;
}

afterEach(() => {
  while (made.length > 0) removeDir(made.pop()!);
});

function point(report: CompareReport, name: string) {
  const p = report.points.find((q) => q.capturePoint === name);
  if (!p) throw new Error(`no capture point ${name}`);
  return p;
}

/** Sets the TTL of the IPv4 header right after the Ethernet header and fixes its checksum. */
function withTtl(f: Frame, ttl: number): Frame {
  const bytes = new Uint8Array(f.bytes);
  ipv4.setTtl(bytes, ethernet.HEADER_LEN, ttl);
  ipv4.fixChecksum(bytes, ethernet.HEADER_LEN);
  return { ...f, bytes };
}

describe('a run folder holding the reference captures', () => {
  test.each(SCENARIOS)('%s: every capture point matches', (scenario) => {
    const report = compareRun(join(KERNEL_DIR, scenario), run(scenario), NO_KNOWN);
    expect(report.points).toHaveLength(17);
    expect(report.points.map((p) => [p.capturePoint, p.status])).toEqual(report.points.map((p) => [p.capturePoint, 'match']));
    expect(report.ok).toBe(true);
    expect(report.extra).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.summary).toBe(`${scenario}: 17/17 capture points match`);
  });

  test('pairs host veths by their peer, whatever podwire names them', () => {
    const report = compareRun(join(KERNEL_DIR, 'same-node-ping'), run('same-node-ping'), NO_KNOWN);
    const veth = point(report, 'kr-n1-veth748aed50');
    expect(veth.podwireFile).toBe('captures/n1/veth-pa.pcap');
    expect(veth.role).toBe("n1's host veth of pa");
    expect(point(report, 'kr-underlay-br0').podwireFile).toBe('captures/underlay/br0.pcap');
    expect(point(report, 'kr-n1-cni0').role).toBe('n1 cni0');
  });
});

describe('differences', () => {
  test('a changed TTL in one packet: exactly that capture point differs, at that line', () => {
    const runDir = run('same-node-ping', {
      transform: (p, frames) => (p === 'kr-pb-eth0' ? frames.map((f, i) => (i === 2 ? withTtl(f, 63) : f)) : frames),
    });
    const report = compareRun(join(KERNEL_DIR, 'same-node-ping'), runDir, NO_KNOWN);
    expect(report.points.filter((p) => p.status !== 'match').map((p) => p.capturePoint)).toEqual(['kr-pb-eth0']);
    const pb = point(report, 'kr-pb-eth0');
    expect(pb.differingPackets).toBe(1);
    const changed = pb.rows.filter((r) => r.marker !== '=');
    expect(changed).toEqual([
      {
        marker: '!',
        referenceLine: 3,
        podwireLine: 3,
        reference: '[98] / eth M1>M2 0x0800 / ip 10.244.1.2>10.244.1.3 p1 ttl64 len84 id=* DF / icmp 8/0 id=C1 seq1 / data48',
        podwire: '[98] / eth M1>M2 0x0800 / ip 10.244.1.2>10.244.1.3 p1 ttl63 len84 id=* DF / icmp 8/0 id=C1 seq1 / data48',
      },
    ]);
    expect(report.ok).toBe(false);
    expect(report.summary).toBe('same-node-ping: 16/17 capture points match; differ: kr-pb-eth0 (1 packet)');
    const text = formatReport(report);
    expect(text).toContain('  !    3    3  [98] / eth M1>M2 0x0800 / ip 10.244.1.2>10.244.1.3 p1 ttl64');
    expect(text).toContain('^ ttl64 → ttl63');
    expect(text).not.toContain('kr-pa-eth0');
    expect(text.trimEnd().split('\n').at(-1)).toBe(report.summary);
  });

  test('an extra packet is one inserted line, not a cascade', () => {
    const runDir = run('clusterip-http', {
      transform: (p, frames) => (p === 'kr-n1-cni0' ? [...frames.slice(0, 5), frames[4]!, ...frames.slice(5)] : frames),
    });
    const report = compareRun(join(KERNEL_DIR, 'clusterip-http'), runDir, NO_KNOWN);
    const cni0 = point(report, 'kr-n1-cni0');
    expect(cni0.status).toBe('differ');
    expect(cni0.podwire).toHaveLength(15);
    const changed = cni0.rows.filter((r) => r.marker !== '=');
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ marker: '>', podwireLine: 6 });
    expect(cni0.rows.filter((r) => r.marker === '=')).toHaveLength(14);
    expect(report.summary).toBe('clusterip-http: 16/17 capture points match; differ: kr-n1-cni0 (1 packet)');
  });

  test('a capture point podwire wrote no file for counts as 0 packets', () => {
    const runDir = run('same-node-ping', { omit: ['kr-pb-eth0', 'kr-pc-eth0'] });
    const report = compareRun(join(KERNEL_DIR, 'same-node-ping'), runDir, NO_KNOWN);
    const pb = point(report, 'kr-pb-eth0');
    expect(pb.podwireFile).toBeUndefined();
    expect(pb.podwire).toEqual([]);
    expect(pb.rows.map((r) => r.marker)).toEqual(['<', '<', '<', '<', '<', '<']);
    expect(pb.differingPackets).toBe(6);
    // The reference has no packets there either: nothing to differ.
    expect(point(report, 'kr-pc-eth0').status).toBe('match');
    expect(report.summary).toBe('same-node-ping: 16/17 capture points match; differ: kr-pb-eth0 (6 packets)');
    expect(formatReport(report)).toContain('podwire: no capture file (0 packets)');
  });

  test('a file listed in interfaces.json but absent counts as 0 packets, with a warning', () => {
    const runDir = run('same-node-ping');
    rmSync(join(runDir, 'captures/pb/eth0.pcap'));
    const report = compareRun(join(KERNEL_DIR, 'same-node-ping'), runDir, NO_KNOWN);
    expect(point(report, 'kr-pb-eth0').podwire).toEqual([]);
    expect(report.warnings).toEqual(['captures/pb/eth0.pcap: listed in interfaces.json but not in the run folder; counted as 0 packets']);
  });

  test('podwire traffic where the reference has no capture point is reported, not a difference', () => {
    const arp = framesOf(readCaptureFile(join(KERNEL_DIR, 'same-node-ping', 'kr-pa-eth0.pcap')).packets).slice(0, 1);
    const runDir = run('same-node-ping', {
      extra: [
        { entry: { ...roleEntry('kr-underlay-br0'), name: 'sw-n1', kind: 'veth' }, frames: arp },
        { entry: { ...roleEntry('kr-pa-eth0'), name: 'lo', kind: 'loopback' }, frames: [] },
      ],
    });
    const report = compareRun(join(KERNEL_DIR, 'same-node-ping'), runDir, NO_KNOWN);
    expect(report.ok).toBe(true);
    expect(report.extra).toEqual([{ file: 'captures/underlay/sw-n1.pcap', host: 'underlay', hostKind: 'switch', name: 'sw-n1', kind: 'veth', packets: 1 }]);
    expect(formatReport(report)).toContain(
      'podwire also captured where the reference has no capture point (not a difference):\n  captures/underlay/sw-n1.pcap (switch underlay sw-n1, veth): 1 packet',
    );
  });

  test("podwire's packets before trafficStartNs are not compared", () => {
    const frames = framesOf(readCaptureFile(join(KERNEL_DIR, 'same-node-ping', 'kr-pa-eth0.pcap')).packets);
    const first = frames[0]!;
    const early: Frame = { ...withTtl(frames[3]!, 1), sec: first.sec - 1 };
    const runDir = run('same-node-ping', {
      trafficStartNs: first.sec * 1e9,
      transform: (p, f) => (p === 'kr-pa-eth0' ? [early, ...f] : f),
    });
    expect(compareRun(join(KERNEL_DIR, 'same-node-ping'), runDir, NO_KNOWN).ok).toBe(true);
  });
});

describe('known differences', () => {
  const ttlEntry = (where: string, ignore?: string[]): string =>
    `- scenario: same-node-ping\n  capturePoints: [kr-pb-eth0]\n  reason: a test TTL\n  where: '${where}'\n${ignore ? `  ignore: [${ignore.map((r) => `'${r}'`).join(', ')}]\n` : ''}`;

  function ttlRun(): string {
    return run('same-node-ping', {
      transform: (p, frames) => (p === 'kr-pb-eth0' ? frames.map((f, i) => (i === 2 ? withTtl(f, 63) : f)) : frames),
    });
  }

  test('an entry covering the changed field makes the point match, reported as known', () => {
    const known = parseKnownDifferences(ttlEntry('icmp 8/0', ['ttl6[34]']), 'test.yaml');
    const report = compareRun(join(KERNEL_DIR, 'same-node-ping'), ttlRun(), { knownDifferences: known });
    const pb = point(report, 'kr-pb-eth0');
    expect(pb.status).toBe('known');
    expect(pb.knownPackets).toBe(1);
    expect(pb.knownReasons).toEqual(['a test TTL']);
    expect(report.ok).toBe(true);
    expect(report.summary).toBe('same-node-ping: 17/17 capture points match (1 only with known differences)');
    expect(formatReport(report)).toContain('kr-pb-eth0: matches except for 1 packet that differ as known: a test TTL');
    expect(formatReport(report, { all: true })).toContain('  ~    3    3  ');
  });

  test('an entry whose ignore does not cover the change, or for another line, does not', () => {
    for (const yaml of [ttlEntry('icmp 8/0', ['len\\d+']), ttlEntry('icmp 0/0'), ttlEntry('icmp 8/0').replace('kr-pb-eth0', 'kr-pa-eth0')]) {
      const report = compareRun(join(KERNEL_DIR, 'same-node-ping'), ttlRun(), { knownDifferences: parseKnownDifferences(yaml, 't') });
      expect(point(report, 'kr-pb-eth0').status).toBe('differ');
      expect(report.ok).toBe(false);
    }
  });

  test('missing: true allows reference lines to be absent; extra: true allows added ones', () => {
    // The last echo reply: dropping or repeating it shifts no first-seen label.
    const omitted = run('same-node-ping', { transform: (p, f) => (p === 'kr-pb-eth0' ? f.slice(0, -1) : f) });
    const missing = parseKnownDifferences(`- {scenario: same-node-ping, reason: r, where: 'icmp 0/0 id=C1 seq2', missing: true}`, 't');
    expect(compareRun(join(KERNEL_DIR, 'same-node-ping'), omitted, NO_KNOWN).ok).toBe(false);
    expect(compareRun(join(KERNEL_DIR, 'same-node-ping'), omitted, { knownDifferences: missing }).ok).toBe(true);
    const added = run('same-node-ping', { transform: (p, f) => (p === 'kr-pb-eth0' ? [...f, f.at(-1)!] : f) });
    const extra = parseKnownDifferences(`- {scenario: same-node-ping, reason: r, where: 'icmp 0/0 id=C1 seq2', extra: true}`, 't');
    expect(compareRun(join(KERNEL_DIR, 'same-node-ping'), added, { knownDifferences: extra }).ok).toBe(true);
    expect(compareRun(join(KERNEL_DIR, 'same-node-ping'), added, { knownDifferences: missing }).ok).toBe(false);
  });

  test("the repository's file allows CoreDNS's SOA in negative answers, and only that", () => {
    const path = defaultKnownDifferencesPath();
    expect(path).toBe(new URL('../../known-differences.yaml', import.meta.url).pathname);
    const known = loadKnownDifferences(path!);
    const soa: dns.DnsRecord = {
      name: 'cluster.local',
      type: dns.TYPE_SOA,
      class: dns.CLASS_IN,
      ttl: 5,
      data: { kind: 'soa', mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 },
    };
    let negative = 0;
    const withSoa = (f: Frame): Frame => {
      const layers = decodeFrame(f.bytes);
      const d = layerOf(layers, 'dns');
      if (!d || !d.repr.flags.qr || d.repr.answers.length > 0) return f;
      negative++;
      const msg: dns.DnsMessage = { ...d.repr, authorities: [soa] };
      const eth = layerOf(layers, 'ethernet')!.repr;
      const ip = layerOf(layers, 'ipv4')!.repr;
      const u = layerOf(layers, 'udp')!.repr;
      const dnsLen = dns.encodedLength(msg);
      const bytes = new Uint8Array(ethernet.HEADER_LEN + ipv4.HEADER_LEN + udp.HEADER_LEN + dnsLen);
      const dnsOff = ethernet.HEADER_LEN + ipv4.HEADER_LEN + udp.HEADER_LEN;
      dns.emit(msg, bytes, dnsOff);
      udp.emit({ ...u, payloadLen: dnsLen }, bytes, dnsOff - udp.HEADER_LEN, { src: ip.src, dst: ip.dst });
      ipv4.emit({ ...ip, payloadLen: udp.HEADER_LEN + dnsLen }, bytes, ethernet.HEADER_LEN);
      ethernet.emit(eth, bytes, 0);
      return { ...f, bytes };
    };
    const runDir = run('dns', { transform: (p, frames) => (p === 'kr-pa-eth0' ? frames.map(withSoa) : frames) });
    expect(negative).toBe(11); // 8 NXDOMAIN, 3 NODATA (AAAA of names that have an A record)
    const report = compareRun(join(KERNEL_DIR, 'dns'), runDir, { knownDifferences: known });
    const pa = point(report, 'kr-pa-eth0');
    expect(pa.status).toBe('known');
    expect(pa.knownPackets).toBe(11);
    expect(pa.rows.find((r) => r.marker === '!')?.podwire).toMatch(/ R NOERROR AAAA\?my-svc\.default\.svc\.cluster\.local an\/ns\/ar=0\/1\/0$/);
    expect(report.ok).toBe(true);
    expect(compareRun(join(KERNEL_DIR, 'dns'), runDir, NO_KNOWN).ok).toBe(false);

    // The same SOA on a positive answer is not covered.
    const positive = diffRows(['[108] / x R NOERROR A?a an/ns/ar=1/0/0 -> a A ttl5 10.96.0.100'], ['[170] / x R NOERROR A?a an/ns/ar=1/1/0 -> a A ttl5 10.96.0.100']);
    expect(positive[0]!.marker).toBe('!');
    const entry = known[0]!;
    expect(entry.where.test(positive[0]!.reference!)).toBe(false);
  });

  test('a malformed known-differences file is bad input', () => {
    expect(() => parseKnownDifferences('- scenario: dns\n  where: x\n', 'k.yaml')).toThrow(new CompareInputError('k.yaml: entry 1: reason is required: say why podwire differs'));
    expect(() => parseKnownDifferences('- {scenario: dns, reason: r, where: "(" }', 'k.yaml')).toThrow(CompareInputError);
    expect(() => parseKnownDifferences('- {scenario: dns, reason: r, where: x, lines: [3]}', 'k.yaml')).toThrow(/unknown key "lines"/);
    expect(() => parseKnownDifferences('scenario: dns', 'k.yaml')).toThrow('k.yaml: must be a list of entries');
    expect(parseKnownDifferences('# nothing yet\n', 'k.yaml')).toEqual([]);
  });
});

describe('bad input', () => {
  test('a missing reference folder', () => {
    expect(() => compareRun('/nonexistent/ref', run('same-node-ping'))).toThrow(new CompareInputError('/nonexistent/ref: no such reference folder'));
  });

  test('a reference folder without kr-*.pcap files', () => {
    const empty = tempDir('empty');
    made.push(empty);
    expect(() => compareRun(empty, run('same-node-ping'))).toThrow(/no kr-\*\.pcap capture files: not a kernel reference folder/);
  });

  test('a reference folder missing a capture its meta.json lists', () => {
    const ref = tempDir('ref');
    made.push(ref);
    writeFileSync(join(ref, 'meta.json'), JSON.stringify({ scenario: 'x', pcaps: ['kr-pa-eth0.pcap', 'kr-pb-eth0.pcap'] }));
    writeFileSync(join(ref, 'kr-pa-eth0.pcap'), readFileSync(join(KERNEL_DIR, 'same-node-ping', 'kr-pa-eth0.pcap')));
    expect(() => compareRun(ref, run('same-node-ping'))).toThrow(new CompareInputError(`${join(ref, 'meta.json')}: lists kr-pb-eth0.pcap, which the folder lacks`));
  });

  test('a folder that is not a run folder', () => {
    const notRun = tempDir('notrun');
    made.push(notRun);
    expect(() => compareRun(join(KERNEL_DIR, 'same-node-ping'), notRun)).toThrow(
      new CompareInputError(`${notRun}: not a podwire run folder (no run.json or interfaces.json; see \`podwire run … -o DIR\`)`),
    );
    expect(() => compareRun(join(KERNEL_DIR, 'same-node-ping'), join(notRun, 'nope'))).toThrow(/no such run folder/);
  });

  test('malformed run.json and interfaces.json', () => {
    const runDir = run('same-node-ping');
    writeFileSync(join(runDir, 'run.json'), '{"podwire": "0.1.0"');
    expect(() => compareRun(join(KERNEL_DIR, 'same-node-ping'), runDir)).toThrow(/run\.json: not valid JSON/);
    writeFileSync(join(runDir, 'run.json'), '{"podwire": "0.1.0", "scenario": "s", "seed": 1, "endNs": 0}');
    expect(() => compareRun(join(KERNEL_DIR, 'same-node-ping'), runDir)).toThrow(/run\.json: trafficStartNs must be a number/);
    writeFileSync(join(runDir, 'run.json'), '{"podwire": "0.1.0", "scenario": "s", "seed": 1, "trafficStartNs": 0, "endNs": 0}');
    const ifs = JSON.parse(readFileSync(join(runDir, 'interfaces.json'), 'utf8')) as { interfaces: Record<string, unknown>[] };
    ifs.interfaces[2]!['hostKind'] = 'vm';
    writeFileSync(join(runDir, 'interfaces.json'), JSON.stringify(ifs));
    expect(() => compareRun(join(KERNEL_DIR, 'same-node-ping'), runDir)).toThrow(/interfaces\.json: interfaces\[2\]\.hostKind must be one of node, pod, external, switch/);
  });

  test('an unreadable capture file', () => {
    const runDir = run('same-node-ping');
    writeFileSync(join(runDir, 'captures/pa/eth0.pcap'), 'this is not a capture');
    expect(() => compareRun(join(KERNEL_DIR, 'same-node-ping'), runDir)).toThrow(CompareInputError);
    expect(() => compareRun(join(KERNEL_DIR, 'same-node-ping'), runDir)).toThrow(/^unreadable capture: .*captures\/pa\/eth0\.pcap: /);
  });

  test('an explicit known-differences file that does not exist', () => {
    expect(() => compareRun(join(KERNEL_DIR, 'same-node-ping'), run('same-node-ping'), { knownDifferencesFile: '/nonexistent/k.yaml' })).toThrow(
      new CompareInputError('/nonexistent/k.yaml: no such known-differences file'),
    );
  });
});

test('the signatures of a synthetic run equal the reference signatures they came from', () => {
  const runDir = run('mtu');
  const ref = signatures(readCaptureFile(join(KERNEL_DIR, 'mtu', 'kr-n1-eth0.pcap')).packets);
  expect(signatures(readCaptureFile(join(runDir, 'captures/n1/eth0.pcap')).packets)).toEqual(ref);
  expect(existsSync(join(runDir, 'captures/n1/veth-pa.pcap'))).toBe(true);
  mkdirSync(join(runDir, 'outputs'));
});
