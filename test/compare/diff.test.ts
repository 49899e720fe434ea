/** The line diff is a shortest edit script (checked against a dynamic-programming LCS) and rows pair changes. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { diffRows, diffSequences } from '../../src/compare/index.js';

function lcsLength(a: readonly string[], b: readonly string[]): number {
  const dp: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
    }
  }
  return dp[a.length]![b.length]!;
}

const seq = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 40 });

describe('diffSequences', () => {
  test('walks both sequences in order and keeps a longest common subsequence', () => {
    fc.assert(
      fc.property(seq, seq, (a, b) => {
        const ops = diffSequences(a, b);
        const fromA: string[] = [];
        const fromB: string[] = [];
        let equal = 0;
        let ai = 0;
        let bi = 0;
        for (const op of ops) {
          if (op.op === 'equal') {
            expect([op.a, op.b]).toEqual([ai, bi]);
            expect(a[op.a]).toBe(b[op.b]);
            fromA.push(a[ai++]!);
            fromB.push(b[bi++]!);
            equal++;
          } else if (op.op === 'delete') {
            expect(op.a).toBe(ai);
            fromA.push(a[ai++]!);
          } else {
            expect(op.b).toBe(bi);
            fromB.push(b[bi++]!);
          }
        }
        expect(fromA).toEqual(a);
        expect(fromB).toEqual(b);
        expect(equal).toBe(lcsLength(a, b));
      }),
      { numRuns: 500 },
    );
  });

  test('thousands of lines with a few edits stay fast and minimal', () => {
    const a = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
    const b = [...a.slice(0, 5000), 'inserted', ...a.slice(5000, 12_000), ...a.slice(12_001)];
    const ops = diffSequences(a, b);
    expect(ops.filter((o) => o.op !== 'equal')).toEqual([{ op: 'insert', b: 5000 }, { op: 'delete', a: 12_000 }]);
  });
});

describe('diffRows', () => {
  test('pairs a run of deletions and insertions as changes, the rest as missing or extra', () => {
    expect(diffRows(['a', 'b', 'c', 'd'], ['a', 'B', 'C', 'X', 'd'])).toEqual([
      { marker: '=', referenceLine: 1, podwireLine: 1, reference: 'a', podwire: 'a' },
      { marker: '!', referenceLine: 2, podwireLine: 2, reference: 'b', podwire: 'B' },
      { marker: '!', referenceLine: 3, podwireLine: 3, reference: 'c', podwire: 'C' },
      { marker: '>', podwireLine: 4, podwire: 'X' },
      { marker: '=', referenceLine: 4, podwireLine: 5, reference: 'd', podwire: 'd' },
    ]);
    expect(diffRows(['a', 'b'], [])).toEqual([
      { marker: '<', referenceLine: 1, reference: 'a' },
      { marker: '<', referenceLine: 2, reference: 'b' },
    ]);
    expect(diffRows([], [])).toEqual([]);
  });
});
