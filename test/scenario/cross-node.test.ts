import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFrame, layerOf } from '../../src/packet/frame.js';
import { readCaptureFile } from '../../src/pcap/index.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { captureProblems } from '../helpers/tshark.js';

const root = mkdtempSync(join(tmpdir(), 'podwire-cross-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(name: string) {
  const r = runScenario(loadScenarioFile(`scenarios/${name}.yaml`), { out: join(root, name), seed: 3 });
  const index = JSON.parse(readFileSync(join(r.dir, 'interfaces.json'), 'utf8')) as { interfaces: { file: string }[] };
  return { ...r, index, frames: (file: string) => readCaptureFile(join(r.dir, file)).packets.map((p) => decodeFrame(p.data)) };
}

describe('scenarios/cross-node-ping.yaml (flannel VXLAN)', () => {
  const r = run('cross-node-ping');

  it('pings across nodes: two routed hops, TTL 62 at the target', () => {
    expect(r.steps[0]!.exitCode).toBe(0);
    expect(r.steps[0]!.output).toMatch(/64 bytes from 10\.244\.2\.2: icmp_seq=1 ttl=62 /);
  });

  it("encapsulates as flannel's device does: 148-byte frames, UDP 8472, VNI 1, outer TTL 64, DF clear, same source port both ways", () => {
    const vx = r.frames('captures/n1/eth0.pcap').filter((ls) => layerOf(ls, 'vxlan'));
    expect(vx).toHaveLength(4);
    const ports = new Set<number>();
    for (const ls of vx) {
      const outer = layerOf(ls, 'ipv4')!.repr;
      const u = layerOf(ls, 'udp')!.repr;
      expect(ls.at(-1)!.offset + ls.at(-1)!.length).toBe(148);
      expect([outer.ttl, outer.dontFragment, u.dstPort, layerOf(ls, 'vxlan')!.repr.vni]).toEqual([64, false, 8472, 1]);
      expect(u.checksum).not.toBe(0);
      expect(u.srcPort).toBeGreaterThanOrEqual(32768);
      expect(u.srcPort).toBeLessThanOrEqual(60999);
      ports.add(u.srcPort);
    }
    expect(ports.size).toBe(1);
    const inner = r.frames('captures/n1/flannel.1.pcap');
    expect(inner.map((ls) => layerOf(ls, 'ipv4')!.repr.ttl)).toEqual([63, 63, 63, 63]);
  });

  it('writes captures tshark decodes cleanly, VXLAN and inner frames included', () => {
    for (const i of r.index.interfaces) expect(captureProblems(join(r.dir, i.file)), i.file).toEqual([]);
  });
});

describe('scenarios/cross-node-host-gw.yaml (flannel host-gw)', () => {
  const r = run('cross-node-host-gw');

  it('routes pod packets unencapsulated between the nodes, node IP as next hop', () => {
    expect(r.steps[0]!.output).toMatch(/icmp_seq=2 ttl=62 /);
    const frames = r.frames('captures/n1/eth0.pcap').filter((ls) => layerOf(ls, 'icmp'));
    expect(frames).toHaveLength(4);
    expect(frames.every((ls) => !layerOf(ls, 'vxlan') && ls.at(-1)!.offset + ls.at(-1)!.length === 98)).toBe(true);
    expect(existsSync(join(r.dir, 'captures/n1/flannel.1.pcap'))).toBe(false);
    for (const i of r.index.interfaces) expect(captureProblems(join(r.dir, i.file)), i.file).toEqual([]);
  });
});
