/**
 * The underlay's cables in scenarios: spec.underlay (latency, loss, per-link overrides), the
 * `podwire link down|up` steps, external hosts' commands and `ssh` steps — loaded, validated with
 * file:line:col, and run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFrame, layerOf } from '../../src/packet/frame.js';
import { readCaptureFile } from '../../src/pcap/index.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { loadScenarioFile, loadScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import type { LinkStep, SshStep } from '../../src/scenario/spec.js';
import { captureProblems } from '../helpers/tshark.js';

const root = mkdtempSync(join(tmpdir(), 'podwire-underlay-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Two nodes (host-gw), an external host `ext`; `underlay` and `ext` spec lines are spliced in. */
function scenario(opts: { underlay?: string; extSpec?: string; steps: string }): string {
  return `apiVersion: podwire.dev/v1alpha1
kind: Cluster
metadata: { name: lab }
spec:
  nodeNetwork: 192.168.1.0/24
  overlay: flannel-host-gw
${opts.underlay ?? ''}
---
apiVersion: v1
kind: Node
metadata: { name: n1 }
status: { addresses: [{ type: InternalIP, address: 192.168.1.10 }] }
---
apiVersion: v1
kind: Node
metadata: { name: n2 }
status: { addresses: [{ type: InternalIP, address: 192.168.1.11 }] }
---
apiVersion: podwire.dev/v1alpha1
kind: Host
metadata: { name: ext }
spec:
  address: 192.168.1.100
${opts.extSpec ?? ''}
---
apiVersion: podwire.dev/v1alpha1
kind: Traffic
steps:
${opts.steps}`;
}

function errorOf(text: string): string {
  try {
    loadScenarioText(text, 'x.yaml');
  } catch (e) {
    if (e instanceof ScenarioError) return e.message;
    throw e;
  }
  throw new Error('the scenario loaded');
}

let runs = 0;
function run(text: string, seed = 1) {
  const r = runScenario(loadScenarioText(text, 'x.yaml'), { out: join(root, `run${runs++}`), seed });
  const frames = (file: string) => readCaptureFile(join(r.dir, file)).packets;
  const file = (name: string) => readFileSync(join(r.dir, name), 'utf8');
  const clean = () => {
    const index = JSON.parse(file('interfaces.json')) as { interfaces: { file: string }[] };
    for (const i of index.interfaces) expect(captureProblems(join(r.dir, i.file)), i.file).toEqual([]);
  };
  return { ...r, frames, file, clean };
}

/** ping's printed round-trip times, ms. */
const rtts = (output: string): number[] => [...output.matchAll(/time=([0-9.]+) ms/g)].map((m) => Number(m[1]));

