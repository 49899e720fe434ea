/**
 * When a TCP receiver acknowledges: Linux's delayed-ACK engine (inet_connection_sock's icsk_ack;
 * tcp_input.c's tcp_event_data_recv, tcp_measure_rcv_mss, __tcp_ack_snd_check,
 * tcp_send_delayed_ack, tcp_delack_timer_handler, tcp.c's tcp_cleanup_rbuf, tcp_output.c's
 * tcp_event_data_sent and tcp_event_ack_sent).
 *
 * - Quickack mode: after the first data a connection ACKs every segment at once for a while
 *   (up to 16 ACKs), unless it is in ping-pong mode.
 * - Ping-pong mode: a host that answers within the ACK timeout of the last data it received is
 *   interactive; its ACKs wait (40 ms, bounded by the RTT) to ride on the answer. A FIN received
 *   enters it too, so the ACK of a FIN goes with the FIN that answers it. A delayed ACK whose
 *   timer fires leaves it.
 * - More than one full segment unacknowledged, or an out-of-order segment: ACK at once.
 * - A program reading a small pushed segment (not in ping-pong mode) ACKs it at once.
 */
import * as tcp from '../packet/tcp.js';
import type { Scheduler, TimerHandle } from '../sim/scheduler.js';

const MS = 1_000_000;
/** TCP_ATO_MIN = TCP_DELACK_MIN = HZ/25; TCP_DELACK_MAX = HZ/5. */
const ATO_MIN_NS = 40 * MS;
const DELACK_MAX_NS = 200 * MS;
/** TCP_MAX_QUICKACKS, TCP_MSS_DEFAULT, TCP_MIN_MSS. */
const MAX_QUICKACKS = 16;
export const MSS_DEFAULT = 536;
export const MIN_MSS = 88;
/** TCPOLEN_TSTAMP_ALIGNED: what timestamps take from every segment's MSS. */
export const TS_ALIGNED = 12;

/** ICSK_ACK_* pending bits. */
const ACK_SCHED = 1;
const ACK_TIMER = 2;
const ACK_PUSHED = 4;
const ACK_PUSHED2 = 8;
const ACK_NOW = 16;

/** What the engine needs of its connection. */
export interface AckHost {
  readonly sched: Scheduler;
  /** rcv_nxt − rcv_wup: bytes received since the window was last advertised. */
  unannounced(): number;
  /** __tcp_select_window() ≥ rcv_wnd: an ACK now would not shrink the window. */
  windowAdvances(): boolean;
  /** The window last advertised (rcv_wnd). */
  rcvWnd(): number;
  /** The retransmission timeout and smoothed RTT (0 before a sample), ns. */
  rto(): number;
  srtt(): number;
  /** Sends a pure ACK (tcp_send_ack). */
  sendAck(): void;
}

export class DelayedAck {
  private pending = 0;
  private quick = 0;
  private pingpong = false;
  private ato = 0;
  private lrcvtime = -1;
  private lsndtime = -1;
  /** The receiver's estimate of the peer's MSS (icsk_ack.rcv_mss). */
  rcvMss = MSS_DEFAULT;
  private lastSegSize = 0;
  private timer: TimerHandle | undefined;

  constructor(private readonly host: AckHost) {}

  /** tcp_initialize_rcv_mss, once the handshake has fixed both MSS. */
  initRcvMss(advmss: number, mssCache: number): void {
    let hint = Math.min(advmss, mssCache);
    hint = Math.min(hint, this.host.rcvWnd() >>> 1);
    hint = Math.min(hint, MSS_DEFAULT);
    this.rcvMss = Math.max(hint, MIN_MSS);
  }

  /** The SYN-ACK arrived: it counts as the last receipt (icsk_ack.lrcvtime). */
  synAckReceived(): void {
    this.lrcvtime = this.host.sched.nowNs;
  }

  /** An ACK is owed (data or a FIN was taken in). */
  schedule(): void {
    this.pending |= ACK_SCHED;
  }

  /** An ACK is owed at once (out-of-order data, a hole filled, a duplicate, a FIN in some states). */
  ackNow(): void {
    this.pending |= ACK_NOW;
  }

  enterPingpong(): void {
    this.pingpong = true;
  }

