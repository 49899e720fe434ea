/**
 * The scenario's long-running programs (pods' containers, external hosts' commands) as real
 * processes in the kernel's namespaces, or the reason one cannot run here. This increment runs
 * `python3 [-u] -m http.server …` — the real /usr/bin/python3 (3.11.2, the references' version)
 * serving a directory this module writes from podwire's own view of the container's files (its
 * ConfigMap volumes as the kubelet lays them out, or a Host's `files`) — and leaves containers
 * that only sleep idle. The real `nc -l…` and a stand-in for hashicorp/http-echo are planned in
 * stand-ins/ (`programs`). Anything else is reported, never silently left out.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../apps/app.js';
import { ContainerFs, normalizePath, resolvePath } from '../apps/container-fs.js';
import { parsePythonHttpServerArgs, type PythonHttpServerOptions } from '../apps/python-http-server.js';
import { containerView, type KubeletFiles } from '../scenario/container-files.js';
import type { PodSpec, ScenarioSpec } from '../scenario/spec.js';
import { Random } from '../sim/random.js';
import { hostProgram, podProgram, type CorednsInputs, type KernelProgram } from './stand-ins/program.js';

/** One server to start on the kernel. */
export interface KernelServer {
  /** `pod default/pb (web)`, `host ext`: what the output calls it. */
  readonly label: string;
  /** podwire's netns it runs in. */
  readonly netns: string;
  /** A file-system-safe name, unique per server (its directory under the parity folder). */
  readonly slug: string;
  readonly options: PythonHttpServerOptions;
  /** The files it sees, and its working directory in them. */
  readonly fs: ContainerFs;
  readonly cwd: string;
  /** The container's environment (PYTHONUNBUFFERED and the like). */
  readonly env: ReadonlyMap<string, string>;
  /**
   * Its UTS hostname: a pod's is the pod's name (spec.hostname if given), as the kubelet sets it,
   * and its /etc/hosts names it. http.server's getfqdn() looks the hostname up; with the machine's
   * own name it would be a DNS query on the pod's wire.
   */
  readonly hostname: string;
}

/** A program this increment cannot run, and where. */
export interface UnrealizableServer {
  readonly label: string;
  readonly netns: string;
  readonly reason: string;
}

export interface ServerPlan {
  readonly servers: readonly KernelServer[];
  /** The other programs parity runs (the real nc, the http-echo stand-in): stand-ins/. */
  readonly programs: readonly KernelProgram[];
  readonly unrealizable: readonly UnrealizableServer[];
}

const PYTHONS = new Set(['python3', 'python', 'python3.11']);

/** `python3 [-u] -m http.server ARGS` read as podwire's emulation reads it; a reason otherwise. */
export function httpServerOptions(argv: readonly string[]): PythonHttpServerOptions | string {
  const [path, ...args] = argv;
  if (path === undefined) return 'no command (the image default)';
  if (!PYTHONS.has(path.slice(path.lastIndexOf('/') + 1))) return argv.join(' ');
  let unbuffered = false;
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-') && args[i] !== '-m'; i++) {
    if (args[i] === '-u') unbuffered = true;
    else return `${argv.join(' ')} (only python3 [-u] -m http.server)`;
  }
  if (args[i] !== '-m' || args[i + 1] !== 'http.server') return `${argv.join(' ')} (only python3 [-u] -m http.server)`;
  try {
    return parsePythonHttpServerArgs(args.slice(i + 2), unbuffered);
  } catch (e) {
    if (e instanceof UsageError) return `${argv.join(' ')} (${e.message.split('\n').at(-1) ?? ''})`;
    throw e;
  }
}

const idle = (argv: readonly string[]): boolean => argv[0] === 'sleep' || argv[0] === 'pause';

/**
 * The servers of the pods and hosts that exist at the first traffic step. `seed` and `nowNs` make
 * the ConfigMap volume's timestamped directory as podwire's run names it (its digits come from
 * the seeded `configmap-volume/…` stream); the name shows only in a directory listing.
 */
