/**
 * The neighbour table (net/core/neighbour.c with ARP as its protocol): per device and next-hop
 * address, a link-layer address and a NUD state. Packets to an unresolved neighbour wait in its
 * queue while ARP asks; timers move entries through REACHABLE → STALE → DELAY → PROBE as Linux's
 * neigh_timer_handler does, with Linux's defaults (ip-sysctl.rst, neigh/default). What the table
 * sends (solicitations, queued frames, error reports) goes through NeighbourOps, which the netns
 * implements, so this file holds only the state machine.
 */
import type { Ipv4Addr, MacAddr } from '../packet/addr.js';
import type { Scheduler, TimerHandle } from '../sim/scheduler.js';
import type { RandomStream } from '../sim/random.js';
import type { NetDevice } from './device.js';
import type { Skb } from './skb.js';

/** NUD_* bit values, as `ip neigh` reads them. */
export enum NudState {
  None = 0x00,
  Incomplete = 0x01,
  Reachable = 0x02,
  Stale = 0x04,
  Delay = 0x08,
  Probe = 0x10,
  Failed = 0x20,
  NoArp = 0x40,
  Permanent = 0x80,
}

const NUD_VALID = NudState.Permanent | NudState.NoArp | NudState.Reachable | NudState.Probe | NudState.Stale | NudState.Delay;
const NUD_CONNECTED = NudState.Permanent | NudState.NoArp | NudState.Reachable;

export interface NeighParams {
  readonly baseReachableTimeNs: number;
  readonly retransTimeNs: number;
  readonly delayFirstProbeTimeNs: number;
  readonly ucastSolicit: number;
  readonly mcastSolicit: number;
  readonly appSolicit: number;
  readonly unresQlenBytes: number;
}

/** Linux defaults (Documentation/networking/ip-sysctl.rst, neigh/default/*). */
export const LINUX_NEIGH_DEFAULTS: NeighParams = Object.freeze({
  baseReachableTimeNs: 30e9,
  retransTimeNs: 1e9,
  delayFirstProbeTimeNs: 5e9,
  ucastSolicit: 3,
  mcastSolicit: 3,
  appSolicit: 0,
  unresQlenBytes: 212_992,
});

export interface Neighbour {
  readonly dev: NetDevice;
  readonly ip: Ipv4Addr;
  lladdr: MacAddr | undefined;
  state: NudState;
  /** Solicitations sent in the current resolution or probe round. */
  probes: number;
  readonly queue: Skb[];
  queueBytes: number;
  confirmedNs: number;
  updatedNs: number;
  usedNs: number;
  timer: TimerHandle | undefined;
  /** true for entries added by hand (`ip neigh add … nud permanent`, flannel's VTEP entries). */
  isRouter: boolean;
}

export interface NeighbourOps {
  /** Send an ARP request for `n` (broadcast, or unicast to its lladdr when probing). */
  solicit(n: Neighbour, unicast: boolean, trigger: Skb | undefined): void;
  /** Hand a frame whose link-layer destination is now known to the device. */
  transmitResolved(n: Neighbour, skb: Skb): void;
  /** Resolution failed: the packet's sender learns by an ICMP host unreachable (neigh_invalidate). */
  reportUnreachable(n: Neighbour, skb: Skb): void;
  drop(dev: NetDevice, skb: Skb, reason: string): void;
}

export class NeighbourTable {
  private readonly entries = new Map<number, Neighbour>();
  private reachableTimeNs: number;

  constructor(
    private readonly sched: Scheduler,
    private readonly rng: RandomStream,
    private readonly ops: NeighbourOps,
    readonly params: NeighParams = LINUX_NEIGH_DEFAULTS,
  ) {
    this.reachableTimeNs = this.randomReachableTime();
  }

  /** neigh_rand_reach_time: base × uniform[0.5, 1.5). */
  private randomReachableTime(): number {
    const base = this.params.baseReachableTimeNs;
    return Math.round(base / 2 + this.rng.nextFloat() * base);
  }

