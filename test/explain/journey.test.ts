import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FlowFilterError, parseFlowFilter } from '../../src/explain/journey-filter.js';
import { formatJourney } from '../../src/explain/journey-format.js';
import { JourneyInputError, JourneyRun } from '../../src/explain/journey-run.js';
import { findPackets, packetAtFrame, packetJourney, type Journey } from '../../src/explain/journey.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { captureProblems, tsharkFields } from '../helpers/tshark.js';

/**
 * all.pcapng holds each packet once per interface it crossed: tshark's TCP analysis, made for one
 * capture point, calls the copies retransmissions and reassembles them as overlapping data (and
 * HTTP without reassembly reads body bytes as headers). Checksums, malformed packets and every
 * other warning are checked as usual; the per-interface pcaps get the full check elsewhere.
 */
const MERGED = ['-o', 'tcp.analyze_sequence_numbers:FALSE', '-o', 'tcp.desegment_tcp_streams:FALSE', '--disable-protocol', 'http'];

const root = mkdtempSync(join(tmpdir(), 'podwire-journey-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(name: string, as = name): JourneyRun {
  const r = runScenario(loadScenarioFile(`scenarios/${name}.yaml`), { out: join(root, as), seed: 1 });
  return new JourneyRun(r.dir);
}

function first(r: JourneyRun, filter: string): Journey {
  const [id] = findPackets(r, parseFlowFilter(filter), 1);
  expect(id, filter).toBeDefined();
  return packetJourney(r, id!);
}

/** `host/dev dir` per hop, a veth's generated name as veth*. */
function path(j: Journey): string[] {
  return j.hops.map((h) => `${h.host}/${/^veth[0-9a-f]{8}$/.test(h.dev) ? 'veth*' : h.dev} ${h.dir}`);
}

/** What tshark (not podwire's codecs) reads at frame N of a hop's pcap: the innermost IPv4 addresses. */
const tsharkRows = new Map<string, string[]>();
function tsharkAddresses(r: JourneyRun, file: string, frame: number): string {
  const path = join(r.dir, file);
  let rows = tsharkRows.get(path);
  if (rows === undefined) tsharkRows.set(path, (rows = tsharkFields(path, ['ip.src', 'ip.dst']).trimEnd().split('\n').slice(1)));
  const [src = '', dst = ''] = (rows[frame - 1] ?? '').split('\t');
  return `${src.split(',').pop()} → ${dst.split(',').pop()}`;
}

describe('podwire journey: scenarios/clusterip-http.yaml (ClusterIP DNAT across nodes, VXLAN)', () => {
  const r = run('clusterip-http');
  const syn = first(r, 'tcp and dst 10.96.0.80 and port 80 and syn');

  it('follows the SYN through every device in order, pod to node to switch to node to pod', () => {
    expect(path(syn)).toEqual([
      'checkout/eth0 tx', 'n1/veth* rx', 'n1/cni0 rx', 'n1/flannel.1 tx', 'n1/eth0 tx',
      'underlay/sw-n1 rx', 'underlay/br0 rx', 'underlay/sw-n2 tx',
      'n2/eth0 rx', 'n2/flannel.1 rx', 'n2/cni0 tx', 'n2/veth* tx', 'checkout-api-1/eth0 rx',
    ]);
    expect(syn.hops.map((h) => h.sinceFirstUs)).toEqual([...syn.hops.map((h) => h.sinceFirstUs)].sort((a, b) => a - b));
    expect(syn.outcome.kind).toBe('delivered');
    expect(syn.outcome.text).toMatch(/^delivered in pod checkout-api-1: 10\.244\.2\.\d+ is its address \(TCP port \d+\)$/);
  });

  it('names the KUBE-SEP rule that DNATed the SYN, as iptables-save prints it, where the destination changed', () => {
    const at = syn.hops.findIndex((h) => h.changes.some((c) => c.field === 'dst'));
    expect(syn.hops[at]).toMatchObject({ host: 'n1', dev: 'cni0', dir: 'rx' });
    const c = syn.hops[at]!.changes.find((x) => x.field === 'dst')!;
    expect(c.from).toBe('10.96.0.80:80');
    expect(c.why).toMatch(/^DNAT in n1 PREROUTING: -A KUBE-SEP-[A-Z0-9]{16} -p tcp -m comment --comment "default\/checkout-api:http" -m tcp -j DNAT --to-destination (\S+)$/);
    expect(c.why!.endsWith(`--to-destination ${c.to}`)).toBe(true);
  });

  it('shows the TTL decrement and MAC rewrite at each router, with the route and neighbour', () => {
    const n1 = syn.hops.find((h) => h.host === 'n1' && h.dev === 'flannel.1')!;
    expect(n1.changes.find((c) => c.field === 'ttl')).toEqual({ field: 'ttl', from: '64', to: '63', why: 'forwarded by n1' });
    expect(n1.changes.find((c) => c.field === 'MACs')!.why).toMatch(/^n1: route 10\.244\.2\.0\/24 via 10\.244\.2\.0 dev flannel\.1 onlink; neighbour 10\.244\.2\.0 lladdr [0-9a-f:]{17} PERMANENT$/);
    const n2 = syn.hops.find((h) => h.host === 'n2' && h.dev === 'cni0')!;
    expect(n2.changes.find((c) => c.field === 'ttl')).toEqual({ field: 'ttl', from: '63', to: '62', why: 'forwarded by n2' });
  });

  it('shows flannel.1 adding the outer headers (UDP 8472, VNI 1) and n2 taking them off', () => {
    const enc = syn.hops.find((h) => h.host === 'n1' && h.dev === 'eth0')!;
    expect(enc.view.outer).toMatchObject({ src: '192.168.1.10', dst: '192.168.1.11', dstPort: 8472, vni: 1 });
    expect(enc.changes[0]).toMatchObject({ field: 'outer headers', from: '—', why: 'n1 flannel.1 encapsulates for 192.168.1.11' });
    expect(enc.changes[0]!.to).toMatch(/^outer Ethernet\/IPv4\/UDP 8472\/VXLAN vni 1: 192\.168\.1\.10 → 192\.168\.1\.11 UDP \d+→8472$/);
    const dec = syn.hops.find((h) => h.host === 'n2' && h.dev === 'flannel.1')!;
    expect(dec.view.outer).toBeUndefined();
    expect(dec.changes[0]).toMatchObject({ field: 'outer headers', to: '—', why: 'n2 flannel.1 decapsulates' });
  });

  it('follows the SYN-ACK back, its source restored to the ClusterIP by conntrack', () => {
    const back = first(r, 'tcp and src 10.96.0.80 and syn');
    expect(back.summary).toMatch(/^10\.244\.2\.\d+ → 10\.244\.1\.2 TCP \d+→\d+ \[SYN, ACK\] ttl 64$/);
    expect(path(back).at(-1)).toBe('checkout/eth0 rx');
    const c = back.hops.flatMap((h) => h.changes).find((x) => x.field === 'src')!;
    expect(c.to).toBe('10.96.0.80:80');
    expect(c.why).toBe('conntrack reverse DNAT in n1 POSTROUTING');
  });

  it('points every hop at a frame whose bytes, as tshark reads them, are the packet it summarises', () => {
    for (const h of syn.hops) {
      const [src, , dst] = h.summary.split(' ');
      expect(tsharkAddresses(r, h.file, h.frame), `${h.file} #${h.frame}`).toBe(`${src} → ${dst}`);
      expect(packetAtFrame(r, h.file, h.frame)).toBe(syn.packet);
    }
  });

  it('comments the merged pcapng where NAT and the tunnel happened, and the capture still decodes cleanly', () => {
    const all = join(r.dir, 'all.pcapng');
    const comments = spawnSync('tshark', ['-r', all, '-Y', 'frame.comment', '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.comment'], { encoding: 'utf8' }).stdout;
    expect(comments).toMatch(/^cni0\tn1: DNAT tcp 10\.244\.1\.2:\d+ → 10\.96\.0\.80:80 to 10\.244\.1\.2:\d+ → \S+ in PREROUTING by -A KUBE-SEP-/m);
    expect(comments).toMatch(/^eth0\tn1: flannel\.1 encapsulates: VXLAN vni 1 udp 192\.168\.1\.10:\d+ → 192\.168\.1\.11:8472$/m);
    expect(comments).toMatch(/^flannel\.1\tn2: flannel\.1 decapsulates: VXLAN vni 1/m);
    expect(comments).toMatch(/^cni0\tn1: conntrack reverse DNAT tcp/m);
    expect(captureProblems(all, MERGED)).toEqual([]);
  });

  it('prints the journey as text: a line per hop with its file and frame, the changes under it', () => {
    const text = formatJourney(syn);
    expect(text).toMatch(/^packet \d+: 10\.244\.1\.2 → 10\.96\.0\.80 TCP \d+→80 \[SYN\] ttl 64\n/);
    expect(text).toMatch(/ node n1 +cni0 \(bridge\) +rx  captures\/n1\/cni0\.pcap #\d+ /);
    expect(text).toMatch(/\n +dst 10\.96\.0\.80:80 → \S+ {2}\(DNAT in n1 PREROUTING: -A KUBE-SEP-/);
    expect(text).toMatch(/\n +\+ outer Ethernet\/IPv4\/UDP 8472\/VXLAN vni 1: /);
    expect(text).toMatch(/\n {2}⇒ delivered in pod checkout-api-1: /);
  });

  it('writes the same trace.jsonl and all.pcapng, byte for byte, when run again', () => {
    const again = run('clusterip-http', 'clusterip-http-again');
    expect(readFileSync(join(again.dir, 'trace.jsonl'))).toEqual(readFileSync(join(r.dir, 'trace.jsonl')));
    expect(readFileSync(join(again.dir, 'all.pcapng'))).toEqual(readFileSync(join(r.dir, 'all.pcapng')));
  });
});

describe('podwire journey: scenarios/cross-node-ping.yaml (VXLAN)', () => {
  const r = run('cross-node-ping');
  const echo = first(r, 'icmp and dst 10.244.2.2');

  it('follows an echo request across the tunnel: TTL 64 → 63 → 62, VNI 1 on UDP 8472, delivered', () => {
    expect(echo.summary).toMatch(/^10\.244\.1\.2 → 10\.244\.2\.2 ICMP echo request id \d+ seq 1 ttl 64$/);
    expect(echo.hops.flatMap((h) => h.changes.filter((c) => c.field === 'ttl').map((c) => `${c.from}→${c.to} ${c.why ?? ''}`))).toEqual(['64→63 forwarded by n1', '63→62 forwarded by n2']);
    expect(echo.hops.some((h) => h.view.outer?.vni === 1 && h.view.outer.dstPort === 8472)).toBe(true);
    expect(echo.outcome.kind).toBe('delivered');
  });
});

describe('podwire journey: scenarios/no-endpoints.yaml (REJECT)', () => {
  const r = run('no-endpoints');
  const syn = first(r, 'tcp and syn');

  it('ends the SYN where kube-proxy rejects it, with the reason and the ICMP error it sent', () => {
    expect(syn.outcome.kind).toBe('dropped');
    expect(syn.outcome.text).toMatch(/^dropped in n1 at cni0: netfilter: filter dropped the packet in FORWARD; n1 sent ICMP type 3 code 3 to the sender \(packet \d+\)$/);
    const err = packetJourney(r, syn.icmpError!);
    expect(err.summary).toMatch(/ICMP destination unreachable \(port unreachable\)/);
    expect(err.outcome.kind).toBe('delivered');
  });

  it("comments the SYN's last frame in all.pcapng with the drop", () => {
    const all = join(r.dir, 'all.pcapng');
    const comments = spawnSync('tshark', ['-r', all, '-Y', 'frame.comment', '-T', 'fields', '-e', 'frame.comment'], { encoding: 'utf8' }).stdout;
    expect(comments).toContain('n1: dropped at cni0: netfilter: filter dropped the packet in FORWARD');
    expect(captureProblems(all, MERGED)).toEqual([]);
  });
});

describe('podwire journey: input', () => {
  it('reads a small filter language and says what is wrong with a bad one', () => {
    expect(parseFlowFilter('tcp and dst host 10.96.0.1 and src port 80 and syn')).toEqual([
      { kind: 'proto', proto: 'tcp' }, { kind: 'host', which: 'dst', addr: '10.96.0.1' }, { kind: 'port', which: 'src', port: 80 }, { kind: 'syn' },
    ]);
    expect(() => parseFlowFilter('tcp or udp')).toThrow(FlowFilterError);
    expect(() => parseFlowFilter('dst 10.96.0')).toThrow(/not an IPv4 address/);
    expect(() => parseFlowFilter('port 70000')).toThrow(/not a port/);
  });

  it('refuses a folder that is not a run', () => {
    expect(() => new JourneyRun(root)).toThrow(JourneyInputError);
  });

  it('the command: one line and exit 1 for a non-run folder, a bad filter, no match', () => {
    const cli = (...args: string[]) => spawnSync('node', ['dist/src/cli/main.js', 'journey', ...args], { encoding: 'utf8' });
    for (const r of [cli(root, '--packet', '1'), cli(join(root, 'no-endpoints'), '--flow', 'tcp or'), cli(join(root, 'no-endpoints'), '--flow', 'udp and port 9')]) {
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const ok = cli(join(root, 'no-endpoints'), '--flow', 'tcp and syn', '--json');
    expect(ok.status).toBe(0);
    expect((JSON.parse(ok.stdout) as { outcome: { kind: string } }).outcome.kind).toBe('dropped');
  });
});
