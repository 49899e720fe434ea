/**
 * The packets of a capture file, one at a time, in the shape `explain` needs. Classic pcap is
 * walked record by record (pcapPackets), so a file whose last record is cut short still gives the
 * packets before it, and the problem comes after them; pcapng is read whole by readCapture.
 */
import { CaptureFormatError } from '../pcap/errors.js';
import { pcapPackets, readPcapHeader } from '../pcap/pcap-reader.js';
import { detectCaptureFormat, readCapture, type CaptureFormat } from '../pcap/read-capture.js';

export interface SourcePacket {
  /** 1-based, as Wireshark numbers frames. */
  readonly number: number;
  readonly timestampSec: number;
  readonly timestampNsec: number;
  readonly capturedLen: number;
  readonly originalLen: number;
  readonly linkType: number;
  readonly interfaceName?: string;
  /** pcapng's if_description: podwire writes whose interface it is (`pod checkout-api`, `node n1`). */
  readonly interfaceDescription?: string;
  readonly comments: readonly string[];
  readonly data: Uint8Array;
}

export interface CaptureSource {
  readonly format: CaptureFormat;
  /** Packets that can be read (those before a damaged record). */
  readonly count: number;
  /** The damage after the last readable packet, if any: the file is cut short or corrupt there. */
  readonly damage?: CaptureFormatError;
  packets(): Iterable<SourcePacket>;
}

/** Throws CaptureFormatError when the bytes are not a capture (or its headers are unreadable). */
export function openCapture(bytes: Uint8Array): CaptureSource {
  const format = detectCaptureFormat(bytes);
  if (format === 'pcapng') {
    const capture = readCapture(bytes);
    return {
      format,
      count: capture.packets.length,
      *packets() {
        for (const p of capture.packets) {
          yield {
            number: p.index + 1,
            timestampSec: p.timestampSec,
            timestampNsec: p.timestampNsec,
            capturedLen: p.capturedLen,
            originalLen: p.originalLen,
            linkType: p.linktype,
            ...(p.interfaceName !== undefined && { interfaceName: p.interfaceName }),
            ...(capture.interfaces[p.interfaceIndex]?.description !== undefined && { interfaceDescription: capture.interfaces[p.interfaceIndex]!.description! }),
            comments: p.comments,
            data: p.data,
          };
        }
      },
    };
  }
  const header = readPcapHeader(bytes);
  let count = 0;
  let damage: CaptureFormatError | undefined;
  try {
    for (const _ of pcapPackets(bytes)) count++;
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    damage = e;
  }
  return {
    format,
    count,
    ...(damage && { damage }),
    *packets() {
      // Stop before the damaged record: reading it would throw.
      const records = pcapPackets(bytes);
      for (let n = 0; n < count; n++) {
        const p = records.next().value!;
        yield {
          number: p.index + 1,
          timestampSec: p.timestampSec,
          timestampNsec: p.timestampNsec,
          capturedLen: p.capturedLen,
          originalLen: p.originalLen,
          linkType: header.linktype,
          comments: [],
          data: p.data,
        };
      }
    },
  };
}
