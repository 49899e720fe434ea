/**
 * The signatures reproduce fixtures/kernel/<scenario>/signatures.txt exactly, for every scenario,
 * from the kr-*.pcap files alone; and the rules that decide a line are pinned on frames built here.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readCaptureFile } from '../../src/pcap/index.js';
import { formatSignaturesText, numberLines, signatures, Signer, type SignaturePacket } from '../../src/compare/signature.js';
import { ethernet, icmp, ipv4, parseIpv4, parseMac, tcp } from '../../src/packet/index.js';
import { KERNEL_DIR } from '../helpers/frames.js';

const SCENARIOS = readdirSync(KERNEL_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

function captureFiles(scenario: string): string[] {
  return readdirSync(join(KERNEL_DIR, scenario))
    .filter((n) => n.startsWith('kr-') && n.endsWith('.pcap'))
    .sort();
}

function generated(scenario: string): string {
  const files = captureFiles(scenario).map((name) => ({
    name,
    lines: signatures(readCaptureFile(join(KERNEL_DIR, scenario, name)).packets),
  }));
  return formatSignaturesText(scenario, files);
}

describe('kernel reference signatures', () => {
  test('there are eight scenarios of seventeen capture files each', () => {
    expect(SCENARIOS).toHaveLength(8);
    for (const s of SCENARIOS) expect(captureFiles(s)).toHaveLength(17);
  });

  test.each(SCENARIOS)('%s: every line of signatures.txt, file by file', (scenario) => {
    const expected = readFileSync(join(KERNEL_DIR, scenario, 'signatures.txt'), 'utf8');
    const sections = new Map<string, string[]>();
    let current: string[] | undefined;
    for (const line of expected.split('\n')) {
      const head = /^## (\S+) \(\d+ packets\)$/.exec(line);
      if (head) sections.set(head[1]!, (current = []));
      else if (current && line !== '') current.push(line);
    }
    expect([...sections.keys()]).toEqual(captureFiles(scenario));
    for (const name of captureFiles(scenario)) {
      const lines = numberLines(signatures(readCaptureFile(join(KERNEL_DIR, scenario, name)).packets));
      expect({ name, lines }).toEqual({ name, lines: sections.get(name) });
    }
  });

  test.each(SCENARIOS)('%s: the whole signatures.txt, byte for byte', (scenario) => {
    expect(generated(scenario)).toBe(readFileSync(join(KERNEL_DIR, scenario, 'signatures.txt'), 'utf8'));
  });
});

describe('Signer', () => {
  test('labels count per signer: a new file starts again from M1', () => {
    const frame = readCaptureFile(join(KERNEL_DIR, 'same-node-ping', 'kr-pa-eth0.pcap')).packets[3]!;
    const a = new Signer();
    const b = new Signer();
    expect(a.sign(frame)).toBe(b.sign(frame));
    expect(a.sign(frame)).toContain('eth M1>M2');
    expect(a.sign(frame)).toContain('id=same');
  });
});

const A = parseIpv4('10.244.1.2');
const B = parseIpv4('10.244.2.2');

/** An Ethernet + IPv4 frame around `l4` bytes the callback writes at offset 34 (returns their length). */
function frame(ip: Partial<ipv4.Ipv4Repr> & Pick<ipv4.Ipv4Repr, 'protocol'>, l4Len: number, writeL4: (b: Uint8Array, off: number) => void): SignaturePacket {
  const b = new Uint8Array(ethernet.HEADER_LEN + ipv4.HEADER_LEN + l4Len);
  writeL4(b, ethernet.HEADER_LEN + ipv4.HEADER_LEN);
  ipv4.emit(ipv4.ipv4Repr({ src: A, dst: B, payloadLen: l4Len, id: 7, ...ip }), b, ethernet.HEADER_LEN);
  ethernet.emit({ src: parseMac('02:00:00:00:00:0a'), dst: parseMac('02:00:00:00:00:0b'), ethertype: ethernet.ETHERTYPE_IPV4 }, b, 0);
  return { data: b, originalLen: b.length, timestampSec: 0 };
}

function tcpSegment(fields: Partial<tcp.TcpRepr>, payload: string, ip: Partial<ipv4.Ipv4Repr> = {}): SignaturePacket {
  const options: tcp.TcpOption[] = [...(fields.options ?? [])];
  const r: tcp.TcpRepr = {
    srcPort: 40000, dstPort: 80, seq: 1000, ack: 0, flags: tcp.SYN, reserved: 0, window: 64240, checksum: 0, urgentPointer: 0,
    payloadLen: payload.length, ...fields, options,
  };
  const hl = tcp.reprHeaderLen(r);
  return frame({ protocol: ipv4.PROTO_TCP, ...ip }, hl + payload.length, (b, off) => {
    for (let i = 0; i < payload.length; i++) b[off + hl + i] = payload.charCodeAt(i);
    tcp.emit(r, b, off, { src: A, dst: B });
  });
}

