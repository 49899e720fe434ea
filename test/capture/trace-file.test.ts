import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { TraceFile } from '../../src/capture/trace-file.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dir.js';

afterAll(removeTempDirs);

describe('trace.jsonl hop lines', () => {
  it('are JSON with exact numbers, small or beyond 2^31 (times in ns reach 10^13 and more)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(fc.nat(100), fc.nat(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), fc.nat(1e6), fc.nat(65535), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })), { minLength: 1, maxLength: 30 }), (hops) => {
        const path = join(tempDir('trace'), 'trace.jsonl');
        const t = new TraceFile(path);
        const prefix = t.hopPrefix('rx', 'n1', 'flannel.1');
        for (const [time, frame, len, pkt] of hops) t.hop(time, prefix, frame, len, pkt);
        t.close();
        const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
        expect(lines).toEqual(hops.map(([time, frame, len, pkt]) => ({ t: time, hop: 'rx', netns: 'n1', dev: 'flannel.1', frame, len, pkt })));
      }),
      { numRuns: 50 },
    );
  });
});
