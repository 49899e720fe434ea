/** tshark's PDML (-T pdml) as per-frame lists of fields with their pos/size/show/value attributes. */
import { execFileSync } from 'node:child_process';
import { TSHARK_DECODE_ARGS } from '../helpers/tshark.js';

export interface PdmlField {
  readonly name: string;
  readonly pos: number;
  readonly size: number;
  readonly show: string;
  readonly value?: string;
}

function unescape(s: string): string {
  return s.replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Fields of every frame, in the order tshark dissects them (outer before inner). */
export function pdmlFrames(file: string): PdmlField[][] {
  const xml = execFileSync('tshark', ['-r', file, ...TSHARK_DECODE_ARGS, '-T', 'pdml'], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024,
  });
  return xml.split('<packet>').slice(1).map((packet) =>
    [...packet.matchAll(/<field ([^>]*?)\/?>/g)].map((m) => {
      const attrs = new Map([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1]!, unescape(a[2]!)]));
      return {
        name: attrs.get('name') ?? '',
        pos: Number(attrs.get('pos')),
        size: Number(attrs.get('size')),
        show: attrs.get('show') ?? '',
        ...(attrs.has('value') && { value: attrs.get('value')! }),
      };
    }),
  );
}
