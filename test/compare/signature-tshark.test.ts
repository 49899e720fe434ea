/**
 * Where a signature follows tshark's view (README, "Signatures": the references were normalized
 * from tshark 4.0 with TCP reassembly and IP defragmentation off), it must agree with tshark on
 * captures the references do not contain: any subset of a connection's segments, so that some
 * directions start mid-stream and some responses lose their request.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { signatures } from '../../src/compare/index.js';
import { readCaptureFile } from '../../src/pcap/index.js';
import { KERNEL_DIR } from '../helpers/frames.js';
import { framesOf, removeDir, tempDir, writePcap, type Frame } from './run-folder.js';

const dir = tempDir('sig-tshark');
afterAll(() => removeDir(dir));

interface TsharkTcp {
  readonly seq: string;
  readonly ack: string | undefined;
  readonly protocols: string;
}

function tshark(file: string): TsharkTcp[] {
  const out = execFileSync(
    'tshark',
    ['-r', file, '-n', '-o', 'tcp.desegment_tcp_streams:FALSE', '-o', 'ip.defragment:FALSE', '-d', 'udp.port==8472,vxlan',
      '-T', 'fields', '-E', 'occurrence=l', '-e', 'tcp.seq', '-e', 'tcp.flags.ack', '-e', 'tcp.ack', '-e', 'frame.protocols'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [seq = '', ackFlag = '', ack = '', protocols = ''] = l.split('\t');
      return { seq, ack: ackFlag === '1' || ackFlag === 'True' ? ack : undefined, protocols };
    });
}

/** seq, ack and the HTTP part of a signature line's innermost TCP segment. */
function ours(line: string): { seq: string; ack: string | undefined; http: 'request-or-status' | 'cont' | 'none' } {
  const all = [...line.matchAll(/ seq(\d+) ack(\d+|-) /g)];
  const m = all.at(-1)!;
  const http = / \/ http cont \/ data\d+$/.test(line) ? 'cont' : / \/ http \S+/.test(line) ? 'request-or-status' : 'none';
  return { seq: m[1]!, ack: m[2] === '-' ? undefined : m[2], http };
}

const SOURCES = [
  ['clusterip-http', 'kr-n1-veth748aed50.pcap'],
  ['clusterip-http', 'kr-n1-cni0.pcap'],
  ['clusterip-http', 'kr-underlay-br0.pcap'],
  ['egress-masquerade', 'kr-n1-eth0.pcap'],
] as const;

describe.each(SOURCES)('%s/%s: relative TCP numbers and HTTP as tshark sees them', (scenario, file) => {
  const frames = framesOf(readCaptureFile(join(KERNEL_DIR, scenario, file)).packets);
  let n = 0;

  test('on random subsets of the frames', () => {
    fc.assert(
      fc.property(fc.subarray(frames.map((_, i) => i), { minLength: 1 }), (keep) => {
        const subset: Frame[] = keep.map((i) => frames[i]!);
        const path = join(dir, `${scenario}-${file}-${n++}.pcap`);
        writePcap(path, subset);
        const lines = signatures(readCaptureFile(path).packets);
        const theirs = tshark(path);
        lines.forEach((line, i) => {
          const t = theirs[i]!;
          if (t.seq === '') return; // ARP
          const o = ours(line);
          expect({ frame: i + 1, seq: o.seq, ack: o.ack }).toEqual({ frame: i + 1, seq: t.seq, ack: t.ack });
          const http = t.protocols.endsWith(':http:data') ? 'cont' : t.protocols.endsWith(':http') ? 'request-or-status' : 'none';
          expect({ frame: i + 1, http: o.http }).toEqual({ frame: i + 1, http });
        });
      }),
      { numRuns: 8, seed: 1 },
    );
  });
});
