/**
 * A frame in flight, after the kernel's sk_buff: one buffer with headroom in front of the frame so
 * encapsulation can push outer headers without copying the inner frame (skb_push), and pull to
 * strip them (skb_pull). The bytes are the packet; the few fields beside them are metadata the
 * kernel keeps in the skb too (ingress device, the L3 header's offset once known).
 */
import type { NetDevice } from './device.js';
import type { CtEntry } from './netfilter/conntrack.js';

export const DEFAULT_HEADROOM = 64;

/** struct nf_bridge_info: where a bridged IPv4 frame came from, and what br_netfilter did to it. */
export interface NfBridgeInfo {
  /** The port the frame entered the bridge on. */
  physIn: NetDevice;
  /** The port it is being forwarded out of (set on the FORWARD path). */
  physOut: NetDevice | null;
  /** PREROUTING already ran (ip_sabotage_in keeps the IP layer from running it again). */
  preroutingDone: boolean;
  /** bridged_dnat: the frame waits on ARP through the bridge device, then bridging continues. */
  bridgedDnat: boolean;
  /** The source MAC saved before the neighbour output overwrote the header (neigh_header). */
  savedSrcMac: number;
}

export class Skb {
  /** Offset in `buf` of the frame's first byte (the Ethernet header). */
  head: number;
  /** Frame length in bytes. */
  len: number;
  /**
   * The packet's number in the run (trace.jsonl's `pkt`), 0 until a tap or the trace first sees
   * it (packetId in trace.ts). It stays with the packet as it moves — veth, bridge, routing, NAT,
   * tunnel — and with a flooded copy; a packet the stack builds anew (a fragment, an ICMP error,
   * a retransmission) gets its own.
   */
  id = 0;
  /** What happened to the packet since a tap last saw it: the capture comments the next frame. */
  note: string | null = null;
  /** Where a tap last wrote the packet (capture/: interface id, frame number), for a late comment. */
  capturedIf = -1;
  capturedFrame = 0;
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
  /** skb->mark (MARK target, mark match); cleared when the packet changes netns. */
  mark = 0;
  /** skb->_nfct: the connection conntrack attached (null: untracked or not yet seen). */
  ct: CtEntry | null = null;
  /** The ctinfo that goes with `ct` (CtInfo.*). */
  ctinfo = 0;
  /**
   * IPCB(skb)->frag_max_size: conntrack reassembled this datagram from fragments of at most this
   * many bytes, and output cuts it again to that size (ip_finish_output refragments).
   */
  fragMaxSize = 0;
  /** br_netfilter's per-frame state (struct nf_bridge_info) while a bridge handles the frame. */
  nfBridge: NfBridgeInfo | null = null;
  /** The object nfBridge points to when set, kept across bridges: no allocation per crossing. */
  private bridgeInfo: NfBridgeInfo | null = null;

  /** br_nf_pre_routing's nf_bridge_alloc: fresh bridge state for a frame entering on `physIn`. */
  enterBridge(physIn: NetDevice): NfBridgeInfo {
    let b = this.bridgeInfo;
    if (b === null) {
      b = { physIn, physOut: null, preroutingDone: false, bridgedDnat: false, savedSrcMac: 0 };
      this.bridgeInfo = b;
    } else {
      b.physIn = physIn;
      b.physOut = null;
      b.preroutingDone = false;
      b.bridgedDnat = false;
      b.savedSrcMac = 0;
    }
    this.nfBridge = b;
    return b;
  }

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

  /**
   * skb_scrub_packet: the frame changes netns (a veth, a tunnel): conntrack, the mark and
   * br_netfilter state stay behind.
   */
  scrub(): void {
    this.ignoreDf = false;
    this.mark = 0;
    this.ct = null;
    this.ctinfo = 0;
    this.fragMaxSize = 0;
    this.nfBridge = null;
  }

  /** A deep copy, as the kernel copies where a frame goes two ways (flooding, taps that keep it). */
  copy(): Skb {
    const b = slabAlloc(this.buf.length);
    this.buf.copy(b, this.head, this.head, this.end);
    const c = new Skb(b, this.head, this.len);
    c.id = this.id;
    c.note = this.note;
    c.networkOffset = this.networkOffset;
    c.ingressIfindex = this.ingressIfindex;
    c.flowHash = this.flowHash;
    c.mark = this.mark;
    c.ct = this.ct;
    c.ctinfo = this.ctinfo;
    c.fragMaxSize = this.fragMaxSize;
    if (this.nfBridge !== null) Object.assign(c.enterBridge(this.nfBridge.physIn), this.nfBridge);
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
