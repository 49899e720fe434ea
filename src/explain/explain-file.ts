/**
 * `podwire explain FILE`: reads the capture, explains the selected packets one by one and hands
 * each rendered packet to `write` as soon as it is ready. Problems with what the user gave — no
 * such file, not a capture, a --packet past the end — are ExplainInputError, one line each. A
 * capture damaged after some good packets explains those, then reports the damage.
 */
import { readFileSync } from 'node:fs';
import { CaptureFormatError } from '../pcap/errors.js';
import { openCapture, type CaptureSource } from './capture-source.js';
import { explainPacket } from './packet.js';
import { jsonEnd, jsonPacket, jsonStart } from './render-json.js';
import { renderPacketText } from './render-text.js';
import { parseLayerSelector, parsePacketSelection, selectsPacket, SelectionError } from './select.js';

export class ExplainInputError extends Error {
  override readonly name = 'ExplainInputError';
}

export interface ExplainOptions {
  readonly packet?: string;
  readonly layer?: string;
  readonly json?: boolean;
}

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ExplainInputError(`${path}: no such file`);
    if (code === 'EISDIR') throw new ExplainInputError(`${path}: is a directory, not a capture file`);
    if (code === 'EACCES') throw new ExplainInputError(`${path}: permission denied`);
    throw new ExplainInputError(`${path}: ${(e as Error).message}`);
  }
}

function open(path: string, bytes: Uint8Array): CaptureSource {
  try {
    return openCapture(bytes);
  } catch (e) {
    if (e instanceof CaptureFormatError) throw new ExplainInputError(`${path}: ${e.message}`);
    throw e;
  }
}

export function explainFile(path: string, opts: ExplainOptions, write: (chunk: string) => void): void {
  let packets;
  let layer;
  try {
    packets = opts.packet !== undefined ? parsePacketSelection(opts.packet) : undefined;
    layer = opts.layer !== undefined ? parseLayerSelector(opts.layer) : undefined;
  } catch (e) {
    if (e instanceof SelectionError) throw new ExplainInputError(e.message);
    throw e;
  }
  const source = open(path, readBytes(path));
  if (packets && packets.max > source.count) {
    const has = `${source.count} packet${source.count === 1 ? '' : 's'}`;
    throw new ExplainInputError(`--packet ${opts.packet}: ${path} has ${source.count === 0 ? 'no packets' : `${has} (1-${source.count})`}${source.damage ? ' before a damaged record' : ''}`);
  }
  if (opts.json) write(jsonStart(path, source.format));
  let first: { sec: number; nsec: number } | undefined;
  let written = 0;
  for (const p of source.packets()) {
    first ??= { sec: p.timestampSec, nsec: p.timestampNsec };
    if (packets && p.number > packets.max) break;
    if (!selectsPacket(packets, p.number)) continue;
    const explained = explainPacket(p, first);
    if (opts.json) write(jsonPacket(explained, written === 0, layer));
    else write(`${written > 0 ? '\n' : ''}${renderPacketText(explained, p.data, layer ? { layer } : {})}`);
    written++;
  }
  if (opts.json) write(jsonEnd());
  if (source.damage) {
    throw new ExplainInputError(`${path}: ${source.damage.message} (the ${source.count} packets before it were explained)`);
  }
}
