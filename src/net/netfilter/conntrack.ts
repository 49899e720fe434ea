/**
 * The connection tracking table (net/netfilter/nf_conntrack_core.c) as a module the netfilter
 * hooks call: `track()` is nf_conntrack_in for one IPv4 packet — it reads the tuple from the
 * packet's bytes, finds the entry in either direction or creates one, runs the protocol tracker
 * (TCP state machine, UDP, ICMP; ICMP errors are RELATED to the flow they quote) and refreshes the
 * entry's timeout on the virtual clock. `setDnat` / `setSnat` bind NAT on a new entry as
 * nf_nat_setup_info does (they change the reply tuple: what the answer WILL look like), and
 * conntrack-nat.ts rewrites packet bytes to the binding.
 *
 * Layout follows the kernel's: every entry has two tuple nodes (original and reply) chained in
 * one hash table of `buckets` slots, so a lookup in either direction is one hash and a short
 * chain walk, reading the packet into a reused scratch tuple (no allocation per packet).
 * Expired entries are removed lazily when a lookup meets them and by `sweep()` (the gc worker).
 *
 * Confirmation: the kernel keeps a new entry off the table until its first packet leaves the
 * last hook (nf_conntrack_confirm). Here the entry is in the hash at once, so the packets of a
 * flow find it whatever the caller's hook order, but it counts as shown only once the caller
 * calls `confirm()`, and `discard()` removes it when that first packet is dropped instead.
 *
 * Simplifications: no zones, helpers or expectations (so no RELATED from helpers); protocols
 * other than TCP, UDP and ICMP are not tracked (Linux's generic tracker is not modelled).
 */
import * as icmp from '../../packet/icmp.js';
import * as ipv4 from '../../packet/ipv4.js';
import * as tcp from '../../packet/tcp.js';
import { TcpTracker, TcpVerdict, LINUX_TCP_TIMEOUTS, type TcpTimeouts } from './conntrack-tcp.js';
import { copyTuple, emptyTuple, hashTuple, icmpInverseType, invertTuple, readTuple, tupleEquals, type CtTuple } from './conntrack-tuple.js';

/** enum ip_conntrack_status bits (include/uapi/linux/netfilter/nf_conntrack_common.h). */
export const IPS = {
  EXPECTED: 1 << 0,
  SEEN_REPLY: 1 << 1,
  ASSURED: 1 << 2,
  CONFIRMED: 1 << 3,
  SRC_NAT: 1 << 4,
  DST_NAT: 1 << 5,
  NAT_MASK: (1 << 4) | (1 << 5),
  SRC_NAT_DONE: 1 << 7,
  DST_NAT_DONE: 1 << 8,
} as const;

/** enum ip_conntrack_info: what a packet is to its connection (the -m conntrack --ctstate basis). */
export const CtInfo = {
  ESTABLISHED: 0,
  RELATED: 1,
  NEW: 2,
  ESTABLISHED_REPLY: 3,
  RELATED_REPLY: 4,
} as const;

export const DIR_ORIGINAL = 0;
export const DIR_REPLY = 1;

/** enum nf_nat_manip_type. */
export const MANIP_SRC = 0;
export const MANIP_DST = 1;

/** Seconds. UDP: nf_conntrack_udp_timeout(_stream); ICMP: nf_conntrack_icmp_timeout. */
export interface ConntrackTimeouts {
  readonly tcp: TcpTimeouts;
  readonly udpUnreplied: number;
  readonly udpReplied: number;
  readonly icmp: number;
}

export const LINUX_TIMEOUTS: ConntrackTimeouts = {
  tcp: LINUX_TCP_TIMEOUTS,
  udpUnreplied: 30,
  udpReplied: 120,
  icmp: 30,
};

/** udp_packet: a replied flow still active this long after its first packet is a stream (2 * HZ). */
const UDP_STREAM_AFTER_NS = 2e9;
/** early_drop: how many buckets from the new tuple's are searched for a victim (NF_CT_EVICTION_RANGE). */
const EVICTION_RANGE = 8;
const NS_PER_SEC = 1e9;

