/**
 * DNS on the kernel, planned without a kernel (src/parity/traffic-dns.ts, traffic.ts): which
 * steps become which real commands — dig, nslookup and getent by path, podwire's getaddrinfo probe
 * as python3's socket.getaddrinfo, curl to a name — with which bound, in which pod (whose /etc
 * files parity binds), and what is refused and why: names where the scenario gives no
 * resolv.conf (ssh to a node or host, a pod started mid-run), command lines podwire does not
 * emulate.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIG, GETADDRINFO_SCRIPT, GETENT, NSLOOKUP, planDnsClient } from '../../src/parity/traffic-dns.js';
import { planStep } from '../../src/parity/traffic.js';
import type { StepModels } from '../../src/parity/traffic-steps.js';
import { inPodNamespace, writePodEtc } from '../../src/parity/pod-etc.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import type { StepSpec } from '../../src/scenario/spec.js';

const spec = loadScenarioFile('scenarios/dns-lookup.yaml');
const exec = (argv: string[]): StepSpec => ({ ...spec.steps[0]!, argv } as StepSpec);
const plan = (argv: string[]) => planStep(exec(argv), (_ns, name) => name);
const reason = (argv: string[]) => { const p = plan(argv); return p.ok ? '' : p.reason; };

describe('DNS clients as kernel steps', () => {
  it("runs dig, nslookup and getent by path in the pod, bounded by the tool's own worst case", () => {
    expect(plan(['nslookup', 'checkout-api'])).toMatchObject({ ok: true, step: { kind: 'command', netns: 'shell', argv: [NSLOOKUP, 'checkout-api'], pod: { namespace: 'default', name: 'shell', container: undefined } } });
    expect(plan(['dig', '+short', 'checkout-db.default.svc.cluster.local'])).toMatchObject({ ok: true, step: { argv: [DIG, '+short', 'checkout-db.default.svc.cluster.local'], timeoutSec: 20 } });
    // +time=1 +tries=2: two seconds of tries, plus the margin.
    expect(planDnsClient(['dig', '+time=1', '+tries=2', 'x'])).toEqual({ argv: [DIG, '+time=1', '+tries=2', 'x'], timeoutSec: 7 });
    expect(plan(['getent', 'ahosts', 'checkout-api'])).toMatchObject({ ok: true, step: { argv: [GETENT, 'ahosts', 'checkout-api'], timeoutSec: 45 } });
    // Never more than a minute, whatever the worst case (nslookup: A then AAAA over the search list).
    expect(planDnsClient(['nslookup', 'x'])).toMatchObject({ timeoutSec: 60 });
  });

  it("runs podwire's getaddrinfo probe as python3's socket.getaddrinfo with the probe's family and flags", () => {
    expect(planDnsClient(['getaddrinfo', 'my-svc'])).toMatchObject({ argv: ['/usr/bin/python3', '-c', GETADDRINFO_SCRIPT, 'my-svc', 'unspec', ''] });
    expect(planDnsClient(['getaddrinfo', 'my-svc', '--family', 'inet', '--flags', 'CANONNAME,ADDRCONFIG'])).toMatchObject({ argv: ['/usr/bin/python3', '-c', GETADDRINFO_SCRIPT, 'my-svc', 'inet', 'addrconfig,canonname'] });
  });

  it('the getaddrinfo script prints what the probe prints, from the real glibc (here: /etc/hosts, no DNS)', () => {
    const r = spawnSync('/usr/bin/python3', ['-c', GETADDRINFO_SCRIPT, 'localhost', 'inet', 'canonname'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('canonname localhost\ninet 127.0.0.1\n');
    const bad = spawnSync('/usr/bin/python3', ['-c', GETADDRINFO_SCRIPT, 'not-an-address', 'inet', 'numerichost'], { encoding: 'utf8' });
    expect([bad.status, bad.stdout]).toEqual([2, 'getaddrinfo: not-an-address: Name or service not known\n']);
  });

  it('refuses what podwire does not emulate, with its reason', () => {
    expect(reason(['nslookup'])).toContain('interactive nslookup is not emulated');
    expect(reason(['getent', 'passwd', 'root'])).toContain('getent passwd is not emulated');
    expect(reason(['dig', 'a.example', 'b.example'])).toContain('more than one name');
    expect(reason(['getaddrinfo'])).toContain('the NAME is missing');
  });

  it('curl to a name runs in a pod (its resolv.conf is bound), never where the scenario gives none', () => {
    expect(plan(['curl', '-sS', '--max-time', '10', 'http://api.example.com/'])).toMatchObject({ ok: true, step: { argv: ['curl', '-sS', '--max-time', '10', 'http://api.example.com/'], timeoutSec: 12 } });
    expect(plan(['curl', 'checkout-api.default.svc.cluster.local.:80/health'])).toMatchObject({ ok: true });
    const models: StepModels = {
      before: { plan: { namespaces: [{ model: 'n1', kernel: 'p-n1' }], interfaces: [], commands: [], notRealizable: [] }, records: new Map(), podNetns: new Map(), runningPods: new Set() },
      after: undefined,
      podSpecs: new Map(),
    };
    const ssh = (argv: string[]) => planStep({ ...spec.steps[0]!, kind: 'ssh', host: 'n1', argv } as StepSpec, () => undefined, models);
    const sshReason = (argv: string[]) => { const p = ssh(argv); return p.ok ? '' : p.reason; };
    expect(sshReason(['curl', 'http://api.example.com/'])).toContain('a name where the scenario gives no resolv.conf');
    expect(sshReason(['dig', 'api.example.com'])).toContain('dig where the scenario gives no resolv.conf');
    expect(sshReason(['nslookup', 'api.example.com'])).toContain('no resolv.conf');
    // An address is fine there, and an ssh step binds no pod's files.
    const ok = ssh(['curl', 'http://192.168.1.100/']);
    expect(ok).toMatchObject({ ok: true, step: { kind: 'command', netns: 'n1' } });
    expect(ok.ok && ok.step.kind === 'command' && ok.step.pod).toBe(undefined);
  });
});

describe("a step's view of /etc (pod-etc.ts)", () => {
  const work = mkdtempSync(join(tmpdir(), 'podwire-pod-etc-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("writes the pod's files and runs the program with them bound and its hostname set, exec'd so its PID is the program's", () => {
    const etc = writePodEtc(work, 'shell', new TextEncoder().encode('10.244.1.2\tshell\n'), new TextEncoder().encode('nameserver 10.96.0.10\n'));
    expect(readFileSync(etc.hosts, 'utf8')).toBe('10.244.1.2\tshell\n');
    expect(readFileSync(etc.resolvConf, 'utf8')).toBe('nameserver 10.96.0.10\n');
    const argv = inPodNamespace('pwp1-shell', etc, ['/usr/bin/dig', 'x']);
    expect(argv.slice(0, 6)).toEqual(['ip', 'netns', 'exec', 'pwp1-shell', 'unshare', '--uts']);
    expect(argv.slice(-2)).toEqual(['/usr/bin/dig', 'x']);
    expect(argv.join(' ')).toMatch(/&& exec "\$@" sh shell \S+\/etc\/hosts \S+\/etc\/resolv\.conf \/usr\/bin\/dig x$/);
  });
});
