/** One packet explained: where and when it was captured, and its layers. */
import type { SourcePacket } from './capture-source.js';
import { dissectFrame } from './anatomy.js';
import { linkTypeName } from './link.js';
import type { ExplainedLayer } from './model.js';

export interface ExplainedPacket {
  /** 1-based, as Wireshark numbers frames. */
  readonly number: number;
  /** UTC, nanoseconds: `2026-01-01T00:00:01.000123456Z`. */
  readonly time: string;
  /** Seconds since the file's first packet, nine decimals (Wireshark's frame.time_relative). */
  readonly relativeTime: string;
  readonly interface?: string;
  /** pcapng only: the interface's description (podwire writes its owner, e.g. `pod checkout-api`). */
  readonly interfaceDescription?: string;
  readonly linkType: number;
  readonly linkTypeName: string;
  readonly capturedLength: number;
  readonly originalLength: number;
  readonly comments: readonly string[];
  /** Problems of the record rather than of a header: bytes the capture did not keep. */
  readonly problems: string[];
  readonly layers: ExplainedLayer[];
}

const NS = 1_000_000_000n;

export function isoTime(sec: number, nsec: number): string {
  const d = new Date(sec * 1000);
  if (Number.isNaN(d.getTime())) return `${sec}.${String(nsec).padStart(9, '0')}`;
  return d.toISOString().replace(/\.\d{3}Z$/, `.${String(nsec).padStart(9, '0')}Z`);
}

export function relativeSeconds(sec: number, nsec: number, sec0: number, nsec0: number): string {
  const d = BigInt(sec) * NS + BigInt(nsec) - (BigInt(sec0) * NS + BigInt(nsec0));
  const abs = d < 0n ? -d : d;
  return `${d < 0n ? '-' : ''}${abs / NS}.${String(abs % NS).padStart(9, '0')}`;
}

export function explainPacket(p: SourcePacket, first: { readonly sec: number; readonly nsec: number }): ExplainedPacket {
  const problems: string[] = [];
  if (p.capturedLen < p.originalLen) {
    problems.push(`the capture kept ${p.capturedLen} of the frame's ${p.originalLen} bytes (snapshot length): headers past byte ${p.capturedLen} are missing`);
  }
  return {
    number: p.number,
    time: isoTime(p.timestampSec, p.timestampNsec),
    relativeTime: relativeSeconds(p.timestampSec, p.timestampNsec, first.sec, first.nsec),
    ...(p.interfaceName !== undefined && { interface: p.interfaceName }),
    ...(p.interfaceDescription !== undefined && { interfaceDescription: p.interfaceDescription }),
    linkType: p.linkType,
    linkTypeName: linkTypeName(p.linkType),
    capturedLength: p.capturedLen,
    originalLength: p.originalLen,
    comments: p.comments,
    problems,
    layers: dissectFrame(p.data, p.linkType),
  };
}
