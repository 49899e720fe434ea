/**
 * Traffic steps are written as the command lines people type (`kubectl exec client -- ping -c 2
 * 10.244.1.3`). This file splits such a line into words as a POSIX shell does (quotes, backslash
 * escapes) and parses kubectl's flags as kubectl does (spf13/pflag: `-n NS`, `-nNS`, `-it`,
 * `--flag=value`, `--` ending the flags). It is string work only: positions are offsets in the
 * command text, and the loader turns a CommandLineError into a ScenarioError at the file's line.
 *
 * What a shell would do beyond splitting words — pipes, redirections, command lists, variables,
 * command substitution — is refused with a message naming the operator: a step is one command.
 */

/** A bad command line: `offset` is the character of the command text the reason is about. */
export class CommandLineError extends Error {
  override readonly name = 'CommandLineError';
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`at offset ${offset}: ${reason}`);
  }
}

/** One word after quote removal, with the offsets of its first character and one past its last. */
export interface ShellWord {
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

// ─── Tokenising ─────────────────────────────────────────────────────────────────────────────

const OPERATOR_NAMES: Readonly<Record<string, string>> = {
  '|': 'a pipe',
  '||': 'a command list',
  '&&': 'a command list',
  '&': 'a background job',
  ';': 'a command list',
  ';;': 'a command list',
  '<': 'a redirection',
  '<<': 'a redirection',
  '>': 'a redirection',
  '>>': 'a redirection',
  '>|': 'a redirection',
  '<>': 'a redirection',
  '<&': 'a redirection',
  '>&': 'a redirection',
  '(': 'a subshell',
  ')': 'a subshell',
};

const isBlank = (c: string): boolean => c === ' ' || c === '\t';

/** A `$` that a shell would expand (a variable, `${…}`, `$(…)`, `$1`, `$?` …), not a literal `$`. */
function isExpansion(text: string, i: number): boolean {
  const next = text[i + 1];
  return next !== undefined && /[A-Za-z0-9_{(@*#?$!-]/.test(next);
}

/**
 * Splits a command line into words as sh does (XCU 2.2 quoting, 2.3 token recognition) for the
 * subset a step may use: blanks separate words; '…' keeps everything literally; "…" keeps all
 * but `\` before `$ \` " \ newline`; an unquoted `\` keeps the next character; backslash-newline
 * joins lines; `#` at the start of a word begins a comment. Operators, expansions and a second
 * command on another line throw CommandLineError.
 */
export function tokenizeCommandLine(text: string): ShellWord[] {
  const words: ShellWord[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (isBlank(c) || c === '\r') {
      i++;
      continue;
    }
    if (c === '\n') {
      if (/^\s*$/.test(text.slice(i))) break;
      throw new CommandLineError(i, 'a step is one command: a new line starts a second one (end the line with \\ to continue it)');
    }
    if (c === '#') {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? n : eol;
      continue;
    }
    const start = i;
    let value = '';
    let isWord = false;
    while (i < n) {
      const ch = text[i]!;
      if (isBlank(ch) || ch === '\n' || ch === '\r') break;
      if (ch === '\\') {
        const next = text[i + 1];
        if (next === undefined) throw new CommandLineError(i, 'a backslash at the end of the command escapes nothing');
        if (next === '\n') {
          i += 2;
          continue;
        }
        if (next === '\r' && text[i + 2] === '\n') {
          i += 3;
          continue;
        }
        value += next;
        isWord = true;
        i += 2;
        continue;
      }
      if (ch === "'") {
        const close = text.indexOf("'", i + 1);
        if (close < 0) throw new CommandLineError(i, 'unterminated single quote');
        value += text.slice(i + 1, close);
        isWord = true;
        i = close + 1;
        continue;
      }
      if (ch === '"') {
        const open = i;
        i++;
        for (;;) {
          const q = text[i];
          if (q === undefined) throw new CommandLineError(open, 'unterminated double quote');
          if (q === '"') break;
          if (q === '\\') {
            const next = text[i + 1];
            if (next === '\n') {
              i += 2;
            } else if (next === '$' || next === '`' || next === '"' || next === '\\') {
              value += next;
              i += 2;
            } else {
              value += q;
              i++;
            }
            continue;
          }
          if (q === '$' && isExpansion(text, i)) throw expansionError(text, i);
          if (q === '`') throw new CommandLineError(i, 'command substitution (`…`) is not supported in a step');
          value += q;
          i++;
        }
        isWord = true;
        i++;
        continue;
      }
      if (ch === '$' && isExpansion(text, i)) throw expansionError(text, i);
      if (ch === '`') throw new CommandLineError(i, 'command substitution (`…`) is not supported in a step');
      if ('|&;<>()'.includes(ch)) {
        const two = text.slice(i, i + 2);
        const op = OPERATOR_NAMES[two] !== undefined ? two : ch;
        throw new CommandLineError(i, `"${op}" (${OPERATOR_NAMES[op] ?? 'an operator'}) is not supported: a step is one command`);
      }
      value += ch;
      isWord = true;
      i++;
    }
    if (isWord) words.push({ value, start, end: i });
  }
  return words;
}

function expansionError(text: string, i: number): CommandLineError {
  const what = text[i + 1] === '(' ? 'command substitution ($(…))' : 'variable expansion ($…)';
  return new CommandLineError(i, `${what} is not supported in a step; quote a literal $ with '…'`);
}

// ─── Durations ──────────────────────────────────────────────────────────────────────────────

const GO_UNITS_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Longest virtual time a step may wait: the clock is a double of ns, exact to 2^53 (104 days). */
const MAX_DURATION_NS = Number.MAX_SAFE_INTEGER;

/**
 * A duration as Go's time.ParseDuration reads it (`2s`, `500ms`, `1m30s`, `1.5h`), the form
 * Kubernetes users know from manifests and flags. Returns whole nanoseconds; throws RangeError.
 */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const re = /([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)/y;
  let i = 0;
  let ns = 0;
  if (text === '') throw new RangeError('a duration is empty (write e.g. 2s or 500ms)');
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) {
      const hint = /^[0-9.]+$/.test(text) ? ` (a unit is needed: ${text}s?)` : ' (write e.g. 2s, 500ms, 1m30s)';
      throw new RangeError(`invalid duration ${JSON.stringify(text)}${hint}`);
    }
    ns += Number(m[1]) * GO_UNITS_NS[m[2]!]!;
    i = re.lastIndex;
  }
  ns = Math.round(ns);
  if (!(ns <= MAX_DURATION_NS)) throw new RangeError(`duration ${JSON.stringify(text)} is too long (at most 104 days)`);
  return ns;
}

/** GNU sleep's operands: NUMBER[smhd], summed (coreutils sleep.c). */
function parseSleep(words: readonly ShellWord[]): number {
  if (words.length === 0) throw new CommandLineError(0, 'sleep: missing operand');
  const factor: Readonly<Record<string, number>> = { '': 1e9, s: 1e9, m: 60e9, h: 3600e9, d: 86400e9 };
  let ns = 0;
  for (const w of words) {
    const m = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([smhd]?)$/.exec(w.value);
    if (!m) throw new CommandLineError(w.start, `sleep: invalid time interval '${w.value}'`);
    ns += Number(m[1]) * factor[m[2]!]!;
  }
  ns = Math.round(ns);
  if (!(ns <= MAX_DURATION_NS)) throw new CommandLineError(words[0]!.start, 'sleep: the interval is too long (at most 104 days of virtual time)');
  return ns;
}

// ─── kubectl flags (pflag semantics) ────────────────────────────────────────────────────────

type FlagKind = 'bool' | 'string' | 'unsupported-bool' | 'unsupported-string';

interface FlagDef {
  readonly name: string;
  readonly short?: string;
  readonly kind: FlagKind;
}

interface FlagValue {
  readonly value: string;
  /** Offset of the flag's word. */
  readonly offset: number;
}

interface ParsedFlags {
  readonly values: ReadonlyMap<string, readonly FlagValue[]>;
  readonly positionals: readonly ShellWord[];
  /** Words after `--`; undefined when there is no `--`. */
  readonly afterDash: readonly ShellWord[] | undefined;
}

/** kubectl's persistent flags that podwire understands, accepted before or after the subcommand. */
const GLOBAL_FLAGS: readonly FlagDef[] = [
  { name: 'namespace', short: 'n', kind: 'string' },
  { name: 'context', kind: 'unsupported-string' },
  { name: 'kubeconfig', kind: 'unsupported-string' },
  { name: 'cluster', kind: 'unsupported-string' },
  { name: 'user', kind: 'unsupported-string' },
  { name: 'server', short: 's', kind: 'unsupported-string' },
];

function parseBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  return undefined;
}

function parseFlags(cmd: string, words: readonly ShellWord[], defs: readonly FlagDef[]): ParsedFlags {
  const values = new Map<string, FlagValue[]>();
  const positionals: ShellWord[] = [];
  let afterDash: ShellWord[] | undefined;
  const add = (def: FlagDef, value: string, w: ShellWord, shown: string): void => {
    if (def.kind === 'unsupported-bool' || def.kind === 'unsupported-string') {
      throw new CommandLineError(w.start, `${cmd}: flag ${shown} is not supported by podwire`);
    }
    if (def.kind === 'bool' && parseBool(value) === undefined) {
      throw new CommandLineError(w.start, `${cmd}: invalid argument ${JSON.stringify(value)} for ${shown} (true or false)`);
    }
    const list = values.get(def.name) ?? [];
    list.push({ value, offset: w.start });
    values.set(def.name, list);
  };
  const takesValue = (def: FlagDef): boolean => def.kind === 'string' || def.kind === 'unsupported-string';
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const a = w.value;
    if (a === '--') {
      afterDash = words.slice(i + 1);
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const def = defs.find((d) => d.name === name);
      if (!def) throw new CommandLineError(w.start, `${cmd}: unknown flag: --${name}`);
      if (eq >= 0) add(def, a.slice(eq + 1), w, `--${name}`);
      else if (!takesValue(def)) add(def, 'true', w, `--${name}`);
      else {
        const next = words[++i];
        if (!next) throw new CommandLineError(w.start, `${cmd}: flag needs an argument: --${name}`);
        add(def, next.value, w, `--${name}`);
      }
      continue;
    }
    if (a.startsWith('-') && a !== '-') {
      // A group of shorthands: booleans take one letter each; the first that takes a value
      // takes the rest of the word (after an optional '='), or else the next word.
      for (let j = 1; j < a.length; j++) {
        const letter = a[j]!;
        const def = defs.find((d) => d.short === letter);
        if (!def) throw new CommandLineError(w.start, `${cmd}: unknown shorthand flag: '${letter}' in ${a}`);
        if (!takesValue(def)) {
          if (a[j + 1] === '=') {
            add(def, a.slice(j + 2), w, `-${letter}`);
            break;
          }
          add(def, 'true', w, `-${letter}`);
          continue;
        }
        let rest = a.slice(j + 1);
        if (rest.startsWith('=')) rest = rest.slice(1);
        else if (rest === '') {
          const next = words[++i];
          if (!next) throw new CommandLineError(w.start, `${cmd}: flag needs an argument: '${letter}' in ${a}`);
          rest = next.value;
        }
        add(def, rest, w, `-${letter}`);
        break;
      }
      continue;
    }
    positionals.push(w);
  }
  return { values, positionals, afterDash };
}

