/**
 * Comments added to packets of a finished pcapng file: what a capture learns only after it wrote
 * a frame (the packet was dropped further on, and that frame was its last). The file is rewritten
 * block by block, each commented Enhanced Packet Block gaining an opt_comment before its
 * opt_endofopt (draft-ietf-opsawg-pcapng §3.5: a block may carry several comments), every other
 * byte kept. Only for files this library wrote: little-endian, one section.
 */
import { closeSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { BLOCK_ENHANCED_PACKET, EPB_OFF, OPT_COMMENT, OPT_ENDOFOPT } from './pcapng-writer.js';

/** interface id → frame number on that interface (1-based, as a pcap of it counts) → comment. */
export type PacketComments = ReadonlyMap<number, ReadonlyMap<number, string>>;

const CHUNK = 4 << 20;

/** Rewrites the pcapng at `path` with `comments` on their packets (in place, through a temporary file). */
export function addPcapngComments(path: string, comments: PacketComments): void {
  if (comments.size === 0) return;
  const tmp = `${path}.comments`;
  const input = openSync(path, 'r');
  const output = openSync(tmp, 'w');
  try {
    const seen = new Map<number, number>();
    let pending = Buffer.alloc(0);
    let position = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const n = readSync(input, chunk, 0, CHUNK, position);
      position += n;
      const data = pending.length === 0 ? chunk.subarray(0, n) : Buffer.concat([pending, chunk.subarray(0, n)]);
      let off = 0;
      const out: Buffer[] = [];
      while (off + 8 <= data.length) {
        const total = data.readUInt32LE(off + 4);
        if (total < 12 || off + total > data.length) break;
        const block = data.subarray(off, off + total);
        off += total;
        if (block.readUInt32LE(0) !== BLOCK_ENHANCED_PACKET) {
          out.push(block);
          continue;
        }
        const ifId = block.readUInt32LE(EPB_OFF.INTERFACE_ID);
        const frame = (seen.get(ifId) ?? 0) + 1;
        seen.set(ifId, frame);
        const text = comments.get(ifId)?.get(frame);
        out.push(text === undefined ? block : withComment(block, text));
      }
      for (const b of out) writeAll(output, b);
      pending = Buffer.from(data.subarray(off));
      if (n === 0) break;
    }
    if (pending.length !== 0) throw new Error(`${path}: ends inside a block`);
  } finally {
    closeSync(input);
    closeSync(output);
  }
  renameSync(tmp, path);
}

/** The EPB with one more opt_comment. */
function withComment(block: Buffer, text: string): Buffer {
  const total = block.length;
  const caplen = block.readUInt32LE(EPB_OFF.CAPTURED_LEN);
  const optStart = EPB_OFF.DATA + caplen + ((4 - (caplen % 4)) % 4);
  let optEnd = total - 4;
  // Drop the old opt_endofopt: the new comment goes before the one written after it.
  if (optEnd - optStart >= 4 && block.readUInt16LE(optEnd - 4) === OPT_ENDOFOPT && block.readUInt16LE(optEnd - 2) === 0) optEnd -= 4;
  const textLen = Buffer.byteLength(text, 'utf8');
  const len = Math.min(textLen, 0xffff);
  const pad = (4 - (len % 4)) % 4;
  const newTotal = optEnd + 4 + len + pad + 4 + 4;
  const b = Buffer.alloc(newTotal);
  block.copy(b, 0, 0, optEnd);
  let i = optEnd;
  b.writeUInt16LE(OPT_COMMENT, i);
  b.writeUInt16LE(len, i + 2);
  Buffer.from(text, 'utf8').copy(b, i + 4, 0, len);
  i += 4 + len + pad;
  b.writeUInt32LE(0, i); // opt_endofopt
  i += 4;
  b.writeUInt32LE(newTotal, 4);
  b.writeUInt32LE(newTotal, i);
  return b;
}

function writeAll(fd: number, b: Uint8Array): void {
  for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
}