  private static key(dev: NetDevice, ip: Ipv4Addr): number {
    return dev.ifindex * 0x1_0000_0000 + ip;
  }

  lookup(dev: NetDevice, ip: Ipv4Addr): Neighbour | undefined {
    return this.entries.get(NeighbourTable.key(dev, ip));
  }

  all(): Neighbour[] {
    return [...this.entries.values()];
  }

  private create(dev: NetDevice, ip: Ipv4Addr): Neighbour {
    const now = this.sched.nowNs;
    const n: Neighbour = {
      dev, ip, lladdr: undefined, state: NudState.None, probes: 0, queue: [], queueBytes: 0,
      // ___neigh_create: a new entry counts as confirmed long ago (jiffies − 2 × base_reachable_time).
      confirmedNs: now - 2 * this.params.baseReachableTimeNs, updatedNs: now, usedNs: now, timer: undefined, isRouter: false,
    };
    this.entries.set(NeighbourTable.key(dev, ip), n);
    return n;
  }

  /** `ip neigh replace IP lladdr MAC dev DEV nud permanent`. */
  addPermanent(dev: NetDevice, ip: Ipv4Addr, lladdr: MacAddr): Neighbour {
    const n = this.lookup(dev, ip) ?? this.create(dev, ip);
    this.setTimer(n, undefined);
    n.lladdr = lladdr;
    n.state = NudState.Permanent;
    n.updatedNs = this.sched.nowNs;
    this.flushQueue(n);
    return n;
  }

  delete(dev: NetDevice, ip: Ipv4Addr): void {
    const n = this.lookup(dev, ip);
    if (!n) return;
    this.setTimer(n, undefined);
    this.entries.delete(NeighbourTable.key(dev, ip));
  }

  /**
   * Removes every entry of a device (the device went away or down). On carrier loss the kernel
   * keeps the permanent ones (neigh_carrier_down → __neigh_ifdown with skip_perm).
   */
  flushDevice(dev: NetDevice, keepPermanent = false): void {
    for (const n of this.entries.values()) {
      if (n.dev === dev && !(keepPermanent && n.state === NudState.Permanent)) this.delete(dev, n.ip);
    }
  }

  /** neigh_output / __neigh_event_send: send now if the address is known, else queue and resolve. */
  output(dev: NetDevice, nexthop: Ipv4Addr, skb: Skb): void {
    const n = this.lookup(dev, nexthop) ?? this.create(dev, nexthop);
    const now = this.sched.nowNs;
    if (n.state & (NUD_CONNECTED | NudState.Delay | NudState.Probe)) {
      // neigh_hh_output, the cached-header fast path: it does not touch n->used.
      this.ops.transmitResolved(n, skb);
      return;
    }
    n.usedNs = now; // neigh_event_send on the slow path
    if (n.state === NudState.Stale) {
      // First use of a stale entry: send, and give upper layers delay_first_probe_time to confirm.
      n.state = NudState.Delay;
      n.updatedNs = now;
      this.setTimer(n, now + this.params.delayFirstProbeTimeNs);
      this.ops.transmitResolved(n, skb);
      return;
    }
    if (n.state === NudState.None || n.state === NudState.Failed) {
      n.state = NudState.Incomplete;
      n.updatedNs = now;
      n.probes = this.params.ucastSolicit;
      this.enqueue(n, skb);
      this.probe(n, skb);
      return;
    }
    this.enqueue(n, skb); // INCOMPLETE: wait with the others
  }

  /** __neigh_event_send's queue: bounded by unres_qlen_bytes, oldest dropped first. */
  private enqueue(n: Neighbour, skb: Skb): void {
    n.queue.push(skb);
    n.queueBytes += skb.len;
    while (n.queueBytes > this.params.unresQlenBytes && n.queue.length > 1) {
      const old = n.queue.shift()!;
      n.queueBytes -= old.len;
      this.ops.drop(n.dev, old, 'neighbour queue full');
    }
  }

