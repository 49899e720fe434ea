/**
 * The scenario loader: YAML text → ScenarioSpec. A scenario file is a stream of YAML documents —
 * a podwire Cluster, Kubernetes Nodes and Pods written as users write them, and a Traffic list of
 * command lines. Every value is checked where it stands: the loader walks the YAML syntax tree
 * (the `yaml` package's Document API) rather than plain JS objects, so each message names the
 * line and column of the value it is about and its path (`pods[pb].spec.nodeName`). Text nested
 * in a string — a CNI config given as JSON, the manifest fed to `kubectl apply -f -` — is parsed
 * in turn and its positions are mapped back into the file.
 *
 * The only exception that leaves this module is ScenarioError, whatever the input.
 */
import { readFileSync } from 'node:fs';
import { Document, LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Scalar, type YAMLMap } from 'yaml';
import { bridgeConfigFromPlugin, type BridgeConfig, type JsonObject } from '../k8s/cni/config.js';
import { CniError } from '../k8s/cni/cni-error.js';
import type { ProbeAction, ProbeSpec } from '../k8s/kubelet/probe.js';
import { formatIpv4Cidr } from '../k8s/ipv4-range.js';
import { VETH_DELAY_NS } from '../net/veth.js';
import { formatIpv4, parseIpv4 } from '../packet/index.js';
import {
  cidrContains,
  cidrContainsCidr,
  cidrLast,
  cidrsOverlap,
  formatCidr,
  parseCidr,
  subnetAt,
  type Cidr,
} from './cidr.js';
import { ScenarioError, type SourcePos } from './errors.js';
import {
  DNS_POLICIES,
  OVERLAY_MODES,
  PORT_PROTOCOLS,
  RESTART_POLICIES,
  type AddressSpec,
  type CidrSpec,
  type ClusterSpec,
  type ConfigMapSpec,
  type ContainerPortSpec,
  type ContainerSpec,
  type HostSpec,
  type LinkSpec,
  type NamedLinkSpec,
  type UnderlaySpec,
  type DnsPolicy,
  type EnvVarSpec,
  type JsonValue,
  type NodeSpec,
  type OverlayMode,
  type PodSpec,
  type PortProtocol,
  type RestartPolicy,
  type ScenarioSpec,
  type ServicePortSpec,
  type ServiceSpec,
  SERVICE_TYPES,
  type StepSpec,
  type VolumeMountSpec,
  type VolumeSpec,
} from './spec.js';
import { CommandLineError, parseCommandLine, parseDuration, type ParsedCommand, type ParsedRun } from './steps.js';

export const PODWIRE_API_VERSION = 'podwire.dev/v1alpha1';

/** Reads and loads a scenario file; a file that cannot be read is a ScenarioError without a line. */
export function loadScenarioFile(path: string): ScenarioSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ScenarioError(path, undefined, undefined, '', `cannot read the scenario: ${describeFsError(e)}`);
  }
  return loadScenarioText(text, path);
}

function describeFsError(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}

/** Loads scenario text; `file` is the name used in messages and kept in the spec. */
export function loadScenarioText(text: string, file: string): ScenarioSpec {
  const origin = fileOrigin(file, text);
  const docs = parseYamlStream(origin, '');
  const draft: Draft = { clusters: [], nodes: [], hosts: [], pods: [], configMaps: [], services: [], traffic: [] };
  docs.forEach((doc, i) => readDocument(draft, doc, i));
  return resolve(file, draft);
}

// ─── Positions ──────────────────────────────────────────────────────────────────────────────

/** Where a text being parsed comes from: the file itself, or a string value inside it. */
interface Origin {
  readonly file: string;
  readonly text: string;
  /** Position in the file of an offset in `text`. */
  posAt(offset: number): SourcePos;
}

function fileOrigin(file: string, text: string): Origin {
  const lc = new LineCounter();
  let at = 0;
  for (;;) {
    lc.addNewLine(at);
    const nl = text.indexOf('\n', at);
    if (nl < 0) break;
    at = nl + 1;
  }
  return {
    file,
    text,
    posAt: (offset) => {
      const p = lc.linePos(Math.max(0, Math.min(offset, text.length)));
      return { file, line: p.line, column: p.col };
    },
  };
}

/**
 * The origin of a string value's text, so that positions in a JSON config or an inline manifest
 * point into the file. A literal block scalar (`|`) keeps its lines one for one, shifted by the
 * indentation; a one-line plain or quoted scalar without escapes maps character for character;
 * anything else (folded, escaped) maps every offset to where the value starts.
 */
