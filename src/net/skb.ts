/**
 * A frame in flight, after the kernel's sk_buff: one buffer with headroom in front of the frame so
 * encapsulation can push outer headers without copying the inner frame (skb_push), and pull to
 * strip them (skb_pull). The bytes are the packet; the few fields beside them are metadata the
 * kernel keeps in the skb too (ingress device, the L3 header's offset once known).
 */
export const DEFAULT_HEADROOM = 64;

export class Skb {
  /** Offset in `buf` of the frame's first byte (the Ethernet header). */
  head: number;
  /** Frame length in bytes. */
  len: number;
  /** Offset of the network header, once the stack has looked at it. */
  networkOffset = -1;
  /** The device the frame came in on, when it came in. */
  ingressIfindex = 0;
  /**
   * skb->pkt_type PACKET_HOST decided below the stack: the bridge passes up frames for any of its
   * local MACs (its own or a port's), which the IP layer then takes as addressed to this host.
   */
  isForHost = false;
  /**
   * skb->hash set from the sending socket (sk_txhash: random per connected socket, new after a
   * retransmission timeout), 0 when the packet has none and the flow dissector decides. A tunnel
   * derives its outer UDP source port from it.
   */
  flowHash = 0;
  /**
   * skb->ignore_df: this host may fragment the packet even with DF set. A socket that does not
   * insist on PMTU discovery (IP_PMTUDISC_WANT/DONT) sets it (ip_sk_ignore_df); crossing into
   * another netns clears it (skb_scrub_packet).
   */
  ignoreDf = false;

  constructor(
    readonly buf: Buffer,
    head: number,
    len: number,
  ) {
    this.head = head;
    this.len = len;
  }

  /** A frame of `len` bytes with `headroom` free bytes in front of it, zero-filled. */
  static alloc(len: number, headroom = DEFAULT_HEADROOM): Skb {
    return new Skb(slabAlloc(headroom + len), headroom, len);
  }

  get end(): number {
    return this.head + this.len;
  }

  /** Makes room for `n` bytes of header in front of the frame (skb_push) and returns its offset. */
  push(n: number): number {
    if (n > this.head) throw new RangeError(`skb: no headroom for ${n} bytes (${this.head} left)`);
    this.head -= n;
    this.len += n;
    return this.head;
  }

  /** Strips `n` bytes from the front (skb_pull). */
  pull(n: number): void {
    if (n > this.len) throw new RangeError(`skb: cannot pull ${n} of ${this.len} bytes`);
    this.head += n;
    this.len -= n;
  }

  /** Cuts the frame to `len` bytes (pskb_trim: Ethernet padding beyond the IP datagram). */
  trim(len: number): void {
    if (len < this.len) this.len = len;
  }

  /** A deep copy, as the kernel copies where a frame goes two ways (flooding, taps that keep it). */
  copy(): Skb {
    const b = slabAlloc(this.buf.length);
    this.buf.copy(b, this.head, this.head, this.end);
    const c = new Skb(b, this.head, this.len);
    c.networkOffset = this.networkOffset;
    c.ingressIfindex = this.ingressIfindex;
    c.flowHash = this.flowHash;
    return c;
  }
}

/**
 * Frame buffers are carved from 256 KiB slabs of fresh (zeroed) memory by bumping an offset:
 * one backing store for hundreds of frames, so allocation is a view object and the checksum code
 * keeps one DataView for all of them. A slab is freed by the GC once no frame of it is alive.
 * Large frames get their own buffer.
 */
const SLAB_SIZE = 256 * 1024;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

function slabAlloc(size: number): Buffer {
  if (size > SLAB_SIZE >>> 3) return Buffer.alloc(size);
  if (slabUsed + size > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const b = Buffer.from(slab, slabUsed, size);
  slabUsed += (size + 7) & ~7; // 8-byte aligned, as the kernel aligns skb data
  return b;
}
