/**
 * A whole frame as its stack of headers: Ethernet → ARP | IPv4 → ICMP | UDP | TCP → VXLAN → the
 * inner Ethernet frame … → DNS. `decodeFrame` walks the bytes with the codecs and records where
 * each header sits; `encodeFrame` writes the headers back from their Reprs, innermost first (as a
 * stack builds a frame into headroom), so every length and checksum covers what follows it.
 *
 * Decoding never throws: a header that does not parse becomes a `malformed` layer carrying the
 * codec's error and the bytes from there on, so a reader of a capture sees how far the frame made
 * sense. For the datapath's hot path use the codecs' accessors instead: this builds objects.
 */
import * as arp from './arp.js';
import * as dns from './dns.js';
import * as ethernet from './ethernet.js';
import * as icmp from './icmp.js';
import * as ipv4 from './ipv4.js';
import * as tcp from './tcp.js';
import * as udp from './udp.js';
import * as vxlan from './vxlan.js';
import { COMPUTE, KEEP_CHECKSUM, type EmitOptions, type PseudoHeader } from './emit-options.js';
import { MalformedPacketError } from './errors.js';

interface At {
  /** Offset of the header's first byte in the frame buffer. */
  readonly offset: number;
  /** Bytes of the header itself (for `payload`, `padding` and `malformed`: of the bytes). */
  readonly length: number;
}

export type Layer =
  | (At & { readonly kind: 'ethernet'; readonly repr: ethernet.EthernetRepr })
  | (At & { readonly kind: 'arp'; readonly repr: arp.ArpRepr })
  | (At & { readonly kind: 'ipv4'; readonly repr: ipv4.Ipv4Repr })
  | (At & { readonly kind: 'icmp'; readonly repr: icmp.IcmpRepr })
  | (At & { readonly kind: 'udp'; readonly repr: udp.UdpRepr; readonly inFirstFragment: boolean })
  | (At & { readonly kind: 'tcp'; readonly repr: tcp.TcpRepr; readonly inFirstFragment: boolean })
  | (At & { readonly kind: 'vxlan'; readonly repr: vxlan.VxlanRepr })
  | (At & { readonly kind: 'dns'; readonly repr: dns.DnsMessage })
  /** Bytes no header here describes: application data, a later IPv4 fragment, an ICMP error's quote. */
  | (At & { readonly kind: 'payload' })
  /** Bytes after the IPv4 datagram inside the frame: Ethernet padding of a short frame. */
  | (At & { readonly kind: 'padding' })
  | (At & { readonly kind: 'malformed'; readonly error: MalformedPacketError });

export type LayerKind = Layer['kind'];

export interface DecodeOptions {
  /** UDP ports decoded as VXLAN (either side). Default: 4789 and Linux's 8472, which flannel uses. */
  readonly vxlanPorts?: readonly number[];
  /** UDP ports decoded as DNS (either side). Default: 53. */
  readonly dnsPorts?: readonly number[];
  /** Verify IPv4, ICMP, UDP and TCP checksums while decoding (default true). */
  readonly verifyChecksums?: boolean;
}

const DEFAULT_VXLAN_PORTS: readonly number[] = [vxlan.PORT_IANA, vxlan.PORT_LINUX];
const DEFAULT_DNS_PORTS: readonly number[] = [53];

export function decodeFrame(b: Uint8Array, off = 0, end: number = b.length, opts: DecodeOptions = {}): Layer[] {
  const layers: Layer[] = [];
  const walker = new Walker(b, layers, opts);
  walker.ethernet(off, Math.min(end, b.length));
  return layers;
}

/**
 * decodeFrame for a packet that starts at its IPv4 header: what a capture without an Ethernet
 * header holds (LINKTYPE_RAW, or the payload of a Linux cooked-capture header).
 */
export function decodeIpv4Packet(b: Uint8Array, off = 0, end: number = b.length, opts: DecodeOptions = {}): Layer[] {
  const layers: Layer[] = [];
  new Walker(b, layers, opts).ipv4(off, Math.min(end, b.length));
  return layers;
}