const last = (f: ParsedFlags, name: string): FlagValue | undefined => f.values.get(name)?.at(-1);
const flagBool = (f: ParsedFlags, name: string): boolean => {
  const v = last(f, name);
  return v !== undefined && parseBool(v.value) === true;
};

// ─── Parsed commands ────────────────────────────────────────────────────────────────────────

/**
 * A step's command after parsing, before the loader checks it against the scenario (pod names,
 * nodes, labels). `…Offset` fields are offsets in the command text, for precise messages.
 */
export type ParsedCommand = ParsedExec | ParsedDeletePod | ParsedApply | ParsedRun | ParsedSleep | ParsedKubectlView | ParsedLink | ParsedSsh | ParsedStop;

/** `podwire stop [-n NS] POD [-c CONTAINER]`: the container's process ends. */
export interface ParsedStop {
  readonly kind: 'stop';
  readonly namespace: string | undefined;
  readonly pod: string;
  readonly podOffset: number;
  readonly container: string | undefined;
  readonly containerOffset: number;
}

export interface ParsedExec {
  readonly kind: 'exec';
  /** -n; undefined: the default namespace. */
  readonly namespace: string | undefined;
  readonly pod: string;
  readonly podOffset: number;
  readonly container: string | undefined;
  readonly containerOffset: number;
  readonly argv: readonly string[];
  readonly interactive: boolean;
  readonly tty: boolean;
}

