/**
 * `podwire run`: a scenario from start to finish. The cluster is built (nodes on the node
 * network, pods wired by CNI ADD), left to settle (gratuitous ARPs teach the bridges), then each
 * traffic step runs on the virtual clock until its command exits; one second after the last one
 * the run stops, as the kernel references were taken. Everything lands in the run folder, which
 * appears only when complete.
 */
import { createHash } from 'node:crypto';
import { CaptureSet, RunFolder, TraceFile, type InterfaceRecord } from '../capture/index.js';
import { programFor, CommandNotFound } from '../apps/programs.js';
import { UsageError, type App, type AppContext } from '../apps/app.js';
import { ContainerFs } from '../apps/container-fs.js';
import { kubeProxyServices } from '../k8s/services/kube-proxy-services.js';
import { Cluster, type PodRuntimeInfo, type PodState } from '../k8s/cluster.js';
import { ContainerProcess } from '../k8s/container-process.js';
import { kubeDnsServiceInput, ServiceError } from '../k8s/services/registry.js';
import type { Netns } from '../net/netns.js';
import { Random } from '../sim/random.js';
import { Scheduler, VIRTUAL_EPOCH_SEC } from '../sim/scheduler.js';
import { containerView, type KubeletFiles } from './container-files.js';
import type { KubernetesDnsView } from '../apps/kubernetes-dns.js';
import { RegistryDnsView } from '../k8s/services/dns-view.js';
import { scenarioErrorAt } from './errors.js';
import { renderKubectlView } from './kubectl-view.js';
import type { ConfigMapSpec, PodSpec, ScenarioSpec, SshStep, StepSpec, StopStep } from './spec.js';

export interface RunOptions {
  readonly out: string;
  readonly seed: number;
  /**
   * kube-proxy's endpoint choice scripted per node netns (`n1`): the u32 draws its `statistic/<netns>`
   * stream returns first, before the seeded ones (kernel parity makes podwire choose as the kernel did).
   */
  readonly statisticDraws?: ReadonlyMap<string, readonly number[]>;
  readonly force?: boolean;
  /** Echo each step's output as it is produced (the CLI), besides writing it to the folder. */
  readonly echo?: (text: string) => void;
  /**
   * Look at the cluster when the run stops: at its end, or at `stopAtNs` (virtual time since the
   * cluster's creation; the traffic starts at 1 s) if that comes first — then the run ends there
   * and runScenario throws RunStopped, leaving no folder. Later than the end, the cluster idles on
   * until then (timers run, entries age). Events due at exactly `stopAtNs` have not run yet.
   */
  readonly onStop?: (cluster: Cluster, seen: StopView) => void;
  readonly stopAtNs?: number;
  /** Called as the run goes (at each step, and every few thousand events): for a progress bar. */
  readonly progress?: (p: RunProgress) => void;
}

/** What onStop sees besides the cluster: what the run's programs are given. */
export interface StopView {
  /** The cluster as CoreDNS's informers see it (undefined before Services exist). */
  readonly dnsView: KubernetesDnsView | undefined;
}

/** Where a run is: virtual time, the step it is in (0-based; = steps when lingering), frames captured. */
export interface RunProgress {
  readonly nowNs: number;
  readonly step: number;
  readonly steps: number;
  readonly packets: number;
}

/** The run was stopped at RunOptions.stopAtNs, after onStop looked at it; no folder was written. */
export class RunStopped extends Error {
  override readonly name = 'RunStopped';
  constructor(readonly atNs: number) {
    super(`run stopped at ${atNs} ns of virtual time`);
  }
}

export interface StepOutcome {
  readonly index: number;
  readonly text: string;
  readonly exitCode: number;
  readonly output: string;
  readonly outputFile: string;
  readonly expectExit: number | undefined;
  readonly startNs: number;
  readonly endNs: number;
}

export interface RunResult {
  readonly dir: string;
  readonly steps: readonly StepOutcome[];
  readonly interfaces: readonly InterfaceRecord[];
  readonly trafficStartNs: number;
  readonly endNs: number;
}

