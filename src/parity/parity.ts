/**
 * Kernel parity (issue 7): a scenario run twice — in podwire, and on the real Linux kernel rebuilt
 * from podwire's own model — with a capture on every interface on both sides, then compared
 * interface by interface with compare's signatures.
 *
 * The kernel side: the cluster's state at the first traffic step (runScenario stopped there) is
 * planned into commands (realize.ts) and applied in namespaces named `pwp<pid>-<netns>`; TX
 * checksum offload goes off on every device; tcpdump starts on every device (pinned to CPU 1); the
 * traffic runs with the real tools (pinned to CPU 0); one second later the tcpdumps are stopped by
 * PID with SIGINT. The captures land in a folder laid out like a podwire run, so compare reads both
 * alike. Whatever happens, a finally ends the processes it started and deletes exactly the
 * namespaces it created, then checks that none with its prefix is left.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { InterfaceRecord } from '../capture/index.js';
import { compareRunFolders, packetsFrom, readCapturePackets, type CompareReport } from '../compare/index.js';
import type { Cluster, HostKind } from '../k8s/cluster.js';
import { BUILTIN_NAMESPACES } from '../k8s/services/dns-view.js';
import { formatIpv4, formatMac, type Ipv4Addr } from '../packet/addr.js';
import { parseIptablesSave } from '../net/netfilter/iptables-save.js';
import type { Ruleset } from '../net/netfilter/rules.js';
import * as ethernet from '../packet/ethernet.js';
import { readCaptureFile } from '../pcap/index.js';
import { Veth } from '../net/veth.js';
import { RunStopped, runScenario } from '../scenario/run.js';
import type { PodSpec, ScenarioSpec } from '../scenario/spec.js';
import type { KubeletFiles } from '../scenario/container-files.js';
import { KernelCommandError, KernelResources, have, kernelRelease, kernelUnavailable, mustRun, namespacesWithPrefix, pinned, runCommand, waitListening, type Capture } from './kernel.js';
import { describeChoices, dnatChoices } from './endpoints.js';
import { statisticDraws } from './statistic-draws.js';
import { planRealization, type KernelPlan } from './realize.js';
import { probeKernelFeatures, type FeatureProbe } from './kernel-features.js';
import type { KernelTraffic } from './kernel-traffic.js';
import { materialize, planServers, type UnrealizableServer } from './servers.js';
import { snapshotDnsView, type DnsViewSnapshot } from './stand-ins/coredns.js';
import { startProgram } from './stand-ins/start.js';
import { planStep, type KernelCommandStep, type KernelStep } from './traffic.js';
import { inPodNamespace, writePodEtc, type PodEtc } from './pod-etc.js';
import { containerView } from '../scenario/container-files.js';
import { Random } from '../sim/random.js';
import { runLinkStep, runPodsStep, type StepRunner } from './run-steps.js';
import { modelTimeline } from './timeline.js';
import { retimeSteps, type StepTimes } from './retime.js';

/** Parity cannot run on this machine (not root, no `ip netns`, a tool missing). */
export class ParityUnavailable extends Error {
  override readonly name = 'ParityUnavailable';
}

/** The output folder given cannot be used. */
export class ParityOutputError extends Error {
  override readonly name = 'ParityOutputError';
}

export interface ParityOptions {
  /** Folder to create: podwire/ (podwire's run), kernel/ (the kernel's), report.txt. Default: a new one under the temp dir. */
  readonly out?: string;
  readonly seed: number;
  /** Leave the namespaces in place for a look (their names are in the result); tcpdumps still end. */
  readonly keep?: boolean;
  /** Progress lines. */
  readonly log?: (line: string) => void;
  /** Traffic that replaces the scenario's steps on the kernel (`--replay`: podwire's own frames injected). */
  readonly traffic?: KernelTraffic;
}

