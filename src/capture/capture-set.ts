/**
 * The captures of a run: a tap on every device, writing one classic pcap (nanosecond timestamps
 * from the virtual clock) per interface that carried traffic, grouped by host, and one merged
 * pcapng with an interface block per interface. A device's file is opened on its first frame, so
 * an interface that carried nothing leaves no file. What a tap writes is the frame's bytes at that
 * moment: the same buffer is rewritten at the next hop.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatIpv4, formatMac } from '../packet/addr.js';
import { addPcapngComments, SeparateCaptureWriters, SplitCaptureWriter, writerThreadAvailable, type CaptureFiles } from '../pcap/index.js';
import type { NetDevice } from '../net/device.js';
import type { DeviceKind, TapDevice, TapDirection } from '../net/tap.js';
import type { TraceEvent, TracedPacket } from '../net/trace.js';
import type { TraceFile } from './trace-file.js';

export type HostKind = 'node' | 'pod' | 'external' | 'switch';

export interface HostLabel {
  readonly host: string;
  readonly hostKind: HostKind;
}

/** One entry of interfaces.json (README: "What a run writes"): the contract tools read. */
export interface InterfaceRecord {
  /** Relative to the run folder, e.g. `captures/n1/eth0.pcap`. */
  readonly file: string;
  readonly host: string;
  readonly hostKind: HostKind;
  readonly netns: string;
  readonly name: string;
  readonly kind: DeviceKind;
  readonly mac: string;
  readonly mtu: number;
  readonly addresses: readonly string[];
  readonly peer?: { readonly host: string; readonly name: string };
  readonly packets: number;
}

interface Attached {
  readonly dev: NetDevice;
  readonly label: HostLabel;
  readonly file: string;
  /** The interface's id in the capture files, once it carried a frame (-1 before). */
  id: number;
  packets: number;
  /** The trace's pre-encoded hop-line middles for this device, made on first use. */
  hopTx?: Buffer;
  hopRx?: Buffer;
}

export class CaptureSet {
  private readonly attached = new Map<TapDevice, Attached>();
  private readonly labels = new Map<string, HostLabel>();
  private readonly files: CaptureFiles;
  private readonly merged: string;
  /** Comments for frames already written (a drop after the packet's last tap): added at close. */
  private readonly lateComments = new Map<number, Map<number, string>>();
  private closed = false;
  /** Frames written so far, on every interface (a progress display reads it). */
  packetsWritten = 0;

  /**
   * `dir` is the run's (temporary) output folder; captures go to dir/captures/<host>/<ifname>.pcap.
   * `epochSec` is the wall-clock time of virtual time 0, added to every timestamp.
   */
  constructor(
    private readonly dir: string,
    private readonly epochSec: number,
    private readonly trace?: TraceFile,
    /** Write on a second thread (the default where there is a second CPU); the files are the same. */
    onWriterThread = writerThreadAvailable(),
  ) {
    const merged = join(dir, 'all.pcapng');
    this.merged = merged;
    // Events about a packet become comments on its frames in all.pcapng (DESIGN.md).
    if (trace) trace.packetEvents = (e, p) => this.annotate(e, p);
    this.files = onWriterThread ? new SplitCaptureWriter(merged, { application: 'podwire' }) : new SeparateCaptureWriters(merged, { application: 'podwire' });
  }

  /** Names the host a netns belongs to (node n1, pod pa, the underlay switch …). */
  labelNetns(netns: string, label: HostLabel): void {
    this.labels.set(netns, label);
  }

  /** Starts capturing on a device, as `tcpdump -i DEV` would. */
  attach(dev: NetDevice): void {
    if (this.attached.has(dev)) return;
    const label = this.labels.get(dev.netnsName) ?? { host: dev.netnsName, hostKind: 'node' };
    const file = join('captures', label.host, `${dev.name}.pcap`);
    const a: Attached = { dev, label, file, id: -1, packets: 0 };
    this.attached.set(dev, a);
    // A tap per device that knows its record: no lookup per frame.
    dev.taps.push({ frame: (_d, dir, timeNs, buf, off, len, packet) => this.record(a, dir, timeNs, buf, off, len, packet) });
  }

