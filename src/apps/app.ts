/**
 * A program running in a netns: started with its argv, writing what the real tool prints to its
 * stdout, ending with an exit code — all on the virtual clock. The scenario runner picks the
 * program from the command line (programs.ts) as a container's command picks it on a real node.
 */
import type { Netns } from '../net/netns.js';
import type { Random } from '../sim/random.js';
import type { Scheduler } from '../sim/scheduler.js';
import type { ContainerFs } from './container-fs.js';
import type { KubernetesDnsView } from './kubernetes-dns.js';
import type { HostResolver } from './resolver.js';

export interface AppContext {
  readonly ns: Netns;
  readonly sched: Scheduler;
  readonly random: Random;
  /** A name for per-program random streams (the host and the step). */
  readonly label: string;
  /** What the program reads on stdin (a step's `stdin:`), or undefined when stdin is not attached. */
  readonly stdin?: string;
  /** The container's files (its ConfigMap volumes, laid out as the kubelet does); undefined: none. */
  readonly fs?: ContainerFs;
  /** The working directory (the container's workingDir, else `/` as an image without WORKDIR). */
  readonly cwd?: string;
  /** The process environment (the container's `env`). */
  readonly env?: ReadonlyMap<string, string>;
  /** Whether stdout is a terminal (`kubectl exec -t`): curl, for one, prints less when it is. */
  readonly tty?: boolean;
  /** How names become addresses; undefined: glibc's getaddrinfo over the container's files (glibc-resolver.ts). */
  readonly resolver?: HostResolver;
  /** The cluster's Services and endpoints as CoreDNS's kubernetes plugin sees them (coredns.ts); undefined: none. */
  readonly kubernetesDns?: KubernetesDnsView;
  stdout(text: string): void;
  stderr(text: string): void;
  exit(code: number): void;
}

export interface App {
  start(ctx: AppContext): void;
}

/** A command line the program rejects, as the real one does on bad usage (exit 2 for ping). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