export interface ParsedDeletePod {
  readonly kind: 'delete-pod';
  readonly namespace: string | undefined;
  readonly pods: readonly { readonly name: string; readonly offset: number }[];
  readonly gracePeriodSeconds: number | undefined;
  readonly ignoreNotFound: boolean;
}

export interface ParsedApply {
  readonly kind: 'apply';
  readonly namespace: string | undefined;
  readonly namespaceOffset: number;
}

export interface ParsedRun {
  readonly kind: 'run';
  readonly namespace: string | undefined;
  readonly name: string;
  readonly nameOffset: number;
  readonly image: string;
  readonly imageOffset: number;
  readonly restartPolicy: 'Always' | 'OnFailure' | 'Never';
  /** --command: the words after the name are the container's command, not its args. */
  readonly isCommand: boolean;
  readonly argv: readonly string[];
  /** --labels k=v,…; kubectl's default is run=NAME. */
  readonly labels: readonly { readonly key: string; readonly value: string }[] | undefined;
  readonly labelsOffset: number;
  readonly annotations: readonly { readonly key: string; readonly value: string; readonly offset: number }[];
  readonly port: number | undefined;
  readonly env: readonly { readonly name: string; readonly value: string; readonly offset: number }[];
  /** From --overrides='{"spec":{"nodeName":"n2"}}', the way to place a pod without a scheduler. */
  readonly nodeName: string | undefined;
  readonly nodeNameOffset: number;
  readonly interactive: boolean;
  readonly tty: boolean;
  readonly attach: boolean;
  readonly rm: boolean;
}

