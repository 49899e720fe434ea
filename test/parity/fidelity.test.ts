/** The fidelity table (no root needed): rows from parity results, the Markdown, the README section. */
import { describe, expect, it } from 'vitest';
import type { CompareReport } from '../../src/compare/index.js';
import { errorRow, FIDELITY_END, FIDELITY_START, fidelityRow, readFidelitySection, renderFidelityTable, replaceFidelitySection } from '../../src/parity/fidelity.js';
import type { ParityResult } from '../../src/parity/parity.js';

function result(over: Partial<ParityResult>): ParityResult {
  return { scenario: 's', outDir: '/tmp/x', notRealizable: [], report: undefined, notes: [], warnings: [], namespaces: [], kept: false, ok: false, ...over };
}
const point = (capturePoint: string, status: 'match' | 'known' | 'differ', differingPackets = 0) =>
  ({ capturePoint, status, differingPackets }) as unknown as CompareReport['points'][number];

describe('fidelityRow', () => {
  it('counts matching points, known differences as matching, and names those that differ', () => {
    const report = { ok: false, points: [point('a', 'match'), point('b', 'known'), point('c', 'differ', 2)] } as unknown as CompareReport;
    expect(fidelityRow('scenarios/x.yaml', result({ report }))).toEqual({
      file: 'scenarios/x.yaml', status: 'FAIL', points: 3, matched: 2, known: 1, detail: ['c differs (2 packets)'],
    });
    const pass = { ok: true, points: [point('a', 'match')] } as unknown as CompareReport;
    expect(fidelityRow('f', result({ report: pass, ok: true })).status).toBe('pass');
  });

  it('says why nothing ran, and tells "not compared" from "not run"', () => {
    expect(fidelityRow('f', result({ notRealizable: ['not realizable here: step 2 (nc): nc'] }))).toMatchObject({ status: 'not run', points: 0, detail: ['not realizable here: step 2 (nc): nc'] });
    expect(fidelityRow('f', result({ notRealizable: ['not compared: …; podwire with the draws that follow them (n1: 3 draws) still chooses otherwise'] })).status).toBe('not compared');
    expect(errorRow('f', 'tcpdump failed')).toMatchObject({ status: 'error', detail: ['tcpdump failed'] });
  });
});

describe('the Markdown table and the README section', () => {
  const rows = [
    { file: 'scenarios/a.yaml', status: 'pass' as const, points: 8, matched: 8, known: 0, detail: [] },
    { file: 'scenarios/b.yaml', status: 'not run' as const, points: 0, matched: 0, known: 0, detail: ['not realizable here: a | b'] },
  ];
  it('renders one row per scenario, pipes escaped, and a closing count', () => {
    const t = renderFidelityTable(rows, '6.18.0');
    expect(t.split('\n')).toEqual([
      '| scenario | on the kernel | capture points matching | what differs, or why not run |',
      '|---|---|---|---|',
      '| `scenarios/a.yaml` | pass | 8/8 |  |',
      '| `scenarios/b.yaml` | not run | – | not realizable here: a \\| b |',
      '',
      '1 of 2 scenarios pass on kernel 6.18.0; the others say why above.',
    ]);
  });

  it('replaces exactly what stands between the markers, and reads it back', () => {
    const readme = `# x\n\n${FIDELITY_START}\nold table\n${FIDELITY_END}\n\nafter\n`;
    const t = renderFidelityTable(rows, '6.18.0');
    const out = replaceFidelitySection(readme, t);
    expect(out.startsWith(`# x\n\n${FIDELITY_START}\n| scenario`)).toBe(true);
    expect(out.endsWith(`${FIDELITY_END}\n\nafter\n`)).toBe(true);
    expect(readFidelitySection(out)).toBe(t);
    expect(replaceFidelitySection(out, t)).toBe(out);
    expect(() => replaceFidelitySection('# no markers\n', t)).toThrow(/no fidelity section/);
    expect(readFidelitySection('# none')).toBeUndefined();
  });
});
