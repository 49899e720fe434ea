/**
 * Hop events the datapath reports: drops with their reason, ICMP errors sent, neighbour
 * resolution. A run writes them to trace.jsonl; tests read them. net/ only calls the sink.
 */
export interface TraceEvent {
  readonly timeNs: number;
  readonly netns: string;
  readonly dev?: string;
  readonly event: 'drop' | 'icmp-error' | 'arp-failed' | 'garp' | 'pmtu' | 'fragment' | 'info';
  readonly detail: string;
}

export interface TraceSink {
  event(e: TraceEvent): void;
}

export const NO_TRACE: TraceSink = { event: () => {} };
