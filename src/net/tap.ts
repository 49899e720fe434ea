/**
 * Where captures attach: a Tap sees every frame at a device boundary, as tcpdump's packet socket
 * does (dev_queue_xmit_nit on transmit, __netif_receive_skb on receive). net/ only calls taps;
 * capture/ implements them (DESIGN.md: net never constructs a capture). A tap must copy what it
 * keeps: the buffer is rewritten at the next hop.
 */
import type { TracedPacket } from './trace.js';

export type TapDirection = 'rx' | 'tx';

export type DeviceKind = 'loopback' | 'veth' | 'bridge' | 'vxlan' | 'physical';

/** What a tap may know of the device it is attached to. */
export interface TapDevice {
  readonly name: string;
  readonly ifindex: number;
  readonly kind: DeviceKind;
  readonly netnsName: string;
}

export interface Tap {
  /** `packet`: the frame's packet (its number, a pending comment; a capture notes where it wrote it). */
  frame(dev: TapDevice, dir: TapDirection, timeNs: number, buf: Uint8Array, off: number, len: number, packet: TracedPacket): void;
}
