/**
 * `/coredns -conf FILE` on the kernel: podwire's own CoreDNS (apps/coredns.ts, the very code that
 * answers in podwire's run) serving on real sockets, in a `node` process (this machine's, by
 * process.execPath) running coredns-main.js. No CoreDNS binary exists here, and a second
 * implementation could only drift from the one the kernel is meant to judge: reusing the answer
 * code means any difference in the captures is podwire's datapath or its clients, not a stand-in
 * that disagrees with itself.
 *
 * What the server needs from podwire's model travels in one JSON file, its "world", written into
 * the program's folder (its working directory): the container's files as the kubelet laid them
 * out (the Corefile from the ConfigMap volume, /etc/resolv.conf for `forward . /etc/resolv.conf`,
 * /etc/hosts for `hosts`), the Services and ready endpoints CoreDNS's informers saw at the first
 * traffic step with the SOA serial of that moment, and the run's seed and the server's label (its
 * random streams — loadbalance's shuffle, forward's IDs — draw as in podwire's run).
 */
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../apps/app.js';
import { parseCorednsArgs, type CorednsRuntime } from '../../apps/coredns.js';
import { resolvePath } from '../../apps/container-fs.js';
import { CorefileError, parseCorefile } from '../../apps/corefile.js';
import type { DnsEndpoint, DnsService, KubernetesDnsView } from '../../apps/kubernetes-dns.js';
import { Random } from '../../sim/random.js';
import type { StandIn } from './program.js';

/** The file coredns-main.js reads, in its working directory. */
export const WORLD_FILE = 'coredns-world.json';

/** Services and ready endpoints as CoreDNS's informers saw them, in JSON. */
export interface DnsViewSnapshot {
  readonly namespaces: readonly string[];
  readonly services: readonly DnsService[];
  /** `<namespace>/<name>` → its ready endpoints, in EndpointSlice order. */
  readonly endpoints: Readonly<Record<string, readonly DnsEndpoint[]>>;
  readonly modifiedUnixSec: number;
}

/** Everything the kernel's CoreDNS needs from podwire's model. */
export interface CorednsWorld {
  /** The command line after `/coredns`. */
  readonly args: readonly string[];
  readonly cwd: string;
  /** The random streams' name (`<pod>/<container>`, or the Host's name), as podwire's run names them. */
  readonly label: string;
  readonly seed: number;
  /** The container's files by absolute path (symlinks followed), base64. */
  readonly files: Readonly<Record<string, string>>;
  readonly dns: DnsViewSnapshot | undefined;
}

/** The view's state now, for the namespaces among `candidates` that exist. */
export function snapshotDnsView(view: KubernetesDnsView, candidates: Iterable<string>): DnsViewSnapshot {
  const services = view.services();
  const endpoints: Record<string, readonly DnsEndpoint[]> = {};
  for (const s of services) endpoints[`${s.namespace}/${s.name}`] = view.endpoints(s.namespace, s.name);
  const namespaces = [...new Set([...candidates, ...services.map((s) => s.namespace)])].filter((n) => view.namespaceExists(n)).sort();
  return { namespaces, services, endpoints, modifiedUnixSec: view.modifiedUnixSec() };
}

/** A KubernetesDnsView that answers from a snapshot. */
export function viewOfSnapshot(s: DnsViewSnapshot): KubernetesDnsView {
  return {
    namespaceExists: (ns) => s.namespaces.includes(ns),
    service: (ns, name) => s.services.find((x) => x.namespace === ns && x.name === name),
    endpoints: (ns, name) => s.endpoints[`${ns}/${name}`] ?? [],
    services: () => s.services,
    modifiedUnixSec: () => s.modifiedUnixSec,
  };
}

/**
 * The part of the server's runtime the world gives — files, Services, random streams — as
 * podwire's run gives them to its CoreDNS; the sockets and clock are the caller's.
 */
export function worldRuntime(world: CorednsWorld): Pick<CorednsRuntime, 'random' | 'label' | 'fs' | 'cwd' | 'kubernetesDns'> {
  const files = new Map(Object.entries(world.files).map(([p, b64]) => [p, new Uint8Array(Buffer.from(b64, 'base64'))]));
  return {
    random: new Random(world.seed),
    label: world.label,
    fs: { readFile: (path) => files.get(path) },
    cwd: world.cwd,
    kubernetesDns: world.dns === undefined ? undefined : viewOfSnapshot(world.dns),
  };
}

/** What a container's file tree offers (ContainerFs). */
export interface FileTree {
  list(path: string): readonly string[] | undefined;
  stat(path: string): 'file' | 'dir' | undefined;
  readFile(path: string): Uint8Array | undefined;
}

/** Every file reachable in the tree, by path (a symlink to a file as the file it points to). */
export function snapshotFiles(fs: FileTree): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of fs.list(dir) ?? []) {
      const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
      const kind = fs.stat(path);
      if (kind === 'dir') walk(path);
      else if (kind === 'file') {
        const data = fs.readFile(path);
        if (data !== undefined) out[path] = Buffer.from(data).toString('base64');
      }
    }
  };
  walk('/');
  return out;
}

/** `/coredns …` (any path). */
export const isCorednsCommand = (argv: readonly string[]): boolean => (argv[0] ?? '').replace(/^.*\//, '') === 'coredns';

/** coredns-main.js beside this module (dist's also when this module runs from source under vitest). */
export function corednsMainPath(here: string): string {
  if (here.endsWith('.js')) return here.replace(/coredns\.js$/, 'coredns-main.js');
  return here.replace(/src\/parity\/stand-ins\/coredns\.ts$/, 'dist/src/parity/stand-ins/coredns-main.js');
}

/** The entry script the kernel's CoreDNS runs. */
export const COREDNS_MAIN = corednsMainPath(fileURLToPath(import.meta.url));

/**
 * `/coredns …` with its world: the stand-in and the world file's contents; a reason when the
 * command line or Corefile is one CoreDNS would refuse (podwire's run shows that failure itself);
 * undefined for another program.
 */
export function corednsStandIn(
  argv: readonly string[],
  world: () => Omit<CorednsWorld, 'args'>,
  mainPath: string,
): { standIn: StandIn; files: ReadonlyMap<string, Uint8Array> } | string | undefined {
  if (!isCorednsCommand(argv)) return undefined;
  const args = argv.slice(1);
  let conf;
  try {
    conf = parseCorednsArgs(args).conf;
  } catch (e) {
    if (e instanceof UsageError) return `${argv.join(' ')} (${e.message})`;
    throw e;
  }
  const w: CorednsWorld = { args, ...world() };
  const file = w.files[resolvePath(w.cwd, conf)];
  if (file === undefined) return `${argv.join(' ')} (open ${conf}: no such file in the container)`;
  let port: number;
  try {
    port = parseCorefile(Buffer.from(file, 'base64').toString('utf8'), conf)[0]?.port ?? 53;
  } catch (e) {
    if (e instanceof CorefileError) return `${argv.join(' ')} (${e.message})`;
    throw e;
  }
  return {
    standIn: {
      argv: [process.execPath, mainPath, WORLD_FILE],
      listen: { protocol: 'udp', port },
      what: "podwire's CoreDNS answer code on real sockets (node coredns-main.js)",
    },
    files: new Map([[WORLD_FILE, new TextEncoder().encode(`${JSON.stringify(w)}\n`)]]),
  };
}
