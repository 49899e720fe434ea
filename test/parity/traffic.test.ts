/**
 * Which steps and servers parity runs on the real kernel, without a kernel: curl only when it is
 * bounded, plain http:// to an IPv4 address and touches no file of the machine; kubectl views as
 * no-ops, sleep as a sleep; python3 -m http.server read as podwire reads it.
 */
import { describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { httpServerOptions, planServers } from '../../src/parity/servers.js';
import { planStep } from '../../src/parity/traffic.js';
import type { StepSpec } from '../../src/scenario/spec.js';

const spec = loadScenarioFile('scenarios/reference/egress-masquerade.yaml');
const exec = (argv: string[]): StepSpec => ({ ...spec.steps[0]!, argv } as StepSpec);
const plan = (argv: string[]) => planStep(exec(argv), () => 'pa');

describe('planStep', () => {
  it('runs a bounded curl to an IPv4 URL, its bound from --max-time', () => {
    const p = plan(['curl', '-sS', '--max-time', '5', 'http://192.168.1.100:8080/']);
    expect(p).toMatchObject({ ok: true, step: { kind: 'command', netns: 'pa', timeoutSec: 7 } });
    expect(plan(['curl', '-so', '/dev/null', '-w', '%{http_code}', '-m5', '10.96.0.100'])).toMatchObject({ ok: true, step: { timeoutSec: 7 } });
  });

  it('does not run a curl that would touch files of this machine, use a name or another scheme', () => {
    const reason = (argv: string[]) => { const p = plan(argv); return p.ok ? '' : p.reason; };
    expect(reason(['curl', '-o', 'page.html', 'http://10.96.0.100/'])).toContain('would write a file on this machine');
    expect(reason(['curl', '-sSo', '/tmp/x', 'http://10.96.0.100/'])).toContain('would write a file on this machine');
    expect(reason(['curl', '-d', '@/etc/passwd', 'http://10.96.0.100/'])).toContain('would read a file of this machine');
    expect(reason(['curl', '-K', 'cfg', 'http://10.96.0.100/'])).toContain('curl -K (not an option parity runs)');
    expect(reason(['curl', '-O', 'http://10.96.0.100/x'])).toContain('curl -O');
    // A name is resolved through the pod's own resolv.conf and hosts, bound for the step (traffic-dns.test.ts).
    expect(reason(['curl', 'http://web.default.svc/'])).toBe('');
    expect(reason(['curl', 'file:///etc/passwd'])).toContain('only http://');
    expect(reason(['curl', 'http://a_b/'])).toContain('only http://');
    expect(reason(['curl', 'http://10.96.0.[1-100]/'])).toContain('no globbing');
    expect(reason(['curl', '-m', '90', 'http://10.96.0.100/'])).toContain('more than 60');
    expect(reason(['curl', '-sS'])).toContain('without a URL');
    expect(reason(['wget', 'http://10.96.0.100/'])).toContain('only ping, curl, nc, udp-send, dig, nslookup, getent, getaddrinfo, ip (show), netstat and ss so far');
  });

  it('takes kubectl views as no-ops and sleep as a bounded sleep', () => {
    const base = spec.steps[0]!;
    expect(planStep({ ...base, kind: 'kubectl-view', argv: ['get', 'pods'] } as StepSpec, () => 'pa')).toMatchObject({ ok: true, step: { kind: 'view' } });
    expect(planStep({ ...base, kind: 'sleep', durationNs: 2e9 } as StepSpec, () => 'pa')).toMatchObject({ ok: true, step: { kind: 'sleep', durationNs: 2e9 } });
    expect(planStep({ ...base, kind: 'sleep', durationNs: 61e9 } as StepSpec, () => 'pa').ok).toBe(false);
  });
});

describe('planServers', () => {
  it('python3 -m http.server as podwire reads it; anything else with its reason', () => {
    expect(httpServerOptions(['python3', '-m', 'http.server', '--protocol', 'HTTP/1.1', '--bind', '10.244.1.3', '8080'])).toEqual({ bind: '10.244.1.3', port: 8080, directory: undefined, protocol: 'HTTP/1.1', unbuffered: false });
    expect(httpServerOptions(['python3', 'app.py'])).toContain('only python3 [-u] -m http.server');
    expect(httpServerOptions(['/http-echo', '-listen=:8080'])).toBe('/http-echo -listen=:8080');
  });

  it("the reference's servers with their files: ConfigMap volumes as the kubelet lays them out, the host's own files", () => {
    const ips: Record<string, number> = { pb: 0x0af4_0103, pc: 0x0af4_0202, pd: 0x0af4_0203, pa: 0x0af4_0102 };
    const p = planServers(spec, 1, 1e9, (_ns, name) => name, (pod) => ({ podIp: ips[pod.name], clusterDns: 0x0a60_000a, nodeNameservers: [] }));
    expect(p.servers.map((s) => [s.label, s.netns, s.cwd])).toEqual([
      ['pod default/pb (web)', 'pb', '/srv'],
      ['pod default/pc (web)', 'pc', '/srv'],
      ['host ext', 'ext', '/srv'],
    ]);
    const [pb, , ext] = p.servers;
    expect(new TextDecoder().decode(pb!.fs.readFile('/srv/index.html'))).toBe('kr-pb\n');
    expect(pb!.fs.isSymlink('/srv/index.html')).toBe(true);
    expect(new TextDecoder().decode(pb!.fs.readFile('/etc/hosts'))).toMatch(/^10\.244\.1\.3\tpb$/m);
    expect(new TextDecoder().decode(ext!.fs.readFile('/srv/index.html'))).toBe('kr-ext\n');
    expect(new TextDecoder().decode(ext!.fs.readFile('/etc/hosts'))).toMatch(/^192\.168\.1\.100\text$/m);
    expect(p.unrealizable).toEqual([{ label: 'pod kube-system/pd (dns)', netns: 'pd', reason: 'coredns/coredns:1.11.1: no command (the image default)' }]);
  });
});