function valueOrigin(outer: Origin, node: Scalar): Origin {
  const value = typeof node.value === 'string' ? node.value : '';
  const start = node.range?.[0] ?? 0;
  const end = node.range?.[1] ?? start;
  let toOuter: (offset: number) => number = () => start;
  if (node.type === 'BLOCK_LITERAL') {
    const headerEnd = outer.text.indexOf('\n', start);
    if (headerEnd >= 0 && headerEnd < end) {
      const outerLines: number[] = [];
      for (let at = headerEnd + 1; at < end; ) {
        outerLines.push(at);
        const nl = outer.text.indexOf('\n', at);
        if (nl < 0) break;
        at = nl + 1;
      }
      // The block's indentation is that of its first line with text (YAML 1.2 §8.1.1.1).
      const lineOf = (start: number) => {
        const nl = outer.text.indexOf('\n', start);
        return outer.text.slice(start, nl < 0 ? undefined : nl);
      };
      const firstText = outerLines.map(lineOf).find((l) => /[^ \r]/.test(l));
      const indent = firstText === undefined ? 0 : firstText.length - firstText.trimStart().length;
      const valueLines = lineStarts(value);
      toOuter = (offset) => {
        let k = 0;
        while (k + 1 < valueLines.length && valueLines[k + 1]! <= offset) k++;
        const lineStart = outerLines[Math.min(k, outerLines.length - 1)];
        return lineStart === undefined ? start : lineStart + indent + (offset - valueLines[k]!);
      };
    }
  } else if (!value.includes('\n')) {
    const skip = node.type === 'PLAIN' ? 0 : node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE' ? 1 : -1;
    if (skip >= 0 && outer.text.slice(start + skip, start + skip + value.length) === value) {
      toOuter = (offset) => start + skip + offset;
    }
  }
  return { file: outer.file, text: value, posAt: (offset) => outer.posAt(toOuter(Math.max(0, Math.min(offset, value.length)))) };
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

// ─── Walking the YAML tree ──────────────────────────────────────────────────────────────────

/** One document being read: positions come from its origin, aliases resolve in it. */
class Ctx {
  constructor(
    readonly origin: Origin,
    readonly doc: Document,
    /** Offset used for nodes without a range (a JSON config re-parsed without positions). */
    readonly fallbackOffset: number,
  ) {}

  pos(node: unknown): SourcePos {
    const range = (node as { range?: unknown } | null | undefined)?.range;
    const offset = Array.isArray(range) && typeof range[0] === 'number' ? range[0] : this.fallbackOffset;
    return this.origin.posAt(offset);
  }

  fail(node: unknown, path: string, reason: string): never {
    const p = this.pos(node);
    throw new ScenarioError(p.file, p.line, p.column, path, reason);
  }
}

function failAt(pos: SourcePos, path: string, reason: string): never {
  throw new ScenarioError(pos.file, pos.line, pos.column, path, reason);
}

/** Parses a YAML stream; the first syntax error (or warning) is a ScenarioError. */
function parseYamlStream(origin: Origin, path: string): Ctx[] {
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(origin.text, { prettyErrors: false, uniqueKeys: true, strict: true });
  } catch (e) {
    // The parser recurses per nesting level: input nested thousands deep overflows the stack.
    const p = origin.posAt(0);
    throw new ScenarioError(p.file, p.line, p.column, path, `cannot parse the YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
  const problems = 'empty' in docs ? [...docs.errors, ...docs.warnings] : docs.flatMap((d) => [...d.errors, ...d.warnings]);
  const first = problems[0];
  if (first) {
    const p = origin.posAt(first.pos[0]);
    const what = first.name === 'YAMLWarning' ? 'YAML' : 'YAML syntax';
    throw new ScenarioError(p.file, p.line, p.column, path, `${what}: ${first.message}`);
  }
  if ('empty' in docs) return [];
  return docs.map((d) => new Ctx(origin, d, 0));
}

function deref(cx: Ctx, node: unknown, path: string): unknown {
  let n = node;
  for (let hops = 0; isAlias(n); hops++) {
    const target = hops < 64 ? n.resolve(cx.doc) : undefined;
    if (!target) cx.fail(n, path, `alias *${n.source} has no anchor`);
    n = target;
  }
  return n;
}

/** Whether the value is absent: no node, or an explicit null (`key:` or `key: null`). */
function isAbsent(cx: Ctx, node: unknown, path: string): boolean {
  const n = deref(cx, node, path);
  return n === null || n === undefined || (isScalar(n) && n.value === null);
}

function describeNode(n: unknown): string {
  if (isMap(n)) return 'a mapping';
  if (isSeq(n)) return 'a list';
  if (isScalar(n)) {
    const v = n.value;
    if (v === null) return 'empty';
    if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
    if (typeof v === 'number' || typeof v === 'boolean') return `the ${typeof v} ${String(v)}`;
  }
  return 'something else';
}

interface Entry {
  readonly key: Scalar;
  readonly value: unknown;
}

/** A YAML mapping with string keys, read field by field. */
class MapView {
  readonly entries = new Map<string, Entry>();

  constructor(
    readonly cx: Ctx,
    readonly node: YAMLMap,
    readonly path: string,
  ) {
    for (const item of node.items) {
      const k = deref(cx, item.key, path);
      if (!isScalar(k) || !['string', 'number', 'boolean'].includes(typeof k.value)) {
        cx.fail(k ?? node, path, 'a key must be a plain string');
      }
      // Kubernetes reads YAML through JSON, where every key is a string (sigs.k8s.io/yaml).
      this.entries.set(String(k.value), { key: k, value: item.value });
    }
  }

  at(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  /** The value node, or undefined when the key is absent or null. */
  get(key: string): unknown {
    const e = this.entries.get(key);
    if (!e || isAbsent(this.cx, e.value, this.at(key))) return undefined;
    return deref(this.cx, e.value, this.at(key));
  }

  /** Where to point for a key: the key itself, or the mapping when the key is missing. */
  where(key: string): unknown {
    return this.entries.get(key)?.key ?? this.node;
  }

  /** An error about a key's value: at the value, or at the key when the value is empty. */
  fail(key: string, reason: string): never {
    return this.cx.fail(this.get(key) ?? this.where(key), this.at(key), reason);
  }

  require(key: string, reason = 'is required'): unknown {
    const v = this.get(key);
    if (v === undefined) this.cx.fail(this.where(key), this.at(key), reason);
    return v;
  }

  /** Rejects keys not in `known` (kubectl's strict field validation), suggesting a near one. */
  only(known: readonly string[]): void {
    for (const [k, e] of this.entries) {
      if (known.includes(k)) continue;
      const lower = k.toLowerCase();
      const near = known.find((c) => editDistance(c.toLowerCase(), lower) <= 2 || (lower.length >= 4 && c.toLowerCase().startsWith(lower)));
      this.cx.fail(e.key, this.at(k), `unknown field${near ? ` (did you mean ${near}?)` : ''}`);
    }
  }

  str(key: string): string | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : readStr(this.cx, v, this.at(key));
  }

  int(key: string, min: number, max: number): number | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : readInt(this.cx, v, this.at(key), min, max);
  }

  bool(key: string): boolean | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : readBool(this.cx, v, this.at(key));
  }

  map(key: string): MapView | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : readMap(this.cx, v, this.at(key));
  }

  seq(key: string): unknown[] | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : readSeq(this.cx, v, this.at(key));
  }

  /** A key that names something podwire does not model yet: an error unless it is off/empty. */
  notYet(key: string, what: string): void {
    const v = this.get(key);
    if (v === undefined) return;
    const off = (isScalar(v) && (v.value === false || v.value === 0 || v.value === '')) || ((isSeq(v) || isMap(v)) && v.items.length === 0);
    if (!off) this.cx.fail(this.entries.get(key)!.key, this.at(key), `${what} is not supported yet`);
  }
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function readMap(cx: Ctx, node: unknown, path: string, what = 'must be a mapping'): MapView {
  const n = deref(cx, node, path);
  if (!isMap(n)) cx.fail(n ?? node, path, `${what}, not ${describeNode(n)}`);
  return new MapView(cx, n, path);
}

function readSeq(cx: Ctx, node: unknown, path: string): unknown[] {
  const n = deref(cx, node, path);
  if (!isSeq(n)) cx.fail(n, path, `must be a list, not ${describeNode(n)}`);
  return n.items;
}

function readStr(cx: Ctx, node: unknown, path: string): string {
  const n = deref(cx, node, path);
  if (isScalar(n) && typeof n.value === 'string') return n.value;
  const hint = isScalar(n) && (typeof n.value === 'number' || typeof n.value === 'boolean') ? ` (quote it: "${String(n.source ?? n.value)}")` : '';
  return cx.fail(n, path, `must be a string, not ${describeNode(n)}${hint}`);
}

function readInt(cx: Ctx, node: unknown, path: string, min: number, max: number): number {
  const n = deref(cx, node, path);
  if (!isScalar(n) || typeof n.value !== 'number' || !Number.isInteger(n.value)) {
    cx.fail(n, path, `must be a whole number, not ${describeNode(n)}`);
  }
  if (n.value < min || n.value > max) cx.fail(n, path, `${n.value} is out of range (${min}..${max})`);
  return n.value;
}

function readBool(cx: Ctx, node: unknown, path: string): boolean {
  const n = deref(cx, node, path);
  if (!isScalar(n) || typeof n.value !== 'boolean') cx.fail(n, path, `must be true or false, not ${describeNode(n)}`);
  return n.value;
}

function readStrList(cx: Ctx, node: unknown, path: string): string[] {
  return readSeq(cx, node, path).map((item, i) => readStr(cx, item, `${path}[${i}]`));
}

function readEnum<T extends string>(cx: Ctx, node: unknown, path: string, values: readonly T[]): T {
  const s = readStr(cx, node, path);
  if (!(values as readonly string[]).includes(s)) cx.fail(node, path, `${JSON.stringify(s)} is not one of ${values.join(', ')}`);
  return s as T;
}

function readCidr(cx: Ctx, node: unknown, path: string): CidrSpec {
  const s = readStr(cx, node, path);
  try {
    return cidrSpec(parseCidr(s));
  } catch (e) {
    return cx.fail(node, path, (e as Error).message);
  }
}

function readAddress(cx: Ctx, node: unknown, path: string): AddressSpec {
  const s = readStr(cx, node, path);
  try {
    const addr = parseIpv4(s);
    return { text: formatIpv4(addr), addr };
  } catch {
    return cx.fail(node, path, `not an IPv4 address: ${JSON.stringify(s)}`);
  }
}

const cidrSpec = (c: Cidr): CidrSpec => ({ text: formatCidr(c), network: c.network, prefixLen: c.prefixLen });

/** Depth and size limits for values kept as JSON: an alias loop or a huge value is an error. */
const JSON_MAX_DEPTH = 64;
const JSON_MAX_NODES = 10_000;

function readJson(cx: Ctx, node: unknown, path: string): JsonValue {
  let budget = JSON_MAX_NODES;
  const walk = (raw: unknown, p: string, depth: number): JsonValue => {
    const n = deref(cx, raw, p);
    if (--budget < 0 || depth > JSON_MAX_DEPTH) cx.fail(node, path, 'the value is too large or nested too deeply (an alias loop?)');
    if (n === null || n === undefined) return null;
    if (isMap(n)) {
      const m = new MapView(cx, n, p);
      return Object.fromEntries([...m.entries].map(([k, e]) => [k, walk(e.value, m.at(k), depth + 1)]));
    }
    if (isSeq(n)) return n.items.map((item, i) => walk(item, `${p}[${i}]`, depth + 1));
    if (isScalar(n)) {
      const v = n.value;
      if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
      if (typeof v === 'number' && Number.isFinite(v)) return v;
    }
    return cx.fail(n, p, `${describeNode(n)} has no JSON form`);
  };
  return walk(node, path, 0);
}

// ─── Kubernetes names ───────────────────────────────────────────────────────────────────────

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** The reason `s` is not an RFC 1123 label (apimachinery IsDNS1123Label), or undefined. */
function dns1123LabelProblem(s: string): string | undefined {
  if (s.length > 63) return `${JSON.stringify(s)} is longer than 63 characters`;
  if (!DNS1123_LABEL.test(s)) {
    return `${JSON.stringify(s)} is not a lowercase RFC 1123 label (a-z, 0-9 and '-', starting and ending with a letter or digit)`;
  }
  return undefined;
}

function dns1123SubdomainProblem(s: string): string | undefined {
  if (s.length > 253) return `${JSON.stringify(s)} is longer than 253 characters`;
  if (!DNS1123_SUBDOMAIN.test(s)) {
    return `${JSON.stringify(s)} is not a lowercase RFC 1123 subdomain (labels of a-z, 0-9 and '-' separated by '.')`;
  }
  return undefined;
}

/** Label and annotation keys: [prefix/]name (apimachinery IsQualifiedName). */
function qualifiedNameProblem(s: string): string | undefined {
  const slash = s.lastIndexOf('/');
  const name = slash < 0 ? s : s.slice(slash + 1);
  if (slash >= 0) {
    const prefix = s.slice(0, slash);
    if (prefix === '' || dns1123SubdomainProblem(prefix) !== undefined) return `key ${JSON.stringify(s)}: the prefix must be a DNS subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME_PART.test(name)) {
    return `key ${JSON.stringify(s)} is not a valid label key (up to 63 of A-Z a-z 0-9 - _ ., starting and ending alphanumeric, with an optional DNS prefix/)`;
  }
  return undefined;
}

function labelValueProblem(s: string): string | undefined {
  if (s === '') return undefined;
  if (s.length > 63 || !QUALIFIED_NAME_PART.test(s)) {
    return `value ${JSON.stringify(s)} is not a valid label value (up to 63 of A-Z a-z 0-9 - _ ., starting and ending alphanumeric)`;
  }
  return undefined;
}

/** IANA_SVC_NAME (RFC 6335 §5.1), which Kubernetes requires of port names. */
function portNameProblem(s: string): string | undefined {
  if (s.length > 15 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s) || !/[a-z]/.test(s) || s.includes('--')) {
    return `${JSON.stringify(s)} is not a valid port name (IANA_SVC_NAME: up to 15 of a-z, 0-9, '-', with a letter, no '--')`;
  }
  return undefined;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function readName(cx: Ctx, node: unknown, path: string, problem: (s: string) => string | undefined): string {
  const s = readStr(cx, node, path);
  const p = problem(s);
  if (p !== undefined) cx.fail(node, path, p);
  return s;
}

function readLabels(cx: Ctx, m: MapView | undefined, checkValue: boolean): Record<string, string> {
  if (!m) return {};
  const out: [string, string][] = [];
  for (const [k, e] of m.entries) {
    const keyProblem = qualifiedNameProblem(k);
    if (keyProblem) cx.fail(e.key, m.at(k), keyProblem);
    const v = isAbsent(cx, e.value, m.at(k)) ? '' : readStr(cx, e.value, m.at(k));
    const valueProblem = checkValue ? labelValueProblem(v) : undefined;
    if (valueProblem) cx.fail(e.value, m.at(k), valueProblem);
    out.push([k, v]);
  }
  return Object.fromEntries(out);
}

// ─── Documents ──────────────────────────────────────────────────────────────────────────────

interface RangeField {
  readonly cidr: CidrSpec;
  /** Undefined when defaulted. */
  readonly pos: SourcePos | undefined;
  readonly offset: number;
}

interface ClusterDraft {
  readonly name: string;
  readonly nodeNetwork: RangeField;
  readonly podCIDR: RangeField;
  readonly serviceCIDR: RangeField;
  readonly nodeSubnetPrefix: number;
  readonly mtu: number;
  readonly overlay: OverlayMode;
  readonly vxlan: { readonly port: number; readonly vni: number };
  readonly cni: CniTemplate;
  readonly underlay: UnderlayDraft;
  readonly gateway: AddressSpec | undefined;
  readonly gatewayPos: SourcePos | undefined;
  readonly nameservers: readonly AddressSpec[];
  readonly source: SourcePos;
  readonly kindPos: SourcePos;
}

interface NodeDraft {
  readonly name: string;
  readonly path: string;
  readonly labels: Record<string, string>;
  readonly internalIP: AddressSpec;
  readonly internalIPPos: SourcePos;
  readonly internalIPPath: string;
  readonly podCIDR: CidrSpec | undefined;
  readonly podCIDRPos: SourcePos | undefined;
  readonly namePos: SourcePos;
  readonly source: SourcePos;
}

interface PodDraft {
  readonly spec: PodSpec;
  readonly path: string;
  readonly namePos: SourcePos;
  readonly nodeNamePos: SourcePos;
  /** Where each volume's ConfigMap name and item keys are written, for the cross-document check. */
  readonly volumeRefs?: readonly VolumeRef[];
}

interface StepDraft {
  readonly index: number;
  readonly path: string;
  readonly text: string;
  readonly source: SourcePos;
  readonly origin: Origin;
  readonly command: ParsedCommand;
  readonly waitNs: number;
  readonly expectExit: number | undefined;
  readonly stdin: string | undefined;
  /** For apply: the Pods read from stdin. */
  readonly applied: readonly PodDraft[];
}

interface HostDraft {
  readonly name: string;
  readonly path: string;
  readonly address: AddressSpec;
  readonly command: readonly string[] | undefined;
  readonly args: readonly string[] | undefined;
  readonly files: Readonly<Record<string, string>>;
  readonly workingDir: string | undefined;
  readonly addressPos: SourcePos;
  readonly namePos: SourcePos;
  readonly source: SourcePos;
}

interface Draft {
  clusters: ClusterDraft[];
  nodes: NodeDraft[];
  hosts: HostDraft[];
  pods: PodDraft[];
  configMaps: ConfigMapDraft[];
  services: ServiceDraft[];
  traffic: { readonly steps: StepDraft[]; readonly kindPos: SourcePos }[];
}

const KINDS: Readonly<Record<string, string>> = {
  Cluster: PODWIRE_API_VERSION,
  Host: PODWIRE_API_VERSION,
  Traffic: PODWIRE_API_VERSION,
  Node: 'v1',
  Pod: 'v1',
  ConfigMap: 'v1',
  Service: 'v1',
};

/** apiVersion and kind of a document; an unknown kind is an error at its line. */
function readKind(cx: Ctx, m: MapView, allowed: readonly string[], where: string): string {
  const kindNode = m.require('kind', `kind is required (one of ${allowed.join(', ')})`);
  const kind = readStr(cx, kindNode, m.at('kind'));
  if (!allowed.includes(kind)) {
    cx.fail(kindNode, m.at('kind'), Object.hasOwn(KINDS, kind) ? `kind ${kind} is not supported ${where}` : `kind ${kind} is not supported yet`);
  }
  const expected = KINDS[kind]!;
  const av = m.require('apiVersion', `apiVersion is required (${expected} for kind ${kind})`);
  const apiVersion = readStr(cx, av, m.at('apiVersion'));
  if (apiVersion !== expected) cx.fail(av, m.at('apiVersion'), `apiVersion ${apiVersion} is not known for kind ${kind} (use ${expected})`);
  return kind;
}

function readDocument(draft: Draft, cx: Ctx, index: number): void {
  const root = cx.doc.contents;
  const path = `documents[${index}]`;
  if (isAbsent(cx, root, path)) return; // an empty document (a stray ---), as kubectl skips it
  const m = readMap(cx, root, path, 'a document must be a mapping (apiVersion, kind, metadata, …)');
  const kind = readKind(cx, m, Object.keys(KINDS), '');
  switch (kind) {
    case 'Cluster':
      draft.clusters.push(readCluster(cx, m));
      return;
    case 'Node':
      draft.nodes.push(readNode(cx, m));
      return;
    case 'Host':
      draft.hosts.push(readHost(cx, m));
      return;
    case 'Pod':
      draft.pods.push(readPod(cx, m, 'pods', undefined));
      return;
    case 'ConfigMap':
      draft.configMaps.push(readConfigMap(cx, m));
      return;
    case 'Service':
      draft.services.push(readService(cx, m));
      return;
    default:
      draft.traffic.push(readTraffic(cx, m, draft));
  }
}

/** metadata of a Kubernetes object; unknown server-set fields are accepted as kubectl get -o yaml prints them. */
const METADATA_FIELDS = [
  'name', 'namespace', 'labels', 'annotations', 'generateName',
  'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
  'deletionGracePeriodSeconds', 'managedFields', 'ownerReferences', 'finalizers', 'selfLink',
];

function readMetadata(cx: Ctx, m: MapView, checkName: (s: string) => string | undefined) {
  const md = m.map('metadata');
  if (!md) return m.cx.fail(m.where('metadata'), m.at('metadata'), 'metadata.name is required');
  md.only(METADATA_FIELDS);
  if (md.get('generateName') !== undefined && md.get('name') === undefined) {
    md.fail('generateName', 'generateName is not supported: give metadata.name');
  }
  const nameNode = md.require('name');
  const name = readName(cx, nameNode, md.at('name'), checkName);
  return { md, name, namePos: cx.pos(nameNode) };
}

/** labels and annotations, read once the object's name gives their path (`pods[pa].metadata`). */
function readMetadataLabels(cx: Ctx, md: MapView, path: string) {
  const named = new MapView(cx, md.node, path);
  return { labels: readLabels(cx, named.map('labels'), true), annotations: readLabels(cx, named.map('annotations'), false) };
}

function readCluster(cx: Ctx, doc: MapView): ClusterDraft {
  const m = new MapView(cx, doc.node, 'cluster');
  m.only(['apiVersion', 'kind', 'metadata', 'spec']);
  const md = m.map('metadata');
  md?.only(['name', 'labels', 'annotations']);
  const name = md?.get('name') === undefined ? 'kubernetes' : readName(cx, md.get('name'), md.at('name'), dns1123SubdomainProblem);
  const spec = readMap(cx, m.require('spec', 'spec is required (nodeNetwork at least)'), m.at('spec'));
  spec.only(['nodeNetwork', 'podCIDR', 'serviceCIDR', 'nodeSubnetPrefix', 'mtu', 'cni', 'overlay', 'vxlan', 'underlay', 'gateway', 'nameservers']);
  const range = (key: string, fallback: string | undefined): RangeField => {
    const v = key === 'nodeNetwork' ? spec.require(key, 'is required (the node network, e.g. 192.168.1.0/24)') : spec.get(key);
    if (v === undefined) return { cidr: cidrSpec(parseCidr(fallback!)), pos: undefined, offset: Number.POSITIVE_INFINITY };
    return { cidr: readCidr(cx, v, spec.at(key)), pos: cx.pos(v), offset: (v as { range?: [number] }).range?.[0] ?? 0 };
  };
  const nodeNetwork = range('nodeNetwork', undefined);
  const podCIDR = range('podCIDR', '10.244.0.0/16');
  const serviceCIDR = range('serviceCIDR', '10.96.0.0/12');
  const prefixNode = spec.get('nodeSubnetPrefix');
  const nodeSubnetPrefix = spec.int('nodeSubnetPrefix', 0, 30) ?? 24;
  if (nodeSubnetPrefix < podCIDR.cidr.prefixLen) {
    failAt(prefixNode ? cx.pos(prefixNode) : cx.pos(spec.node), spec.at('nodeSubnetPrefix'),
      `/${nodeSubnetPrefix} node subnets do not fit in podCIDR ${podCIDR.cidr.text} (use a prefix of ${podCIDR.cidr.prefixLen}..30)`);
  }
  const mtu = spec.int('mtu', 68, 65535) ?? 1500;
  const overlayNode = spec.get('overlay');
  const overlay = overlayNode === undefined ? 'none' : readEnum(cx, overlayNode, spec.at('overlay'), OVERLAY_MODES);
  const vxlan = readVxlanBackend(cx, spec, overlay);
  const cni = readCniTemplate(cx, spec);
  const underlay = readUnderlay(cx, spec);
  // spec.gateway: the node network's router; every node gets `default via` it, as DHCP would give.
  const gatewayNode = spec.get('gateway');
  const gateway = gatewayNode === undefined ? undefined : readAddress(cx, gatewayNode, spec.at('gateway'));
  if (gateway !== undefined && !cidrContains(nodeNetwork.cidr, gateway.addr)) cx.fail(gatewayNode, spec.at('gateway'), `${gateway.text} is not inside nodeNetwork ${nodeNetwork.cidr.text}`);
  // spec.nameservers: the nodes' /etc/resolv.conf (dnsPolicy Default pods, so CoreDNS's upstream).
  const nsList = spec.get('nameservers') === undefined ? [] : readSeq(cx, spec.get('nameservers'), spec.at('nameservers'));
  if (nsList.length > 3) cx.fail(nsList[3], spec.at('nameservers[3]'), 'at most 3 nameservers (glibc MAXNS)');
  const nameservers = nsList.map((n, i) => readAddress(cx, n, spec.at(`nameservers[${i}]`)));
  return {
    name,
    nameservers,
    gateway,
    gatewayPos: gatewayNode === undefined ? undefined : cx.pos(gatewayNode),
    nodeNetwork,
    podCIDR,
    serviceCIDR,
    nodeSubnetPrefix,
    mtu,
    overlay,
    vxlan,
    cni,
    underlay,
    source: cx.pos(m.node),
    kindPos: cx.pos(m.get('kind')),
  };
}

/**
 * spec.vxlan: flannel's VXLAN backend (net-conf.json `"Backend": {"Type": "vxlan", "Port": …,
 * "VNI": …}`): UDP port 8472 (Linux's historical default, flannel's too) unless set — 4789 is
 * the IANA port — and VNI 1. Only meaningful with overlay flannel-vxlan.
 */
function readVxlanBackend(cx: Ctx, spec: MapView, overlay: OverlayMode): { port: number; vni: number } {
  const node = spec.get('vxlan');
  if (node === undefined) return { port: 8472, vni: 1 };
  if (overlay !== 'flannel-vxlan') cx.fail(node, spec.at('vxlan'), `vxlan applies to overlay flannel-vxlan (this cluster's overlay is ${overlay})`);
  const m = readMap(cx, node, spec.at('vxlan'));
  m.only(['port', 'vni']);
  return { port: m.int('port', 1, 65535) ?? 8472, vni: m.int('vni', 1, 0xff_ffff) ?? 1 };
}

/**
 * A Host document: `metadata.name`, `spec.address` on the node network, and optionally what it
 * runs from the start (`command`/`args`, as a container's).
 */
function readHost(cx: Ctx, m: MapView): HostDraft {
  m.only(['apiVersion', 'kind', 'metadata', 'spec']);
  const meta = readMetadata(cx, m, dns1123SubdomainProblem);
  if (meta.md.get('namespace') !== undefined) meta.md.fail('namespace', 'hosts are not namespaced');
  const path = `hosts[${meta.name}]`;
  const spec = readMap(cx, m.require('spec', 'spec.address is required (an address on the node network)'), `${path}.spec`);
  spec.only(['address', 'command', 'args', 'files', 'workingDir']);
  const addressNode = spec.require('address', 'is required (an address on the node network)');
  const command = spec.get('command') === undefined ? undefined : readStrList(cx, spec.get('command'), spec.at('command'));
  const args = spec.get('args') === undefined ? undefined : readStrList(cx, spec.get('args'), spec.at('args'));
  // spec.files: the machine's own files by absolute path (what a server on it serves).
  const files: Record<string, string> = {};
  const fm = spec.map('files');
  if (fm) {
    for (const [k, e] of fm.entries) {
      if (!k.startsWith('/') || k.endsWith('/')) cx.fail(e.key, fm.at(k), 'must be an absolute file path');
      files[k] = readStr(cx, e.value, fm.at(k));
    }
  }
  const workingDir = spec.str('workingDir');
  if (workingDir !== undefined && !workingDir.startsWith('/')) cx.fail(spec.get('workingDir'), spec.at('workingDir'), 'must be an absolute path');
  return {
    name: meta.name, path, address: readAddress(cx, addressNode, spec.at('address')), command, args, files, workingDir,
    addressPos: cx.pos(addressNode), namePos: meta.namePos, source: cx.pos(m.node),
  };
}

function readNode(cx: Ctx, m: MapView): NodeDraft {
  m.only(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  const meta = readMetadata(cx, m, dns1123SubdomainProblem);
  if (meta.md.get('namespace') !== undefined) meta.md.fail('namespace', 'nodes are not namespaced');
  const path = `nodes[${meta.name}]`;
  const at = (p: string) => `${path}.${p}`;
  const { labels } = readMetadataLabels(cx, meta.md, at('metadata'));
  const spec = m.get('spec') === undefined ? undefined : readMap(cx, m.get('spec'), at('spec'));
  spec?.only(['podCIDR', 'podCIDRs', 'providerID', 'taints', 'unschedulable', 'externalID', 'configSource']);
  let podCIDR: CidrSpec | undefined;
  let podCIDRPos: SourcePos | undefined;
  const single = spec?.get('podCIDR');
  if (spec && single !== undefined) {
    podCIDR = readCidr(cx, single, at('spec.podCIDR'));
    podCIDRPos = cx.pos(single);
  }
  const list = spec?.seq('podCIDRs');
  if (spec && list && list.length > 0) {
    if (list.length > 1) cx.fail(list[1], at('spec.podCIDRs[1]'), 'a second pod CIDR (dual-stack) is not supported yet');
    const first = readCidr(cx, list[0], at('spec.podCIDRs[0]'));
    if (podCIDR && first.text !== podCIDR.text) cx.fail(list[0], at('spec.podCIDRs[0]'), `must equal spec.podCIDR ${podCIDR.text}`);
    podCIDR ??= first;
    podCIDRPos ??= cx.pos(list[0]);
  }
  const status = m.get('status') === undefined ? undefined : readMap(cx, m.get('status'), at('status'));
  status?.only([
    'addresses', 'capacity', 'allocatable', 'conditions', 'daemonEndpoints', 'nodeInfo', 'images',
    'phase', 'volumesInUse', 'volumesAttached', 'config', 'runtimeHandlers', 'features',
  ]);
  const needIp = 'an InternalIP is required: status: {addresses: [{type: InternalIP, address: …}]}';
  const addresses = status?.seq('addresses');
  if (!status || !addresses) cx.fail(status?.where('addresses') ?? m.node, status ? at('status.addresses') : path, needIp);
  let internalIP: { addr: AddressSpec; pos: SourcePos; path: string } | undefined;
  addresses.forEach((item, i) => {
    const p = at(`status.addresses[${i}]`);
    const a = readMap(cx, item, p);
    a.only(['type', 'address']);
    const type = readEnum(cx, a.require('type'), a.at('type'), ['InternalIP', 'ExternalIP', 'Hostname', 'InternalDNS', 'ExternalDNS']);
    const addressNode = a.require('address');
    if (type !== 'InternalIP') {
      readStr(cx, addressNode, a.at('address'));
      return;
    }
    if (internalIP) cx.fail(item, p, `a second InternalIP is not supported (the first is at line ${internalIP.pos.line})`);
    internalIP = { addr: readAddress(cx, addressNode, a.at('address')), pos: cx.pos(addressNode), path: a.at('address') };
  });
  if (!internalIP) return cx.fail(status.where('addresses'), at('status.addresses'), needIp);
  return {
    name: meta.name,
    path,
    labels,
    internalIP: internalIP.addr,
    internalIPPos: internalIP.pos,
    internalIPPath: internalIP.path,
    podCIDR,
    podCIDRPos,
    namePos: meta.namePos,
    source: cx.pos(m.node),
  };
}

const POD_SPEC_USED = [
  'nodeName', 'containers', 'restartPolicy', 'dnsPolicy', 'hostname', 'subdomain', 'dnsConfig',
  'hostNetwork', 'initContainers', 'ephemeralContainers', 'hostAliases', 'volumes',
];
/** Real PodSpec fields that do not change what goes on the wire here; accepted and ignored. */
const POD_SPEC_IGNORED = [
  'activeDeadlineSeconds', 'affinity', 'automountServiceAccountToken', 'enableServiceLinks', 'hostIPC',
  'hostPID', 'hostUsers', 'imagePullSecrets', 'nodeSelector', 'os', 'overhead', 'preemptionPolicy',
  'priority', 'priorityClassName', 'readinessGates', 'resourceClaims', 'resources', 'runtimeClassName',
  'schedulerName', 'schedulingGates', 'securityContext', 'serviceAccount', 'serviceAccountName',
  'setHostnameAsFQDN', 'shareProcessNamespace', 'terminationGracePeriodSeconds', 'tolerations',
  'topologySpreadConstraints',
];
const CONTAINER_USED = [
  'name', 'image', 'command', 'args', 'workingDir', 'volumeMounts', 'ports', 'env', 'envFrom',
  'readinessProbe', 'livenessProbe', 'startupProbe',
];
const CONTAINER_IGNORED = [
  'imagePullPolicy', 'resources', 'resizePolicy', 'restartPolicy', 'securityContext', 'stdin', 'stdinOnce',
  'tty', 'terminationMessagePath', 'terminationMessagePolicy', 'volumeDevices', 'lifecycle',
];

/**
 * A Pod manifest. `prefix` is the path its errors start with (`pods`, or `steps[3].pods` for one
 * applied in a step); `namespace` is kubectl apply's -n, which a manifest must agree with.
 */
function readPod(cx: Ctx, m: MapView, prefix: string, namespace: { value: string; pos: SourcePos } | undefined): PodDraft {
  m.only(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  const meta = readMetadata(cx, m, dns1123LabelProblem);
  let ns = namespace?.value ?? 'default';
  const nsNode = meta.md.get('namespace');
  if (nsNode !== undefined) {
    const given = readName(cx, nsNode, meta.md.at('namespace'), dns1123LabelProblem);
    if (namespace && given !== namespace.value) {
      // kubectl apply's own check (resource.Builder): -n must agree with the manifest.
      failAt(namespace.pos, prefix.replace(/\.pods$/, ''),
        `the namespace from the provided object ${JSON.stringify(given)} does not match the namespace ${JSON.stringify(namespace.value)}`);
    }
    ns = given;
  }
  const path = `${prefix}[${ns === 'default' ? '' : `${ns}/`}${meta.name}]`;
  const at = (p: string) => `${path}.${p}`;
  const { labels, annotations } = readMetadataLabels(cx, meta.md, at('metadata'));
  const spec = readMap(cx, m.require('spec', 'spec is required (nodeName and containers)'), at('spec'));
  spec.only([...POD_SPEC_USED, ...POD_SPEC_IGNORED]);
  spec.notYet('hostNetwork', 'hostNetwork');
  spec.notYet('initContainers', 'initContainers');
  spec.notYet('ephemeralContainers', 'ephemeralContainers');
  spec.notYet('hostAliases', 'hostAliases');
  const nodeNameNode = spec.require('nodeName', 'is required: podwire has no scheduler, so a Pod names the node it runs on');
  const nodeName = readStr(cx, nodeNameNode, spec.at('nodeName'));

  const { volumes, refs: volumeRefs } = readVolumes(cx, spec);
  const containersNode = spec.require('containers', 'at least one container is required');
  const items = readSeq(cx, containersNode, spec.at('containers'));
  if (items.length === 0) cx.fail(containersNode, spec.at('containers'), 'at least one container is required');
  const containerNames = new Map<string, number>();
  const portNames = new Map<string, string>();
  const containers = items.map((item, i) => {
    const c = readContainer(cx, item, spec.at(`containers[${i}]`), portNames, volumes);
    const seen = containerNames.get(c.name);
    if (seen !== undefined) cx.fail(readMap(cx, item, '').get('name'), spec.at(`containers[${i}].name`), `container name ${JSON.stringify(c.name)} is also containers[${seen}]'s`);
    containerNames.set(c.name, i);
    return c;
  });

  const restart = spec.get('restartPolicy');
  const dns = spec.get('dnsPolicy');
  const hostname = spec.get('hostname');
  const subdomain = spec.get('subdomain');
  const dnsConfig = spec.get('dnsConfig');
  const pod: PodSpec = {
    name: meta.name,
    namespace: ns,
    labels,
    annotations,
    nodeName,
    containers,
    restartPolicy: restart === undefined ? 'Always' : readEnum<RestartPolicy>(cx, restart, spec.at('restartPolicy'), RESTART_POLICIES),
    dnsPolicy: dns === undefined ? 'ClusterFirst' : readEnum<DnsPolicy>(cx, dns, spec.at('dnsPolicy'), DNS_POLICIES),
    hostname: hostname === undefined ? undefined : readName(cx, hostname, spec.at('hostname'), dns1123LabelProblem),
    subdomain: subdomain === undefined ? undefined : readName(cx, subdomain, spec.at('subdomain'), dns1123LabelProblem),
    dnsConfig: dnsConfig === undefined ? undefined : readJson(cx, dnsConfig, spec.at('dnsConfig')),
    volumes,
    source: cx.pos(m.node),
  };
  return { spec: pod, path, namePos: meta.namePos, nodeNamePos: cx.pos(nodeNameNode), volumeRefs };
}

function readContainer(cx: Ctx, node: unknown, path: string, portNames: Map<string, string>, volumes: readonly VolumeSpec[]): ContainerSpec {
  const c = readMap(cx, node, path);
  c.only([...CONTAINER_USED, ...CONTAINER_IGNORED]);
  c.notYet('envFrom', 'envFrom');
  const name = readName(cx, c.require('name'), c.at('name'), dns1123LabelProblem);
  const image = c.str('image');
  if (image === undefined || image.trim() === '') c.fail('image', 'is required (the container image, e.g. busybox:1.36)');
  const command = c.get('command') === undefined ? undefined : readStrList(cx, c.get('command'), c.at('command'));
  const args = c.get('args') === undefined ? undefined : readStrList(cx, c.get('args'), c.at('args'));
  const ports = (c.seq('ports') ?? []).map((item, i): ContainerPortSpec => {
    const p = readMap(cx, item, c.at(`ports[${i}]`));
    p.only(['containerPort', 'protocol', 'name', 'hostPort', 'hostIP']);
    p.notYet('hostPort', 'hostPort');
    p.notYet('hostIP', 'hostIP');
    const containerPort = readInt(cx, p.require('containerPort'), p.at('containerPort'), 1, 65535);
    const protoNode = p.get('protocol');
    const protocol = protoNode === undefined ? 'TCP' : readEnum<PortProtocol>(cx, protoNode, p.at('protocol'), PORT_PROTOCOLS);
    const nameNode = p.get('name');
    const portName = nameNode === undefined ? undefined : readName(cx, nameNode, p.at('name'), portNameProblem);
    if (portName !== undefined) {
      const other = portNames.get(portName);
      if (other !== undefined) cx.fail(nameNode, p.at('name'), `port name ${JSON.stringify(portName)} is also used by ${other}`);
      portNames.set(portName, p.path);
    }
    return { containerPort, protocol, name: portName };
  });
  const env = (c.seq('env') ?? []).map((item, i): EnvVarSpec => {
    const e = readMap(cx, item, c.at(`env[${i}]`));
    e.only(['name', 'value', 'valueFrom']);
    e.notYet('valueFrom', 'valueFrom');
    const envName = readName(cx, e.require('name'), e.at('name'), (s) =>
      ENV_NAME.test(s) ? undefined : `${JSON.stringify(s)} is not a valid environment variable name`);
    return { name: envName, value: e.str('value') ?? '' };
  });
  const probe = (key: string): JsonValue | undefined => (c.get(key) === undefined ? undefined : readJson(cx, c.get(key), c.at(key)));
  const readiness = c.get('readinessProbe') === undefined ? undefined : readProbe(cx, c.get('readinessProbe'), c.at('readinessProbe'));
  return {
    name,
    image: image!,
    command,
    args,
    workingDir: readWorkingDir(c),
    volumeMounts: readVolumeMounts(cx, c, volumes),
    ports,
    env,
    readinessProbe: readiness,
    livenessProbe: probe('livenessProbe'),
    startupProbe: probe('startupProbe'),
    source: cx.pos(c.node),
  };
}

// ─── CNI configuration ──────────────────────────────────────────────────────────────────────

/** The subnet placeholder (as Calico's host-local takes it): each node's podCIDR. */
const USE_POD_CIDR = 'usePodCidr';

/** podwire's default: the bridge plugin as /etc/cni/net.d/10-bridge.conf sets it up on a kubeadm node. */
const DEFAULT_CNI_CONFIG = {
  cniVersion: '1.0.0',
  name: 'cbr0',
  type: 'bridge',
  bridge: 'cni0',
  isGateway: true,
  hairpinMode: true,
  ipam: { type: 'host-local', ranges: [[{ subnet: USE_POD_CIDR }]], routes: [{ dst: '0.0.0.0/0' }] },
} as const;

/**
 * A host-local range as written: where it sits in the config, and its subnet — a literal, which
 * k8s's parser judges once it is resolved, or `usePodCidr`, which each node replaces.
 */
interface RangeTemplate {
  /** The range object's path in the JSON (`['ipam']` for the legacy flat form). */
  readonly jsonPath: readonly (string | number)[];
  readonly usesPodCidr: boolean;
}

/**
 * The cluster's CNI config before per-node resolution. Only what k8s's bridge parser cannot know
 * is checked here (podwire's limits, usePodCidr); what the config means, its defaults and its
 * errors are k8s's `bridgeConfigFromPlugin`, run on each node's resolved config (resolveCni).
 */
interface CniTemplate {
  readonly json: JsonValue;
  readonly isDefault: boolean;
  /** Where the `cni.config` value (or, for the default, the cni mapping or the spec) is written. */
  readonly source: SourcePos;
  readonly path: string;
  /** Where the value at a JSON path is written: the deepest node of the path that exists. */
  readonly locate: (jsonPath: readonly (string | number)[]) => SourcePos;
  readonly ranges: readonly RangeTemplate[];
}

/** Top-level keys podwire accepts; any other is a typo (the plugin would ignore it silently). */
const BRIDGE_FIELDS = [
  'cniVersion', 'name', 'type', 'bridge', 'isGateway', 'isDefaultGateway', 'forceAddress', 'ipMasq',
  'hairpinMode', 'promiscMode', 'mtu', 'ipam',
  // Accepted, no effect on the wire here (or only in modes podwire refuses below).
  'dns', 'capabilities', 'runtimeConfig', 'args', 'enabledad', 'ipMasqBackend', 'preserveDefaultVlan',
  'vlan', 'vlanTrunk', 'macspoofchk', 'disableContainerInterface', 'portIsolation',
];

function readCniTemplate(cx: Ctx, spec: MapView): CniTemplate {
  const cniMap = spec.map('cni');
  cniMap?.only(['config']);
  const configNode = cniMap?.get('config');
  if (!cniMap || configNode === undefined) {
    const doc = new Document(DEFAULT_CNI_CONFIG);
    const source = cx.pos(cniMap?.node ?? spec.node);
    const dcx = new Ctx({ file: cx.origin.file, text: '', posAt: () => source }, doc, 0);
    return readBridgeConfig(dcx, readMap(dcx, doc.contents, spec.at('cni.config')), true, source);
  }
  const path = cniMap.at('config');
  if (isScalar(configNode) && typeof configNode.value === 'string') {
    // The config as the JSON file's text: JSON.parse judges it, a YAML parse of the same text
    // (JSON is YAML 1.2) gives each value's position.
    const origin = valueOrigin(cx.origin, configNode);
    let json: unknown;
    try {
      json = JSON.parse(configNode.value);
    } catch {
      // V8's messages differ between Node versions and often give no position: find it ourselves.
      const bad = jsonSyntaxError(configNode.value);
      failAt(origin.posAt(bad.offset), path, `not valid JSON: ${bad.reason}`);
    }
    let jcx: Ctx;
    try {
      const parsed = parseAllDocuments(configNode.value, { prettyErrors: false });
      jcx = !('empty' in parsed) && parsed.length === 1 && parsed[0]!.errors.length === 0
        ? new Ctx(origin, parsed[0]!, 0)
        : new Ctx(cx.origin, new Document(json), configNode.range?.[0] ?? 0);
    } catch {
      return cx.fail(configNode, path, 'the JSON is nested too deeply');
    }
    return readBridgeConfig(jcx, readMap(jcx, jcx.doc.contents, path, 'must be a JSON object'), false, cx.pos(configNode));
  }
  return readBridgeConfig(cx, readMap(cx, configNode, path, 'must be the CNI config, as a mapping or a JSON string'), false, cx.pos(configNode));
}

/**
 * Where JSON text first breaks RFC 8259's grammar, and why (called once JSON.parse has refused
 * the text, so it always finds something).
 */
function jsonSyntaxError(text: string): { offset: number; reason: string } {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const found = () => (i >= text.length ? 'the end of the text' : JSON.stringify(text[i]));
  class Bad {
    constructor(readonly offset: number, readonly reason: string) {}
  }
  const expect = (what: string): never => {
    throw new Bad(i, `expected ${what}, found ${found()}`);
  };
  const str = (): void => {
    const open = i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Bad(open, 'unterminated string');
      if (c === '"') break;
      if (c < ' ') throw new Bad(i, 'a control character (a raw newline or tab?) inside a string');
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u' ? !/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)) : e === undefined || !'"\\/bfnrt'.includes(e)) {
          throw new Bad(i, `invalid escape ${JSON.stringify(text.slice(i, i + 2))}`);
        }
        i += e === 'u' ? 6 : 2;
      } else i++;
    }
    i++;
  };
  const value = (depth: number): void => {
    ws();
    if (depth > 512) throw new Bad(i, 'nested too deeply');
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') expect('a "quoted" key');
        str();
        ws();
        if (text[i] !== ':') expect("':'");
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        expect("',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        expect("',' or ']'");
      }
    }
    if (c === '"') return str();
    const m = /^(?:true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)/.exec(text.slice(i, i + 400));
    if (!m || /[A-Za-z0-9_.]/.test(text[i + m[0].length] ?? '')) return expect('a value (a "string", number, true, false, null, {…} or […])');
    i += m[0].length;
  };
  try {
    value(0);
    ws();
    if (i < text.length) expect('the end after the JSON value');
  } catch (e) {
    if (e instanceof Bad) return { offset: e.offset, reason: e.reason };
    throw e;
  }
  return { offset: 0, reason: 'the JSON text is not valid' };
}

