import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutOfOrderQueue, SendBuffer, SentQueue, seqAdd, seqLt } from '../../src/net/tcp-buffers.js';

describe('SendBuffer', () => {
  it('holds exactly the unacknowledged bytes, whatever the writes, acknowledgements and reads', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ write: fc.uint8Array({ maxLength: 3000 }) }), fc.record({ ack: fc.nat(4000) }), fc.record({ read: fc.tuple(fc.nat(5000), fc.nat(2000)) })), { maxLength: 60 }),
        (ops) => {
          const sb = new SendBuffer();
          let model: number[] = [];
          for (const op of ops) {
            if ('write' in op) {
              sb.append(op.write);
              model.push(...op.write);
            } else if ('ack' in op) {
              sb.consume(op.ack);
              model = model.slice(Math.min(op.ack, model.length));
            } else {
              const [off, len] = op.read;
              if (off + len > model.length) continue;
              const out = Buffer.alloc(len + 4, 0xee);
              sb.copyOut(off, len, out, 2);
              expect([...out.subarray(2, 2 + len)]).toEqual(model.slice(off, off + len));
              expect([out[0], out[1], out[len + 2], out[len + 3]]).toEqual([0xee, 0xee, 0xee, 0xee]);
            }
            expect(sb.length).toBe(model.length);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('sequence space', () => {
  it('compares across the 2^32 wrap', () => {
    expect(seqLt(0xffff_fff0, seqAdd(0xffff_fff0, 0x20))).toBe(true);
    expect(seqAdd(0xffff_fff0, 0x20)).toBe(0x10);
  });
});

describe('OutOfOrderQueue', () => {
  it('hands back contiguous data once the hole is filled, and reports SACK blocks newest first', () => {
    const q = new OutOfOrderQueue();
    const bytes = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
    q.insert(300, bytes(300, 100));
    q.insert(100, bytes(100, 100));
    expect(q.sackBlocks(4)).toEqual([[100, 200], [300, 400]]);
    q.insert(200, bytes(200, 50));
    expect(q.sackBlocks(4)).toEqual([[100, 250], [300, 400]]);
    const got: number[] = [];
    expect(q.takeFrom(0, (d) => got.push(...d))).toBe(0); // the hole at 0..100 is still open
    expect(q.takeFrom(100, (d) => got.push(...d))).toBe(250);
    expect(got).toEqual([...bytes(100, 150)]);
    expect(q.sackBlocks(4)).toEqual([[300, 400]]);
  });
});

describe('SentQueue', () => {
  it('takes segments from the front and finds by sequence across the wrap, through compactions', () => {
    const q = new SentQueue();
    let end = 0xffff_0000;
    const ends: number[] = [];
    for (let i = 0; i < 5000; i++) {
      end = seqAdd(end, 100 + (i % 7));
      ends.push(end);
      q.push({ end, sentNs: i, retransmitted: false });
    }
    for (let i = 0; i < 3000; i++) expect(q.shift()!.end).toBe(ends[i]);
    expect(q.length).toBe(2000);
    expect(q.first()!.end).toBe(ends[3000]);
    expect(q.firstEndingAfter(ends[4000]!)!.end).toBe(ends[4001]);
    expect(q.firstEndingAfter(seqAdd(ends[4000]!, -1 >>> 0))!.end).toBe(ends[4000]);
    expect(q.countEndingBy(ends[3009]!)).toBe(10);
    expect(q.firstEndingAfter(ends[4999]!)).toBeUndefined();
  });
});
