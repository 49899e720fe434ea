/**
 * A capture set's files: one merged pcapng (an interface block per interface) and one classic
 * pcap per interface, with the same frames. The emulator's thread writes each frame once, into
 * the pcapng; the writer thread writes that stream and splits it — every Enhanced Packet Block
 * becomes a record of its interface's pcap, as `editcap`/`tshark` would split it. Same bytes as a
 * PcapWriter per interface beside a PcapngWriter (the test suite compares them), one copy per
 * frame fewer on the thread that matters.
 *
 * Used when writerThreadAvailable(); otherwise SeparateCaptureWriters writes the same files.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { BackgroundFileSink } from './background-sink.js';
import { PcapngWriter, type PcapngWriterOptions } from './pcapng-writer.js';
import { PcapWriter } from './pcap-writer.js';
import { FileSink, MemorySink } from './sink.js';

/** The 24-byte global header every pcap file of the set starts with (PcapWriter's defaults: ns, Ethernet). */
const PCAP_HEADER: Buffer = (() => {
  const m = new MemorySink(64);
  new PcapWriter(m).close();
  return m.copyBytes();
})();

/** What a capture set writes through: interfaces added as they first carry a frame, then frames. */
export interface CaptureFiles {
  /** Adds an interface (its pcapng block and its pcap at `pcapPath`); returns its id. */
  addInterface(name: string, description: string, pcapPath: string): number;
  /** `comment`: the merged pcapng's opt_comment on the packet (the classic pcaps have no place for one). */
  writePacketAt(id: number, sec: number, nsec: number, frame: Uint8Array, off: number, len: number, comment?: string): void;
  close(): void;
}

/** The same files written on this thread: a PcapWriter per interface beside the PcapngWriter. */
export class SeparateCaptureWriters implements CaptureFiles {
  private readonly merged: PcapngWriter;
  private readonly pcaps: PcapWriter[] = [];

  constructor(pcapngPath: string, opts: PcapngWriterOptions = {}) {
    this.merged = new PcapngWriter(new FileSink(pcapngPath), opts);
  }

  addInterface(name: string, description: string, pcapPath: string): number {
    const id = this.merged.addInterface({ name, description });
    this.pcaps[id] = new PcapWriter(new FileSink(pcapPath));
    return id;
  }

  writePacketAt(id: number, sec: number, nsec: number, frame: Uint8Array, off: number, len: number, comment?: string): void {
    this.pcaps[id]!.writePacketAt(sec, nsec, frame, off, len);
    this.merged.writePacketAt(id, sec, nsec, frame, off, len, len, comment);
  }

  close(): void {
    try {
      for (const w of this.pcaps) w.close();
    } finally {
      this.merged.close();
    }
  }
}

export class SplitCaptureWriter implements CaptureFiles {
  private readonly sink: BackgroundFileSink;
  private readonly merged: PcapngWriter;
  private readonly fds: number[] = [];
  private closed = false;

  constructor(pcapngPath: string, opts: PcapngWriterOptions = {}) {
    this.sink = new BackgroundFileSink(pcapngPath, true);
    this.merged = new PcapngWriter(this.sink, opts);
  }

  /**
   * Adds an interface: its block in the pcapng, and its own pcap file at `pcapPath` (created now,
   * with its global header). Returns the id to write its frames with.
   */
  addInterface(name: string, description: string, pcapPath: string): number {
    const fd = openSync(pcapPath, 'w');
    this.fds.push(fd);
    writeSync(fd, PCAP_HEADER);
    const id = this.merged.addInterface({ name, description });
    this.sink.splitInterface(id, fd);
    return id;
  }

  /** One frame on interface `id` at sec.nsec: into the pcapng here, into the pcap by the writer thread. */
  writePacketAt(id: number, sec: number, nsec: number, frame: Uint8Array, off: number, len: number, comment?: string): void {
    this.merged.writePacketAt(id, sec, nsec, frame, off, len, len, comment);
  }

  /** Writes everything out, then closes every file (each even if another fails). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.merged.close();
    } finally {
      for (const fd of this.fds) closeSync(fd);
    }
  }
}