  private probe(n: Neighbour, trigger: Skb | undefined): void {
    const unicast = n.state === NudState.Probe || (n.lladdr !== undefined && n.probes < this.params.ucastSolicit);
    n.probes++;
    this.setTimer(n, this.sched.nowNs + this.params.retransTimeNs);
    this.ops.solicit(n, unicast, trigger);
  }

  private maxProbes(n: NudState): number {
    const p = this.params;
    return n === NudState.Probe ? p.ucastSolicit : p.ucastSolicit + p.appSolicit + p.mcastSolicit;
  }

  /**
   * neigh_update for what ARP learned: a reply to us confirms (REACHABLE), anything else marks the
   * address STALE. `create` is false for replies and gratuitous ARP (arp_accept = 0): only entries
   * that exist are updated.
   */
  update(dev: NetDevice, ip: Ipv4Addr, lladdr: MacAddr, state: NudState.Reachable | NudState.Stale, create: boolean): void {
    let n = this.lookup(dev, ip);
    if (!n) {
      if (!create) return;
      n = this.create(dev, ip);
    }
    if (n.state & (NudState.Permanent | NudState.NoArp)) return;
    const now = this.sched.nowNs;
    const changed = n.lladdr !== lladdr;
    if (state === NudState.Stale && !changed && (n.state & NUD_VALID)) return; // nothing new learned
    n.lladdr = lladdr;
    n.state = state;
    n.updatedNs = now;
    if (state === NudState.Reachable) {
      n.confirmedNs = now;
      this.setTimer(n, now + this.reachableTimeNs);
    } else {
      this.setTimer(n, undefined);
    }
    this.flushQueue(n);
  }

  /** Upper-layer confirmation (a TCP ACK for data sent there: dst_confirm_neigh). */
  confirm(dev: NetDevice, ip: Ipv4Addr): void {
    const n = this.lookup(dev, ip);
    if (n) n.confirmedNs = this.sched.nowNs;
  }

  private flushQueue(n: Neighbour): void {
    if (!(n.state & NUD_VALID) || n.queue.length === 0) return;
    const q = n.queue.splice(0);
    n.queueBytes = 0;
    for (const skb of q) this.ops.transmitResolved(n, skb);
  }

  private setTimer(n: Neighbour, atNs: number | undefined): void {
    n.timer?.cancel();
    n.timer = atNs === undefined ? undefined : this.sched.at(atNs, () => this.timerFired(n));
  }

  /** neigh_timer_handler. */
  private timerFired(n: Neighbour): void {
    n.timer = undefined;
    const now = this.sched.nowNs;
    const p = this.params;
    switch (n.state) {
      case NudState.Reachable:
        if (now < n.confirmedNs + this.reachableTimeNs) {
          this.setTimer(n, n.confirmedNs + this.reachableTimeNs);
        } else if (now <= n.usedNs + p.delayFirstProbeTimeNs) {
          n.state = NudState.Delay;
          n.updatedNs = now;
          this.setTimer(n, now + p.delayFirstProbeTimeNs);
        } else {
          n.state = NudState.Stale;
          n.updatedNs = now;
        }
        return;
      case NudState.Delay:
        if (now <= n.confirmedNs + p.delayFirstProbeTimeNs) {
          n.state = NudState.Reachable;
          n.updatedNs = now;
          this.setTimer(n, n.confirmedNs + this.reachableTimeNs);
        } else {
          n.state = NudState.Probe;
          n.updatedNs = now;
          n.probes = 0;
          this.probe(n, undefined);
        }
        return;
      case NudState.Incomplete:
      case NudState.Probe:
        if (n.probes >= this.maxProbes(n.state)) {
          this.fail(n);
        } else {
          this.probe(n, n.queue[n.queue.length - 1]);
        }
        return;
      default:
        return;
    }
  }

  /** neigh_invalidate: FAILED, and every queued packet's sender hears of it. */
  private fail(n: Neighbour): void {
    n.state = NudState.Failed;
    n.updatedNs = this.sched.nowNs;
    const q = n.queue.splice(0);
    n.queueBytes = 0;
    for (const skb of q) this.ops.reportUnreachable(n, skb);
  }
}