/** One direction's node of an entry in the hash table (struct nf_conntrack_tuple_hash). */
export class CtTupleHash {
  next: CtTupleHash | null = null;
  bucket = -1;
  constructor(
    readonly tuple: CtTuple,
    readonly dir: number,
    readonly entry: CtEntry,
  ) {}
}

/** One connection (struct nf_conn). */
export class CtEntry {
  readonly tuplehash: readonly [CtTupleHash, CtTupleHash];
  status = 0;
  mark = 0;
  /** The reference count conntrack -L prints; the table's own reference. */
  use = 1;
  /** When the entry expires, on the virtual clock. */
  deadlineNs = 0;
  /** When a replied UDP flow counts as a stream (ct->proto.udp.stream_ts). */
  udpStreamNs = 0;
  readonly tcp: TcpTracker | null;

  constructor(original: CtTuple, reply: CtTuple) {
    this.tuplehash = [new CtTupleHash(original, DIR_ORIGINAL, this), new CtTupleHash(reply, DIR_REPLY, this)];
    this.tcp = original.proto === ipv4.PROTO_TCP ? new TcpTracker() : null;
  }

  get original(): CtTuple {
    return this.tuplehash[DIR_ORIGINAL].tuple;
  }

  get reply(): CtTuple {
    return this.tuplehash[DIR_REPLY].tuple;
  }

  has(bit: number): boolean {
    return (this.status & bit) !== 0;
  }
}

export const Verdict = {
  /** Tracked: `entry`, `dir` and `ctinfo` describe the packet. */
  ACCEPT: 0,
  /** Not tracked (ctstate INVALID): unparsable, an invalid TCP segment, an ICMP error about nothing known. */
  INVALID: 1,
  /** The table is full and nothing could be evicted: the caller drops the packet ("nf_conntrack: table full, dropping packet"). */
  DROP: 2,
} as const;

/** The outcome of one track() call. The table reuses one object: read it before the next call. */
export interface CtResult {
  verdict: number;
  entry: CtEntry | null;
  dir: number;
  ctinfo: number;
}

export interface ConntrackOptions {
  /** nf_conntrack_max; 0 means no limit. */
  readonly max?: number;
  /** nf_conntrack_buckets (rounded up to a power of two here). */
  readonly buckets?: number;
  readonly timeouts?: Partial<Omit<ConntrackTimeouts, 'tcp'>> & { readonly tcp?: Partial<TcpTimeouts> };
  /** Source of random 16-bit values for SNAT port selection (give it a seeded stream). */
  readonly randomU16?: () => number;
}

export const DEFAULT_MAX = 65536;

/**
 * nf_nat_initialized: has this manip type been bound already? The nat table's rules run only
 * for NEW packets of a connection without one (nf_nat_inet_fn) — and an original-direction packet
 * stays NEW until a reply is seen, so a second query on one UDP socket must not bind again.
 */
export function natInitialized(e: CtEntry, manip: number): boolean {
  return e.has(manip === MANIP_SRC ? IPS.SRC_NAT_DONE : IPS.DST_NAT_DONE);
}

export class ConntrackTable {
  readonly max: number;
  readonly timeouts: ConntrackTimeouts;
  private readonly table: (CtTupleHash | null)[];
  private readonly mask: number;
  /** Insertion order: the order conntrack -L is rendered in here. */
  private readonly all = new Set<CtEntry>();
  private readonly randomU16: () => number;
  private readonly scratch = emptyTuple();
  private readonly scratch2 = emptyTuple();
  private readonly result: CtResult = { verdict: Verdict.INVALID, entry: null, dir: DIR_ORIGINAL, ctinfo: CtInfo.NEW };

