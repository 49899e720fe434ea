/**
 * Reads pcapng files (draft-ietf-opsawg-pcapng): any number of sections, each in its own byte
 * order; Interface Description Blocks with if_name, if_description, if_tsresol (power-of-10 and
 * power-of-2 forms) and if_tsoffset; Enhanced, Simple and (obsolete) Packet Blocks. Other block
 * types (name resolution, statistics, custom, decryption secrets …) are skipped by their length.
 * Packet data are subarrays of the input. On bad bytes it throws CaptureFormatError only.
 */
import { u32 } from '../packet/bytes.js';
import { formatError, hexMagic, needBytes } from './errors.js';
import { u32le } from './little-endian.js';
import {
  BLOCK_ENHANCED_PACKET,
  BLOCK_INTERFACE_DESCRIPTION,
  BLOCK_PACKET,
  BLOCK_SECTION_HEADER,
  BLOCK_SIMPLE_PACKET,
  BYTE_ORDER_MAGIC,
  IF_DESCRIPTION,
  IF_NAME,
  IF_TSOFFSET,
  IF_TSRESOL,
  OPT_COMMENT,
  OPT_ENDOFOPT,
  PCAPNG_VERSION_MAJOR,
  SHB_HARDWARE,
  SHB_OS,
  SHB_USERAPPL,
  TSRESOL_US,
  pad4,
} from './pcapng-writer.js';
import { BE, LE, sniffMagic, type ByteOrder, type ByteReader, type PacketRecord } from './reading.js';

export interface PcapngSectionOptions {
  readonly comments: readonly string[];
  readonly hardware?: string;
  readonly os?: string;
  readonly userAppl?: string;
}

export interface PcapngSection {
  /** Byte offset of the Section Header Block. */
  readonly offset: number;
  readonly byteOrder: ByteOrder;
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly options: PcapngSectionOptions;
}

export interface PcapngInterface {
  /** Index of the section the IDB belongs to. */
  readonly section: number;
  /** The interface id packets of that section refer to (counting IDBs in the section from 0). */
  readonly id: number;
  /** Byte offset of the IDB. */
  readonly offset: number;
  readonly linktype: number;
  /** 0 means no limit. */
  readonly snaplen: number;
  readonly name?: string;
  readonly description?: string;
  readonly comments: readonly string[];
  /**
   * The if_tsresol byte as in the file (6 when the option is absent): bit 7 clear means 10^-n
   * seconds, set means 2^-n with n the low 7 bits.
   */
  readonly tsresol: number;
  /** Timestamp units per second that tsresol stands for (1e9 for nanoseconds). */
  readonly unitsPerSecond: number;
  /** if_tsoffset: seconds added to every timestamp of the interface (0 when absent). */
  readonly tsoffsetSec: number;
}

export type PcapngPacketBlock = 'enhanced' | 'simple' | 'packet';

/** One packet block; the timestamp fields are 0 when hasTimestamp is false. */
export interface PcapngPacket extends PacketRecord {
  readonly block: PcapngPacketBlock;
  readonly section: number;
  /** Per section, as in the block; a Simple Packet Block is always on interface 0. */
  readonly interfaceId: number;
  /** False for a Simple Packet Block, which has no timestamp (the three fields are then 0). */
  readonly hasTimestamp: boolean;
  /** opt_comment values in file order. */
  readonly comments: readonly string[];
  /** epb_flags (direction, reception type, FCS length …) when present. */
  readonly flags?: number;
}

export interface PcapngFile {
  readonly sections: PcapngSection[];
  readonly interfaces: PcapngInterface[];
  readonly packets: PcapngPacket[];
}

const EPB_FIXED_LEN = 20; // interface id, timestamp high/low, captured and original length
const PB_FIXED_LEN = 20; // interface id (16 bits), drops count, timestamp, lengths
const SPB_FIXED_LEN = 4; // original length
const SHB_FIXED_LEN = 16;
const IDB_FIXED_LEN = 8;
const BLOCK_MIN_LEN = 12;
const EPB_FLAGS = 2;
const TWO_32 = 4294967296;

const utf8 = new TextDecoder('utf-8'); // not fatal: bad UTF-8 becomes U+FFFD, never an exception

interface InterfaceState {
  readonly info: PcapngInterface;
  /** 1e9 and 1e6 take the fast path; anything else divides BigInts. */
  readonly units: bigint;
  readonly isNs: boolean;
  readonly isUs: boolean;
}

