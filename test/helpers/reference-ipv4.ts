/**
 * Locates the IPv4 packets of the kernel reference frames by hand, so codec tests do not depend on
 * ipv4.ts (or on their own layer) to find what they parse: Ethernet 14 bytes, IHL in the low nibble
 * of the first IPv4 byte; VXLAN frames on flannel's port 8472 carry an inner Ethernet frame after
 * UDP 8 + VXLAN 8 (flannel.1 captures hold inner frames directly).
 */
import { finish, sum } from '../../src/packet/checksum.js';
import type { PseudoHeader } from '../../src/packet/emit-options.js';
import { kernelReferenceFrames, type ReferenceFrame } from './frames.js';

export const VXLAN_PORT = 8472;

export interface Ipv4Packet {
  readonly ip: number;
  readonly l4: number;
  /** End of the IPv4 payload (offset + total length). */
  readonly end: number;
  readonly protocol: number;
  readonly pseudo: PseudoHeader;
  readonly moreFragments: boolean;
  readonly fragmentOffset: number;
  readonly inner: boolean;
}

/** The IPv4 packet of an Ethernet frame, then the one inside it when it is flannel's VXLAN. */
export function ipv4Packets(frame: Buffer): Ipv4Packet[] {
  const out: Ipv4Packet[] = [];
  const walk = (eth: number, inner: boolean): void => {
    if (frame.length < eth + 34 || frame.readUInt16BE(eth + 12) !== 0x0800) return;
    const ip = eth + 14;
    const frag = frame.readUInt16BE(ip + 6);
    const p: Ipv4Packet = {
      ip,
      l4: ip + (frame[ip]! & 0x0f) * 4,
      end: ip + frame.readUInt16BE(ip + 2),
      protocol: frame[ip + 9]!,
      pseudo: { src: frame.readUInt32BE(ip + 12), dst: frame.readUInt32BE(ip + 16) },
      moreFragments: (frag & 0x2000) !== 0,
      fragmentOffset: frag & 0x1fff,
      inner,
    };
    out.push(p);
    if (!inner && p.protocol === 17 && p.fragmentOffset === 0 && frame.readUInt16BE(p.l4 + 2) === VXLAN_PORT) walk(p.l4 + 16, true);
  };
  walk(0, false);
  return out;
}

/** One IPv4 packet of one reference frame. */
export interface ReferenceSite {
  readonly frame: ReferenceFrame;
  readonly packet: Ipv4Packet;
}

/** Every IPv4 packet of the kernel references, outer and inner, that `keep` accepts, in file order. */
export function referenceSites(keep: (p: Ipv4Packet, bytes: Buffer) => boolean = () => true): ReferenceSite[] {
  return kernelReferenceFrames().flatMap((frame) =>
    ipv4Packets(frame.bytes)
      .filter((p) => keep(p, frame.bytes))
      .map((packet) => ({ frame, packet })),
  );
}

/** The reference packets carrying `protocol` whose L4 header is there (not a later fragment). */
export function referenceL4Sites(protocol: number): ReferenceSite[] {
  return referenceSites((p) => p.protocol === protocol && p.fragmentOffset === 0);
}

/** `file#frame number`, and ` (inner)` inside VXLAN: where a failing assertion looked. */
export const siteLabel = (s: ReferenceSite): string => `${s.frame.file}#${s.frame.index + 1}${s.packet.inner ? ' (inner)' : ''}`;

/** Rewrites an IPv4 address in the header and recomputes the IPv4 header checksum. */
export function rewriteIpv4Address(b: Buffer, p: Ipv4Packet, which: 'src' | 'dst', addr: number): void {
  b.writeUInt32BE(addr, p.ip + (which === 'src' ? 12 : 16));
  b.writeUInt16BE(0, p.ip + 10);
  b.writeUInt16BE(finish(sum(b, p.ip, p.l4)), p.ip + 10);
}