  constructor(opts: ConntrackOptions = {}) {
    this.max = opts.max ?? DEFAULT_MAX;
    const t = opts.timeouts ?? {};
    this.timeouts = {
      tcp: { ...LINUX_TCP_TIMEOUTS, ...t.tcp },
      udpUnreplied: t.udpUnreplied ?? LINUX_TIMEOUTS.udpUnreplied,
      udpReplied: t.udpReplied ?? LINUX_TIMEOUTS.udpReplied,
      icmp: t.icmp ?? LINUX_TIMEOUTS.icmp,
    };
    let size = 1;
    while (size < (opts.buckets ?? 16384)) size *= 2;
    this.table = new Array<CtTupleHash | null>(size).fill(null);
    this.mask = size - 1;
    let state = 0x2545;
    // Without a caller's stream: a fixed LCG, so runs stay deterministic.
    this.randomU16 = opts.randomU16 ?? ((): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 16);
  }

  /** nf_conntrack_count. */
  get count(): number {
    return this.all.size;
  }

  /** Every entry, in insertion order (expired ones included until a sweep or lookup removes them). */
  entries(): IterableIterator<CtEntry> {
    return this.all.values();
  }

  /** The node of a tuple, or null; removes an expired entry it meets (lazy expiry). */
  find(t: CtTuple, nowNs: number): CtTupleHash | null {
    for (let n = this.table[hashTuple(t) & this.mask] ?? null; n !== null; n = n.next) {
      if (tupleEquals(n.tuple, t)) {
        if (n.entry.deadlineNs <= nowNs) {
          this.remove(n.entry);
          return null;
        }
        return n;
      }
    }
    return null;
  }

  /** Removes an entry (nf_ct_delete). */
  remove(e: CtEntry): void {
    if (!this.all.delete(e)) return;
    this.unlink(e.tuplehash[0]);
    this.unlink(e.tuplehash[1]);
  }

  /** The gc worker: removes every expired entry; returns how many. */
  sweep(nowNs: number): number {
    let n = 0;
    for (const e of this.all) {
      if (e.deadlineNs <= nowNs) {
        this.remove(e);
        n++;
      }
    }
    return n;
  }

  /**
   * nf_conntrack_in for the IPv4 packet at `ip` (its header valid; `end` defaults to the end of
   * its total length). Returns the table's reused result object.
   */
  track(b: Uint8Array, ip: number, nowNs: number): CtResult {
    const r = this.result;
    r.entry = null;
    r.dir = DIR_ORIGINAL;
    r.ctinfo = CtInfo.NEW;
    r.verdict = Verdict.INVALID;
    const end = ip + ipv4.totalLength(b, ip);
    const t = this.scratch;
    if (!readTuple(b, ip, t, end)) return r;
    const l4 = ipv4.payloadOffset(b, ip);
    if (t.proto === ipv4.PROTO_ICMP && icmp.isErrorType(t.dstPort >>> 8)) return this.icmpError(b, l4, end, nowNs);

    for (let attempt = 0; attempt < 2; attempt++) {
      let node = this.find(t, nowNs);
      let created = false;
      if (node === null) {
        const made = this.create(t, b, l4, nowNs);
        if (made === null) return r;
        node = made.tuplehash[DIR_ORIGINAL];
        created = true;
      }
      const e = node.entry;
      const dir = node.dir;
      r.entry = e;
      r.dir = dir;
      // resolve_normal_ct.
      r.ctinfo = dir === DIR_REPLY ? CtInfo.ESTABLISHED_REPLY : e.has(IPS.SEEN_REPLY) ? CtInfo.ESTABLISHED : e.has(IPS.EXPECTED) ? CtInfo.RELATED : CtInfo.NEW;
      const outcome = this.protocolPacket(e, b, l4, end, dir, nowNs);
      if (outcome === TcpVerdict.REOPEN) {
        this.remove(e);
        continue;
      }
      if (outcome === TcpVerdict.INVALID) {
        if (created) this.remove(e);
        r.entry = null;
        r.verdict = Verdict.INVALID;
        return r;
      }
      if (outcome === TcpVerdict.KILL) this.remove(e);
      if (r.ctinfo === CtInfo.ESTABLISHED_REPLY) e.status |= IPS.SEEN_REPLY;
      r.verdict = Verdict.ACCEPT;
      return r;
    }
    return r;
  }

