/**
 * What the three readers (readPcap, readPcapng, readCapture) share: telling the formats apart by
 * their magic, reading either byte order, and the fields every parsed packet has.
 */
import { u16, u32 } from '../packet/bytes.js';
import { notACapture } from './errors.js';
import { u16le, u32le } from './little-endian.js';
import { PCAP_MAGIC_NS, PCAP_MAGIC_US, type PcapResolution } from './pcap-writer.js';
import { BLOCK_SECTION_HEADER } from './pcapng-writer.js';

export type ByteOrder = 'le' | 'be';

/** 16- and 32-bit reads in one byte order; like packet/bytes.ts they do not bounds-check. */
export interface ByteReader {
  readonly order: ByteOrder;
  readonly r16: (b: Uint8Array, off: number) => number;
  readonly r32: (b: Uint8Array, off: number) => number;
}
export const LE: ByteReader = { order: 'le', r16: u16le, r32: u32le };
export const BE: ByteReader = { order: 'be', r16: u16, r32: u32 };

/** What a file's first four bytes say: classic pcap (in which byte order and resolution) or pcapng. */
export type CaptureMagic =
  | { readonly format: 'pcap'; readonly reader: ByteReader; readonly resolution: PcapResolution }
  | { readonly format: 'pcapng' };

const PCAP_LE_US: CaptureMagic = { format: 'pcap', reader: LE, resolution: 'us' };
const PCAP_LE_NS: CaptureMagic = { format: 'pcap', reader: LE, resolution: 'ns' };
const PCAP_BE_US: CaptureMagic = { format: 'pcap', reader: BE, resolution: 'us' };
const PCAP_BE_NS: CaptureMagic = { format: 'pcap', reader: BE, resolution: 'ns' };
const PCAPNG: CaptureMagic = { format: 'pcapng' };

/**
 * Reads the magic. A pcapng Section Header Block's type reads the same in both byte orders; a
 * classic pcap magic says the file's byte order. Anything else (or fewer than 4 bytes) throws
 * notACapture's CaptureFormatError.
 */
export function sniffMagic(bytes: Uint8Array): CaptureMagic {
  if (bytes.length < 4) notACapture(bytes);
  const be = u32(bytes, 0);
  if (be === BLOCK_SECTION_HEADER) return PCAPNG;
  const le = u32le(bytes, 0);
  if (le === PCAP_MAGIC_US) return PCAP_LE_US;
  if (le === PCAP_MAGIC_NS) return PCAP_LE_NS;
  if (be === PCAP_MAGIC_US) return PCAP_BE_US;
  if (be === PCAP_MAGIC_NS) return PCAP_BE_NS;
  return notACapture(bytes);
}

/** The fields of a parsed packet in every reader; PcapPacket, PcapngPacket and CapturePacket add to them. */
export interface PacketRecord {
  /** Position among the file's packets, counting from 0 (Wireshark's frame number is index + 1). */
  readonly index: number;
  /** Byte offset in the file of the record (classic pcap) or block (pcapng) that holds the packet. */
  readonly offset: number;
  /** Nanoseconds since the epoch; a double, so exact only up to 2^53 ns (use the two fields below past that). */
  readonly timestampNs: number;
  /** The timestamp as struct timespec: whole seconds and nanoseconds within the second. Exact. */
  readonly timestampSec: number;
  readonly timestampNsec: number;
  readonly capturedLen: number;
  readonly originalLen: number;
  /** The captured bytes: a subarray of the input, sharing its memory. */
  readonly data: Uint8Array;
}
