/**
 * The kubelet's readiness for each pod: a probe worker per container with a readinessProbe
 * (pkg/kubelet/prober/worker.go), and the pod's Ready condition from them — every container
 * ready, a container without a readinessProbe being ready as soon as it runs.
 *
 * Worker timing, as worker.run/doProbe do it: when the kubelet started less than one period ago
 * (a scenario's pods start with the cluster), the worker first sleeps a random part of the period;
 * then it probes at once and on every tick of a periodSeconds ticker. A probe before
 * initialDelaySeconds have passed since the container started is skipped. The result starts as
 * Failure (NotReady) and changes only after successThreshold consecutive successes or
 * failureThreshold consecutive failures. A probe still running at a tick holds that tick (Go's
 * ticker keeps one): the next probe starts when it ends.
 */
import type { Ipv4Addr } from '../../packet/addr.js';
import type { TcpSockets } from '../../net/tcp-api.js';
import type { RandomStream } from '../../sim/random.js';
import type { Scheduler, TimerHandle } from '../../sim/scheduler.js';
import { runProbe, type ProbeSpec } from './probe.js';

export interface ContainerReadinessSpec {
  readonly name: string;
  readonly ports: readonly { readonly name: string | undefined; readonly containerPort: number }[];
  readonly readinessProbe: ProbeSpec | undefined;
}

export interface PodProbeTarget {
  /** The node's TCP sockets: probes leave from the node's netns, as the kubelet's do. */
  readonly nodeTcp: TcpSockets;
  readonly podIp: Ipv4Addr;
  /** When the containers started (State.Running.StartedAt). */
  readonly startedNs: number;
}

/** probe.ResolveContainerPort: a number as given, a name looked up in the container's ports. */
export function resolveProbePort(port: number | string, container: ContainerReadinessSpec): number | undefined {
  if (typeof port === 'number') return port > 0 && port < 65536 ? port : undefined;
  return container.ports.find((p) => p.name === port)?.containerPort;
}

export class ProbeWorker {
  /** The result the kubelet holds (results.Manager): false until the threshold of successes. */
  ready = false;
  private lastResult: boolean | undefined;
  private resultRun = 0;
  private ticker: TimerHandle | undefined;
  private inFlight = false;
  private heldTick = false;
  private stopped = false;
  /** Probes run so far (tests and traces). */
  probes = 0;

  constructor(
    private readonly sched: Scheduler,
    private readonly target: PodProbeTarget,
    private readonly container: ContainerReadinessSpec,
    private readonly spec: ProbeSpec,
    private readonly onResult: () => void,
  ) {}

  /** `kubeletStartNs`: the jitter is drawn only when the kubelet started less than a period ago. */
  start(jitter: RandomStream, kubeletStartNs: number): void {
    const periodNs = this.spec.periodSeconds * 1e9;
    const sinceStart = this.sched.nowNs - kubeletStartNs;
    const sleepNs = periodNs > sinceStart ? Math.floor(jitter.nextFloat() * periodNs) : 0;
    this.ticker = this.sched.after(sleepNs, () => {
      this.doProbe();
      this.tick(periodNs);
    });
  }

  stop(): void {
    this.stopped = true;
    this.ticker?.cancel();
  }

  private tick(periodNs: number): void {
    this.ticker = this.sched.after(periodNs, () => {
      if (this.inFlight) this.heldTick = true;
      else this.doProbe();
      this.tick(periodNs);
    });
  }

  private doProbe(): void {
    if (this.stopped) return;
    if (Math.floor((this.sched.nowNs - this.target.startedNs) / 1e9) < this.spec.initialDelaySeconds) return;
    const port = resolveProbePort(this.spec.action.port, this.container);
    // A port that does not resolve is a prober error: the result is thrown away (worker.go).
    if (port === undefined) return;
    this.inFlight = true;
    this.probes++;
    runProbe(this.target.nodeTcp, this.sched, this.target.podIp, port, this.spec, (ok) => {
      this.inFlight = false;
      if (this.stopped) return;
      this.record(ok);
      if (this.heldTick) {
        this.heldTick = false;
        this.doProbe();
      }
    });
  }

  private record(ok: boolean): void {
    if (this.lastResult === ok) this.resultRun++;
    else {
      this.lastResult = ok;
      this.resultRun = 1;
    }
    const threshold = ok ? this.spec.successThreshold : this.spec.failureThreshold;
    if (this.resultRun < threshold || this.ready === ok) return;
    this.ready = ok;
    this.onResult();
  }
}

/** One pod's containers' readiness. */
export class PodReadiness {
  private readonly workers = new Map<string, ProbeWorker>();

  constructor(
    sched: Scheduler,
    target: PodProbeTarget,
    readonly containers: readonly ContainerReadinessSpec[],
    jitter: (container: string) => RandomStream,
    kubeletStartNs: number,
    onChange: () => void,
  ) {
    for (const c of containers) {
      if (!c.readinessProbe) continue;
      const w = new ProbeWorker(sched, target, c, c.readinessProbe, onChange);
      this.workers.set(c.name, w);
      w.start(jitter(c.name), kubeletStartNs);
    }
  }

  worker(container: string): ProbeWorker | undefined {
    return this.workers.get(container);
  }

  /** Containers that are ready (for `kubectl get pods`' READY column). */
  get readyCount(): number {
    return this.containers.filter((c) => this.workers.get(c.name)?.ready ?? true).length;
  }

  /** The pod's Ready condition: every container ready. */
  get ready(): boolean {
    return this.readyCount === this.containers.length;
  }

  stop(): void {
    for (const w of this.workers.values()) w.stop();
  }
}