/** How long a command may run on the virtual clock before the runner stops it (exit 124, as timeout(1)). */
const STEP_LIMIT_NS = 3600e9;
/** Time the cluster is given between its creation and the first traffic step. */
const SETTLE_NS = 1e9;
/** The references stop capturing one second after the last command. */
const LINGER_NS = 1e9;

export function runScenario(spec: ScenarioSpec, opts: RunOptions): RunResult {
  const folder = new RunFolder(opts.out, opts.force ?? false);
  try {
    const result = execute(spec, opts, folder);
    folder.commit();
    return { ...result, dir: folder.target };
  } catch (e) {
    folder.abandon();
    throw e;
  }
}

function execute(spec: ScenarioSpec, opts: RunOptions, folder: RunFolder): Omit<RunResult, 'dir'> {
  const sched = new Scheduler();
  const random = new Random(opts.seed, { scripted: new Map([...(opts.statisticDraws ?? [])].map(([netns, draws]) => [`statistic/${netns}`, draws])) });
  const containers = new Containers(spec.configMaps);
  const traceSink = new TraceFile(folder.path('trace.jsonl'));
  const capture = new CaptureSet(folder.tmp, VIRTUAL_EPOCH_SEC, traceSink);
  const cluster = new Cluster(sched, random, spec.cluster.mtu, {
    netnsCreated: (ns, host, kind) => {
      ns.trace = traceSink;
      capture.labelNetns(ns.name, { host, hostKind: kind });
    },
    deviceCreated: (dev) => capture.attach(dev),
  });
  for (const n of spec.nodes) {
    cluster.addNode({
      name: n.name,
      internalIp: n.internalIP.addr,
      podSubnet: { network: n.podCIDR.network, prefixLen: n.podCIDR.prefixLen },
      nodeNetworkPrefixLen: spec.cluster.nodeNetwork.prefixLen,
      mtu: spec.cluster.mtu,
      cni: n.cni,
      defaultGateway: spec.cluster.gateway,
    });
  }
  for (const h of spec.hosts) cluster.addExternalHost(h.name, h.address.addr, spec.cluster.nodeNetwork.prefixLen, spec.cluster.mtu);
  configureUnderlay(cluster, spec);
  const clusterCidr = { addr: spec.cluster.podCIDR.network, prefixLen: spec.cluster.podCIDR.prefixLen };
  cluster.programOverlay(spec.cluster.overlay, spec.cluster.vxlan, clusterCidr);
  createServices(cluster, spec);
  startKubeProxy(cluster, clusterCidr);
  containers.kubelet = (p) => ({ podIp: cluster.pod(p.namespace, p.name)?.ip, clusterDns: cluster.services.dnsServiceIp, nodeNameservers: spec.cluster.nameservers });
  containers.dnsView = new RegistryDnsView(cluster.services, cluster.sched, () => [...cluster.pods.values()].map((p) => p.model.namespace));
  for (const p of spec.pods) addPod(cluster, containers, p);
  const hostLogs = startHostCommands(cluster, spec);
  try {
    return runTraffic(spec, opts, folder, { sched, random, containers, traceSink, capture, cluster, hostLogs });
  } catch (e) {
    // Stopped (or failed) mid-run: the writers are closed before the folder is removed.
    capture.close();
    traceSink.close();
    throw e;
  }
}

interface Running {
  readonly sched: Scheduler;
  readonly random: Random;
  readonly containers: Containers;
  readonly traceSink: TraceFile;
  readonly capture: CaptureSet;
  readonly cluster: Cluster;
  readonly hostLogs: Map<string, string>;
}

