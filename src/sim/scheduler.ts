/**
 * The discrete-event scheduler on podwire's virtual clock. Time is an integer count of
 * nanoseconds held in a double (exact to 2^53 ns, 104 days of virtual time). Events at equal
 * times run in the order they were scheduled (FIFO), which is what makes a run deterministic.
 * Delivery between devices, protocol timers and app steps are all events: nothing calls across a
 * hop recursively, so deep topologies cannot overflow the stack and time advances per hop.
 */
export type EventFn = () => void;

/** A scheduled event; `cancel()` keeps it from running (timers that are re-armed or stopped). */
export interface TimerHandle {
  readonly timeNs: number;
  cancel(): void;
  readonly isPending: boolean;
}

class Event implements TimerHandle {
  cancelled = false;
  done = false;
  /** An event of postAfter: nobody holds it, so it goes back to the free list once it has run. */
  pooled = false;
  constructor(
    public timeNs: number,
    public seq: number,
    public fn: EventFn | ((arg: unknown) => void),
    public arg: unknown = undefined,
  ) {}
  cancel(): void {
    this.cancelled = true;
  }
  get isPending(): boolean {
    return !this.cancelled && !this.done;
  }
}

/** onProgress's period, in events (a power of two: a mask, not a division, per event). */
const PROGRESS_MASK = (1 << 14) - 1;

export class Scheduler {
  private heap: Event[] = [];
  /** Events of postAfter that have run, ready to be reused (the datapath posts one per hop). */
  private readonly free: Event[] = [];
  private seq = 0;
  private now = 0;
  /** Events run so far (for benchmarks and progress). */
  eventsRun = 0;
  /** Called every 16384 events while running (a progress display); one check per event. */
  private progress: (() => void) | undefined;

  /** Calls `fn` every 16384 events run (and never otherwise): a long run can show it is alive. */
  onProgress(fn: (() => void) | undefined): void {
    this.progress = fn;
  }

  private packetIds = 0;

  /**
   * The next packet number of this simulation (1, 2, …): the datapath numbers a packet when a tap
   * or the trace first sees it, so numbers follow the virtual timeline and repeat run after run.
   */
  nextPacketId(): number {
    return ++this.packetIds;
  }

  get nowNs(): number {
    return this.now;
  }

  /** Runs `fn` at absolute virtual time `timeNs` (never in the past). */
  at(timeNs: number, fn: EventFn): TimerHandle {
    if (!(timeNs >= this.now)) throw new RangeError(`cannot schedule at ${timeNs} ns: the clock is at ${this.now} ns`);
    const e = new Event(Math.round(timeNs), this.seq++, fn);
    this.push(e);
    return e;
  }

  after(delayNs: number, fn: EventFn): TimerHandle {
    return this.at(this.now + delayNs, fn);
  }

  /**
   * Runs `fn(arg)` after `delayNs`, with no handle to cancel it: what a device does with every
   * frame it hands on. No closure is made and the event object is reused once it has run, so the
   * datapath's per-hop events allocate nothing. Same FIFO order as `after`.
   */
  postAfter<T>(delayNs: number, fn: (arg: T) => void, arg: T): void {
    const timeNs = Math.round(this.now + delayNs);
    let e = this.free.pop();
    if (e === undefined) {
      e = new Event(timeNs, this.seq++, fn as (arg: unknown) => void, arg);
      e.pooled = true;
    } else {
      e.timeNs = timeNs;
      e.seq = this.seq++;
      e.fn = fn as (arg: unknown) => void;
      e.arg = arg;
      e.done = false;
    }
    this.push(e);
  }

  get pendingCount(): number {
    return this.heap.length;
  }

  /** Time of the next event that will run, or undefined when none is pending. */
  peekTimeNs(): number | undefined {
    this.dropCancelledTop();
    return this.heap[0]?.timeNs;
  }

  /**
   * Runs events in time order until none is left or the next is after `untilNs`; the clock then
   * stands at `untilNs` (when given) or at the last event's time. Returns the events run.
   */
  run(untilNs = Number.POSITIVE_INFINITY): number {
    let n = 0;
    for (;;) {
      this.dropCancelledTop();
      const top = this.heap[0];
      if (!top || top.timeNs > untilNs) break;
      this.pop();
      this.now = top.timeNs;
      top.done = true;
      if (top.pooled) {
        const { fn, arg } = top;
        top.arg = undefined;
        this.free.push(top);
        fn(arg);
      } else {
        (top.fn as EventFn)();
      }
      n++;
      if ((n & PROGRESS_MASK) === 0 && this.progress !== undefined) this.progress();
    }
    if (Number.isFinite(untilNs) && untilNs > this.now) this.now = untilNs;
    this.eventsRun += n;
    return n;
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private static before(a: Event, b: Event): boolean {
    return a.timeNs < b.timeNs || (a.timeNs === b.timeNs && a.seq < b.seq);
  }

  private push(e: Event): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!Scheduler.before(e, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  private pop(): Event | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && Scheduler.before(h[r]!, h[l]!) ? r : l;
        if (!Scheduler.before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

/**
 * Wall-clock time of virtual time 0 (2026-01-01T00:00:00Z), in whole seconds since the Unix
 * epoch: what capture timestamps and the clocks programs read (ping's timeval, HTTP Date) count
 * from. Seconds, because nanoseconds since 1970 no longer fit a double exactly.
 */
export const VIRTUAL_EPOCH_SEC = 1_767_225_600;