describe('spec.underlay: loading', () => {
  it('fills in the defaults (a veth hop’s 1 µs, no loss) when there is no underlay', () => {
    const spec = loadScenarioText(scenario({ steps: '  - sleep 1\n' }), 'x.yaml');
    expect(spec.cluster.underlay).toEqual({ defaults: { latencyNs: 1000, loss: 0 }, links: [] });
  });

  it('reads latency with its unit and loss, and per-link overrides that inherit what they leave out', () => {
    const spec = loadScenarioText(scenario({
      underlay: '  underlay:\n    latency: 200us\n    loss: 0.01\n    links:\n      - { name: n2, latency: 5ms, loss: 0.2 }\n      - { name: ext, latency: 1s }\n',
      steps: '  - sleep 1\n',
    }), 'x.yaml');
    expect(spec.cluster.underlay).toEqual({
      defaults: { latencyNs: 200_000, loss: 0.01 },
      links: [
        { name: 'n2', latencyNs: 5_000_000, loss: 0.2, source: { file: 'x.yaml', line: 11, column: 9 } },
        { name: 'ext', latencyNs: 1e9, loss: 0.01, source: { file: 'x.yaml', line: 12, column: 9 } },
      ],
    });
  });

  it.each([
    ['a latency without a unit', '  underlay:\n    latency: 200\n', 'x.yaml:8:14: cluster.spec.underlay.latency: a duration needs a unit (e.g. 200ms or 200us)'],
    ['a bad duration', '  underlay:\n    latency: 2 ms\n', 'x.yaml:8:14: cluster.spec.underlay.latency: invalid duration "2 ms" (write e.g. 2s, 500ms, 1m30s)'],
    ['a loss above 1', '  underlay:\n    loss: 1.5\n', 'x.yaml:8:11: cluster.spec.underlay.loss: 1.5 is out of range (a probability, 0..1)'],
    ['a negative loss', '  underlay:\n    loss: -0.1\n', 'x.yaml:8:11: cluster.spec.underlay.loss: -0.1 is out of range (a probability, 0..1)'],
    ['a loss in percent', '  underlay:\n    loss: 20%\n', 'x.yaml:8:11: cluster.spec.underlay.loss: must be a probability from 0 to 1, not the string "20%"'],
    ['an unknown field', '  underlay:\n    jitter: 1ms\n', 'x.yaml:8:5: cluster.spec.underlay.jitter: unknown field'],
    ['a link to nowhere', '  underlay:\n    links: [{ name: n9, loss: 0.5 }]\n',
      'x.yaml:8:21: cluster.spec.underlay.links[0].name: a link: "n9" is not a node or host (there are: n1, n2, ext)'],
    ['a link without a name', '  underlay:\n    links: [{ loss: 0.5 }]\n',
      'x.yaml:8:13: cluster.spec.underlay.links[0].name: is required (the node or host whose cable this is)'],
    ['a link configured twice', '  underlay:\n    links:\n      - { name: n2, loss: 0.5 }\n      - { name: n2, latency: 1ms }\n',
      'x.yaml:10:17: cluster.spec.underlay.links[1].name: the cable of "n2" is configured twice (first at line 9)'],
  ])('refuses %s at the value', (_what, underlay, message) => {
    expect(errorOf(scenario({ underlay, steps: '  - sleep 1\n' }))).toBe(message);
  });
});

describe('steps podwire link down|up and ssh: loading', () => {
  it('reads them, with ssh’s user@ dropped and its command split again as the remote shell does', () => {
    const spec = loadScenarioText(scenario({ steps: "  - podwire link down n2\n  - podwire link up ext\n  - ssh root@ext -- echo 'a b'\n  - ssh -q n1 ip route\n" }), 'x.yaml');
    const [down, up, ssh1, ssh2] = spec.steps as [LinkStep, LinkStep, SshStep, SshStep];
    expect([down.kind, down.name, down.up, up.name, up.up]).toEqual(['link', 'n2', false, 'ext', true]);
    expect([ssh1.kind, ssh1.host, ssh1.argv]).toEqual(['ssh', 'ext', ['echo', 'a', 'b']]);
    expect([ssh2.host, ssh2.argv]).toEqual(['n1', ['ip', 'route']]);
  });

  it.each([
    ['podwire link down n9', 'x.yaml:29:23: steps[0]: podwire link: "n9" is not a node or host (there are: n1, n2, ext)'],
    ['podwire link sideways n2', 'x.yaml:29:18: steps[0]: podwire link: down or up is required (podwire link down|up NAME)'],
    ['podwire link down', 'x.yaml:29:22: steps[0]: podwire link down: the node or host whose cable it is is required'],
    ['podwire link down n2 now', 'x.yaml:29:26: steps[0]: podwire link down: unexpected argument "now"'],
    ['podwire cable n2', 'x.yaml:29:13: steps[0]: podwire cable: unknown step command (steps run podwire link down|up NAME, podwire stop POD)'],
    ['ssh nobody -- ping -c 1 192.168.1.10', 'x.yaml:29:9: steps[0]: ssh: "nobody" is not a node or host (there are: n1, n2, ext)'],
    ['ssh ext', 'x.yaml:29:9: steps[0]: ssh: a command is required (a step cannot run an interactive login shell): ssh HOST -- COMMAND …'],
    ['ssh -L 80:x:80 ext -- ping x', 'x.yaml:29:9: steps[0]: ssh: option -L is not supported by podwire (-q, -t, -T, -v are)'],
  ])('refuses %j at the word', (step, message) => {
    expect(errorOf(scenario({ steps: `  - ${step}\n` }))).toBe(message);
  });

  it('reads a host’s command and args; stdin goes to an ssh command', () => {
    const spec = loadScenarioText(scenario({
      extSpec: '  command: [nc]\n  args: [-lku, "9000"]\n',
      steps: '  - run: ssh n1 -- nc -u -w1 192.168.1.100 9000\n    stdin: "hi\\n"\n',
    }), 'x.yaml');
    expect(spec.hosts[0]).toMatchObject({ name: 'ext', command: ['nc'], args: ['-lku', '9000'] });
    expect(spec.steps[0]).toMatchObject({ kind: 'ssh', stdin: 'hi\n' });
  });
});

