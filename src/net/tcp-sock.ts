/**
 * One TCP connection (RFC 9293) as Linux runs it (net/ipv4/tcp_input.c, tcp_output.c,
 * tcp_timer.c): the handshake with Linux's SYN options, MSS from the route MTU, window and window
 * scaling as tcp_select_initial_window and __tcp_select_window compute them, segmentation into
 * MSS-sized segments, Nagle's algorithm with Minshall's variant, quick and delayed ACKs
 * (quickack mode after the first data, ping-pong mode once the host answers within the ACK
 * timeout), SACK blocks for out-of-order data, retransmission on RTO with exponential backoff and
 * a new flow hash per timeout (sk_rethink_txhash), fast retransmit on three duplicate ACKs, FIN
 * teardown and TIME_WAIT.
 *
 * Simplifications, each invisible in a short exchange: congestion control is Reno (Linux's
 * default is CUBIC); the receive window does not auto-tune beyond 64 KiB (no DRS) and programs
 * read at once, so the window never closes and there is no zero-window probing; SACK blocks
 * received are not used for recovery (duplicate ACKs are).
 */
import * as ipv4 from '../packet/ipv4.js';
import * as tcp from '../packet/tcp.js';
import type { TimerHandle } from '../sim/scheduler.js';
import type { Route } from './fib.js';
import { ipOutput } from './ip-output.js';
import type { Netns } from './netns.js';
import type { Skb } from './skb.js';
import type { TcpConnection, TcpEndpoint, TcpErrno } from './tcp-api.js';
import { OutOfOrderQueue, SendBuffer, SentQueue, type SentSegment, seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './tcp-buffers.js';
import { DelayedAck, MSS_DEFAULT, MIN_MSS, TS_ALIGNED } from './tcp-delack.js';
import { RttEstimator, RTO_MAX_NS } from './tcp-rtt.js';
import { buildSegment, NO_OPTIONS, type ParsedOptions, type SegmentHeader, type SegmentOptions } from './tcp-output.js';
import { wheelExpiryNs } from './timer-wheel.js';

export type TcpState =
  | 'SYN_SENT' | 'SYN_RECV' | 'ESTABLISHED' | 'FIN_WAIT1' | 'FIN_WAIT2' | 'CLOSING'
  | 'TIME_WAIT' | 'CLOSE_WAIT' | 'LAST_ACK' | 'CLOSED';

const MS = 1_000_000;
/** net.ipv4.tcp_syn_retries, tcp_synack_retries, tcp_retries2 defaults. */
const SYN_RETRIES = 6;
const SYNACK_RETRIES = 5;
const RETRIES2 = 15;
/**
 * net.ipv4.tcp_syn_linear_timeouts (Linux 6.7+, default 4): a connecting socket's first four
 * timeouts keep the initial RTO (SYNs at 1, 2, 3, 4 s), only then does the backoff double it
 * (5, 7, 11 s …); tcp_write_timeout allows tcp_syn_retries plus these before giving up.
 */
const SYN_LINEAR_TIMEOUTS = 4;
/** TCP_TIMEWAIT_LEN. */
const TIME_WAIT_NS = 60_000 * MS;
/** TCP_INIT_CWND. */
const INIT_CWND = 10;
/**
 * The receive space: tcp_rmem[1] = 131072 bytes of buffer, half of it advertised (the default
 * scaling ratio), and the window scale from tcp_rmem[2] = 32 MiB: ilog2(2^25) − 15 = 10.
 */
const FULL_SPACE = 65536;
const RCV_WSCALE = 10;
/** Half of tcp_rmem[2] (32 MiB): the most the receive space grows to. */
const MAX_SPACE = 16 * 1024 * 1024;
/** The time from a packet's arrival to the program's read/accept/connect returning (a wakeup). */
export const APP_WAKEUP_NS = 20_000;


/** What the connection needs of its netns-wide TCP layer. */
export interface TcpHost {
  readonly ns: Netns;
  /** The connection is gone: remove it from the lookup table. */
  unhash(sock: TcpSock): void;
  /** A connection completed its handshake on a listening socket. */
  accepted(sock: TcpSock): void;
}

export class TcpSock implements TcpConnection {
  state: TcpState = 'CLOSED';
  onConnect: () => void = () => {};
  onData: (data: Uint8Array) => void = () => {};
  onEnd: () => void = () => {};
  onError: (errno: TcpErrno) => void = () => {};

  // send side
  private iss = 0;
  private sndUna = 0;
  private sndNxt = 0;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private sndWscale = 0;
  /** End of the last small segment sent (Minshall's Nagle: tp->snd_sml). */
  private sndSml = 0;
  private readonly sendBuf = new SendBuffer();
  private readonly sent = new SentQueue();
  private finQueued = false;
  private finSent = false;
  private noDelay = false;
  /** Effective payload per segment (tp->mss_cache) and what we announce (advmss). */
  private mssCache = MSS_DEFAULT;
  private advmss: number;
  private cwnd = INIT_CWND;
  private ssthresh = 0x7fff_ffff;
  private cwndCount = 0;
  private dupAcks = 0;
  /** Fast recovery: snd_nxt when it began (NewReno's "recover"), or undefined. */
  private recover: number | undefined;
  /** After an RTO: retransmit from here up to lossHigh before sending new data. */
  private rtxNext: number | undefined;
  private lossHigh = 0;

  // receive side
  /** The peer's initial sequence number (IRS). */
  private irs = 0;
  private rcvNxt = 0;
  private rcvWnd = 0;
  /** rcv_nxt when the window was last advertised (tp->rcv_wup). */
  private rcvWup = 0;
  private rcvSsthresh = 0;
  /** The receive space (what the buffer may hold, advertised): grows as the program reads. */
  private rcvSpace = FULL_SPACE;
  /** Bytes the program read since the space last grew. */
  private rcvCopied = 0;
  private rcvWscale = 0;
  private readonly ooo = new OutOfOrderQueue();
  private finReceived = false;
  /** sk_err_soft: an ICMP error seen while established, reported if the connection times out. */
  private softError: TcpErrno | undefined;

  // options
  private tsOk = false;
  private tsRecent = 0;
  private readonly tsOffset: number;
  private sackOk = false;
  private wscaleOk = false;

  /** When to acknowledge (quick, delayed, ping-pong): see tcp-delack.ts. */
  private readonly acks: DelayedAck;

  // timers (one retransmission timer, re-armed lazily: an ACK only moves its deadline)
  private rtxDeadline = 0;
  private rtxTimer: TimerHandle | undefined;
  private readonly rtt = new RttEstimator();
  private retransmits = 0;
  private synSentNs = 0;

  private ipId: number;
  /** sk_txhash: the flow hash of this socket's packets (a new one after each timeout). */
  private txHash: number;
  private readonly hdr: SegmentHeader;
  private readonly opts: SegmentOptions = { ...NO_OPTIONS };

  constructor(
    private readonly host: TcpHost,
    readonly local: TcpEndpoint,
    readonly remote: TcpEndpoint,
    private readonly route: Route,
  ) {
    const ns = host.ns;
    const rng = ns.random.stream(`tcp/${ns.name}`);
    this.iss = rng.nextU32();
    this.tsOffset = rng.nextU32();
    this.ipId = rng.nextU32() & 0xffff;
    this.txHash = rng.nextU32() | 1;
    const mtu = route.type === 'local' ? ns.lo.mtu : (route.dev?.mtu ?? 1500);
    // ipv4_default_advmss: the route MTU less the headers, at most IPV4_MAX_PMTU less them (lo: 65495).
    this.advmss = Math.min(mtu, 0xffff) - ipv4.HEADER_LEN - tcp.HEADER_LEN;
    const sock = this;
    this.acks = new DelayedAck({
      sched: ns.sched,
      unannounced: () => seqDiff(sock.rcvNxt, sock.rcvWup),
      windowAdvances: () => sock.selectWindow() >= sock.rcvWnd,
      rcvWnd: () => sock.rcvWnd,
      rto: () => sock.rtt.rto,
      srtt: () => sock.rtt.srtt,
      sendAck: () => sock.sendAckNow(),
    });
    this.hdr = {
      src: local.addr, dst: remote.addr, srcPort: local.port, dstPort: remote.port,
      seq: 0, ack: 0, flags: 0, window: 0, id: 0, dontFragment: true, ttl: ns.sysctl.defaultTtl, tos: 0,
    };
  }

  private get ns(): Netns {
    return this.host.ns;
  }

  private get now(): number {
    return this.ns.sched.nowNs;
  }

  // ─── Opening ────────────────────────────────────────────────────────────────────────────

  /** tcp_connect: SYN with MSS, SACK_PERM, TS, NOP, WS and the initial window. */
  connect(): void {
    this.state = 'SYN_SENT';
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndSml = this.iss;
    this.rcvWscale = RCV_WSCALE;
    // tcp_select_initial_window: the space rounded down to whole MSS (no timestamps known yet).
    this.rcvWnd = initialWindow(this.advmss);
    this.rcvSsthresh = this.rcvWnd;
    this.synSentNs = this.now;
    this.sendSyn(false);
    this.armRtx(this.rtt.rto);
  }

  /** A SYN for a listening socket: answer with a SYN-ACK (tcp_conn_request → tcp_v4_send_synack). */
  acceptSyn(seq: number, window: number, o: ParsedOptions): void {
    this.state = 'SYN_RECV';
    this.irs = seq;
    this.rcvNxt = seqAdd(seq, 1);
    this.rcvWup = this.rcvNxt;
    this.takeSynOptions(o);
    this.sndWnd = window; // a SYN's window is never scaled
    this.sndWl1 = seq;
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndSml = this.iss;
    // tcp_openreq_init_rwin: rounded to the MSS that timestamps leave.
    this.rcvWnd = initialWindow(this.advmss - (this.tsOk ? TS_ALIGNED : 0));
    this.rcvSsthresh = this.rcvWnd;
    this.synSentNs = this.now;
    this.sendSyn(true);
    this.armRtx(this.rtt.rto);
  }

  private takeSynOptions(o: ParsedOptions): void {
    this.tsOk = o.hasTimestamps;
    if (o.hasTimestamps) this.tsRecent = o.tsval;
    this.sackOk = o.sackPermitted;
    this.wscaleOk = o.windowScale >= 0;
    this.sndWscale = this.wscaleOk ? o.windowScale : 0;
    if (!this.wscaleOk) this.rcvWscale = 0;
    else this.rcvWscale = RCV_WSCALE;
    const peerMss = o.mss || MSS_DEFAULT;
    this.mssCache = Math.min(peerMss, this.advmss) - (this.tsOk ? TS_ALIGNED : 0);
  }

  private sendSyn(synAck: boolean): void {
    const o = this.opts;
    o.mss = this.advmss;
    if (synAck) {
      o.sackPermitted = this.sackOk;
      o.timestamps = this.tsOk;
      o.windowScale = this.wscaleOk ? this.rcvWscale : -1;
    } else {
      o.sackPermitted = true;
      o.timestamps = true;
      o.windowScale = RCV_WSCALE;
    }
    o.tsval = this.tsNow();
    o.tsecr = synAck ? this.tsRecent : 0;
    o.sack = undefined;
    const h = this.hdr;
    h.seq = this.iss;
    h.ack = synAck ? this.rcvNxt : 0;
    h.flags = synAck ? tcp.SYN | tcp.ACK : tcp.SYN;
    h.window = Math.min(this.rcvWnd, 0xffff);
    // A SYN-ACK leaves from the listener's request socket, which is not connected: IP ID 0.
    h.id = synAck ? 0 : this.nextIpId();
    this.transmit(buildSegment(h, o, 0));
    o.mss = 0;
    o.sackPermitted = false;
    o.windowScale = -1;
  }

  // ─── ICMP errors (tcp_v4_err) ───────────────────────────────────────────────────────────

  /**
   * An ICMP error about one of our segments. Before the connection is established any error ends
   * the connect() with it; afterwards it is a soft error (the connection keeps retransmitting and
   * reports it only if it times out). Fragmentation needed lowers the MSS and resends at once.
   */
  icmpError(errno: TcpErrno | 'EMSGSIZE', nextHopMtu: number): void {
    if (errno === 'EMSGSIZE') {
      if (nextHopMtu <= 0) return;
      const mss = nextHopMtu - ipv4.HEADER_LEN - tcp.HEADER_LEN - (this.tsOk ? TS_ALIGNED : 0);
      if (mss >= MIN_MSS && mss < this.mssCache) {
        this.mssCache = mss;
        this.advmss = Math.min(this.advmss, nextHopMtu - ipv4.HEADER_LEN - tcp.HEADER_LEN);
        if (this.isSynchronized()) {
          // tcp_simple_retransmit: what was sent in larger segments goes again, in smaller ones.
          this.lossHigh = this.sndNxt;
          this.rtxNext = this.sndUna;
          this.splitSentSegments();
          this.pushPending();
        }
      }
      return;
    }
    if (this.state === 'SYN_SENT' || this.state === 'SYN_RECV') return this.reset(this.state === 'SYN_SENT' ? errno : undefined);
    this.softError = errno;
  }

  /** After an MSS reduction the unacknowledged range is resent in segments of the new size. */
  private splitSentSegments(): void {
    const fin = this.finSent && this.sndUna !== this.sndNxt;
    const dataEnd = fin ? seqAdd(this.sndNxt, -1 >>> 0) : this.sndNxt;
    this.sent.clear();
    for (let s = this.sndUna; seqLt(s, dataEnd); ) {
      const end = seqLt(seqAdd(s, this.mssCache), dataEnd) ? seqAdd(s, this.mssCache) : dataEnd;
      this.sent.push({ end, sentNs: this.now, retransmitted: true });
      s = end;
    }
    if (fin) this.sent.push({ end: this.sndNxt, sentNs: this.now, retransmitted: true });
  }

  // ─── Program calls ──────────────────────────────────────────────────────────────────────

  write(data: Uint8Array): void {
    if (this.finQueued || this.state === 'CLOSED') {
      this.afterWakeup(() => this.onError('EPIPE'));
      return;
    }
    if (data.length === 0) return;
    this.sendBuf.append(data);
    if (this.isSynchronized()) this.pushPending();
  }

  shutdown(): void {
    if (this.finQueued) return;
    if (this.state === 'SYN_SENT' || this.state === 'CLOSED') return this.destroy();
    this.finQueued = true;
    if (this.isSynchronized()) this.pushPending();
  }

  close(): void {
    this.onConnect = this.onEnd = () => {};
    this.onData = () => {};
    this.onError = () => {};
    if (this.state === 'SYN_SENT' || this.state === 'CLOSED') return this.destroy();
    this.shutdown();
  }

  abort(): void {
    if (this.isSynchronized() || this.state === 'SYN_RECV') this.sendReset();
    this.destroy();
  }

  setNoDelay(on: boolean): void {
    this.noDelay = on;
    if (on && this.isSynchronized()) this.pushPending();
  }

  private isSynchronized(): boolean {
    return this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT' || this.state === 'FIN_WAIT1' ||
      this.state === 'FIN_WAIT2' || this.state === 'CLOSING' || this.state === 'LAST_ACK';
  }

  // ─── Receiving ──────────────────────────────────────────────────────────────────────────

  /** A segment for this connection: `t` is the TCP header's offset, `dataLen` the payload length. */
  rcv(skb: Skb, t: number, hl: number, dataLen: number, o: ParsedOptions): void {
    const b = skb.buf;
    const seq = tcp.seq(b, t);
    const ack = tcp.ack(b, t);
    const flags = tcp.flags(b, t);
    const window = tcp.window(b, t);
    if (this.state === 'SYN_SENT') return this.rcvSynSent(seq, ack, flags, window, o);
    if (this.state === 'TIME_WAIT') return this.rcvTimeWait(seq, flags, dataLen);
    if (this.state === 'CLOSED') return;
    // tcp_check_req: the peer did not get our SYN-ACK and sent its SYN again.
    if (this.state === 'SYN_RECV' && flags & tcp.SYN && !(flags & tcp.ACK) && seq === this.irs) return this.sendSyn(true);

    // tcp_validate_incoming: PAWS is not modelled; the sequence check (tcp_sequence).
    const segLen = dataLen + (flags & tcp.FIN ? 1 : 0);
    if (!this.acceptable(seq, segLen)) {
      if (!(flags & tcp.RST)) this.sendAckNow();
      return;
    }
    if (flags & tcp.RST) {
      // RFC 5961 §3.2: only an exact match resets; anything else in the window gets a challenge ACK.
      if (seq !== this.rcvNxt) return this.sendAckNow();
      return this.reset(this.state === 'SYN_RECV' ? undefined : this.state === 'CLOSE_WAIT' || this.state === 'LAST_ACK' || this.state === 'CLOSING' ? 'EPIPE' : 'ECONNRESET');
    }
    if (flags & tcp.SYN) return this.sendAckNow(); // RFC 5961 §4: challenge ACK
    if (!(flags & tcp.ACK)) return;
    if (o.hasTimestamps && this.tsOk && seqLe(seq, this.rcvWup)) this.tsRecent = o.tsval;

    if (this.state === 'SYN_RECV') {
      if (!(seqLt(this.sndUna, ack) && seqLe(ack, this.sndNxt))) return this.sendResetFor(ack);
      this.state = 'ESTABLISHED';
      this.sndWnd = window << this.sndWscale;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
      this.sndUna = ack;
      this.rttSample(this.now - this.synSentNs, this.retransmits === 0);
      this.retransmits = 0;
      this.stopRtx();
      this.acks.initRcvMss(this.advmss, this.mssCache);
      this.host.accepted(this);
    } else if (!this.processAck(ack, window, seq, dataLen, flags, o)) {
      return;
    }

    if (dataLen > 0 && (this.state === 'ESTABLISHED' || this.state === 'FIN_WAIT1' || this.state === 'FIN_WAIT2')) {
      this.dataQueue(b, t + hl, seq, dataLen, flags);
    }
    if (flags & tcp.FIN) this.finArrived(seqAdd(seq, dataLen));
    if ((this.state as TcpState) === 'CLOSED') return;
    if (this.isSynchronized()) this.pushPending();
    this.acks.check();
  }

  /** tcp_sequence: some of the segment is inside the receive window (a zero-length one at its edges). */
  private acceptable(seq: number, segLen: number): boolean {
    // Linux: the segment ends at or after rcv_wup and starts no later than the window's right edge.
    const receiveWindow = Math.max(0, seqDiff(seqAdd(this.rcvWup, this.rcvWnd), this.rcvNxt));
    return seqGe(seqAdd(seq, segLen), this.rcvWup) && seqLe(seq, seqAdd(this.rcvNxt, receiveWindow));
  }

  private rcvSynSent(seq: number, ack: number, flags: number, window: number, o: ParsedOptions): void {
    if (flags & tcp.ACK) {
      if (!seqGt(ack, this.iss) || seqGt(ack, this.sndNxt)) {
        if (!(flags & tcp.RST)) this.sendRawReset(ack, 0, false);
        return;
      }
    }
    if (flags & tcp.RST) {
      if (flags & tcp.ACK) this.reset('ECONNREFUSED');
      return;
    }
    if (!(flags & tcp.SYN) || !(flags & tcp.ACK)) return; // simultaneous open is not modelled
    this.irs = seq;
    this.rcvNxt = seqAdd(seq, 1);
    this.rcvWup = this.rcvNxt;
    this.takeSynOptions(o);
    this.sndUna = ack;
    this.sndWnd = window; // unscaled in a SYN-ACK
    this.sndWl1 = seq;
    this.sndWl2 = ack;
    this.rttSample(this.now - this.synSentNs, this.retransmits === 0);
    this.retransmits = 0;
    this.stopRtx();
    this.state = 'ESTABLISHED';
    this.acks.initRcvMss(this.advmss, this.mssCache);
    this.acks.synAckReceived();
    // tcp_rcv_synsent_state_process: the handshake's ACK goes at once, before the program runs.
    this.sendAckNow();
    this.afterWakeup(() => {
      if (this.state !== 'CLOSED') this.onConnect();
    });
  }

  /** tcp_timewait_state_process: a retransmitted FIN is ACKed again; the rest is ignored. */
  private rcvTimeWait(seq: number, flags: number, dataLen: number): void {
    if (flags & tcp.RST) return;
    if (flags & tcp.FIN && seqAdd(seq, dataLen + 1) === this.rcvNxt) this.sendAckNow();
  }

  /** tcp_ack: returns false when the segment is to be dropped. */
  private processAck(ack: number, window: number, seq: number, dataLen: number, flags: number, o: ParsedOptions): boolean {
    if (seqGt(ack, this.sndNxt)) {
      this.sendAckNow(); // ACK of data not sent yet: ignored, answered (tcp_ack "invalid ack")
      return false;
    }
    if (seqLt(ack, this.sndUna)) return true; // an old duplicate: the data may still be new
    const wnd = window << this.sndWscale;
    const acked = seqDiff(ack, this.sndUna);
    const windowChanged = wnd !== this.sndWnd;
    // tcp_may_update_window
    if (seqLt(this.sndWl1, seq) || (this.sndWl1 === seq && seqLe(this.sndWl2, ack))) {
      this.sndWnd = wnd;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
    }
    if (acked > 0) {
      this.newlyAcked(ack, o);
    } else if (this.sent.length > 0 && dataLen === 0 && !(flags & tcp.FIN) && !windowChanged) {
      this.duplicateAck();
    }
    if (this.finSent && ack === this.sndNxt) this.ourFinAcked();
    return this.state !== 'CLOSED';
  }

  private newlyAcked(ack: number, o: ParsedOptions): void {
    let ackedSegs = 0;
    let sample = -1;
    while (this.sent.length > 0 && seqLe(this.sent.first()!.end, ack)) {
      const s = this.sent.shift()!;
      ackedSegs++;
      if (!s.retransmitted) sample = this.now - s.sentNs;
    }
    const bytes = seqDiff(ack, this.sndUna) - (this.finSent && ack === this.sndNxt ? 1 : 0);
    this.sendBuf.consume(Math.max(0, bytes));
    this.sndUna = ack;
    if (this.rtxNext !== undefined && seqLt(this.rtxNext, ack)) this.rtxNext = ack;
    if (this.rtxNext !== undefined && seqGe(ack, this.lossHigh)) this.rtxNext = undefined;
    if (sample >= 0) this.rttSample(sample, true);
    else if (o.hasTimestamps && this.tsOk && o.tsecr !== 0) this.rttSample(Math.max(0, ((this.tsNow() - o.tsecr) | 0)) * MS, true);
    this.dupAcks = 0;
    this.retransmits = 0;
    if (this.recover !== undefined) {
      if (seqGe(ack, this.recover)) {
        this.recover = undefined;
        this.cwnd = this.ssthresh;
      } else {
        this.retransmitHead(); // NewReno partial ACK: the next hole
      }
    } else {
      this.growCwnd(ackedSegs);
    }
    if (this.sent.length === 0 && !(this.finSent && seqLt(this.sndUna, this.sndNxt))) this.stopRtx();
    else this.armRtx(this.rtt.rto);
  }

  /** Three duplicate ACKs: fast retransmit and NewReno recovery (RFC 6582). */
  private duplicateAck(): void {
    if (++this.dupAcks !== 3 || this.recover !== undefined) return;
    this.ssthresh = Math.max(this.sent.length >>> 1, 2);
    this.cwnd = this.ssthresh;
    this.recover = this.sndNxt;
    this.retransmitHead();
  }

  /** Reno: slow start, then one segment per window of ACKs. */
  private growCwnd(segs: number): void {
    if (this.cwnd < this.ssthresh) {
      this.cwnd += segs;
      return;
    }
    this.cwndCount += segs;
    if (this.cwndCount >= this.cwnd) {
      this.cwndCount -= this.cwnd;
      this.cwnd++;
    }
  }

  private ourFinAcked(): void {
    switch (this.state) {
      case 'FIN_WAIT1':
        this.state = 'FIN_WAIT2';
        break;
      case 'CLOSING':
        this.enterTimeWait();
        break;
      case 'LAST_ACK':
        this.destroy();
        break;
      default:
    }
  }

  /** tcp_data_queue: in-order data to the program, the rest to the out-of-order queue. */
  private dataQueue(b: Buffer, at: number, seq: number, len: number, flags: number): void {
    let start = at;
    let s = seq;
    let n = len;
    if (seqLt(s, this.rcvNxt)) {
      const old = seqDiff(this.rcvNxt, s);
      if (old >= n) {
        this.acks.ackNow(); // a retransmission of what we have: D-SACK-less dup ACK
        return;
      }
      start += old;
      s = this.rcvNxt;
      n -= old;
    }
    if (s !== this.rcvNxt) {
      this.ooo.insert(s, Uint8Array.prototype.slice.call(b, start, start + n));
      this.acks.ackNow();
      return;
    }
    this.acks.dataReceived(len, flags, this.tsOk, this.advmss);
    const chunks: Uint8Array[] = [Uint8Array.prototype.slice.call(b, start, start + n)];
    this.rcvNxt = seqAdd(this.rcvNxt, n);
    if (!this.ooo.isEmpty) {
      this.rcvNxt = this.ooo.takeFrom(this.rcvNxt, (d) => chunks.push(d));
      this.acks.ackNow(); // the hole is filled: tell the sender at once
    }
    this.growWindow(n);
    this.acks.schedule();
    this.afterWakeup(() => {
      for (const c of chunks) {
        if (this.state === 'CLOSED') return;
        this.onData(c);
      }
      if (this.state === 'CLOSED') return;
      this.rcvSpaceAdjust(n);
      this.acks.programRead(n);
    });
  }

  /** tcp_grow_window, without the truesize accounting: 2·advmss per segment up to the receive space. */
  private growWindow(len: number): void {
    if (len >= 128 && this.rcvSsthresh < this.rcvSpace) this.rcvSsthresh = Math.min(this.rcvSsthresh + 2 * this.advmss, this.rcvSpace);
  }

  /**
   * tcp_rcv_space_adjust (dynamic right-sizing), simplified: the program reads at once, so when it
   * has read a whole receive space's worth the buffer doubles (the kernel measures per RTT what
   * was copied and sizes the buffer to twice that), up to half of tcp_rmem[2]. A bulk transfer's
   * window thus opens ahead of the sender instead of staying at 64 KiB.
   */
  private rcvSpaceAdjust(copied: number): void {
    this.rcvCopied += copied;
    if (this.rcvCopied < this.rcvSpace || this.rcvSpace >= MAX_SPACE) return;
    this.rcvSpace = Math.min(this.rcvSpace * 2, MAX_SPACE);
    this.rcvCopied = 0;
  }

  /** tcp_fin: the peer is done sending. */
  private finArrived(finSeq: number): void {
    if (finSeq !== this.rcvNxt || this.finReceived) return; // out of order: it comes again
    this.finReceived = true;
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.acks.schedule();
    switch (this.state) {
      case 'ESTABLISHED':
        this.state = 'CLOSE_WAIT';
        // Delay the ACK so that it may go with our FIN (inet_csk_enter_pingpong_mode in tcp_fin).
        this.acks.enterPingpong();
        break;
      case 'FIN_WAIT1':
        this.state = 'CLOSING';
        this.acks.ackNow();
        break;
      case 'FIN_WAIT2':
        this.sendAckNow();
        this.enterTimeWait();
        break;
      default:
    }
    this.afterWakeup(() => this.onEnd());
  }

  // ─── Sending ────────────────────────────────────────────────────────────────────────────

  /** tcp_write_xmit: retransmissions first, then new data as window, cwnd and Nagle allow; the FIN. */
  private pushPending(): void {
    if (this.rtxNext !== undefined) this.retransmitLost();
    const mss = this.mssCache;
    for (;;) {
      // Sent but unacknowledged data (the FIN takes the last sequence number until it is acked).
      const sentBytes = seqDiff(this.sndNxt, this.sndUna) - (this.finSent && this.sndUna !== this.sndNxt ? 1 : 0);
      const unsent = this.sendBuf.length - sentBytes;
      if (unsent <= 0) {
        if (this.finQueued && !this.finSent) this.sendFin();
        return;
      }
      if (this.inFlight() >= this.cwnd) return;
      const room = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
      let len = Math.min(unsent, mss);
      if (room < len) {
        if (room <= 0) return; // zero window: the peer's next update reopens it
        len = room;
      }
      const last = len === unsent;
      // Nagle (tcp_nagle_test with Minshall's check): hold a partial segment while an earlier
      // small one is unacknowledged — unless TCP_NODELAY, or the FIN wants out.
      if (len < mss && last && !this.noDelay && !this.finQueued && this.sent.length > 0 && seqGt(this.sndSml, this.sndUna)) return;
      const fin = last && this.finQueued;
      this.sendData(this.sndNxt, sentBytes, len, last, fin, false);
      this.sndNxt = seqAdd(this.sndNxt, len + (fin ? 1 : 0));
      if (len < mss) this.sndSml = this.sndNxt;
      if (fin) return this.finWasSent();
    }
  }

  private inFlight(): number {
    if (this.rtxNext === undefined) return this.sent.length;
    return this.sent.countEndingBy(this.rtxNext);
  }

  /** A data segment (with PSH when it empties the queue, with FIN when asked) from the send buffer. */
  private sendData(seq: number, bufOffset: number, len: number, psh: boolean, fin: boolean, retransmission: boolean): void {
    this.prepareHeader(seq, tcp.ACK | (psh && len > 0 ? tcp.PSH : 0) | (fin ? tcp.FIN : 0));
    const buf = this.sendBuf;
    const skb = buildSegment(this.hdr, this.opts, len, len > 0 ? (dst, at) => buf.copyOut(bufOffset, len, dst, at) : undefined);
    const end = seqAdd(seq, len + (fin ? 1 : 0));
    if (!retransmission) this.sent.push({ end, sentNs: this.now, retransmitted: false });
    if (len > 0) this.acks.dataSent();
    this.transmit(skb);
    this.ackSent();
    if (!this.rtxTimer?.isPending) this.armRtx(this.rtt.rto);
  }

  private sendFin(): void {
    const bufOffset = this.sendBuf.length;
    this.sendData(this.sndNxt, bufOffset, 0, false, true, false);
    this.sndNxt = seqAdd(this.sndNxt, 1);
    this.finWasSent();
  }

  private finWasSent(): void {
    this.finSent = true;
    if (this.state === 'ESTABLISHED') this.state = 'FIN_WAIT1';
    else if (this.state === 'CLOSE_WAIT') this.state = 'LAST_ACK';
  }

  /** Retransmits what an RTO marked lost, segment by segment as cwnd allows. */
  private retransmitLost(): void {
    while (this.rtxNext !== undefined && seqLt(this.rtxNext, this.lossHigh) && this.inFlight() < this.cwnd) {
      const from = this.rtxNext;
      const seg = this.sent.firstEndingAfter(from);
      if (!seg) {
        this.rtxNext = undefined;
        break;
      }
      this.resend(from, seg);
      this.rtxNext = seg.end;
    }
    if (this.rtxNext !== undefined && seqGe(this.rtxNext, this.lossHigh)) this.rtxNext = undefined;
  }

  /** The first unacknowledged segment again (fast retransmit, a partial ACK, the RTO). */
  private retransmitHead(): void {
    const seg = this.sent.first();
    if (seg) this.resend(this.sndUna, seg);
  }

  private resend(from: number, seg: SentSegment): void {
    const fin = this.finSent && seg.end === this.sndNxt;
    const len = seqDiff(seg.end, from) - (fin ? 1 : 0);
    const bufOffset = seqDiff(from, this.sndUna);
    seg.retransmitted = true;
    seg.sentNs = this.now;
    this.sendData(from, bufOffset, len, fin || seg.end === this.sndNxt, fin, true);
  }

  sendAckNow(): void {
    if (this.state === 'CLOSED' || this.state === 'SYN_SENT') return;
    this.prepareHeader(this.sndNxt, tcp.ACK);
    this.transmit(buildSegment(this.hdr, this.opts, 0));
    this.ackSent();
  }

  /** Every segment we send carries the ACK: nothing is owed, and the window is announced. */
  private ackSent(): void {
    this.acks.ackSent();
    this.rcvWup = this.rcvNxt;
  }

  private prepareHeader(seq: number, flags: number): void {
    const h = this.hdr;
    h.seq = seq;
    h.ack = this.rcvNxt;
    h.flags = flags;
    const wnd = this.selectWindow();
    this.rcvWnd = wnd;
    h.window = Math.min(wnd >>> this.rcvWscale, 0xffff);
    h.id = this.nextIpId();
    const o = this.opts;
    o.timestamps = this.tsOk;
    o.tsval = this.tsNow();
    o.tsecr = this.tsRecent;
    o.sack = this.sackOk && !this.ooo.isEmpty ? this.ooo.sackBlocks(this.tsOk ? 3 : 4) : undefined;
  }

  /** __tcp_select_window: the receive space, bounded by rcv_ssthresh, rounded up to the scale unit. */
  private selectWindow(): number {
    let free = Math.min(this.rcvSpace, this.rcvSsthresh);
    if (this.rcvWscale) {
      const unit = 1 << this.rcvWscale;
      if (free % unit !== 0) free = (Math.floor(free / unit) + 1) * unit;
    }
    // The window never shrinks: the right edge already advertised stays (tcp_select_window).
    const cur = Math.max(0, seqDiff(seqAdd(this.rcvWup, this.rcvWnd), this.rcvNxt));
    return Math.max(free, cur);
  }

  private sendReset(): void {
    this.sendRawReset(this.sndNxt, this.rcvNxt, true);
  }

  private sendResetFor(ack: number): void {
    this.sendRawReset(ack, 0, false);
  }

  /** tcp_send_active_reset / a RST in answer to an unacceptable ACK. */
  private sendRawReset(seq: number, ack: number, withAck: boolean): void {
    const h = this.hdr;
    h.seq = seq;
    h.ack = withAck ? ack : 0;
    h.flags = tcp.RST | (withAck ? tcp.ACK : 0);
    h.window = 0;
    h.id = this.nextIpId();
    const o = this.opts;
    const ts = o.timestamps;
    o.timestamps = false;
    o.sack = undefined;
    this.transmit(buildSegment(h, o, 0));
    o.timestamps = ts;
  }

  private transmit(skb: Skb): void {
    skb.flowHash = this.txHash;
    ipOutput(this.ns, skb, this.route);
  }

  private nextIpId(): number {
    const id = this.ipId;
    this.ipId = (id + 1) & 0xffff;
    return id;
  }

  /** The timestamp clock: milliseconds, shifted by the connection's random offset (tsoffset). */
  private tsNow(): number {
    return (Math.floor(this.now / MS) + this.tsOffset) >>> 0;
  }

  // ─── Timers ─────────────────────────────────────────────────────────────────────────────

  private armRtx(delay: number): void {
    // A wheel timer (sk_reset_timer): it runs on the tick of its bucket, not at now + delay.
    const deadline = wheelExpiryNs(this.now, Math.min(delay, RTO_MAX_NS));
    this.rtxDeadline = deadline;
    if (this.rtxTimer?.isPending && this.rtxTimer.timeNs <= deadline) return; // it re-checks when it fires
    this.rtxTimer?.cancel();
    this.rtxTimer = this.ns.sched.at(deadline, () => this.rtxFired());
  }

  private stopRtx(): void {
    this.rtxDeadline = 0;
    this.rtxTimer?.cancel();
    this.rtxTimer = undefined;
  }

  private rtxFired(): void {
    this.rtxTimer = undefined;
    if (this.rtxDeadline === 0 || this.state === 'CLOSED') return;
    if (this.now < this.rtxDeadline) {
      this.rtxTimer = this.ns.sched.at(this.rtxDeadline, () => this.rtxFired());
      return;
    }
    this.retransmitTimeout();
  }

  /** tcp_retransmit_timer: give up after the retry limit, else back off and resend. */
  private retransmitTimeout(): void {
    const limit = this.state === 'SYN_SENT' ? SYN_RETRIES + SYN_LINEAR_TIMEOUTS : this.state === 'SYN_RECV' ? SYNACK_RETRIES : RETRIES2;
    if (this.retransmits >= limit) {
      if (this.state === 'SYN_RECV') return this.destroy();
      return this.reset(this.softError ?? 'ETIMEDOUT');
    }
    this.retransmits++;
    // sk_rethink_txhash: a timeout picks a new flow hash, so a tunnel may take another path.
    this.txHash = this.ns.random.stream(`tcp/${this.ns.name}`).nextU32() | 1;
    if (this.state === 'SYN_SENT' || this.state === 'SYN_RECV') {
      this.sendSyn(this.state === 'SYN_RECV');
    } else {
      this.ssthresh = Math.max(this.inFlight() >>> 1, 2);
      this.cwnd = 1;
      this.cwndCount = 0;
      this.recover = undefined;
      this.dupAcks = 0;
      this.lossHigh = this.sndNxt;
      this.rtxNext = this.sndUna;
      this.retransmitLost();
    }
    // tcp_retransmit_timer: exponential backoff, except for a SYN within its linear timeouts.
    const linear = this.state === 'SYN_SENT' && this.retransmits <= SYN_LINEAR_TIMEOUTS;
    if (!linear) this.rtt.backOff();
    this.armRtx(this.rtt.rto);
  }

  /** An RTT sample, unless Karn's rule excludes it (the segment was sent more than once). */
  private rttSample(m: number, valid: boolean): void {
    if (valid) this.rtt.sample(m);
  }

  private enterTimeWait(): void {
    this.state = 'TIME_WAIT';
    this.stopRtx();
    this.acks.cancel();
    this.ns.sched.after(TIME_WAIT_NS, () => this.destroy());
  }

  /** The connection ends with an error for the program (RST, refusal, timeout). */
  private reset(errno: TcpErrno | undefined): void {
    this.destroy();
    if (errno) this.afterWakeup(() => this.onError(errno));
  }

  private destroy(): void {
    if (this.state === 'CLOSED') return;
    this.state = 'CLOSED';
    this.stopRtx();
    this.acks.cancel();
    this.ooo.clear();
    this.host.unhash(this);
  }

  /** Runs `fn` when the program would next run: a wakeup after the packet that caused it. */
  private afterWakeup(fn: () => void): void {
    this.ns.sched.after(APP_WAKEUP_NS, fn);
  }
}

/** tcp_select_initial_window: the full space rounded down to whole segments, capped at 65535 in the SYN. */
function initialWindow(mss: number): number {
  return mss > 0 && FULL_SPACE > mss ? Math.floor(FULL_SPACE / mss) * mss : FULL_SPACE;
}

