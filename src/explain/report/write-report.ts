/**
 * `podwire report`: one self-contained report.html for a run folder — the topology, the ladder
 * of packets between hosts, each packet's journey and anatomy, and the commands' outputs. Written
 * to a temporary file beside the target and renamed into place, so no half-written report is
 * ever left; the same run folder gives the same bytes (nothing of the time it was made).
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { CaptureFormatError } from '../../pcap/index.js';
import { JourneyInputError, JourneyRun } from '../journey-run.js';
import { packetJourney, type Journey } from '../journey.js';
import { esc, HtmlSink } from './html.js';
import { buildLadder } from './ladder.js';
import { ladderSvg, seconds } from './ladder-svg.js';
import { REPORT_CSS, REPORT_JS } from './page-assets.js';
import { anatomyHops, frameId, packetDetailsHtml, packetId } from './packet-detail.js';
import { buildTopology } from './topology.js';
import { topologySvg } from './topology-svg.js';

/** Packets shown by default: enough for a walkthrough, small enough to open at once (each carries its anatomies). */
export const DEFAULT_REPORT_LIMIT = 100;
/** Bytes of a command's output shown; the rest is in the run folder's file. */
const OUTPUT_CAP = 64 * 1024;

/** Why no report was written: one line for the user. */
export class ReportInputError extends Error {
  override readonly name = 'ReportInputError';
}

export interface ReportOptions {
  /** The report file; default RUN_DIR/report.html. */
  readonly out?: string;
  /** At most this many packets (the first by number) in the ladder and details. */
  readonly limit?: number;
}

export interface ReportResult {
  readonly file: string;
  readonly packets: number;
  readonly totalPackets: number;
}

interface RunInfo {
  readonly scenario?: string;
  readonly seed?: number;
  readonly steps?: ReadonlyArray<{ readonly index: number; readonly text: string; readonly exitCode: number; readonly outputFile?: string }>;
}

function readRunInfo(dir: string): RunInfo {
  const p = join(dir, 'run.json');
  if (!existsSync(p)) return {};
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as RunInfo;
  } catch {
    throw new ReportInputError(`${p}: not JSON`);
  }
}

function openRun(dir: string, limit: number): JourneyRun {
  if (!existsSync(dir)) throw new ReportInputError(`${dir}: no such folder`);
  if (!statSync(dir).isDirectory()) throw new ReportInputError(`${dir}: not a folder (give a run folder written by podwire run -o DIR)`);
  try {
    return new JourneyRun(dir, { firstPackets: limit });
  } catch (e) {
    if (e instanceof JourneyInputError) throw new ReportInputError(e.message);
    if (e instanceof SyntaxError) throw new ReportInputError(`${join(dir, 'interfaces.json')}: not JSON (${e.message})`);
    throw e;
  }
}

