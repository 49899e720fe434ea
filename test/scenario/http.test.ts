/**
 * TCP journeys end to end: curl and python's http.server across nodes, compared with the kernel's
 * clusterip-http reference where the connection is the same one; an app bound to 127.0.0.1; and
 * flannel's VXLAN port chosen per scenario.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareRun } from '../../src/compare/index.js';
import { decodeFrame, layerOf } from '../../src/packet/frame.js';
import { readCaptureFile } from '../../src/pcap/index.js';
import { loadScenarioFile, loadScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { captureProblems, tsharkFields } from '../helpers/tshark.js';

const root = mkdtempSync(join(tmpdir(), 'podwire-http-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(file: string, name: string, text?: string) {
  const spec = text === undefined ? loadScenarioFile(file) : loadScenarioText(text, file);
  const r = runScenario(spec, { out: join(root, name), seed: 1 });
  const index = JSON.parse(readFileSync(join(r.dir, 'interfaces.json'), 'utf8')) as { interfaces: { file: string }[] };
  return {
    ...r,
    index,
    frames: (f: string) => readCaptureFile(join(r.dir, f)).packets.map((p) => decodeFrame(p.data)),
    read: (f: string) => readFileSync(join(r.dir, f), 'utf8'),
    clean: () => index.interfaces.flatMap((i) => captureProblems(join(r.dir, i.file)).map((p) => `${i.file}: ${JSON.stringify(p)}`)),
  };
}

describe('the clusterip-http journey without the Service (pa → pc:8080 directly)', () => {
  const r = run('test/scenario/fixtures/pod-to-pod-http.yaml', 'p2p');

  it('matches the kernel at every capture point past node 1’s DNAT; before it only the ClusterIP differs', () => {
    expect(r.steps[0]!.output).toBe('kr-pc\n');
    const report = compareRun('fixtures/kernel/clusterip-http', r.dir);
    const differ = report.points.filter((p) => p.status !== 'match');
    expect(differ.map((p) => p.capturePoint).sort()).toEqual(['kr-n1-cni0', 'kr-n1-veth748aed50', 'kr-pa-eth0']);
    // There the reference shows 10.96.0.100:80 where pa talks to 10.244.2.2:8080; nothing else differs.
    for (const p of differ) {
      const rows = p.rows.filter((x) => x.marker !== '=');
      expect(rows.every((x) => x.marker === '!')).toBe(true);
      for (const row of rows) {
        const ref = row.reference!.replaceAll('10.96.0.100', '10.244.2.2').replace(/\b80>/, '8080>').replace(/>80 /, '>8080 ');
        expect(row.podwire!.replace(' / http cont / data6', ''), p.capturePoint).toBe(ref.replace(' / http cont / data6', ''));
      }
    }
  });

  it('writes captures tshark decodes cleanly, TCP in VXLAN included', () => {
    expect(r.clean()).toEqual([]);
  });
});

describe('scenarios/cross-node-http.yaml', () => {
  const r = run('scenarios/cross-node-http.yaml', 'cross-node-http');

  it("prints curl -v's conversation and the body, exit 0; the server logs the request", () => {
    // curl -v prints the header lines as they are on the wire, CR LF included.
    expect(r.steps[0]!.output).toContain('> GET /health HTTP/1.1\r\n> Host: 10.244.2.2:3000\r\n');
    const out = r.steps[0]!.output.replaceAll('\r', '');
    expect(r.steps[0]!.exitCode).toBe(0);
    expect(out).toContain('Trying 10.244.2.2:3000...\n* Connected to 10.244.2.2 (10.244.2.2) port 3000 (#0)\n> GET /health HTTP/1.1\n> Host: 10.244.2.2:3000\n> User-Agent: curl/7.88.1\n> Accept: */*\n> \n< HTTP/1.1 200 OK\n< Server: SimpleHTTP/0.6 Python/3.11.2\n');
    expect(out).toContain('{"status":"healthy"}\n');
    expect(out).toContain('* Connection #0 to host 10.244.2.2 left intact\n');
    expect(r.read('outputs/containers/payment-api-api.log')).toBe('10.244.1.2 - - [01/Jan/2026 00:00:01] "GET /health HTTP/1.1" 200 -\n');
  });

  it('carries the connection in VXLAN with one outer source port per direction, different between the two', () => {
    const ports = { out: new Set<number>(), back: new Set<number>() };
    for (const ls of r.frames('captures/n1/eth0.pcap')) {
      if (!layerOf(ls, 'vxlan') || !layerOf(ls, 'tcp')) continue;
      const outer = layerOf(ls, 'ipv4')!.repr;
      (outer.src === 0xc0a8010a ? ports.out : ports.back).add(layerOf(ls, 'udp')!.repr.srcPort);
    }
    expect([ports.out.size, ports.back.size]).toEqual([1, 1]);
    expect([...ports.out][0]).not.toBe([...ports.back][0]);
  });

  it('writes captures tshark decodes cleanly', () => {
    expect(r.clean()).toEqual([]);
  });
});

