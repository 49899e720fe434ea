/**
 * parity --replay without a kernel: which frames a pod sent are injected (and why the rest are
 * not), and how a frame's answer, its ICMP error and its travel are recognised.
 */
import { describe, expect, it } from 'vitest';
import { parseIpv4, parseMac } from '../../src/packet/addr.js';
import * as arp from '../../src/packet/arp.js';
import * as ethernet from '../../src/packet/ethernet.js';
import * as icmp from '../../src/packet/icmp.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import { answers, carriedKeys, describeFrame, isErrorFor, replayability, travelKey } from '../../src/parity/replay-frames.js';
import { selectFrames, shiftPcapSeconds, type PodFrame } from '../../src/parity/replay.js';
import { readPcap } from '../../src/pcap/index.js';
import { icmpFrame, tcpFrame, udpFrame } from '../helpers/build.js';

const PA = parseMac('ca:eb:d2:a2:fc:0f');
const PB = parseMac('2e:ba:fb:3c:41:5d');

function arpFrame(op: number, sha: number, spa: string, tha: number, tpa: string): Buffer {
  const b = Buffer.alloc(ethernet.HEADER_LEN + arp.HEADER_LEN);
  ethernet.emit({ dst: op === arp.OP_REQUEST ? 0xffff_ffff_ffff : tha, src: sha, ethertype: ethernet.ETHERTYPE_ARP }, b, 0);
  arp.emit({ op, senderMac: sha, senderIp: parseIpv4(spa), targetMac: tha, targetIp: parseIpv4(tpa) }, b, ethernet.HEADER_LEN);
  return b;
}

const echo = (type: number, src: string, dst: string, seq: number, ipId = 7): Buffer =>
  icmpFrame({ src, dst, ip: { id: ipId }, eth: { src: type === icmp.TYPE_ECHO_REQUEST ? PA : PB, dst: type === icmp.TYPE_ECHO_REQUEST ? PB : PA }, icmp: { type, code: 0, rest: (0x6fdd << 16) | seq }, data: Buffer.alloc(56, 1) });

describe('replayability', () => {
  it('injects what the far end answers without state here: ARP requests, ICMP queries, UDP, a first SYN', () => {
    expect(replayability(arpFrame(arp.OP_REQUEST, PA, '10.244.1.2', 0, '10.244.1.3'))).toEqual({ replay: true, what: 'ARP who-has 10.244.1.3 tell 10.244.1.2' });
    expect(replayability(echo(icmp.TYPE_ECHO_REQUEST, '10.244.1.2', '10.244.1.3', 1)).replay).toBe(true);
    expect(replayability(udpFrame({ src: '10.244.1.2', dst: '10.96.0.10', srcPort: 40000, dstPort: 53, payload: Buffer.from('q') })).replay).toBe(true);
    expect(replayability(tcpFrame({ src: '10.244.1.2', dst: '10.96.0.10', tcp: { srcPort: 40000, dstPort: 80, flags: tcp.SYN, seq: 5 } }))).toEqual({ replay: true, what: '10.244.1.2.40000 > 10.96.0.10.80: Flags [S], ttl 64' });
  });

  it("leaves answers to the pod's own kernel, and says why a later TCP segment cannot be replayed", () => {
    const reply = replayability(arpFrame(arp.OP_REPLY, PA, '10.244.1.2', PB, '10.244.1.3'));
    expect(reply).toMatchObject({ replay: false, spoils: false });
    expect(replayability(echo(icmp.TYPE_ECHO_REPLY, '10.244.1.2', '10.244.1.3', 1))).toMatchObject({ replay: false, spoils: false });
    const ack = replayability(tcpFrame({ src: '10.244.1.2', dst: '10.96.0.10', tcp: { srcPort: 40000, dstPort: 80, flags: tcp.ACK } }));
    expect(ack).toMatchObject({ replay: false, spoils: true });
    expect(ack.replay === false && ack.reason).toContain('only a live stack holds');
    const synAck = replayability(tcpFrame({ src: '10.244.1.2', dst: '10.96.0.10', tcp: { srcPort: 80, dstPort: 40000, flags: tcp.SYN | tcp.ACK } }));
    expect(synAck.replay).toBe(false);
    const v6 = Buffer.alloc(60);
    v6.writeUInt16BE(ethernet.ETHERTYPE_IPV6, 12);
    expect(replayability(v6)).toMatchObject({ replay: false, reason: 'ethertype 0x86dd (only ARP and IPv4 are replayed)', spoils: true });
    expect(replayability(Buffer.alloc(5))).toMatchObject({ replay: false, spoils: true });
  });
});

