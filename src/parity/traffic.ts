/**
 * A scenario's traffic steps as commands the real tools run inside the kernel's namespaces, or the
 * reason one cannot be run here. This increment realizes `kubectl exec POD -- ping …` with the real
 * iputils ping, `kubectl exec POD -- curl …` with the real curl (plain http:// to an IPv4
 * address, localhost or — in a pod, whose resolv.conf and hosts parity binds — a name; bounded,
 * writing no file), the DNS clients dig, nslookup, getent and podwire's getaddrinfo probe
 * (traffic-dns.ts), `nc` with the real netcat-openbsd
 * (traffic-nc.ts), podwire's probe `udp-send` with its kernel-side equivalent
 * (stand-ins/udp-send.ts), `sleep N` as a real sleep, and kubectl's read-only views as no-ops (they put nothing on the wire); anything else is reported as not realizable, never as passed.
 */
import type { StepSpec } from '../scenario/spec.js';
import { planUdpSend } from './stand-ins/udp-send.js';
import { DNS_TOOLS, planDnsClient } from './traffic-dns.js';
import { planNcClient } from './traffic-nc.js';
import { planLink, planPodsStep, planReadOnlyTool, planSsh, READ_ONLY_TOOLS, type KernelLinkStep, type KernelPodsStep, type StepModels } from './traffic-steps.js';

interface StepCommon {
  readonly index: number;
  readonly text: string;
  /** Virtual time to wait before the step (the scenario's `wait:`). */
  readonly waitNs: number;
}

/** A program run in a pod's namespace. */
export interface KernelCommandStep extends StepCommon {
  readonly kind: 'command';
  /** podwire's netns of the pod the command runs in. */
  readonly netns: string;
  /** The program and its arguments, as the scenario gives them. */
  readonly argv: readonly string[];
  /** What the command reads on standard input (`stdin:` in the scenario). */
  readonly stdin: string | undefined;
  /** Wall-clock bound on the command (it is killed after it, as timeout(1) would). */
  readonly timeoutSec: number;
  /**
   * The pod whose container the command runs in (`kubectl exec`): its /etc/resolv.conf and
   * /etc/hosts are bound over the machine's for the command. undefined: a node or host (ssh).
   */
  readonly pod?: { readonly namespace: string; readonly name: string; readonly container: string | undefined };
}

/** `sleep N`: a real sleep of that long. */
export interface KernelSleepStep extends StepCommon {
  readonly kind: 'sleep';
  readonly durationNs: number;
}

/** `kubectl get|describe|logs …`: a view of the API, nothing on the wire; not run on the kernel. */
export interface KernelViewStep extends StepCommon {
  readonly kind: 'view';
}

export type KernelStep = KernelCommandStep | KernelSleepStep | KernelViewStep | KernelLinkStep | KernelPodsStep;

export type StepPlan = { readonly ok: true; readonly step: KernelStep } | { readonly ok: false; readonly reason: string };

const NO_NAMES: Where = { names: false };

/** The most a ping may send (-c) and the longest it may run: traffic stays bounded. */
const MAX_PING_COUNT = 100;
const MAX_PING_SECONDS = 60;

/** ping's options that take a value (iputils 20221126, ping.c's getopt string). */
const PING_VALUE_OPTIONS = new Set(['-c', '-i', '-s', '-t', '-W', '-w', '-I', '-M', '-l', '-p', '-Q', '-m', '-F', '-S', '-e']);

/** -c N, and the whole argv, checked so that the ping ends by itself; a reason when it would not. */
function planPing(argv: readonly string[]): { timeoutSec: number } | string {
  let count: number | undefined;
  let interval = 1;
  let deadline: number | undefined;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') continue;
    const key = a.slice(0, 2);
    const inline = a.length > 2 ? a.slice(2) : undefined;
    if (key === '-f') return 'ping -f (flood) is not bounded traffic';
    if (!PING_VALUE_OPTIONS.has(key)) continue;
    const value = inline ?? argv[++i];
    if (value === undefined) return `ping ${key} without a value`;
    if (key === '-c') count = Number(value);
    if (key === '-i') interval = Number(value);
    if (key === '-w') deadline = Number(value);
    if (key === '-l') return 'ping -l (preload) sends without waiting';
  }
  if (count === undefined || !Number.isInteger(count) || count < 1 || count > MAX_PING_COUNT) {
    return `ping needs -c with a count from 1 to ${MAX_PING_COUNT} (bounded traffic)`;
  }
  if (!Number.isFinite(interval) || interval <= 0) return 'ping -i must be a positive number';
  const seconds = Math.ceil(Math.min(deadline ?? Infinity, count * interval + 10));
  if (seconds > MAX_PING_SECONDS) return `ping would run up to ${seconds} s (more than ${MAX_PING_SECONDS})`;
  return { timeoutSec: seconds };
}

