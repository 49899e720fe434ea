/**
 * Damaged frames inside a readable capture: a truncated frame and a garbage frame decode as far as
 * their bytes allow, end in a malformed layer that says what and where, and the next packet
 * decodes in full. And no bytes at all make dissectFrame throw or point outside the frame.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { dissectFrame } from '../../src/explain/anatomy.js';
import { explainFile } from '../../src/explain/explain-file.js';
import type { ExplainedLayer } from '../../src/explain/model.js';
import { readCapture } from '../../src/pcap/index.js';
import { writeClassicPcap } from '../helpers/pcap-file.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-explain-rb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const framesOf = (file: string) => readCapture(readFileSync(file)).packets.map((p) => new Uint8Array(p.data));
const frames = framesOf('fixtures/kernel/clusterip-http/kr-n1-eth0.pcap');
/** For the fuzzing: DNS in VXLAN and an ICMP error with its quote too. */
const fuzzFrames = [...frames, ...framesOf('fixtures/kernel/dns/kr-n1-eth0.pcap'), ...framesOf('fixtures/kernel/no-endpoints/kr-pa-eth0.pcap')];
/** The HTTP GET inside VXLAN: outer Ethernet/IPv4/UDP/VXLAN, inner Ethernet/IPv4/TCP/payload. */
const vxlanGet = frames.find((f) => f.length > 150 && f.length < 200)!;

const kinds = (ls: readonly ExplainedLayer[]) => ls.map((l) => `${l.kind}@${l.depth}`);

function inBounds(frame: Uint8Array, layers: readonly ExplainedLayer[]): void {
  for (const l of layers) {
    expect(l.offset, l.id).toBeGreaterThanOrEqual(0);
    expect(l.offset + l.length, l.id).toBeLessThanOrEqual(frame.length);
    for (const f of l.fields) {
      expect(f.offset, `${l.id} ${f.name}`).toBeGreaterThanOrEqual(0);
      expect(f.offset + f.length, `${l.id} ${f.name}`).toBeLessThanOrEqual(frame.length);
      expect(f.raw.length, `${l.id} ${f.name}`).toBe(f.length * 2);
    }
  }
}

