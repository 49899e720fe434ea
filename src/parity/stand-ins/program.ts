/**
 * Long-running programs of a scenario (a pod's container, a Host's command) that parity runs on
 * the kernel besides python3 -m http.server (servers.ts): the real netcat-openbsd as a listener,
 * a Python stand-in for hashicorp/http-echo, and podwire's own CoreDNS on real sockets
 * (coredns.ts). Each is started as servers.ts starts its Python servers (start.ts) and must be
 * listening before the captures begin.
 */
import { ContainerFs } from '../../apps/container-fs.js';
import { COREDNS_MAIN, corednsStandIn, isCorednsCommand, snapshotFiles, type DnsViewSnapshot, type FileTree } from './coredns.js';
import { httpEchoStandIn } from './http-echo.js';
import { ncListener } from './nc-listener.js';

/** How a program is run on the kernel, and where it is known to be ready. */
export interface StandIn {
  /** The real program by absolute path, and its arguments. */
  readonly argv: readonly string[];
  /** What it listens on: it is ready once `ss -l` shows it. */
  readonly listen: { readonly protocol: 'tcp' | 'udp'; readonly port: number };
  /** What runs, for the log lines (`the real nc.openbsd`, `a Python stand-in for …`). */
  readonly what: string;
}

/** One program to start on the kernel, with what the kubelet (or the Host) gives it. */
export interface KernelProgram extends StandIn {
  /** `pod default/pc (nc)`, `host ext`. */
  readonly label: string;
  /** podwire's netns it runs in. */
  readonly netns: string;
  /** A file-system-safe name, unique per program. */
  readonly slug: string;
  /** Its UTS hostname (the pod's, as the kubelet sets it; the Host's name). */
  readonly hostname: string;
  /** The /etc/hosts and /etc/resolv.conf bound over the machine's in its mount namespace. */
  readonly etcHosts: Uint8Array;
  readonly resolvConf: Uint8Array;
  /** The container's environment. */
  readonly env: ReadonlyMap<string, string>;
  /** Its log under outputs/, where podwire's run writes the same program's: `containers/pc-nc.log`, `hosts/ext.log`. */
  readonly log: string;
  /** Files written into its folder (its working directory) before it starts, by name (CoreDNS's world). */
  readonly files?: ReadonlyMap<string, Uint8Array>;
}

/** What CoreDNS's stand-in takes from podwire's model besides the container's files. */
export interface CorednsInputs {
  /** The run's seed: the server's random streams draw as in podwire's run. */
  readonly seed: number;
  /** The Services and endpoints CoreDNS's informers saw at the first traffic step. */
  readonly dns: DnsViewSnapshot | undefined;
}

/** CoreDNS as a KernelProgram's stand-in part, or a reason, or undefined for another program. */
function coredns(argv: readonly string[], label: string, cwd: string, fs: FileTree, inputs: CorednsInputs): Pick<KernelProgram, 'argv' | 'listen' | 'what' | 'files'> | string | undefined {
  const c = corednsStandIn(argv, () => ({ cwd, label, seed: inputs.seed, files: snapshotFiles(fs), dns: inputs.dns }), COREDNS_MAIN);
  if (c === undefined || typeof c === 'string') return c;
  return { ...c.standIn, files: c.files };
}

/**
 * The stand-in for a command line, the reason it cannot run here, or undefined when it is none
 * of the programs this module knows (the caller goes on with its own).
 */
export function standInFor(argv: readonly string[], env: ReadonlyMap<string, string>): StandIn | string | undefined {
  return ncListener(argv) ?? httpEchoStandIn(argv, env);
}

/** What a container's program sees: its files (the kubelet's /etc/hosts and /etc/resolv.conf among them) and environment. */
export interface ProgramView {
  readonly fs: FileTree;
  readonly env: ReadonlyMap<string, string>;
  /** The container's working directory. */
  readonly cwd: string;
}

/**
 * A pod container's program as a KernelProgram, the reason it cannot run, or undefined when it
 * is no stand-in's. `view` is drawn only for a stand-in's container, as podwire's run draws the
 * view of each container it runs a program in.
 */
export function podProgram(
  pod: { readonly namespace: string; readonly name: string; readonly hostname?: string | undefined },
  container: string,
  argv: readonly string[],
  netns: string,
  view: () => ProgramView,
  inputs: CorednsInputs = { seed: 0, dns: undefined },
): KernelProgram | string | undefined {
  if (!isCorednsCommand(argv) && standInFor(argv, new Map()) === undefined) return undefined;
  const v = view();
  const s = isCorednsCommand(argv) ? coredns(argv, `${pod.name}/${container}`, v.cwd, v.fs, inputs) : standInFor(argv, v.env);
  if (s === undefined || typeof s === 'string') return s;
  return {
    ...s,
    label: `pod ${pod.namespace}/${pod.name} (${container})`,
    netns,
    slug: `${netns}-${container}`,
    hostname: pod.hostname ?? pod.name,
    etcHosts: v.fs.readFile('/etc/hosts') ?? new TextEncoder().encode('127.0.0.1\tlocalhost\n'),
    resolvConf: v.fs.readFile('/etc/resolv.conf') ?? new Uint8Array(),
    env: v.env,
    log: `containers/${pod.name}-${container}.log`,
  };
}

/**
 * A Host's command as a KernelProgram: the machine's own /etc/hosts line and no nameserver
 * unless the Host's `files` give them (as servers.ts gives its Python servers on Hosts).
 */
export function hostProgram(
  host: { readonly name: string; readonly address: { readonly text: string }; readonly files: Readonly<Record<string, string>>; readonly workingDir?: string | undefined },
  argv: readonly string[],
  inputs: CorednsInputs = { seed: 0, dns: undefined },
): KernelProgram | string | undefined {
  const enc = new TextEncoder();
  // A Host's program sees exactly its `files` (podwire's run gives it nothing else), and no Services.
  const hostFs = (): FileTree => {
    const fs = new ContainerFs(0);
    for (const [path, text] of Object.entries(host.files)) fs.addFile(path, enc.encode(text));
    return fs;
  };
  const s = isCorednsCommand(argv) ? coredns(argv, host.name, host.workingDir ?? '/', hostFs(), { seed: inputs.seed, dns: undefined }) : standInFor(argv, new Map());
  if (s === undefined || typeof s === 'string') return s;
  return {
    ...s,
    label: `host ${host.name}`,
    netns: host.name,
    slug: `${host.name}-host`,
    hostname: host.name,
    etcHosts: enc.encode(host.files['/etc/hosts'] ?? `127.0.0.1\tlocalhost\n${host.address.text}\t${host.name}\n`),
    resolvConf: enc.encode(host.files['/etc/resolv.conf'] ?? ''),
    env: new Map(),
    log: `hosts/${host.name}.log`,
  };
}