function runTraffic(spec: ScenarioSpec, opts: RunOptions, folder: RunFolder, r: Running): Omit<RunResult, 'dir'> {
  const { sched, random, containers, traceSink, capture, cluster, hostLogs } = r;
  const { stopAtNs, onStop } = opts;
  // Every wait in the run is the scheduler's: an event at the stop time ends it wherever it is.
  if (stopAtNs !== undefined) {
    sched.at(Math.max(stopAtNs, sched.nowNs), () => {
      onStop?.(cluster, { dnsView: containers.dnsView });
      throw new RunStopped(sched.nowNs);
    });
  }
  // The cluster settles for a second (gratuitous ARPs teach the bridges; servers start), then
  // the traffic begins. Containers' own processes keep running meanwhile: never "run until idle".
  const trafficStartNs = SETTLE_NS;
  let stepNow = 0;
  const report = opts.progress === undefined ? undefined : () => opts.progress!({ nowNs: sched.nowNs, step: stepNow, steps: spec.steps.length, packets: capture.packetsWritten });
  sched.onProgress(report);
  sched.run(trafficStartNs);

  const steps: StepOutcome[] = [];
  for (const step of spec.steps) {
    stepNow = steps.length;
    report?.();
    if (step.waitNs > 0) sched.run(sched.nowNs + step.waitNs);
    const startNs = sched.nowNs;
    const { output, exitCode } = runStep(cluster, containers, step, sched, random);
    const outputFile = `outputs/${String(step.index + 1).padStart(2, '0')}-${stepHost(step)}.txt`;
    folder.writeText(outputFile, output);
    opts.echo?.(output);
    steps.push({ index: step.index, text: step.text, exitCode, output, outputFile, expectExit: step.expectExit, startNs, endNs: sched.nowNs });
  }
  stepNow = steps.length;
  report?.();
  sched.run(sched.nowNs + LINGER_NS);
  if (stopAtNs !== undefined) sched.run(stopAtNs);
  report?.();
  sched.onProgress(undefined);
  const endNs = sched.nowNs;
  onStop?.(cluster, { dnsView: containers.dnsView });

  for (const [key, text] of containers.logs) folder.writeText(`outputs/containers/${key}.log`, text);
  for (const [host, text] of hostLogs) folder.writeText(`outputs/hosts/${host}.log`, text);
  const interfaces = capture.close();
  folder.writeJson('interfaces.json', { interfaces });
  folder.writeJson('run.json', {
    podwire: '0.1.0',
    scenario: spec.file,
    seed: opts.seed,
    ...(opts.statisticDraws !== undefined && { statisticDraws: Object.fromEntries(opts.statisticDraws) }),
    trafficStartNs,
    endNs,
    epochSec: VIRTUAL_EPOCH_SEC,
    steps: steps.map(({ index, text, exitCode, outputFile, startNs, endNs: e }) => ({ index, text, exitCode, outputFile, startNs, endNs: e })),
    pods: [...cluster.pods.values()].map((p) => ({ namespace: p.model.namespace, name: p.model.name, node: p.model.nodeName, ip: cluster.describePodIp(p), phase: p.phase, events: p.events, ...(p.cniResultJson !== undefined ? { cniResult: JSON.parse(p.cniResultJson) as unknown } : {}) })),
  });
  traceSink.close();
  return { steps, interfaces, trafficStartNs, endNs };
}

/** What each container printed (its `kubectl logs`), by `<pod>-<container>`. */
type ContainerLogs = Map<string, string>;

/**
 * What a run keeps about its containers: what each printed, the spec of each pod started, and
 * each container's view of its files — made once, as the kubelet lays out a volume once (its
 * timestamped directory is drawn once).
 */
class Containers {
  readonly logs: ContainerLogs = new Map();
  private readonly podSpecs = new Map<string, PodSpec>();
  private readonly views = new Map<string, ContainerView>();
  /** Each started container's process, by `<namespace>/<pod>/<container>`. */
  readonly processes = new Map<string, ContainerProcess>();

  /** What the kubelet writes into containers (/etc/resolv.conf, /etc/hosts); set once the cluster exists. */
  kubelet: ((p: PodSpec) => KubeletFiles) | undefined;
  /** The cluster as CoreDNS's informers see it; set once Services exist. */
  dnsView: KubernetesDnsView | undefined;

  constructor(private readonly configMaps: readonly ConfigMapSpec[]) {}

