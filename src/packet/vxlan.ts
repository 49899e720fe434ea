/**
 * VXLAN (RFC 7348 §5): 8 bytes — flags (0x08, the I bit: VNI valid), 24 reserved bits, a 24-bit
 * VNI, 8 reserved bits — followed by an inner Ethernet frame without FCS. Reserved bits are kept
 * in the Repr so that a captured header re-emits byte for byte; RFC 7348 says receivers ignore them.
 */
import { u24, u8, setU24, setU8 } from './bytes.js';
import { malformed, need } from './errors.js';

export const HEADER_LEN = 8;
export const FLAG_VNI_VALID = 0x08;
/** IANA's port (RFC 7348) and the Linux vxlan module's default, which flannel uses. */
export const PORT_IANA = 4789;
export const PORT_LINUX = 8472;

const OFF = { FLAGS: 0, RESERVED1: 1, VNI: 4, RESERVED2: 7 } as const;

export interface VxlanRepr {
  readonly flags: number;
  readonly vni: number;
  readonly reserved1: number;
  readonly reserved2: number;
}

export function vxlanRepr(vni: number): VxlanRepr {
  return { flags: FLAG_VNI_VALID, vni, reserved1: 0, reserved2: 0 };
}

export const flags = (b: Uint8Array, off: number): number => u8(b, off + OFF.FLAGS);
export const vni = (b: Uint8Array, off: number): number => u24(b, off + OFF.VNI);

export function parse(b: Uint8Array, off = 0, end: number = b.length): VxlanRepr {
  need(b, off, HEADER_LEN, 'vxlan', 'header', end);
  const f = flags(b, off);
  // RFC 7348 §5: the I flag MUST be set for a valid VNI.
  if ((f & FLAG_VNI_VALID) === 0) malformed('vxlan', 'flags', off + OFF.FLAGS, 'I flag (VNI valid) not set');
  return { flags: f, vni: vni(b, off), reserved1: u24(b, off + OFF.RESERVED1), reserved2: u8(b, off + OFF.RESERVED2) };
}

export function emit(r: VxlanRepr, b: Uint8Array, off = 0): number {
  setU8(b, off + OFF.FLAGS, r.flags);
  setU24(b, off + OFF.RESERVED1, r.reserved1);
  setU24(b, off + OFF.VNI, r.vni);
  setU8(b, off + OFF.RESERVED2, r.reserved2);
  return HEADER_LEN;
}