  /**
   * What happened to a packet, as a comment on a frame of all.pcapng: a translation or a tunnel
   * on the next frame the packet is captured in (the first that shows it), a drop on the last
   * one it was captured in (known only now: that frame gets its comment when the file closes).
   */
  private annotate(e: TraceEvent, p: TracedPacket): void {
    if (this.closed) return;
    let text: string;
    switch (e.event) {
      case 'nat':
        text = `${e.netns}: ${e.detail}`;
        break;
      case 'encap':
        text = `${e.netns}: ${e.dev ?? ''} encapsulates: ${e.detail}`;
        break;
      case 'decap':
        text = `${e.netns}: ${e.dev ?? ''} decapsulates: ${e.detail}`;
        break;
      case 'drop': {
        if (p.capturedIf < 0) return;
        let byFrame = this.lateComments.get(p.capturedIf);
        if (byFrame === undefined) this.lateComments.set(p.capturedIf, (byFrame = new Map()));
        const drop = `${e.netns}: dropped${e.dev ? ` at ${e.dev}` : ''}: ${e.detail}`;
        const before = byFrame.get(p.capturedFrame);
        byFrame.set(p.capturedFrame, before === undefined ? drop : `${before}; ${drop}`);
        return;
      }
      default:
        return;
    }
    p.note = p.note === null ? text : `${p.note}; ${text}`;
  }

  private record(a: Attached, dir: TapDirection, timeNs: number, buf: Uint8Array, off: number, len: number, packet: TracedPacket): void {
    if (this.closed) return;
    const dev = a.dev;
    // libpcap on Linux drops a loopback device's outgoing copies (PACKET_OUTGOING on lo): every
    // packet comes back in as incoming, and tcpdump -i lo shows it once, when it arrives.
    if (dir === 'tx' && a.dev.kind === 'loopback') return;
    if (a.id < 0) this.open(a);
    const sec = this.epochSec + Math.floor(timeNs / 1e9);
    const nsec = timeNs % 1e9;
    // One view of the frame for both files: a whole chunk is copied without a view of its own.
    const frame = off === 0 && len === buf.length ? buf : buf.subarray(off, off + len);
    const note = packet.note;
    if (note === null) this.files.writePacketAt(a.id, sec, nsec, frame, 0, len);
    else {
      this.files.writePacketAt(a.id, sec, nsec, frame, 0, len, note);
      packet.note = null;
    }
    a.packets++;
    this.packetsWritten++;
    packet.capturedIf = a.id;
    packet.capturedFrame = a.packets;
    if (this.trace) {
      const prefix = dir === 'tx' ? (a.hopTx ??= this.trace.hopPrefix('tx', dev.netnsName, dev.name)) : (a.hopRx ??= this.trace.hopPrefix('rx', dev.netnsName, dev.name));
      this.trace.hop(timeNs, prefix, a.packets, len, packet.id);
    }
  }

  private open(a: Attached): void {
    mkdirSync(join(this.dir, 'captures', a.label.host), { recursive: true });
    a.id = this.files.addInterface(a.dev.name, `${a.label.hostKind} ${a.label.host}`, join(this.dir, a.file));
  }

  /** Closes every file; returns the index of the interfaces that carried traffic. */
  close(): InterfaceRecord[] {
    this.closed = true;
    const out: InterfaceRecord[] = [];
    this.files.close();
    addPcapngComments(this.merged, this.lateComments);
    for (const a of this.attached.values()) {
      if (a.id < 0) continue;
      const d = a.dev;
      const peer = (d as { peer?: NetDevice }).peer;
      const peerLabel = peer ? (this.labels.get(peer.netnsName) ?? { host: peer.netnsName, hostKind: 'node' as const }) : undefined;
      out.push({
        file: a.file,
        host: a.label.host,
        hostKind: a.label.hostKind,
        netns: d.netnsName,
        name: d.name,
        kind: d.kind,
        mac: formatMac(d.mac),
        mtu: d.mtu,
        addresses: d.addresses.map((x) => `${formatIpv4(x.address)}/${x.prefixLen}`),
        ...(peer && peerLabel ? { peer: { host: peerLabel.host, name: peer.name } } : {}),
        packets: a.packets,
      });
    }
    return out;
  }
}
