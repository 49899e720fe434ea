/**
 * The retransmission timeout from RTT samples (tcp_rtt_estimator + tcp_set_rto): RFC 6298's
 * smoothed RTT and variance, with Linux's floor of TCP_RTO_MIN on the variance term, so a
 * connection over microseconds of emulated wire still waits about 200 ms before resending.
 */
const MS = 1_000_000;
/** TCP_TIMEOUT_INIT: the first RTO before any RTT sample. */
export const RTO_INIT_NS = 1000 * MS;
/** TCP_RTO_MIN and TCP_RTO_MAX. */
export const RTO_MIN_NS = 200 * MS;
export const RTO_MAX_NS = 120_000 * MS;

export class RttEstimator {
  /** Smoothed RTT, ns (0 before the first sample). */
  srtt = 0;
  private rttvar = 0;
  /** The current retransmission timeout, ns. */
  rto = RTO_INIT_NS;

  /** A measured round trip of `m` ns (never one of a retransmitted segment: Karn's rule). */
  sample(m: number): void {
    if (this.srtt === 0) {
      this.srtt = Math.max(m, 1);
      this.rttvar = m / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - m);
      this.srtt = 0.875 * this.srtt + 0.125 * m;
    }
    this.rto = Math.min(Math.max(this.srtt + Math.max(4 * this.rttvar, RTO_MIN_NS), RTO_MIN_NS), RTO_MAX_NS);
  }

  /** A timeout: the next one is twice as long (exponential backoff), up to TCP_RTO_MAX. */
  backOff(): void {
    this.rto = Math.min(this.rto * 2, RTO_MAX_NS);
  }
}