export function readPcapng(bytes: Uint8Array): PcapngFile {
  if (sniffMagic(bytes).format === 'pcap') {
    formatError('not a pcapng file: it is classic pcap (read it with readPcap or readCapture)', 0);
  }
  const sections: PcapngSection[] = [];
  const interfaces: PcapngInterface[] = [];
  const packets: PcapngPacket[] = [];
  let rd = LE;
  let sectionIfs: InterfaceState[] = [];

  for (let off = 0; off < bytes.length; ) {
    needBytes(bytes, off, BLOCK_MIN_LEN, 'block');
    const type = rd.r32(bytes, off);
    if (type === BLOCK_SECTION_HEADER) {
      // The byte order is the section's, so it has to be read before the length.
      const bom = u32le(bytes, off + 8);
      if (bom === BYTE_ORDER_MAGIC) rd = LE;
      else if (u32(bytes, off + 8) === BYTE_ORDER_MAGIC) rd = BE;
      else {
        formatError(`section header block at byte ${off} has an unknown byte-order magic ${hexMagic(bytes, off + 8)}`, off);
      }
    }
    const len = rd.r32(bytes, off + 4);
    if (len < BLOCK_MIN_LEN || len % 4 !== 0) {
      formatError(`block at byte ${off} has an invalid length ${len} (a multiple of 4, at least 12)`, off);
    }
    needBytes(bytes, off, len, 'block');
    const trailer = rd.r32(bytes, off + len - 4);
    if (trailer !== len) {
      formatError(`block at byte ${off} has length ${len} but a trailing length of ${trailer}`, off);
    }
    const body = off + 8;
    const end = off + len - 4;

    switch (type) {
      case BLOCK_SECTION_HEADER: {
        fixedPart(off, len, SHB_FIXED_LEN, 'section header block');
        const versionMajor = rd.r16(bytes, body + 4);
        const versionMinor = rd.r16(bytes, body + 6);
        if (versionMajor !== PCAPNG_VERSION_MAJOR) {
          formatError(`section at byte ${off} has unsupported pcapng version ${versionMajor}.${versionMinor}`, off);
        }
        const comments: string[] = [];
        let hardware: string | undefined;
        let os: string | undefined;
        let userAppl: string | undefined;
        eachOption(bytes, rd, body + SHB_FIXED_LEN, end, (code, at, n) => {
          if (code === OPT_COMMENT) comments.push(text(bytes, at, n));
          else if (code === SHB_HARDWARE) hardware = text(bytes, at, n);
          else if (code === SHB_OS) os = text(bytes, at, n);
          else if (code === SHB_USERAPPL) userAppl = text(bytes, at, n);
        });
        sections.push({
          offset: off,
          byteOrder: rd.order,
          versionMajor,
          versionMinor,
          options: {
            comments,
            ...(hardware !== undefined && { hardware }),
            ...(os !== undefined && { os }),
            ...(userAppl !== undefined && { userAppl }),
          },
        });
        sectionIfs = [];
        break;
      }
      case BLOCK_INTERFACE_DESCRIPTION: {
        fixedPart(off, len, IDB_FIXED_LEN, 'interface description block');
        const state = readInterface(bytes, rd, off, body, end, sections.length - 1, sectionIfs.length);
        sectionIfs.push(state);
        interfaces.push(state.info);
        break;
      }
      case BLOCK_ENHANCED_PACKET:
      case BLOCK_PACKET: {
        const isEpb = type === BLOCK_ENHANCED_PACKET;
        const what = isEpb ? 'enhanced packet block' : 'packet block';
        fixedPart(off, len, isEpb ? EPB_FIXED_LEN : PB_FIXED_LEN, what);
        const interfaceId = isEpb ? rd.r32(bytes, body) : rd.r16(bytes, body);
        const iface = sectionIfs[interfaceId];
        if (iface === undefined) {
          formatError(
            `${what} at byte ${off} (packet ${packets.length + 1}) refers to interface ${interfaceId}, but its section has ${sectionIfs.length} before it`,
            off,
          );
        }
        const capturedLen = rd.r32(bytes, body + 12);
        const data = body + 20;
        if (capturedLen > end - data) {
          formatError(`${what} at byte ${off} has captured length ${capturedLen}, more than the ${end - data} bytes it holds`, off);
        }
        const comments: string[] = [];
        let flags: number | undefined;
        eachOption(bytes, rd, data + capturedLen + pad4(capturedLen), end, (code, at, n) => {
          if (code === OPT_COMMENT) comments.push(text(bytes, at, n));
          else if (code === EPB_FLAGS && n === 4) flags = rd.r32(bytes, at);
        });
        const ts = timestamp(iface, rd.r32(bytes, body + 4), rd.r32(bytes, body + 8));
        packets.push({
          index: packets.length,
          offset: off,
          block: isEpb ? 'enhanced' : 'packet',
          section: sections.length - 1,
          interfaceId,
          hasTimestamp: true,
          timestampNs: ts.sec * 1e9 + ts.nsec,
          timestampSec: ts.sec,
          timestampNsec: ts.nsec,
          capturedLen,
          originalLen: rd.r32(bytes, body + 16),
          data: bytes.subarray(data, data + capturedLen),
          comments,
          ...(flags !== undefined && { flags }),
        });
        break;
      }
      case BLOCK_SIMPLE_PACKET: {
        fixedPart(off, len, SPB_FIXED_LEN, 'simple packet block');
        const iface = sectionIfs[0];
        if (iface === undefined) {
          formatError(`simple packet block at byte ${off} (packet ${packets.length + 1}) needs interface 0, but its section has none before it`, off);
        }
        const originalLen = rd.r32(bytes, body);
        const snaplen = iface.info.snaplen;
        // The block does not say how much was captured: the draft defines it as min(original, snaplen).
        const capturedLen = snaplen !== 0 && snaplen < originalLen ? snaplen : originalLen;
        const data = body + SPB_FIXED_LEN;
        if (capturedLen > end - data) {
          formatError(`simple packet block at byte ${off} has captured length ${capturedLen}, more than the ${end - data} bytes it holds`, off);
        }
        packets.push({
          index: packets.length,
          offset: off,
          block: 'simple',
          section: sections.length - 1,
          interfaceId: 0,
          hasTimestamp: false,
          timestampNs: 0,
          timestampSec: 0,
          timestampNsec: 0,
          capturedLen,
          originalLen,
          data: bytes.subarray(data, data + capturedLen),
          comments: [],
        });
        break;
      }
      default:
        break; // name resolution, statistics, custom and unknown blocks: skipped by their length
    }
    off += len;
  }
  return { sections, interfaces, packets };
}

