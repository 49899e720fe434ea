import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/packet/addr.js';
import * as icmp from '../../src/packet/icmp.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import { IPFRAG_HIGH_THRESH, IPFRAG_TIME_NS, IpDefrag } from '../../src/net/ip-defrag.js';
import { ipDoFragment, ipOptionsFragment } from '../../src/net/ip-fragment.js';
import { ipOutput, routeOutput } from '../../src/net/ip-output.js';
import { DEFAULT_HEADROOM, Skb } from '../../src/net/skb.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { sameNodeTopology } from '../helpers/topology.js';

const SRC = parseIpv4('10.244.1.2');
const DST = parseIpv4('10.244.2.2');

/** A datagram of `payload` bytes (IPv4 header at skb.head), as a socket hands it to ip_output. */
function datagram(payload: Uint8Array, opts: { id?: number; options?: Uint8Array; dontFragment?: boolean } = {}): Skb {
  const options = opts.options ?? ipv4.NO_OPTIONS;
  const skb = Skb.alloc(ipv4.HEADER_LEN + options.length + payload.length);
  const hl = ipv4.emit(ipv4.ipv4Repr({ src: SRC, dst: DST, protocol: ipv4.PROTO_UDP, payloadLen: payload.length, id: opts.id ?? 0x1234, options, dontFragment: opts.dontFragment ?? false }), skb.buf, skb.head);
  skb.buf.set(payload, skb.head + hl);
  skb.networkOffset = skb.head;
  return skb;
}

function fragments(skb: Skb, mtu: number): Skb[] {
  const out: Skb[] = [];
  ipDoFragment(skb, mtu, (f) => out.push(f));
  return out;
}

const bytesOf = (skb: Skb) => Buffer.from(skb.buf.subarray(skb.head, skb.end));

function defragger() {
  const sched = new Scheduler();
  const expired: Buffer[] = [];
  const drops: string[] = [];
  const d = new IpDefrag(sched, (head) => expired.push(bytesOf(head)), (reason) => drops.push(reason));
  return { sched, d, expired, drops };
}

/** Feeds fragments in order and returns what came out (the reassembled datagrams). */
function feed(d: IpDefrag, frags: readonly Skb[]): Buffer[] {
  const whole: Buffer[] = [];
  for (const f of frags) {
    const r = d.defrag(f);
    if (r) whole.push(bytesOf(r));
  }
  return whole;
}

describe('ip_do_fragment', () => {
  it('cuts the mtu reference’s datagram as Linux does: 1444 bytes with MF, 76 at offset 1424, one ID, DF clear, valid checksums', () => {
    const frags = fragments(datagram(new Uint8Array(1480), { id: 0xb9e3 }), 1450);
    expect(frags.map((f) => [f.len, ipv4.fragmentOffset(f.buf, f.head), ipv4.isMoreFragments(f.buf, f.head), ipv4.id(f.buf, f.head), ipv4.isDontFragment(f.buf, f.head)])).toEqual([
      [1444, 0, true, 0xb9e3, false],
      [76, 1424, false, 0xb9e3, false],
    ]);
    for (const f of frags) expect(ipv4.hasValidChecksum(f.buf, f.head)).toBe(true);
    // Each fragment keeps the usual headroom: VXLAN can still push its headers without copying.
    for (const f of frags) expect(f.head).toBe(DEFAULT_HEADROOM);
  });

  it('refragmenting a fragment adds offsets and keeps MF on its last piece', () => {
    const [first] = fragments(datagram(new Uint8Array(3000)), 1500);
    const again = fragments(first!, 1000);
    expect(again.map((f) => [ipv4.fragmentOffset(f.buf, f.head), ipv4.isMoreFragments(f.buf, f.head)])).toEqual([[0, true], [976, true]]);
  });

  it('keeps copied options on every fragment and turns the others into NOPs after the first (ip_options_fragment)', () => {
    // Router Alert (copied) + Record Route with one slot (not copied) + End: 4 + 7 + 1 bytes.
    const options = Uint8Array.from([0x94, 4, 0, 0, 0x07, 7, 4, 0, 0, 0, 0, 0]);
    const frags = fragments(datagram(new Uint8Array(200), { options }), 100);
    const opts = (f: Skb) => [...f.buf.subarray(f.head + 20, f.head + 32)];
    expect(opts(frags[0]!)).toEqual([...options]);
    for (const f of frags.slice(1)) expect(opts(f)).toEqual([0x94, 4, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0]);
    const header = Buffer.alloc(32);
    header[0] = 0x48; // version 4, IHL 8 words
    header.set(options, 20);
    ipOptionsFragment(header);
    expect([...header.subarray(20)]).toEqual([0x94, 4, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0]);
  });
});