export interface ParsedSleep {
  readonly kind: 'sleep';
  readonly durationNs: number;
}

export interface ParsedKubectlView {
  readonly kind: 'kubectl-view';
  /** The words after `kubectl`. */
  readonly argv: readonly string[];
}

export interface ParsedLink {
  readonly kind: 'link';
  readonly up: boolean;
  /** The node or host whose cable it is. */
  readonly name: string;
  readonly nameOffset: number;
}

export interface ParsedSsh {
  readonly kind: 'ssh';
  readonly host: string;
  readonly hostOffset: number;
  /** The command as the remote shell splits it. */
  readonly argv: readonly string[];
}

const EXEC_FLAGS: readonly FlagDef[] = [
  ...GLOBAL_FLAGS,
  { name: 'container', short: 'c', kind: 'string' },
  { name: 'stdin', short: 'i', kind: 'bool' },
  { name: 'tty', short: 't', kind: 'bool' },
  { name: 'quiet', short: 'q', kind: 'bool' },
  { name: 'pod-running-timeout', kind: 'string' },
  { name: 'filename', short: 'f', kind: 'unsupported-string' },
];

const DELETE_FLAGS: readonly FlagDef[] = [
  ...GLOBAL_FLAGS,
  { name: 'grace-period', kind: 'string' },
  { name: 'now', kind: 'bool' },
  { name: 'force', kind: 'bool' },
  { name: 'wait', kind: 'bool' },
  { name: 'ignore-not-found', kind: 'bool' },
  { name: 'timeout', kind: 'string' },
  { name: 'cascade', kind: 'string' },
  { name: 'all', kind: 'unsupported-bool' },
  { name: 'selector', short: 'l', kind: 'unsupported-string' },
  { name: 'filename', short: 'f', kind: 'unsupported-string' },
  { name: 'dry-run', kind: 'unsupported-string' },
];

const APPLY_FLAGS: readonly FlagDef[] = [
  ...GLOBAL_FLAGS,
  { name: 'filename', short: 'f', kind: 'string' },
  { name: 'kustomize', short: 'k', kind: 'unsupported-string' },
  { name: 'server-side', kind: 'unsupported-bool' },
  { name: 'dry-run', kind: 'unsupported-string' },
  { name: 'prune', kind: 'unsupported-bool' },
  { name: 'force', kind: 'unsupported-bool' },
  { name: 'wait', kind: 'bool' },
];

const RUN_FLAGS: readonly FlagDef[] = [
  ...GLOBAL_FLAGS,
  { name: 'image', kind: 'string' },
  { name: 'restart', kind: 'string' },
  { name: 'command', kind: 'bool' },
  { name: 'labels', short: 'l', kind: 'string' },
  { name: 'annotations', kind: 'string' },
  { name: 'port', kind: 'string' },
  { name: 'env', kind: 'string' },
  { name: 'stdin', short: 'i', kind: 'bool' },
  { name: 'tty', short: 't', kind: 'bool' },
  { name: 'attach', kind: 'bool' },
  { name: 'rm', kind: 'bool' },
  { name: 'quiet', short: 'q', kind: 'bool' },
  { name: 'overrides', kind: 'string' },
  { name: 'image-pull-policy', kind: 'string' },
  { name: 'pod-running-timeout', kind: 'string' },
  { name: 'leave-stdin-open', kind: 'bool' },
  { name: 'privileged', kind: 'unsupported-bool' },
  { name: 'expose', kind: 'unsupported-bool' },
  { name: 'dry-run', kind: 'unsupported-string' },
];

const VIEW_SUBCOMMANDS = new Set(['get', 'describe', 'logs']);

/** Kubernetes' TYPE/NAME spellings of a pod (`kubectl exec pod/pa`). */
const POD_TYPES = new Set(['pod', 'pods', 'po']);

/** `pa` or `pod/pa` → the pod's name; another TYPE/NAME throws. */
function podName(cmd: string, w: ShellWord): string {
  const slash = w.value.indexOf('/');
  if (slash < 0) return w.value;
  const type = w.value.slice(0, slash);
  if (!POD_TYPES.has(type)) throw new CommandLineError(w.start, `${cmd}: ${type}/… is not supported yet; give a pod's name`);
  return w.value.slice(slash + 1);
}