function fixedPart(off: number, len: number, fixed: number, what: string): void {
  if (len < BLOCK_MIN_LEN + fixed) {
    formatError(`${what} at byte ${off} has an invalid length ${len}: its fixed fields need ${BLOCK_MIN_LEN + fixed}`, off);
  }
}

function readInterface(
  bytes: Uint8Array,
  rd: ByteReader,
  off: number,
  body: number,
  end: number,
  section: number,
  id: number,
): InterfaceState {
  let name: string | undefined;
  let description: string | undefined;
  let tsresol = TSRESOL_US;
  let tsoffsetSec = 0;
  const comments: string[] = [];
  eachOption(bytes, rd, body + IDB_FIXED_LEN, end, (code, at, n) => {
    if (code === OPT_COMMENT) comments.push(text(bytes, at, n));
    else if (code === IF_NAME) name = text(bytes, at, n);
    else if (code === IF_DESCRIPTION) description = text(bytes, at, n);
    else if (code === IF_TSRESOL) {
      if (n !== 1) formatError(`option if_tsresol at byte ${at - 4} has length ${n}, expected 1`, at - 4);
      tsresol = bytes[at]!;
    } else if (code === IF_TSOFFSET) {
      if (n !== 8) formatError(`option if_tsoffset at byte ${at - 4} has length ${n}, expected 8`, at - 4);
      tsoffsetSec = Number(i64(bytes, rd, at));
    }
  });
  const exponent = tsresol & 0x7f;
  const base = tsresol & 0x80 ? 2n : 10n;
  const units = base ** BigInt(exponent);
  const info: PcapngInterface = {
    section,
    id,
    offset: off,
    linktype: rd.r16(bytes, body),
    snaplen: rd.r32(bytes, body + 4),
    ...(name !== undefined && { name }),
    ...(description !== undefined && { description }),
    comments,
    tsresol,
    unitsPerSecond: Number(units),
    tsoffsetSec,
  };
  return { info, units, isNs: units === 1_000_000_000n, isUs: units === 1_000_000n };
}

/** Calls `visit(code, valueOffset, valueLen)` for each option in [start, end) up to opt_endofopt. */
function eachOption(
  bytes: Uint8Array,
  rd: ByteReader,
  start: number,
  end: number,
  visit: (code: number, at: number, len: number) => void,
): void {
  for (let p = start; p + 4 <= end; ) {
    const code = rd.r16(bytes, p);
    const n = rd.r16(bytes, p + 2);
    if (code === OPT_ENDOFOPT) return;
    if (p + 4 + n > end) {
      formatError(`option ${code} at byte ${p} has length ${n}, which runs past the end of its block at byte ${end}`, p);
    }
    visit(code, p + 4, n);
    p += 4 + n + pad4(n);
  }
}

function timestamp(iface: InterfaceState, high: number, low: number): { sec: number; nsec: number } {
  const offsetSec = iface.info.tsoffsetSec;
  // Below 2^53 units, doubles are exact; the usual resolutions need no BigInt.
  if (high < 0x200000 && (iface.isNs || iface.isUs)) {
    const units = high * TWO_32 + low;
    const perSec = iface.isNs ? 1e9 : 1e6;
    const sec = Math.floor(units / perSec); // exact: integer operands below 2^53
    const frac = units - sec * perSec;
    return { sec: sec + offsetSec, nsec: iface.isNs ? frac : frac * 1000 };
  }
  const units = (BigInt(high) << 32n) | BigInt(low);
  const sec = units / iface.units;
  const nsec = ((units % iface.units) * 1_000_000_000n) / iface.units;
  return { sec: Number(sec) + offsetSec, nsec: Number(nsec) };
}

function i64(bytes: Uint8Array, rd: ByteReader, at: number): bigint {
  const first = BigInt(rd.r32(bytes, at));
  const second = BigInt(rd.r32(bytes, at + 4));
  const raw = rd === LE ? (second << 32n) | first : (first << 32n) | second;
  return BigInt.asIntN(64, raw);
}

function text(bytes: Uint8Array, at: number, n: number): string {
  return utf8.decode(bytes.subarray(at, at + n));
}