  /**
   * nf_nat_setup_info for DNAT: the original tuple's destination becomes addr:port on the wire,
   * so the reply comes from there — the reply tuple's source changes. Call it on the packet that
   * created the entry, as the nat table's rules do (only NEW connections traverse them).
   * Returns false when another connection already has that reply tuple (a clash: drop).
   */
  setDnat(e: CtEntry, addr: number, port: number): boolean {
    if (e.has(IPS.DST_NAT_DONE)) throw new Error('conntrack: DNAT bound twice on one connection');
    const next = copyTuple(e.reply, this.scratch2);
    next.src = addr;
    if (next.proto !== ipv4.PROTO_ICMP) next.srcPort = port;
    // nf_nat_setup_info: IPS_DST_NAT only when the tuple really changes; _DONE in any case.
    const changed = !tupleEquals(next, e.reply);
    if (changed && !this.rebindReply(e, next, false, false)) return false;
    e.status |= (changed ? IPS.DST_NAT : 0) | IPS.DST_NAT_DONE;
    return true;
  }

  /**
   * nf_nat_setup_info for SNAT/MASQUERADE: the source becomes addr (and port, when given; else
   * the original port, or another one when that would clash — nf_nat_l4proto_unique_tuple), so
   * the reply tuple's destination changes. Returns false when no free tuple was found.
   */
  setSnat(e: CtEntry, addr: number, port?: number, randomFully = false): boolean {
    if (e.has(IPS.SRC_NAT_DONE)) throw new Error('conntrack: SNAT bound twice on one connection');
    const next = copyTuple(e.reply, this.scratch2);
    next.dst = addr;
    if (port !== undefined && next.proto !== ipv4.PROTO_ICMP) next.dstPort = port;
    // --random-fully (NF_NAT_RANGE_PROTO_RANDOM_FULLY): a random port even when the old one is free.
    const pick = port === undefined;
    if (!this.rebindReply(e, next, pick, pick && randomFully)) return false;
    e.status |= (tupleEquals(e.reply, this.invertedOriginal(e)) ? 0 : IPS.SRC_NAT) | IPS.SRC_NAT_DONE;
    return true;
  }

  /**
   * nf_nat_alloc_null_binding: no nat rule bound this manip for a new connection, so it is bound
   * to itself — the destination stays, the source too unless another connection already owns
   * the reply tuple, in which case the source port moves (what lets two pods behind one SNAT
   * share a tuple space).
   */
  nullBinding(e: CtEntry, manip: number): boolean {
    if (manip === MANIP_DST) {
      e.status |= IPS.DST_NAT_DONE;
      return true;
    }
    const next = copyTuple(e.reply, this.scratch2);
    if (!this.rebindReply(e, next, true, false)) return false;
    e.status |= (tupleEquals(e.reply, this.invertedOriginal(e)) ? 0 : IPS.SRC_NAT) | IPS.SRC_NAT_DONE;
    return true;
  }

  private readonly scratch3 = emptyTuple();
  /** The reply tuple the connection would have without any NAT. */
  private invertedOriginal(e: CtEntry): CtTuple {
    invertTuple(e.original, this.scratch3);
    // A DNAT binding changed the reply's source; compare only what SNAT decides (its destination).
    const t = this.scratch3;
    t.src = e.reply.src;
    if (t.proto !== ipv4.PROTO_ICMP) t.srcPort = e.reply.srcPort;
    return t;
  }

  /**
   * nf_conntrack_confirm: the packet that created `e` has left the host's last hook (POSTROUTING
   * or INPUT) alive, so the connection now exists for `conntrack -L`. Idempotent.
   */
  confirm(e: CtEntry | null): void {
    if (e !== null) e.status |= IPS.CONFIRMED;
  }

  /**
   * The packet that created `e` was dropped before confirmation (a REJECT or DROP rule, no
   * route): as the kernel frees the unconfirmed conntrack with the skb, the entry goes away.
   * A confirmed entry is left alone.
   */
  discard(e: CtEntry | null): void {
    if (e !== null && !e.has(IPS.CONFIRMED)) this.remove(e);
  }