function readBridgeConfig(cx: Ctx, m: MapView, isDefault: boolean, source: SourcePos): CniTemplate {
  const json = readJson(cx, m.node, m.path);
  if (m.get('plugins') !== undefined) {
    m.fail('plugins', 'a plugin list (.conflist) is not supported yet: give the bridge plugin\'s own config (10-bridge.conf)');
  }
  m.only(BRIDGE_FIELDS);
  const typeNode = m.require('type', 'is required ("bridge")');
  const type = readStr(cx, typeNode, m.at('type'));
  if (type !== 'bridge') cx.fail(typeNode, m.at('type'), `plugin type ${JSON.stringify(type)} is not supported yet (only "bridge")`);
  m.notYet('vlan', 'a VLAN on the bridge');
  m.notYet('vlanTrunk', 'a VLAN trunk on the bridge');
  m.notYet('macspoofchk', 'macspoofchk');
  m.notYet('portIsolation', 'portIsolation');
  m.notYet('disableContainerInterface', 'disableContainerInterface');

  // The ranges, for usePodCidr: only with host-local (a missing ipam or another IPAM plugin is
  // judged on the parsed config, in resolveCni).
  const ranges: RangeTemplate[] = [];
  const ipam = m.map('ipam');
  if (ipam !== undefined && ipam.get('type') !== undefined && ipam.str('type') === 'host-local') {
    ipam.only(['type', 'ranges', 'routes', 'dataDir', 'resolvConf', 'subnet', 'rangeStart', 'rangeEnd', 'gateway']);
    // host-local's legacy single range (ipam.subnet …) comes first, then ranges (config.go).
    if (ipam.get('subnet') !== undefined) ranges.push(readRange(cx, ipam, ['ipam']));
    else for (const k of ['rangeStart', 'rangeEnd', 'gateway']) if (ipam.get(k) !== undefined) ipam.fail(k, 'is only valid beside ipam.subnet (or inside ranges)');
    const sets = ipam.seq('ranges') ?? [];
    if (ranges.length + sets.length > 1) {
      const extra = sets.length > 1 ? sets[1] : sets[0];
      cx.fail(extra, ipam.at(`ranges[${sets.length > 1 ? 1 : 0}]`), 'a second range set (a second address per pod) is not supported yet');
    }
    if (ranges.length + sets.length === 0) {
      ipam.fail('ranges', `is required: ranges: [[{"subnet": "${USE_POD_CIDR}"}]] takes each node's podCIDR`);
    }
    sets.forEach((set, i) => {
      readSeq(cx, set, ipam.at(`ranges[${i}]`)).forEach((r, j) =>
        ranges.push(readRange(cx, readMap(cx, r, ipam.at(`ranges[${i}][${j}]`)), ['ipam', 'ranges', i, j])));
    });
  }
  const locate = (jsonPath: readonly (string | number)[]): SourcePos => {
    let node: unknown = m.node;
    for (const step of jsonPath) {
      const n = deref(cx, node, m.path);
      let next: unknown;
      if (typeof step === 'number' && isSeq(n)) next = n.items[step];
      else if (typeof step === 'string' && isMap(n)) {
        // Go's decoder: the exact key, else the first one equal under case folding.
        const keyOf = (item: (typeof n.items)[number]) => String(isScalar(item.key) ? item.key.value : item.key);
        const item = n.items.find((it) => keyOf(it) === step) ?? n.items.find((it) => keyOf(it).toLowerCase() === step.toLowerCase());
        next = item === undefined ? undefined : (item.value ?? item.key);
      }
      if (next === undefined || next === null) break;
      node = next;
    }
    return cx.pos(deref(cx, node, m.path));
  };
  return { json, isDefault, source, path: m.path, locate, ranges };
}

