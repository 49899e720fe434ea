/**
 * Small tools for tests of the emulated kernel (test/net/): hand-built frames wrapped as skbs for
 * injection through a device's transmit, a trace recorder, stepping the clock one event time at a
 * time, and the capture check over what a RecordingTap saw (one pcap per interface, as a run
 * writes them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIpv4, parseMac } from '../../src/packet/addr.js';
import * as arp from '../../src/packet/arp.js';
import * as ethernet from '../../src/packet/ethernet.js';
import { Skb } from '../../src/net/skb.js';
import type { TraceEvent, TraceSink } from '../../src/net/trace.js';
import { FileSink, PcapWriter } from '../../src/pcap/index.js';
import { VIRTUAL_EPOCH_SEC, type Scheduler } from '../../src/sim/scheduler.js';
import { captureProblems, type CaptureProblem } from './tshark.js';
import type { Recorded, RecordingTap } from './topology.js';

/** A frame as an skb with headroom, ready for `dev.transmit(skb)`. */
export function skbOf(frame: Uint8Array): Skb {
  const skb = Skb.alloc(frame.length);
  skb.buf.set(frame, skb.head);
  return skb;
}

export interface ArpSpec {
  readonly ethDst: string;
  readonly ethSrc: string;
  readonly op: number;
  readonly senderMac: string;
  readonly senderIp: string;
  readonly targetMac: string;
  readonly targetIp: string;
}

/** A 42-byte ARP frame, as Linux sends it on veth and bridges (no padding). */
export function arpFrame(s: ArpSpec): Buffer {
  const b = Buffer.alloc(ethernet.HEADER_LEN + arp.HEADER_LEN);
  ethernet.emit({ dst: parseMac(s.ethDst), src: parseMac(s.ethSrc), ethertype: ethernet.ETHERTYPE_ARP }, b, 0);
  arp.emit(
    { op: s.op, senderMac: parseMac(s.senderMac), senderIp: parseIpv4(s.senderIp), targetMac: parseMac(s.targetMac), targetIp: parseIpv4(s.targetIp) },
    b,
    ethernet.HEADER_LEN,
  );
  return b;
}

/** IEEE 802 "local experimental" EtherType 1: a payload no stack handles, for pure layer-2 tests. */
export const ETHERTYPE_LOCAL_EXPERIMENTAL = 0x88b5;

/** A minimum-size (60-byte) frame of EtherType 0x88b5 whose payload bytes are all `fill`. */
export function l2Frame(dst: string, src: string, fill = 0): Buffer {
  const b = Buffer.alloc(60, fill);
  ethernet.emit({ dst: parseMac(dst), src: parseMac(src), ethertype: ETHERTYPE_LOCAL_EXPERIMENTAL }, b, 0);
  return b;
}

export class TraceRecorder implements TraceSink {
  readonly events: TraceEvent[] = [];
  event(e: TraceEvent): void {
    this.events.push(e);
  }
  drops(): string[] {
    return this.events.filter((e) => e.event === 'drop').map((e) => `${e.netns}/${e.dev ?? '-'}: ${e.detail}`);
  }
}

/**
 * Runs the scheduler one event time at a time up to `untilNs`, calling `after` with the clock
 * after each step: for watching state that timers change (NUD states, FDB ageing).
 */
export function stepUntil(sched: Scheduler, untilNs: number, after: (nowNs: number) => void): void {
  for (let next = sched.peekTimeNs(); next !== undefined && next <= untilNs; next = sched.peekTimeNs()) {
    sched.run(next);
    after(sched.nowNs);
  }
  sched.run(untilNs);
}

/** Writes one classic pcap per capture point (`netns/dev`) that saw frames; returns the file names. */
export function writeTapPcaps(tap: RecordingTap, dir: string): Map<string, string> {
  const byWhere = new Map<string, Recorded[]>();
  for (const f of tap.frames) {
    const list = byWhere.get(f.where) ?? [];
    list.push(f);
    byWhere.set(f.where, list);
  }
  const files = new Map<string, string>();
  for (const [where, frames] of byWhere) {
    const file = join(dir, `${where.replace('/', '-')}.pcap`);
    const w = new PcapWriter(new FileSink(file));
    for (const f of frames) w.writePacketAt(VIRTUAL_EPOCH_SEC + Math.floor(f.timeNs / 1e9), f.timeNs % 1e9, f.bytes);
    w.close();
    files.set(where, file);
  }
  return files;
}

/**
 * DESIGN.md's capture check over everything the tap saw: the problems tshark reports, per capture
 * point that has any (so `{}` means every capture is clean).
 */
export function tapCaptureProblems(tap: RecordingTap): Record<string, CaptureProblem[]> {
  const dir = mkdtempSync(join(tmpdir(), 'podwire-net-'));
  try {
    const out: Record<string, CaptureProblem[]> = {};
    for (const [where, file] of writeTapPcaps(tap, dir)) {
      const problems = captureProblems(file);
      if (problems.length > 0) out[where] = problems;
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