describe('selectFrames', () => {
  const start = 1_000_000_000n;
  const f = (index: number, data: Buffer, t: bigint, tx = true): PodFrame => ({ index, data, timeNs: t, tx });
  const frames = [
    f(0, arpFrame(arp.OP_REQUEST, PA, '10.244.1.2', 0, '10.244.1.2'), 0n), // gratuitous ARP at setup: before the traffic
    f(1, arpFrame(arp.OP_REQUEST, PA, '10.244.1.2', 0, '10.244.1.3'), start),
    f(2, arpFrame(arp.OP_REQUEST, PA, '10.244.1.2', 0, '10.244.1.3'), start + 2000n, false), // the hairpin copy, received
    f(3, echo(icmp.TYPE_ECHO_REQUEST, '10.244.1.2', '10.244.1.3', 1), start + 4000n),
    f(4, tcpFrame({ src: '10.244.1.2', dst: '10.96.0.10', tcp: { srcPort: 40000, dstPort: 80, flags: tcp.ACK } }), start + 5000n),
    f(5, echo(icmp.TYPE_ECHO_REQUEST, '10.244.1.2', '10.244.1.3', 2), start + 1_000_000_000n),
  ];

  it('takes the frames the pod sent from the traffic start on, in order, with their offsets', () => {
    const s = selectFrames('pa/eth0', frames, start, { frames: 10, spanNs: 60_000_000_000n });
    expect(s.selected.map((x) => [x.index, x.offsetNs])).toEqual([[1, 0], [3, 4000], [5, 1_000_000_000]]);
    expect(s.skipped).toEqual([{ point: 'pa/eth0', index: 4, reason: expect.stringContaining('after the first SYN'), spoils: true }]);
  });

  it('is bounded in frames and in time; what is past the bound is skipped, saying so', () => {
    const byCount = selectFrames('pa/eth0', frames, start, { frames: 1, spanNs: 60_000_000_000n });
    expect(byCount.selected.map((x) => x.index)).toEqual([1]);
    expect(byCount.skipped.filter((x) => x.reason.startsWith('beyond the replay bound')).map((x) => x.index)).toEqual([3, 5]);
    const bySpan = selectFrames('pa/eth0', frames, start, { frames: 10, spanNs: 500_000_000n });
    expect(bySpan.selected.map((x) => x.index)).toEqual([1, 3]);
  });
});