function readRange(cx: Ctx, r: MapView, jsonPath: readonly (string | number)[]): RangeTemplate {
  if (jsonPath.length > 1) r.only(['subnet', 'rangeStart', 'rangeEnd', 'gateway']);
  const subnetNode = r.require('subnet', `is required (a CIDR, or "${USE_POD_CIDR}" for each node's podCIDR)`);
  return { jsonPath, usesPodCidr: readStr(cx, subnetNode, r.at('subnet')) === USE_POD_CIDR };
}

/** `ipam.ranges[0][1].subnet` for the JSON path ['ipam', 'ranges', 0, 1, 'subnet']. */
function jsonPathText(base: string, jsonPath: readonly (string | number)[]): string {
  return jsonPath.reduce<string>((s, step) => (typeof step === 'number' ? `${s}[${step}]` : s === '' ? step : `${s}.${step}`), base);
}

/**
 * The template resolved for one node (or, without nodes, for the first node subnet): usePodCidr
 * replaced, the result parsed by k8s's bridge parser — the one reading of what the config means —
 * then checked against what podwire models and against the node's podCIDR.
 */
function resolveCni(t: CniTemplate, podCIDR: CidrSpec, nodeName: string | undefined): { config: BridgeConfig; json: string } {
  let json: JsonValue = t.json;
  for (const r of t.ranges) if (r.usesPodCidr) json = setJson(json, [...r.jsonPath, 'subnet'], podCIDR.text);
  const fail = (jsonPath: readonly (string | number)[], reason: string): never =>
    failAt(jsonPath.length === 0 ? t.source : t.locate(jsonPath), jsonPathText(t.path, jsonPath), reason);
  let config: BridgeConfig;
  try {
    config = bridgeConfigFromPlugin(json as JsonObject);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const at = e instanceof CniError ? cniErrorPath(e, json as JsonObject) : [];
    // Say so when the error may be about a subnet usePodCidr stands for.
    const substituted = t.ranges.some((r) => r.usesPodCidr) && (reason.includes(podCIDR.text) || reason.startsWith('invalid range set'));
    const where = nodeName === undefined ? `${podCIDR.text}, the first node subnet` : `node ${nodeName}'s podCIDR ${podCIDR.text}`;
    return fail(at, substituted ? `${reason} (with ${USE_POD_CIDR} as ${where})` : reason);
  }
  if (!/^[^\s/:]{1,15}$/.test(config.bridge)) {
    fail(['bridge'], `${JSON.stringify(config.bridge)} is not a Linux interface name (1-15 characters, no '/', ':' or blanks)`);
  }
  if (config.mtu < 0 || config.mtu > 65535) fail(['mtu'], `${config.mtu} is out of range (0..65535)`);
  const ipam = config.ipam;
  if (ipam.kind === 'none') {
    const written = (json as JsonObject)['ipam'];
    return written === undefined || written === null ? fail(['ipam'], 'is required (type host-local)') : fail(['ipam', 'type'], 'is required ("host-local")');
  }
  if (ipam.kind === 'other') return fail(['ipam', 'type'], `IPAM plugin ${JSON.stringify(ipam.type)} is not supported yet (only "host-local")`);
  // A literal subnet must hold only addresses of this node's pods. k8s's ranges are the
  // template's, after any runtimeConfig.ipRanges it puts first.
  const parsed = ipam.ranges.flat();
  const first = parsed.length - t.ranges.length;
  for (const [i, r] of parsed.entries()) {
    const subnet = { network: r.subnet.ip, prefixLen: r.subnet.prefixLen };
    if (nodeName === undefined || cidrContainsCidr(podCIDR, subnet)) continue;
    const at = i < first ? ['runtimeConfig', 'ipRanges'] : [...t.ranges[i - first]!.jsonPath, 'subnet'];
    fail(at, `${formatIpv4Cidr(r.subnet)} is not inside node ${nodeName}'s podCIDR ${podCIDR.text} (write "${USE_POD_CIDR}" to take each node's podCIDR)`);
  }
  return { config, json: `${JSON.stringify(json, null, 2)}\n` };
}

