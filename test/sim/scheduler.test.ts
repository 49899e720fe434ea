import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/sim/scheduler.js';

// The scheduler stands in for the kernel's timers and softirq hand-offs: what ns-3's Simulator and
// the kernel's timer wheel guarantee (time order, FIFO for equal expiry, del_timer) is what the
// captures' timestamps and a run's determinism rest on.
describe('Scheduler', () => {
  it('runs events in time order whatever order they were scheduled in, and sets the clock to each', () => {
    const s = new Scheduler();
    const seen: string[] = [];
    for (const [t, name] of [[30, 'c'], [10, 'a'], [50, 'e'], [20, 'b'], [40, 'd']] as const) {
      s.at(t, () => seen.push(`${name}@${s.nowNs}`));
    }
    expect(s.run()).toBe(5);
    expect(seen).toEqual(['a@10', 'b@20', 'c@30', 'd@40', 'e@50']);
    expect(s.nowNs).toBe(50);
    expect(s.eventsRun).toBe(5);
  });

  it('runs events at equal times in the order they were scheduled (FIFO), including ones added while running', () => {
    const s = new Scheduler();
    const seen: string[] = [];
    // Many equal times, so a heap that is not stable on ties would reorder some of them.
    for (let i = 0; i < 200; i++) s.at(100, () => seen.push(`e${i}`));
    s.at(100, () => {
      seen.push('spawner');
      s.after(0, () => seen.push('spawned'));
    });
    s.at(100, () => seen.push('last-scheduled'));
    s.run();
    expect(seen.slice(0, 200)).toEqual(Array.from({ length: 200 }, (_, i) => `e${i}`));
    // An event scheduled for "now" from inside an event runs after everything already due now.
    expect(seen.slice(200)).toEqual(['spawner', 'last-scheduled', 'spawned']);
  });

  it('cancel keeps an event from running; isPending follows scheduled → run or cancelled', () => {
    const s = new Scheduler();
    const seen: number[] = [];
    const a = s.at(10, () => seen.push(10));
    const b = s.at(20, () => seen.push(20));
    const c = s.at(30, () => seen.push(30));
    expect([a.isPending, b.isPending, c.isPending]).toEqual([true, true, true]);
    b.cancel();
    expect(b.isPending).toBe(false);
    expect(b.timeNs).toBe(20);
    expect(s.run()).toBe(2);
    expect(seen).toEqual([10, 30]);
    expect([a.isPending, c.isPending]).toEqual([false, false]);
    c.cancel(); // cancelling what already ran is harmless
    expect(seen).toEqual([10, 30]);
  });

  it('an event can cancel a later one (a timer re-armed from a handler, as mod_timer)', () => {
    const s = new Scheduler();
    const seen: string[] = [];
    const later = s.at(50, () => seen.push('later'));
    s.at(10, () => {
      later.cancel();
      s.at(60, () => seen.push('rearmed'));
    });
    s.run();
    expect(seen).toEqual(['rearmed']);
    expect(s.nowNs).toBe(60);
  });

  it('run(until) runs events at until (inclusive), leaves later ones pending and the clock at until', () => {
    const s = new Scheduler();
    const seen: number[] = [];
    for (const t of [5, 10, 11]) s.at(t, () => seen.push(t));
    expect(s.run(10)).toBe(2);
    expect(seen).toEqual([5, 10]);
    expect(s.nowNs).toBe(10);
    expect(s.peekTimeNs()).toBe(11);

    expect(s.run(1_000)).toBe(1);
    expect(s.nowNs).toBe(1_000); // not 11: the clock stands at `until` even past the last event
    expect(s.run(2_000)).toBe(0);
    expect(s.nowNs).toBe(2_000);
    expect(s.peekTimeNs()).toBeUndefined();
  });

  it('run() without until leaves the clock at the last event', () => {
    const s = new Scheduler();
    s.at(7, () => {});
    s.at(3, () => {});
    s.run();
    expect(s.nowNs).toBe(7);
  });

  it('scheduling in the past throws a RangeError and schedules nothing', () => {
    const s = new Scheduler();
    s.run(100);
    expect(() => s.at(99, () => {})).toThrow(RangeError);
    expect(() => s.after(-1, () => {})).toThrow(RangeError);
    expect(() => s.at(Number.NaN, () => {})).toThrow(RangeError);
    expect(s.pendingCount).toBe(0);
    // Now is not the past.
    const h = s.at(100, () => {});
    expect(h.timeNs).toBe(100);
    expect(s.peekTimeNs()).toBe(100);
  });

  it('after(d) is at(now + d)', () => {
    const s = new Scheduler();
    s.run(1_000);
    const h = s.after(234, () => {});
    expect(h.timeNs).toBe(1_234);
  });

  it('peekTimeNs skips cancelled events at the head', () => {
    const s = new Scheduler();
    const a = s.at(5, () => {});
    const b = s.at(6, () => {});
    s.at(9, () => {});
    expect(s.peekTimeNs()).toBe(5);
    a.cancel();
    b.cancel();
    expect(s.peekTimeNs()).toBe(9);
    expect(s.run()).toBe(1);
    expect(s.peekTimeNs()).toBeUndefined();
  });

  it('peekTimeNs is undefined when every pending event is cancelled', () => {
    const s = new Scheduler();
    const hs = [s.at(1, () => {}), s.at(2, () => {})];
    for (const h of hs) h.cancel();
    expect(s.peekTimeNs()).toBeUndefined();
    expect(s.run()).toBe(0);
  });

  it('a chain of 100 000 after(0) events runs iteratively: no stack growth, the clock does not move', () => {
    const s = new Scheduler();
    const N = 100_000;
    let count = 0;
    let maxDepth = 0;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = Number.POSITIVE_INFINITY;
    const depth = (): number => new Error().stack!.split('\n').length;
    const step = (): void => {
      count++;
      if (count % 10_000 === 0) maxDepth = Math.max(maxDepth, depth());
      if (count < N) s.after(0, step);
    };
    s.after(0, step);
    const base = depth();
    try {
      expect(s.run()).toBe(N);
    } finally {
      Error.stackTraceLimit = limit;
    }
    expect(count).toBe(N);
    expect(s.nowNs).toBe(0);
    // Every handler runs from run()'s loop, a constant few frames below the caller.
    expect(maxDepth - base).toBeLessThan(10);
  });

  it('a chain of 100 000 after(1) events ends at 100 000 ns', () => {
    const s = new Scheduler();
    let count = 0;
    const step = (): void => {
      if (++count < 100_000) s.after(1, step);
    };
    s.after(1, step);
    s.run();
    expect(s.nowNs).toBe(100_000);
  });

  it('keeps time order across many random insertions and cancellations (heap invariant)', () => {
    const s = new Scheduler();
    let x = 12345;
    const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    const ran: Array<[number, number]> = [];
    const handles = [];
    for (let i = 0; i < 5_000; i++) {
      const t = next() % 1_000;
      handles.push(s.at(t, () => ran.push([s.nowNs, i])));
    }
    const cancelled = new Set<number>();
    for (let i = 0; i < 5_000; i += 7) {
      handles[i]!.cancel();
      cancelled.add(i);
    }
    s.run();
    expect(ran.length).toBe(5_000 - cancelled.size);
    for (let k = 1; k < ran.length; k++) {
      const [t0, i0] = ran[k - 1]!;
      const [t1, i1] = ran[k]!;
      expect(t1 > t0 || (t1 === t0 && i1 > i0)).toBe(true);
    }
    expect(ran.some(([, i]) => cancelled.has(i))).toBe(false);
  });
});

describe('Scheduler.postAfter: handle-less pooled events for the datapath', () => {
  it('runs fn(arg) in time order, FIFO with after() at equal times, and reuses its event objects', () => {
    const s = new Scheduler();
    const seen: string[] = [];
    const log = (x: string) => seen.push(`${x}@${s.nowNs}`);
    s.postAfter(10, log, 'a');
    s.after(10, () => log('b'));
    s.postAfter(5, log, 'c');
    s.postAfter(10, log, 'd');
    s.run();
    expect(seen).toEqual(['c@5', 'a@10', 'b@10', 'd@10']);
    // Posted again from inside events: the pool hands the same objects back, order still holds.
    seen.length = 0;
    let n = 0;
    const hop = (k: number) => {
      log(`hop${k}`);
      if (++n < 5) s.postAfter(1, hop, k + 1);
    };
    s.postAfter(1, hop, 0);
    s.run();
    expect(seen).toEqual(['hop0@11', 'hop1@12', 'hop2@13', 'hop3@14', 'hop4@15']);
    expect(s.pendingCount).toBe(0);
  });
});
