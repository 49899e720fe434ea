import { describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/apps/app.js';
import { UsageError } from '../../src/apps/app.js';
import { ContainerFs } from '../../src/apps/container-fs.js';
import { programFor } from '../../src/apps/programs.js';
import type { Netns } from '../../src/net/netns.js';
import { sameNodeTopology } from '../helpers/topology.js';

interface Proc {
  out: string;
  code: number | undefined;
}

/**
 * Pod pb (10.244.1.3) with two containers: "web" runs python3 -m http.server on 0.0.0.0:8080 and,
 * exec'd into it, `nc -lu 5353`; "side" runs python3 bound to 127.0.0.1:3000 (its own pid
 * namespace). Pod pa (10.244.1.2) holds a TCP connection open to pb:8080.
 */
function pod() {
  const t = sameNodeTopology();
  const [pa, pb] = t.pods as [Netns, Netns];
  const web = new ContainerFs(0);
  const side = new ContainerFs(0);
  const run = (ns: Netns, argv: readonly string[], fs?: ContainerFs): Proc => {
    const p: Proc = { out: '', code: undefined };
    const ctx: AppContext = {
      ns, sched: t.sched, random: t.random, label: `${ns.name}/test`,
      ...(fs ? { fs } : {}),
      stdout: (s) => (p.out += s), stderr: (s) => (p.out += s), exit: (c) => (p.code ??= c),
    };
    programFor(argv).start(ctx);
    return p;
  };
  run(pb, ['python3', '-m', 'http.server', '8080'], web);
  run(pb, ['python3', '-m', 'http.server', '--bind', '127.0.0.1', '3000'], side);
  run(pb, ['nc', '-lu', '5353'], web);
  run(pa, ['nc', '10.244.1.3', '8080']);
  t.sched.run(t.sched.nowNs + 1e9);
  /** kubectl exec -c web POD -- ARGV */
  const exec = (argv: readonly string[], fs: ContainerFs = web) => {
    const p = run(pb, argv, fs);
    t.sched.run(t.sched.nowNs + 1);
    return p;
  };
  return { ...t, pa, pb, web, side, exec, run };
}

describe('netstat (net-tools 2.10)', () => {
  it('-tlnp: listeners with PID/Program name; another container\'s socket shows -', () => {
    const w = pod();
    const p = w.exec(['netstat', '-tlnp']);
    expect(p.code).toBe(0);
    expect(p.out).toBe(
      'Active Internet connections (only servers)\n' +
        'Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    \n' +
        'tcp        0      0 127.0.0.1:3000          0.0.0.0:*               LISTEN      -                   \n' +
        'tcp        0      0 0.0.0.0:8080            0.0.0.0:*               LISTEN      1/python3           \n',
    );
    // From the side container, it is the other way round.
    expect(w.exec(['netstat', '-tlnp'], w.side).out.split('\n').slice(2, 4)).toEqual([
      'tcp        0      0 127.0.0.1:3000          0.0.0.0:*               LISTEN      1/python3           ',
      'tcp        0      0 0.0.0.0:8080            0.0.0.0:*               LISTEN      -                   ',
    ]);
  });

  it('-ulnp, -tulnp, -tn, -tan, -uan, -an', () => {
    const w = pod();
    expect(w.exec(['netstat', '-ulnp']).out).toBe(
      'Active Internet connections (only servers)\n' +
        'Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    \n' +
        'udp        0      0 0.0.0.0:5353            0.0.0.0:*                           2/nc                \n',
    );
    expect(w.exec(['netstat', '-tulnp']).out.split('\n').slice(2)).toEqual([
      'tcp        0      0 127.0.0.1:3000          0.0.0.0:*               LISTEN      -                   ',
      'tcp        0      0 0.0.0.0:8080            0.0.0.0:*               LISTEN      1/python3           ',
      'udp        0      0 0.0.0.0:5353            0.0.0.0:*                           2/nc                ',
      '',
    ]);
    const tn = w.exec(['netstat', '-tn']).out;
    expect(tn).toMatch(
      /^Active Internet connections \(w\/o servers\)\nProto Recv-Q Send-Q Local Address           Foreign Address         State      \ntcp        0      0 10\.244\.1\.3:8080         10\.244\.1\.2:\d{5}        ESTABLISHED\n$/,
    );
    const port = /10\.244\.1\.2:(\d+)/.exec(tn)![1]!;
    expect(w.exec(['netstat', '-tanp']).out).toBe(
      'Active Internet connections (servers and established)\n' +
        'Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    \n' +
        'tcp        0      0 127.0.0.1:3000          0.0.0.0:*               LISTEN      -                   \n' +
        'tcp        0      0 0.0.0.0:8080            0.0.0.0:*               LISTEN      1/python3           \n' +
        `tcp        0      0 10.244.1.3:8080         10.244.1.2:${port}        ESTABLISHED 1/python3           \n`,
    );
    expect(w.exec(['netstat', '-uan']).out).toBe(
      'Active Internet connections (servers and established)\n' +
        'Proto Recv-Q Send-Q Local Address           Foreign Address         State      \n' +
        'udp        0      0 0.0.0.0:5353            0.0.0.0:*                          \n',
    );
    // Without -t/-u: every family, then the UNIX section (its header; no UNIX sockets here).
    expect(w.exec(['netstat', '-an']).out).toBe(
      'Active Internet connections (servers and established)\n' +
        'Proto Recv-Q Send-Q Local Address           Foreign Address         State      \n' +
        'tcp        0      0 127.0.0.1:3000          0.0.0.0:*               LISTEN     \n' +
        'tcp        0      0 0.0.0.0:8080            0.0.0.0:*               LISTEN     \n' +
        `tcp        0      0 10.244.1.3:8080         10.244.1.2:${port}        ESTABLISHED\n` +
        'udp        0      0 0.0.0.0:5353            0.0.0.0:*                          \n' +
        'Active UNIX domain sockets (servers and established)\n' +
        'Proto RefCnt Flags       Type       State         I-Node   Path\n',
    );
  });

  it('a closed connection lingers without an owner; closed by the server: TIME_WAIT with no owner', () => {
    const w = pod();
    const c = w.run(w.pa, ['curl', '-s', 'http://10.244.1.3:8080/nope']);
    w.sched.run(w.sched.nowNs + 1e9);
    expect(c.code).toBe(0);
    const lines = w.exec(['netstat', '-tnp']).out.split('\n');
    // python closed its side first: TIME_WAIT is the server's now, and it belongs to no process.
    expect(lines.filter((l) => l.includes('TIME_WAIT'))).toEqual([expect.stringMatching(/^tcp        0      0 10\.244\.1\.3:8080         10\.244\.1\.2:\d{5}        TIME_WAIT   -                   $/)]);
  });

  it('rejects what is not emulated', () => {
    expect(() => programFor(['netstat', '-tlp'])).toThrow(new UsageError('podwire: netstat without -n is not emulated (it would print host and service names)', 1));
    expect(() => programFor(['netstat', '-rn'])).toThrow(/netstat -r is not emulated/);
  });
});

describe('ss (iproute2 6.x)', () => {
  const sp = (n: number) => ' '.repeat(n);
  it('-tlnp: compact columns, the backlog as Send-Q, users:(…) in the Process column', () => {
    const w = pod();
    const p = w.exec(['ss', '-tlnp']);
    expect(p.code).toBe(0);
    // Widths: State 6, Recv-Q/Send-Q 1+6, address 1+14 (right), port 4, peer 1+13 (right), port 4, Process 31.
    expect(p.out).toBe(
      `State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess${sp(24)}\n` +
        `LISTEN 0      5          127.0.0.1:3000      0.0.0.0:*   ${sp(31)}\n` +
        'LISTEN 0      5            0.0.0.0:8080      0.0.0.0:*    users:(("python3",pid=1,fd=3))\n',
    );
  });

  it('-ulnp, -tan, -tulnp with the Netid column', () => {
    const w = pod();
    expect(w.exec(['ss', '-ulnp']).out).toBe(
      `State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess${sp(19)}\n` +
        'UNCONN 0      0            0.0.0.0:5353      0.0.0.0:*    users:(("nc",pid=2,fd=3))\n',
    );
    const tan = w.exec(['ss', '-tan']).out;
    const port = /10\.244\.1\.2:(\d+)/.exec(tan)![1]!;
    expect(port).toMatch(/^\d{5}$/);
    // Without -p the Process column is as wide as its header: every socket line ends in 7 spaces.
    expect(tan).toBe(
      'State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n' +
        `LISTEN 0      5          127.0.0.1:3000      0.0.0.0:*    ${sp(7)}\n` +
        `LISTEN 0      5            0.0.0.0:8080      0.0.0.0:*    ${sp(7)}\n` +
        `ESTAB  0      0         10.244.1.3:8080   10.244.1.2:${port}${sp(7)}\n`,
    );
    expect(w.exec(['ss', '-tulnp']).out).toBe(
      `Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess${sp(24)}\n` +
        `udp   UNCONN 0      0            0.0.0.0:5353      0.0.0.0:*    users:(("nc",pid=2,fd=3))${sp(5)}\n` +
        `tcp   LISTEN 0      5          127.0.0.1:3000      0.0.0.0:*   ${sp(31)}\n` +
        'tcp   LISTEN 0      5            0.0.0.0:8080      0.0.0.0:*    users:(("python3",pid=1,fd=3))\n',
    );
  });
});