describe('latency on the cables', () => {
  const ping = '  - ssh n1 -- ping -c 3 192.168.1.11\n';
  const base = run(scenario({ steps: ping }));
  const slow = run(scenario({ underlay: '  underlay:\n    latency: 1ms\n    links: [{ name: n2, latency: 3ms }]\n', steps: ping }));

  it('grows ping’s printed round trip by twice the one-way latency of each cable crossed', () => {
    // n1 → n2 crosses n1's cable (1 ms) and n2's (3 ms), and back: 8 ms more than two veth hops each way.
    const before = rtts(base.steps[0]!.output);
    const after = rtts(slow.steps[0]!.output);
    expect(after).toHaveLength(3);
    for (let i = 1; i < 3; i++) expect(after[i]! - before[i]!).toBeCloseTo(2 * (1 + 3) - 4 * 0.001, 2);
  });

  it('shows the latency in the capture timestamps: n2 receives each request 4 ms after n1 sent it', () => {
    const icmp = (file: string) => slow.frames(file).filter((p) => layerOf(decodeFrame(p.data), 'icmp'));
    const sent = icmp('captures/n1/eth0.pcap').filter((_, i) => i % 2 === 0);
    const got = icmp('captures/n2/eth0.pcap').filter((_, i) => i % 2 === 0);
    expect(got).toHaveLength(3);
    const ns = (p: { timestampSec: number; timestampNsec: number }) => p.timestampSec * 1e9 + p.timestampNsec;
    for (let i = 0; i < 3; i++) expect(ns(got[i]!) - ns(sent[i]!)).toBe(4_000_000);
    slow.clean();
  });
});

describe('seeded loss on a cable', () => {
  const text = (loss: number) => scenario({
    underlay: `  underlay:\n    links: [{ name: n2, loss: ${loss} }]\n`,
    steps: '  - ssh n1 -- ping -c 20 -i 0.2 -W 1 192.168.1.11\n',
  });
  const replied = (output: string) => [...output.matchAll(/icmp_seq=([0-9]+) ttl/g)].map((m) => Number(m[1]));

  it('loses the same frames with the same seed, and others with another seed', () => {
    const a = run(text(0.3), 5);
    const b = run(text(0.3), 5);
    const c = run(text(0.3), 6);
    expect(a.steps[0]!.output).toBe(b.steps[0]!.output);
    expect(a.file('trace.jsonl')).toBe(b.file('trace.jsonl'));
    expect(replied(a.steps[0]!.output).length).toBeLessThan(20);
    expect(replied(c.steps[0]!.output)).not.toEqual(replied(a.steps[0]!.output));
    expect(a.file('trace.jsonl')).toContain('"detail":"lost on cable n2 (loss 0.3)"');
    a.clean();
  });

  it('loses nothing at loss 0', () => {
    const r = run(text(0), 5);
    expect(replied(r.steps[0]!.output)).toEqual([...Array(20).keys()].map((i) => i + 1));
    expect(r.steps[0]!.output).toContain('20 packets transmitted, 20 received, 0% packet loss');
  });
});

