/**
 * `podwire parity --replay` (issue 7): a frame-level differential. The kernel's realization of the
 * scenario is built as for parity (namespaces, links, routes, iptables, servers, a tcpdump on
 * every interface), but instead of running the scenario's commands, podwire's own frames — those
 * its command-running pods sent, read from podwire's captures — are injected on the same pods'
 * interfaces with libpcap, at their original relative times. What the kernel then does with each
 * (answers it, returns an ICMP error, forwards it somewhere, drops it) is set next to what podwire
 * did with it, frame by frame (replay-verdict.ts); so a malformed or mis-addressed frame shows as
 * the kernel's reaction, not only as a field diff. The interface-by-interface comparison of
 * parity is made too, and counts where it applies: when every frame the pods sent was injected or
 * is an answer their own kernel sends anyway.
 *
 * Only the pods that run the scenario's commands inject (a ping's target, a server answer on the
 * kernel with their own live stack and real server, as podwire's did); one injector process per
 * namespace (`ip netns exec`), bounded in frames and time.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { InterfaceRecord } from '../capture/index.js';
import { compareRunFolders, readCapturePackets, type CompareReport } from '../compare/index.js';
import { readPcap } from '../pcap/index.js';
import { parseMac, type MacAddr } from '../packet/addr.js';
import type { ScenarioSpec } from '../scenario/spec.js';
import { KernelCommandError, pinned, type KernelResources } from './kernel.js';
import type { KernelTraffic, KernelTrafficPrepare, KernelTrafficRun } from './kernel-traffic.js';
import { ParityUnavailable, runParity, type ParityOptions, type ParityResult } from './parity.js';
import { capMissing, loadCap } from './replay-cap.js';
import { MAX_INJECTED_FRAMES, MAX_REPLAY_SECONDS, type InjectorPlan } from './replay-injector-plan.js';
import { replayability, srcMac } from './replay-frames.js';
import { compareOwnStacks, compareReactions, formatVerdict, ownFrames, reactions, type CapFrame, type Captures, type FrameVerdict, type InjectPoint, type OwnStack } from './replay-verdict.js';

/** One frame a pod sent in podwire's run, as read from its capture. */
export interface PodFrame {
  /** 0-based index in the capture of its interface. */
  readonly index: number;
  readonly data: Uint8Array;
  readonly timeNs: bigint;
  /** Whether the pod sent it (transmitted on this interface) rather than received it. */
  readonly tx: boolean;
}

export interface SelectedFrame {
  readonly point: string;
  readonly index: number;
  /** Time after podwire's traffic start. */
  readonly offsetNs: number;
  readonly data: Uint8Array;
  readonly what: string;
}

export interface SkippedFrame {
  readonly point: string;
  readonly index: number;
  readonly reason: string;
  readonly spoils: boolean;
}

export interface Selection {
  readonly selected: SelectedFrame[];
  readonly skipped: SkippedFrame[];
}

/**
 * The frames of one interface to inject: those the pod sent from the traffic start on (setup's
 * gratuitous ARPs happen on the kernel too, before the captures start), replayable, within the
 * bounds; the rest of what it sent is skipped with the reason.
 */
export function selectFrames(point: string, frames: readonly PodFrame[], startNs: bigint, budget: { frames: number; spanNs: bigint }): Selection {
  const selected: SelectedFrame[] = [];
  const skipped: SkippedFrame[] = [];
  for (const f of frames) {
    if (!f.tx || f.timeNs < startNs) continue;
    const r = replayability(f.data);
    if (!r.replay) {
      skipped.push({ point, index: f.index, reason: r.reason, spoils: r.spoils });
    } else if (selected.length >= budget.frames || f.timeNs - startNs > budget.spanNs) {
      skipped.push({ point, index: f.index, reason: `beyond the replay bound (${budget.frames} frames, ${Number(budget.spanNs / 1_000_000_000n)} s of traffic)`, spoils: true });
    } else {
      selected.push({ point, index: f.index, offsetNs: Number(f.timeNs - startNs), data: f.data, what: r.what });
    }
  }
  return { selected, skipped };
}

