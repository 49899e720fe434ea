/**
 * When a kernel timer armed on the timer wheel fires (kernel/time/timer.c). Timers armed with
 * mod_timer — TCP's retransmission timer among them (inet_csk_reset_xmit_timer → sk_reset_timer)
 * — do not fire at their exact expiry: the expiry is counted in jiffies and put in a bucket of the
 * wheel level its distance selects, rounded up to that level's granularity (calc_wheel_index /
 * calc_index: "a timer must not fire early"), and the bucket runs on the tick it names. At HZ=250 a
 * 1 s timer (250 jiffies, level 1, 8-jiffy buckets) armed on a bucket boundary fires 256 jiffies
 * later: the real kernel's SYN retransmissions are 1.024 s apart, not 1 s (this machine's kernel
 * shows exactly that), and whether a SYN goes out before a program's own 2 s deadline depends on it.
 */

/** CONFIG_HZ of Debian's kernels, and of this machine's (its SYN retransmissions 1.024 s apart). */
export const HZ = 250;
export const JIFFY_NS = 1_000_000_000 / HZ;

/** LVL_CLK_SHIFT: each level's buckets are 8 times as wide as the level below's. */
const LVL_CLK_SHIFT = 3;
/** LVL_SIZE: buckets per level. */
const LVL_SIZE = 64;
/** LVL_DEPTH for HZ > 100. */
const LVL_DEPTH = 9;
/** WHEEL_TIMEOUT_CUTOFF - 1 (LVL_START(LVL_DEPTH)): the longest distance the wheel keeps. */
const WHEEL_TIMEOUT_MAX = (LVL_SIZE - 1) * 2 ** ((LVL_DEPTH - 1) * LVL_CLK_SHIFT) - 1;

/** LVL_START(n): the smallest distance (jiffies) that goes to level n. */
const levelStart = (n: number): number => (LVL_SIZE - 1) * 2 ** ((n - 1) * LVL_CLK_SHIFT);

/**
 * The virtual time at which a timer armed at `nowNs` to expire `delayNs` later runs: the delay in
 * whole jiffies rounded up (msecs_to_jiffies, usecs_to_jiffies), the expiry rounded up to its
 * level's bucket, the bucket's tick. Jiffies count from virtual time 0.
 */
export function wheelExpiryNs(nowNs: number, delayNs: number): number {
  const clk = Math.floor(nowNs / JIFFY_NS);
  const delta = Math.min(Math.max(Math.ceil(delayNs / JIFFY_NS), 0), WHEEL_TIMEOUT_MAX);
  const expires = clk + delta;
  let level = 0;
  while (level < LVL_DEPTH - 1 && delta >= levelStart(level + 1)) level++;
  const granularity = 2 ** (level * LVL_CLK_SHIFT);
  const bucket = (Math.floor(expires / granularity) + 1) * granularity;
  return bucket * JIFFY_NS;
}
