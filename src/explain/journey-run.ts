/**
 * A run folder as `podwire journey` reads it: interfaces.json (which host, netns and kind each
 * captured interface is), trace.jsonl (hop lines and events, in the order they happened) and the
 * per-interface pcaps, read on demand and only as far as the frames asked for. Nothing here
 * interprets packets; journey.ts does.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { join } from 'node:path';
import type { InterfaceRecord } from '../capture/index.js';
import { CapturePrefix } from './capture-prefix.js';

/** One trace.jsonl hop line: a frame of packet `pkt` crossed `dev` in `netns`. */
export interface HopLine {
  readonly kind: 'hop';
  readonly t: number;
  readonly dir: 'rx' | 'tx';
  readonly netns: string;
  readonly dev: string;
  readonly frame: number;
  readonly len: number;
  readonly pkt: number;
}

/** One trace.jsonl event line (drop, nat, encap, route …). */
export interface EventLine {
  readonly kind: 'event';
  readonly t: number;
  readonly event: string;
  readonly netns: string;
  readonly dev?: string;
  readonly detail: string;
  readonly pkt?: number;
  readonly related?: number;
}

export type TraceLine = HopLine | EventLine;

/** Why a folder cannot be read as a run: one line for the user. */
export class JourneyInputError extends Error {
  override readonly name = 'JourneyInputError';
}

export interface JourneyRunOptions {
  /**
   * Keep only the lines the run's first N packets need (by number, of those a tap saw; events
   * about them too): a report of a long run then reads the trace once and keeps little of it.
   */
  readonly firstPackets?: number;
}

export class JourneyRun {
  readonly interfaces: InterfaceRecord[];
  /** The trace's lines (with `firstPackets`, only those about the first packets and those about no packet). */
  readonly lines: TraceLine[];
  /** Packets a tap saw in the whole run, whatever `firstPackets` kept. */
  readonly hopPacketCount: number;
  /** The time of the trace's last line (virtual ns). */
  readonly lastTimeNs: number;
  /** Each packet's lines (hops and events about it), in trace order. */
  readonly byPacket = new Map<number, TraceLine[]>();
  private readonly byDevice = new Map<string, InterfaceRecord>();
  private readonly captures = new Map<string, CapturePrefix>();

  constructor(readonly dir: string, opts: JourneyRunOptions = {}) {
    const ifPath = join(dir, 'interfaces.json');
    const tracePath = join(dir, 'trace.jsonl');
    if (!existsSync(ifPath) || !existsSync(tracePath)) throw new JourneyInputError(`${dir}: not a run folder (no interfaces.json or trace.jsonl; write one with podwire run SCENARIO -o DIR)`);
    this.interfaces = (JSON.parse(readFileSync(ifPath, 'utf8')) as { interfaces: InterfaceRecord[] }).interfaces;
    for (const i of this.interfaces) this.byDevice.set(`${i.netns}\0${i.name}`, i);
    const trace = readTrace(tracePath, opts.firstPackets);
    this.lines = trace.lines;
    this.hopPacketCount = trace.hopPackets;
    this.lastTimeNs = trace.lastTimeNs;
    for (const l of this.lines) {
      if (l.kind === 'event' && l.pkt === undefined) continue;
      const id = l.pkt!;
      let list = this.byPacket.get(id);
      if (list === undefined) this.byPacket.set(id, (list = []));
      list.push(l);
    }
  }

  /** The interfaces.json entry of a device. */
  device(netns: string, dev: string): InterfaceRecord | undefined {
    return this.byDevice.get(`${netns}\0${dev}`);
  }

  /** The frame's bytes in its interface's pcap (1-based frame number). */
  frameBytes(rec: InterfaceRecord, frame: number): Uint8Array | undefined {
    let c = this.captures.get(rec.file);
    if (c === undefined) this.captures.set(rec.file, (c = new CapturePrefix(join(this.dir, rec.file))));
    return c.frame(frame);
  }