/**
 * Parses one step's command line. Throws CommandLineError (offset in `text`, reason) for anything
 * a step cannot be: shell syntax beyond words, an unknown command, a kubectl usage error.
 */
export function parseCommandLine(text: string): ParsedCommand {
  const words = tokenizeCommandLine(text);
  const first = words[0];
  if (!first) throw new CommandLineError(0, 'the command is empty');
  if (first.value === 'sleep') return { kind: 'sleep', durationNs: parseSleep(words.slice(1)) };
  if (first.value === 'podwire') return parsePodwire(first, words.slice(1));
  if (first.value === 'ssh') return parseSsh(first, words.slice(1));
  if (first.value !== 'kubectl') {
    throw new CommandLineError(
      first.start,
      `${JSON.stringify(first.value)}: a step is a kubectl, ssh, podwire or sleep command (to run a program in a pod: kubectl exec POD -- ${first.value} …; on a host: ssh HOST -- ${first.value} …)`,
    );
  }
  const rest = words.slice(1);
  // The subcommand is the first word that is neither a global flag nor a global flag's value.
  let sub = -1;
  for (let i = 0; i < rest.length; i++) {
    const v = rest[i]!.value;
    if (!v.startsWith('-') || v === '-' || v === '--') {
      if (v !== '--') sub = i;
      break;
    }
    const isLong = v.startsWith('--');
    const name = isLong ? v.slice(2).split('=')[0]! : v.slice(1, 2);
    const def = GLOBAL_FLAGS.find((d) => (isLong ? d.name === name : d.short === name));
    if (!def) break; // parseFlags below reports it against the subcommand, or "a command is required"
    const inline = isLong ? v.includes('=') : v.length > 2;
    if (!inline && (def.kind === 'string' || def.kind === 'unsupported-string')) i++;
  }
  const subWord = sub < 0 ? undefined : rest[sub];
  if (!subWord) {
    parseFlags('kubectl', rest, GLOBAL_FLAGS);
    throw new CommandLineError(first.start, 'kubectl: a subcommand is required (exec, run, apply, delete, get, describe, logs)');
  }
  const args = [...rest.slice(0, sub), ...rest.slice(sub + 1)];
  switch (subWord.value) {
    case 'exec':
      return parseExec(text, args);
    case 'delete':
      return parseDelete(args, subWord);
    case 'apply':
      return parseApply(args, subWord);
    case 'run':
      return parseRun(args, subWord);
    default:
      if (VIEW_SUBCOMMANDS.has(subWord.value)) return { kind: 'kubectl-view', argv: rest.map((w) => w.value) };
      throw new CommandLineError(
        subWord.start,
        `kubectl ${subWord.value} is not supported yet (steps run kubectl exec, run, apply -f -, delete pod, get, describe, logs)`,
      );
  }
}

function namespaceOf(f: ParsedFlags): string | undefined {
  return last(f, 'namespace')?.value;
}

function parseExec(text: string, words: readonly ShellWord[]): ParsedExec {
  const cmd = 'kubectl exec';
  const f = parseFlags(cmd, words, EXEC_FLAGS);
  const podWord = f.positionals[0];
  if (!podWord) throw new CommandLineError(words[0]?.start ?? text.length, `${cmd}: a pod is required (kubectl exec POD -- COMMAND …)`);
  if (f.positionals.length > 1) {
    throw new CommandLineError(
      f.positionals[1]!.start,
      `${cmd} POD COMMAND is not supported anymore; use ${cmd} POD -- COMMAND (as kubectl says)`,
    );
  }
  if (!f.afterDash || f.afterDash.length === 0) {
    throw new CommandLineError(podWord.start, `${cmd}: you must specify at least one command for the container (after --)`);
  }
  const container = last(f, 'container');
  const interactive = flagBool(f, 'stdin');
  const tty = flagBool(f, 'tty');
  return {
    kind: 'exec',
    namespace: namespaceOf(f),
    pod: podName(cmd, podWord),
    podOffset: podWord.start,
    container: container?.value,
    containerOffset: container?.offset ?? podWord.start,
    argv: f.afterDash.map((w) => w.value),
    interactive,
    tty,
  };
}