describe('scenarios/app-bound-to-localhost.yaml', () => {
  const r = run('scenarios/app-bound-to-localhost.yaml', 'localhost');

  it('curl to the pod IP: RST (seq 0, ACK, window 0) from the pod, "Couldn\'t connect to server", exit 7', () => {
    expect(r.steps[0]!.output).toBe("curl: (7) Failed to connect to 10.244.2.2 port 3000 after 0 ms: Couldn't connect to server\ncommand terminated with exit code 7\n");
    expect(r.steps[0]!.exitCode).toBe(7);
    const tcpAtPod = r.frames('captures/payment-api/eth0.pcap').map((ls) => layerOf(ls, 'tcp')?.repr).filter((t) => t !== undefined);
    expect(tcpAtPod.map((t) => t.flags)).toEqual([0x02, 0x14]);
    expect(tcpAtPod[1]).toMatchObject({ seq: 0, ack: (tcpAtPod[0]!.seq + 1) >>> 0, window: 0, options: [] });
  });

  it('the sidecar reaches the app over lo, and tcpdump -i lo shows each packet once', () => {
    expect(r.steps[1]!.exitCode).toBe(0);
    expect(r.steps[1]!.output).toContain('* Connected to localhost (127.0.0.1) port 3000 (#0)');
    const lo = tsharkFields(join(r.dir, 'captures/payment-api/lo.pcap'), ['tcp.flags.str']).trim().split('\n').slice(1);
    expect(lo).toHaveLength(10);
    expect(lo.filter((f) => f.includes('S'))).toHaveLength(2); // one SYN, one SYN-ACK: no duplicates
    const syn = r.frames('captures/payment-api/lo.pcap')[0]!;
    expect(layerOf(syn, 'tcp')!.repr.options[0]).toEqual({ kind: 'mss', value: 65495 });
  });

  it('writes captures tshark decodes cleanly', () => {
    expect(r.clean()).toEqual([]);
  });
});

describe("flannel's VXLAN port per scenario", () => {
  const base = readFileSync('scenarios/cross-node-ping.yaml', 'utf8');

  it('vxlan: { port: 4789 } puts the tunnel on the IANA port (which tshark decodes without a hint)', () => {
    const r = run('4789.yaml', '4789', base.replace('  overlay: flannel-vxlan\n', '  overlay: flannel-vxlan\n  vxlan: { port: 4789 }\n'));
    const vx = r.frames('captures/n1/eth0.pcap').filter((ls) => layerOf(ls, 'vxlan'));
    expect(vx.length).toBe(4);
    expect(vx.every((ls) => layerOf(ls, 'udp')!.repr.dstPort === 4789)).toBe(true);
    expect(r.steps[0]!.exitCode).toBe(0);
    expect(r.clean()).toEqual([]);
  });

  it('is refused for another overlay, at its line', () => {
    const text = base.replace('  overlay: flannel-vxlan\n', '  overlay: flannel-host-gw\n  vxlan: { port: 4789 }\n');
    expect(() => loadScenarioText(text, 'x.yaml')).toThrow(ScenarioError);
    expect(() => loadScenarioText(text, 'x.yaml')).toThrow(/x\.yaml:\d+:\d+: cluster\.spec\.vxlan: vxlan applies to overlay flannel-vxlan \(this cluster's overlay is flannel-host-gw\)/);
  });
});

describe('scenarios/tcp-retransmit.yaml', () => {
  const r = run('scenarios/tcp-retransmit.yaml', 'tcp-retransmit');

  it("curl --max-time 2 gives up while the SYNs are lost: curl's (28), exit 28", () => {
    expect(r.steps.map((s) => s.exitCode)).toEqual([0, 0, 28, 0, 0, 0]);
    expect(r.steps[2]!.output).toBe('curl: (28) Connection timed out after 2001 milliseconds\ncommand terminated with exit code 28\n');
  });

  it('retransmits the SYN every second (tcp_syn_linear_timeouts), with a new flow hash (outer port) each time, and connects once the cable is back', () => {
    expect(r.read('outputs/containers/retry-retry.log')).toBe('200\n');
    const syns = r.frames('captures/n1/eth0.pcap')
      .map((ls, i) => ({ ls, i }))
      .filter(({ ls }) => layerOf(ls, 'tcp') && layerOf(ls, 'tcp')!.repr.flags === 0x02);
    const byPort = new Map<number, number[]>();
    const times = readCaptureFile(join(r.dir, 'captures/n1/eth0.pcap')).packets;
    for (const { ls, i } of syns) {
      const port = layerOf(ls, 'tcp')!.repr.srcPort;
      byPort.set(port, [...(byPort.get(port) ?? []), i]);
    }
    // The third curl's: at 0, 1, 2 s lost, the one at 3 s (the cable back at 2.5 s) answered.
    const retried = [...byPort.values()].find((list) => list.length === 4)!;
    const t = retried.map((i) => times[i]!.timestampNs);
    expect(t.slice(1).map((x, k) => Math.round((x - t[k]!) / 1e9))).toEqual([1, 1, 1]);
    const outerPorts = retried.map((i) => layerOf(r.frames('captures/n1/eth0.pcap')[i]!, 'udp')!.repr.srcPort);
    expect(new Set(outerPorts).size).toBe(4);
    expect(r.clean()).toEqual([]);
  });
});