/**
 * The JSON path a k8s CNI config error is about, as far as its message tells: the Go struct field
 * of a decoding error, skel's name and version checks, host-local's range set and field, else
 * the one string value the message quotes. [] when it names nothing.
 */
function cniErrorPath(e: CniError, json: JsonObject): (string | number)[] {
  const msg = e.msg;
  const field = /Go struct field \w*\.([\w.]+) of type/.exec(msg);
  if (field) return field[1]!.split('.');
  if (msg === 'missing network name' || msg.startsWith('invalid characters found in network name')) return ['name'];
  if (msg === 'incompatible CNI versions' || msg.startsWith('decoding version')) return ['cniVersion'];
  if (msg.startsWith('invalid VLAN ID')) return ['vlan'];
  const leaves: { path: (string | number)[]; value: string }[] = [];
  const walk = (v: unknown, path: (string | number)[]): void => {
    if (typeof v === 'string') leaves.push({ path, value: v });
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  const set = /^invalid range set (\d+): (.*)$/.exec(msg);
  if (set) {
    // host-local's order: runtimeConfig.ipRanges, the flat ipam.subnet range, ipam.ranges.
    const ipam = json['ipam'] as JsonObject;
    const rc = (json['runtimeConfig'] as JsonObject | undefined)?.['ipRanges'];
    const sets: (string | number)[][] = [
      ...(Array.isArray(rc) ? rc.map((_, i) => ['runtimeConfig', 'ipRanges', i]) : []),
      ...(typeof ipam['subnet'] === 'string' ? [['ipam']] : []),
      ...(Array.isArray(ipam['ranges']) ? ipam['ranges'].map((_, i) => ['ipam', 'ranges', i]) : []),
    ];
    const base = sets[Number(set[1])] ?? ['ipam'];
    const [, key, value] = /^(RangeStart|RangeEnd) (\S+) /.exec(set[2]!) ?? [];
    let at: unknown = json;
    for (const step of base) at = (at as Record<string | number, unknown>)[step];
    walk(at, base);
    const k = key === undefined ? 'subnet' : key === 'RangeStart' ? 'rangeStart' : 'rangeEnd';
    const inSet = leaves.filter((l) => l.path[l.path.length - 1] === k);
    const hit = inSet.length === 1 ? inSet[0] : inSet.find((l) => l.value === value || set[2]!.includes(` ${l.value} `));
    return hit?.path ?? base;
  }
  walk(json, []);
  const words = new Set(msg.split(/[\s,;"]+/).map((w) => w.replace(/:$/, '')));
  const hits = leaves.filter((l) => words.has(l.value));
  return hits.length === 1 ? hits[0]!.path : [];
}

/** A copy of `v` with the value at `path` replaced. */
function setJson(v: JsonValue, path: readonly (string | number)[], value: JsonValue): JsonValue {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  if (Array.isArray(v) && typeof head === 'number') return v.map((x: JsonValue, i: number) => (i === head ? setJson(x, rest, value) : x));
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof head === 'string') {
    const o = v as { readonly [key: string]: JsonValue };
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, k === head ? setJson(x, rest, value) : x]));
  }
  return v;
}

// ─── Underlay links ─────────────────────────────────────────────────────────────────────────

/** A veth hop's delay and no loss: a cable nobody configured behaves as a bare veth pair. */
const DEFAULT_LINK: LinkSpec = { latencyNs: VETH_DELAY_NS, loss: 0 };

interface UnderlayDraft {
  readonly defaults: LinkSpec;
  readonly links: readonly LinkDraft[];
}

interface LinkDraft {
  readonly name: string;
  readonly namePos: SourcePos;
  readonly path: string;
  readonly latencyNs: number | undefined;
  readonly loss: number | undefined;
  readonly source: SourcePos;
}

/** A duration with a unit (`200us`, `5ms`, Go's time.ParseDuration syntax). */
function readDuration(cx: Ctx, node: unknown, path: string): number {
  const n = deref(cx, node, path);
  if (isScalar(n) && typeof n.value === 'number') {
    cx.fail(n, path, n.value === 0 ? 'write 0s (a duration has a unit)' : `a duration needs a unit (e.g. ${String(n.value)}ms or ${String(n.value)}us)`);
  }
  const s = readStr(cx, n, path);
  try {
    return parseDuration(s);
  } catch (e) {
    return cx.fail(n, path, (e as Error).message);
  }
}

function readProbability(cx: Ctx, node: unknown, path: string): number {
  const n = deref(cx, node, path);
  if (!isScalar(n) || typeof n.value !== 'number') return cx.fail(n, path, `must be a probability from 0 to 1, not ${describeNode(n)}`);
  if (!(n.value >= 0 && n.value <= 1)) cx.fail(n, path, `${n.value} is out of range (a probability, 0..1)`);
  return n.value;
}

/** spec.underlay of the Cluster: `latency`, `loss`, and `links` overriding them per cable. */
function readUnderlay(cx: Ctx, spec: MapView): UnderlayDraft {
  const u = spec.map('underlay');
  if (!u) return { defaults: DEFAULT_LINK, links: [] };
  u.only(['latency', 'loss', 'links']);
  const latency = u.get('latency');
  const loss = u.get('loss');
  const defaults: LinkSpec = {
    latencyNs: latency === undefined ? DEFAULT_LINK.latencyNs : readDuration(cx, latency, u.at('latency')),
    loss: loss === undefined ? DEFAULT_LINK.loss : readProbability(cx, loss, u.at('loss')),
  };
  const links = (u.seq('links') ?? []).map((item, i): LinkDraft => {
    const path = `${u.at('links')}[${i}]`;
    const m = readMap(cx, item, path);
    m.only(['name', 'latency', 'loss']);
    const nameNode = m.require('name', 'is required (the node or host whose cable this is)');
    const l = m.get('latency');
    const p = m.get('loss');
    return {
      name: readStr(cx, nameNode, m.at('name')),
      namePos: cx.pos(nameNode),
      path,
      latencyNs: l === undefined ? undefined : readDuration(cx, l, m.at('latency')),
      loss: p === undefined ? undefined : readProbability(cx, p, m.at('loss')),
      source: cx.pos(m.node),
    };
  });
  return { defaults, links };
}

/** Each override names a node or a host, once; what it leaves out comes from the defaults. */
function resolveUnderlay(u: UnderlayDraft, nodes: readonly NodeSpec[], hosts: readonly HostSpec[]): UnderlaySpec {
  const seen = new Map<string, LinkDraft>();
  const links = u.links.map((l): NamedLinkSpec => {
    checkMachine(l.namePos, `${l.path}.name`, l.name, nodes, hosts, 'a link');
    const first = seen.get(l.name);
    if (first) failAt(l.namePos, `${l.path}.name`, `the cable of ${JSON.stringify(l.name)} is configured twice (first at line ${first.namePos.line})`);
    seen.set(l.name, l);
    return { name: l.name, latencyNs: l.latencyNs ?? u.defaults.latencyNs, loss: l.loss ?? u.defaults.loss, source: l.source };
  });
  return { defaults: u.defaults, links };
}

/** A name that must be a node's or a host's: the machines with a cable to the switch. */
function checkMachine(pos: SourcePos, path: string, name: string, nodes: readonly NodeSpec[], hosts: readonly HostSpec[], what: string): void {
  if (nodes.some((n) => n.name === name) || hosts.some((h) => h.name === name)) return;
  const known = [...nodes.map((n) => n.name), ...hosts.map((h) => h.name)];
  failAt(pos, path, `${what}: ${JSON.stringify(name)} is not a node or host${known.length > 0 ? ` (there are: ${known.join(', ')})` : ''}`);
}

// ─── Traffic ────────────────────────────────────────────────────────────────────────────────

function readTraffic(cx: Ctx, m: MapView, draft: Draft): Draft['traffic'][number] {
  const kindPos = cx.pos(m.get('kind'));
  const first = draft.traffic[0];
  if (first) cx.fail(m.get('kind'), m.at('kind'), `a second Traffic document (the first is at line ${first.kindPos.line}); put all steps in one list`);
  m.only(['apiVersion', 'kind', 'metadata', 'steps']);
  m.map('metadata')?.only(['name', 'labels', 'annotations']);
  const items = readSeq(cx, m.require('steps', 'is required (a list of command lines)'), m.at('steps'));
  const steps = items.map((item, index) => readStep(cx, item, index));
  return { steps, kindPos };
}

function readStep(cx: Ctx, item: unknown, index: number): StepDraft {
  const path = `steps[${index}]`;
  const n = deref(cx, item, path);
  let runNode: unknown = n;
  let waitNs = 0;
  let expectExit: number | undefined;
  let stdin: string | undefined;
  let stdinNode: unknown;
  if (isMap(n)) {
    const m = new MapView(cx, n, path);
    if (m.entries.size === 1 && !m.entries.has('run')) {
      const [k, e] = [...m.entries][0]!;
      if (/\s/.test(k)) cx.fail(e.key, path, 'this command was read as a mapping because of ": " in it; quote the whole command line');
    }
    m.only(['run', 'stdin', 'at', 'expectExit']);
    runNode = m.require('run', 'is required (the command line)');
    const at = m.get('at');
    if (at !== undefined) {
      const s = isScalar(at) && typeof at.value === 'number' ? undefined : readStr(cx, at, m.at('at'));
      if (s === undefined) cx.fail(at, m.at('at'), `a duration needs a unit (e.g. ${String((at as Scalar).value)}s or 500ms)`);
      try {
        waitNs = parseDuration(s);
      } catch (e) {
        cx.fail(at, m.at('at'), (e as Error).message);
      }
    }
    expectExit = m.int('expectExit', 0, 255);
    stdinNode = m.get('stdin');
    if (stdinNode !== undefined) stdin = readStr(cx, stdinNode, m.at('stdin'));
  } else if (!isScalar(n) || typeof n.value !== 'string') {
    cx.fail(n, path, `a step is a command line or a mapping with run:, not ${describeNode(n)}`);
  }
  const text = readStr(cx, runNode, isMap(n) ? `${path}.run` : path);
  const origin = valueOrigin(cx.origin, runNode as Scalar);
  let command: ParsedCommand;
  try {
    command = parseCommandLine(text);
  } catch (e) {
    if (!(e instanceof CommandLineError)) throw e;
    failAt(origin.posAt(e.offset), path, e.reason);
  }
  // ssh forwards its stdin to the remote command (unless -n, which podwire does not take).
  const readsStdin = command.kind === 'apply' || command.kind === 'ssh' || ((command.kind === 'exec' || command.kind === 'run') && command.interactive);
  if (stdin !== undefined && !readsStdin) {
    cx.fail(stdinNode, `${path}.stdin`, 'the command does not read stdin (kubectl apply -f -, kubectl exec -i, kubectl run -i and ssh do)');
  }
  let applied: PodDraft[] = [];
  if (command.kind === 'apply') {
    if (stdin === undefined) {
      failAt(origin.posAt(0), path, 'kubectl apply -f - reads the manifest from stdin: give it as stdin: | under run:');
    }
    const ns = command.namespace === undefined ? undefined : { value: command.namespace, pos: origin.posAt(command.namespaceOffset) };
    applied = readApplied(valueOrigin(cx.origin, stdinNode as Scalar), `${path}.stdin`, ns, origin.posAt(0));
  }
  return { index, path, text, source: origin.posAt(0), origin, command, waitNs, expectExit, stdin, applied };
}

