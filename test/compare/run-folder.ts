/**
 * Builds podwire-shaped run folders from the kernel reference captures, for the comparer's tests:
 * each kr-<netns>-<iface>.pcap becomes captures/<host>/<ifname>.pcap with an interfaces.json entry
 * saying which role it plays, and a run.json. Host veths get podwire-style names (veth-pa) rather
 * than the reference's, so a match proves the pairing goes by role (the peer), not by name.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSink, PcapWriter, readCaptureFile, type CapturePacket } from '../../src/pcap/index.js';
import { referenceVethName, type RunInterface } from '../../src/compare/index.js';
import { KERNEL_DIR } from '../helpers/frames.js';

export interface Frame {
  readonly sec: number;
  readonly nsec: number;
  readonly bytes: Uint8Array;
}

export interface BuildOptions {
  /** Rewrites the frames of one capture point (by its kr- name) before they are written. */
  readonly transform?: (capturePoint: string, frames: Frame[]) => Frame[];
  /** Capture points podwire "did not write": no file and no interfaces.json entry. */
  readonly omit?: readonly string[];
  /** Interfaces with their frames that the reference has no capture point for. */
  readonly extra?: ReadonlyArray<{ readonly entry: Omit<RunInterface, 'file' | 'packets'>; readonly frames: readonly Frame[] }>;
  readonly trafficStartNs?: number;
}

const PODS = ['pa', 'pb', 'pc', 'pd'];
const NODES = ['n1', 'n2'];

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `podwire-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function framesOf(packets: readonly CapturePacket[]): Frame[] {
  return packets.map((p) => ({ sec: p.timestampSec, nsec: p.timestampNsec, bytes: new Uint8Array(p.data) }));
}

export function writePcap(path: string, frames: readonly Frame[]): void {
  const w = new PcapWriter(new FileSink(path));
  for (const f of frames) w.writePacketAt(f.sec, f.nsec, f.bytes);
  w.close();
}

/** The interfaces.json entry (without the file and count) of the podwire interface in a reference point's role. */
export function roleEntry(capturePoint: string): Omit<RunInterface, 'file' | 'packets'> {
  const m = /^kr-([^-]+)-(.+)$/.exec(capturePoint);
  if (!m) throw new Error(`not a capture point name: ${capturePoint}`);
  const [, netns, iface] = m as unknown as [string, string, string];
  const base = { mac: '02:00:00:00:00:01', mtu: 1500, addresses: [] as string[] };
  if (netns === 'underlay') return { ...base, host: 'underlay', hostKind: 'switch', netns: 'underlay', name: iface, kind: 'bridge' };
  if (PODS.includes(netns)) {
    const node = netns === 'pa' || netns === 'pb' ? 'n1' : 'n2';
    return { ...base, mtu: 1450, host: netns, hostKind: 'pod', netns, name: iface, kind: 'veth', peer: { host: node, name: `veth-${netns}` } };
  }
  if (NODES.includes(netns)) {
    if (iface.startsWith('veth')) {
      const pod = PODS.find((p) => referenceVethName(p) === iface);
      if (!pod) throw new Error(`no pod for ${iface}`);
      return { ...base, host: netns, hostKind: 'node', netns, name: `veth-${pod}`, kind: 'veth', peer: { host: pod, name: 'eth0' } };
    }
    const kind = iface === 'cni0' ? 'bridge' : iface === 'flannel.1' ? 'vxlan' : 'physical';
    return { ...base, host: netns, hostKind: 'node', netns, name: iface, kind };
  }
  return { ...base, host: netns, hostKind: 'external', netns, name: iface, kind: 'physical' };
}

/** A run folder in a new temporary directory holding the reference scenario's captures. */
export function buildRunFolder(scenario: string, opts: BuildOptions = {}): string {
  const dir = tempDir(`run-${scenario}`);
  const refDir = join(KERNEL_DIR, scenario);
  const interfaces: RunInterface[] = [];
  const add = (entry: Omit<RunInterface, 'file' | 'packets'>, frames: readonly Frame[]): void => {
    const file = `captures/${entry.host}/${entry.name}.pcap`;
    mkdirSync(join(dir, 'captures', entry.host), { recursive: true });
    writePcap(join(dir, file), frames);
    interfaces.push({ ...entry, file, packets: frames.length });
  };
  for (const name of readdirSync(refDir).filter((n) => n.startsWith('kr-') && n.endsWith('.pcap')).sort()) {
    const point = name.slice(0, -'.pcap'.length);
    if (opts.omit?.includes(point)) continue;
    let frames = framesOf(readCaptureFile(join(refDir, name)).packets);
    if (opts.transform) frames = opts.transform(point, frames);
    add(roleEntry(point), frames);
  }
  for (const e of opts.extra ?? []) add(e.entry, e.frames);
  writeFileSync(join(dir, 'interfaces.json'), `${JSON.stringify({ interfaces }, null, 2)}\n`);
  writeFileSync(
    join(dir, 'run.json'),
    `${JSON.stringify({ podwire: '0.1.0', scenario: `scenarios/${scenario}.yaml`, seed: 1, trafficStartNs: opts.trafficStartNs ?? 0, endNs: 0 })}\n`,
  );
  return dir;
}
