/**
 * Reads classic pcap files in either byte order, with microsecond or nanosecond timestamps. Packet
 * data are subarrays of the input (no copies). On bad bytes it throws CaptureFormatError only,
 * naming the record and the byte where it starts.
 */
import { formatError, needBytes } from './errors.js';
import { GLOBAL_HEADER_LEN, GLOBAL_OFF, PCAP_VERSION_MAJOR, RECORD_HEADER_LEN, RECORD_OFF, type PcapResolution } from './pcap-writer.js';
import { BE, LE, sniffMagic, type ByteOrder, type PacketRecord } from './reading.js';

export type { ByteOrder } from './reading.js';

export interface PcapHeader {
  readonly byteOrder: ByteOrder;
  readonly resolution: PcapResolution;
  readonly versionMajor: number;
  readonly versionMinor: number;
  /** GMT offset of the timestamps in seconds; 0 in every file libpcap writes. */
  readonly thiszone: number;
  readonly snaplen: number;
  /** The LINKTYPE_ value (the low 16 bits of the field; the upper bits carry FCS information). */
  readonly linktype: number;
}

/** One record: the fields every reader gives a packet (see PacketRecord). */
export interface PcapPacket extends PacketRecord {}

export interface PcapFile {
  readonly header: PcapHeader;
  readonly packets: PcapPacket[];
}

/** Parses the 24-byte global header. */
export function readPcapHeader(bytes: Uint8Array): PcapHeader {
  const magic = sniffMagic(bytes);
  if (magic.format === 'pcapng') {
    formatError('not a classic pcap file: it is pcapng (read it with readPcapng or readCapture)', 0);
  }
  const { reader, resolution } = magic;
  if (bytes.length < GLOBAL_HEADER_LEN) {
    formatError(`file ends inside the global header: needs ${GLOBAL_HEADER_LEN} bytes, ${bytes.length} left`, 0);
  }
  const { r16, r32 } = reader;
  const versionMajor = r16(bytes, GLOBAL_OFF.VERSION_MAJOR);
  const versionMinor = r16(bytes, GLOBAL_OFF.VERSION_MINOR);
  if (versionMajor !== PCAP_VERSION_MAJOR) {
    formatError(`unsupported pcap version ${versionMajor}.${versionMinor} (only 2.x is defined)`, GLOBAL_OFF.VERSION_MAJOR);
  }
  return {
    byteOrder: reader.order,
    resolution,
    versionMajor,
    versionMinor,
    thiszone: r32(bytes, GLOBAL_OFF.THISZONE) | 0,
    snaplen: r32(bytes, GLOBAL_OFF.SNAPLEN),
    linktype: r32(bytes, GLOBAL_OFF.LINKTYPE) & 0xffff,
  };
}

/**
 * The packets one by one. The global header is checked at the call; a bad record throws when the
 * iteration reaches it, after the good ones before it were yielded.
 */
export function pcapPackets(bytes: Uint8Array): IterableIterator<PcapPacket> {
  return records(bytes, readPcapHeader(bytes));
}

export function readPcap(bytes: Uint8Array): PcapFile {
  const header = readPcapHeader(bytes);
  return { header, packets: [...records(bytes, header)] };
}

function* records(bytes: Uint8Array, header: PcapHeader): IterableIterator<PcapPacket> {
  const { r32 } = header.byteOrder === 'le' ? LE : BE;
  const fracNs = header.resolution === 'ns' ? 1 : 1000;
  for (let off = GLOBAL_HEADER_LEN, index = 0; off < bytes.length; index++) {
    const what = `record ${index + 1}`;
    needBytes(bytes, off, RECORD_HEADER_LEN, what);
    const capturedLen = r32(bytes, off + RECORD_OFF.INCL_LEN);
    needBytes(bytes, off, RECORD_HEADER_LEN + capturedLen, what);
    let timestampSec = r32(bytes, off + RECORD_OFF.TS_SEC);
    let timestampNsec = r32(bytes, off + RECORD_OFF.TS_FRAC) * fracNs;
    if (timestampNsec >= 1e9) {
      // Out of range in the file; carry it into the seconds as Wireshark's display does.
      timestampSec += Math.floor(timestampNsec / 1e9);
      timestampNsec %= 1e9;
    }
    const data = bytes.subarray(off + RECORD_HEADER_LEN, off + RECORD_HEADER_LEN + capturedLen);
    yield {
      index,
      offset: off,
      timestampNs: timestampSec * 1e9 + timestampNsec,
      timestampSec,
      timestampNsec,
      capturedLen,
      originalLen: r32(bytes, off + RECORD_OFF.ORIG_LEN),
      data,
    };
    off += RECORD_HEADER_LEN + capturedLen;
  }
}