export interface ParityResult {
  readonly scenario: string;
  readonly outDir: string;
  /** What this machine or this increment cannot realize; non-empty means no pass is claimed. */
  readonly notRealizable: readonly string[];
  /** The comparison; undefined when nothing was run on the kernel. */
  readonly report: CompareReport | undefined;
  /** What was done differently from podwire's run and why it cannot matter (kubectl views, idle servers). */
  readonly notes: readonly string[];
  /** Things worth saying that do not fail the run (a missing ethtool, …). */
  readonly warnings: readonly string[];
  /** The kernel namespaces created (and, unless kept, deleted). */
  readonly namespaces: readonly string[];
  readonly kept: boolean;
  readonly ok: boolean;
}

/** What the model looks like at the first traffic step: the plan and how to find a pod's netns. */
interface ModelView {
  readonly plan: KernelPlan;
  readonly records: ReadonlyMap<string, Omit<InterfaceRecord, 'packets'>>;
  readonly podNetns: ReadonlyMap<string, string>;
  /** `<namespace>/<name>` of the pods whose containers run. */
  readonly runningPods: ReadonlySet<string>;
  /** What the kubelet wrote into each pod's containers (/etc/hosts with its IP, /etc/resolv.conf). */
  readonly kubelet: (p: PodSpec) => KubeletFiles;
  /** The Services' ClusterIPs: a SYN to one of them is DNATed by kube-proxy. */
  readonly serviceIps: ReadonlySet<Ipv4Addr>;
  /** What CoreDNS's informers saw (its stand-in answers from it); undefined without Services. */
  readonly dns: DnsViewSnapshot | undefined;
}

/** The linger after the last command, as the references (and podwire's run) stop capturing. */
const LINGER_MS = 1000;
/** Time the kernel topology is given to settle (gratuitous ARPs) before the captures start, as podwire's 1 s. */
/** How long a server may take to listen (Python's start-up on a loaded machine). */
const SERVER_START_MS = 15_000;
const SETTLE_MS = 1000;
/**
 * Between two steps on the kernel. A person typing kubectl commands never starts the next one a
 * millisecond after the last exited; parity would, and then the previous connection's teardown
 * (the server's FIN, from a process that runs at idle priority) races the next step's SYN, and the
 * kernel's order changes from run to run. podwire's compared run is retimed to the kernel's gaps,
 * so both sides see the same schedule.
 */
const STEP_GAP_MS = 50;

function hostOf(cluster: Cluster, netns: string): { host: string; hostKind: HostKind } {
  if (netns === cluster.underlay.name) return { host: netns, hostKind: 'switch' };
  if (cluster.nodes.has(netns)) return { host: netns, hostKind: 'node' };
  for (const p of cluster.pods.values()) if (p.netns.name === netns) return { host: p.model.name, hostKind: 'pod' };
  return { host: netns, hostKind: 'external' };
}

/** The model at `atNs`: runScenario stopped there (its folder goes to a temp dir, removed). */
function viewModel(spec: ScenarioSpec, seed: number, atNs: number, prefix: string, features: FeatureProbe): ModelView {
  let view: ModelView | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'podwire-parity-model-'));
  try {
    runScenario(spec, {
      out: join(dir, 'run'),
      seed,
      stopAtNs: atNs,
      onStop: (cluster, seen) => {
        const plan = planRealization(cluster, prefix, features);
        const records = new Map<string, Omit<InterfaceRecord, 'packets'>>();
        for (const i of plan.interfaces) {
          const ns = cluster.namespaces.get(i.netns)!;
          const d = ns.devices.get(i.name)!;
          const peer = d instanceof Veth && d.peer.netnsName !== ns.name ? { host: hostOf(cluster, d.peer.netnsName).host, name: d.peer.name } : undefined;
          records.set(`${i.netns}/${i.name}`, {
            file: join('captures', i.netns, `${i.name}.pcap`),
            ...hostOf(cluster, i.netns),
            netns: i.netns,
            name: d.name,
            kind: d.kind,
            mac: formatMac(d.mac),
            mtu: d.mtu,
            addresses: d.addresses.map((a) => `${formatIpv4(a.address)}/${a.prefixLen}`),
            ...(peer && { peer }),
          });
        }
        const podNetns = new Map<string, string>();
        const podIps = new Map<string, Ipv4Addr | undefined>();
        const runningPods = new Set<string>();
        for (const p of cluster.pods.values()) {
          if (p.phase === 'Running') runningPods.add(`${p.model.namespace}/${p.model.name}`);
          podNetns.set(`${p.model.namespace}/${p.model.name}`, p.netns.name);
          podIps.set(`${p.model.namespace}/${p.model.name}`, p.ip);
        }
        // As run.ts's containers.kubelet, from the model as it stands at the first traffic step.
        const clusterDns = cluster.services.dnsServiceIp;
        const kubelet = (p: PodSpec): KubeletFiles => ({ podIp: podIps.get(`${p.namespace}/${p.name}`), clusterDns, nodeNameservers: spec.cluster.nameservers });
        const serviceIps = new Set<Ipv4Addr>();
        if (cluster.hasServices) for (const svc of cluster.services.services()) if (typeof svc.clusterIP === 'number') serviceIps.add(svc.clusterIP);
        const namespaces = [...BUILTIN_NAMESPACES, ...[...cluster.pods.values()].map((p) => p.model.namespace)];
        const dns = seen.dnsView === undefined ? undefined : snapshotDnsView(seen.dnsView, namespaces);
        view = { plan, records, podNetns, runningPods, kubelet, serviceIps, dns };
      },
    });
  } catch (e) {
    if (!(e instanceof RunStopped)) throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (view === undefined) throw new Error('parity: the model run ended before the first traffic step');
  return view;
}