function parseDelete(words: readonly ShellWord[], subWord: ShellWord): ParsedDeletePod {
  const cmd = 'kubectl delete';
  const f = parseFlags(cmd, words, DELETE_FLAGS);
  if (f.afterDash && f.afterDash.length > 0) throw new CommandLineError(f.afterDash[0]!.start, `${cmd}: unexpected arguments after --`);
  const typeWord = f.positionals[0];
  if (!typeWord) throw new CommandLineError(subWord.start, `${cmd}: what to delete is required (kubectl delete pod NAME)`);
  const pods: { name: string; offset: number }[] = [];
  if (typeWord.value.includes('/')) {
    for (const w of f.positionals) {
      if (!w.value.includes('/')) {
        throw new CommandLineError(w.start, `${cmd}: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form`);
      }
      pods.push({ name: podName(cmd, w), offset: w.start });
    }
  } else {
    if (!POD_TYPES.has(typeWord.value)) {
      throw new CommandLineError(typeWord.start, `${cmd} ${typeWord.value}: only pods can be deleted in a step (for now)`);
    }
    for (const w of f.positionals.slice(1)) pods.push({ name: w.value, offset: w.start });
    if (pods.length === 0) throw new CommandLineError(typeWord.start, `${cmd} ${typeWord.value}: a pod name is required`);
  }
  for (const p of pods) if (p.name === '') throw new CommandLineError(p.offset, `${cmd}: a pod name is empty`);
  // kubectl delete's option handling (delete.go): --now is a grace period of 1 s; 0 without
  // --force also means 1; --force alone means 0.
  let grace: number | undefined;
  const graceFlag = last(f, 'grace-period');
  if (graceFlag) {
    if (!/^-?[0-9]+$/.test(graceFlag.value) || Number(graceFlag.value) < -1 || Number(graceFlag.value) > 2 ** 31 - 1) {
      throw new CommandLineError(graceFlag.offset, `${cmd}: invalid argument ${JSON.stringify(graceFlag.value)} for --grace-period (whole seconds)`);
    }
    const g = Number(graceFlag.value);
    grace = g < 0 ? undefined : g;
  }
  if (flagBool(f, 'now')) {
    if (graceFlag && grace !== undefined) throw new CommandLineError(graceFlag.offset, `${cmd}: --now and --grace-period cannot be specified together`);
    grace = 1;
  }
  const force = flagBool(f, 'force');
  if (grace === 0 && !force) grace = 1;
  if (force && grace === undefined) grace = 0;
  return { kind: 'delete-pod', namespace: namespaceOf(f), pods, gracePeriodSeconds: grace, ignoreNotFound: flagBool(f, 'ignore-not-found') };
}

function parseApply(words: readonly ShellWord[], subWord: ShellWord): ParsedApply {
  const cmd = 'kubectl apply';
  const f = parseFlags(cmd, words, APPLY_FLAGS);
  const extra = f.positionals[0] ?? f.afterDash?.[0];
  if (extra) throw new CommandLineError(extra.start, `${cmd}: unexpected argument ${JSON.stringify(extra.value)}`);
  const files = f.values.get('filename') ?? [];
  if (files.length === 0) throw new CommandLineError(subWord.start, `${cmd}: must specify -f - (the manifest comes from the step's stdin)`);
  for (const file of files) {
    if (file.value !== '-') {
      throw new CommandLineError(file.offset, `${cmd} -f ${file.value}: only -f - is supported; put the manifest in the step's stdin`);
    }
  }
  const ns = last(f, 'namespace');
  return { kind: 'apply', namespace: ns?.value, namespaceOffset: ns?.offset ?? subWord.start };
}