/** Nanoseconds since the epoch of a capture record (exact: bigint). */
const timeOf = (p: { timestampSec: number; timestampNsec: number }): bigint => BigInt(p.timestampSec) * 1_000_000_000n + BigInt(p.timestampNsec);

/**
 * Which frames of `dev` in `netns` the pod transmitted, by 1-based frame number: podwire's
 * trace.jsonl says so (`"hop":"tx"`); a capture alone cannot (a hairpin bridge port floods the
 * pod's own broadcast back to it, the same bytes received).
 */
function transmitted(podwireDir: string, netns: string, dev: string): Set<number> | undefined {
  const path = join(podwireDir, 'trace.jsonl');
  if (!existsSync(path)) return undefined;
  const needle = `"hop":"tx","netns":"${netns}","dev":"${dev}","frame":`;
  const out = new Set<number>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const at = line.indexOf(needle);
    if (at >= 0) out.add(Number.parseInt(line.slice(at + needle.length), 10));
  }
  return out;
}

/** A pod's interface's frames in podwire's run, each marked sent or received. */
export function podFrames(podwireDir: string, rec: Pick<InterfaceRecord, 'file' | 'netns' | 'name' | 'mac'>): PodFrame[] {
  const path = join(podwireDir, rec.file);
  if (!existsSync(path)) return [];
  const packets = readCapturePackets(path);
  const tx = transmitted(podwireDir, rec.netns, rec.name);
  const mac = parseMac(rec.mac);
  return packets.map((p, i) => ({
    index: i,
    data: p.data,
    timeNs: timeOf(p),
    // Without a trace: the pod's MAC as source, and not the same bytes as the frame just before
    // (the hairpin copy of a broadcast comes microseconds after it).
    tx: tx !== undefined ? tx.has(i + 1) : srcMac(p.data) === mac && !(i > 0 && timeOf(p) - timeOf(packets[i - 1]!) < 1_000_000n && Buffer.compare(p.data, packets[i - 1]!.data) === 0),
  }));
}

/** Every capture of a run folder, by point `netns/name` (interfaces.json lists them). */
function readCaptures(dir: string): Map<string, CapFrame[]> {
  const { interfaces } = JSON.parse(readFileSync(join(dir, 'interfaces.json'), 'utf8')) as { interfaces: InterfaceRecord[] };
  const out = new Map<string, CapFrame[]>();
  for (const i of interfaces) {
    const path = join(dir, i.file);
    out.set(`${i.netns}/${i.name}`, existsSync(path) ? readCapturePackets(path).map((p) => ({ data: p.data, timeNs: timeOf(p) })) : []);
  }
  return out;
}

/** Where the injected frames are in the kernel's capture of their interface: the same bytes, in order. */
export function locateInjected(frames: readonly CapFrame[], injected: readonly Uint8Array[]): { indices: number[]; missing: number[] } {
  const indices: number[] = [];
  const missing: number[] = [];
  let from = 0;
  injected.forEach((bytes, n) => {
    const i = frames.findIndex((f, j) => j >= from && Buffer.compare(f.data, bytes) === 0);
    if (i < 0) missing.push(n);
    else {
      indices.push(i);
      from = i + 1;
    }
  });
  return { indices, missing };
}

/**
 * A copy of a classic pcap file with every timestamp moved by whole seconds (only ts_sec changes:
 * exact at any resolution).
 */
/** A record header starts with ts_sec (pcap-savefile(5)). */
const TS_SEC_OFF = 0;

export function shiftPcapSeconds(bytes: Uint8Array, deltaSec: number): Uint8Array {
  const { header, packets } = readPcap(bytes);
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const le = header.byteOrder === 'le';
  for (const p of packets) view.setUint32(p.offset + TS_SEC_OFF, (view.getUint32(p.offset + TS_SEC_OFF, le) + deltaSec) >>> 0, le);
  return out;
}

/**
 * The kernel's run folder again, its captures moved onto podwire's clock: `dest`. The injected
 * frames carry podwire's virtual time where a program writes its clock into a packet (ping's
 * echo payload starts with gettimeofday), and the signatures read such a timestamp as tshark does —
 * as one only when it is within a day of the capture's own time. On the kernel's wall-clock
 * captures podwire's 2026 timestamps would read as plain data; on podwire's clock they read as on
 * podwire's side. Nothing else in a signature depends on the capture's absolute time.
 */