  /** The remaining seconds conntrack -L prints: ctnetlink_dump_timeout, nf_ct_expires / HZ (truncated). */
  static remainingSeconds(e: CtEntry, nowNs: number): number {
    return Math.max(0, Math.floor((e.deadlineNs - nowNs) / NS_PER_SEC));
  }

  private create(t: CtTuple, b: Uint8Array, l4: number, nowNs: number): CtEntry | null {
    // The protocol's "new" check (tcp_new / icmp_new's valid_new): can this packet open a flow?
    if (t.proto === ipv4.PROTO_TCP && !TcpTracker.canOpen(tcp.flags(b, l4))) return null;
    if (t.proto === ipv4.PROTO_ICMP && !isIcmpQuery(t.dstPort >>> 8)) return null;
    const reply = emptyTuple();
    if (!invertTuple(t, reply)) return null;
    if (this.max > 0 && this.all.size >= this.max && !this.earlyDrop(t, nowNs)) {
      this.result.verdict = Verdict.DROP;
      return null;
    }
    const e = new CtEntry(copyTuple(t, emptyTuple()), reply);
    e.udpStreamNs = nowNs + UDP_STREAM_AFTER_NS;
    this.all.add(e);
    this.link(e.tuplehash[0]);
    this.link(e.tuplehash[1]);
    return e;
  }

  /**
   * __nf_conntrack_alloc on a full table: first drop what has expired near the new tuple's
   * bucket, then early_drop — the first entry not ASSURED in the EVICTION_RANGE buckets from
   * the new tuple's. Returns true when room was made.
   */
  private earlyDrop(t: CtTuple, nowNs: number): boolean {
    const start = hashTuple(t) & this.mask;
    for (let i = 0; i < EVICTION_RANGE; i++) {
      for (let n = this.table[(start + i) & this.mask] ?? null; n !== null; n = n.next) {
        if (n.entry.deadlineNs <= nowNs || !n.entry.has(IPS.ASSURED)) {
          this.remove(n.entry);
          return true;
        }
      }
    }
    return false;
  }

  private protocolPacket(e: CtEntry, b: Uint8Array, l4: number, end: number, dir: number, nowNs: number): number {
    const to = this.timeouts;
    if (e.tcp !== null) {
      const v = e.tcp.packet(b, l4, end - l4, dir, e.has(IPS.SEEN_REPLY), e.has(IPS.ASSURED), to.tcp);
      if (v === TcpVerdict.ACCEPT) {
        e.deadlineNs = nowNs + e.tcp.timeoutSec * NS_PER_SEC;
        if (e.tcp.becameAssured) e.status |= IPS.ASSURED;
      }
      return v;
    }
    if (e.original.proto === ipv4.PROTO_UDP) {
      // nf_conntrack_udp_packet: both ways seen and still active after 2 s → stream, ASSURED.
      if (e.has(IPS.SEEN_REPLY)) {
        const stream = nowNs > e.udpStreamNs;
        e.deadlineNs = nowNs + (stream ? to.udpReplied : to.udpUnreplied) * NS_PER_SEC;
        if (stream) e.status |= IPS.ASSURED;
      } else {
        e.deadlineNs = nowNs + to.udpUnreplied * NS_PER_SEC;
      }
      return TcpVerdict.ACCEPT;
    }
    // icmp_packet: every query or answer refreshes; ICMP flows are never ASSURED.
    e.deadlineNs = nowNs + to.icmp * NS_PER_SEC;
    return TcpVerdict.ACCEPT;
  }

