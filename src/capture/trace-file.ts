/**
 * trace.jsonl: one JSON object per line, streamed as the run goes. Two kinds of line:
 *   {"t":…,"hop":"tx"|"rx","netns":…,"dev":…,"frame":N,"len":L,"pkt":P}   a frame crossed a
 *       device; N is its number in that interface's pcap (1-based), so a tool can open exactly
 *       that frame; P is the packet's number in the run, the same at every device it crosses;
 *   {"t":…,"event":"drop"|"icmp-error"|"nat"|"encap"|…,"netns":…,"dev":…,"detail":…,"pkt":P,"related":Q}
 *       what the datapath did, and to which packet (pkt and related only where there is one).
 * Times are virtual nanoseconds (run.json's epochSec maps them to wall-clock time).
 */
import { openFileSink, type BufferedSink } from '../pcap/index.js';
import type { TraceEvent, TracedPacket, TraceSink } from '../net/trace.js';

export class TraceFile implements TraceSink {
  private readonly sink: BufferedSink;
  /** Who else hears of events about a packet (the capture set, which comments its frames). */
  packetEvents: ((e: TraceEvent, packet: TracedPacket) => void) | undefined;

  constructor(path: string) {
    this.sink = openFileSink(path);
  }

  /** Encodes the line straight into the sink's buffer: no Buffer per line. */
  private line(text: string): void {
    const n = Buffer.byteLength(text);
    const at = this.sink.reserve(n + 1);
    const buf = this.sink.buffer;
    buf.write(text, at, n, 'utf8');
    buf[at + n] = 0x0a;
  }

  /**
   * The constant middle of a device's hop lines, `","hop":"tx","netns":"n1","dev":"eth0","frame":`,
   * encoded once: a hop line is then three numbers and two copies, no string per hop.
   */
  hopPrefix(dir: 'rx' | 'tx', netns: string, dev: string): Buffer {
    // Names are [A-Za-z0-9._-] (netns and interface names), so no JSON escaping is needed.
    return Buffer.from(`,"hop":"${dir}","netns":"${netns}","dev":"${dev}","frame":`, 'latin1');
  }

  /** `{"t":T` + prefix + `N,"len":L,"pkt":P}` and a newline. */
  hop(timeNs: number, prefix: Uint8Array, frame: number, len: number, pkt: number): void {
    const at = this.sink.reserve(MAX_HOP_LINE + prefix.length);
    const b = this.sink.buffer;
    let i = at;
    b.set(T_OPEN, i);
    i = writeDecimal(b, i + T_OPEN.length, timeNs);
    b.set(prefix, i);
    i = writeDecimal(b, i + prefix.length, frame);
    b.set(LEN_KEY, i);
    i = writeDecimal(b, i + LEN_KEY.length, len);
    b.set(PKT_KEY, i);
    i = writeDecimal(b, i + PKT_KEY.length, pkt);
    b[i++] = 0x7d; // }
    b[i++] = 0x0a;
    this.sink.unreserve(at + MAX_HOP_LINE + prefix.length - i);
  }

  event(e: TraceEvent, packet?: TracedPacket): void {
    this.line(
      JSON.stringify({
        t: e.timeNs, event: e.event, netns: e.netns, ...(e.dev ? { dev: e.dev } : {}), detail: e.detail,
        ...(e.pkt !== undefined ? { pkt: e.pkt } : {}), ...(e.related !== undefined ? { related: e.related } : {}),
      }),
    );
    if (packet !== undefined && this.packetEvents !== undefined) this.packetEvents(e, packet);
  }

  close(): void {
    this.sink.close();
  }
}

const T_OPEN = Buffer.from('{"t":', 'latin1');
const LEN_KEY = Buffer.from(',"len":', 'latin1');
const PKT_KEY = Buffer.from(',"pkt":', 'latin1');
/** The most a hop line takes besides its prefix: four numbers of up to 16 digits and the keys. */
const MAX_HOP_LINE = T_OPEN.length + LEN_KEY.length + PKT_KEY.length + 4 * 16 + 2;

/** Writes a non-negative integer (below 2^53) in decimal at `at`; returns the offset after it. */
function writeDecimal(b: Uint8Array, at: number, v: number): number {
  let digits = 1;
  for (let p = 10; p <= v; p *= 10) digits++;
  let i = at + digits;
  // Above 2^31 a digit costs a float division; below it, integer division does.
  while (v > 0x7fff_ffff) {
    const q = Math.floor(v / 10);
    b[--i] = 0x30 + (v - q * 10);
    v = q;
  }
  do {
    const q = (v / 10) | 0;
    b[--i] = 0x30 + (v - q * 10);
    v = q;
  } while (v > 0);
  return at + digits;
}
