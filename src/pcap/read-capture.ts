/**
 * One entry point for "some capture file": detects classic pcap or pcapng from the magic and
 * returns one shape, each packet naming its interface where the file says it. The only place in
 * pcap/ that touches the file system is readCaptureFile.
 */
import { readFileSync } from 'node:fs';
import { CaptureFormatError, notACapture } from './errors.js';
import { u32 } from '../packet/bytes.js';
import { u32le } from './little-endian.js';
import { readPcap } from './pcap-reader.js';
import { PCAP_MAGIC_NS, PCAP_MAGIC_US } from './pcap-writer.js';
import { readPcapng } from './pcapng-reader.js';
import { BLOCK_SECTION_HEADER } from './pcapng-writer.js';

export type CaptureFormat = 'pcap' | 'pcapng';

export interface CaptureInterface {
  readonly linktype: number;
  /** 0 means no limit (pcapng only). */
  readonly snaplen: number;
  readonly name?: string;
  readonly description?: string;
}

export interface CapturePacket {
  /** Counting from 0 (Wireshark's frame number is index + 1). */
  readonly index: number;
  /** Byte offset of the record or block in the file. */
  readonly offset: number;
  /** Index into Capture.interfaces (always 0 for classic pcap). */
  readonly interfaceIndex: number;
  readonly interfaceName?: string;
  readonly linktype: number;
  /** Nanoseconds since the epoch, exact up to 2^53 ns; timestampSec/Nsec are exact. */
  readonly timestampNs: number;
  readonly timestampSec: number;
  readonly timestampNsec: number;
  readonly capturedLen: number;
  readonly originalLen: number;
  /** A subarray of the input. */
  readonly data: Uint8Array;
  readonly comments: readonly string[];
}

export interface Capture {
  readonly format: CaptureFormat;
  readonly interfaces: CaptureInterface[];
  readonly packets: CapturePacket[];
}

/** Which format the magic says, or CaptureFormatError when it is neither. */
export function detectCaptureFormat(bytes: Uint8Array): CaptureFormat {
  if (bytes.length < 4) notACapture(bytes);
  const be = u32(bytes, 0);
  if (be === BLOCK_SECTION_HEADER) return 'pcapng';
  const le = u32le(bytes, 0);
  if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS || le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) return 'pcap';
  return notACapture(bytes);
}

export function readCapture(bytes: Uint8Array): Capture {
  if (detectCaptureFormat(bytes) === 'pcap') {
    const { header, packets } = readPcap(bytes);
    return {
      format: 'pcap',
      interfaces: [{ linktype: header.linktype, snaplen: header.snaplen }],
      packets: packets.map((p) => ({
        index: p.index,
        offset: p.offset,
        interfaceIndex: 0,
        linktype: header.linktype,
        timestampNs: p.timestampNs,
        timestampSec: p.timestampSec,
        timestampNsec: p.timestampNsec,
        capturedLen: p.capturedLen,
        originalLen: p.originalLen,
        data: p.data,
        comments: [],
      })),
    };
  }
  const file = readPcapng(bytes);
  // Interface ids count per section; the common shape numbers them across the file.
  const firstOfSection = new Map<number, number>();
  file.interfaces.forEach((iface, i) => {
    if (!firstOfSection.has(iface.section)) firstOfSection.set(iface.section, i);
  });
  return {
    format: 'pcapng',
    interfaces: file.interfaces.map((i) => ({
      linktype: i.linktype,
      snaplen: i.snaplen,
      ...(i.name !== undefined && { name: i.name }),
      ...(i.description !== undefined && { description: i.description }),
    })),
    packets: file.packets.map((p) => {
      const interfaceIndex = firstOfSection.get(p.section)! + p.interfaceId;
      const iface = file.interfaces[interfaceIndex]!;
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
        comments: p.comments,
      };
    }),
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