describe('ip_defrag', () => {
  it('property: any datagram cut for any MTU and delivered in any order comes back byte for byte', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9000 }),
        fc.integer({ min: 68, max: 9000 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 0xffff }),
        (len, mtu, withOptions, seed) => {
          const payload = Uint8Array.from({ length: len }, (_, i) => (i * 31 + seed) & 0xff);
          const options = withOptions ? Uint8Array.from([0x94, 4, 0, 0]) : ipv4.NO_OPTIONS;
          const original = datagram(payload, { options, id: seed });
          if (original.len <= mtu) return;
          const frags = fragments(original, mtu);
          for (const f of frags) expect(f.len).toBeLessThanOrEqual(mtu);
          // A deterministic shuffle from the seed: out-of-order arrival.
          const order = frags.map((f, i) => ({ f, k: (i * 7919 + seed) % 104729 })).sort((a, b) => a.k - b.k).map((x) => x.f);
          const { d } = defragger();
          const whole = feed(d, order);
          expect(whole).toHaveLength(1);
          expect(whole[0]!.equals(bytesOf(original))).toBe(true);
          expect(d.queueCount).toBe(0);
          expect(d.memory).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps queues apart by (source, destination, ID, protocol)', () => {
    const a = fragments(datagram(new Uint8Array(2000).fill(1), { id: 1 }), 1500);
    const b = fragments(datagram(new Uint8Array(2000).fill(2), { id: 2 }), 1500);
    const { d } = defragger();
    const whole = feed(d, [a[0]!, b[0]!, b[1]!, a[1]!]);
    expect(whole.map((w) => w[40])).toEqual([2, 1]);
  });

  it('drops an exact duplicate alone: the datagram still completes', () => {
    const frags = fragments(datagram(new Uint8Array(4000)), 1500);
    const { d, drops } = defragger();
    expect(feed(d, [frags[0]!, frags[0]!, frags[1]!, frags[2]!])).toHaveLength(1);
    expect(drops).toEqual(['ip: fragment: duplicate']);
  });

  it('discards the whole datagram when a fragment overlaps held bytes (RFC 5722); later pieces start afresh and never complete', () => {
    const original = datagram(new Uint8Array(4000));
    const frags = fragments(original, 1500);
    // A piece of 16 bytes at offset 1472: it straddles the end of the first fragment (1480).
    const overlapping = fragments(datagram(new Uint8Array(4000)), 1500)[0]!;
    const sliver = Skb.alloc(20 + 16);
    overlapping.buf.copy(sliver.buf, sliver.head, overlapping.head, overlapping.head + 20);
    ipv4.setFragmentFields(sliver.buf, sliver.head, 36, 1472, true, false);
    sliver.networkOffset = sliver.head;
    // Out of order, the first two fragments are two runs: the sliver straddles both, an overlap.
    const { d, drops } = defragger();
    expect(feed(d, [frags[1]!, frags[0]!, sliver, frags[2]!])).toEqual([]);
    expect(drops).toEqual(['ip: fragment overlaps another (RFC 5722): datagram discarded']);
    expect(d.queueCount).toBe(1); // the last fragment waits in a new queue, for nothing
    // In order they form one run, and bytes inside one run count as a duplicate (inet_frag_queue_insert).
    const inOrder = defragger();
    expect(feed(inOrder.d, [frags[0]!, frags[1]!, sliver, frags[2]!])).toEqual([bytesOf(original)]);
    expect(inOrder.drops).toEqual(['ip: fragment: duplicate']);
  });

  it('kills a queue told two different ends of the datagram', () => {
    const frags = fragments(datagram(new Uint8Array(3000)), 1500);
    const last = frags[2]!;
    const shorter = Skb.alloc(last.len - 8);
    last.buf.copy(shorter.buf, shorter.head, last.head, last.end - 8);
    ipv4.setFragmentFields(shorter.buf, shorter.head, last.len - 8, ipv4.fragmentOffset(last.buf, last.head), false, false);
    shorter.networkOffset = shorter.head;
    const { d, drops } = defragger();
    expect(feed(d, [last, shorter])).toEqual([]);
    expect(drops).toEqual(['ip: fragment: a second, different end of the datagram']);
    expect(d.queueCount).toBe(0);
  });

  it('gives up after ipfrag_time (30 s); the sender hears of it (the first fragment quoted) only if that fragment came', () => {
    const frags = fragments(datagram(new Uint8Array(3000), { id: 7 }), 1500);
    const { sched, d, expired, drops } = defragger();
    feed(d, [frags[0]!]);
    sched.run(IPFRAG_TIME_NS - 1);
    expect(expired).toEqual([]);
    sched.run(IPFRAG_TIME_NS);
    expect(expired).toEqual([bytesOf(frags[0]!)]);
    expect(drops).toEqual(['ip: fragment reassembly time exceeded (net.ipv4.ipfrag_time)']);
    expect([d.queueCount, d.memory]).toEqual([0, 0]);

    const other = defragger();
    feed(other.d, [frags[1]!]);
    other.sched.run(IPFRAG_TIME_NS);
    expect(other.expired).toEqual([]);
    expect(other.d.queueCount).toBe(0);
  });

  it('keeps memory bounded: above ipfrag_high_thresh new fragments are dropped', () => {
    const { d, drops } = defragger();
    let id = 0;
    while (d.memory <= IPFRAG_HIGH_THRESH) feed(d, [fragments(datagram(new Uint8Array(3000), { id: id++ }), 1500)[0]!]);
    const held = d.queueCount;
    feed(d, [fragments(datagram(new Uint8Array(3000), { id: id++ }), 1500)[0]!]);
    expect(d.queueCount).toBe(held);
    expect(drops.at(-1)).toBe('ip: fragment memory above net.ipv4.ipfrag_high_thresh');
  });

  it('sets DF on the reassembled datagram only when its largest fragment had DF (ip_frag_reasm)', () => {
    const frags = fragments(datagram(new Uint8Array(3000)), 1500);
    const first = frags[0]!;
    ipv4.setFragmentFields(first.buf, first.head, first.len, 0, true, true);
    const { d } = defragger();
    const [whole] = feed(d, frags);
    expect(ipv4.isDontFragment(whole!, 0)).toBe(true);
    expect(ipv4.hasValidChecksum(whole!, 0)).toBe(true);
  });
});