  /** tcp_event_data_recv + tcp_measure_rcv_mss: in-order data of `len` bytes with `flags`. */
  dataReceived(len: number, flags: number, timestamps: boolean, advmss: number): void {
    if (len >= this.rcvMss) {
      this.rcvMss = Math.min(len, advmss);
    } else {
      const options = timestamps ? TS_ALIGNED : 0;
      const withHeader = len + tcp.HEADER_LEN + options;
      const remnant = (flags & (tcp.FIN | tcp.URG | tcp.SYN | tcp.PSH)) !== 0;
      let learned = false;
      if (withHeader >= MSS_DEFAULT + tcp.HEADER_LEN || (withHeader >= MIN_MSS + tcp.HEADER_LEN && !remnant)) {
        const seg = withHeader - tcp.HEADER_LEN - options;
        if (seg === this.lastSegSize) {
          this.rcvMss = seg;
          learned = true;
        }
        this.lastSegSize = seg;
      }
      if (!learned) {
        if (this.pending & ACK_PUSHED) this.pending |= ACK_PUSHED2;
        this.pending |= ACK_PUSHED;
      }
    }
    const now = this.host.sched.nowNs;
    const rto = this.host.rto();
    if (this.ato === 0) {
      // The first data packet: quickack mode for a while (tcp_incr_quickack).
      this.incrQuickack();
      this.ato = ATO_MIN_NS;
    } else {
      const m = now - this.lrcvtime;
      if (m <= ATO_MIN_NS / 2) this.ato = (this.ato >>> 1) + ATO_MIN_NS / 2;
      else if (m < this.ato) this.ato = (this.ato >>> 1) + m;
      if (this.ato > rto) this.ato = rto;
      else if (m > rto) this.incrQuickack();
    }
    this.lrcvtime = now;
  }

  private incrQuickack(): void {
    let q = Math.floor(this.host.rcvWnd() / (2 * this.rcvMss));
    if (q === 0) q = 2;
    q = Math.min(q, MAX_QUICKACKS);
    if (q > this.quick) this.quick = q;
  }

  /** __tcp_ack_snd_check: ACK now, or arm the delayed-ACK timer. */
  check(): void {
    if (!(this.pending & (ACK_SCHED | ACK_NOW))) return;
    if (
      (this.host.unannounced() > this.rcvMss && this.host.windowAdvances()) ||
      (this.quick > 0 && !this.pingpong) ||
      this.pending & ACK_NOW
    ) {
      this.host.sendAck();
      return;
    }
    this.sendDelayed();
  }

  /** tcp_send_delayed_ack: the timer, at the ACK timeout bounded by the RTT. */
  private sendDelayed(): void {
    let ato = this.ato || ATO_MIN_NS;
    if (ato > ATO_MIN_NS) {
      let maxAto = this.pingpong || this.pending & ACK_PUSHED ? DELACK_MAX_NS : 500 * MS;
      const srtt = this.host.srtt();
      if (srtt) maxAto = Math.min(maxAto, Math.max(srtt, ATO_MIN_NS));
      ato = Math.min(ato, maxAto);
    }
    const at = this.host.sched.nowNs + ato;
    this.pending |= ACK_SCHED | ACK_TIMER;
    if (this.timer?.isPending && this.timer.timeNs <= at) return;
    this.timer?.cancel();
    this.timer = this.host.sched.at(at, () => this.fired());
  }

  /** tcp_delack_timer_handler: a missed delayed ACK leaves ping-pong mode. */
  private fired(): void {
    if (!(this.pending & ACK_TIMER)) return;
    if (this.pingpong) {
      this.pingpong = false;
      this.ato = ATO_MIN_NS;
    } else {
      this.ato = Math.min(this.ato << 1, this.host.rto());
    }
    this.host.sendAck();
  }

  /** tcp_cleanup_rbuf: the program read `copied` bytes; ACK now if one was held for a small segment. */
  programRead(copied: number): void {
    if (!(this.pending & ACK_SCHED)) return;
    if (
      this.host.unannounced() > this.rcvMss ||
      (copied > 0 && (this.pending & ACK_PUSHED2 || (this.pending & ACK_PUSHED && !this.pingpong)))
    ) {
      this.host.sendAck();
    }
  }

  /** tcp_event_data_sent: answering within the ACK timeout of the last receipt means ping-pong. */
  dataSent(): void {
    const now = this.host.sched.nowNs;
    if (this.lsndtime < this.lrcvtime && this.ato > 0 && now - this.lrcvtime < this.ato) this.pingpong = true;
    this.lsndtime = now;
  }

  /** tcp_event_ack_sent: every segment carries the ACK, so nothing is owed any more. */
  ackSent(): void {
    if (this.quick > 0) this.quick--;
    this.pending = 0;
    this.cancel();
  }

  /** The connection is gone (or in TIME_WAIT): no delayed ACK. */
  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
