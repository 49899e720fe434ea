/**
 * Hop events the datapath reports: drops with their reason, ICMP errors sent, neighbour
 * resolution, and — keyed by the packet's number — why a packet changed between two devices
 * (NAT, tunnel encapsulation and decapsulation, the route that rewrote its MACs, fragmentation).
 * A run writes them to trace.jsonl; tests read them. net/ only calls the sink.
 */
import type { Scheduler } from '../sim/scheduler.js';

export type TraceEventKind =
  | 'drop'
  | 'icmp-error'
  | 'arp-failed'
  | 'garp'
  | 'pmtu'
  | 'fragment'
  | 'info'
  | 'nat'
  | 'encap'
  | 'decap'
  | 'route';

export interface TraceEvent {
  readonly timeNs: number;
  readonly netns: string;
  readonly dev?: string;
  readonly event: TraceEventKind;
  readonly detail: string;
  /** The packet the event is about (Skb.id), when it is about one. */
  readonly pkt?: number;
  /** Another packet it names: the ICMP error sent about `pkt`, the packet a fragment was cut from. */
  readonly related?: number;
}

/** The packet an event is about, as the sink may see it: its number and where it was captured. */
export interface TracedPacket {
  id: number;
  note: string | null;
  capturedIf: number;
  capturedFrame: number;
}

export interface TraceSink {
  /** `packet`: the skb the event is about, so a capture can comment that packet's frame. */
  event(e: TraceEvent, packet?: TracedPacket): void;
}

export const NO_TRACE: TraceSink = { event: () => {} };

/** True when someone listens: the why-events (nat, encap, route …) are built only then. */
export function tracing(sink: TraceSink): boolean {
  return sink !== NO_TRACE;
}

/** The packet's number, given on first use (Skb.id). */
export function packetId(sched: Scheduler, skb: { id: number }): number {
  return skb.id !== 0 ? skb.id : (skb.id = sched.nextPacketId());
}
