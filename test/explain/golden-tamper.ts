/**
 * Changes to a golden folder's files, as a test of the golden check makes them: one IPv4 TTL, one
 * packet fewer, one timestamp later — each on the bytes of the classic pcap file, found with
 * podwire's decoder.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFrame } from '../../src/packet/frame.js';
import { readPcap } from '../../src/pcap/pcap-reader.js';
import { RECORD_HEADER_LEN } from '../../src/pcap/pcap-writer.js';

/** A fresh copy of the golden folder `from`, to change. */
export function copyGolden(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  return to;
}

/** The first pod veth capture of `host` (its name comes from the run's random stream). */
export function vethCapture(goldenDir: string, host: string): string {
  const name = readdirSync(join(goldenDir, 'captures', host)).find((n) => n.startsWith('veth'));
  if (!name) throw new Error(`no veth capture on ${host}`);
  return `captures/${host}/${name}`;
}

export interface TtlChange {
  /** 1-based, as Wireshark numbers frames. */
  readonly packet: number;
  readonly header: string;
  readonly was: number;
  readonly becomes: number;
}

/**
 * Lowers by one the TTL of the first IPv4 header (`nth` 0) or of the first inner one (`nth` 1:
 * inside VXLAN) in `file` of the golden folder; the header checksum is left as it was.
 */
export function changeTtl(goldenDir: string, file: string, nth = 0): TtlChange {
  const path = join(goldenDir, file);
  const bytes = readFileSync(path);
  for (const p of readPcap(bytes).packets) {
    const ip = decodeFrame(p.data).filter((l) => l.kind === 'ipv4')[nth];
    if (ip?.kind !== 'ipv4') continue;
    const at = p.offset + RECORD_HEADER_LEN + ip.offset + 8;
    const was = bytes[at]!;
    bytes[at] = was - 1;
    writeFileSync(path, bytes);
    return { packet: p.index + 1, header: nth === 0 ? 'IPv4' : 'inner IPv4', was, becomes: was - 1 };
  }
  throw new Error(`${file}: no IPv4 header number ${nth}`);
}

/** Removes packet `index` (0-based) from the capture. */
export function dropPacket(goldenDir: string, file: string, index: number): void {
  const path = join(goldenDir, file);
  const bytes = readFileSync(path);
  const p = readPcap(bytes).packets[index]!;
  const end = p.offset + RECORD_HEADER_LEN + p.capturedLen;
  writeFileSync(path, Buffer.concat([bytes.subarray(0, p.offset), bytes.subarray(end)]));
}

/** Makes packet `index`'s timestamp `ns` nanoseconds later (within its second). */
export function delayPacket(goldenDir: string, file: string, index: number, ns: number): void {
  const path = join(goldenDir, file);
  const bytes = readFileSync(path);
  const p = readPcap(bytes).packets[index]!;
  bytes.writeUInt32LE(p.timestampNsec + ns, p.offset + 4);
  writeFileSync(path, bytes);
}
