import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNcArgs } from '../../src/apps/nc.js';
import { UsageError } from '../../src/apps/app.js';
import { formatIpv4 } from '../../src/packet/addr.js';
import * as icmp from '../../src/packet/icmp.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as udp from '../../src/packet/udp.js';
import { decodeFrame, layerOf } from '../../src/packet/frame.js';
import { readCaptureFile } from '../../src/pcap/index.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { captureProblems } from '../helpers/tshark.js';

const root = mkdtempSync(join(tmpdir(), 'podwire-udp-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('scenarios/udp-nc.yaml: UDP across nodes, nc, port unreachable', () => {
  const r = runScenario(loadScenarioFile('scenarios/udp-nc.yaml'), { out: join(root, 'run'), seed: 5 });
  const frames = (file: string) => readCaptureFile(join(r.dir, file)).packets.map((p) => decodeFrame(p.data));

  it("delivers the datagram to the pod's nc -lku, which prints it (its container log)", () => {
    expect(readFileSync(join(r.dir, 'outputs/containers/pc-nc.log'), 'utf8')).toBe('hello from pa\n');
    expect(r.steps.map((s) => s.exitCode)).toEqual([0, 0]);
  });

  it('sends from an ephemeral port, TTL 62 at the receiver, DF set, a valid checksum', () => {
    const dgrams = frames('captures/pc/eth0.pcap').filter((ls) => layerOf(ls, 'udp'));
    const first = dgrams[0]!;
    const u = layerOf(first, 'udp')!.repr;
    expect([u.dstPort, u.payloadLen]).toEqual([9000, 14]);
    expect(u.srcPort).toBeGreaterThanOrEqual(32768);
    expect(u.srcPort).toBeLessThanOrEqual(60999);
    expect([layerOf(first, 'ipv4')!.repr.ttl, layerOf(first, 'ipv4')!.repr.dontFragment]).toEqual([62, true]);
  });

  it('answers a datagram to a closed port with ICMP port unreachable quoting it', () => {
    const errs = frames('captures/pa/eth0.pcap').filter((ls) => layerOf(ls, 'icmp')?.repr.type === icmp.TYPE_DEST_UNREACHABLE);
    expect(errs).toHaveLength(1);
    const e = errs[0]!;
    expect(layerOf(e, 'icmp')!.repr.code).toBe(icmp.PORT_UNREACHABLE);
    expect(formatIpv4(layerOf(e, 'ipv4')!.repr.src)).toBe('10.244.2.2');
    const quote = e.find((l) => l.kind === 'payload')!;
    const raw = readCaptureFile(join(r.dir, 'captures/pa/eth0.pcap')).packets.find((p) => decodeFrame(p.data) && layerOf(decodeFrame(p.data), 'icmp'))!.data;
    expect(udp.dstPort(raw, quote.offset + ipv4.headerLen(raw, quote.offset))).toBe(9001);
  });

  it('nc quits as soon as the port unreachable puts its connected socket in error (POLLERR), not after -w1', () => {
    const [hello, refused] = r.steps;
    expect(hello!.endNs - hello!.startNs).toBe(1e9); // nothing came back: the -w1 idle timeout
    expect(refused!.endNs - refused!.startNs).toBeLessThan(1e6);
    expect(refused!.output).toBe('');
  });

  it('writes captures tshark decodes cleanly', () => {
    const index = JSON.parse(readFileSync(join(r.dir, 'interfaces.json'), 'utf8')) as { interfaces: { file: string }[] };
    for (const i of index.interfaces) expect(captureProblems(join(r.dir, i.file)), i.file).toEqual([]);
  });
});

describe('nc (netcat-openbsd) command line', () => {
  it('reads clustered flags and their values', () => {
    expect(parseNcArgs(['-lku', '9000'])).toMatchObject({ listen: true, keepOpen: true, port: 9000 });
    expect(parseNcArgs(['-u', '-w1', '10.0.0.1', '53'])).toMatchObject({ listen: false, port: 53, idleTimeoutNs: 1e9 });
    expect(parseNcArgs(['-uq', '0', '10.0.0.1', '53'])).toMatchObject({ quitAfterEofNs: 0 });
  });

  it("refuses what nc refuses, in nc's words", () => {
    expect(() => parseNcArgs(['-u', '10.0.0.1', '70000'])).toThrow('nc: port number invalid: 70000');
    expect(() => parseNcArgs(['-u', '-Y', '10.0.0.1', '1'])).toThrow(UsageError);
    // A name is resolved when nc starts (getaddrinfo through the container's resolver), not while parsing.
    expect(parseNcArgs(['-u', 'nohost', '1'])).toMatchObject({ host: undefined, hostText: 'nohost' });
  });
});
