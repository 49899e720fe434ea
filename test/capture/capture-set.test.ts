import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureSet } from '../../src/capture/index.js';
import { parseIpv4 } from '../../src/packet/addr.js';
import { VIRTUAL_EPOCH_SEC } from '../../src/sim/scheduler.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dir.js';
import { sameNodeTopology } from '../helpers/topology.js';
import { captureProblems } from '../helpers/tshark.js';

afterAll(removeTempDirs);

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('CaptureSet: the writer thread and this thread write the same files', () => {
  it('splits the merged pcapng into per-interface pcaps byte for byte as separate writers would', () => {
    const t = sameNodeTopology(11);
    const [pa, pb] = t.pods;
    const onThread = tempDir('caps');
    const here = tempDir('caps');
    const a = new CaptureSet(onThread, VIRTUAL_EPOCH_SEC, undefined, true);
    const b = new CaptureSet(here, VIRTUAL_EPOCH_SEC, undefined, false);
    for (const ns of [t.node, pa!, pb!]) {
      for (const d of ns.devices.values()) {
        a.attach(d);
        b.attach(d);
      }
    }
    // Enough traffic for many buffers on several interfaces, lo included.
    pb!.tcp.listen({ addr: 0, port: 5001 }, (c) => {
      c.onEnd = () => c.close();
    });
    const c = pa!.tcp.connect({ addr: parseIpv4('10.244.1.3'), port: 5001 });
    c.onConnect = () => {
      c.write(new Uint8Array(600_000).fill(7));
      c.close();
    };
    pa!.tcp.listen({ addr: 0, port: 80 }, () => {});
    pa!.tcp.connect({ addr: parseIpv4('127.0.0.1'), port: 80 });
    t.sched.run(t.sched.nowNs + 5e9);
    const ia = a.close();
    const ib = b.close();
    expect(ia).toEqual(ib);
    expect(files(onThread)).toEqual(files(here));
    expect(files(here)).toContain('all.pcapng');
    expect(files(here).length).toBeGreaterThan(5);
    for (const f of files(here)) expect(readFileSync(join(onThread, f)).equals(readFileSync(join(here, f))), f).toBe(true);
    // A bulk burst on links without delay fills the receiver's window now and then, which Wireshark
    // flags (TCP dynamics, not a fault in a packet); anything else would be a broken frame.
    const problems = captureProblems(join(onThread, 'captures/pa/eth0.pcap')).filter((p) => p.problem !== 'TCP window specified by the receiver is now completely full');
    expect(problems).toEqual([]);
    expect(captureProblems(join(onThread, 'captures/pa/lo.pcap'))).toEqual([]);
  });
});
