/**
 * A run folder as `podwire journey` reads it: interfaces.json (which host, netns and kind each
 * captured interface is), trace.jsonl (hop lines and events, in the order they happened) and the
 * per-interface pcaps, read on demand. Nothing here interprets packets; journey.ts does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCaptureFile, type Capture } from '../pcap/index.js';
import type { InterfaceRecord } from '../capture/index.js';

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

export class JourneyRun {
  readonly interfaces: InterfaceRecord[];
  readonly lines: TraceLine[];
  /** Each packet's lines (hops and events about it), in trace order. */
  readonly byPacket = new Map<number, TraceLine[]>();
  private readonly byDevice = new Map<string, InterfaceRecord>();
  private readonly captures = new Map<string, Capture>();

  constructor(readonly dir: string) {
    const ifPath = join(dir, 'interfaces.json');
    const tracePath = join(dir, 'trace.jsonl');
    if (!existsSync(ifPath) || !existsSync(tracePath)) throw new JourneyInputError(`${dir}: not a run folder (no interfaces.json or trace.jsonl; write one with podwire run SCENARIO -o DIR)`);
    this.interfaces = (JSON.parse(readFileSync(ifPath, 'utf8')) as { interfaces: InterfaceRecord[] }).interfaces;
    for (const i of this.interfaces) this.byDevice.set(`${i.netns}\0${i.name}`, i);
    this.lines = parseTrace(readFileSync(tracePath, 'utf8'), tracePath);
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
    if (c === undefined) {
      c = readCaptureFile(join(this.dir, rec.file));
      this.captures.set(rec.file, c);
    }
    return c.packets[frame - 1]?.data;
  }

  /** The interface whose capture file is `name`: `captures/n1/eth0.pcap`, `n1/eth0.pcap` or `n1/eth0`. */
  interfaceByFile(name: string): InterfaceRecord | undefined {
    const want = name.replace(/^\.?\//, '').replace(/^captures\//, '').replace(/\.pcap$/, '');
    return this.interfaces.find((i) => i.file.replace(/^captures\//, '').replace(/\.pcap$/, '') === want);
  }
}

function parseTrace(text: string, path: string): TraceLine[] {
  const out: TraceLine[] = [];
  let n = 0;
  for (const raw of text.split('\n')) {
    n++;
    if (raw === '') continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      throw new JourneyInputError(`${path}:${n}: not a JSON line`);
    }
    if (typeof o['hop'] === 'string') {
      if (typeof o['pkt'] !== 'number') throw new JourneyInputError(`${path}:${n}: hop line without a packet number (a run from before podwire numbered packets; run the scenario again)`);
      out.push({ kind: 'hop', t: o['t'] as number, dir: o['hop'] as 'rx' | 'tx', netns: o['netns'] as string, dev: o['dev'] as string, frame: o['frame'] as number, len: o['len'] as number, pkt: o['pkt'] });
    } else {
      out.push({
        kind: 'event', t: o['t'] as number, event: o['event'] as string, netns: o['netns'] as string, detail: o['detail'] as string,
        ...(typeof o['dev'] === 'string' ? { dev: o['dev'] } : {}),
        ...(typeof o['pkt'] === 'number' ? { pkt: o['pkt'] } : {}),
        ...(typeof o['related'] === 'number' ? { related: o['related'] } : {}),
      });
    }
  }
  return out;
}