/** The longest `sleep N` step parity runs (traffic stays bounded in time). */
const MAX_SLEEP_SECONDS = 60;
/** curl's bound per URL when the step gives no --max-time (curl's own connect timeout is 300 s). */
const DEFAULT_CURL_SECONDS = 30;
const MAX_CURL_SECONDS = 60;

/**
 * curl 7.88.1's options parity lets through, and whether each takes a value (src/tool_listhelp.c).
 * Anything else — above all what reads or writes files of this machine (-o FILE, -O, -T, -K, -c,
 * --trace, -d @FILE) or sends the traffic elsewhere (-x, --resolve, --connect-to, --interface) — is
 * reported as not realizable here rather than run.
 */
const CURL_FLAGS = new Set(['-s', '--silent', '-S', '--show-error', '-v', '--verbose', '-i', '--include', '-I', '--head',
  '-L', '--location', '-f', '--fail', '--fail-with-body', '-4', '--ipv4', '-0', '--http1.0', '--http1.1', '-N', '--no-buffer',
  '-g', '--globoff', '--no-keepalive', '--tcp-nodelay', '--compressed', '-#', '--progress-bar', '--raw', '--no-progress-meter']);
const CURL_VALUES = new Set(['-o', '--output', '-w', '--write-out', '-H', '--header', '-X', '--request', '-d', '--data',
  '--data-raw', '--data-binary', '--data-ascii', '--data-urlencode', '-m', '--max-time', '--connect-timeout', '-A', '--user-agent',
  '-e', '--referer', '-u', '--user', '-r', '--range', '--url', '-D', '--dump-header', '--local-port', '--limit-rate']);