/** The manifests fed to `kubectl apply -f -`: Pods, read as the file's Pods are. */
function readApplied(origin: Origin, path: string, ns: { value: string; pos: SourcePos } | undefined, at: SourcePos): PodDraft[] {
  const stepPath = path.replace(/\.stdin$/, '');
  const pods: PodDraft[] = [];
  parseYamlStream(origin, path).forEach((cx, i) => {
    const root = cx.doc.contents;
    const docPath = `${path}.documents[${i}]`;
    if (isAbsent(cx, root, docPath)) return;
    const m = readMap(cx, root, docPath, 'a document must be a mapping (apiVersion, kind, metadata, …)');
    readKind(cx, m, ['Pod'], 'in a step (only Pods can be applied)');
    pods.push(readPod(cx, m, `${stepPath}.pods`, ns));
  });
  if (pods.length === 0) failAt(at, stepPath, 'kubectl apply: no objects passed to apply');
  return pods;
}

// ─── Cross-document checks ──────────────────────────────────────────────────────────────────

const podKey = (namespace: string, name: string): string => `${namespace}/${name}`;

function resolve(file: string, draft: Draft): ScenarioSpec {
  const [cluster, second] = draft.clusters;
  if (!cluster) {
    throw new ScenarioError(file, undefined, undefined, 'cluster', `a scenario needs a Cluster document (apiVersion: ${PODWIRE_API_VERSION}, kind: Cluster)`);
  }
  if (second) failAt(second.kindPos, 'cluster', `a second Cluster document (the first is at line ${cluster.kindPos.line})`);
  checkRanges(cluster);
  const nodes = resolveNodes(cluster, draft.nodes);
  const nodesByName = new Map(nodes.map((n) => [n.name, n]));
  const hosts = resolveHosts(cluster, draft.hosts, nodes);
  const configMaps = resolveConfigMaps(draft.configMaps);

  const live = new Map<string, PodDraft>();
  for (const p of draft.pods) {
    const key = podKey(p.spec.namespace, p.spec.name);
    const first = live.get(key);
    if (first) {
      failAt(p.namePos, `${p.path}.metadata.name`,
        `pod ${JSON.stringify(p.spec.name)} in namespace ${JSON.stringify(p.spec.namespace)} is defined twice (first at line ${first.namePos.line})`);
    }
    checkNodeName(p, nodesByName);
    checkVolumeRefs(p, configMaps);
    live.set(key, p);
  }
  for (const s of draft.traffic[0]?.steps ?? []) for (const p of s.applied) checkVolumeRefs(p, configMaps);
  const pods = draft.pods.map((p) => p.spec);
  const steps = (draft.traffic[0]?.steps ?? []).map((s) => resolveStep(s, live, nodes, nodesByName, hosts));
  const clusterSpec: ClusterSpec = {
    name: cluster.name,
    nodeNetwork: cluster.nodeNetwork.cidr,
    podCIDR: cluster.podCIDR.cidr,
    serviceCIDR: cluster.serviceCIDR.cidr,
    nodeSubnetPrefix: cluster.nodeSubnetPrefix,
    mtu: cluster.mtu,
    overlay: cluster.overlay,
    vxlan: cluster.vxlan,
    cni: { config: cluster.cni.json, isDefault: cluster.cni.isDefault, source: cluster.cni.source },
    underlay: resolveUnderlay(cluster.underlay, nodes, hosts),
    gateway: cluster.gateway?.addr,
    nameservers: cluster.nameservers.map((a) => a.addr),
    source: cluster.source,
  };
  const services = resolveServices(cluster, draft.services);
  return { file, cluster: clusterSpec, nodes, pods, hosts, configMaps: configMaps.map((c) => c.spec), services, steps };
}

/** Hosts sit on the node network beside the nodes: unique names and addresses, none a node's. */
function resolveHosts(cluster: ClusterDraft, drafts: readonly HostDraft[], nodes: readonly NodeSpec[]): HostSpec[] {
  const net = cluster.nodeNetwork.cidr;
  const seen = new Map<string, HostDraft>();
  const ips = new Map<number, string>(nodes.map((n) => [n.internalIP.addr, `node ${n.name}`]));
  return drafts.map((h) => {
    const first = seen.get(h.name);
    if (first) failAt(h.namePos, `${h.path}.metadata.name`, `host ${JSON.stringify(h.name)} is defined twice (first at line ${first.namePos.line})`);
    if (nodes.some((n) => n.name === h.name)) failAt(h.namePos, `${h.path}.metadata.name`, `${JSON.stringify(h.name)} is already a node's name`);
    seen.set(h.name, h);
    const path = `${h.path}.spec.address`;
    if (!cidrContains(net, h.address.addr)) failAt(h.addressPos, path, `${h.address.text} is not inside nodeNetwork ${net.text}`);
    const owner = ips.get(h.address.addr);
    if (owner) failAt(h.addressPos, path, `${h.address.text} is already ${owner}'s address`);
    ips.set(h.address.addr, `host ${h.name}`);
    return { name: h.name, address: h.address, command: h.command, args: h.args, files: h.files, workingDir: h.workingDir, source: h.source };
  });
}

/** The node network, pod CIDR and service CIDR must be pairwise disjoint. */
function checkRanges(c: ClusterDraft): void {
  const named: [string, RangeField][] = [
    ['nodeNetwork', c.nodeNetwork],
    ['podCIDR', c.podCIDR],
    ['serviceCIDR', c.serviceCIDR],
  ];
  for (let i = 0; i < named.length; i++) {
    for (let j = i + 1; j < named.length; j++) {
      const [an, a] = named[i]!;
      const [bn, b] = named[j]!;
      if (!cidrsOverlap(a.cidr, b.cidr)) continue;
      // Point at whichever of the two was written later in the file: the one that clashes. (Two
      // defaults never overlap, and nodeNetwork has none, so one of them was written.)
      const later = !b.pos || (a.pos && a.offset > b.offset) ? a : b;
      const shown = (n: string, r: RangeField) => `${n} ${r.cidr.text}${r.pos ? '' : ' (the default)'}`;
      failAt(later.pos!, 'cluster.spec', `${shown(an, a)} overlaps ${shown(bn, b)}`);
    }
  }
}

function resolveNodes(cluster: ClusterDraft, drafts: readonly NodeDraft[]): NodeSpec[] {
  const byName = new Map<string, NodeDraft>();
  const byIp = new Map<number, NodeDraft>();
  const net = cluster.nodeNetwork.cidr;
  for (const n of drafts) {
    const first = byName.get(n.name);
    if (first) failAt(n.namePos, `${n.path}.metadata.name`, `node ${JSON.stringify(n.name)} is defined twice (first at line ${first.namePos.line})`);
    byName.set(n.name, n);
    const ip = n.internalIP;
    if (!cidrContains(net, ip.addr)) failAt(n.internalIPPos, n.internalIPPath, `${ip.text} is not inside nodeNetwork ${net.text}`);
    if (net.prefixLen <= 30 && (ip.addr === net.network || ip.addr === cidrLast(net))) {
      failAt(n.internalIPPos, n.internalIPPath, `${ip.text} is the ${ip.addr === net.network ? 'network' : 'broadcast'} address of nodeNetwork ${net.text}`);
    }
    const other = byIp.get(ip.addr);
    if (other) failAt(n.internalIPPos, n.internalIPPath, `${ip.text} is already node ${other.name}'s address`);
    byIp.set(ip.addr, n);
  }

  const pool = cluster.podCIDR.cidr;
  const taken: { cidr: CidrSpec; node: NodeDraft }[] = [];
  for (const n of drafts) {
    if (!n.podCIDR || !n.podCIDRPos) continue;
    const path = `${n.path}.spec.podCIDR`;
    if (!cidrContainsCidr(pool, n.podCIDR)) failAt(n.podCIDRPos, path, `${n.podCIDR.text} is not inside the cluster podCIDR ${pool.text}`);
    if (n.podCIDR.prefixLen > 30) failAt(n.podCIDRPos, path, `${n.podCIDR.text} is too small for a gateway and pods (use /30 or larger)`);
    const clash = taken.find((t) => cidrsOverlap(t.cidr, n.podCIDR!));
    if (clash) failAt(n.podCIDRPos, path, `${n.podCIDR.text} overlaps node ${clash.node.name}'s podCIDR ${clash.cidr.text}`);
    taken.push({ cidr: n.podCIDR, node: n });
  }
  // kube-controller-manager's range allocator: node subnets already set are occupied first, then
  // each node without one gets the lowest free subnet of nodeSubnetPrefix (cidr_set.go).
  const size = cluster.nodeSubnetPrefix;
  const count = 2 ** (size - pool.prefixLen);
  // Without nodes the config is still judged, as the first node would get it.
  if (drafts.length === 0) resolveCni(cluster.cni, cidrSpec(subnetAt(pool, size, 0)), undefined);
  let next = 0;
  return drafts.map((n): NodeSpec => {
    let podCIDR = n.podCIDR;
    if (!podCIDR) {
      for (;;) {
        if (next >= count) {
          failAt(n.namePos, `${n.path}.spec.podCIDR`, `no free /${size} left in podCIDR ${pool.text} for node ${n.name}`);
        }
        const candidate = cidrSpec(subnetAt(pool, size, next));
        const clash = taken.find((t) => cidrsOverlap(t.cidr, candidate));
        if (!clash) {
          podCIDR = candidate;
          taken.push({ cidr: candidate, node: n });
          next++;
          break;
        }
        // Skip past the occupied subnet in one step, however large it is.
        const clashEnd = cidrLast(clash.cidr) + 1;
        next = Math.max(next + 1, Math.ceil((clashEnd - pool.network) / 2 ** (32 - size)));
      }
    }
    const cni = resolveCni(cluster.cni, podCIDR, n.name);
    return {
      name: n.name,
      labels: n.labels,
      internalIP: n.internalIP,
      podCIDR,
      isPodCIDRAllocated: n.podCIDR === undefined,
      cni: cni.config,
      cniConfigJson: cni.json,
      source: n.source,
    };
  });
}

function checkNodeName(p: PodDraft, nodes: ReadonlyMap<string, NodeSpec>): void {
  if (!nodes.has(p.spec.nodeName)) {
    const known = [...nodes.keys()];
    failAt(p.nodeNamePos, `${p.path}.spec.nodeName`,
      `node ${JSON.stringify(p.spec.nodeName)} does not exist${known.length > 0 ? ` (nodes: ${known.join(', ')})` : ' (the scenario has no Node)'}`);
  }
}

/** Replays the steps' effect on the set of pods, so each step's pod exists when it runs. */
function resolveStep(
  s: StepDraft,
  live: Map<string, PodDraft>,
  nodes: readonly NodeSpec[],
  nodesByName: ReadonlyMap<string, NodeSpec>,
  hosts: readonly HostSpec[],
): StepSpec {
  const common = {
    index: s.index,
    text: s.text,
    source: s.source,
    path: s.path,
    waitNs: s.waitNs,
    expectExit: s.expectExit,
    stdin: s.stdin,
  };
  const c = s.command;
  const at = (offset: number) => s.origin.posAt(offset);
  const mustExist = (namespace: string, name: string, offset: number): PodDraft => {
    const p = live.get(podKey(namespace, name));
    if (!p) failAt(at(offset), s.path, `pod ${JSON.stringify(name)} does not exist in namespace ${JSON.stringify(namespace)} at this step`);
    return p;
  };
  const mustBeNew = (namespace: string, name: string, pos: SourcePos): void => {
    if (live.has(podKey(namespace, name))) {
      failAt(pos, s.path, `pod ${JSON.stringify(name)} already exists in namespace ${JSON.stringify(namespace)} (pods are immutable: delete it in an earlier step)`);
    }
  };
  switch (c.kind) {
    case 'exec': {
      const namespace = c.namespace ?? 'default';
      const pod = mustExist(namespace, c.pod, c.podOffset);
      if (c.container !== undefined && !pod.spec.containers.some((x) => x.name === c.container)) {
        failAt(at(c.containerOffset), s.path,
          `container ${JSON.stringify(c.container)} is not in pod ${c.pod} (containers: ${pod.spec.containers.map((x) => x.name).join(', ')})`);
      }
      return { ...common, kind: 'exec', namespace, pod: c.pod, container: c.container, argv: c.argv, interactive: c.interactive, tty: c.tty };
    }
    case 'delete-pod': {
      const namespace = c.namespace ?? 'default';
      for (const p of c.pods) {
        if (!c.ignoreNotFound) mustExist(namespace, p.name, p.offset);
        live.delete(podKey(namespace, p.name));
      }
      return {
        ...common,
        kind: 'delete-pod',
        namespace,
        pods: c.pods.map((p) => p.name),
        gracePeriodSeconds: c.gracePeriodSeconds,
        ignoreNotFound: c.ignoreNotFound,
      };
    }
    case 'apply': {
      for (const p of s.applied) {
        mustBeNew(p.spec.namespace, p.spec.name, p.namePos);
        checkNodeName(p, nodesByName);
        live.set(podKey(p.spec.namespace, p.spec.name), p);
      }
      return { ...common, kind: 'apply', pods: s.applied.map((p) => p.spec) };
    }
    case 'run': {
      const draft = runPod(s, c, live, nodes, nodesByName);
      mustBeNew(draft.spec.namespace, draft.spec.name, draft.namePos);
      live.set(podKey(draft.spec.namespace, draft.spec.name), draft);
      if (c.rm) live.delete(podKey(draft.spec.namespace, draft.spec.name));
      return { ...common, kind: 'run', pod: draft.spec, attach: c.attach, rm: c.rm };
    }
    case 'sleep':
      return { ...common, kind: 'sleep', durationNs: c.durationNs };
    case 'kubectl-view':
      return { ...common, kind: 'kubectl-view', argv: c.argv };
    case 'link':
      checkMachine(at(c.nameOffset), s.path, c.name, nodes, hosts, 'podwire link');
      return { ...common, kind: 'link', name: c.name, up: c.up };
    case 'ssh':
      checkMachine(at(c.hostOffset), s.path, c.host, nodes, hosts, 'ssh');
      return { ...common, kind: 'ssh', host: c.host, argv: c.argv };
    case 'stop': {
      const namespace = c.namespace ?? 'default';
      const pod = mustExist(namespace, c.pod, c.podOffset);
      if (c.container !== undefined && !pod.spec.containers.some((x) => x.name === c.container)) {
        failAt(at(c.containerOffset), s.path,
          `container ${JSON.stringify(c.container)} is not in pod ${c.pod} (containers: ${pod.spec.containers.map((x) => x.name).join(', ')})`);
      }
      return { ...common, kind: 'stop', namespace, pod: c.pod, container: c.container };
    }
  }
}

