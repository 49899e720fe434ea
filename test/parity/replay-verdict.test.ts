/**
 * parity --replay's verdicts without a kernel: the reaction read from captures (answer, ICMP
 * error, how far the frame went, silent drop), the comparison of two reactions, and the pod's own
 * stack (answers both pods send, the RST a pod without the socket sends, differences).
 */
import { describe, expect, it } from 'vitest';
import { parseMac } from '../../src/packet/addr.js';
import * as ethernet from '../../src/packet/ethernet.js';
import * as icmp from '../../src/packet/icmp.js';
import * as tcp from '../../src/packet/tcp.js';
import { compareOwnStacks, compareReactions, describeReaction, formatVerdict, ownFrames, reactions, type CapFrame, type InjectPoint } from '../../src/parity/replay-verdict.js';
import { icmpFrame, tcpFrame } from '../helpers/build.js';

const PA = parseMac('ca:eb:d2:a2:fc:0f');
const GW = parseMac('7e:63:95:9f:6b:d6');
const at = (t: number, data: Buffer): CapFrame => ({ data, timeNs: BigInt(t) });
const echo = (type: number, src: string, dst: string, seq: number, from: number, ttl = 64): Buffer =>
  icmpFrame({ src, dst, ip: { id: 100 + seq, ttl }, eth: { src: from, dst: from === PA ? GW : PA }, icmp: { type, code: 0, rest: (0x6fdd << 16) | seq }, data: Buffer.alloc(56, 1) });

const req1 = echo(icmp.TYPE_ECHO_REQUEST, '10.244.1.2', '10.244.2.2', 1, PA);
const req2 = echo(icmp.TYPE_ECHO_REQUEST, '10.244.1.2', '10.244.2.2', 2, PA);
const rep2 = echo(icmp.TYPE_ECHO_REPLY, '10.244.2.2', '10.244.1.2', 2, GW, 62);
const timeExceeded = icmpFrame({ src: '10.244.1.1', dst: '10.244.1.2', eth: { src: GW, dst: PA }, icmp: { type: icmp.TYPE_TIME_EXCEEDED, code: 0, rest: 0 }, data: req1.subarray(ethernet.HEADER_LEN, ethernet.HEADER_LEN + 28) });

describe('reactions', () => {
  const point: InjectPoint = { point: 'pa/eth0', pod: 'default/pa', mac: PA, injected: [0, 2] };

  it('reads, per injected frame, its answer, its ICMP error and the interfaces it reached', () => {
    const captures = new Map([
      ['pa/eth0', [at(10, req1), at(20, timeExceeded), at(1000, req2), at(1300, rep2)]],
      ['n1/veth1', [at(11, req1), at(19, timeExceeded), at(1001, req2), at(1299, rep2)]],
      ['pc/eth0', [at(1100, req2)]],
    ]);
    const [r1, r2] = reactions(captures, point);
    expect(r1).toEqual({ error: '10.244.1.1 > 10.244.1.2: ICMP time exceeded in-transit, ttl 64', seenOn: ['n1/veth1'], lastSeen: 'n1/veth1' });
    expect(r2).toEqual({ reply: '10.244.2.2 > 10.244.1.2: ICMP echo reply id 28637 seq 2, ttl 62', seenOn: ['n1/veth1', 'pc/eth0'], lastSeen: 'pc/eth0' });
    expect(describeReaction(r1!)).toBe('ICMP error: 10.244.1.1 > 10.244.1.2: ICMP time exceeded in-transit, ttl 64');
  });

  it('a frame seen nowhere and not answered was dropped silently; one that went on without an answer says how far', () => {
    const both: InjectPoint = { ...point, injected: [0, 1] };
    const dropped = reactions(new Map([['pa/eth0', [at(10, req1), at(1000, req2)]]]), both);
    expect(dropped.map(describeReaction)).toEqual(['dropped silently (no answer, seen on no other interface)', 'dropped silently (no answer, seen on no other interface)']);
    const went = reactions(new Map([['pa/eth0', [at(10, req1), at(1000, req2)]], ['n1/cni0', [at(12, req1)]], ['n1/veth1', [at(11, req1)]]]), both);
    expect(describeReaction(went[0]!)).toBe('no answer; last seen on n1/cni0 (seen on 2 other interfaces)');
  });

  it("an answer is the pod's only when it comes after the frame and before the same question is asked again", () => {
    // The same request injected twice (a retransmission): the one reply answers the second.
    const p2: InjectPoint = { ...point, injected: [0, 1] };
    const [a, b] = reactions(new Map([['pa/eth0', [at(10, req2), at(1000, req2), at(1300, rep2)]]]), p2);
    expect(a!.reply).toBeUndefined();
    expect(b!.reply).toContain('echo reply');
  });
});

describe('compareReactions', () => {
  it('agree when answer, error and the interfaces reached agree; otherwise name each difference', () => {
    const k = { error: 'E', seenOn: ['n1/veth1'] };
    const p = { reply: 'R', seenOn: ['n1/veth1', 'n2/eth0'] };
    expect(compareReactions(k, k)).toEqual({ same: true, differences: [] });
    expect(compareReactions(k, p).differences).toEqual(['answer: kernel none, podwire R', 'ICMP error: kernel E, podwire none', 'seen only in podwire on n2/eth0']);
    const line = formatVerdict({ point: 'pa/eth0', frame: 6, what: 'echo', kernel: k, podwire: p, same: false, differences: compareReactions(k, p).differences });
    expect(line).toMatch(/^pa\/eth0 #6 echo: kernel ICMP error: E; podwire reply: R — DIFFER \(answer: kernel none/);
  });
});

describe("the injecting pod's own stack", () => {
  const syn = tcpFrame({ src: '10.244.1.2', dst: '10.96.0.10', eth: { src: PA }, tcp: { srcPort: 40000, dstPort: 80, flags: tcp.SYN, seq: 1 } });
  const rst = tcpFrame({ src: '10.244.1.2', dst: '10.96.0.10', eth: { src: PA }, tcp: { srcPort: 40000, dstPort: 80, flags: tcp.RST, seq: 2 } });
  const echoReply = echo(icmp.TYPE_ECHO_REPLY, '10.244.1.2', '10.244.1.3', 1, PA);

  it('own frames are the pod-sourced ones that were neither injected nor a copy of one', () => {
    const frames = [at(1, syn), at(2, syn), at(3, rst)];
    expect(ownFrames(frames, { point: 'pa/eth0', pod: 'pa', mac: PA, injected: [0] }, 0n).map((f) => f.data)).toEqual([rst]);
  });

  it('a RST for an injected SYN is explained (no socket); answers both sent are alike; the rest are differences', () => {
    const o = compareOwnStacks({ frames: [at(3, rst), at(4, echoReply)], injectedFrames: [syn] }, { frames: [at(4, echoReply)] }, 'pa');
    expect(o.explained).toEqual([expect.stringMatching(/^pa's own kernel: 10.244.1.2.40000 > 10.96.0.10.80: Flags \[R\].*no socket for the injected SYN/)]);
    expect(o.alike).toHaveLength(1);
    expect(o.differences).toEqual([]);
    const d = compareOwnStacks({ frames: [at(3, rst)], injectedFrames: [] }, { frames: [at(4, echoReply)] }, 'pa');
    expect(d.differences).toEqual([
      "pa's own kernel sent 10.244.1.2.40000 > 10.96.0.10.80: Flags [R], ttl 64; podwire's pa did not",
      "podwire's pa sent 10.244.1.2 > 10.244.1.3: ICMP echo reply id 28637 seq 1, ttl 64; pa's own kernel did not",
    ]);
  });
});
