/**
 * trace.jsonl: one JSON object per line, streamed as the run goes. Two kinds of line:
 *   {"t":…,"hop":"tx"|"rx","netns":…,"dev":…,"frame":N,"len":L}   a frame crossed a device; N is its
 *       number in that interface's pcap (1-based), so a tool can open exactly that frame;
 *   {"t":…,"event":"drop"|"icmp-error"|…,"netns":…,"dev":…,"detail":…}   what the datapath did.
 * Times are virtual nanoseconds (run.json's epochSec maps them to wall-clock time).
 */
import { FileSink } from '../pcap/index.js';
import type { TraceEvent, TraceSink } from '../net/trace.js';

export class TraceFile implements TraceSink {
  private readonly sink: FileSink;

  constructor(path: string) {
    this.sink = new FileSink(path);
  }

  /** Encodes the line straight into the sink's buffer: no Buffer per line. */
  private line(text: string): void {
    const n = Buffer.byteLength(text);
    const at = this.sink.reserve(n + 1);
    const buf = this.sink.buffer;
    buf.write(text, at, n, 'utf8');
    buf[at + n] = 0x0a;
  }

  hop(timeNs: number, dir: 'rx' | 'tx', netns: string, dev: string, frame: number, len: number): void {
    // Names are [A-Za-z0-9._-] (netns and interface names), so no JSON escaping is needed.
    this.line(`{"t":${timeNs},"hop":"${dir}","netns":"${netns}","dev":"${dev}","frame":${frame},"len":${len}}`);
  }

  event(e: TraceEvent): void {
    this.line(JSON.stringify({ t: e.timeNs, event: e.event, netns: e.netns, ...(e.dev ? { dev: e.dev } : {}), detail: e.detail }));
  }

  close(): void {
    this.sink.close();
  }
}