/**
 * The Pod `kubectl run` creates (kubectl's generator, run.go): one container named after the pod,
 * label run=NAME unless --labels, the words after the name as args (or the command with
 * --command). Without a scheduler, the node comes from --overrides' spec.nodeName, else the node
 * with the fewest pods at that step (the first in file order on a tie).
 */
function runPod(
  s: StepDraft,
  c: ParsedRun,
  live: ReadonlyMap<string, PodDraft>,
  nodes: readonly NodeSpec[],
  nodesByName: ReadonlyMap<string, NodeSpec>,
): PodDraft {
  const at = (offset: number) => s.origin.posAt(offset);
  const fail = (offset: number, reason: string): never => failAt(at(offset), s.path, reason);
  const nameProblem = dns1123LabelProblem(c.name);
  if (nameProblem) fail(c.nameOffset, `kubectl run: pod name ${nameProblem}`);
  const namespace = c.namespace ?? 'default';
  const nsProblem = dns1123LabelProblem(namespace);
  if (nsProblem) fail(0, `kubectl run: namespace ${nsProblem}`);
  const labels: [string, string][] = [];
  for (const l of c.labels ?? [{ key: 'run', value: c.name }]) {
    const problem = qualifiedNameProblem(l.key) ?? labelValueProblem(l.value);
    if (problem) fail(c.labelsOffset, `kubectl run: --labels: ${problem}`);
    labels.push([l.key, l.value]);
  }
  for (const a of c.annotations) {
    const problem = qualifiedNameProblem(a.key);
    if (problem) fail(a.offset, `kubectl run: --annotations: ${problem}`);
  }
  for (const e of c.env) if (!ENV_NAME.test(e.name)) fail(e.offset, `kubectl run: --env: ${JSON.stringify(e.name)} is not a valid environment variable name`);
  let nodeName = c.nodeName;
  if (nodeName !== undefined) {
    if (!nodesByName.has(nodeName)) fail(c.nodeNameOffset, `kubectl run: node ${JSON.stringify(nodeName)} does not exist (nodes: ${[...nodesByName.keys()].join(', ')})`);
  } else {
    if (nodes.length === 0) fail(c.nameOffset, 'kubectl run: the scenario has no Node to run the pod on');
    const load = new Map<string, number>(nodes.map((n) => [n.name, 0]));
    for (const p of live.values()) load.set(p.spec.nodeName, (load.get(p.spec.nodeName) ?? 0) + 1);
    nodeName = nodes.reduce((best, n) => (load.get(n.name)! < load.get(best.name)! ? n : best), nodes[0]!).name;
  }
  const pos = at(c.nameOffset);
  const container: ContainerSpec = {
    name: c.name,
    image: c.image,
    command: c.isCommand ? c.argv : undefined,
    args: !c.isCommand && c.argv.length > 0 ? c.argv : undefined,
    workingDir: undefined,
    volumeMounts: [],
    ports: c.port === undefined ? [] : [{ containerPort: c.port, protocol: 'TCP', name: undefined }],
    env: c.env.map((e) => ({ name: e.name, value: e.value })),
    readinessProbe: undefined,
    livenessProbe: undefined,
    startupProbe: undefined,
    source: pos,
  };
  const spec: PodSpec = {
    name: c.name,
    namespace,
    labels: Object.fromEntries(labels),
    annotations: Object.fromEntries(c.annotations.map((a) => [a.key, a.value])),
    nodeName,
    containers: [container],
    restartPolicy: c.restartPolicy,
    dnsPolicy: 'ClusterFirst',
    hostname: undefined,
    subdomain: undefined,
    dnsConfig: undefined,
    volumes: [],
    source: pos,
  };
  return { spec, path: `${s.path}.pods[${c.name}]`, namePos: pos, nodeNamePos: at(c.nodeNameOffset) };
}

// ─── ConfigMaps and volumes ─────────────────────────────────────────────────────────────────

interface ConfigMapDraft {
  readonly spec: ConfigMapSpec;
  readonly namePos: SourcePos;
  readonly path: string;
}

/** A pod's reference to a ConfigMap, kept with positions until every ConfigMap is known. */
interface VolumeRef {
  readonly configMap: string;
  readonly pos: SourcePos;
  readonly path: string;
  readonly optional: boolean;
  readonly items: readonly { readonly key: string; readonly pos: SourcePos; readonly path: string }[];
}

/** ConfigMap keys: apimachinery IsConfigMapKey ([-._a-zA-Z0-9]+, not `.` or `..`, at most 253). */
function configMapKeyProblem(k: string): string | undefined {
  if (k.length === 0 || k.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(k) || k === '.' || k === '..' || k.startsWith('..')) {
    return `key ${JSON.stringify(k)} is not a valid ConfigMap key (up to 253 of a-z, A-Z, 0-9, '-', '_', '.'; not '.', '..' or starting with '..')`;
  }
  return undefined;
}

function readConfigMap(cx: Ctx, m: MapView): ConfigMapDraft {
  m.only(['apiVersion', 'kind', 'metadata', 'data', 'binaryData', 'immutable']);
  const meta = readMetadata(cx, m, dns1123SubdomainProblem);
  const nsNode = meta.md.get('namespace');
  const namespace = nsNode === undefined ? 'default' : readName(cx, nsNode, meta.md.at('namespace'), dns1123LabelProblem);
  const path = `configMaps[${namespace === 'default' ? '' : `${namespace}/`}${meta.name}]`;
  const named = new MapView(cx, m.node, path);
  named.notYet('binaryData', 'binaryData');
  named.bool('immutable');
  const data: [string, string][] = [];
  const dm = named.map('data');
  if (dm) {
    for (const [k, e] of dm.entries) {
      const problem = configMapKeyProblem(k);
      if (problem) cx.fail(e.key, dm.at(k), problem);
      data.push([k, isAbsent(cx, e.value, dm.at(k)) ? '' : readStr(cx, e.value, dm.at(k))]);
    }
  }
  return { spec: { name: meta.name, namespace, data: Object.fromEntries(data), source: cx.pos(m.node) }, namePos: meta.namePos, path };
}

function resolveConfigMaps(drafts: readonly ConfigMapDraft[]): ConfigMapDraft[] {
  const seen = new Map<string, ConfigMapDraft>();
  for (const c of drafts) {
    const key = `${c.spec.namespace}/${c.spec.name}`;
    const first = seen.get(key);
    if (first) failAt(c.namePos, `${c.path}.metadata.name`, `ConfigMap ${JSON.stringify(c.spec.name)} in namespace ${JSON.stringify(c.spec.namespace)} is defined twice (first at line ${first.namePos.line})`);
    seen.set(key, c);
  }
  return [...drafts];
}

/** spec.volumes: only configMap volumes (emptyDir, secret, … are not modelled yet). */
function readVolumes(cx: Ctx, spec: MapView): { volumes: VolumeSpec[]; refs: VolumeRef[] } {
  const volumes: VolumeSpec[] = [];
  const refs: VolumeRef[] = [];
  (spec.seq('volumes') ?? []).forEach((item, i) => {
    const v = readMap(cx, item, spec.at(`volumes[${i}]`));
    const name = readName(cx, v.require('name'), v.at('name'), dns1123LabelProblem);
    const clash = volumes.findIndex((x) => x.name === name);
    if (clash >= 0) cx.fail(v.get('name'), v.at('name'), `volume name ${JSON.stringify(name)} is also volumes[${clash}]'s`);
    const sources = [...v.entries.keys()].filter((k) => k !== 'name');
    if (!v.entries.has('configMap')) {
      const what = sources[0];
      if (what === undefined) return v.cx.fail(v.node, v.path, 'a volume needs a source (configMap: {name: …})');
      return v.cx.fail(v.entries.get(what)!.key, v.at(what), `${what} volumes are not supported yet (only configMap)`);
    }
    v.only(['name', 'configMap']);
    const cm = readMap(cx, v.get('configMap'), v.at('configMap'));
    cm.only(['name', 'items', 'defaultMode', 'optional']);
    const cmNameNode = cm.require('name', 'is required (the ConfigMap to mount)');
    const configMap = readName(cx, cmNameNode, cm.at('name'), dns1123SubdomainProblem);
    cm.int('defaultMode', 0, 0o777);
    const optional = cm.bool('optional') ?? false;
    const itemNodes = cm.seq('items');
    const items = itemNodes?.map((it, j) => {
      const im = readMap(cx, it, cm.at(`items[${j}]`));
      im.only(['key', 'path', 'mode']);
      const keyNode = im.require('key');
      const key = readStr(cx, keyNode, im.at('key'));
      const pathNode = im.require('path');
      const p = readStr(cx, pathNode, im.at('path'));
      if (p === '' || p.startsWith('/') || p.split('/').includes('..')) cx.fail(pathNode, im.at('path'), `${JSON.stringify(p)} must be a relative path without '..'`);
      return { key, path: p, keyPos: cx.pos(keyNode), keyPath: im.at('key') };
    });
    volumes.push({ name, configMap, items: items?.map(({ key, path }) => ({ key, path })) });
    refs.push({ configMap, pos: cx.pos(cmNameNode), path: cm.at('name'), optional, items: (items ?? []).map((x) => ({ key: x.key, pos: x.keyPos, path: x.keyPath })) });
  });
  return { volumes, refs };
}

/** volumeMounts: each names a volume of the pod, at an absolute path. */
function readVolumeMounts(cx: Ctx, c: MapView, volumes: readonly VolumeSpec[]): VolumeMountSpec[] {
  const mounts: VolumeMountSpec[] = [];
  (c.seq('volumeMounts') ?? []).forEach((item, i) => {
    const vm = readMap(cx, item, c.at(`volumeMounts[${i}]`));
    vm.only(['name', 'mountPath', 'readOnly', 'subPath', 'subPathExpr', 'mountPropagation', 'recursiveReadOnly']);
    vm.notYet('subPath', 'subPath');
    vm.notYet('subPathExpr', 'subPathExpr');
    const nameNode = vm.require('name');
    const name = readStr(cx, nameNode, vm.at('name'));
    if (!volumes.some((v) => v.name === name)) {
      const known = volumes.map((v) => v.name);
      cx.fail(nameNode, vm.at('name'), `volume ${JSON.stringify(name)} is not in the pod's spec.volumes${known.length ? ` (volumes: ${known.join(', ')})` : ' (the pod has none)'}`);
    }
    const mpNode = vm.require('mountPath', 'is required (an absolute path in the container)');
    const mountPath = readStr(cx, mpNode, vm.at('mountPath'));
    if (!mountPath.startsWith('/')) cx.fail(mpNode, vm.at('mountPath'), `${JSON.stringify(mountPath)} must be an absolute path`);
    const dup = mounts.find((x) => x.mountPath === mountPath);
    if (dup) cx.fail(mpNode, vm.at('mountPath'), `${mountPath} is already the mount path of volume ${dup.name}`);
    mounts.push({ name, mountPath, readOnly: vm.bool('readOnly') ?? false });
  });
  return mounts;
}

function readWorkingDir(c: MapView): string | undefined {
  const w = c.str('workingDir');
  if (w !== undefined && w !== '' && !w.startsWith('/')) c.fail('workingDir', `${JSON.stringify(w)} must be an absolute path`);
  return w === '' ? undefined : w;
}

/**
 * Each configMap volume names a ConfigMap of the pod's namespace, and its items name keys it has.
 * (The kubelet would leave the pod in ContainerCreating with a FailedMount event instead; a
 * scenario that means that says optional: true or leaves the ConfigMap out on purpose — here a
 * missing one is taken for a typo, unless optional.)
 */
function checkVolumeRefs(p: PodDraft, configMaps: readonly ConfigMapDraft[]): void {
  for (const ref of p.volumeRefs ?? []) {
    const cm = configMaps.find((c) => c.spec.name === ref.configMap && c.spec.namespace === p.spec.namespace);
    if (!cm) {
      if (ref.optional) continue;
      const names = configMaps.filter((c) => c.spec.namespace === p.spec.namespace).map((c) => c.spec.name);
      failAt(ref.pos, ref.path, `ConfigMap ${JSON.stringify(ref.configMap)} does not exist in namespace ${JSON.stringify(p.spec.namespace)}${names.length ? ` (ConfigMaps: ${names.join(', ')})` : ''}`);
    }
    for (const item of ref.items) {
      if (!Object.hasOwn(cm.spec.data, item.key)) {
        failAt(item.pos, item.path, `key ${JSON.stringify(item.key)} is not in ConfigMap ${ref.configMap} (keys: ${Object.keys(cm.spec.data).join(', ') || 'none'})`);
      }
    }
  }
}

// ─── Probes ─────────────────────────────────────────────────────────────────────────────────

/**
 * A readinessProbe as the apiserver validates and defaults it (validateProbe, SetDefaults_Probe):
 * exactly one handler — httpGet (path, port, scheme HTTP, httpHeaders) or tcpSocket (port) here;
 * exec and grpc are not modelled yet — and the timings with their defaults: initialDelaySeconds 0,
 * periodSeconds 10, timeoutSeconds 1, successThreshold 1, failureThreshold 3.
 */