function rebaseRunFolder(src: string, dest: string, deltaSec: number): void {
  const { interfaces } = JSON.parse(readFileSync(join(src, 'interfaces.json'), 'utf8')) as { interfaces: InterfaceRecord[] };
  mkdirSync(dest, { recursive: true });
  copyFileSync(join(src, 'run.json'), join(dest, 'run.json'));
  copyFileSync(join(src, 'interfaces.json'), join(dest, 'interfaces.json'));
  for (const i of interfaces) {
    const from = join(src, i.file);
    if (!existsSync(from)) continue;
    mkdirSync(dirname(join(dest, i.file)), { recursive: true });
    writeFileSync(join(dest, i.file), shiftPcapSeconds(readFileSync(from), deltaSec));
  }
}

/** The injector program: dist's, also when this module runs from source (vitest). */
function injectorPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'replay-injector.js');
  return resolve(dirname(here), '../../dist/src/parity/replay-injector.js');
}

/** The least gap between two injected frames, and the time the injectors are given to start. */
const MIN_GAP_MS = 20;
const START_DELAY_MS = 2000;

export interface ReplayOptions extends Omit<ParityOptions, 'traffic'> {
  /** Changes a frame before it is injected (the tests' corrupted frame); undefined keeps it. */
  readonly alter?: (frame: SelectedFrame) => Uint8Array | undefined;
}

export interface ReplayResult {
  readonly parity: ParityResult;
  /** The interface comparison, the kernel's captures on podwire's clock (rebaseRunFolder); undefined when nothing ran. */
  readonly report: CompareReport | undefined;
  readonly injected: number;
  readonly verdicts: readonly FrameVerdict[];
  readonly skipped: readonly SkippedFrame[];
  readonly own: ReadonlyMap<string, OwnStack>;
  /** Injected frames the kernel's capture does not show, or injectors that failed. */
  readonly problems: readonly string[];
  /** Undefined when the interface comparison counts; else why it does not. */
  readonly interfacesNotCompared: string | undefined;
  readonly ok: boolean;
}

/** The pods that inject, their interfaces, and what each injects. */
interface Injection {
  readonly netns: string;
  readonly pod: string;
  readonly points: { readonly point: string; readonly iface: string; readonly mac: MacAddr; readonly frames: SelectedFrame[]; readonly bytes: Uint8Array[] }[];
}

class ReplayTraffic implements KernelTraffic {
  injections: Injection[] = [];
  skipped: SkippedFrame[] = [];
  startNs = 0n;
  /** Wall-clock ms of the injectors' offset 0. */
  startAtMs = 0;
  problems: string[] = [];

  constructor(
    private readonly spec: ScenarioSpec,
    private readonly alter: ReplayOptions['alter'],
  ) {}

  prepare(ctx: KernelTrafficPrepare): readonly string[] {
    this.startNs = BigInt(ctx.run.epochSec) * 1_000_000_000n + BigInt(ctx.run.trafficStartNs);
    const pods = new Map<string, string>();
    for (const s of this.spec.steps) {
      if (s.kind !== 'exec') continue;
      const netns = ctx.podNetns(s.namespace, s.pod);
      if (netns !== undefined) pods.set(netns, `${s.namespace}/${s.pod}`);
    }
    let budget = MAX_INJECTED_FRAMES;
    for (const [netns, pod] of pods) {
      const points: Injection['points'][number][] = [];
      for (const [point, rec] of ctx.records) {
        if (rec.netns !== netns) continue;
        const sel = selectFrames(point, podFrames(ctx.podwireDir, rec), this.startNs, { frames: budget, spanNs: BigInt(MAX_REPLAY_SECONDS) * 1_000_000_000n });
        budget -= sel.selected.length;
        this.skipped.push(...sel.skipped);
        if (sel.selected.length === 0) continue;
        const bytes = sel.selected.map((f) => this.alter?.(f) ?? f.data);
        points.push({ point, iface: rec.name, mac: parseMac(rec.mac), frames: sel.selected, bytes });
      }
      if (points.length > 0) this.injections.push({ netns, pod, points });
    }
    if (this.injections.length === 0) return ["not realizable here: --replay: no pod running the scenario's commands sent a replayable frame (ARP request, ICMP query, UDP, TCP SYN) in podwire's run"];
    return [];
  }

