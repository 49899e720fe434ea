/**
 * TCP connection tracking as net/netfilter/nf_conntrack_proto_tcp.c: the tcp_conntracks state
 * table driven by a segment's flags and direction, the flag validity check of tcp_error, the
 * per-state timeouts with their UNACK/RETRANS/CLOSE overrides, and the part of tcp_in_window that
 * decides those overrides (the highest sequence sent per direction, whether it is acknowledged,
 * and retransmission counting).
 *
 * Not modelled: the window checks themselves (segments are accepted as with
 * nf_conntrack_tcp_be_liberal = 1), the SYN/ACK-after-ignored-SYN resynchronisation, and the
 * RFC 5961 challenge-ACK special cases.
 */
import * as tcp from '../../packet/tcp.js';

/** enum tcp_conntrack (include/uapi/linux/netfilter/nf_conntrack_tcp.h). */
export const TcpCt = {
  NONE: 0,
  SYN_SENT: 1,
  SYN_RECV: 2,
  ESTABLISHED: 3,
  FIN_WAIT: 4,
  CLOSE_WAIT: 5,
  LAST_ACK: 6,
  TIME_WAIT: 7,
  CLOSE: 8,
  SYN_SENT2: 9,
  /** TCP_CONNTRACK_MAX: used in the table for "invalid" (sIV). */
  INVALID: 10,
  /** TCP_CONNTRACK_IGNORE (sIG). */
  IGNORE: 11,
} as const;

/** tcp_conntrack_names, as /proc and conntrack -L print them. */
export const TCP_STATE_NAMES: readonly string[] = [
  'NONE',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
  'SYN_SENT2',
];

/** Seconds; the nf_conntrack_tcp_timeout_* sysctl defaults (tcp_timeouts[]). */
export interface TcpTimeouts {
  synSent: number;
  synRecv: number;
  established: number;
  finWait: number;
  closeWait: number;
  lastAck: number;
  timeWait: number;
  close: number;
  maxRetrans: number;
  unacknowledged: number;
}

export const LINUX_TCP_TIMEOUTS: Readonly<TcpTimeouts> = {
  synSent: 120,
  synRecv: 60,
  established: 432000,
  finWait: 120,
  closeWait: 60,
  lastAck: 30,
  timeWait: 120,
  close: 10,
  maxRetrans: 300,
  unacknowledged: 300,
};

/**
 * What kube-proxy writes over those on every node (pkg/proxy/apis/config/v1alpha1/defaults.go:
 * conntrack.tcpEstablishedTimeout 24 h, tcpCloseWaitTimeout 1 h).
 */
export const KUBE_PROXY_TCP_TIMEOUTS: Readonly<Partial<TcpTimeouts>> = { established: 86400, closeWait: 3600 };

/** nf_conntrack_tcp_max_retrans: after this many identical ACKs the RETRANS timeout applies. */
export const TCP_MAX_RETRANS = 3;

/** The timeout of a state, in seconds (the table tcp_timeouts[] indexed by state; SYN_SENT2 shares SYN_SENT's). */
function stateTimeout(t: TcpTimeouts, state: number): number {
  switch (state) {
    case TcpCt.SYN_SENT:
    case TcpCt.SYN_SENT2:
      return t.synSent;
    case TcpCt.SYN_RECV:
      return t.synRecv;
    case TcpCt.ESTABLISHED:
      return t.established;
    case TcpCt.FIN_WAIT:
      return t.finWait;
    case TcpCt.CLOSE_WAIT:
      return t.closeWait;
    case TcpCt.LAST_ACK:
      return t.lastAck;
    case TcpCt.TIME_WAIT:
      return t.timeWait;
    default:
      return t.close;
  }
}

/** enum tcp_bit_set: the row of tcp_conntracks a segment selects. */
export const TcpIndex = { SYN: 0, SYNACK: 1, FIN: 2, ACK: 3, RST: 4, NONE: 5 } as const;

/** get_conntrack_index. */
export function conntrackIndex(flags: number): number {
  if (flags & tcp.RST) return TcpIndex.RST;
  if (flags & tcp.SYN) return flags & tcp.ACK ? TcpIndex.SYNACK : TcpIndex.SYN;
  if (flags & tcp.FIN) return TcpIndex.FIN;
  if (flags & tcp.ACK) return TcpIndex.ACK;
  return TcpIndex.NONE;
}

const sSS = TcpCt.SYN_SENT;
const sSR = TcpCt.SYN_RECV;
const sES = TcpCt.ESTABLISHED;
const sFW = TcpCt.FIN_WAIT;
const sCW = TcpCt.CLOSE_WAIT;
const sLA = TcpCt.LAST_ACK;
const sTW = TcpCt.TIME_WAIT;
const sCL = TcpCt.CLOSE;
const sS2 = TcpCt.SYN_SENT2;
const sIV = TcpCt.INVALID;
const sIG = TcpCt.IGNORE;