function readProbe(cx: Ctx, node: unknown, path: string): ProbeSpec {
  const m = readMap(cx, node, path);
  m.only(['httpGet', 'tcpSocket', 'exec', 'grpc', 'initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds']);
  const handlers = ['httpGet', 'tcpSocket', 'exec', 'grpc'].filter((k) => m.get(k) !== undefined);
  if (handlers.length === 0) cx.fail(m.node, path, 'must specify a handler type (httpGet or tcpSocket)');
  if (handlers.length > 1) m.fail(handlers[1]!, 'may not specify more than 1 handler type');
  const handler = handlers[0]!;
  if (handler === 'exec' || handler === 'grpc') m.fail(handler, `${handler} probes are not supported yet (httpGet and tcpSocket are)`);
  const readPort = (h: MapView): number | string => {
    const n = h.require('port', 'is required (a number or a container port name)');
    const d = deref(cx, n, h.at('port'));
    if (isScalar(d) && typeof d.value === 'number') return readInt(cx, d, h.at('port'), 1, 65535);
    return readName(cx, d, h.at('port'), portNameProblem);
  };
  let action: ProbeAction;
  if (handler === 'httpGet') {
    const h = m.map('httpGet')!;
    h.only(['path', 'port', 'scheme', 'host', 'httpHeaders']);
    h.notYet('host', 'httpGet.host');
    const scheme = h.get('scheme') === undefined ? 'HTTP' : readEnum(cx, h.get('scheme'), h.at('scheme'), ['HTTP', 'HTTPS']);
    if (scheme === 'HTTPS') h.fail('scheme', 'HTTPS probes are not supported yet (no TLS)');
    const httpHeaders = (h.seq('httpHeaders') ?? []).map((item, i) => {
      const hh = readMap(cx, item, h.at(`httpHeaders[${i}]`));
      hh.only(['name', 'value']);
      const name = readName(cx, hh.require('name'), hh.at('name'), (v) => (/^[-!#$%&'*+.^_`|~0-9A-Za-z]+$/.test(v) ? undefined : `${JSON.stringify(v)} is not a valid HTTP header name`));
      return { name, value: hh.str('value') ?? '' };
    });
    action = { kind: 'httpGet', path: h.str('path') ?? '/', port: readPort(h), httpHeaders };
  } else {
    const t = m.map('tcpSocket')!;
    t.only(['port', 'host']);
    t.notYet('host', 'tcpSocket.host');
    action = { kind: 'tcpSocket', port: readPort(t) };
  }
  m.int('terminationGracePeriodSeconds', 1, 2 ** 31 - 1);
  return {
    action,
    initialDelaySeconds: m.int('initialDelaySeconds', 0, 2 ** 31 - 1) ?? 0,
    periodSeconds: m.int('periodSeconds', 1, 2 ** 31 - 1) ?? 10,
    timeoutSeconds: m.int('timeoutSeconds', 1, 2 ** 31 - 1) ?? 1,
    successThreshold: m.int('successThreshold', 1, 2 ** 31 - 1) ?? 1,
    failureThreshold: m.int('failureThreshold', 1, 2 ** 31 - 1) ?? 3,
  };
}

// ─── Services ───────────────────────────────────────────────────────────────────────────────

interface ServiceDraft {
  readonly spec: ServiceSpec;
  readonly path: string;
  readonly namePos: SourcePos;
  /** The clusterIP node's position, when one is given. */
  readonly clusterIPPos: SourcePos | undefined;
  readonly clusterIPPath: string;
}

const SERVICE_SPEC_USED = [
  'type', 'selector', 'ports', 'clusterIP', 'clusterIPs', 'externalName', 'sessionAffinity', 'sessionAffinityConfig',
  'internalTrafficPolicy', 'publishNotReadyAddresses', 'ipFamilies', 'ipFamilyPolicy', 'externalIPs',
];
const SERVICE_SPEC_IGNORED = ['allocateLoadBalancerNodePorts', 'externalTrafficPolicy', 'healthCheckNodePort', 'loadBalancerClass', 'loadBalancerIP', 'loadBalancerSourceRanges', 'trafficDistribution'];

/** A Service manifest, checked as the apiserver's ValidateService checks it (the parts podwire models). */
function readService(cx: Ctx, m: MapView): ServiceDraft {
  m.only(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  const meta = readMetadata(cx, m, dns1123LabelProblem);
  const nsNode = meta.md.get('namespace');
  const namespace = nsNode === undefined ? 'default' : readName(cx, nsNode, meta.md.at('namespace'), dns1123LabelProblem);
  const path = `services[${namespace === 'default' ? '' : `${namespace}/`}${meta.name}]`;
  const at = (p: string) => `${path}.${p}`;
  const { labels, annotations } = readMetadataLabels(cx, meta.md, at('metadata'));
  const spec = readMap(cx, m.get('spec') ?? cx.fail(m.where('spec'), at('spec'), 'spec is required (ports, selector)'), at('spec'));
  spec.only([...SERVICE_SPEC_USED, ...SERVICE_SPEC_IGNORED]);
  spec.notYet('externalIPs', 'externalIPs');
  const typeNode = spec.get('type');
  const typeText = typeNode === undefined ? 'ClusterIP' : readStr(cx, typeNode, spec.at('type'));
  if (typeText === 'NodePort' || typeText === 'LoadBalancer') spec.fail('type', `type ${typeText} is not supported yet (ClusterIP and ExternalName are)`);
  const type = typeNode === undefined ? 'ClusterIP' : readEnum(cx, typeNode, spec.at('type'), SERVICE_TYPES);
  if (spec.get('ipFamilies') !== undefined) {
    readStrList(cx, spec.get('ipFamilies'), spec.at('ipFamilies')).forEach((f, i) => {
      if (f !== 'IPv4') cx.fail(spec.seq('ipFamilies')![i], spec.at(`ipFamilies[${i}]`), `${f} is not supported (podwire clusters are IPv4 single-stack)`);
    });
  }
  if (spec.get('ipFamilyPolicy') !== undefined) readEnum(cx, spec.get('ipFamilyPolicy'), spec.at('ipFamilyPolicy'), ['SingleStack']);

  const selectorMap = spec.map('selector');
  const selector = selectorMap === undefined ? undefined : readLabels(cx, selectorMap, true);

  // clusterIP and clusterIPs[0] must agree (ValidateService: "must be equal to clusterIP").
  const ipNode = spec.get('clusterIP');
  const ipsList = spec.seq('clusterIPs');
  if (ipsList && ipsList.length > 1) cx.fail(ipsList[1], spec.at('clusterIPs[1]'), 'a second ClusterIP (dual-stack) is not supported');
  const ipsFirst = ipsList?.[0];
  let clusterIP: AddressSpec | 'None' | undefined;
  const readIp = (n: unknown, p: string): AddressSpec | 'None' | undefined => {
    const v = readStr(cx, n, p);
    if (v === '') return undefined;
    if (v === 'None') return 'None';
    return readAddress(cx, n, p);
  };
  const ipPath = ipNode !== undefined ? spec.at('clusterIP') : spec.at('clusterIPs[0]');
  if (ipNode !== undefined) clusterIP = readIp(ipNode, spec.at('clusterIP'));
  if (ipsFirst !== undefined) {
    const first = readIp(ipsFirst, spec.at('clusterIPs[0]'));
    const text = (v: typeof first) => (v === undefined ? '' : v === 'None' ? 'None' : v.text);
    if (ipNode !== undefined && text(first) !== text(clusterIP)) cx.fail(ipsFirst, spec.at('clusterIPs[0]'), `must be equal to clusterIP ${JSON.stringify(text(clusterIP))}`);
    clusterIP ??= first;
  }
  const clusterIPNode = ipNode ?? ipsFirst;

  let externalName: string | undefined;
  if (type === 'ExternalName') {
    externalName = readName(cx, spec.require('externalName', 'is required for type ExternalName (a DNS name)'), spec.at('externalName'), (v) => {
      const name = v.endsWith('.') ? v.slice(0, -1) : v;
      return dns1123SubdomainProblem(name.toLowerCase()) === undefined ? undefined : `${JSON.stringify(v)} is not a valid DNS name`;
    });
    if (clusterIP !== undefined) cx.fail(clusterIPNode, ipPath, 'must be empty for type ExternalName');
  } else if (spec.get('externalName') !== undefined) {
    spec.fail('externalName', 'is only used with type ExternalName');
  }

  const portItems = spec.seq('ports') ?? [];
  if (portItems.length === 0 && type === 'ClusterIP' && clusterIP !== 'None') {
    cx.fail(spec.get('ports') ?? spec.where('ports'), spec.at('ports'), 'at least one port is required (a headless Service, clusterIP: None, may have none)');
  }
  const names = new Map<string, number>();
  const pairs = new Map<string, number>();
  const ports = portItems.map((item, i): ServicePortSpec => {
    const p = readMap(cx, item, spec.at(`ports[${i}]`));
    p.only(['name', 'protocol', 'port', 'targetPort', 'nodePort', 'appProtocol']);
    p.notYet('nodePort', 'nodePort');
    p.str('appProtocol');
    const nameNode = p.get('name');
    const name = nameNode === undefined ? '' : readName(cx, nameNode, p.at('name'), (v) => (v === '' ? undefined : dns1123LabelProblem(v)));
    if (portItems.length > 1 && name === '') cx.fail(nameNode ?? item, p.at('name'), 'is required when a Service has more than one port');
    const seen = names.get(name);
    if (name !== '' && seen !== undefined) cx.fail(nameNode, p.at('name'), `duplicate port name ${JSON.stringify(name)} (also ports[${seen}])`);
    names.set(name, i);
    const protoNode = p.get('protocol');
    const protocol = protoNode === undefined ? 'TCP' : readEnum<PortProtocol>(cx, protoNode, p.at('protocol'), PORT_PROTOCOLS);
    const port = readInt(cx, p.require('port', 'is required (1..65535)'), p.at('port'), 1, 65535);
    const pairKey = `${port}/${protocol}`;
    const dup = pairs.get(pairKey);
    if (dup !== undefined) cx.fail(p.get('port'), p.at('port'), `duplicate port ${pairKey} (also ports[${dup}])`);
    pairs.set(pairKey, i);
    const tpNode = p.get('targetPort');
    let targetPort: number | string = port;
    if (tpNode !== undefined) {
      const d = deref(cx, tpNode, p.at('targetPort'));
      if (isScalar(d) && typeof d.value === 'number') targetPort = readInt(cx, d, p.at('targetPort'), 1, 65535);
      else targetPort = readName(cx, d, p.at('targetPort'), portNameProblem);
    }
    return { name, protocol, port, targetPort };
  });

  const affinity = spec.get('sessionAffinity') === undefined ? 'None' : readEnum(cx, spec.get('sessionAffinity'), spec.at('sessionAffinity'), ['None', 'ClientIP'] as const);
  let affinityTimeoutSeconds: number | undefined;
  const sac = spec.map('sessionAffinityConfig');
  if (sac) {
    sac.only(['clientIP']);
    const cip = sac.map('clientIP');
    cip?.only(['timeoutSeconds']);
    if (affinity !== 'ClientIP') sac.fail('clientIP', 'is only used with sessionAffinity ClientIP');
    affinityTimeoutSeconds = cip?.int('timeoutSeconds', 1, 86400);
  }
  if (affinity === 'ClientIP') affinityTimeoutSeconds ??= 10800;
  const itp = spec.get('internalTrafficPolicy') === undefined ? 'Cluster' : readEnum(cx, spec.get('internalTrafficPolicy'), spec.at('internalTrafficPolicy'), ['Cluster', 'Local'] as const);
  return {
    spec: {
      name: meta.name, namespace, labels, annotations, type, selector: type === 'ExternalName' ? undefined : selector, ports,
      clusterIP, externalName, sessionAffinity: affinity, affinityTimeoutSeconds, internalTrafficPolicy: itp,
      publishNotReadyAddresses: spec.bool('publishNotReadyAddresses') ?? false,
      source: cx.pos(m.node), clusterIPSource: clusterIPNode === undefined ? cx.pos(m.node) : cx.pos(clusterIPNode),
    },
    path,
    namePos: meta.namePos,
    clusterIPPos: clusterIPNode === undefined ? undefined : cx.pos(clusterIPNode),
    clusterIPPath: ipPath,
  };
}

/**
 * Names are unique per namespace; a given ClusterIP lies inside the service CIDR, is not the
 * range's network or broadcast address nor kubernetes.default's, and no two Services give the
 * same one (the allocator's checks, made here so the message points at the line).
 */
function resolveServices(cluster: ClusterDraft, drafts: readonly ServiceDraft[]): ServiceSpec[] {
  const cidr = cluster.serviceCIDR.cidr;
  const range = { network: cidr.network, prefixLen: cidr.prefixLen };
  const seen = new Map<string, ServiceDraft>();
  const ips = new Map<number, ServiceDraft>();
  for (const d of drafts) {
    const key = `${d.spec.namespace}/${d.spec.name}`;
    const first = seen.get(key);
    if (first || key === 'default/kubernetes') {
      failAt(d.namePos, `${d.path}.metadata.name`, first
        ? `Service ${JSON.stringify(d.spec.name)} in namespace ${JSON.stringify(d.spec.namespace)} is defined twice (first at line ${first.namePos.line})`
        : 'the kubernetes Service in default exists in every cluster (the apiserver creates it)');
    }
    seen.set(key, d);
    const ip = d.spec.clusterIP;
    if (ip === undefined || ip === 'None') continue;
    const pos = d.clusterIPPos!;
    if (!cidrContains(range, ip.addr) || ip.addr === cidr.network || ip.addr === cidrLast(range)) {
      failAt(pos, d.clusterIPPath, `failed to allocate IP ${ip.text}: provided IP (${ip.text}) is not in the valid range. The range of valid IPs is ${cidr.text}`);
    }
    const other = ips.get(ip.addr);
    if (ip.addr === ((cidr.network + 1) >>> 0)) failAt(pos, d.clusterIPPath, `failed to allocate IP ${ip.text}: provided IP is already allocated (kubernetes.default has it)`);
    if (other) failAt(pos, d.clusterIPPath, `failed to allocate IP ${ip.text}: provided IP is already allocated (Service ${other.spec.name}, line ${other.namePos.line})`);
    ips.set(ip.addr, d);
  }
  return drafts.map((d) => d.spec);
}