describe('damaged frames', () => {
  it('decodes a VXLAN frame into nested layers', () => {
    expect(kinds(dissectFrame(vxlanGet, 1))).toEqual(['ethernet@0', 'ipv4@0', 'udp@0', 'vxlan@0', 'ethernet@1', 'ipv4@1', 'tcp@1', 'payload@1']);
  });

  it('a frame cut inside the inner IPv4 header: the outer headers, the inner Ethernet, then a malformed IPv4 with the fields that are there', () => {
    const cut = vxlanGet.subarray(0, 74); // 10 bytes of the inner IPv4 header (it starts at 64)
    const layers = dissectFrame(cut, 1);
    // The outer IPv4 total length runs past the cut, so the outer IPv4 header is what is malformed.
    expect(kinds(layers)).toEqual(['ethernet@0', 'malformed@0']);
    const bad = layers[1]!;
    expect(bad.malformed).toEqual({ protocol: 'ipv4', field: 'total length', offset: 16, detail: '177 bytes, 60 left' });
    expect(bad.fields.map((f) => f.name)).toContain('ttl');
    expect(bad.problems[0]).toMatch(/^ipv4: malformed total length at byte 16/);
    inBounds(cut, layers);
  });

  it('a bad inner header inside a good tunnel: outer layers intact, the inner one malformed', () => {
    const f = new Uint8Array(vxlanGet);
    f[64] = 0x65; // inner IPv4 version 6
    const layers = dissectFrame(f, 1);
    expect(kinds(layers)).toEqual(['ethernet@0', 'ipv4@0', 'udp@0', 'vxlan@0', 'ethernet@1', 'malformed@1']);
    expect(layers[5]!.malformed).toMatchObject({ protocol: 'ipv4', field: 'version', offset: 64 });
    expect(layers[5]!.fields.find((x) => x.name === 'vihl.version')?.value).toBe(6);
    // The outer UDP checksum covers the changed byte: it is reported, not fatal.
    expect(layers[2]!.problems.join()).toMatch(/UDP checksum 0x[0-9a-f]{4} is incorrect/);
  });

  it('in a capture: a truncated frame and a garbage frame are shown malformed and the next packet decodes', () => {
    const garbage = Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff);
    garbage[12] = 0x08;
    garbage[13] = 0x00;
    const file = join(dir, 'mixed.pcap');
    writeClassicPcap(file, [vxlanGet.subarray(0, 45), garbage, vxlanGet]);
    let text = '';
    explainFile(file, {}, (s) => (text += s));
    const packets = text.split(/\n(?=Frame \d+:)/);
    expect(packets).toHaveLength(3);
    expect(packets[0]).toMatch(/\[!\] Malformed IPV4 {2}bytes 14–44 \(31\)/);
    expect(packets[0]).toMatch(/! ipv4: malformed total length at byte 16: 177 bytes, 31 left/);
    expect(packets[1]).toMatch(/\[!\] Malformed IPV4/);
    expect(packets[2]).toMatch(/\[t\] TCP 40812 → 8080/);
    expect(packets[2]).toMatch(/HTTP request line +GET \/ HTTP\/1\.1/);
    let json = '';
    explainFile(file, { json: true }, (s) => (json += s));
    const doc = JSON.parse(json) as { packets: { layers: ExplainedLayer[] }[] };
    expect(doc.packets.map((p) => p.layers.at(-1)!.kind)).toEqual(['malformed', 'malformed', 'payload']);
  });

  it('an unknown EtherType, link type, cooked and raw-IP captures', () => {
    const f = new Uint8Array(vxlanGet);
    f[12] = 0x86;
    f[13] = 0xdd;
    expect(dissectFrame(f, 1).map((l) => l.name)).toEqual(['Ethernet II', 'Data (EtherType 0x86dd IPv6, not decoded)']);
    const other = dissectFrame(f, 105);
    expect(other.map((l) => l.kind)).toEqual(['unsupported']);
    expect(other[0]!.problems).toEqual(['unsupported link type 105: the frame is shown as bytes']);
    // The outer IPv4 packet on its own: raw IP, and behind a Linux cooked header (v1 and v2).
    const ip = vxlanGet.subarray(14);
    const inner = ['ipv4@0', 'udp@0', 'vxlan@0', 'ethernet@1', 'ipv4@1', 'tcp@1', 'payload@1'];
    expect(kinds(dissectFrame(ip, 101))).toEqual(inner);
    const sll = new Uint8Array(16 + ip.length);
    sll.set([0, 4, 0, 1, 0, 6, 0x3e, 0x23, 0x87, 0x15, 0x35, 0x5c, 0, 0, 0x08, 0x00]);
    sll.set(ip, 16);
    const cooked = dissectFrame(sll, 113);
    expect(kinds(cooked)).toEqual(['sll@0', ...inner]);
    expect(cooked[0]!.fields.map((x) => `${x.name}=${x.meaning}`)).toEqual([
      'packetType=sent by us', 'arphrd=Ethernet', 'addressLength=6', 'address=3e:23:87:15:35:5c (6 of 8 bytes used)', 'protocol=IPv4',
    ]);
    const sll2 = new Uint8Array(20 + ip.length);
    sll2.set([0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 0x3e, 0x23, 0x87, 0x15, 0x35, 0x5c, 0, 0]);
    sll2.set(ip, 20);
    expect(kinds(dissectFrame(sll2, 276))).toEqual(['sll2@0', ...inner]);
  });
});

describe('dissectFrame never throws', () => {
  const linkTypes = fc.constantFrom(1, 101, 113, 228, 276, 0, 105);
  it('on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), linkTypes, (bytes, lt) => {
        inBounds(bytes, dissectFrame(bytes, lt));
      }),
      { numRuns: 2000 },
    );
  });

  it('on real frames with bytes changed and cut', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...fuzzFrames),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        (frame, edits, cutAt) => {
          const f = new Uint8Array(frame);
          for (const [at, v] of edits) f[at % f.length] = v;
          const cut = f.subarray(0, cutAt % (f.length + 1));
          inBounds(cut, dissectFrame(cut, 1));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
