/**
 * One entry point for "some capture file": detects classic pcap or pcapng from the magic and
 * returns one shape, each packet naming its interface where the file says it. The only place in
 * pcap/ that touches the file system is readCaptureFile.
 */
import { readFileSync } from 'node:fs';
import { CaptureFormatError } from './errors.js';
import { readPcap } from './pcap-reader.js';
import { readPcapng } from './pcapng-reader.js';
import { sniffMagic, type PacketRecord } from './reading.js';

export type CaptureFormat = 'pcap' | 'pcapng';

export interface CaptureInterface {
  readonly linktype: number;
  /** 0 means no limit (pcapng only). */
  readonly snaplen: number;
  readonly name?: string;
  readonly description?: string;
}

export interface CapturePacket extends PacketRecord {
  /** Index into Capture.interfaces (always 0 for classic pcap). */
  readonly interfaceIndex: number;
  readonly interfaceName?: string;
  readonly linktype: number;
  readonly comments: readonly string[];
}

export interface Capture {
  readonly format: CaptureFormat;
  readonly interfaces: CaptureInterface[];
  readonly packets: CapturePacket[];
}

/** Which format the magic says, or CaptureFormatError when it is neither. */
export function detectCaptureFormat(bytes: Uint8Array): CaptureFormat {
  return sniffMagic(bytes).format;
}

export function readCapture(bytes: Uint8Array): Capture {
  if (detectCaptureFormat(bytes) === 'pcap') {
    const { header, packets } = readPcap(bytes);
    const iface: CaptureInterface = { linktype: header.linktype, snaplen: header.snaplen };
    return { format: 'pcap', interfaces: [iface], packets: packets.map((p) => capturePacket(p, 0, iface, [])) };
  }
  const file = readPcapng(bytes);
  // Interface ids count per section; the common shape numbers them across the file.
  const firstOfSection = new Map<number, number>();
  file.interfaces.forEach((iface, i) => {
    if (!firstOfSection.has(iface.section)) firstOfSection.set(iface.section, i);
  });
  const interfaces = file.interfaces.map(
    (i): CaptureInterface => ({
      linktype: i.linktype,
      snaplen: i.snaplen,
      ...(i.name !== undefined && { name: i.name }),
      ...(i.description !== undefined && { description: i.description }),
    }),
  );
  return {
    format: 'pcapng',
    interfaces,
    packets: file.packets.map((p) => {
      const interfaceIndex = firstOfSection.get(p.section)! + p.interfaceId;
      return capturePacket(p, interfaceIndex, interfaces[interfaceIndex]!, p.comments);
    }),
  };
}

/** The common shape of one packet of either format, on the interface the file gives it. */
function capturePacket(p: PacketRecord, interfaceIndex: number, iface: CaptureInterface, comments: readonly string[]): CapturePacket {
  return {
    index: p.index,
    offset: p.offset,
    interfaceIndex,
    ...(iface.name !== undefined && { interfaceName: iface.name }),
    linktype: iface.linktype,
    timestampNs: p.timestampNs,
    timestampSec: p.timestampSec,
    timestampNsec: p.timestampNsec,
    capturedLen: p.capturedLen,
    originalLen: p.originalLen,
    data: p.data,
    comments,
  };
}

/**
 * Reads and parses a capture file. A format problem is a CaptureFormatError whose message starts
 * with the path; file-system errors (ENOENT, EACCES …) are Node's own, which name the path too.
 */
export function readCaptureFile(path: string): Capture {
  const bytes = readFileSync(path);
  try {
    return readCapture(bytes);
  } catch (e) {
    if (e instanceof CaptureFormatError) throw new CaptureFormatError(`${path}: ${e.message}`, e.offset);
    throw e;
  }
}
