import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstDifference, formatDifference } from '../../src/explain/field-diff.js';
import { parseIpv4 } from '../../src/packet/addr.js';
import { decodeFrame, encodeFrame, layerOf, type Layer } from '../../src/packet/frame.js';
import * as tcp from '../../src/packet/tcp.js';
import { icmpFrame, tcpFrame, udpFrame } from '../helpers/build.js';
import { KERNEL_DIR, readClassicPcapFrames } from '../helpers/frames.js';

/** The first frame of a kernel reference capture that `pick` accepts. */
function kernelFrame(file: string, pick: (layers: Layer[]) => boolean): Buffer {
  const f = readClassicPcapFrames(join(KERNEL_DIR, file)).find((b) => pick(decodeFrame(b)));
  if (!f) throw new Error(`${file}: no such frame`);
  return f;
}

/** `frame` with its headers changed by `change` and written back, checksums computed — as a stack would send it. */
function reencoded(frame: Uint8Array, change: (layers: Layer[]) => Layer[]): Buffer {
  const b = Buffer.from(frame);
  encodeFrame(change(decodeFrame(b)), b);
  return b;
}

const ping = () => icmpFrame({ src: '10.244.1.2', dst: '10.244.2.2', icmp: { type: 8, code: 0, rest: 0x00010001 }, data: new Uint8Array(56).fill(7) });
const msg = (g: Uint8Array, n: Uint8Array) => {
  const d = firstDifference(g, n);
  return d && formatDifference(d);
};

describe('firstDifference', () => {
  it('is undefined for equal frames', () => {
    expect(firstDifference(ping(), ping())).toBeUndefined();
  });

  it('names a TTL change, not the header checksum it drags along', () => {
    const now = reencoded(ping(), (ls) => ls.map((l) => (l.kind === 'ipv4' ? { ...l, repr: { ...l.repr, ttl: 63 } } : l)));
    expect(now[22]).toBe(63);
    const d = firstDifference(ping(), now);
    expect(d).toMatchObject({ kind: 'field', header: 'IPv4', field: 'Time to live', golden: '64', now: '63', byteOffset: 22 });
    expect(msg(ping(), now)).toBe('IPv4 Time to live: golden 64, now 63');
  });

  it('reports a checksum when it is all that differs', () => {
    const now = ping();
    now[24]! ^= 0xff;
    expect(msg(ping(), now)).toMatch(/^IPv4 Header checksum: golden 0x[0-9a-f]{4}, now 0x[0-9a-f]{4}$/);
  });

  it('names the DF flag with its meaning', () => {
    const g = udpFrame({ src: '10.244.1.2', dst: '10.244.1.3', srcPort: 40000, dstPort: 53, payload: new Uint8Array(12) });
    const now = reencoded(g, (ls) => ls.map((l) => (l.kind === 'ipv4' ? { ...l, repr: { ...l.repr, dontFragment: !l.repr.dontFragment } } : l)));
    const d = firstDifference(g, now)!;
    expect(d.header).toBe('IPv4');
    expect(d.field).toBe("Don't fragment");
    expect(d.byteOffset).toBe(20);
    expect([d.golden, d.now].sort()).toEqual(["0 = may fragment", "1 = don't fragment"]);
  });

  // A VXLAN frame from the kernel's own capture: n1's eth0 in clusterip-http carries the DNATed SYN.
  const vxlanSyn = () =>
    kernelFrame('clusterip-http/kr-n1-eth0.pcap', (ls) => ls.some((l) => l.kind === 'vxlan') && ls.some((l) => l.kind === 'tcp' && (l.repr.flags & tcp.SYN) !== 0 && l.repr.options.length > 0));

  it('names the VXLAN network identifier', () => {
    const g = vxlanSyn();
    const now = reencoded(g, (ls) => ls.map((l) => (l.kind === 'vxlan' ? { ...l, repr: { ...l.repr, vni: 2 } } : l)));
    expect(msg(g, now)).toBe('VXLAN VXLAN network identifier: golden 1, now 2');
  });

  it('names the inner IPv4 destination after a different DNAT choice (past the outer UDP checksum it changes)', () => {
    const g = vxlanSyn();
    const inner = decodeFrame(g).filter((l) => l.kind === 'ipv4')[1];
    if (inner?.kind !== 'ipv4') throw new Error('no inner IPv4');
    const other = parseIpv4('10.244.2.99');
    const now = reencoded(g, (ls) => ls.map((l) => (l === ls.filter((x) => x.kind === 'ipv4')[1] && l.kind === 'ipv4' ? { ...l, repr: { ...l.repr, dst: other } } : l)));
    const d = firstDifference(g, now)!;
    expect(d.header).toBe('inner IPv4');
    expect(d.field).toBe('Destination address');
    expect(d.now).toBe('10.244.2.99');
    expect(d.golden).toMatch(/^10\.244\.\d+\.\d+$/);
    expect(d.byteOffset).toBe(inner.offset + 16);
  });

  it('counts a TCP option byte from the start of the options', () => {
    const g = vxlanSyn();
    const t = decodeFrame(g).filter((l) => l.kind === 'tcp')[0]!;
    const now = Buffer.from(g);
    now[t.offset + 20 + 3]! ^= 0x01; // MSS's low byte (kind 2, len 4, value)
    const d = firstDifference(g, now)!;
    expect(d).toMatchObject({ header: 'inner TCP options', field: 'byte 3', byteOffset: t.offset + 23 });
    expect(formatDifference(d)).toBe(`inner TCP options byte 3: golden 0x${g[t.offset + 23]!.toString(16).padStart(2, '0')}, now 0x${now[t.offset + 23]!.toString(16).padStart(2, '0')}`);
  });

  it('counts payload bytes from the start of the payload', () => {
    const g = tcpFrame({ src: '10.244.1.2', dst: '10.244.1.3', tcp: { srcPort: 40000, dstPort: 80 }, payload: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n') });
    const now = Buffer.from(g);
    now[14 + 20 + 20 + 22]! = 0x79; // Host: x → Host: y
    expect(msg(g, now)).toBe('TCP payload byte 22: golden 0x78, now 0x79');
  });

  it('says the frame length, and which header says so first', () => {
    const longer = icmpFrame({ src: '10.244.1.2', dst: '10.244.2.2', icmp: { type: 8, code: 0, rest: 0x00010001 }, data: new Uint8Array(60).fill(7) });
    const d = firstDifference(ping(), longer)!;
    expect(d).toMatchObject({ kind: 'length', header: 'frame', field: 'length', golden: '98', now: '102' });
    expect(formatDifference(d)).toBe('frame length: golden 98, now 102 (first difference: IPv4 Total length: golden 84 bytes, now 88 bytes)');
    // Bytes only added at the end (Ethernet padding): the length is all there is to say.
    const padded = Buffer.concat([ping(), Buffer.alloc(4)]);
    expect(msg(ping(), padded)).toBe('frame length: golden 98, now 102');
  });

  it('a header the codecs read on one side only: golden has VXLAN, now undecodable bytes', () => {
    const g = vxlanSyn();
    const v = layerOf(decodeFrame(g), 'vxlan')!;
    const now = Buffer.from(g);
    now[v.offset]! &= ~0x08; // the I flag: without it Linux's vxlan_rcv drops the packet
    const d = firstDifference(g, now)!;
    expect(d).toMatchObject({ kind: 'layer', golden: 'VXLAN', byteOffset: v.offset });
    expect(formatDifference(d)).toBe(`golden has VXLAN, now undecodable bytes (vxlan: malformed flags at byte ${v.offset}: I flag (VNI valid) not set)`);
  });

});
