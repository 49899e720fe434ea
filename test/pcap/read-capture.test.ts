import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureFormatError, detectCaptureFormat, readCapture, readCaptureFile } from '../../src/pcap/index.js';
import { hex, KERNEL_DIR, readClassicPcapFrames } from '../helpers/frames.js';
import { formatErrorOf } from '../helpers/pcap-checks.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dir.js';
import { epb, idb, pcapHeader, pcapRecord, shb, textOption } from './build.js';

afterAll(removeTempDirs);

describe('readCapture', () => {
  it('detects the format from the magic', () => {
    expect(detectCaptureFormat(pcapHeader('le', 0xa1b2c3d4))).toBe('pcap');
    expect(detectCaptureFormat(pcapHeader('be', 0xa1b2c3d4))).toBe('pcap');
    expect(detectCaptureFormat(pcapHeader('le', 0xa1b23c4d))).toBe('pcap');
    expect(detectCaptureFormat(pcapHeader('be', 0xa1b23c4d))).toBe('pcap');
    expect(detectCaptureFormat(shb('be'))).toBe('pcapng');
    expect(() => detectCaptureFormat(hex('7f454c46 0201'))).toThrow('not a capture file (unknown magic 0x7f454c46)');
  });

  it('gives a classic pcap one unnamed interface', () => {
    const file = Buffer.concat([pcapHeader('be', 0xa1b23c4d, 1500, 1), pcapRecord('be', 3, 4, hex('aabbcc'), 60)]);
    expect(readCapture(file)).toEqual({
      format: 'pcap',
      interfaces: [{ linktype: 1, snaplen: 1500 }],
      packets: [
        {
          index: 0, offset: 24, interfaceIndex: 0, linktype: 1, timestampNs: 3_000_000_004, timestampSec: 3, timestampNsec: 4,
          capturedLen: 3, originalLen: 60, data: hex('aabbcc'), comments: [],
        },
      ],
    });
  });

  it('numbers pcapng interfaces across sections and names each packet by its interface', () => {
    const file = Buffer.concat([
      shb('le'),
      idb('le', 1, 0, [textOption(2, 'eth0'), textOption(3, 'pod pa')]),
      idb('le', 113, 0, [textOption(2, 'any')]),
      epb('le', 1, 0, 5, hex('01'), 1, [textOption(1, 'DNAT')]),
      shb('be'),
      idb('be', 1, 0, [textOption(2, 'cni0')]),
      epb('be', 0, 0, 7, hex('02')),
      idb('be', 1, 0),
      epb('be', 1, 0, 8, hex('03')),
    ]);
    const c = readCapture(file);
    expect(c.format).toBe('pcapng');
    expect(c.interfaces).toEqual([
      { linktype: 1, snaplen: 0, name: 'eth0', description: 'pod pa' },
      { linktype: 113, snaplen: 0, name: 'any' },
      { linktype: 1, snaplen: 0, name: 'cni0' },
      { linktype: 1, snaplen: 0 },
    ]);
    expect(c.packets.map((p) => [p.interfaceIndex, p.interfaceName, p.linktype, p.timestampNs, p.comments, [...p.data]])).toEqual([
      [1, 'any', 113, 5_000, ['DNAT'], [1]],
      [2, 'cni0', 1, 7_000, [], [2]],
      [3, undefined, 1, 8_000, [], [3]],
    ]);
    expect('interfaceName' in c.packets[2]!).toBe(false);
  });

  it('reads a file from disk, naming the path in format errors and leaving fs errors as Node raises them', () => {
    const path = join(KERNEL_DIR, 'dns', 'kr-n1-cni0.pcap');
    expect(readCaptureFile(path).packets.map((p) => Buffer.from(p.data))).toEqual(readClassicPcapFrames(path));

    const bad = join(tempDir(), 'notes.txt');
    writeFileSync(bad, 'hello world');
    const caught = formatErrorOf(() => readCaptureFile(bad));
    expect(caught).toBeInstanceOf(CaptureFormatError);
    expect(caught).toMatchObject({ message: `${bad}: not a capture file (unknown magic 0x68656c6c)`, offset: 0 });
    expect(() => readCaptureFile(join(tempDir(), 'missing.pcap'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