  /** A pod (re)started: its spec is the one exec sees, its containers' views are made anew. */
  started(p: PodSpec): void {
    this.podSpecs.set(`${p.namespace}/${p.name}`, p);
    for (const k of this.views.keys()) if (k.startsWith(`${p.namespace}/${p.name}/`)) this.views.delete(k);
    for (const k of this.processes.keys()) if (k.startsWith(`${p.namespace}/${p.name}/`)) this.processes.delete(k);
  }

  spec(namespace: string, name: string): PodSpec | undefined {
    return this.podSpecs.get(`${namespace}/${name}`);
  }

  viewOf(p: PodSpec, c: PodSpec['containers'][number], random: Random, nowNs: number) {
    const key = `${p.namespace}/${p.name}/${c.name}`;
    let v = this.views.get(key);
    if (!v) {
      const view = containerView(p, c, this.configMaps, random, nowNs, this.kubelet?.(p));
      v = this.dnsView === undefined ? view : { ...view, kubernetesDns: this.dnsView };
      this.views.set(key, v);
    }
    return v;
  }

  /** The files, working directory and environment of the container `kubectl exec -c` runs in (the first by default). */
  execView(pod: PodState, container: string | undefined, random: Random, nowNs: number) {
    const spec = this.podSpecs.get(`${pod.model.namespace}/${pod.model.name}`);
    const c = spec && (container === undefined ? spec.containers[0] : spec.containers.find((x) => x.name === container));
    return spec && c ? this.viewOf(spec, c, random, nowNs) : {};
  }
}

function addPod(cluster: Cluster, containers: Containers, p: PodSpec): PodState {
  const uid = createHash('sha256').update(`${p.namespace}/${p.name}`).digest('hex');
  const u = `${uid.slice(0, 8)}-${uid.slice(8, 12)}-${uid.slice(12, 16)}-${uid.slice(16, 20)}-${uid.slice(20, 32)}`;
  const pod = cluster.addPod({ name: p.name, namespace: p.namespace, nodeName: p.nodeName, uid: u });
  containers.started(p);
  if (pod.phase === 'Running') {
    startContainers(cluster, containers, pod, p);
    cluster.podContainersStarted(pod, runtimeInfo(p));
  }
  return pod;
}

/** What the kubelet takes from the pod's spec for Services and readiness. */
function runtimeInfo(p: PodSpec): PodRuntimeInfo {
  return {
    labels: p.labels,
    containers: p.containers.map((c) => ({ name: c.name, ports: c.ports, readinessProbe: c.readinessProbe })),
  };
}

/**
 * The Services that exist before the first step: kubernetes.default (the apiserver's, at the
 * first control-plane node's address), kube-dns when the scenario runs CoreDNS pods (kube-system,
 * k8s-app=kube-dns) and declares no kube-dns Service of its own, then the scenario's Services in
 * document order — the order random ClusterIPs are drawn in.
 */
/** kube-proxy on every node, fed with the Services as each node sees them (kube-proxy-services.ts). */
function startKubeProxy(cluster: Cluster, clusterCidr: { addr: number; prefixLen: number }): void {
  cluster.startKubeProxy(clusterCidr, (node) => kubeProxyServices(cluster.services, node));
}