class Walker {
  private readonly vxlanPorts: readonly number[];
  private readonly dnsPorts: readonly number[];
  private readonly verify: boolean;

  constructor(
    private readonly b: Uint8Array,
    private readonly out: Layer[],
    opts: DecodeOptions,
  ) {
    this.vxlanPorts = opts.vxlanPorts ?? DEFAULT_VXLAN_PORTS;
    this.dnsPorts = opts.dnsPorts ?? DEFAULT_DNS_PORTS;
    this.verify = opts.verifyChecksums ?? true;
  }

  /** Runs one codec; on a malformed header records the rest of the bytes as malformed and stops. */
  private attempt<T>(off: number, end: number, parse: () => T): T | undefined {
    try {
      return parse();
    } catch (e) {
      if (!(e instanceof MalformedPacketError)) throw e;
      this.out.push({ kind: 'malformed', offset: off, length: end - off, error: e });
      return undefined;
    }
  }

  private rest(kind: 'payload' | 'padding', off: number, end: number): void {
    if (end > off) this.out.push({ kind, offset: off, length: end - off });
  }

  ethernet(off: number, end: number): void {
    const repr = this.attempt(off, end, () => ethernet.parse(this.b, off));
    if (!repr) return;
    const hl = ethernet.reprHeaderLen(repr);
    this.out.push({ kind: 'ethernet', offset: off, length: hl, repr });
    const next = off + hl;
    if (repr.ethertype === ethernet.ETHERTYPE_ARP) {
      const a = this.attempt(next, end, () => arp.parse(this.b, next, end));
      if (!a) return;
      this.out.push({ kind: 'arp', offset: next, length: arp.HEADER_LEN, repr: a });
      this.rest('padding', next + arp.HEADER_LEN, end);
    } else if (repr.ethertype === ethernet.ETHERTYPE_IPV4) {
      this.ipv4(next, end);
    } else {
      this.rest('payload', next, end);
    }
  }

  ipv4(off: number, end: number): void {
    const ip = this.attempt(off, end, () => ipv4.parse(this.b, off, end, { verifyChecksum: this.verify }));
    if (!ip) return;
    const hl = ipv4.reprHeaderLen(ip);
    this.out.push({ kind: 'ipv4', offset: off, length: hl, repr: ip });
    const l4 = off + hl;
    const l4End = l4 + ip.payloadLen;
    const pseudo: PseudoHeader = { src: ip.src, dst: ip.dst };
    const firstFragment = ip.moreFragments && ip.fragmentOffset === 0;
    if (ip.fragmentOffset !== 0) {
      this.rest('payload', l4, l4End); // a later fragment: no L4 header (RFC 791)
    } else if (ip.protocol === ipv4.PROTO_ICMP && !firstFragment) {
      this.icmp(l4, l4End);
    } else if (ip.protocol === ipv4.PROTO_UDP) {
      this.udp(l4, l4End, pseudo, firstFragment);
    } else if (ip.protocol === ipv4.PROTO_TCP) {
      this.tcp(l4, l4End, pseudo, firstFragment);
    } else {
      this.rest('payload', l4, l4End);
    }
    this.rest('padding', l4End, end);
  }

  private icmp(off: number, end: number): void {
    const r = this.attempt(off, end, () => icmp.parse(this.b, off, end, { verifyChecksum: this.verify }));
    if (!r) return;
    this.out.push({ kind: 'icmp', offset: off, length: icmp.HEADER_LEN, repr: r });
    this.rest('payload', off + icmp.HEADER_LEN, end);
  }