describe('rules the references do not exercise', () => {
  test('TOS after the fragment flags, an RST without options, relative numbers from the SYN', () => {
    const lines = signatures([
      tcpSegment({ options: [{ kind: 'mss', value: 1460 }] }, '', { dontFragment: true, tos: 0x10 }),
      tcpSegment({ seq: 1001, ack: 5000, flags: tcp.RST | tcp.ACK }, ''),
    ]);
    expect(lines).toEqual([
      '[58] / eth M1>M2 0x0800 / ip 10.244.1.2>10.244.2.2 p6 ttl64 len44 id=* DF tos0x10 / tcp P1>80 [S] seq0 ack- len0 opt2 mss1460',
      '[54] / eth M1>M2 0x0800 / ip 10.244.1.2>10.244.2.2 p6 ttl64 len40 id=same / tcp P1>80 [AR] seq1 ack1 len0 opt-',
    ]);
  });

  // tshark 4.0 shows these five segments as http, tcp, http, http:data, data (checked by hand).
  test('HTTP: a continuation without a request in its conversation stays bare; TCP on other ports is data', () => {
    const fromServer = { src: B, dst: A };
    const lines = signatures([
      tcpSegment({ srcPort: 80, dstPort: 40000, flags: tcp.ACK | tcp.PSH, ack: 1 }, 'HTTP/1.1 404 File not found\r\n\r\n', fromServer),
      tcpSegment({ srcPort: 80, dstPort: 40000, flags: tcp.ACK | tcp.PSH, seq: 1031, ack: 1 }, 'body', fromServer),
      tcpSegment({ flags: tcp.ACK | tcp.PSH, seq: 1, ack: 1035 }, 'POST /x HTTP/1.1\r\n\r\n'),
      tcpSegment({ srcPort: 80, dstPort: 40000, flags: tcp.ACK | tcp.PSH, seq: 1035, ack: 21 }, 'more', fromServer),
      tcpSegment({ dstPort: 9000, flags: tcp.ACK | tcp.PSH, ack: 1 }, 'hello'),
    ]);
    expect(lines.map((l) => l.split(' / ').slice(3).join(' / '))).toEqual([
      'tcp 80>P1 [AP] seq1 ack1 len31 opt- / http 404',
      'tcp 80>P1 [AP] seq32 ack1 len4 opt-',
      'tcp P1>80 [AP] seq1 ack36 len20 opt- / http POST /x',
      'tcp 80>P1 [AP] seq36 ack21 len4 opt- / http cont / data4',
      'tcp P1>9000 [AP] seq1 ack1 len5 opt- / data5',
    ]);
  });

  test("ICMP: fragmentation needed shows the MTU and quotes a UDP header; echo data without ping's timestamp", () => {
    const quoted = new Uint8Array(28);
    ipv4.emit(ipv4.ipv4Repr({ src: A, dst: B, protocol: ipv4.PROTO_UDP, payloadLen: 1480, id: 9, dontFragment: true }), quoted, 0);
    quoted.set([0x9c, 0x40, 0x23, 0x28, 0x05, 0xc8], 20); // 40000 > 9000, length 1480
    const error = frame({ protocol: ipv4.PROTO_ICMP, src: B, dst: A, id: 0 }, 8 + 28, (b, off) =>
      icmp.emitError(icmp.destUnreachable(icmp.FRAGMENTATION_NEEDED, 28, 1450), quoted, 0, b, off),
    );
    const echo = frame({ protocol: ipv4.PROTO_ICMP }, 8 + 56, (b, off) => {
      b.fill(0x5a, off + 8, off + 64); // not a timeval near the frame's time
      icmp.emit(icmp.echoRequest(0x1234, 1, 56), b, off);
    });
    expect(signatures([error, echo]).map((l) => l.split(' / ').slice(2).join(' / '))).toEqual([
      'ip 10.244.2.2>10.244.1.2 p1 ttl64 len56 id=0 / icmp 3/4 mtu1450 / ip 10.244.1.2>10.244.2.2 p17 ttl64 len1500 id=* DF / udp P1>9000 len1480',
      'ip 10.244.1.2>10.244.2.2 p1 ttl64 len84 id=* / icmp 8/0 id=C1 seq1 / data56',
    ]);
  });
});
