/**
 * The ladder (sequence) diagram's model: one lane per host a packet travelled between, one arrow
 * per cable crossing — a frame sent on a veth and received on its peer in another host — in the
 * order the frames left, labelled with what the frame was there. A frame sent but never received
 * on the peer (a lossy cable) is an arrow marked lost; a packet that never left its host (a pod
 * talking to itself over lo) gets one arrow that turns back to its lane.
 *
 * Built from trace.jsonl's hop lines (packet ids, frame numbers) and interfaces.json's peers; the
 * frames' bytes come from the per-interface pcaps only to label the arrows.
 */
import type { HostKind } from '../../capture/index.js';
import type { JourneyRun } from '../journey-run.js';
import { hopLabel } from './hop-label.js';
import type { Topology } from './topology.js';

export interface LadderLane {
  readonly host: string;
  readonly kind: HostKind;
}

export interface LadderArrow {
  readonly pkt: number;
  /** Lane indexes; equal for a packet that stayed in one host. */
  readonly from: number;
  readonly to: number;
  readonly txNs: number;
  /** When the peer received it; absent when it never did. */
  readonly rxNs?: number;
  readonly label: string;
  /** The sending hop's index in the packet's journey (packetJourney's hops), whose frame the arrow shows. */
  readonly hop: number;
  readonly fromDev: string;
  readonly toDev: string;
}

export interface Ladder {
  readonly lanes: LadderLane[];
  readonly arrows: LadderArrow[];
  /** The packets shown: the first `limit` by number. */
  readonly packets: number[];
  /** Packets in the run a tap saw (also those the run was read without: JourneyRun's firstPackets). */
  readonly totalPackets: number;
}

type Draft = Omit<LadderArrow, 'rxNs' | 'from' | 'to'> & { rxNs?: number; readonly fromHost: string; readonly toHost: string };

/** Lane order: each node beside its pods, the switch and external hosts in the middle. */
function laneOrder(t: Topology): string[] {
  const half = Math.ceil(t.nodes.length / 2);
  const out: string[] = [];
  const pods = (n: string): string[] => (t.podsByNode.get(n) ?? []).map((p) => p.name);
  t.nodes.slice(0, half).forEach((n) => out.push(...pods(n.name), n.name));
  out.push(...t.externals.map((h) => h.name), ...t.switches.map((h) => h.name));
  t.nodes.slice(half).forEach((n) => out.push(n.name, ...pods(n.name)));
  out.push(...pods(''));
  for (const h of t.hosts) if (!out.includes(h.name)) out.push(h.name);
  return out;
}

export function buildLadder(run: JourneyRun, t: Topology, limit: number): Ladder {
  const order = laneOrder(t);
  const kinds = new Map(t.hosts.map((h) => [h.name, h.kind]));
  // The first packets by number: packets are numbered as the trace first sees them, so these are the run's first.
  const withHops = new Set<number>();
  for (const l of run.lines) if (l.kind === 'hop') withHops.add(l.pkt);
  const packets = [...withHops].sort((a, b) => a - b).slice(0, limit);
  const shown = new Set(packets);
  const hopIndex = new Map<number, number>();
  /** Arrows waiting for their frame to arrive, by packet and receiving device. */
  const waiting = new Map<string, number>();
  const drafts: Draft[] = [];
  const crossed = new Set<number>();
  const firstHop = new Map<number, { host: string; dev: string; t: number; frame: Uint8Array | undefined }>();
  for (const l of run.lines) {
    if (l.kind !== 'hop') continue;
    if (!shown.has(l.pkt)) continue;
    const k = hopIndex.get(l.pkt) ?? 0;
    hopIndex.set(l.pkt, k + 1);
    const rec = run.device(l.netns, l.dev);
    if (rec === undefined) continue;
    if (k === 0) firstHop.set(l.pkt, { host: rec.host, dev: rec.name, t: l.t, frame: run.frameBytes(rec, l.frame) });
    if (l.dir === 'rx') {
      const key = `${l.pkt}\0${rec.host}\0${rec.name}`;
      const at = waiting.get(key);
      if (at !== undefined) {
        waiting.delete(key);
        drafts[at]!.rxNs = l.t;
      }
      continue;
    }
    const peer = rec.peer;
    if (peer === undefined || peer.host === rec.host) continue;
    const bytes = run.frameBytes(rec, l.frame);
    waiting.set(`${l.pkt}\0${peer.host}\0${peer.name}`, drafts.length);
    drafts.push({
      pkt: l.pkt, txNs: l.t, label: bytes ? hopLabel(bytes) : `packet ${l.pkt}`, hop: k,
      fromDev: `${rec.host} ${rec.name}`, toDev: `${peer.host} ${peer.name}`,
      fromHost: rec.host, toHost: peer.host,
    });
    crossed.add(l.pkt);
  }
  // A packet that never crossed a cable: one arrow back to its own lane, at its first hop.
  for (const p of packets) {
    if (crossed.has(p)) continue;
    const f = firstHop.get(p);
    if (f === undefined) continue;
    const at = drafts.findIndex((d) => d.txNs > f.t);
    const arrow: Draft = {
      pkt: p, txNs: f.t, rxNs: f.t, label: f.frame ? hopLabel(f.frame) : `packet ${p}`, hop: 0,
      fromDev: `${f.host} ${f.dev}`, toDev: `${f.host} ${f.dev}`, fromHost: f.host, toHost: f.host,
    };
    drafts.splice(at < 0 ? drafts.length : at, 0, arrow);
  }
  const used = new Set(drafts.flatMap((d) => [d.fromHost, d.toHost]));
  const laneNames = order.filter((h) => used.has(h));
  for (const h of used) if (!laneNames.includes(h)) laneNames.push(h);
  const lanes = laneNames.map((host) => ({ host, kind: kinds.get(host) ?? ('external' as HostKind) }));
  const index = new Map(laneNames.map((h, i) => [h, i]));
  const arrows = drafts.map((d): LadderArrow => {
    const { fromHost, toHost, ...rest } = d;
    return { ...rest, from: index.get(fromHost)!, to: index.get(toHost)! };
  });
  return { lanes, arrows, packets, totalPackets: run.hopPacketCount };
}
