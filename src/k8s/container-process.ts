/**
 * A container's main process as the kernel sees it when it ends: the sockets it opened and the
 * timers it armed. `stop()` does what do_exit → exit_files does to a process's descriptors —
 * every socket is closed (a listener stops accepting: later SYNs are answered with RST; an open
 * connection sends its FIN) — and its pending work is dropped.
 *
 * The app runs against views of its netns and clock that record what it opens; the datapath
 * underneath is the netns itself, so nothing about the packets changes. podwire does not restart
 * a stopped container (the kubelet would, with restartPolicy Always): it stays stopped, and a
 * readiness probe against it fails from then on.
 */
import type { Netns } from '../net/netns.js';
import type { TcpConnection, TcpListener, TcpSockets } from '../net/tcp-api.js';
import type { UdpSocket } from '../net/udp-socket.js';
import type { Scheduler, TimerHandle } from '../sim/scheduler.js';

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

export class ContainerProcess {
  /** The netns as the process sees it: its TCP and UDP sockets are recorded. */
  readonly ns: Netns;
  /** The clock as the process sees it: its timers are recorded. */
  readonly sched: Scheduler;
  private readonly listeners = new Set<TcpListener>();
  private readonly connections = new Set<TcpConnection>();
  private readonly udpSockets = new Set<UdpSocket>();
  private readonly timers = new Set<TimerHandle>();
  private running = true;

  constructor(ns: Netns, sched: Scheduler) {
    const track = (c: TcpConnection): TcpConnection => {
      this.connections.add(c);
      return c;
    };
    const tcp: TcpSockets = {
      connect: (remote, bind) => track(ns.tcp.connect(remote, bind)),
      listen: (local, onAccept, backlog) => {
        const l = ns.tcp.listen(local, (c) => onAccept(track(c)), backlog);
        this.listeners.add(l);
        return l;
      },
    };
    const udp = passThrough(ns.udp, {
      add: (s: UdpSocket) => {
        ns.udp.add(s);
        this.udpSockets.add(s);
      },
      remove: (s: UdpSocket) => {
        this.udpSockets.delete(s);
        ns.udp.remove(s);
      },
    });
    this.ns = passThrough(ns, { tcp, udp });
    const keep = (h: TimerHandle): TimerHandle => {
      this.timers.add(h);
      return h;
    };
    this.sched = passThrough(sched, {
      at: (timeNs: number, fn: () => void) => keep(sched.at(timeNs, fn)),
      after: (delayNs: number, fn: () => void) => keep(sched.after(delayNs, fn)),
    });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The process ends: its sockets close, its timers never fire. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers) t.cancel();
    for (const l of this.listeners) l.close();
    for (const c of this.connections) c.close();
    for (const s of [...this.udpSockets]) s.close();
    this.timers.clear();
    this.listeners.clear();
    this.connections.clear();
  }
}