function createServices(cluster: Cluster, spec: ScenarioSpec): void {
  const controlPlane = spec.nodes.find((n) => Object.hasOwn(n.labels, 'node-role.kubernetes.io/control-plane')) ?? spec.nodes[0];
  const registry = cluster.startServices({
    serviceCidr: { network: spec.cluster.serviceCIDR.network, prefixLen: spec.cluster.serviceCIDR.prefixLen },
    apiserverIp: controlPlane?.internalIP.addr ?? ((spec.cluster.nodeNetwork.network + 1) >>> 0),
  });
  const runsCoreDns = spec.pods.some((p) => p.namespace === 'kube-system' && p.labels['k8s-app'] === 'kube-dns');
  const declaresKubeDns = spec.services.some((s) => s.namespace === 'kube-system' && s.name === 'kube-dns');
  if (runsCoreDns && !declaresKubeDns) registry.addService(kubeDnsServiceInput(registry));
  for (const s of spec.services) {
    try {
      registry.addService({
        namespace: s.namespace, name: s.name, labels: s.labels, annotations: s.annotations, type: s.type, selector: s.selector,
        ports: s.ports, clusterIP: s.clusterIP === undefined || s.clusterIP === 'None' ? s.clusterIP : s.clusterIP.addr,
        externalName: s.externalName, sessionAffinity: s.sessionAffinity, affinityTimeoutSeconds: s.affinityTimeoutSeconds,
        internalTrafficPolicy: s.internalTrafficPolicy, publishNotReadyAddresses: s.publishNotReadyAddresses,
      });
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      const where = `services[${s.namespace === 'default' ? '' : `${s.namespace}/`}${s.name}]`;
      throw scenarioErrorAt(s.clusterIPSource, `${where}.spec.clusterIP`, `${e.message}${runsCoreDns ? ' (kube-dns has the tenth address of the service CIDR)' : ''}`);
    }
  }
}

/**
 * Each container's process, chosen by its command and args as on a real node. A command podwire
 * does not emulate yet leaves the container idle, and the trace says so.
 */
function startContainers(cluster: Cluster, containers: Containers, pod: PodState, p: PodSpec): void {
  const logs = containers.logs;
  for (const c of p.containers) {
    const argv = [...(c.command ?? []), ...(c.args ?? [])];
    const key = `${p.name}-${c.name}`;
    if (argv.length === 0) {
      pod.netns.trace.event({ timeNs: cluster.sched.nowNs, netns: pod.netns.name, event: 'info', detail: `container ${c.name}: the image's default command (${c.image}) is not emulated; the container is idle` });
      continue;
    }
    let app;
    try {
      app = programFor(argv);
    } catch (e) {
      if (!(e instanceof UsageError) && !(e instanceof CommandNotFound)) throw e;
      pod.netns.trace.event({ timeNs: cluster.sched.nowNs, netns: pod.netns.name, event: 'info', detail: `container ${c.name}: ${argv.join(' ')} is not emulated yet (${e.message.split('\n')[0]}); the container is idle` });
      continue;
    }
    logs.set(key, '');
    const log = (t: string) => logs.set(key, (logs.get(key) ?? '') + t);
    const view = containers.viewOf(p, c, cluster.random, cluster.sched.nowNs);
    const proc = new ContainerProcess(pod.netns, cluster.sched);
    containers.processes.set(`${p.namespace}/${p.name}/${c.name}`, proc);
    app.start({ ns: proc.ns, sched: proc.sched, random: cluster.random, label: `${p.name}/${c.name}`, ...view, stdout: log, stderr: log, exit: () => {} });
  }
}

function stepHost(step: StepSpec): string {
  switch (step.kind) {
    case 'exec':
      return step.pod;
    case 'run':
      return step.pod.name;
    case 'ssh':
      return step.host;
    case 'link':
    case 'stop':
      return 'podwire';
    default:
      return 'kubectl';
  }
}

interface Executed {
  readonly output: string;
  readonly exitCode: number;
}