const CURL_SHORT_VALUES = new Set([...CURL_VALUES].filter((o) => /^-\w$/.test(o)).map((o) => o[1]!));
const CURL_SHORT_FLAGS = new Set([...CURL_FLAGS].filter((o) => /^-[\w#]$/.test(o)).map((o) => o[1]!));
// `localhost` too: curl resolves it itself to the loopback addresses (hostip.c, get_localhost),
// never through the pod's resolv.conf, and the traffic stays on the pod's own lo.
const IPV4_URL = /^(?:http:\/\/)?(?:\d{1,3}(?:\.\d{1,3}){3}|localhost)(?::\d{1,5})?(?:[/?#][^[\]{}]*)?$/i;
/** A host name (RFC 1123 labels, an optional trailing dot): curl asks glibc, which reads the pod's bound resolv.conf. */
const NAME_URL = /^(?:http:\/\/)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.?(?::\d{1,5})?(?:[/?#][^[\]{}]*)?$/i;

/** Where a step runs: a pod has the kubelet's resolv.conf and hosts (bound for it); a node or host has none in the scenario. */
export interface Where {
  readonly names: boolean;
}

/** Checks a curl command line; its wall-clock bound, or why it is not run here. */
function planCurl(argv: readonly string[], where: Where): { timeoutSec: number } | string {
  const urls: string[] = [];
  let maxTime: number | undefined;
  const value = (opt: string, v: string | undefined): string | undefined => {
    if (v === undefined) return `curl ${opt} without a value`;
    if ((opt === '-o' || opt === '--output' || opt === '-D' || opt === '--dump-header') && v !== '/dev/null' && v !== '-') return `curl ${opt} ${v} would write a file on this machine`;
    if (opt.startsWith('-d') || opt.startsWith('--data')) if (v.startsWith('@') && v !== '@-') return `curl ${opt} ${v} would read a file of this machine`;
    if ((opt === '-w' || opt === '--write-out') && v.startsWith('@') && v !== '@-') return `curl ${opt} ${v} would read a file of this machine`;
    if (opt === '-m' || opt === '--max-time') maxTime = Number(v);
    if (opt === '--url') urls.push(v);
    return undefined;
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      if (CURL_FLAGS.has(a)) continue;
      if (!CURL_VALUES.has(a)) return `curl ${a} (not an option parity runs)`;
      const bad = value(a, argv[++i]);
      if (bad !== undefined) return bad;
    } else if (a.startsWith('-') && a.length > 1) {
      // Short options bundle (-sS, -so FILE, -m5): a value option takes the rest or the next word.
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (CURL_SHORT_FLAGS.has(c)) continue;
        if (!CURL_SHORT_VALUES.has(c)) return `curl -${c} (not an option parity runs)`;
        const bad = value(`-${c}`, j + 1 < a.length ? a.slice(j + 1) : argv[++i]);
        if (bad !== undefined) return bad;
        break;
      }
    } else urls.push(a);
  }
  if (urls.length === 0) return 'curl without a URL';
  for (const u of urls) {
    if (IPV4_URL.test(u)) continue;
    if (!NAME_URL.test(u)) return `curl ${u} (only http:// to an IPv4 address, localhost or a host name, no globbing)`;
    if (!where.names) return `curl ${u} (a name where the scenario gives no resolv.conf: only an IPv4 address or localhost)`;
  }
  if (maxTime !== undefined && !(Number.isFinite(maxTime) && maxTime > 0)) return 'curl --max-time must be a positive number';
  const seconds = Math.ceil(urls.length * (maxTime ?? DEFAULT_CURL_SECONDS)) + 2;
  if (seconds > MAX_CURL_SECONDS) return `curl would run up to ${seconds} s (more than ${MAX_CURL_SECONDS})`;
  return { timeoutSec: seconds };
}

/**
 * A program's wall-clock bound, and the argv the kernel runs when it is not the step's own (the
 * stand-ins of udp-send and getaddrinfo, the DNS tools by path), or why parity does not run it.
 */
export function programBound(argv: readonly string[], where: Where = { names: true }): { timeoutSec: number; argv?: readonly string[] } | string {
  const program = argv[0];
  if (program === 'ping') return planPing(argv);
  if (program === 'curl') return planCurl(argv, where);
  if (program !== undefined && DNS_TOOLS.has(program)) {
    if (!where.names) return `${program} where the scenario gives no resolv.conf (a node or host: this machine's must not answer)`;
    return planDnsClient(argv) ?? `${program}`;
  }
  if (program === 'nc') return planNcClient(argv);
  if (program === 'udp-send') return planUdpSend(argv);
  if (program !== undefined && READ_ONLY_TOOLS.has(program)) return planReadOnlyTool(argv);
  return `${program ?? 'an empty command'} (only ping, curl, nc, udp-send, dig, nslookup, getent, getaddrinfo, ip (show), netstat and ss so far)`;
}

/**
 * The kernel step for one scenario step. `netnsOfPod` is podwire's netns name of a pod; `models`
 * (traffic-steps.ts) is podwire's model around the step, for ssh, link and pod-changing steps.
 */
export function planStep(step: StepSpec, netnsOfPod: (namespace: string, name: string) => string | undefined, models?: StepModels): StepPlan {
  const where = `step ${step.index + 1} (${step.text})`;
  const common = { index: step.index, text: step.text, waitNs: step.waitNs };
  if (step.kind === 'kubectl-view') return { ok: true, step: { ...common, kind: 'view' } };
  if (step.kind === 'sleep') {
    if (step.durationNs > MAX_SLEEP_SECONDS * 1e9) return { ok: false, reason: `${where}: a sleep longer than ${MAX_SLEEP_SECONDS} s` };
    return { ok: true, step: { ...common, kind: 'sleep', durationNs: step.durationNs } };
  }
  if (models !== undefined && step.kind === 'ssh') {
    const netns = models.before.plan.namespaces.some((n) => n.model === step.host) ? step.host : undefined;
    const p = planSsh(step, () => netns, (argv) => programBound(argv, NO_NAMES));
    if (typeof p === 'string') return { ok: false, reason: `${where}: ${p}` };
    return { ok: true, step: { ...common, kind: 'command', netns: p.netns, argv: step.argv, stdin: step.stdin, timeoutSec: p.timeoutSec } };
  }
  if (models !== undefined && step.kind === 'link') {
    const p = planLink(step, models.before.records.values());
    if (typeof p === 'string') return { ok: false, reason: `${where}: ${p}` };
    return { ok: true, step: { ...common, kind: 'link', ...p, up: step.up } };
  }
  if (models !== undefined && (step.kind === 'run' || step.kind === 'apply' || step.kind === 'delete-pod')) {
    // A pod started mid-run runs its program in the background without its files bound: no names.
    const p = planPodsStep(step, models, (argv) => programBound(argv, NO_NAMES));
    if (typeof p === 'string') return { ok: false, reason: `${where}: ${p}` };
    return { ok: true, step: { ...common, kind: 'pods', ...p } };
  }
  if (step.kind !== 'exec') return { ok: false, reason: `${where}: ${step.kind} steps` };
  const program = step.argv[0];
  const bound = programBound(step.argv);
  if (typeof bound === 'string') return { ok: false, reason: `${where}: ${bound}` };
  const netns = netnsOfPod(step.namespace, step.pod);
  if (netns === undefined) return { ok: false, reason: `${where}: pod ${step.namespace}/${step.pod} does not exist at the first traffic step` };
  const pod = { namespace: step.namespace, name: step.pod, container: step.container };
  return { ok: true, step: { ...common, kind: 'command', netns, argv: bound.argv ?? step.argv, stdin: step.stdin, timeoutSec: bound.timeoutSec, pod } };
}