function parseRun(words: readonly ShellWord[], subWord: ShellWord): ParsedRun {
  const cmd = 'kubectl run';
  const f = parseFlags(cmd, words, RUN_FLAGS);
  const nameWord = f.positionals[0];
  if (!nameWord) throw new CommandLineError(subWord.start, `${cmd}: NAME is required for run`);
  const image = last(f, 'image');
  if (!image) throw new CommandLineError(nameWord.start, `${cmd}: required flag(s) "image" not set`);
  if (image.value === '') throw new CommandLineError(image.offset, `${cmd}: --image must not be empty`);
  const argv = [...f.positionals.slice(1), ...(f.afterDash ?? [])].map((w) => w.value);

  const restart = last(f, 'restart');
  const restartPolicy = restart?.value ?? 'Always';
  if (restartPolicy !== 'Always' && restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    throw new CommandLineError(restart!.offset, `${cmd}: invalid restart policy: ${restartPolicy} (Always, OnFailure or Never)`);
  }
  const isCommand = flagBool(f, 'command');
  if (isCommand && argv.length === 0) throw new CommandLineError(last(f, 'command')!.offset, `${cmd}: --command needs the command after --`);

  const labelsFlag = last(f, 'labels');
  let labels: { key: string; value: string }[] | undefined;
  if (labelsFlag) {
    labels = [];
    for (const kv of labelsFlag.value.split(',')) {
      const eq = kv.indexOf('=');
      if (eq < 0) throw new CommandLineError(labelsFlag.offset, `${cmd}: invalid label spec: ${kv} (key=value)`);
      labels.push({ key: kv.slice(0, eq), value: kv.slice(eq + 1) });
    }
  }
  const annotations = (f.values.get('annotations') ?? []).map((a) => {
    const eq = a.value.indexOf('=');
    if (eq < 0) throw new CommandLineError(a.offset, `${cmd}: invalid annotation spec: ${a.value} (key=value)`);
    return { key: a.value.slice(0, eq), value: a.value.slice(eq + 1), offset: a.offset };
  });
  const env = (f.values.get('env') ?? []).map((e) => {
    const eq = e.value.indexOf('=');
    if (eq <= 0) throw new CommandLineError(e.offset, `${cmd}: invalid env: ${e.value} (NAME=value)`);
    return { name: e.value.slice(0, eq), value: e.value.slice(eq + 1), offset: e.offset };
  });
  const portFlag = last(f, 'port');
  let port: number | undefined;
  if (portFlag) {
    if (!/^[0-9]+$/.test(portFlag.value) || Number(portFlag.value) < 1 || Number(portFlag.value) > 65535) {
      throw new CommandLineError(portFlag.offset, `${cmd}: invalid --port ${JSON.stringify(portFlag.value)} (1..65535)`);
    }
    port = Number(portFlag.value);
  }
  const pullPolicy = last(f, 'image-pull-policy');
  if (pullPolicy && !['Always', 'IfNotPresent', 'Never', ''].includes(pullPolicy.value)) {
    throw new CommandLineError(pullPolicy.offset, `${cmd}: invalid image pull policy: ${pullPolicy.value}`);
  }

  const overrides = last(f, 'overrides');
  const nodeName = overrides ? nodeNameFromOverrides(cmd, overrides) : undefined;

  const interactive = flagBool(f, 'stdin');
  const tty = flagBool(f, 'tty');
  const attachFlag = last(f, 'attach');
  const attach = attachFlag ? parseBool(attachFlag.value) === true : interactive;
  const rm = flagBool(f, 'rm');
  // kubectl run's own checks (run.go): a tty needs stdin; --rm needs an attached container.
  if (tty && !interactive) throw new CommandLineError(last(f, 'tty')!.offset, `${cmd}: -i/--stdin is required for containers with -t/--tty=true`);
  if (rm && !attach) throw new CommandLineError(last(f, 'rm')!.offset, `${cmd}: --rm should only be used for attached containers`);

  return {
    kind: 'run',
    namespace: namespaceOf(f),
    name: nameWord.value,
    nameOffset: nameWord.start,
    image: image.value,
    imageOffset: image.offset,
    restartPolicy,
    isCommand,
    argv,
    labels,
    labelsOffset: labelsFlag?.offset ?? nameWord.start,
    annotations,
    port,
    env,
    nodeName,
    nodeNameOffset: overrides?.offset ?? nameWord.start,
    interactive,
    tty,
    attach,
    rm,
  };
}

/**
 * --overrides is a JSON patch over the generated Pod; podwire takes from it only what places the
 * pod, `{"spec":{"nodeName":"NODE"}}` (there is no scheduler to choose a node otherwise).
 */
