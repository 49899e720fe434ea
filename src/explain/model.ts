/**
 * What `podwire explain` says about one frame: its headers as layers, each a list of field rows
 * with where the field sits in the frame. The JSON output is these objects as they are, so the
 * property names here are the documented --json names (README "Explaining a packet").
 */

export interface FieldRow {
  /** Stable property path within the layer, e.g. `frag.df`, `options[0].mss`, `answers[1].ttl`. */
  readonly name: string;
  readonly label: string;
  /** Offset in the frame of the first byte the field touches (0 = the frame's first byte). */
  readonly offset: number;
  /** Bytes the field spans (a 1-bit flag spans the byte it sits in). */
  readonly length: number;
  /** First bit counted from the most significant bit of the first byte; 0 for whole bytes. */
  readonly bitOffset: number;
  /** Width in bits; 8 × length for whole-byte fields. */
  readonly bitWidth: number;
  /** The spanned bytes in hex. */
  readonly raw: string;
  readonly value: number | string;
  /** The value as a reader would say it: an address, a flag's meaning, a checksum's verdict. */
  readonly meaning: string;
}

export type ExplainedKind =
  | 'sll' | 'sll2' | 'ethernet' | 'ieee8021q' | 'arp' | 'ipv4' | 'icmp' | 'udp' | 'tcp' | 'vxlan' | 'dns'
  /** Application bytes after a transport header, or ICMP echo data. */
  | 'payload'
  /** Bytes after the IPv4 datagram or ARP message: the padding of a short Ethernet frame. */
  | 'padding'
  /** Bytes of a protocol podwire does not decode (an unknown EtherType or IP protocol, a later fragment). */
  | 'data'
  /** A header that does not parse: the bytes from there to the end of what encloses it. */
  | 'malformed'
  /** A link type podwire does not decode: the whole frame. */
  | 'unsupported';

export interface MalformedInfo {
  readonly protocol: string;
  readonly field: string;
  /** Offset in the frame of the offending byte. */
  readonly offset: number;
  readonly detail?: string;
}

export interface ExplainedLayer {
  readonly kind: ExplainedKind;
  /** How `--layer` names it: `ipv4:1` is the frame's first IPv4 header, `ipv4:2` the second. */
  readonly id: string;
  readonly name: string;
  /** 0 for the outermost frame; +1 inside a VXLAN tunnel and inside an ICMP error's quote. */
  readonly depth: number;
  readonly offset: number;
  readonly length: number;
  readonly fields: FieldRow[];
  /** What is wrong but did not stop decoding: a bad checksum, a reserved bit set. */
  readonly problems: string[];
  readonly malformed?: MalformedInfo;
}