export function writeReport(runDir: string, opts: ReportOptions = {}): ReportResult {
  const limit = opts.limit ?? DEFAULT_REPORT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new ReportInputError(`--limit ${limit}: a number of packets, 1 or more`);
  const run = openRun(runDir, limit);
  const info = readRunInfo(runDir);
  const target = resolve(opts.out ?? join(runDir, 'report.html'));
  if (!existsSync(dirname(target))) throw new ReportInputError(`-o ${opts.out ?? target}: folder ${dirname(target)} does not exist`);
  if (existsSync(target) && statSync(target).isDirectory()) throw new ReportInputError(`-o ${opts.out ?? target}: is a folder; give a file name`);
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}`);
  rmSync(tmp, { force: true });
  let sink: HtmlSink | undefined;
  try {
    sink = new HtmlSink(tmp);
    const result = render(run, info, limit, sink);
    sink.close();
    sink = undefined;
    renameSync(tmp, target);
    return { file: target, ...result };
  } catch (e) {
    try {
      sink?.close();
    } finally {
      rmSync(tmp, { force: true });
    }
    if (e instanceof JourneyInputError) throw new ReportInputError(e.message);
    if (e instanceof CaptureFormatError) throw new ReportInputError(`${runDir}: a capture file cannot be read: ${e.message}`);
    throw e;
  }
}

function render(run: JourneyRun, info: RunInfo, limit: number, out: HtmlSink): { packets: number; totalPackets: number } {
  const topology = buildTopology(run.interfaces);
  const ladder = buildLadder(run, topology, limit);
  const name = info.scenario ?? 'a podwire run';
  const title = `podwire report: ${name}${info.seed !== undefined ? ` (seed ${info.seed})` : ''}`;
  // The journeys and which of their frames get an anatomy are needed before the ladder: its rows link there.
  const journeys = new Map<number, Journey>();
  const anatomies = new Map<number, Map<number, number>>();
  const crossings = new Map<number, number[]>();
  for (const a of ladder.arrows) {
    let list = crossings.get(a.pkt);
    if (list === undefined) crossings.set(a.pkt, (list = []));
    list.push(a.hop);
  }
  for (const p of ladder.packets) {
    const j = packetJourney(run, p);
    journeys.set(p, j);
    anatomies.set(p, anatomyHops(crossings.get(p) ?? (j.hops.length > 0 ? [0] : []), (hop) => hopBytes(run, j, hop)));
  }
  const href = (pkt: number, hop: number): string => {
    const at = anatomies.get(pkt)?.get(hop);
    return at === undefined ? packetId(pkt) : frameId(pkt, at);
  };

  out.write(`<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n`);
  // The report fetches nothing: the policy makes a browser refuse any request a future change might add.
  out.write(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">\n`);
  out.write(`<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${esc(title)}</title>\n<style>${REPORT_CSS}</style>\n</head>\n<body>\n`);
  out.write(`<header><h1>${esc(title)}</h1>\n<p>${esc(summaryLine(run, ladder.totalPackets))}</p>\n`);
  out.write('<nav aria-label="Sections"><ul><li><a href="#topology">Topology</a></li><li><a href="#ladder">Ladder</a></li><li><a href="#packets">Packets</a></li><li><a href="#commands">Commands</a></li></ul></nav></header>\n<main>\n');

  out.write('<section id="topology" aria-labelledby="h-topology"><h2 id="h-topology">Topology</h2>\n');
  out.write('<p>Every host and interface that carried traffic in this run (from interfaces.json): names, kinds, addresses and MACs; a line is a cable (a veth pair), the dashed line the nodes\' tunnel.</p>\n');
  out.write(`<figure><div class="scroll">${topologySvg(topology, `Topology of ${name}`)}</div><figcaption>Pods above their node, nodes and external hosts in a row, the underlay switch below.</figcaption></figure>\n</section>\n`);

  out.write('<section id="ladder" aria-labelledby="h-ladder"><h2 id="h-ladder">Ladder</h2>\n');
  out.write('<p>One row per frame that crossed a cable between two hosts, in the order they left (virtual time in seconds). Select a row (Tab, then Enter) to open that packet\'s journey and the anatomy of that frame below.</p>\n');
  if (ladder.totalPackets > ladder.packets.length) {
    out.write(`<p class="note" role="note">Truncated: the first ${ladder.packets.length} of the run's ${ladder.totalPackets} packets are shown (podwire report --limit N shows more).</p>\n`);
  }
  out.write(ladder.arrows.length > 0 ? `<div class="scroll">${ladderSvg(ladder, href)}</div>\n` : '<p>No packet was captured in this run.</p>\n');
  out.write('</section>\n');

  out.write('<section id="packets" aria-labelledby="h-packets"><h2 id="h-packets">Packets</h2>\n');
  out.write('<p>Each packet keeps its number at every device it crosses (trace.jsonl\'s <code>pkt</code>). Open one for its journey — every device, what changed and why — and the anatomy of its frame at each cable: every field with its offset, length, raw bytes and meaning.</p>\n');
  for (const p of ladder.packets) {
    const j = journeys.get(p)!;
    out.write(packetDetailsHtml(j, anatomies.get(p)!, (hop) => hopBytes(run, j, hop)));
    out.write('\n');
    // Each packet's details are written and dropped: the page is never one string.
    journeys.delete(p);
  }
  out.write('</section>\n');

  out.write('<section id="commands" aria-labelledby="h-commands"><h2 id="h-commands">Commands</h2>\n');
  const steps = info.steps ?? [];
  if (steps.length === 0) out.write('<p>No command ran (or the run folder has no run.json).</p>\n');
  for (const s of steps) {
    out.write(`<h3>Step ${s.index + 1}: <code>${esc(s.text)}</code></h3>\n<p>Exit status ${esc(s.exitCode)}${s.outputFile ? `; output in <code>${esc(s.outputFile)}</code>` : ''}.</p>\n`);
    if (s.outputFile !== undefined) out.write(`<pre>${esc(outputText(run.dir, s.outputFile))}</pre>\n`);
  }
  out.write('</section>\n</main>\n');
  out.write(`<script>${REPORT_JS}</script>\n</body>\n</html>\n`);
  return { packets: ladder.packets.length, totalPackets: ladder.totalPackets };
}

function hopBytes(run: JourneyRun, j: Journey, hop: number): Uint8Array | undefined {
  const h = j.hops[hop];
  if (h === undefined) return undefined;
  const rec = run.device(h.netns, h.dev);
  return rec === undefined ? undefined : run.frameBytes(rec, h.frame);
}

function summaryLine(run: JourneyRun, packets: number): string {
  const hosts = new Set(run.interfaces.map((i) => i.host)).size;
  return `${hosts} hosts, ${run.interfaces.length} captured interfaces, ${packets} packets over ${seconds(run.lastTimeNs)} s of virtual time.`;
}

function outputText(dir: string, file: string): string {
  const p = resolve(dir, file);
  // run.json names files inside the run folder; a name that leads out of it is not read.
  if (!p.startsWith(resolve(dir) + sep)) return `(not shown: ${file} is outside the run folder)`;
  if (!existsSync(p)) return '(no output file)';
  const buf = readFileSync(p);
  if (buf.length <= OUTPUT_CAP) return buf.toString('utf8');
  return `${buf.subarray(0, OUTPUT_CAP).toString('utf8')}\n… (${buf.length - OUTPUT_CAP} more bytes in ${file})`;
}