function nodeNameFromOverrides(cmd: string, flag: FlagValue): string {
  const only = `${cmd}: --overrides may only set the node: '{"spec":{"nodeName":"NODE"}}'`;
  let v: unknown;
  try {
    v = JSON.parse(flag.value);
  } catch {
    throw new CommandLineError(flag.offset, `${cmd}: --overrides is not valid JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CommandLineError(flag.offset, only);
  const top = v as Record<string, unknown>;
  for (const k of Object.keys(top)) {
    if (k === 'apiVersion' && top[k] === 'v1') continue;
    if (k !== 'spec') throw new CommandLineError(flag.offset, only);
  }
  const spec = top['spec'];
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new CommandLineError(flag.offset, only);
  const keys = Object.keys(spec);
  const nodeName = (spec as Record<string, unknown>)['nodeName'];
  if (keys.length !== 1 || typeof nodeName !== 'string' || nodeName === '') throw new CommandLineError(flag.offset, only);
  return nodeName;
}

// ─── podwire's own steps and ssh ────────────────────────────────────────────────────────────

const STOP_FLAGS: readonly FlagDef[] = [
  { name: 'namespace', short: 'n', kind: 'string' },
  { name: 'container', short: 'c', kind: 'string' },
];

/**
 * `podwire stop [-n NS] POD [-c CONTAINER]`: the container's app ends, as if its process were
 * killed. (`kubectl exec POD -- kill 1` would not do it: PID 1 of a container ignores signals it
 * has no handler for, and a container that ends is restarted by the kubelet.)
 */
function parseStop(sub: ShellWord, words: readonly ShellWord[]): ParsedStop {
  const cmd = 'podwire stop';
  const f = parseFlags(cmd, words, STOP_FLAGS);
  if (f.afterDash && f.afterDash.length > 0) throw new CommandLineError(f.afterDash[0]!.start, `${cmd}: unexpected arguments after --`);
  const podWord = f.positionals[0];
  if (!podWord) throw new CommandLineError(sub.end, `${cmd}: a pod is required (podwire stop POD [-c CONTAINER])`);
  const extra = f.positionals[1];
  if (extra) throw new CommandLineError(extra.start, `${cmd}: unexpected argument ${JSON.stringify(extra.value)}`);
  const container = last(f, 'container');
  return {
    kind: 'stop',
    namespace: last(f, 'namespace')?.value,
    pod: podName(cmd, podWord),
    podOffset: podWord.start,
    container: container?.value,
    containerOffset: container?.offset ?? podWord.start,
  };
}

/** `podwire link down|up NAME`: the cable of NAME's eth0 (a node or an external host); `podwire stop …`. */
function parsePodwire(first: ShellWord, words: readonly ShellWord[]): ParsedLink | ParsedStop {
  const [sub, action, name, extra] = words;
  if (!sub) throw new CommandLineError(first.start, 'podwire: a subcommand is required (podwire link down|up NAME, podwire stop POD)');
  if (sub.value === 'stop') return parseStop(sub, words.slice(1));
  if (sub.value !== 'link') throw new CommandLineError(sub.start, `podwire ${sub.value}: unknown step command (steps run podwire link down|up NAME, podwire stop POD)`);
  if (!action || (action.value !== 'down' && action.value !== 'up')) {
    throw new CommandLineError(action?.start ?? sub.end, 'podwire link: down or up is required (podwire link down|up NAME)');
  }
  if (!name) throw new CommandLineError(action.end, `podwire link ${action.value}: the node or host whose cable it is is required`);
  if (extra) throw new CommandLineError(extra.start, `podwire link ${action.value}: unexpected argument ${JSON.stringify(extra.value)}`);
  return { kind: 'link', up: action.value === 'up', name: name.value, nameOffset: name.start };
}

/** ssh options a step may give: they change nothing podwire shows (quiet, tty or not, verbose). */
const SSH_BOOL_OPTIONS = new Set(['q', 't', 'T', 'v']);

/**
 * `ssh [-qtTv] [user@]HOST [--] COMMAND …` as OpenSSH reads it (ssh.c parses options before and
 * again after the host, up to the first other word). sshd hands the words joined by spaces to the
 * user's shell (`$SHELL -c "…"`), which splits them again: `ssh ext echo 'a b'` runs `echo a b`.
 */
function parseSsh(first: ShellWord, words: readonly ShellWord[]): ParsedSsh {
  let i = 0;
  const options = (): void => {
    while (i < words.length) {
      const w = words[i]!;
      if (w.value === '--') {
        i++;
        return;
      }
      if (!w.value.startsWith('-') || w.value === '-') return;
      for (const letter of w.value.slice(1)) {
        if (!SSH_BOOL_OPTIONS.has(letter)) throw new CommandLineError(w.start, `ssh: option -${letter} is not supported by podwire (-q, -t, -T, -v are)`);
      }
      i++;
    }
  };
  options();
  const hostWord = words[i++];
  if (!hostWord) throw new CommandLineError(first.start, 'ssh: a host is required (ssh HOST -- COMMAND …)');
  const host = hostWord.value.slice(hostWord.value.lastIndexOf('@') + 1);
  if (host === '') throw new CommandLineError(hostWord.start, 'ssh: the host name is empty');
  options();
  const command = words.slice(i);
  if (command.length === 0) {
    throw new CommandLineError(hostWord.start, 'ssh: a command is required (a step cannot run an interactive login shell): ssh HOST -- COMMAND …');
  }
  const remote = command.map((w) => w.value).join(' ');
  let argv: string[];
  try {
    argv = tokenizeCommandLine(remote).map((w) => w.value);
  } catch (e) {
    if (!(e instanceof CommandLineError)) throw e;
    throw new CommandLineError(command[0]!.start, `ssh: the remote shell would read ${JSON.stringify(remote)}: ${e.reason}`);
  }
  if (argv.length === 0) throw new CommandLineError(command[0]!.start, 'ssh: the remote command is empty');
  return { kind: 'ssh', host, hostOffset: hostWord.start + hostWord.value.lastIndexOf('@') + 1, argv };
}