  private udp(off: number, end: number, pseudo: PseudoHeader, firstFragment: boolean): void {
    const r = this.attempt(off, end, () =>
      udp.parse(this.b, off, end, { ...(this.verify ? { pseudo } : {}), firstFragment }),
    );
    if (!r) return;
    this.out.push({ kind: 'udp', offset: off, length: udp.HEADER_LEN, repr: r, inFirstFragment: firstFragment });
    const data = off + udp.HEADER_LEN;
    const dataEnd = firstFragment ? end : data + r.payloadLen;
    if (firstFragment) {
      this.rest('payload', data, dataEnd); // the rest of the datagram is in later fragments
    } else if (this.vxlanPorts.includes(r.dstPort)) {
      const v = this.attempt(data, dataEnd, () => vxlan.parse(this.b, data, dataEnd));
      if (!v) return;
      this.out.push({ kind: 'vxlan', offset: data, length: vxlan.HEADER_LEN, repr: v });
      this.ethernet(data + vxlan.HEADER_LEN, dataEnd);
    } else if (this.dnsPorts.includes(r.srcPort) || this.dnsPorts.includes(r.dstPort)) {
      const m = this.attempt(data, dataEnd, () => dns.parse(this.b, data, dataEnd));
      if (!m) return;
      this.out.push({ kind: 'dns', offset: data, length: dataEnd - data, repr: m });
    } else {
      this.rest('payload', data, dataEnd);
    }
  }

  private tcp(off: number, end: number, pseudo: PseudoHeader, firstFragment: boolean): void {
    const r = this.attempt(off, end, () =>
      tcp.parse(this.b, off, end, { ...(this.verify ? { pseudo } : {}), firstFragment }),
    );
    if (!r) return;
    const hl = tcp.reprHeaderLen(r);
    this.out.push({ kind: 'tcp', offset: off, length: hl, repr: r, inFirstFragment: firstFragment });
    this.rest('payload', off + hl, end);
  }
}

/**
 * Writes every header of `layers` into `b` from its Repr, innermost first, at the offsets the
 * layers record; payload and padding bytes must already be in place. Checksums are computed
 * unless `opts.keepChecksum` — except where the bytes they cover are not all in this frame (a UDP
 * or TCP header inside a first fragment), which always keep their value. A DNS layer must encode
 * to its recorded length (the same compression), or this throws RangeError.
 */
export function encodeFrame(layers: readonly Layer[], b: Uint8Array, opts: EmitOptions = COMPUTE): void {
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    switch (l.kind) {
      case 'ethernet':
        ethernet.emit(l.repr, b, l.offset);
        break;
      case 'arp':
        arp.emit(l.repr, b, l.offset);
        break;
      case 'ipv4':
        ipv4.emit(l.repr, b, l.offset, opts);
        break;
      case 'icmp':
        icmp.emit(l.repr, b, l.offset, opts);
        break;
      case 'udp':
        udp.emit(l.repr, b, l.offset, pseudoOf(layers, i), l.inFirstFragment ? KEEP_CHECKSUM : opts);
        break;
      case 'tcp':
        tcp.emit(l.repr, b, l.offset, pseudoOf(layers, i), l.inFirstFragment ? KEEP_CHECKSUM : opts);
        break;
      case 'vxlan':
        vxlan.emit(l.repr, b, l.offset);
        break;
      case 'dns': {
        const n = dns.emit(l.repr, b, l.offset);
        if (n !== l.length) throw new RangeError(`dns: encodes to ${n} bytes where the frame had ${l.length}`);
        break;
      }
      case 'payload':
      case 'padding':
      case 'malformed':
        break;
    }
  }
}

/** The addresses of the IPv4 header that carries layer `i`. */
function pseudoOf(layers: readonly Layer[], i: number): PseudoHeader {
  for (let j = i - 1; j >= 0; j--) {
    const l = layers[j]!;
    if (l.kind === 'ipv4') return { src: l.repr.src, dst: l.repr.dst };
  }
  throw new RangeError('a transport header without an IPv4 header before it');
}

/** The first layer of a kind, for tests and tools (`layerOf(layers, 'tcp')?.repr.flags`). */
export function layerOf<K extends LayerKind>(layers: readonly Layer[], kind: K): Extract<Layer, { kind: K }> | undefined {
  return layers.find((l): l is Extract<Layer, { kind: K }> => l.kind === kind);
}
