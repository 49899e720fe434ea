/**
 * `--json`: one JSON document, written as it goes so that a long capture is never held whole:
 * `{"file", "format", "packets": [ExplainedPacket, …]}` with one packet per line. The property
 * names are those of packet.ts and model.ts, listed in the README.
 */
import type { CaptureFormat } from '../pcap/read-capture.js';
import type { ExplainedPacket } from './packet.js';
import { selectLayers, type LayerSelector } from './select.js';

export function jsonStart(file: string, format: CaptureFormat): string {
  return `{"file":${JSON.stringify(file)},"format":${JSON.stringify(format)},"packets":[`;
}

export function jsonPacket(p: ExplainedPacket, first: boolean, layer?: LayerSelector): string {
  const shown = layer ? { ...p, layers: selectLayers(p.layers, layer) } : p;
  return `${first ? '\n' : ',\n'}${JSON.stringify(shown)}`;
}

export function jsonEnd(): string {
  return '\n]}\n';
}