function runStep(cluster: Cluster, containers: Containers, step: StepSpec, sched: Scheduler, random: Random): Executed {
  switch (step.kind) {
    case 'exec': {
      const pod = cluster.pod(step.namespace, step.pod);
      if (!pod) return { output: `Error from server (NotFound): pods "${step.pod}" not found\n`, exitCode: 1 };
      if (pod.phase !== 'Running') return { output: `error: unable to upgrade connection: container not found ("${step.container ?? pod.model.name}")\n`, exitCode: 1 };
      return runProgram(pod, step.argv, `step${step.index + 1}`, sched, random, step.stdin, containers.execView(pod, step.container, random, sched.nowNs), step.tty);
    }
    case 'delete-pod': {
      let out = '';
      for (const name of step.pods) {
        if (!cluster.pod(step.namespace, name)) {
          if (!step.ignoreNotFound) return { output: `${out}Error from server (NotFound): pods "${name}" not found\n`, exitCode: 1 };
          continue;
        }
        cluster.deletePod(step.namespace, name);
        out += `pod "${name}" deleted\n`;
      }
      sched.run(sched.nowNs + 1);
      return { output: out, exitCode: 0 };
    }
    case 'apply': {
      let out = '';
      for (const p of step.pods) {
        if (cluster.pod(p.namespace, p.name)) {
          out += `pod/${p.name} unchanged\n`;
          continue;
        }
        addPod(cluster, containers, p);
        out += `pod/${p.name} created\n`;
      }
      sched.run(sched.nowNs + 1);
      return { output: out, exitCode: 0 };
    }
    case 'run': {
      const pod = addPod(cluster, containers, step.pod);
      let out = `pod/${step.pod.name} created\n`;
      const c = step.pod.containers[0];
      const argv = [...(c?.command ?? []), ...(c?.args ?? [])];
      if (!step.attach || pod.phase !== 'Running' || argv.length === 0) {
        sched.run(sched.nowNs + 1);
        return { output: out, exitCode: 0 };
      }
      out = '';
      const r = runProgram(pod, argv, `step${step.index + 1}`, sched, random, undefined, containers.execView(pod, undefined, random, sched.nowNs));
      if (step.rm) {
        cluster.deletePod(step.pod.namespace, step.pod.name);
        return { output: `${r.output}pod "${step.pod.name}" deleted\n`, exitCode: r.exitCode };
      }
      return r;
    }
    case 'sleep':
      sched.run(sched.nowNs + step.durationNs);
      return { output: '', exitCode: 0 };
    case 'kubectl-view':
      return renderKubectlView(cluster, step.argv);
    case 'link':
      // The cable is pulled or plugged in at this instant; the step itself takes no time.
      cluster.cables.get(step.name)!.setCarrier(step.up);
      return { output: '', exitCode: 0 };
    case 'ssh':
      return runSsh(cluster, step, sched, random);
    case 'stop':
      return stopContainer(cluster, containers, step);
  }
}

/** `podwire stop`: the container's process ends at this instant (its sockets close); it is not restarted. */
function stopContainer(cluster: Cluster, containers: Containers, step: StopStep): Executed {
  const pod = cluster.pod(step.namespace, step.pod);
  const spec = containers.spec(step.namespace, step.pod);
  if (!pod || !spec) return { output: `podwire stop: pod "${step.pod}" not found in namespace "${step.namespace}"\n`, exitCode: 1 };
  const name = step.container ?? spec.containers[0]!.name;
  containers.processes.get(`${step.namespace}/${step.pod}/${name}`)?.stop();
  return { output: '', exitCode: 0 };
}

/** Runs a program in the pod's netns until it exits (kubectl exec waits for it). */
function runProgram(pod: PodState, argv: readonly string[], label: string, sched: Scheduler, random: Random, stdin?: string, files: ContainerView = {}, tty = false): Executed {
  let app;
  try {
    app = programFor(argv);
  } catch (e) {
    if (e instanceof UsageError) return { output: `${e.message}\ncommand terminated with exit code ${e.exitCode}\n`, exitCode: e.exitCode };
    if (e instanceof CommandNotFound) return { output: `${e.message}\ncommand terminated with exit code 126\n`, exitCode: 126 };
    throw e;
  }
  const view: ContainerView = { ...files, ...(tty ? { tty: true } : {}) };
  const r = runUntilExit(app, pod.netns, `${pod.model.name}/${label}`, sched, random, stdin, view);
  if (r.exitCode !== 0) return { output: `${r.output}command terminated with exit code ${r.exitCode}\n`, exitCode: r.exitCode };
  return r;
}

/** What a program sees of its container beyond the netns: files, working directory, environment, a tty. */
type ContainerView = Partial<Pick<AppContext, 'fs' | 'cwd' | 'env' | 'tty' | 'kubernetesDns'>>;

