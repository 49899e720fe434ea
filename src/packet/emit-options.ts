/**
 * How `emit` treats derived fields, after gopacket's SerializeOptions. Length fields are always
 * derived from the Repr (its payloadLen and options), so a Repr states exactly what goes on the
 * wire; a checksum is computed unless the caller keeps the Repr's value, for instance to re-emit a
 * captured frame byte for byte or to build a frame with a deliberately wrong checksum.
 */
export interface EmitOptions {
  readonly keepChecksum?: boolean;
}

export const COMPUTE: EmitOptions = Object.freeze({});
export const KEEP_CHECKSUM: EmitOptions = Object.freeze({ keepChecksum: true });

/** The IPv4 addresses the UDP and TCP checksums cover (their pseudo-header). */
export interface PseudoHeader {
  readonly src: number;
  readonly dst: number;
}
