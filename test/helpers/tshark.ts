/**
 * DESIGN.md's capture check: tshark decodes a capture with checksum validation on (it is off by
 * default for IP, UDP and TCP; ICMP is always checked) and VXLAN on flannel's port too, and the
 * check fails on a malformed packet, a bad checksum, or any expert message of severity warning or
 * error — except "Connection reset (RST)", which tshark attaches to every RST.
 */
import { execFileSync } from 'node:child_process';

export const TSHARK_DECODE_ARGS = [
  '-n',
  '-o', 'ip.check_checksum:TRUE',
  '-o', 'udp.check_checksum:TRUE',
  '-o', 'tcp.check_checksum:TRUE',
  '-d', 'udp.port==8472,vxlan',
] as const;

const SEVERITY_WARNING = 6291456;
const ALLOWED = new Set(['Connection reset (RST)']);

export interface CaptureProblem {
  readonly frame: number;
  readonly problem: string;
}

function tshark(args: readonly string[]): string {
  return execFileSync('tshark', args as string[], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** Every problem tshark reports in the capture; an empty list means the capture passes. */
export function captureProblems(file: string, extraArgs: readonly string[] = []): CaptureProblem[] {
  const out = tshark([
    '-r', file, ...TSHARK_DECODE_ARGS, ...extraArgs,
    '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=^', '-E', 'occurrence=a',
    '-e', 'frame.number', '-e', '_ws.expert.severity', '-e', '_ws.expert.message', '-e', '_ws.malformed',
  ]);
  const problems: CaptureProblem[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [num, sevs = '', msgs = '', malformedField = ''] = line.split('|');
    const frame = Number(num);
    if (malformedField) problems.push({ frame, problem: 'malformed packet' });
    const severities = sevs ? sevs.split('^').map(Number) : [];
    const messages = msgs ? msgs.split('^') : [];
    severities.forEach((sev, i) => {
      const message = messages[i] ?? '';
      if (sev >= SEVERITY_WARNING && !ALLOWED.has(message)) problems.push({ frame, problem: message });
    });
  }
  return problems;
}

/** tshark's one-line summaries, for goldens and readable assertions. */
export function tsharkSummary(file: string): string[] {
  return tshark(['-r', file, ...TSHARK_DECODE_ARGS]).split('\n').filter((l) => l.length > 0);
}

/** Selected fields per frame, tab-separated, as tshark prints them (golden dissections). */
export function tsharkFields(file: string, fields: readonly string[]): string {
  return tshark([
    '-r', file, ...TSHARK_DECODE_ARGS, '-T', 'fields', '-E', 'header=y', '-E', 'occurrence=a', '-E', 'aggregator=,',
    ...fields.flatMap((f) => ['-e', f]),
  ]);
}

/** tshark's full dissection as JSON (one object per frame). */
export function tsharkJson(file: string): unknown[] {
  return JSON.parse(tshark(['-r', file, ...TSHARK_DECODE_ARGS, '-T', 'json'])) as unknown[];
}

/** tshark's full verbose dissection as text (UTC times), for golden files. */
export function tsharkVerbose(file: string): string {
  return execFileSync('tshark', ['-r', file, ...TSHARK_DECODE_ARGS, '-V'], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** capinfos's report on a capture file (precision, counts, section and interface options). */
export function capinfos(file: string): string {
  return execFileSync('capinfos', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}
