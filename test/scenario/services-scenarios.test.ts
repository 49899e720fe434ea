/**
 * The Services issue's scenarios (scenarios/*.yaml): what each prints, what its captures show
 * (dissected by tshark, the capture check on every file), and the state it leaves in the rules.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { inspectScenario } from '../../src/scenario/inspect.js';
import { runScenario, type RunResult } from '../../src/scenario/run.js';
import { captureProblems, tsharkFields } from '../helpers/tshark.js';

const root = mkdtempSync(join(tmpdir(), 'podwire-svc-scenarios-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(name: string): RunResult {
  return runScenario(loadScenarioFile(`scenarios/${name}.yaml`), { out: join(root, name), seed: 1 });
}

/** tshark's fields, one row per frame, the header line dropped. */
function rows(r: RunResult, file: string, fields: readonly string[]): string[][] {
  return tsharkFields(join(r.dir, file), fields).split('\n').slice(1).filter(Boolean).map((l) => l.split('\t'));
}

function capturesAreClean(r: RunResult): void {
  const index = JSON.parse(readFileSync(join(r.dir, 'interfaces.json'), 'utf8')) as { interfaces: { file: string }[] };
  for (const i of index.interfaces) expect(captureProblems(join(r.dir, i.file)), i.file).toEqual([]);
}

describe('scenarios/clusterip-http.yaml', () => {
  const r = run('clusterip-http');
  it('reaches the endpoint on the other node through the ClusterIP', () => {
    expect(r.steps.map((s) => s.exitCode)).toEqual([0, 0, 0]);
    expect(r.steps[0]!.output).toContain('endpoints/checkout-api   10.244.2.2:3000');
    expect(r.steps[1]!.output).toBe('{"status":"healthy"}\n');
    expect(r.steps[2]!.output).toBe('{"status":"healthy"}\n');
  });
  it('from the node itself: DNAT in OUTPUT, masqueraded to flannel.1\'s address, MSS from the pre-DNAT route', () => {
    const syns = rows(r, 'captures/checkout-api-1/eth0.pcap', ['ip.src', 'tcp.dstport', 'tcp.flags.syn', 'tcp.flags.ack', 'tcp.options.mss_val']).filter((x) => x[2] === '1' && x[3] === '0');
    expect(syns.map((x) => `${x[0]}:${x[1]} mss${x[4]}`)).toEqual(['10.244.1.2:3000 mss1410', '10.244.1.0:3000 mss1460']);
  });
  it('the client sees only the ClusterIP; after n1 the packets carry the endpoint', () => {
    const tcp = ['ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport'];
    const atClient = rows(r, 'captures/checkout/eth0.pcap', tcp).filter((x) => x[2] !== '');
    expect(new Set(atClient.map((x) => (x[0] === '10.244.1.2' ? `${x[1]}:${x[3]}` : `${x[0]}:${x[2]}`)))).toEqual(new Set(['10.96.0.80:80']));
    const inTunnel = rows(r, 'captures/n1/flannel.1.pcap', tcp).filter((x) => x[2] !== '' && (x[0] === '10.244.1.2' || x[1] === '10.244.1.2'));
    expect(inTunnel.length).toBeGreaterThan(5);
    expect(new Set(inTunnel.map((x) => (x[0] === '10.244.1.2' ? `${x[1]}:${x[3]}` : `${x[0]}:${x[2]}`)))).toEqual(new Set(['10.244.2.2:3000']));
  });
  it('writes captures tshark decodes cleanly', () => capturesAreClean(r));
});