/**
 * tcp_conntracks[dir][index][old state], copied row for row from nf_conntrack_proto_tcp.c.
 * Columns: sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2.
 */
const TABLE: readonly (readonly (readonly number[])[])[] = [
  [
    /* ORIGINAL */
    /* syn    */ [sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2],
    /* synack */ [sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR],
    /* fin    */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    /* ack    */ [sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV],
    /* rst    */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none   */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
  [
    /* REPLY */
    /* syn    */ [sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2],
    /* synack */ [sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR],
    /* fin    */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    /* ack    */ [sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG],
    /* rst    */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none   */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
];

/** The next state for a segment of `index` in direction `dir` (0 original, 1 reply). */
export function nextTcpState(dir: number, index: number, oldState: number): number {
  return TABLE[dir]![index]![oldState]!;
}

/**
 * tcp_valid_flags (tcp_error): the flag combinations conntrack accepts, after ignoring PSH, ECE
 * and CWR. Anything else (SYN|FIN, no flags, …) is invalid.
 */
export function tcpFlagsValid(flags: number): boolean {
  switch (flags & ~(tcp.PSH | tcp.ECE | tcp.CWR | tcp.AE)) {
    case tcp.SYN:
    case tcp.SYN | tcp.URG:
    case tcp.SYN | tcp.ACK:
    case tcp.RST:
    case tcp.RST | tcp.ACK:
    case tcp.FIN | tcp.ACK:
    case tcp.FIN | tcp.ACK | tcp.URG:
    case tcp.ACK:
    case tcp.ACK | tcp.URG:
      return true;
    default:
      return false;
  }
}

/** IP_CT_TCP_FLAG_* bits of struct ip_ct_tcp_state.flags. */
const FLAG_CLOSE_INIT = 0x04;
const FLAG_DATA_UNACKNOWLEDGED = 0x10;

/** One direction's struct ip_ct_tcp_state, as far as modelled. */
interface Seen {
  /** td_maxwin != 0 in the kernel: this side has sent a segment. */
  initialized: boolean;
  /** Highest sequence number sent + 1 (segment_seq_plus_len). */
  tdEnd: number;
  flags: number;
}

/** after(a, b) of include/net/tcp.h: a is later in 32-bit sequence space. */
function seqAfter(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

/** What nf_conntrack_tcp_packet decided for one segment. */
export const TcpVerdict = {
  /** Tracked; the entry's timeout is to be refreshed to `timeoutSec`. */
  ACCEPT: 0,
  /** Accepted without refreshing the timeout (ignored segments, retransmitted SYNs). */
  ACCEPT_NO_REFRESH: 1,
  /** Not tracked: the packet is INVALID (-NF_ACCEPT). */
  INVALID: 2,
  /** An RST before any reply: the kernel kills the entry at once (nf_ct_kill_acct). */
  KILL: 3,
  /** A SYN reopening a closed connection: delete the entry and track the packet anew (-NF_REPEAT). */
  REOPEN: 4,
} as const;

/** ct->proto.tcp: the per-connection TCP tracking state. */
export class TcpTracker {
  state: number = TcpCt.NONE;
  private readonly seen: [Seen, Seen] = [
    { initialized: false, tdEnd: 0, flags: 0 },
    { initialized: false, tdEnd: 0, flags: 0 },
  ];
  private lastDir = 0;
  private lastIndex: number = TcpIndex.NONE;
  private lastSeq = 0;
  private lastAck = 0;
  private lastEnd = 0;
  private lastWin = 0;
  private retrans = 0;
  /** Set by packet(): the timeout to refresh to, in seconds. */
  timeoutSec = 0;
  /** Set by packet(): true when this segment made the connection ASSURED. */
  becameAssured = false;

  /**
   * tcp_new: may a segment with these flags open a connection? SYN does; a lone ACK does too,
   * picking up a connection already established (nf_conntrack_tcp_loose = 1).
   */
  static canOpen(flags: number): boolean {
    return tcpFlagsValid(flags) && nextTcpState(0, conntrackIndex(flags), TcpCt.NONE) < TcpCt.INVALID;
  }

  /**
   * nf_conntrack_tcp_packet for the segment at `l4` (of `segLen` bytes) in direction `dir`.
   * `seenReply` and `assured` are the entry's IPS_SEEN_REPLY / IPS_ASSURED bits before this
   * segment (the kernel sets SEEN_REPLY only after the protocol handler ran).
   */
  packet(b: Uint8Array, l4: number, segLen: number, dir: number, seenReply: boolean, assured: boolean, t: TcpTimeouts): number {
    this.becameAssured = false;
    const flags = tcp.flags(b, l4);
    if (!tcpFlagsValid(flags)) return TcpVerdict.INVALID;
    const index = conntrackIndex(flags);
    const oldState = this.state;
    let newState = nextTcpState(dir, index, oldState);
    const seq = tcp.seq(b, l4);
    const win = tcp.window(b, l4);
    const end = (seq + segLen - tcp.headerLen(b, l4) + (flags & tcp.SYN ? 1 : 0) + (flags & tcp.FIN ? 1 : 0)) >>> 0;

    if (newState === TcpCt.SYN_SENT && oldState >= TcpCt.TIME_WAIT) {
      // RFC 1122 TIME-WAIT reuse: a new SYN on a closed connection replaces the entry.
      if (((this.seen[0].flags | this.seen[1].flags) & FLAG_CLOSE_INIT) !== 0 || (this.lastDir === dir && this.lastIndex === TcpIndex.RST)) {
        return TcpVerdict.REOPEN;
      }
      newState = TcpCt.IGNORE;
    } else if (newState === TcpCt.SYN_SENT && oldState === TcpCt.NONE) {
      // tcp_new: the opening side's window data starts at this SYN.
      this.seen[0] = { initialized: true, tdEnd: end, flags: 0 };
      this.seen[1] = { initialized: false, tdEnd: 0, flags: 0 };
    } else if (newState === TcpCt.ESTABLISHED && oldState === TcpCt.NONE) {
      this.seen[0] = { initialized: true, tdEnd: end, flags: 0 };
      this.seen[1] = { initialized: false, tdEnd: 0, flags: 0 };
    }
    if (newState === TcpCt.IGNORE) {
      this.lastIndex = index;
      this.lastDir = dir;
      this.lastSeq = seq;
      this.lastEnd = end;
      this.lastWin = win;
      return TcpVerdict.ACCEPT_NO_REFRESH;
    }
    if (newState === TcpCt.INVALID) return TcpVerdict.INVALID;

    this.inWindow(b, l4, flags, dir, index, seq, end, win);
    this.lastIndex = index;
    this.lastDir = dir;
    this.state = newState;
    if (oldState !== newState && newState === TcpCt.FIN_WAIT) this.seen[dir]!.flags |= FLAG_CLOSE_INIT;

    const stateSec = stateTimeout(t, newState);
    let timeout: number;
    if (this.retrans >= TCP_MAX_RETRANS && stateSec > t.maxRetrans) timeout = t.maxRetrans;
    else if (index === TcpIndex.RST) timeout = t.close;
    else if (((this.seen[0].flags | this.seen[1].flags) & FLAG_DATA_UNACKNOWLEDGED) !== 0 && stateSec > t.unacknowledged) timeout = t.unacknowledged;
    else if (this.lastWin === 0 && stateSec > t.maxRetrans) timeout = t.maxRetrans;
    else timeout = stateSec;

    if (!seenReply) {
      // "If only reply is a RST, we can consider ourselves not to have an established connection."
      if (flags & tcp.RST) return TcpVerdict.KILL;
      // Do not renew the timeout on a retransmitted SYN, so port reuse cannot keep a stale entry alive.
      if (index === TcpIndex.SYN && oldState === TcpCt.SYN_SENT) return TcpVerdict.ACCEPT_NO_REFRESH;
      // A picked-up connection without a reply yet gets no more than the UNACK timeout.
      if (newState === TcpCt.ESTABLISHED && timeout > t.unacknowledged) timeout = t.unacknowledged;
    } else if (!assured && (oldState === TcpCt.SYN_RECV || oldState === TcpCt.ESTABLISHED) && newState === TcpCt.ESTABLISHED) {
      // "Set ASSURED if we see valid ack in ESTABLISHED after SYN_RECV or a valid answer for a picked up connection."
      this.becameAssured = true;
    }
    this.timeoutSec = timeout;
    return TcpVerdict.ACCEPT;
  }

  /** The bookkeeping half of tcp_in_window: td_end, DATA_UNACKNOWLEDGED and retransmissions. */
  private inWindow(b: Uint8Array, l4: number, flags: number, dir: number, index: number, seq: number, end: number, win: number): void {
    const sender = this.seen[dir]!;
    const receiver = this.seen[1 - dir]!;
    if (!sender.initialized) {
      sender.initialized = true;
      sender.tdEnd = end;
    }
    const ack = flags & tcp.ACK ? tcp.ack(b, l4) : receiver.tdEnd;
    if (seqAfter(end, sender.tdEnd)) {
      sender.tdEnd = end;
      sender.flags |= FLAG_DATA_UNACKNOWLEDGED;
    }
    if (ack === receiver.tdEnd) receiver.flags &= ~FLAG_DATA_UNACKNOWLEDGED;
    if (index === TcpIndex.ACK) {
      if (this.lastDir === dir && this.lastSeq === seq && this.lastAck === ack && this.lastEnd === end && this.lastWin === win) {
        this.retrans++;
      } else {
        this.lastDir = dir;
        this.lastSeq = seq;
        this.lastAck = ack;
        this.lastEnd = end;
        this.lastWin = win;
        this.retrans = 0;
      }
    }
  }
}