  /** The interface whose capture file is `name`: `captures/n1/eth0.pcap`, `n1/eth0.pcap` or `n1/eth0`. */
  interfaceByFile(name: string): InterfaceRecord | undefined {
    const want = name.replace(/^\.?\//, '').replace(/^captures\//, '').replace(/\.pcap$/, '');
    return this.interfaces.find((i) => i.file.replace(/^captures\//, '').replace(/\.pcap$/, '') === want);
  }
}

function parseLine(raw: string, path: string, n: number): TraceLine {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new JourneyInputError(`${path}:${n}: not a JSON line`);
  }
  if (typeof o['hop'] === 'string') {
    if (typeof o['pkt'] !== 'number') throw new JourneyInputError(`${path}:${n}: hop line without a packet number (a run from before podwire numbered packets; run the scenario again)`);
    return { kind: 'hop', t: o['t'] as number, dir: o['hop'] as 'rx' | 'tx', netns: o['netns'] as string, dev: o['dev'] as string, frame: o['frame'] as number, len: o['len'] as number, pkt: o['pkt'] };
  }
  return {
    kind: 'event', t: o['t'] as number, event: o['event'] as string, netns: o['netns'] as string, detail: o['detail'] as string,
    ...(typeof o['dev'] === 'string' ? { dev: o['dev'] } : {}),
    ...(typeof o['pkt'] === 'number' ? { pkt: o['pkt'] } : {}),
    ...(typeof o['related'] === 'number' ? { related: o['related'] } : {}),
  };
}

/** The lines of a file, read a chunk at a time (a long run's trace is larger than a string may be). */
function* fileLines(path: string): Generator<string> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for (let got = readSync(fd, buf); got > 0; got = readSync(fd, buf)) {
      const parts = (rest + decoder.write(buf.subarray(0, got))).split('\n');
      rest = parts.pop()!;
      yield* parts;
    }
    yield rest + decoder.end();
  } finally {
    closeSync(fd);
  }
}

// Keys as trace-file.ts writes them; inside a JSON string a quote is escaped, so `"pkt":` is always the key.
const PKT_KEY = /"pkt":(\d+)/;
const RELATED_KEY = /"related":(\d+)/;

/**
 * The trace's lines. With `first`, packets are numbered as the trace first sees them, but a
 * packet may be seen by an event before a tap (its route is chosen, then ARP goes first): the
 * first N packets a tap saw are the N smallest such numbers, found as the file goes — lines about
 * a packet above the N-th smallest so far are skipped unparsed, and those kept before the bound
 * came down are dropped at the end.
 */
function readTrace(path: string, first: number | undefined): { lines: TraceLine[]; hopPackets: number; lastTimeNs: number } {
  const lines: TraceLine[] = [];
  // Which packet numbers a tap saw: a bitmap, as the numbers are dense from 1.
  let seen = new Uint8Array(1024);
  let hopPackets = 0;
  /** The smallest `first` packet numbers with a hop, ascending. */
  const smallest: number[] = [];
  let bound = Infinity;
  let last = '';
  let lastN = 0;
  let n = 0;
  for (const raw of fileLines(path)) {
    n++;
    if (raw === '') continue;
    last = raw;
    lastN = n;
    const m = PKT_KEY.exec(raw);
    const pkt = m === null ? undefined : Number(m[1]);
    if (pkt !== undefined && raw.includes('"hop":')) {
      if (pkt >= seen.length * 8) {
        const grown = new Uint8Array(Math.max(seen.length * 2, (pkt >> 3) + 1));
        grown.set(seen);
        seen = grown;
      }
      if ((seen[pkt >> 3]! & (1 << (pkt & 7))) === 0) {
        seen[pkt >> 3]! |= 1 << (pkt & 7);
        hopPackets++;
        if (first !== undefined && pkt < bound) {
          let i = smallest.length;
          while (i > 0 && smallest[i - 1]! > pkt) i--;
          smallest.splice(i, 0, pkt);
          if (smallest.length > first) smallest.pop();
          if (smallest.length === first) bound = smallest[first - 1]!;
        }
      }
    }
    if (first !== undefined && pkt !== undefined && pkt > bound) {
      const r = RELATED_KEY.exec(raw);
      if (r === null || Number(r[1]) > bound) continue;
    }
    lines.push(parseLine(raw, path, n));
  }
  const kept = first === undefined || bound === Infinity
    ? lines
    : lines.filter((l) => l.kind === 'event' ? l.pkt === undefined || l.pkt <= bound || (l.related !== undefined && l.related <= bound) : l.pkt <= bound);
  const lastLine = last === '' ? undefined : parseLine(last, path, lastN);
  return { lines: kept, hopPackets, lastTimeNs: lastLine?.t ?? 0 };
}