  async run(ctx: KernelTrafficRun): Promise<void> {
    const dir = join(ctx.kernelDir, 'replay');
    mkdirSync(dir, { recursive: true });
    const startAtMs = Date.now() + START_DELAY_MS;
    this.startAtMs = startAtMs;
    const children: { child: ChildProcess; netns: string; log: string }[] = [];
    for (const inj of this.injections) {
      const frames = inj.points
        .flatMap((p) => p.frames.map((f, n) => ({ iface: p.iface, offsetNs: f.offsetNs, hex: Buffer.from(p.bytes[n]!).toString('hex') })))
        .sort((a, b) => a.offsetNs - b.offsetNs);
      const maxSeconds = MAX_REPLAY_SECONDS + 10;
      const plan: InjectorPlan = { startAtMs, minGapMs: MIN_GAP_MS, maxSeconds, frames };
      const planFile = join(dir, `${inj.netns}.json`);
      writeFileSync(planFile, `${JSON.stringify(plan)}\n`);
      const log = join(dir, `${inj.netns}.log`);
      const bound = Math.ceil(START_DELAY_MS / 1000 + maxSeconds + 5);
      const argv = ['ip', 'netns', 'exec', `${ctx.prefix}-${inj.netns}`, ...pinned(0, ['timeout', '-s', 'KILL', String(bound), process.execPath, injectorPath(), planFile])];
      children.push({ child: startInjector(ctx.res, argv, dir, log), netns: inj.netns, log });
      ctx.log(`kernel: replay: ${frames.length} frames into ${inj.pod} (${inj.points.map((p) => p.iface).join(', ')})`);
    }
    const codes = await Promise.all(children.map((c) => exited(c.child)));
    codes.forEach((code, i) => {
      const c = children[i]!;
      if (code !== 0) {
        const text = existsSync(c.log) ? readFileSync(c.log, 'utf8').trim().split('\n').filter((l) => !l.startsWith('{')).join(' | ') : '';
        throw new KernelCommandError(`replay injector in ${ctx.prefix}-${c.netns} exited ${String(code)}: ${text} (log: ${c.log})`);
      }
    });
  }
}

function startInjector(res: KernelResources, argv: string[], cwd: string, logFile: string): ChildProcess {
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: cwd, LANG: 'C.UTF-8' };
  return res.startProcess(argv, { cwd, env, logFile });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