  /**
   * nf_conntrack_inet_error / icmp_error_message: an ICMP error belongs, as RELATED, to the
   * connection of the datagram it quotes. The quoted datagram travelled the other way, so the
   * inverse of its tuple is looked up; when that is the entry's reply tuple the error travels
   * in the reply direction (RELATED_REPLY). The entry's timeout is not refreshed.
   */
  private icmpError(b: Uint8Array, l4: number, end: number, nowNs: number): CtResult {
    const r = this.result;
    const inner = icmp.dataOffset(l4);
    if (inner + ipv4.HEADER_LEN > end || ipv4.version(b, inner) !== ipv4.VERSION) return r;
    const quoted = this.scratch;
    if (!readTuple(b, inner, quoted, end)) return r;
    // An error about an error is never related to anything (icmp_error_message).
    if (quoted.proto === ipv4.PROTO_ICMP && icmp.isErrorType(quoted.dstPort >>> 8)) return r;
    const inv = this.scratch2;
    if (!invertTuple(quoted, inv)) return r;
    const node = this.find(inv, nowNs);
    // An unconfirmed connection is not in the kernel's hash yet: nothing can be related to it
    // (the ICMP error a REJECT sends about a connection's first packet stays untracked).
    if (node === null || !node.entry.has(IPS.CONFIRMED)) return r;
    r.entry = node.entry;
    r.dir = node.dir;
    r.ctinfo = node.dir === DIR_REPLY ? CtInfo.RELATED_REPLY : CtInfo.RELATED;
    r.verdict = Verdict.ACCEPT;
    return r;
  }

  /** Moves the reply node to a new tuple, finding a free source port for SNAT when allowed. */
  private rebindReply(e: CtEntry, next: CtTuple, pickPort: boolean, alwaysPick: boolean): boolean {
    const node = e.tuplehash[DIR_REPLY];
    if (alwaysPick) {
      if (!this.uniquePort(next, e)) return false;
    } else if (this.inUseByOther(next, e) && !(pickPort && this.uniquePort(next, e))) {
      return false;
    }
    this.unlink(node);
    copyTuple(next, node.tuple);
    this.link(node);
    return true;
  }

  private inUseByOther(t: CtTuple, e: CtEntry): boolean {
    for (let n = this.table[hashTuple(t) & this.mask] ?? null; n !== null; n = n.next) {
      if (n.entry !== e && tupleEquals(n.tuple, t)) return true;
    }
    return false;
  }

  /**
   * nf_nat_l4proto_unique_tuple without a port range: ports below 512 map into 1–511, below 1024
   * into 600–1023, others into 1024–65535, trying up to 128 from a random offset (halving the
   * attempts on each further round). ICMP varies the identifier over the whole 16 bits.
   */
  private uniquePort(t: CtTuple, e: CtEntry): boolean {
    const icmpId = t.proto === ipv4.PROTO_ICMP;
    const key = icmpId ? t.srcPort : t.dstPort;
    let min: number;
    let size: number;
    if (icmpId) {
      min = 0;
      size = 0x10000;
    } else if (key < 512) {
      min = 1;
      size = 511;
    } else if (key < 1024) {
      min = 600;
      size = 424;
    } else {
      min = 1024;
      size = 65535 - 1024 + 1;
    }
    let attempts = Math.min(size, 128);
    for (;;) {
      let off = this.randomU16();
      for (let i = 0; i < attempts; i++, off++) {
        const port = min + (off % size);
        if (icmpId) t.srcPort = port;
        else t.dstPort = port;
        if (!this.inUseByOther(t, e)) return true;
      }
      if (attempts >= size || attempts < 16) return false;
      attempts = Math.floor(attempts / 2);
    }
  }

  private link(n: CtTupleHash): void {
    const bucket = hashTuple(n.tuple) & this.mask;
    n.bucket = bucket;
    n.next = this.table[bucket] ?? null;
    this.table[bucket] = n;
  }

  private unlink(n: CtTupleHash): void {
    if (n.bucket < 0) return;
    let p = this.table[n.bucket] ?? null;
    if (p === n) {
      this.table[n.bucket] = n.next;
    } else {
      while (p !== null && p.next !== n) p = p.next;
      if (p !== null) p.next = n.next;
    }
    n.next = null;
    n.bucket = -1;
  }
}

/** icmp_new's valid_new[]: the query types that may open an ICMP connection. */
function isIcmpQuery(type: number): boolean {
  return type === icmp.TYPE_ECHO_REQUEST || type === 13 || type === 15 || type === 17 ? icmpInverseType(type) >= 0 : false;
}