describe('reassembly in a netns', () => {
  it('a lone first fragment: after 30 s the receiver sends ICMP time exceeded, code 1, quoting it', () => {
    const t = sameNodeTopology();
    const [pa, pb] = t.pods;
    const dst = parseIpv4('10.244.1.3');
    const whole = Skb.alloc(20 + 3000);
    ipv4.emit(ipv4.ipv4Repr({ src: parseIpv4('10.244.1.2'), dst, protocol: ipv4.PROTO_UDP, payloadLen: 3000, id: 99 }), whole.buf, whole.head);
    const [first] = fragments(whole, 1500);
    ipOutput(pa!, first!, routeOutput(pa!, dst)!);
    t.sched.run(t.sched.nowNs + 29e9);
    expect(pb!.ipDefrag.queueCount).toBe(1);
    t.sched.run(t.sched.nowNs + 2e9);
    expect(pb!.ipDefrag.queueCount).toBe(0);
    const errs = t.tap.at('pa/eth0').filter((f) => f.dir === 'rx' && f.bytes[12] === 0x08 && ipv4.protocol(f.bytes, 14) === ipv4.PROTO_ICMP);
    expect(errs).toHaveLength(1);
    const e = errs[0]!.bytes;
    expect([icmp.type(e, 34), icmp.code(e, 34)]).toEqual([icmp.TYPE_TIME_EXCEEDED, icmp.FRAG_REASSEMBLY_TIME_EXCEEDED]);
    expect([ipv4.id(e, 42), ipv4.isMoreFragments(e, 42)]).toEqual([99, true]);
  });
});