describe('scenarios/link-down.yaml', () => {
  const r = runScenario(loadScenarioFile('scenarios/link-down.yaml'), { out: join(root, 'link-down'), seed: 1 });
  const log = readFileSync(join(r.dir, 'outputs/containers/pinger-pinger.log'), 'utf8');

  it('replies stop while n2’s cable is out and resume once it is back; ping’s summary shows the loss', () => {
    expect([...log.matchAll(/icmp_seq=([0-9]+) /g)].map((m) => Number(m[1]))).toEqual([1, 2, 5]);
    expect(log).toContain('5 packets transmitted, 3 received, 40% packet loss');
  });

  it('shows the pulled cable in ip link and ip route on n2, as iproute2 prints NO-CARRIER', () => {
    const link = r.steps.find((s) => s.text === 'ssh n2 -- ip link')!;
    expect(link.output).toMatch(/^2: eth0@if[0-9]+: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN /m);
    const route = r.steps.find((s) => s.text === 'ssh n2 -- ip route')!;
    expect(route.output).toContain('192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.11 linkdown \n');
  });

  it('n2 sees requests 1, 2 and 5 only, and ARPs for n1 again after the pull (its neighbours were flushed)', () => {
    const frames = readCaptureFile(join(r.dir, 'captures/n2/eth0.pcap')).packets.map((p) => decodeFrame(p.data));
    const requests = frames.filter((ls) => layerOf(ls, 'icmp')?.repr.type === 8);
    expect(requests.map((ls) => layerOf(ls, 'icmp')!.repr.rest & 0xffff)).toEqual([1, 2, 5]);
    const arps = frames.filter((ls) => layerOf(ls, 'arp')).length;
    expect(arps).toBe(4); // n1's request and n2's reply at the start; n2's request and n1's reply after
    // Requests 3 and 4 reach the switch, which has forgotten n2's MAC and has no port to flood to.
    const drops = readFileSync(join(r.dir, 'trace.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"event":"drop"') && l.includes('"dev":"br0"'));
    expect(drops).toHaveLength(2);
    expect(drops[0]).toContain('"detail":"bridge: unknown destination MAC and no forwarding port to flood to"');
    const index = JSON.parse(readFileSync(join(r.dir, 'interfaces.json'), 'utf8')) as { interfaces: { file: string }[] };
    for (const i of index.interfaces) expect(captureProblems(join(r.dir, i.file)), i.file).toEqual([]);
  });
});

describe('external hosts run programs; ssh runs a command on a machine', () => {
  const r = run(scenario({
    extSpec: '  command: [nc, -lku, "9000"]\n',
    steps: [
      '  - run: ssh n1 -- nc -u -w1 192.168.1.100 9000',
      '    stdin: "hello from n1\\n"',
      '  - ssh ext -- ping -c 1 192.168.1.11',
      '  - ssh ext -- wget -q -O - http://192.168.1.10/',
      '  - ssh n2 -- ip addr',
      '',
    ].join('\n'),
  }));

  it('starts the host’s command with the cluster and writes what it prints to outputs/hosts/<host>.log', () => {
    expect(r.file('outputs/hosts/ext.log')).toBe('hello from n1\n');
  });

  it('writes each ssh step’s output to outputs/NN-<host>.txt, with the command’s exit status', () => {
    expect(r.steps.map((s) => [s.outputFile, s.exitCode])).toEqual([
      ['outputs/01-n1.txt', 0],
      ['outputs/02-ext.txt', 0],
      ['outputs/03-ext.txt', 127],
      ['outputs/04-n2.txt', 0],
    ]);
    expect(r.file('outputs/02-ext.txt')).toMatch(/^PING 192\.168\.1\.11 \(192\.168\.1\.11\) 56\(84\) bytes of data\.\n64 bytes from 192\.168\.1\.11: icmp_seq=1 ttl=64 /);
    expect(r.file('outputs/03-ext.txt')).toBe('bash: line 1: wget: command not found\n');
    expect(r.file('outputs/04-n2.txt')).toContain('inet 192.168.1.11/24 brd 192.168.1.255 scope global eth0');
    r.clean();
  });
});
