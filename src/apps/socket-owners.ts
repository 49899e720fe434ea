/**
 * Which process holds which socket, as netstat -p and ss -p find it: they walk /proc/PID/fd of
 * every process they can see and match the `socket:[inode]` links against the socket tables
 * (net-tools prg_cache_load, iproute2 user_ent_hash_build). Two facts of a real pod decide what
 * they print:
 *  - A container has its own pid namespace (shareProcessNamespace is off by default): its main
 *    process is PID 1 there, a `kubectl exec` process gets the next free PID, and /proc shows only
 *    that namespace's processes — a socket of another container of the pod (same netns) belongs
 *    to no visible process, and the tools print `-` / nothing for it.
 *  - A descriptor is allocated as the lowest free number (POSIX), after stdin/stdout/stderr; close()
 *    frees it, and a closed socket that lingers (FIN_WAIT, TIME_WAIT) has no owner any more.
 *
 * The pid namespace is keyed by the container's filesystem: the kubelet's view of one container
 * (ContainerFs) is shared by its main process and every exec into it, and by nothing else. A
 * program started without one (a host's command, an ssh step) is alone in its namespace here.
 *
 * Sockets are recorded as they are opened: every program runs against a view of its netns
 * (`withSocketOwners`) whose connect/listen/accept/bind note the owner; close() releases the
 * descriptor. The datapath is the netns itself, so no packet changes.
 */
import type { Netns } from '../net/netns.js';
import type { TcpConnection, TcpListener, TcpSockets } from '../net/tcp-api.js';
import type { UdpSocket } from '../net/udp-socket.js';
import type { App, AppContext } from './app.js';

/** A process as /proc/PID shows it. */
export interface ProcessInfo {
  readonly pidNamespace: object;
  readonly pid: number;
  /** /proc/PID/cmdline's first word (argv[0] as the command line gave it). */
  readonly argv0: string;
  /** /proc/PID/stat's comm: the basename of the executed file, at most 15 bytes (TASK_COMM_LEN − 1). */
  readonly comm: string;
}

export interface SocketOwner {
  readonly process: ProcessInfo;
  readonly fd: number;
}

/** The first descriptor a program's first socket gets: 0, 1 and 2 are stdin, stdout and stderr. */
const FIRST_FD = 3;
const TASK_COMM_LEN = 16;

const owners = new WeakMap<object, SocketOwner>();
const lastPid = new WeakMap<object, number>();

/** The process holding `socket`, or undefined when none does (closed, or never recorded). */
export function socketOwner(socket: object): SocketOwner | undefined {
  return owners.get(socket);
}

/** The pid namespace a program runs in (see the header). */
export function pidNamespaceOf(ctx: AppContext): object {
  return ctx.fs ?? ctx;
}

class Process implements ProcessInfo {
  private readonly fds = new Set<number>();
  constructor(
    readonly pidNamespace: object,
    readonly pid: number,
    readonly argv0: string,
    readonly comm: string,
  ) {}

  /** The socket gets the lowest free descriptor; close() (or abort()) gives it back. */
  own<S extends { close(): void }>(socket: S, extraClose?: 'abort'): S {
    if (owners.has(socket)) return socket;
    let fd = FIRST_FD;
    while (this.fds.has(fd)) fd++;
    this.fds.add(fd);
    owners.set(socket, { process: this, fd });
    const release = () => {
      if (owners.get(socket)?.process !== this) return;
      owners.delete(socket);
      this.fds.delete(fd);
    };
    // The program, and ContainerProcess.stop() on its behalf, call close() on this very object:
    // the descriptor goes with the call (sock_close), whatever the connection does afterwards.
    const s = socket as unknown as Record<string, unknown>;
    for (const method of extraClose ? ['close', extraClose] : ['close']) {
      const original = (s[method] as () => void).bind(socket);
      s[method] = () => {
        release();
        original();
      };
    }
    return socket;
  }

  release(socket: object): void {
    const o = owners.get(socket);
    if (o?.process !== this) return;
    owners.delete(socket);
    this.fds.delete(o.fd);
  }
}

/** A property read through to the target, methods bound to it (so `this` stays the real object). */
function passThrough<T extends object>(target: T, own: Partial<Record<PropertyKey, unknown>>): T {
  return new Proxy(target, {
    get(t, p) {
      if (Object.hasOwn(own, p)) return own[p];
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/**
 * The program started as a process: a PID in its container's pid namespace (1 for the first, as
 * the container's main process is), and a netns view that records the sockets it opens.
 */
export function withSocketOwners<A extends App>(app: A, argv0: string): A {
  // The program itself, seen through an object whose start() adds the process (its class and
  // options read through, so callers still see what program they got).
  const wrapped = Object.create(app) as A;
  wrapped.start = (ctx: AppContext): void => {
    const pidns = pidNamespaceOf(ctx);
    const pid = (lastPid.get(pidns) ?? 0) + 1;
    lastPid.set(pidns, pid);
    const base = argv0.slice(argv0.lastIndexOf('/') + 1);
    const proc = new Process(pidns, pid, argv0, Buffer.from(base, 'utf8').subarray(0, TASK_COMM_LEN - 1).toString('utf8'));
    app.start({ ...ctx, ns: ownedNetns(ctx.ns, proc) });
  };
  return wrapped;
}

function ownedNetns(ns: Netns, proc: Process): Netns {
  const tcp = passThrough<TcpSockets>(ns.tcp, {
    connect: (remote: Parameters<TcpSockets['connect']>[0], bind?: Parameters<TcpSockets['connect']>[1]): TcpConnection =>
      proc.own(ns.tcp.connect(remote, bind), 'abort'),
    listen: (local: Parameters<TcpSockets['listen']>[0], onAccept: (c: TcpConnection) => void, backlog?: number): TcpListener =>
      proc.own(ns.tcp.listen(local, (c) => onAccept(proc.own(c, 'abort')), backlog)),
  });
  const udp = passThrough(ns.udp, {
    add: (s: UdpSocket) => {
      ns.udp.add(s);
      proc.own(s);
    },
    remove: (s: UdpSocket) => {
      proc.release(s);
      ns.udp.remove(s);
    },
  });
  return passThrough(ns, { tcp, udp });
}