export function planServers(
  spec: ScenarioSpec,
  seed: number,
  nowNs: number,
  netnsOfPod: (namespace: string, name: string) => string | undefined,
  kubelet: (p: PodSpec) => KubeletFiles,
  /** The Services CoreDNS's stand-in answers for (none: it knows none). */
  dns: CorednsInputs['dns'] = undefined,
): ServerPlan {
  const servers: KernelServer[] = [];
  const programs: KernelProgram[] = [];
  const unrealizable: UnrealizableServer[] = [];
  const random = new Random(seed);
  for (const p of spec.pods) {
    const netns = netnsOfPod(p.namespace, p.name);
    if (netns === undefined) continue; // not running at the first traffic step: nothing to start
    for (const c of p.containers) {
      const argv = [...(c.command ?? []), ...(c.args ?? [])];
      if (idle(argv)) continue;
      const label = `pod ${p.namespace}/${p.name} (${c.name})`;
      const program = podProgram(p, c.name, argv, netns, () => containerView(p, c, spec.configMaps, random, nowNs, kubelet(p)), { seed, dns });
      if (program !== undefined) {
        if (typeof program === 'string') unrealizable.push({ label, netns, reason: program });
        else programs.push(program);
        continue;
      }
      const o = httpServerOptions(argv);
      if (typeof o === 'string') {
        unrealizable.push({ label, netns, reason: argv.length === 0 ? `${c.image}: ${o}` : o });
        continue;
      }
      const view = containerView(p, c, spec.configMaps, random, nowNs, kubelet(p));
      servers.push({ label, netns, slug: `${netns}-${c.name}`, options: o, fs: view.fs, cwd: view.cwd, env: view.env, hostname: p.hostname ?? p.name });
    }
  }
  for (const h of spec.hosts) {
    if (h.command === undefined) continue;
    const argv = [...h.command, ...(h.args ?? [])];
    if (idle(argv)) continue;
    const label = `host ${h.name}`;
    const program = hostProgram(h, argv, { seed, dns });
    if (program !== undefined) {
      if (typeof program === 'string') unrealizable.push({ label, netns: h.name, reason: program });
      else programs.push(program);
      continue;
    }
    const o = httpServerOptions(argv);
    if (typeof o === 'string') {
      unrealizable.push({ label, netns: h.name, reason: o });
      continue;
    }
    const fs = new ContainerFs(0);
    // A machine's own /etc/hosts line and no nameserver, unless the scenario gives these files:
    // http.server's server_bind calls socket.getfqdn(address), and a reverse lookup must not
    // become a DNS query on the wire (or wait for a nameserver this namespace cannot reach).
    fs.addFile('/etc/hosts', new TextEncoder().encode(`127.0.0.1\tlocalhost\n${h.address.text}\t${h.name}\n`));
    fs.addFile('/etc/resolv.conf', new Uint8Array());
    for (const [path, text] of Object.entries(h.files)) fs.addFile(path, new TextEncoder().encode(text));
    servers.push({ label, netns: h.name, slug: `${h.name}-host`, options: o, fs, cwd: h.workingDir ?? '/', env: new Map(), hostname: h.name });
  }
  return { servers, programs, unrealizable };
}

/**
 * Writes a server's files under `root` (symlinks as symlinks — a ConfigMap key is `key ->
 * ..data/key` — an absolute target kept inside `root`) and returns the server's argv after the
 * interpreter, with its directory made a path under `root`: the real python never sees a path
 * outside the folder parity owns. `etc` are the files to bind over /etc/hosts and
 * /etc/resolv.conf in the server's own mount namespace (ip netns exec makes one, a slave of the
 * machine's: nothing propagates back), as the kubelet's files are in a pod.
 */
export function materialize(server: KernelServer, root: string): { args: string[]; cwd: string; etc: { hosts: string; resolvConf: string } } {
  const walk = (dir: string): void => {
    mkdirSync(join(root, dir), { recursive: true });
    for (const name of server.fs.list(dir) ?? []) {
      const path = normalizePath(`${dir}/${name}`);
      const target = server.fs.readlink(path);
      if (target !== undefined) symlinkSync(target.startsWith('/') ? join(root, target) : target, join(root, path));
      else if (server.fs.stat(path) === 'file') writeFileSync(join(root, path), server.fs.readFile(path)!);
      else walk(path);
    }
  };
  walk('/');
  const cwd = join(root, normalizePath(server.cwd));
  mkdirSync(cwd, { recursive: true });
  const o = server.options;
  const args = [
    ...(o.unbuffered ? ['-u'] : []),
    '-m', 'http.server',
    '--protocol', o.protocol,
    ...(o.bind !== undefined ? ['--bind', o.bind] : []),
    ...(o.directory !== undefined ? ['--directory', join(root, resolvePath(server.cwd, o.directory))] : []),
    String(o.port),
  ];
  return { args, cwd, etc: { hosts: join(root, 'etc/hosts'), resolvConf: join(root, 'etc/resolv.conf') } };
}
