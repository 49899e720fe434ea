/**
 * The `recent` match's address lists (net/netfilter/xt_recent.c): one table per --name, holding
 * for each address the times it was last seen (at most ip_pkt_list_tot = 20). kube-proxy builds
 * sessionAffinity: ClientIP from it — `--set` when an endpoint is chosen, `--rcheck --seconds
 * 10800 --reap` to send the same client back to it.
 */
import type { RecentMatch } from './rules.js';

/** xt_recent's ip_pkt_list_tot module parameter default. */
const PKT_LIST_TOT = 20;
/** ip_list_tot: addresses per table before the oldest is evicted. */
const LIST_TOT = 100;

interface RecentEntry {
  /** Times seen, oldest first, on the virtual clock. */
  stamps: number[];
  ttl: number;
}

export class RecentTables {
  private readonly tables = new Map<string, Map<number, RecentEntry>>();

  /** The addresses of one list and their last-seen times (for tests and inspection). */
  list(name: string): ReadonlyMap<number, { readonly stamps: readonly number[] }> {
    return this.tables.get(name) ?? new Map();
  }

  /** recent_mt for the packet's address `addr` (already the chosen side) with its TTL. */
  match(m: RecentMatch, addr: number, ttl: number, nowNs: number): boolean {
    let ret = m.negated;
    const key = (addr & m.mask) >>> 0;
    let table = this.tables.get(m.name);
    if (table === undefined) {
      table = new Map();
      this.tables.set(m.name, table);
    }
    const e = table.get(key);
    if (e === undefined || (m.rttl && e.ttl !== ttl)) {
      if (m.command !== 'set') return ret;
      if (table.size >= LIST_TOT) table.delete(table.keys().next().value!);
      table.set(key, { stamps: [nowNs], ttl });
      return !ret;
    }
    if (m.command === 'set') {
      ret = !ret;
    } else if (m.command === 'remove') {
      table.delete(key);
      return !ret;
    } else {
      const since = nowNs - m.seconds * 1e9;
      let hits = 0;
      for (const t of e.stamps) {
        if (m.seconds !== 0 && since > t) continue;
        if (m.hitcount === 0 || ++hits >= m.hitcount) {
          ret = !ret;
          break;
        }
      }
      // recent_entry_reap: drop the entry when its newest stamp is older than the window.
      if (m.reap && e.stamps.length > 0 && since > e.stamps[e.stamps.length - 1]! && !(m.command === 'update' && ret)) {
        table.delete(key);
        return ret;
      }
    }
    if (m.command === 'set' || (m.command === 'update' && ret)) {
      e.stamps.push(nowNs);
      if (e.stamps.length > PKT_LIST_TOT) e.stamps.shift();
      e.ttl = ttl;
      // recent_entry_update moves the entry to the end of the LRU list.
      table.delete(key);
      table.set(key, e);
    }
    return ret;
  }
}