describe('answers, ICMP errors and travel', () => {
  const req = echo(icmp.TYPE_ECHO_REQUEST, '10.244.1.2', '10.244.2.2', 1);
  it('an echo reply answers the request of its id and sequence only', () => {
    expect(answers(req, echo(icmp.TYPE_ECHO_REPLY, '10.244.2.2', '10.244.1.2', 1))).toBe(true);
    expect(answers(req, echo(icmp.TYPE_ECHO_REPLY, '10.244.2.2', '10.244.1.2', 2))).toBe(false);
    expect(answers(arpFrame(arp.OP_REQUEST, PA, '10.244.1.2', 0, '10.244.1.3'), arpFrame(arp.OP_REPLY, PB, '10.244.1.3', PA, '10.244.1.2'))).toBe(true);
    expect(answers(arpFrame(arp.OP_REQUEST, PA, '10.244.1.2', 0, '10.244.1.4'), arpFrame(arp.OP_REPLY, PB, '10.244.1.3', PA, '10.244.1.2'))).toBe(false);
  });

  it('a SYN is answered by the SYN-ACK or RST that acknowledges it', () => {
    const syn = tcpFrame({ src: '10.244.1.2', dst: '10.96.0.10', tcp: { srcPort: 40000, dstPort: 80, flags: tcp.SYN, seq: 0xffffffff } });
    expect(answers(syn, tcpFrame({ src: '10.96.0.10', dst: '10.244.1.2', tcp: { srcPort: 80, dstPort: 40000, flags: tcp.SYN | tcp.ACK, ack: 0 } }))).toBe(true);
    expect(answers(syn, tcpFrame({ src: '10.96.0.10', dst: '10.244.1.2', tcp: { srcPort: 80, dstPort: 40000, flags: tcp.RST | tcp.ACK, ack: 0 } }))).toBe(true);
    expect(answers(syn, tcpFrame({ src: '10.96.0.10', dst: '10.244.1.2', tcp: { srcPort: 80, dstPort: 40000, flags: tcp.SYN | tcp.ACK, ack: 5 } }))).toBe(false);
  });

  it('an ICMP error belongs to the datagram it quotes (addresses, ID, protocol)', () => {
    const quote = req.subarray(ethernet.HEADER_LEN, ethernet.HEADER_LEN + 28);
    const err = icmpFrame({ src: '10.244.1.1', dst: '10.244.1.2', icmp: { type: icmp.TYPE_TIME_EXCEEDED, code: 0, rest: 0 }, data: quote });
    expect(isErrorFor(req, err)).toBe(true);
    expect(isErrorFor(echo(icmp.TYPE_ECHO_REQUEST, '10.244.1.2', '10.244.2.2', 1, 8), err)).toBe(false);
    expect(describeFrame(err)).toBe('10.244.1.1 > 10.244.1.2: ICMP time exceeded in-transit, ttl 64');
  });

  it('a datagram is recognised forwarded (TTL and MACs changed) and inside VXLAN', () => {
    const fwd = Buffer.from(req);
    ipv4.setTtl(fwd, ethernet.HEADER_LEN, 63);
    ipv4.fixChecksum(fwd, ethernet.HEADER_LEN);
    expect(travelKey(fwd)).toBe(travelKey(req));
    const vx = udpFrame({ src: '192.168.1.10', dst: '192.168.1.11', srcPort: 40000, dstPort: 8472, payload: Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 1, 0]), fwd]) });
    expect(carriedKeys(vx)).toContain(travelKey(req));
    expect(describeFrame(Object.assign(Buffer.from(req), { [24]: req[24]! ^ 0xff }))).toContain('bad IPv4 header checksum');
  });
});

describe('shiftPcapSeconds', () => {
  it('moves every record by whole seconds and changes nothing else', () => {
    const file = Buffer.alloc(24 + 2 * (16 + 4));
    file.writeUInt32LE(0xa1b2c3d4, 0);
    file.writeUInt16LE(2, 4);
    file.writeUInt16LE(4, 6);
    file.writeUInt32LE(65535, 16);
    file.writeUInt32LE(1, 20);
    for (const [i, sec] of [[0, 100], [1, 101]] as const) {
      const at = 24 + i * 20;
      file.writeUInt32LE(sec, at);
      file.writeUInt32LE(999_999, at + 4);
      file.writeUInt32LE(4, at + 8);
      file.writeUInt32LE(4, at + 12);
    }
    const shifted = shiftPcapSeconds(file, -50);
    expect(readPcap(shifted).packets.map((p) => [p.timestampSec, p.timestampNsec])).toEqual([[50, 999_999_000], [51, 999_999_000]]);
    // Only the ts_sec fields differ.
    expect([...shifted].map((b, i) => (b === file[i] ? -1 : i)).filter((i) => i >= 0)).toEqual([24, 25, 26, 27, 44, 45, 46, 47].filter((i) => shifted[i] !== file[i]));
    expect(shifted.length).toBe(file.length);
  });
});
