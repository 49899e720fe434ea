import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeFrame, encodeFrame, layerOf, type Layer } from '../../src/packet/frame.js';
import { COMPUTE, KEEP_CHECKSUM } from '../../src/packet/emit-options.js';
import { kernelReferenceFrames } from '../helpers/frames.js';

const frames = kernelReferenceFrames();

/** A copy of the frame whose header bytes are overwritten, so only the Reprs can restore them. */
function blankHeaders(bytes: Buffer, layers: readonly Layer[]): Buffer {
  const out = Buffer.from(bytes);
  for (const l of layers) {
    if (l.kind !== 'payload' && l.kind !== 'padding' && l.kind !== 'malformed') out.fill(0xa5, l.offset, l.offset + l.length);
  }
  return out;
}

describe('frame', () => {
  it('decodes all 849 frames of the kernel references with no malformed layer', () => {
    expect(frames.length).toBe(849);
    const kinds = new Map<string, number>();
    for (const f of frames) {
      const layers = decodeFrame(f.bytes);
      const bad = layers.find((l) => l.kind === 'malformed');
      expect(bad, `${f.file}#${f.index + 1}`).toBeUndefined();
      const last = layers[layers.length - 1]!;
      expect(last.offset + last.length, `${f.file}#${f.index + 1} covers every byte`).toBe(f.bytes.length);
      for (const l of layers) kinds.set(l.kind, (kinds.get(l.kind) ?? 0) + 1);
    }
    // Every protocol of the journeys shows up, VXLAN with inner frames and DNS inside both.
    expect([...kinds.keys()].sort()).toEqual(['arp', 'dns', 'ethernet', 'icmp', 'ipv4', 'payload', 'tcp', 'udp', 'vxlan']);
    expect(kinds.get('vxlan')).toBe(141);
  });

  it.each([
    ['checksums computed', COMPUTE],
    ['checksums kept', KEEP_CHECKSUM],
  ])('re-emits every reference frame byte for byte from its layers (%s)', (_name, opts) => {
    // DNS included: our name compression lays messages out as dnsmasq and glibc did (all 308).
    for (const f of frames) {
      const layers = decodeFrame(f.bytes);
      const out = blankHeaders(f.bytes, layers);
      encodeFrame(layers, out, opts);
      expect(out, `${f.file}#${f.index + 1}`).toEqual(f.bytes);
    }
  });

  it('tells the inner TCP of a VXLAN frame from the outer UDP: clusterip-http on node 1 eth0', () => {
    const f = frames.find((x) => x.file === 'clusterip-http/kr-n1-eth0.pcap' && x.index === 2)!;
    const kinds = decodeFrame(f.bytes).map((l) => l.kind);
    expect(kinds).toEqual(['ethernet', 'ipv4', 'udp', 'vxlan', 'ethernet', 'ipv4', 'tcp']);
  });

  it('marks IPv4 fragments: the first carries the UDP header, the second only payload', () => {
    const mtu = frames.filter((x) => x.file === 'mtu/kr-pa-eth0.pcap').map((x) => decodeFrame(x.bytes));
    const fragmented = mtu.filter((ls) => layerOf(ls, 'ipv4')?.repr.moreFragments || (layerOf(ls, 'ipv4')?.repr.fragmentOffset ?? 0) > 0);
    expect(fragmented.map((ls) => ls.map((l) => l.kind).join('/'))).toEqual([
      'ethernet/ipv4/udp/payload',
      'ethernet/ipv4/payload',
    ]);
    expect(layerOf(fragmented[0]!, 'udp')?.inFirstFragment).toBe(true);
  });

  it('never throws on arbitrary bytes, and reports a malformed layer instead', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const layers = decodeFrame(bytes);
        for (const l of layers) expect(l.offset + l.length).toBeLessThanOrEqual(bytes.length);
      }),
    );
    // A real frame cut inside its TCP header: decoding goes as far as the bytes make sense.
    const syn = frames.find((x) => x.file === 'clusterip-http/kr-pa-eth0.pcap' && x.index === 3)!.bytes;
    const cut = decodeFrame(syn.subarray(0, 40));
    expect(cut.map((l) => l.kind)).toEqual(['ethernet', 'malformed']);
    expect(cut[1]).toMatchObject({ kind: 'malformed', error: { protocol: 'ipv4', field: 'total length' } });
  });
});