/** Starts the program and runs the clock until it exits, or until the step limit (exit 124). */
function runUntilExit(app: App, ns: Netns, label: string, sched: Scheduler, random: Random, stdin: string | undefined, view: ContainerView = {}): Executed {
  let output = '';
  let exitCode: number | undefined;
  const ctx: AppContext = {
    ns, sched, random, label,
    ...(stdin !== undefined ? { stdin } : {}),
    ...view,
    stdout: (t) => (output += t),
    stderr: (t) => (output += t),
    exit: (code) => (exitCode ??= code),
  };
  app.start(ctx);
  const deadline = sched.nowNs + STEP_LIMIT_NS;
  for (let next = sched.peekTimeNs(); exitCode === undefined && next !== undefined && next <= deadline; next = sched.peekTimeNs()) {
    sched.run(next);
  }
  if (exitCode === undefined) {
    exitCode = 124;
    output += `podwire: the command did not exit within ${STEP_LIMIT_NS / 1e9} s of virtual time\n`;
  }
  return { output, exitCode };
}

// ─── The underlay's cables and the external hosts ───────────────────────────────────────────

/** Every cable gets the underlay's defaults, then its own override. */
function configureUnderlay(cluster: Cluster, spec: ScenarioSpec): void {
  const { defaults, links } = spec.cluster.underlay;
  for (const cable of cluster.cables.values()) cable.set({ latencyNs: defaults.latencyNs, loss: defaults.loss });
  for (const l of links) cluster.cables.get(l.name)!.set({ latencyNs: l.latencyNs, loss: l.loss });
}

/** The netns of a node or external host (the machines one can ssh into). */
function machineNetns(cluster: Cluster, name: string): Netns {
  const ns = cluster.nodes.get(name)?.netns ?? cluster.namespaces.get(name);
  if (!ns) throw new Error(`no node or host ${name}`);
  return ns;
}

/**
 * Each host's command, started when the pods' containers start theirs; what it prints is the
 * host's log (outputs/hosts/<host>.log). A command podwire does not emulate leaves the host idle,
 * and the trace says so, as for a container.
 */
function startHostCommands(cluster: Cluster, spec: ScenarioSpec): Map<string, string> {
  const logs = new Map<string, string>();
  for (const h of spec.hosts) {
    const argv = [...(h.command ?? []), ...(h.args ?? [])];
    if (argv.length === 0) continue;
    const ns = machineNetns(cluster, h.name);
    let app;
    try {
      app = programFor(argv);
    } catch (e) {
      if (!(e instanceof UsageError) && !(e instanceof CommandNotFound)) throw e;
      ns.trace.event({ timeNs: cluster.sched.nowNs, netns: ns.name, event: 'info', detail: `host ${h.name}: ${argv.join(' ')} is not emulated yet (${e.message.split('\n')[0]}); the host runs nothing` });
      continue;
    }
    logs.set(h.name, '');
    const log = (t: string) => logs.set(h.name, (logs.get(h.name) ?? '') + t);
    const fs = new ContainerFs(VIRTUAL_EPOCH_SEC);
    for (const [path, text] of Object.entries(h.files)) fs.addFile(path, new TextEncoder().encode(text));
    app.start({ ns, sched: cluster.sched, random: cluster.random, label: h.name, fs, cwd: h.workingDir ?? '/', stdout: log, stderr: log, exit: () => {} });
  }
  return logs;
}

/**
 * `ssh HOST -- CMD`: the command runs on the machine as its shell would run it; ssh prints what
 * it printed and exits with its status (no "command terminated" line, unlike kubectl exec). A
 * program that does not exist is bash's "command not found", status 127.
 */
function runSsh(cluster: Cluster, step: SshStep, sched: Scheduler, random: Random): Executed {
  let app;
  try {
    app = programFor(step.argv);
  } catch (e) {
    if (e instanceof UsageError) return { output: `${e.message}\n`, exitCode: e.exitCode };
    if (e instanceof CommandNotFound) return { output: `bash: line 1: ${step.argv[0]}: command not found\n`, exitCode: 127 };
    throw e;
  }
  return runUntilExit(app, machineNetns(cluster, step.host), `${step.host}/step${step.index + 1}`, sched, random, step.stdin);
}

