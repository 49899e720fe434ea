import { describe, expect, it } from 'vitest';
import { annotate, fixedHeaderLen } from '../../src/packet/fields.js';
import { kernelReferenceFrames } from '../helpers/frames.js';

const frame = (file: string, index: number) => kernelReferenceFrames().find((f) => f.file === file && f.index === index)!.bytes;

describe('fields', () => {
  it('names every field of an IPv4 header with its offset, bits, raw bytes and meaning', () => {
    // clusterip-http, pod pa's first SYN: 10.244.1.2 → 10.96.0.100, DF, TTL 64, TCP.
    const b = frame('clusterip-http/kr-pa-eth0.pcap', 3);
    const fields = annotate('ipv4', b, 14);
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    expect(fields.map((f) => f.name)).toEqual([
      'vihl.version', 'vihl.ihl', 'tos.dscp', 'tos.ecn', 'totalLength', 'id',
      'frag.reserved', 'frag.df', 'frag.mf', 'frag.offset', 'ttl', 'protocol', 'checksum', 'src', 'dst',
    ]);
    expect(byName['vihl.ihl']).toMatchObject({ byteOffset: 14, bitOffset: 4, bitWidth: 4, value: 5, meaning: '20 bytes' });
    expect(byName['frag.df']).toMatchObject({ byteOffset: 20, byteLength: 1, bitOffset: 1, bitWidth: 1, value: 1, meaning: "1 = don't fragment" });
    expect(byName['frag.offset']).toMatchObject({ byteOffset: 20, byteLength: 2, bitOffset: 3, bitWidth: 13, value: 0 });
    expect(byName['ttl']).toMatchObject({ byteOffset: 22, value: 64, raw: '40' });
    expect(byName['protocol']).toMatchObject({ value: 6, meaning: 'TCP' });
    expect(byName['dst']).toMatchObject({ byteOffset: 30, byteLength: 4, raw: '0a600064', meaning: '10.96.0.100' });
  });

  it('reads TCP control bits and VXLAN flags where a teacher would point', () => {
    const syn = frame('clusterip-http/kr-pa-eth0.pcap', 3);
    const tcp = Object.fromEntries(annotate('tcp', syn, 34).map((f) => [f.name, f]));
    expect(tcp['ctl.syn']).toMatchObject({ byteOffset: 47, bitOffset: 6, value: 1, meaning: '1 = synchronize sequence numbers' });
    expect(tcp['ctl.ack']).toMatchObject({ value: 0 });
    expect(tcp['ctl.dataOffset']).toMatchObject({ byteOffset: 46, value: 10, meaning: '40 bytes' });
    expect(tcp['dstPort']).toMatchObject({ value: 80 });

    const encapsulated = frame('cross-node-ping/kr-n1-eth0.pcap', 2);
    const vx = Object.fromEntries(annotate('vxlan', encapsulated, 42).map((f) => [f.name, f]));
    expect(vx['flags.i']).toMatchObject({ byteOffset: 42, bitOffset: 4, value: 1, raw: '08', meaning: '1 = VNI valid' });
    expect(vx['vni']).toMatchObject({ byteOffset: 46, byteLength: 3, value: 1 });
  });

  it('declares the fixed header sizes of the wire formats', () => {
    expect(['ethernet', 'ieee8021q', 'arp', 'ipv4', 'icmp', 'udp', 'tcp', 'vxlan', 'dns'].map((k) => fixedHeaderLen(k as never))).toEqual([
      14, 4, 28, 20, 8, 8, 20, 8, 12,
    ]);
  });

  it('refuses a header cut short with a RangeError saying how many bytes were left', () => {
    expect(() => annotate('tcp', Buffer.alloc(30), 14)).toThrow('tcp: 20 bytes needed at byte 14, 16 left');
  });
});