describe('scenarios/service-three-endpoints.yaml', () => {
  const r = run('service-three-endpoints');
  it('spreads 30 new connections over the three endpoints (seed 1: 9, 10, 11)', () => {
    expect(r.steps.slice(1).every((s) => s.exitCode === 0)).toBe(true);
    const counts = new Map<string, number>();
    for (const s of r.steps.slice(1)) counts.set(s.output, (counts.get(s.output) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ 'web-1\n': 9, 'web-2\n': 10, 'web-3\n': 11 });
  });
  it('kube-proxy wrote probabilities 1/3, 1/2 and 1; each endpoint chain counted its connections', () => {
    const saved = inspectScenario(loadScenarioFile('scenarios/service-three-endpoints.yaml'), { seed: 1, target: 'n1', sections: ['iptables-counters'] }).stdout;
    const svc = saved.split('\n').filter((l) => /^\[\d+:\d+\] -A KUBE-SVC-\S+ -m comment --comment "default\/web:http -> /.test(l));
    expect(svc.map((l) => /--probability (\S+)/.exec(l)?.[1] ?? '-')).toEqual(['0.33333333349', '0.50000000000', '-']);
    const dnat = saved.split('\n').filter((l) => /-A KUBE-SEP-\S+ .*"default\/web:http" .*-j DNAT/.test(l));
    const taken = dnat.map((l) => Number(/^\[(\d+):/.exec(l)![1]));
    expect(taken).toEqual([9, 10, 11]);
  });
  it('writes captures tshark decodes cleanly', () => capturesAreClean(r));
});

describe('scenarios/no-endpoints.yaml', () => {
  const r = run('no-endpoints');
  it('shows <none> endpoints and a refused connection', () => {
    expect(r.steps[0]!.output).toContain('endpoints/checkout-api   <none>');
    expect(r.steps[1]!.output).toContain('Endpoints:                <none>\n');
    expect(r.steps[2]!.output).toMatch(/^curl: \(7\) Failed to connect to 10\.96\.0\.90 port 80 after \d+ ms: Couldn't connect to server\n/);
    expect(r.steps.map((s) => s.exitCode)).toEqual([0, 0, 7]);
  });
  it('the REJECT is an ICMP port unreachable from cni0, TOS 0xc0, quoting the SYN with TTL 63', () => {
    const icmp = rows(r, 'captures/frontend/eth0.pcap', ['ip.src', 'ip.dsfield', 'icmp.type', 'icmp.code', 'ip.ttl']).filter((x) => x[2] !== '');
    // Outer then quoted header: from cni0's address to the client, TOS 0xc0, quoting TTL 63.
    expect(icmp).toEqual([['10.244.1.1,10.244.1.2', '0xc0,0x00', '3', '3', '64,63']]);
  });
  it('writes captures tshark decodes cleanly', () => capturesAreClean(r));
});

describe('scenarios/egress-masquerade.yaml', () => {
  const r = run('egress-masquerade');
  it('ext sees the node with a new source port, never the pod', () => {
    expect(r.steps[0]!.output).toBe('External Web\n');
    const atExt = rows(r, 'captures/ext/eth0.pcap', ['ip.src', 'tcp.srcport', 'tcp.flags.syn', 'tcp.flags.ack']).filter((x) => x[1] !== '');
    const syn = atExt.find((x) => x[2] === '1' && x[3] === '0')!;
    expect(syn[0]).toBe('192.168.1.10');
    const atPod = rows(r, 'captures/app/eth0.pcap', ['ip.src', 'tcp.srcport', 'tcp.flags.syn', 'tcp.flags.ack']).find((x) => x[2] === '1' && x[3] === '0')!;
    expect(atPod[0]).toBe('10.244.1.2');
    expect(syn[1]).not.toBe(atPod[1]);
    expect(atExt.every((x) => x[0] !== '10.244.1.2')).toBe(true);
  });
  it('writes captures tshark decodes cleanly', () => capturesAreClean(r));
});

describe('scenarios/dns-lookup.yaml', () => {
  const r = run('dns-lookup');
  it('answers a short name, an FQDN, a headless Service, an SRV record and getent', () => {
    expect(r.steps.map((s) => s.exitCode)).toEqual([0, 0, 0, 0, 0]);
    // CoreDNS never sets RA: nslookup says so for each reply it uses (as the real one does on the kernel).
    const noRa = ';; Got recursion not available from 10.96.0.10\n';
    const nslookup = (misses: number) => `${noRa.repeat(misses + 1)}Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\nName:\tcheckout-api.default.svc.cluster.local\nAddress: 10.96.0.80\n${noRa}\n`;
    expect(r.steps[0]!.output).toBe(nslookup(0));
    expect(r.steps[1]!.output).toBe(nslookup(3));
    expect(r.steps[2]!.output.split('\n').filter(Boolean).sort()).toEqual(['10.244.1.3', '10.244.2.4']);
    expect(r.steps[3]!.output).toContain('_http._tcp.checkout-api.default.svc.cluster.local. 30 IN SRV 0 100 80 checkout-api.default.svc.cluster.local.\n');
    expect(r.steps[4]!.output).toBe('10.96.0.80      STREAM checkout-api.default.svc.cluster.local\n10.96.0.80      DGRAM  \n10.96.0.80      RAW    \n');
  });
  it('every query goes to 10.96.0.10 from the shell; getent asks A only; dig adds EDNS, nslookup does not', () => {
    const q = rows(r, 'captures/shell/eth0.pcap', ['dns.flags.response', 'ip.dst', 'dns.qry.name', 'dns.qry.type', 'dns.rr.udp_payload_size']).filter((x) => x[0] === '0');
    expect(new Set(q.map((x) => x[1]))).toEqual(new Set(['10.96.0.10']));
    expect(q.map((x) => `${x[2]} ${x[3]} ${x[4]}`)).toEqual([
      'checkout-api.default.svc.cluster.local 1 ', 'checkout-api.default.svc.cluster.local 28 ',
      // 4 dots < ndots:5: nslookup walks the search list before the name as given.
      'checkout-api.default.svc.cluster.local.default.svc.cluster.local 1 ',
      'checkout-api.default.svc.cluster.local.svc.cluster.local 1 ',
      'checkout-api.default.svc.cluster.local.cluster.local 1 ',
      'checkout-api.default.svc.cluster.local 1 ', 'checkout-api.default.svc.cluster.local 28 ',
      'checkout-db.default.svc.cluster.local 1 1232',
      '_http._tcp.checkout-api.default.svc.cluster.local 33 1232',
      'checkout-api.default.svc.cluster.local 1 ',
    ]);
  });
  it('writes captures tshark decodes cleanly', () => capturesAreClean(r));
});

describe('scenarios/ndots-external.yaml', () => {
  const r = run('ndots-external');
  it('three search-list NXDOMAINs before the name as given, which CoreDNS forwards upstream', () => {
    expect(r.steps[0]!.output).toBe('api.example.com\n');
    const dns = rows(r, 'captures/web-client/eth0.pcap', ['dns.flags.response', 'dns.qry.name', 'dns.flags.rcode', 'dns.a']).filter((x) => x[1] !== '');
    // curl asks PF_UNSPEC (an IPv6 socket works on Linux, addresses or not): A and AAAA back to back per name.
    const both = (name: string, rcode: number, a = '') => [`0 ${name}  `, `0 ${name}  `, `1 ${name} ${rcode} ${a}`, `1 ${name} ${rcode} `];
    expect(dns.map((x) => `${x[0]} ${x[1]} ${x[2]} ${x[3]}`)).toEqual([
      ...both('api.example.com.default.svc.cluster.local', 3),
      ...both('api.example.com.svc.cluster.local', 3),
      ...both('api.example.com.cluster.local', 3),
      ...both('api.example.com', 0, '192.168.1.100'),
    ]);
    const upstream = rows(r, 'captures/dns/eth0.pcap', ['dns.flags.response', 'ip.src', 'dns.qry.name', 'dns.qry.type']).filter((x) => x[0] === '0');
    expect(upstream).toEqual([['0', '192.168.1.11', 'api.example.com', '1'], ['0', '192.168.1.11', 'api.example.com', '28']]);
  });
  it('writes captures tshark decodes cleanly', () => capturesAreClean(r));
});

describe('scenarios/debugging-ladder.yaml', () => {
  const r = run('debugging-ladder');
  it('DNS works, the ClusterIP and the pod port 3000 refuse, the app listens on 8080', () => {
    expect(r.steps.map((s) => s.exitCode)).toEqual([0, 7, 0, 7, 0, 0]);
    expect(r.steps[0]!.output).toContain('Name:\tcheckout-api-svc.production.svc.cluster.local\nAddress: 10.96.214.88\n');
    expect(r.steps[1]!.output).toContain('* connect to 10.96.214.88 port 80 failed: Connection refused\n');
    expect(r.steps[3]!.output).toContain('* connect to 10.244.2.3 port 3000 failed: Connection refused\n');
    // The sidecar shares the pod's network namespace, not its PIDs: the owner shows as `-`.
    expect(r.steps[4]!.output).toMatch(/^tcp +0 +0 0\.0\.0\.0:8080 +0\.0\.0\.0:\* +LISTEN +- +$/m);
    expect(r.steps[5]!.output).toContain('< HTTP/1.1 200 OK\r\n');
  });
  it('the RST for port 3000 comes back un-DNATed, from the ClusterIP', () => {
    const rst = rows(r, 'captures/debug-pod/eth0.pcap', ['ip.src', 'tcp.srcport', 'tcp.flags.reset']).filter((x) => x[2] === '1');
    expect(rst.map((x) => `${x[0]}:${x[1]}`)).toEqual(['10.96.214.88:80', '10.244.2.3:3000']);
  });
  it('writes captures tshark decodes cleanly', () => capturesAreClean(r));
});

describe('test/scenario/fixtures/affinity-readiness.yaml', () => {
  const file = 'test/scenario/fixtures/affinity-readiness.yaml';
  const r = runScenario(loadScenarioFile(file), { out: join(root, 'affinity'), seed: 1 });
  it('sessionAffinity ClientIP: every connection goes where the first one went', () => {
    const first = r.steps.slice(0, 6).map((s) => s.output);
    expect(new Set(first).size).toBe(1);
    expect(first[0]).toMatch(/^web-[12]\n$/);
  });
  it('a stopped app fails its probe, leaves the EndpointSlice, and kube-proxy stops sending to it', () => {
    expect(r.steps[8]!.output).toMatch(/^NAME +ENDPOINTS +AGE\nweb +10\.244\.2\.\d+:5678 +\d+s\n$/);
    expect(r.steps.slice(9).map((s) => s.output)).toEqual(['web-2\n', 'web-2\n', 'web-2\n']);
    const saved = inspectScenario(loadScenarioFile(file), { seed: 1, target: 'n1', sections: ['iptables'] }).stdout;
    expect(saved.split('\n').filter((l) => /^-A KUBE-SEP-\S+ .*-j DNAT/.test(l) && l.includes('default/web:http'))).toHaveLength(1);
    expect(saved).toMatch(/-A KUBE-SVC-\S+ -m comment --comment "default\/web:http -> 10\.244\.2\.\d+:5678" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-\S+ --mask 255\.255\.255\.255 --rsource -j KUBE-SEP-/);
  });
});

describe('test/scenario/fixtures/hairpin.yaml', () => {
  const r = runScenario(loadScenarioFile('test/scenario/fixtures/hairpin.yaml'), { out: join(root, 'hairpin'), seed: 1 });
  it('a pod reaches itself through its Service, masqueraded to cni0\'s address on the way back in', () => {
    expect(r.steps[0]!.output).toBe('web-1\n');
    const syns = rows(r, 'captures/web-1/eth0.pcap', ['ip.src', 'ip.dst', 'tcp.dstport', 'tcp.flags.syn', 'tcp.flags.ack']).filter((x) => x[3] === '1' && x[4] === '0');
    expect(syns.map((x) => `${x[0]}>${x[1]}:${x[2]}`)).toEqual(['10.244.1.2>10.96.0.60:80', '10.244.1.1>10.244.1.2:5678']);
  });
  it('writes captures tshark decodes cleanly', () => capturesAreClean(r));
});