function prepareOut(out: string | undefined): string {
  if (out === undefined) return mkdtempSync(join(tmpdir(), 'podwire-parity-'));
  const dir = resolve(out);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new ParityOutputError(`-o ${out}: exists and is not empty`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The real programs, by absolute path (the references': Python 3.11.2, curl 7.88.1). */
const PYTHON = '/usr/bin/python3';
const CURL = '/usr/bin/curl';
/** A clean environment for the real programs: no proxy variables, no ~/.curlrc, no PYTHONPATH of this machine. */
const baseEnv = (home: string): NodeJS.ProcessEnv => ({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: home, CURL_HOME: home, LANG: 'C.UTF-8' });

/**
 * A program parity cannot run may still be left idle when, in podwire's run from the first
 * traffic step on (what is compared), its netns sent nothing: no frame from one of its own MACs on
 * its interfaces (tx on its eth0) or on their peers (rx on the node's host-side veth). What it
 * receives — a flooded ARP broadcast — an idle namespace receives on the kernel too. Any send,
 * even one the kernel itself would make (an ARP reply), refuses idling: the program was part of
 * the traffic. If the kernel's side sends or receives anything podwire's did not, that
 * interface's comparison shows it.
 */
function idleOrUnrealizable(podwireDir: string, run: { trafficStartNs: number; epochSec: number }, servers: readonly UnrealizableServer[]): { idle: string[]; unrealizable: string[] } {
  const { interfaces } = JSON.parse(readFileSync(join(podwireDir, 'interfaces.json'), 'utf8')) as { interfaces: InterfaceRecord[] };
  const sentNothing = (i: InterfaceRecord, own: ReadonlySet<string>): boolean => {
    const path = join(podwireDir, i.file);
    if (!existsSync(path)) return true;
    return packetsFrom(readCapturePackets(path), run.trafficStartNs, run.epochSec).every((p) => p.data.length < 12 || !own.has(formatMac(ethernet.src(p.data, 0))));
  };
  const idle: string[] = [];
  const unrealizable: string[] = [];
  for (const s of servers) {
    const mine = interfaces.filter((i) => i.netns === s.netns);
    const peers = interfaces.filter((i) => i.peer !== undefined && mine.some((m) => m.host === i.peer!.host && m.name === i.peer!.name));
    const own = new Set(mine.map((i) => i.mac));
    if (mine.length > 0 && [...mine, ...peers].every((i) => sentNothing(i, own))) idle.push(`idle here: ${s.label}: ${s.reason} is not realizable, and in podwire's run its pod sends nothing (what it receives, an idle namespace receives too)`);
    else unrealizable.push(`not realizable here: ${s.label}: ${s.reason}`);
  }
  return { idle, unrealizable };
}

/** Each netns's iptables rules as the kernel was given them (the plan's iptables-restore input). */
function rulesByNetns(plan: KernelPlan): Map<string, Ruleset> {
  const model = new Map(plan.namespaces.map((n) => [n.kernel, n.model]));
  const out = new Map<string, Ruleset>();
  for (const c of plan.commands) {
    const [ip, netns, exec, kernelNs, tool] = c.argv;
    if (ip !== 'ip' || netns !== 'netns' || exec !== 'exec' || tool !== 'iptables-restore' || c.input === undefined) continue;
    const name = model.get(kernelNs ?? '');
    if (name !== undefined) out.set(name, parseIptablesSave(c.input));
  }
  return out;
}

/** Draws per node, briefly: `n1: 47 draws`. */
const describeDraws = (draws: ReadonlyMap<string, readonly number[]>): string => [...draws].map(([node, d]) => `${node}: ${d.length} draw${d.length === 1 ? '' : 's'}`).join(', ');

/**
 * Finds the endpoints kube-proxy chose on the kernel (per DNATed connection, from its captures)
 * and makes podwire's run choose the same: its run as it stands when it already does, else a rerun
 * whose `statistic/<node>` streams return the draws that make the node's rules (those the kernel
 * was given) pick the kernel's endpoints (statistic-draws.ts); every other stream keeps the run's
 * seed, so MACs, ISNs and ports are those the kernel was built with. If the rerun still chooses
 * otherwise (draws taken by traffic the captures do not show as a DNATed TCP connection or UDP
 * flow, rules changed mid-run: the rules are the model's at the first traffic step), nothing is
 * compared.
 */
function followKernelChoices(spec: ScenarioSpec, seed: number, kernelDir: string, podwireDir: string, serviceIps: ReadonlySet<Ipv4Addr>, plan: KernelPlan): { ok: boolean; rerun: boolean; notes: string[]; notRealizable: string[] } {
  const kernelChoices = dnatChoices(kernelDir, serviceIps);
  const kernel = describeChoices(kernelChoices);
  if (kernel.length === 0) return { ok: true, rerun: false, notes: [], notRealizable: [] };
  const same = (lines: readonly string[]): boolean => lines.length === kernel.length && lines.every((l, i) => l === kernel[i]);
  const onKernel = kernel.map((l) => `${l} on the kernel`).join('; ');
  if (same(describeChoices(dnatChoices(podwireDir, serviceIps)))) return { ok: true, rerun: false, notes: [`${onKernel}; podwire seed ${seed} makes the same choice`], notRealizable: [] };
  const computed = statisticDraws(kernelChoices, rulesByNetns(plan));
  if (!computed.ok) return { ok: false, rerun: false, notes: [], notRealizable: [`not compared: ${onKernel}; podwire seed ${seed} chooses otherwise, and no statistic draws make it follow: ${computed.reason}`] };
  rmSync(podwireDir, { recursive: true, force: true });
  runScenario(spec, { out: podwireDir, seed, statisticDraws: computed.draws });
  const followed = describeChoices(dnatChoices(podwireDir, serviceIps));
  if (same(followed)) return { ok: true, rerun: true, notes: [`${onKernel}; podwire followed the kernel's choices: seed ${seed} with kube-proxy's statistic draws scripted (${describeDraws(computed.draws)})`], notRealizable: [] };
  const first = followed.findIndex((l, i) => l !== kernel[i]);
  const where = first < 0 ? `it made ${followed.length} choices` : `connection ${first + 1}: ${followed[first]}`;
  return { ok: false, rerun: true, notes: [], notRealizable: [`not compared: ${onKernel}; podwire with the draws that follow them (${describeDraws(computed.draws)}) still chooses otherwise (${where}): something the captures do not show as a DNATed TCP connection or UDP flow took statistic draws, or the rules changed mid-run`] };
}

export async function runParity(spec: ScenarioSpec, opts: ParityOptions): Promise<ParityResult> {
  const log = opts.log ?? (() => {});
  const scenario = basename(spec.file).replace(/\.ya?ml$/, '');
  const unavailable = kernelUnavailable();
  if (unavailable !== undefined) throw new ParityUnavailable(`kernel parity cannot run here: ${unavailable}`);
  const outDir = prepareOut(opts.out);
  const podwireDir = join(outDir, 'podwire');
  const kernelDir = join(outDir, 'kernel');

  // podwire's side, and its model at the first traffic step.
  const pw = runScenario(spec, { out: podwireDir, seed: opts.seed });
  const prefix = `pwp${process.pid}`;
  const features = probeKernelFeatures(prefix);
  const model = viewModel(spec, opts.seed, pw.trafficStartNs, prefix, features);

  const podNetns = (ns: string, name: string): string | undefined => model.podNetns.get(`${ns}/${name}`);
  const serverPlan = planServers(spec, opts.seed, pw.trafficStartNs, podNetns, model.kubelet, model.dns);
  const pwRun = JSON.parse(readFileSync(join(podwireDir, 'run.json'), 'utf8')) as { trafficStartNs: number; epochSec: number };
  const { idle, unrealizable } = idleOrUnrealizable(podwireDir, pwRun, serverPlan.unrealizable);
  const notes: string[] = [...idle];
  const notRealizable = [...model.plan.notRealizable, ...unrealizable];
  if (opts.traffic !== undefined) notRealizable.push(...opts.traffic.prepare({ podwireDir, run: pwRun, records: model.records, podNetns }));
  const steps: KernelStep[] = [];
  // The model after each step that adds or deletes pods (timeline.ts).
  const timeline = modelTimeline(spec, model, pw.steps.map((s) => s.endNs), (at) => viewModel(spec, opts.seed, at, prefix, features));
  for (const s of opts.traffic === undefined ? spec.steps : []) {
    const models = timeline.at(s.index);
    const p = planStep(s, (ns, name) => models.before.podNetns.get(`${ns}/${name}`), models);
    if (p.ok) steps.push(p.step);
    else notRealizable.push(`not realizable here: ${p.reason}`);
  }
  const warnings: string[] = [];
  const result = (report: CompareReport | undefined, namespaces: string[], kept: boolean): ParityResult => ({
    scenario, outDir, notRealizable, report, notes, warnings, namespaces, kept,
    ok: notRealizable.length === 0 && report !== undefined && report.ok,
  });
  if (notRealizable.length > 0) return result(undefined, [], false);

  const res = new KernelResources();
  const created: string[] = [];
  const stepTimes: (StepTimes | undefined)[] = [];
  let kept = false;
  try {
    for (const ns of model.plan.namespaces) {
      res.addNamespace(ns.kernel);
      created.push(ns.kernel);
    }
    log(`kernel: ${created.length} namespaces (${created.join(', ')})`);
    for (const c of model.plan.commands) mustRun(c.argv, c.input);
    // TX checksum offload off on every device, as the references were taken.
    if (have('ethtool')) {
      for (const i of model.plan.interfaces) {
        const r = runCommand(['ip', 'netns', 'exec', i.kernelNetns, 'ethtool', '-K', i.name, 'tx', 'off']);
        if (r.code !== 0) warnings.push(`ethtool -K ${i.name} tx off in ${i.kernelNetns}: ${r.stderr.trim()}`);
      }
    } else {
      warnings.push('ethtool is not installed: TX checksum offload left on (checksums are not compared, the packets are the same)');
    }
    await sleep(SETTLE_MS);

    // The servers, as the references ran them: pinned to CPU 0 at SCHED_IDLE, so that a client
    // finishes a burst of sends before its server reacts; each listening before the captures start.
    // A server starts at normal priority and is moved to SCHED_IDLE once it listens: started idle on
    // a busy machine (a test suite running beside it), Python's start-up could starve for seconds.
    const filesDir = join(outDir, 'kernel-files');
    for (const srv of serverPlan.servers) {
      const root = join(filesDir, srv.slug);
      const { args, cwd, etc } = materialize(srv, root);
      const kns = `${prefix}-${srv.netns}`;
      // Its own hostname and /etc files, as the pod's container has (pod-etc.ts).
      const argv = inPodNamespace(kns, { hostname: srv.hostname, hosts: etc.hosts, resolvConf: etc.resolvConf }, pinned(0, [PYTHON, ...args]));
      const env = { ...baseEnv(root), ...Object.fromEntries(srv.env) };
      const child = res.startProcess(argv, { cwd, env, logFile: join(filesDir, `${srv.slug}.log`) });
      if (!(await waitListening(kns, srv.options.port, SERVER_START_MS)) || child.exitCode !== null) {
        throw new KernelCommandError(`${srv.label}: ${PYTHON} ${args.join(' ')} in ${kns} is not listening on port ${srv.options.port} after ${SERVER_START_MS / 1000} s (log: ${join(filesDir, `${srv.slug}.log`)})`);
      }
      mustRun(['chrt', '-a', '-i', '-p', '0', String(child.pid)]);
      log(`kernel: ${srv.label}: ${PYTHON} ${args.join(' ')} listening (pid ${String(child.pid)})`);
    }
    for (const p of serverPlan.programs) {
      const pid = await startProgram(res, prefix, p, filesDir, join(kernelDir, 'outputs'));
      log(`kernel: ${p.label}: ${p.what}${p.what.startsWith('the real') ? ` ${p.argv.slice(1).join(' ')}` : ''} listening (pid ${pid})`);
    }

    mkdirSync(join(kernelDir, 'outputs'), { recursive: true });
    const captures: Capture[] = [];
    for (const i of model.plan.interfaces) {
      const file = join(kernelDir, 'captures', i.netns, `${i.name}.pcap`);
      mkdirSync(join(kernelDir, 'captures', i.netns), { recursive: true });
      captures.push(await res.startCapture(i.kernelNetns, i.name, file));
    }
    log(`kernel: tcpdump on ${captures.length} interfaces`);
    if (opts.traffic !== undefined) await opts.traffic.run({ prefix, kernelDir, res, log });
    const stepHome = join(filesDir, 'steps');
    mkdirSync(stepHome, { recursive: true });
    // What `kubectl exec` sees of /etc in the container it runs in (its -c, else the first).
    const podEtc = (pod: NonNullable<KernelCommandStep['pod']>, dir: string): PodEtc | undefined => {
      const p = spec.pods.find((x) => x.namespace === pod.namespace && x.name === pod.name);
      const c = p && (pod.container === undefined ? p.containers[0] : p.containers.find((x) => x.name === pod.container));
      if (p === undefined || c === undefined) return undefined;
      const { fs } = containerView(p, c, spec.configMaps, new Random(opts.seed), pw.trafficStartNs, model.kubelet(p));
      return writePodEtc(dir, p.hostname ?? p.name, fs.readFile('/etc/hosts') ?? new Uint8Array(), fs.readFile('/etc/resolv.conf') ?? new Uint8Array());
    };
    const runner: StepRunner = {
      res, prefix, captures, created, kernelDir, env: baseEnv(stepHome), cwd: stepHome, programs: new Map(), warnings, log,
      program: (argv) => (argv[0] === 'curl' ? [CURL, ...argv.slice(1)] : [...argv]),
    };
    for (const [i, s] of steps.entries()) {
      if (s.waitNs > 0) await sleep(s.waitNs / 1e6);
      else if (i > 0 && s.kind !== 'view') await sleep(STEP_GAP_MS);
      const n = String(s.index + 1).padStart(2, '0');
      const startMs = performance.now();
      stepTimes[s.index] = { startMs, endMs: startMs };
      if (s.kind === 'view') {
        notes.push(`step ${s.index + 1} (${s.text}): kubectl view: not run on the kernel`);
        writeFileSync(join(kernelDir, 'outputs', `${n}-kubectl.txt`), 'kubectl view: not run on the kernel\n');
        continue;
      }
      if (s.kind === 'sleep') {
        await sleep(s.durationNs / 1e6);
        stepTimes[s.index] = { startMs, endMs: performance.now() };
        log(`kernel: step ${s.index + 1} (${s.text}) slept`);
        continue;
      }
      if (s.kind === 'link' || s.kind === 'pods') {
        if (s.kind === 'link') runLinkStep(s, runner);
        else await runPodsStep(s, runner);
        // A pod's step starts, as in podwire, when its pods are there and their programs start.
        const endMs = performance.now();
        stepTimes[s.index] = { startMs: s.kind === 'pods' ? endMs : startMs, endMs };
        log(`kernel: step ${s.index + 1} (${s.text}) done`);
        continue;
      }
      const kns = `${prefix}-${s.netns}`;
      const bounded = pinned(0, ['timeout', '-s', 'KILL', String(s.timeoutSec), ...runner.program(s.argv)]);
      const etc = s.pod === undefined ? undefined : podEtc(s.pod, join(stepHome, `${s.pod.namespace}-${s.pod.name}`));
      const argv = etc === undefined ? ['ip', 'netns', 'exec', kns, ...bounded] : inPodNamespace(kns, etc, bounded);
      const r = runCommand(argv, { timeoutSec: s.timeoutSec + 5, cwd: stepHome, env: baseEnv(stepHome), ...(s.stdin !== undefined && { input: s.stdin }) });
      stepTimes[s.index] = { startMs, endMs: performance.now() };
      const host = [...model.records.values()].find((x) => x.netns === s.netns)?.host ?? s.netns;
      writeFileSync(join(kernelDir, 'outputs', `${n}-${host}.txt`), r.stdout + r.stderr);
      log(`kernel: step ${s.index + 1} (${s.text}) exited ${String(r.code)}`);
    }
    await sleep(LINGER_MS);
    for (const c of captures) await res.stopCapture(c);

    const interfaces: InterfaceRecord[] = timeline.interfaces.map(({ record: rec }) => ({ ...rec, packets: readCaptureFile(join(kernelDir, rec.file)).packets.length }));
    writeFileSync(join(kernelDir, 'interfaces.json'), `${JSON.stringify({ interfaces }, null, 2)}\n`);
    writeFileSync(
      join(kernelDir, 'run.json'),
      `${JSON.stringify({ podwire: '0.1.0', scenario: spec.file, seed: opts.seed, trafficStartNs: 0, endNs: 0, epochSec: 0, kernel: kernelRelease(), namespaces: created }, null, 2)}\n`,
    );
  } finally {
    if (opts.keep === true) {
      kept = true;
      await res.stopProcesses();
    } else {
      const problems = await res.cleanup();
      warnings.push(...problems);
      const left = namespacesWithPrefix(`${prefix}-`);
      if (left.length > 0) warnings.push(`namespaces left behind: ${left.join(', ')}`);
    }
  }

  // kube-proxy's random endpoint choice: podwire's run follows the kernel's (its statistic streams
  // scripted to make the same choices), or nothing is compared.
  // podwire's steps at the kernel's times (retime.ts), then its endpoint choices.
  const retimed = retimeSteps(spec, stepTimes);
  if (retimed !== undefined) {
    rmSync(podwireDir, { recursive: true, force: true });
    runScenario(retimed.spec, { out: podwireDir, seed: opts.seed });
    notes.push(`podwire re-run with each step started as long after the previous one as on the kernel: ${retimed.gapsMs.map((g) => `${g.toFixed(3)} ms`).join(', ')}`);
  }
  const follow = followKernelChoices(retimed?.spec ?? spec, opts.seed, kernelDir, podwireDir, model.serviceIps, model.plan);
  notes.push(...follow.notes);
  if (!follow.ok) {
    notRealizable.push(...follow.notRealizable);
    return result(undefined, created, kept);
  }
  if (follow.rerun || retimed !== undefined) {
    // The idle check again, on the run that is compared.
    const again = idleOrUnrealizable(podwireDir, pwRun, serverPlan.unrealizable);
    notRealizable.push(...again.unrealizable);
  }
  const report = compareRunFolders(kernelDir, podwireDir, { scenario });
  writeFileSync(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  return result(report, created, kept);
}
