/**
 * JourneyRun's `firstPackets`: reading a run for its first N packets keeps exactly the trace lines
 * about them (and those about no packet), while still counting every packet and the run's end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JourneyRun, type TraceLine } from '../../src/explain/journey-run.js';
import { packetJourney } from '../../src/explain/journey.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { captureProblems } from '../helpers/tshark.js';

const root = mkdtempSync(join(tmpdir(), 'podwire-journey-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('JourneyRun with firstPackets (scenarios/cross-node-ping.yaml)', () => {
  const dir = runScenario(loadScenarioFile('scenarios/cross-node-ping.yaml'), { out: join(root, 'cnp'), seed: 1 }).dir;
  const full = new JourneyRun(dir);
  const hopIds = [...new Set(full.lines.flatMap((l) => (l.kind === 'hop' ? [l.pkt] : [])))].sort((a, b) => a - b);

  it('writes captures tshark reads without a problem', () => {
    expect(captureProblems(join(dir, 'all.pcapng'))).toEqual([]);
  });

  it('keeps the lines of the first N packets a tap saw, by number, even when one was numbered by an event first', () => {
    // Packet 3 (the first echo request) is numbered by its route event before ARP's packet 4 is seen.
    const firstEvent = full.lines.find((l) => l.kind === 'event' && l.pkt === 3)!;
    const firstHop4 = full.lines.findIndex((l) => l.kind === 'hop' && l.pkt === 4);
    expect(full.lines.indexOf(firstEvent)).toBeLessThan(firstHop4);
    const about = (l: TraceLine, ids: ReadonlySet<number>): boolean =>
      l.kind === 'hop' ? ids.has(l.pkt) : l.pkt === undefined || ids.has(l.pkt) || (l.related !== undefined && l.related <= Math.max(...ids));
    for (const n of [1, 3, 5]) {
      const ids = new Set(hopIds.slice(0, n));
      const part = new JourneyRun(dir, { firstPackets: n });
      expect(part.lines).toEqual(full.lines.filter((l) => about(l, ids)));
      expect(part.hopPacketCount).toBe(hopIds.length);
      expect(part.lastTimeNs).toBe(full.lines[full.lines.length - 1]!.t);
      for (const id of ids) expect(packetJourney(part, id)).toEqual(packetJourney(full, id));
    }
  });

  it('keeps everything when N is at least the number of packets', () => {
    expect(new JourneyRun(dir, { firstPackets: hopIds.length + 5 }).lines).toEqual(full.lines);
    expect(full.hopPacketCount).toBe(hopIds.length);
  });
});