/** Runs the replay: parity's build with the injection as its traffic, then the verdicts. */
export async function runReplay(spec: ScenarioSpec, opts: ReplayOptions): Promise<ReplayResult> {
  const cap = loadCap();
  if (!cap.ok) throw new ParityUnavailable(capMissing(cap.reason));
  const traffic = new ReplayTraffic(spec, opts.alter);
  const { alter: _alter, ...parityOpts } = opts;
  const parity = await runParity(spec, { ...parityOpts, traffic });
  const empty = { parity, report: undefined, injected: 0, verdicts: [], skipped: traffic.skipped, own: new Map<string, OwnStack>(), problems: [], interfacesNotCompared: 'nothing was run on the kernel', ok: false };
  if (parity.report === undefined) return empty;

  const podwireDir = join(parity.outDir, 'podwire');
  const kernelDir = join(parity.outDir, 'kernel');
  const rebasedDir = join(parity.outDir, 'kernel-on-podwire-clock');
  const deltaSec = Math.round(Number(traffic.startNs / 1_000_000n - BigInt(traffic.startAtMs)) / 1000);
  rebaseRunFolder(kernelDir, rebasedDir, deltaSec);
  const report = compareRunFolders(rebasedDir, podwireDir, { scenario: parity.scenario });
  writeFileSync(join(parity.outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const kernel = readCaptures(kernelDir);
  const podwire = readCaptures(podwireDir);
  const verdicts: FrameVerdict[] = [];
  const problems: string[] = [...traffic.problems];
  const own = new Map<string, OwnStack>();
  let injected = 0;
  const explainedAny: string[] = [];
  for (const inj of traffic.injections) {
    for (const p of inj.points) {
      injected += p.frames.length;
      // podwire's run may have been re-run to follow the kernel's endpoint choices: its frames
      // are found again by their bytes (the client's side does not depend on that choice).
      const pwFrames = podwire.get(p.point) ?? [];
      const pw = locateInjected(pwFrames, p.frames.map((f) => f.data));
      const kf = kernel.get(p.point) ?? [];
      const k = locateInjected(kf, p.bytes);
      for (const n of pw.missing) problems.push(`${p.point}: podwire's frame #${p.frames[n]!.index + 1} (${p.frames[n]!.what}) is not in the compared run`);
      for (const n of k.missing) problems.push(`${p.point}: injected frame #${p.frames[n]!.index + 1} (${p.frames[n]!.what}) is not in the kernel's capture`);
      if (pw.missing.length > 0 || k.missing.length > 0) continue;
      const kAt: InjectPoint = { point: p.point, pod: inj.pod, mac: p.mac, injected: k.indices };
      const pAt: InjectPoint = { point: p.point, pod: inj.pod, mac: p.mac, injected: pw.indices };
      const kr = reactions(kernel, kAt);
      const pr = reactions(podwire, pAt);
      p.frames.forEach((f, n) => {
        const c = compareReactions(kr[n]!, pr[n]!);
        verdicts.push({ point: p.point, frame: f.index + 1, what: f.what, kernel: kr[n]!, podwire: pr[n]!, same: c.same, differences: c.differences });
      });
      const ownStack = compareOwnStacks({ frames: ownFrames(kf, kAt, 0n), injectedFrames: p.bytes }, { frames: ownFrames(pwFrames, pAt, traffic.startNs) }, inj.pod.split('/')[1] ?? inj.pod);
      own.set(p.point, ownStack);
      explainedAny.push(...ownStack.explained);
    }
  }
  const spoiling = traffic.skipped.filter((s) => s.spoils);
  const interfacesNotCompared =
    spoiling.length > 0
      ? `${spoiling.length} frame${spoiling.length === 1 ? '' : 's'} the pods sent could not be injected (${[...new Set(spoiling.map((s) => s.reason))].join('; ')})`
      : explainedAny.length > 0
        ? "the injecting pods' own kernels answered frames podwire's applications took (no sockets on the kernel side)"
        : undefined;
  const ok =
    parity.notRealizable.length === 0 &&
    problems.length === 0 &&
    verdicts.length > 0 &&
    verdicts.every((v) => v.same) &&
    [...own.values()].every((o) => o.differences.length === 0) &&
    (interfacesNotCompared !== undefined || report.ok);
  return { parity, report, injected, verdicts, skipped: traffic.skipped, own, problems, interfacesNotCompared, ok };
}

/** The replay's report: one line per injected frame, what was skipped, the pods' own frames, a summary. */
export function formatReplay(r: ReplayResult): string[] {
  const lines: string[] = r.verdicts.map(formatVerdict);
  const byReason = new Map<string, SkippedFrame[]>();
  for (const s of r.skipped) byReason.set(`${s.point}: ${s.reason}`, [...(byReason.get(`${s.point}: ${s.reason}`) ?? []), s]);
  for (const [key, list] of byReason) lines.push(`not injected: ${key}: ${list.length} frame${list.length === 1 ? '' : 's'} (#${list.map((s) => s.index + 1).join(', #')})`);
  for (const o of r.own.values()) {
    for (const e of o.explained) lines.push(`explained: ${e}`);
    for (const a of o.alike) lines.push(`alike: ${a}`);
    for (const d of o.differences) lines.push(`DIFFER: ${d}`);
  }
  for (const p of r.problems) lines.push(`problem: ${p}`);
  const differ = r.verdicts.filter((v) => !v.same).length;
  const rep = r.report;
  const ifaces = rep === undefined ? 'not run' : `${rep.points.filter((p) => p.status !== 'differ').length}/${rep.points.length} interfaces match${r.interfacesNotCompared !== undefined ? ` (not counted: ${r.interfacesNotCompared})` : ''}`;
  lines.push(`replay: ${r.injected} frames injected, ${r.verdicts.length - differ} same reaction, ${differ} different; ${ifaces}`);
  return lines;
}
