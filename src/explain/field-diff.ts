/**
 * The first difference between two frames, said as a reader of a dissection would say it:
 * `IPv4 Time to live: golden 63, now 64`, `inner IPv4 Destination address: golden 10.244.2.2,
 * now 10.244.2.3`, `TCP options byte 3: golden 0x02, now 0x03`, `golden has VXLAN, now UDP
 * payload`. Both frames are decoded with podwire's codecs (decodeFrame) and their layers walked in
 * parallel; a fixed header is compared field by field (fields.ts `annotate`), the bytes no fixed
 * field covers (IPv4 and TCP options, the rest of a DNS message, payload, padding) byte by byte.
 *
 * Checksums are derived: a changed TTL changes the IPv4 header checksum, a DNATed inner address
 * changes the outer UDP checksum, which sits on the wire before the inner header. So a checksum
 * field is passed over while looking for the first difference, and is reported only when nothing
 * else in the frame differs (then the checksum itself is what is wrong).
 */
import { decodeFrame, type Layer } from '../packet/frame.js';
import { annotate, type HeaderKind } from '../packet/fields.js';

export interface FrameDifference {
  /**
   * `field`: a header field or a byte differs (`header` `field`: golden …, now …);
   * `layer`: the frames have different headers at the same depth (golden has X, now Y);
   * `length`: the frames' lengths differ (`detail`: the first field that differs besides).
   */
  readonly kind: 'field' | 'layer' | 'length';
  /** `IPv4`, `inner IPv4` (inside VXLAN), `TCP options`, `UDP payload`, `frame`. */
  readonly header: string;
  /** The field's label (`Time to live`), `byte N` for bytes no field names, `length`. */
  readonly field: string;
  readonly golden: string;
  readonly now: string;
  /** Offset in the now frame of the first differing byte (for `length`: the shorter frame's length). */
  readonly byteOffset: number;
  readonly detail?: FrameDifference;
}

/** One line: `IPv4 Time to live: golden 63, now 64`. */
export function formatDifference(d: FrameDifference): string {
  const base = d.kind === 'layer' ? `golden has ${d.golden}, now ${d.now}` : `${d.header} ${d.field}: golden ${d.golden}, now ${d.now}`;
  return d.detail ? `${base} (first difference: ${formatDifference(d.detail)})` : base;
}

