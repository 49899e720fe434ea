/**
 * The cable of a veth pair that stands for a physical link (a node's NIC and its switch port):
 * ns-3's Channel idea — the link, not the stack, decides when and whether a frame arrives. It has
 * a one-way latency on the virtual clock, an optional bandwidth (serialization delay), a seeded
 * loss probability, and a carrier that can be pulled and plugged back.
 *
 * Each direction is a FIFO: a frame never overtakes the one sent before it, even when the latency
 * is lowered while frames are in flight. The datapath cost is one comparison when loss is 0 and
 * bandwidth is off; the queue reuses its arrays and the clock events are pooled (no allocation
 * per frame).
 *
 * A frame lost on the cable has been sent: the sender's taps saw it (as tcpdump on the sending
 * NIC does), the receiver's never do, and the trace records a drop on the sending device.
 */
import type { RandomStream } from '../sim/random.js';
import type { Scheduler } from '../sim/scheduler.js';
import type { NetDevice } from './device.js';
import type { Skb } from './skb.js';

export interface LinkProperties {
  /** One-way propagation delay, ns. */
  readonly latencyNs: number;
  /** Probability in [0, 1] that a frame crossing the cable is lost. */
  readonly loss: number;
  /** Bits per second for the serialization delay; 0: off (frames take no time to put on the wire). */
  readonly bandwidthBps: number;
}

/**
 * Bytes a frame occupies on an Ethernet wire beyond what a tap shows: the 4-byte FCS, the 8-byte
 * preamble and SFD, the 12-byte inter-frame gap; and frames are padded to 60 bytes before the FCS.
 */
const ETHERNET_MIN_FRAME = 60;
const ETHERNET_WIRE_OVERHEAD = 4 + 8 + 12;

/**
 * One way of the cable: the frames in flight, in order. Each frame's delivery is a pooled clock
 * event (no handle): events fire in the order the frames were sent, so the oldest frame is the one
 * an event delivers, and after a pull the events of the frames it lost are simply skipped.
 */
class Direction {
  private skbs: (Skb | undefined)[] = new Array<Skb | undefined>(8);
  private head = 0;
  private count = 0;
  /** Delivery events still to come for frames a pull has already dropped. */
  private stale = 0;
  /** Arrival time of the last frame sent: no later frame may arrive before it. */
  lastArrivalNs = 0;
  /** When the transmitter is free again (bandwidth on). */
  busyUntilNs = 0;

  constructor(
    readonly from: NetDevice,
    readonly to: NetDevice,
  ) {}

  /** The clock event that hands the oldest frame in flight to the far end. */
  static deliver(this: void, dir: Direction): void {
    if (dir.stale > 0) {
      dir.stale--;
      return;
    }
    const skb = dir.shift();
    if (skb) dir.to.receive(skb);
  }

  push(skb: Skb): void {
    if (this.count === this.skbs.length) this.grow();
    this.skbs[(this.head + this.count) & (this.skbs.length - 1)] = skb;
    this.count++;
  }

  private shift(): Skb | undefined {
    if (this.count === 0) return undefined;
    const i = this.head;
    const skb = this.skbs[i];
    this.skbs[i] = undefined;
    this.head = (i + 1) & (this.skbs.length - 1);
    this.count--;
    return skb;
  }

  private grow(): void {
    const n = this.skbs.length;
    const skbs = new Array<Skb | undefined>(n * 2);
    for (let k = 0; k < this.count; k++) skbs[k] = this.skbs[(this.head + k) & (n - 1)];
    this.skbs = skbs;
    this.head = 0;
  }

  /** Drops every frame in flight (the cable was pulled): their events will find nothing to deliver. */
  flush(reason: string): void {
    for (let skb = this.shift(); skb; skb = this.shift()) {
      this.stale++;
      this.from.host.drop(this.from, skb, reason);
    }
    this.busyUntilNs = 0;
  }

  get inFlight(): number {
    return this.count;
  }
}

export class Cable implements LinkProperties {
  latencyNs: number;
  loss = 0;
  bandwidthBps = 0;
  private readonly ab: Direction;
  private readonly ba: Direction;
  private carrier = true;

  /**
   * Joins `a` and `b` (the two ends of a veth pair); each end's xmit hands its frames to
   * `carry`. `lossStream` draws the losses: one stream per cable, so a seed loses the same frames.
   */
  constructor(
    readonly name: string,
    readonly a: NetDevice,
    readonly b: NetDevice,
    private readonly sched: Scheduler,
    private readonly lossStream: RandomStream,
    latencyNs: number,
  ) {
    this.latencyNs = latencyNs;
    this.ab = new Direction(a, b);
    this.ba = new Direction(b, a);
  }

  /** Changes the cable's properties; frames already in flight keep their arrival times. */
  set(props: Partial<LinkProperties>): void {
    const { latencyNs = this.latencyNs, loss = this.loss, bandwidthBps = this.bandwidthBps } = props;
    if (!(Number.isInteger(latencyNs) && latencyNs >= 0)) throw new RangeError(`cable ${this.name}: latency ${latencyNs} ns is not a whole number ≥ 0`);
    if (!(loss >= 0 && loss <= 1)) throw new RangeError(`cable ${this.name}: loss ${loss} is not a probability in [0, 1]`);
    if (!(bandwidthBps >= 0 && Number.isFinite(bandwidthBps))) throw new RangeError(`cable ${this.name}: bandwidth ${bandwidthBps} bit/s is not ≥ 0`);
    this.latencyNs = latencyNs;
    this.loss = loss;
    this.bandwidthBps = bandwidthBps;
  }

  get hasCarrier(): boolean {
    return this.carrier;
  }

  /** Frames on the cable now, both ways (for tests and the trace). */
  get inFlight(): number {
    return this.ab.inFlight + this.ba.inFlight;
  }

  /**
   * Pulls the cable out (false) or plugs it back in (true): carrier off or on at both ends
   * (netif_carrier_off/on). Pulling loses what is on the wire. Each end's netns then reacts as to
   * NETDEV_CHANGE (neighbours flushed, bridge port disabled); the devices stay administratively UP.
   */
  setCarrier(on: boolean): void {
    if (on === this.carrier) return;
    this.carrier = on;
    if (!on) {
      this.ab.flush(`lost on cable ${this.name}: the cable was pulled`);
      this.ba.flush(`lost on cable ${this.name}: the cable was pulled`);
    }
    for (const end of [this.a, this.b]) {
      end.hasCarrier = on;
      end.host.carrierChanged(end);
    }
  }

  /** A frame `from` one end has put on the wire (its taps have seen it). */
  carry(from: NetDevice, skb: Skb): void {
    const dir = from === this.a ? this.ab : this.ba;
    if (this.loss > 0 && this.lossStream.nextFloat() < this.loss) {
      return from.host.drop(from, skb, `lost on cable ${this.name} (loss ${this.loss})`);
    }
    let departNs = this.sched.nowNs;
    if (this.bandwidthBps > 0) {
      const wireBytes = Math.max(skb.len, ETHERNET_MIN_FRAME) + ETHERNET_WIRE_OVERHEAD;
      departNs = Math.max(departNs, dir.busyUntilNs) + Math.round((wireBytes * 8e9) / this.bandwidthBps);
      dir.busyUntilNs = departNs;
    }
    let arriveNs = departNs + this.latencyNs;
    if (arriveNs < dir.lastArrivalNs) arriveNs = dir.lastArrivalNs;
    dir.lastArrivalNs = arriveNs;
    dir.push(skb);
    this.sched.postAfter(arriveNs - this.sched.nowNs, Direction.deliver, dir);
  }
}
