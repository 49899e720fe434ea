/**
 * The IPv4 routing tables of one netns: `local` (addresses of this host, broadcast addresses) and
 * `main` (connected routes, gateways, onlink routes, the default). Lookup is longest-prefix match:
 * one hash map per prefix length, searched from /32 down, so its cost depends on the 33 possible
 * lengths, not on how many routes the cluster installs (a node holds a route per other node).
 */
import { networkOf, type Ipv4Addr } from '../packet/addr.js';
import type { NetDevice } from './device.js';

export type RouteType = 'unicast' | 'local' | 'broadcast' | 'blackhole' | 'unreachable';
export type RouteScope = 'global' | 'link' | 'host';
export type RouteProto = 'kernel' | 'boot' | 'static';

export interface Route {
  readonly table: 'main' | 'local';
  readonly type: RouteType;
  /** The network address (masked). */
  readonly dst: Ipv4Addr;
  readonly prefixLen: number;
  readonly gateway?: Ipv4Addr;
  readonly dev?: NetDevice;
  readonly scope: RouteScope;
  readonly proto: RouteProto;
  /** Preferred source for packets this host sends on the route (`src` in `ip route`). */
  readonly prefsrc?: Ipv4Addr;
  /** `onlink`: the gateway is on the link even though no connected route covers it (flannel). */
  readonly onlink: boolean;
  readonly metric: number;
}


class Table {
  /** byLen[len] maps a masked destination to the routes for it (several metrics or devices). */
  private readonly byLen: Array<Map<number, Route[]>> = Array.from({ length: 33 }, () => new Map());
  private count = 0;

  add(r: Route): void {
    const m = this.byLen[r.prefixLen]!;
    const list = m.get(r.dst);
    if (list) {
      list.push(r);
      list.sort((a, b) => a.metric - b.metric);
    } else {
      m.set(r.dst, [r]);
    }
    this.count++;
  }

  remove(pred: (r: Route) => boolean): Route[] {
    const removed: Route[] = [];
    for (const m of this.byLen) {
      for (const [dst, list] of m) {
        const keep = list.filter((r) => !pred(r));
        if (keep.length !== list.length) {
          removed.push(...list.filter(pred));
          if (keep.length) m.set(dst, keep);
          else m.delete(dst);
        }
      }
    }
    this.count -= removed.length;
    return removed;
  }

  lookup(addr: Ipv4Addr): Route | undefined {
    if (this.count === 0) return undefined;
    for (let len = 32; len >= 0; len--) {
      const m = this.byLen[len]!;
      if (m.size === 0) continue;
      const list = m.get(networkOf(addr, len));
      if (list) {
        for (const r of list) if (!r.dev || r.dev.isUp) return r;
      }
    }
    return undefined;
  }

  /** In the order `ip route` dumps them: by destination address, then prefix length. */
  list(): Route[] {
    const all: Route[] = [];
    for (const m of this.byLen) for (const l of m.values()) all.push(...l);
    return all.sort((a, b) => a.dst - b.dst || a.prefixLen - b.prefixLen || a.metric - b.metric);
  }
}

export class Fib {
  private readonly local = new Table();
  private readonly main = new Table();

  add(r: Route): void {
    (r.table === 'local' ? this.local : this.main).add(r);
  }

  /** Removes the routes matching `pred` from both tables and returns them. */
  remove(pred: (r: Route) => boolean): Route[] {
    return [...this.local.remove(pred), ...this.main.remove(pred)];
  }

  /** fib_lookup: the local table first (rules 0 and 32766), then main. */
  lookup(dst: Ipv4Addr): Route | undefined {
    return this.local.lookup(dst) ?? this.main.lookup(dst);
  }

  routes(table: 'main' | 'local' = 'main'): Route[] {
    return (table === 'local' ? this.local : this.main).list();
  }
}