/** Undefined when the frames are byte-identical; else the first difference, as described above. */
export function firstDifference(golden: Uint8Array, now: Uint8Array): FrameDifference | undefined {
  if (bytesEqual(golden, now)) return undefined;
  // A tampered or broken checksum must not turn a header into a `malformed` layer: decode as
  // Wireshark does by default, without verifying, and compare the checksum as a field.
  const g = decodeFrame(golden, 0, golden.length, { verifyChecksums: false });
  const n = decodeFrame(now, 0, now.length, { verifyChecksums: false });
  const walk = new PairWalk(golden, now, g, n);
  const first = walk.first();
  if (golden.length !== now.length) {
    const len: FrameDifference = {
      kind: 'length', header: 'frame', field: 'length',
      golden: String(golden.length), now: String(now.length), byteOffset: Math.min(golden.length, now.length),
    };
    // "frame length" alone would hide which header grew; a difference that is only the extra
    // bytes themselves says nothing more than the length.
    return first && first.byteOffset < len.byteOffset ? { ...len, detail: first } : len;
  }
  // Equal lengths and unequal bytes: the walk covers every byte, so it always finds one.
  return first ?? rawByte(golden, now, firstDifferingByte(golden, now), 'frame');
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** Index of the first byte that differs in the common length, or -1. */
function firstDifferingByte(a: Uint8Array, b: Uint8Array, from = 0, to = Math.min(a.length, b.length)): number {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const hex2 = (v: number | undefined): string => (v === undefined ? 'none' : `0x${v.toString(16).padStart(2, '0')}`);

function rawByte(g: Uint8Array, n: Uint8Array, at: number, header: string): FrameDifference {
  return { kind: 'field', header, field: `byte ${at}`, golden: hex2(g[at]), now: hex2(n[at]), byteOffset: at };
}

const HEADER_NAMES: Readonly<Record<Layer['kind'], string>> = {
  ethernet: 'Ethernet', arp: 'ARP', ipv4: 'IPv4', icmp: 'ICMP', udp: 'UDP', tcp: 'TCP', vxlan: 'VXLAN', dns: 'DNS',
  payload: 'payload', padding: 'padding', malformed: 'undecodable bytes',
};

/** The name a reader gives layer `i`: `TCP`, `inner IPv4` after a VXLAN header, `UDP payload`, `Ethernet padding`. */
function layerName(layers: readonly Layer[], i: number): string {
  const l = layers[i];
  if (!l) return 'nothing';
  if (l.kind === 'malformed') return `undecodable bytes (${l.error.message})`;
  const inner = layers.slice(0, i).some((x) => x.kind === 'vxlan') && l.kind !== 'vxlan' ? 'inner ' : '';
  if (l.kind === 'payload' || l.kind === 'padding') {
    const before = layers[i - 1];
    const owner = l.kind === 'padding' ? 'Ethernet' : before ? HEADER_NAMES[before.kind] : 'frame';
    return `${inner}${owner} ${l.kind}`;
  }
  return `${inner}${HEADER_NAMES[l.kind]}`;
}

const FIXED: Partial<Record<Layer['kind'], HeaderKind>> = {
  ethernet: 'ethernet', arp: 'arp', ipv4: 'ipv4', icmp: 'icmp', udp: 'udp', tcp: 'tcp', vxlan: 'vxlan', dns: 'dns',
};

/** Bytes after the fixed header that a layer still covers, and what to call them. */
const TAIL_NAMES: Partial<Record<Layer['kind'], string>> = { ipv4: 'options', tcp: 'options', dns: 'message', arp: 'tail' };

/** Walks two frames' layers side by side; `first()` is the first non-checksum difference, else the first checksum one. */
class PairWalk {
  private checksum: FrameDifference | undefined;

  constructor(
    private readonly gb: Uint8Array,
    private readonly nb: Uint8Array,
    private readonly gl: readonly Layer[],
    private readonly nl: readonly Layer[],
  ) {}

  first(): FrameDifference | undefined {
    const count = Math.max(this.gl.length, this.nl.length);
    for (let i = 0; i < count; i++) {
      const g = this.gl[i];
      const n = this.nl[i];
      const d = g && n && g.kind === n.kind
        ? this.layer(g, n, layerName(this.gl, i))
        : { kind: 'layer' as const, header: '', field: 'header', golden: layerName(this.gl, i), now: layerName(this.nl, i), byteOffset: Math.min(g?.offset ?? Infinity, n?.offset ?? Infinity) };
      if (d) return d;
    }
    return this.checksum;
  }

  private layer(g: Layer, n: Layer, name: string): FrameDifference | undefined {
    const fixed = FIXED[g.kind];
    if (!fixed) return this.bytes(g, n, name, 0);
    const header = this.fields(fixed, g.offset, n.offset, name);
    if (header.diff) return header.diff;
    let covered = header.len;
    if (g.kind === 'ethernet' && g.length > covered) {
      // An 802.1Q tag: its TPID reads as the Ethernet "EtherType"; the TCI and the real
      // EtherType follow it (IEEE 802.1Q).
      const tag = this.fields('ieee8021q', g.offset + covered, n.offset + covered, `${name} 802.1Q`);
      if (tag.diff) return tag.diff;
      covered += tag.len;
    }
    if (g.length > covered || n.length > covered) {
      const tail = TAIL_NAMES[g.kind];
      // A DNS message's bytes are numbered from its start, as its compression pointers count.
      return this.bytes(g, n, tail ? `${name} ${tail}` : name, covered, g.kind === 'dns' ? 0 : covered);
    }
    return undefined;
  }

  /** Compares the fixed header `kind` field by field: the first non-checksum difference, or the header's length. */
  private fields(kind: HeaderKind, gOff: number, nOff: number, name: string): { diff?: FrameDifference; len: number } {
    let ga, na;
    try {
      ga = annotate(kind, this.gb, gOff);
      na = annotate(kind, this.nb, nOff);
    } catch {
      return { len: 0 }; // fewer bytes than the fixed header (the codecs already said so): compare bytes
    }
    for (let k = 0; k < ga.length; k++) {
      const gf = ga[k]!;
      const nf = na[k]!;
      if (gf.value === nf.value) continue;
      const diff: FrameDifference = { kind: 'field', header: name, field: gf.label, golden: gf.meaning, now: nf.meaning, byteOffset: nf.byteOffset };
      if (gf.name !== 'checksum') return { diff, len: 0 };
      this.checksum ??= diff;
    }
    const last = ga[ga.length - 1];
    return { len: last ? last.byteOffset + last.byteLength - gOff : 0 };
  }

  /** The first differing byte of the two layers from `from` on, numbered from `base`; else a length difference. */
  private bytes(g: Layer, n: Layer, name: string, from: number, base = from): FrameDifference | undefined {
    const common = Math.min(g.length, n.length);
    for (let k = from; k < common; k++) {
      const gv = this.gb[g.offset + k];
      const nv = this.nb[n.offset + k];
      if (gv !== nv) return { kind: 'field', header: name, field: `byte ${k - base}`, golden: hex2(gv), now: hex2(nv), byteOffset: n.offset + k };
    }
    if (g.length !== n.length) {
      return { kind: 'field', header: name, field: 'length', golden: String(g.length - base), now: String(n.length - base), byteOffset: n.offset + common };
    }
    return undefined;
  }
}
