/**
 * The planners of the real nc, udp-send's kernel-side equivalent and the http-echo stand-in,
 * without a kernel: what they run (argv, bounds) and what they refuse, with the reason.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { planServers } from '../../src/parity/servers.js';
import { HTTP_ECHO_SCRIPT, httpEchoStandIn } from '../../src/parity/stand-ins/http-echo.js';
import { NC_OPENBSD, ncListener } from '../../src/parity/stand-ins/nc-listener.js';
import { UDP_SEND_SCRIPT, planUdpSend } from '../../src/parity/stand-ins/udp-send.js';
import { planStep } from '../../src/parity/traffic.js';
import { planNcClient } from '../../src/parity/traffic-nc.js';
import type { StepSpec } from '../../src/scenario/spec.js';

const reason = (r: unknown): string => (typeof r === 'string' ? r : '');

describe('nc as a step (the real netcat-openbsd)', () => {
  it('runs a client with its own arguments, bounded by -w / -q plus a margin', () => {
    expect(planNcClient(['nc', '-u', '-w1', '10.244.2.2', '9000'])).toEqual({ argv: [NC_OPENBSD, '-u', '-w1', '10.244.2.2', '9000'], timeoutSec: 6 });
    expect(planNcClient(['nc', '-q', '2', '-w', '10', '10.96.0.100', '80'])).toEqual({ argv: [NC_OPENBSD, '-q', '2', '-w', '10', '10.96.0.100', '80'], timeoutSec: 7 });
    expect(planNcClient(['nc', '-zv', '-w', '3', '10.96.0.100', '80'])).toMatchObject({ timeoutSec: 8 });
  });

  it('an nc with neither -w nor -q is bounded by a timeout (killed after 10 s)', () => {
    expect(planNcClient(['nc', '-u', '10.244.2.2', '9000'])).toMatchObject({ timeoutSec: 10 });
  });

  it('refuses, with the reason, what would run a program, touch a file, leave the pod or never end', () => {
    expect(reason(planNcClient(['nc', '-e', '/bin/sh', '10.0.0.1', '80']))).toBe('nc -e: runs a program (not netcat-openbsd; parity never runs one)');
    expect(reason(planNcClient(['nc', '-lc', 'sh', '80']))).toContain('nc -c: runs a program');
    expect(reason(planNcClient(['nc', '-U', '/var/run/docker.sock']))).toContain('a file of this machine');
    expect(reason(planNcClient(['nc', '-x', '10.0.0.9:1080', '10.0.0.1', '80']))).toContain('proxy');
    expect(reason(planNcClient(['nc', '-lku', '9000']))).toContain('never ends by itself');
    expect(reason(planNcClient(['nc', '-w1', 'web.default', '80']))).toContain("a name would need the pod's resolv.conf");
    expect(reason(planNcClient(['nc', '-w', '90', '10.0.0.1', '80']))).toContain('a bound from 0 to 55 s');
    expect(reason(planNcClient(['nc', '-Z', '10.0.0.1', '80']))).toContain("invalid option -- 'Z'");
    expect(reason(planNcClient(['nc', '10.0.0.1']))).toContain('usage: nc');
  });

  it('planStep dispatches nc and udp-send with the realized argv', () => {
    const spec = loadScenarioFile('scenarios/udp-nc.yaml');
    const p = planStep(spec.steps[0]!, () => 'pa');
    expect(p).toMatchObject({ ok: true, step: { kind: 'command', netns: 'pa', argv: [NC_OPENBSD, '-u', '-w1', '10.244.2.2', '9000'], stdin: 'hello from pa\n', timeoutSec: 6 } });
    const q = planStep({ ...spec.steps[0]!, argv: ['nc', '-e', 'sh', '10.244.2.2', '9000'] } as StepSpec, () => 'pa');
    expect(q).toEqual({ ok: false, reason: 'step 1 (kubectl exec -i pa -- nc -u -w1 10.244.2.2 9000): nc -e: runs a program (not netcat-openbsd; parity never runs one)' });
  });
});

describe('udp-send on the kernel (python3 on the real socket API)', () => {
  it("passes podwire's reading of the command line to the script, bounded by count × interval", () => {
    const p = planUdpSend(['udp-send', '10.244.2.3:9000', '--bytes', '1472', '--count', '3']);
    expect(p).toEqual({ argv: ['/usr/bin/python3', '-c', UDP_SEND_SCRIPT, '10.244.2.3', '9000', '1472', 'want', '3', '1'], timeoutSec: 7 });
    expect(planUdpSend(['udp-send', '10.244.2.2:9000', '--bytes=1400', '--pmtudisc', 'do', '--interval', '0.5'])).toMatchObject({ argv: ['/usr/bin/python3', '-c', UDP_SEND_SCRIPT, '10.244.2.2', '9000', '1400', 'do', '1', '0.5'] });
  });

  it('refuses what udp-send refuses, and unbounded runs', () => {
    expect(reason(planUdpSend(['udp-send', '10.244.2.2:9000']))).toContain('--bytes N is required');
    expect(reason(planUdpSend(['udp-send', 'web:9000', '--bytes', '1']))).toContain('is not an IPv4 address');
    expect(reason(planUdpSend(['udp-send', '10.0.0.1:9', '--bytes', '1', '--count', '1000']))).toContain('at most 100');
    expect(reason(planUdpSend(['udp-send', '10.0.0.1:9', '--bytes', '1', '--count', '90']))).toContain('more than 60');
  });

  it('the sockopt constants are <linux/in.h>\'s, and the script is valid Python', () => {
    expect(UDP_SEND_SCRIPT).toContain('IP_MTU_DISCOVER, IP_MTU = 10, 14');
    expect(UDP_SEND_SCRIPT).toContain("{'dont': 0, 'want': 1, 'do': 2}");
    for (const src of [UDP_SEND_SCRIPT, HTTP_ECHO_SCRIPT]) {
      const r = spawnSync('python3', ['-c', 'import sys; compile(sys.stdin.read(), "stand-in", "exec")'], { input: src, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
  });
});

describe('long-running programs: the real nc listener, the http-echo stand-in', () => {
  it('nc -l… runs as written; a client or a bad line is a reason; other programs are not ours', () => {
    expect(ncListener(['nc', '-lku', '9000'])).toEqual({ argv: [NC_OPENBSD, '-lku', '9000'], listen: { protocol: 'udp', port: 9000 }, what: `the real ${NC_OPENBSD}` });
    expect(ncListener(['/bin/nc', '-lk', '-p', '8080'])).toMatchObject({ listen: { protocol: 'tcp', port: 8080 } });
    expect(reason(ncListener(['nc', '10.0.0.1', '80']))).toContain('only listeners');
    expect(reason(ncListener(['nc', '-l']))).toContain('usage: nc');
    expect(ncListener(['python3', '-m', 'http.server'])).toBeUndefined();
  });

  it('/http-echo: address, port, status line and text as podwire reads them', () => {
    const env = new Map<string, string>();
    expect(httpEchoStandIn(['/http-echo', '-listen=:5678', '-text=web-1'], env)).toMatchObject({
      argv: ['/usr/bin/python3', '-u', '-c', HTTP_ECHO_SCRIPT, ':5678', '0.0.0.0', '5678', '200 OK', 'web-1'], listen: { protocol: 'tcp', port: 5678 },
    });
    expect(httpEchoStandIn(['http-echo', '-listen', '127.0.0.1:3000', '-status-code=418'], new Map([['ECHO_TEXT', 'tea']]))).toMatchObject({
      argv: ['/usr/bin/python3', '-u', '-c', HTTP_ECHO_SCRIPT, '127.0.0.1:3000', '127.0.0.1', '3000', "418 I'm a teapot", 'tea'],
    });
    expect(reason(httpEchoStandIn(['/http-echo', '-listen=:5678'], env))).toContain('Missing -text option or ECHO_TEXT env var!');
    expect(reason(httpEchoStandIn(['/http-echo', '-bogus'], env))).toContain('flag provided but not defined: -bogus');
  });

  it("planServers gives the programs the pod's hostname, /etc files and log name", () => {
    const spec = loadScenarioFile('scenarios/udp-nc.yaml');
    const p = planServers(spec, 1, 1e9, (_ns, name) => name, () => ({ podIp: 0x0af4_0202, clusterDns: 0x0a60_000a, nodeNameservers: [] }));
    expect(p.unrealizable).toEqual([]);
    expect(p.programs).toHaveLength(1);
    const nc = p.programs[0]!;
    expect([nc.label, nc.netns, nc.hostname, nc.log, nc.argv]).toEqual(['pod default/pc (nc)', 'pc', 'pc', 'containers/pc-nc.log', [NC_OPENBSD, '-lku', '9000']]);
    expect(new TextDecoder().decode(nc.etcHosts)).toMatch(/^10\.244\.2\.2\tpc$/m);
    expect(new TextDecoder().decode(nc.resolvConf)).toContain('nameserver 10.96.0.10');
  });
});
