/**
 * The two folders a comparison reads: a kernel reference folder (fixtures/kernel/<scenario>:
 * kr-<netns>-<iface>.pcap files and meta.json) and a podwire run folder (run.json,
 * interfaces.json, captures/<host>/<ifname>.pcap — README, "The run folder"). Everything here
 * validates what it reads and reports a problem as one CompareInputError naming the path.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CaptureFormatError, readCaptureFile, type CapturePacket } from '../pcap/index.js';
import type { HostKind, InterfaceRecord } from '../capture/index.js';
import type { DeviceKind } from '../net/tap.js';
import { CompareInputError } from './errors.js';

/** run.json. */
export interface RunInfo {
  readonly podwire: string;
  readonly scenario: string;
  readonly seed: number;
  /** Virtual time of the first traffic step: comparisons start there. */
  readonly trafficStartNs: number;
  /** Wall-clock seconds of virtual time 0 (capture timestamps count from it); 0 when absent. */
  readonly epochSec: number;
  readonly endNs: number;
}

/** interfaces.json as the run writes it: one contract, defined where it is written. */
export type { HostKind } from '../capture/index.js';
export type RunInterface = InterfaceRecord;
export type InterfaceKind = DeviceKind;

export interface RunFolder {
  readonly dir: string;
  readonly run: RunInfo;
  readonly interfaces: readonly RunInterface[];
}

export interface ReferenceFolder {
  readonly dir: string;
  /** meta.json's `scenario`, else the folder's name. */
  readonly scenario: string;
  /** The kr-*.pcap file names, sorted. */
  readonly files: readonly string[];
}

const HOST_KINDS: readonly string[] = ['node', 'pod', 'external', 'switch'];
const INTERFACE_KINDS: readonly string[] = ['physical', 'veth', 'bridge', 'vxlan', 'loopback'];

function requireDirectory(dir: string, what: string): string {
  const path = resolve(dir);
  if (!existsSync(path)) throw new CompareInputError(`${dir}: no such ${what}`);
  if (!statSync(path).isDirectory()) throw new CompareInputError(`${dir}: not a folder (the ${what} must be one)`);
  return path;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CompareInputError(`${path}: cannot read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CompareInputError(`${path}: not valid JSON: ${(e as Error).message}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A field check that names the file and the field path when it fails. */
function field<T>(path: string, where: string, obj: Record<string, unknown>, key: string, ok: (v: unknown) => v is T, what: string): T {
  const v = obj[key];
  if (!ok(v)) throw new CompareInputError(`${path}: ${where}${key} must be ${what}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

/** Reads run.json and interfaces.json; anything missing or malformed is a CompareInputError. */
export function readRunFolder(dir: string): RunFolder {
  const path = requireDirectory(dir, 'run folder');
  const runPath = join(path, 'run.json');
  const ifPath = join(path, 'interfaces.json');
  if (!existsSync(runPath) || !existsSync(ifPath)) {
    const missing = [runPath, ifPath].filter((p) => !existsSync(p)).map((p) => basename(p));
    throw new CompareInputError(`${dir}: not a podwire run folder (no ${missing.join(' or ')}; see \`podwire run … -o DIR\`)`);
  }
  const runJson = readJson(runPath);
  if (!isRecord(runJson)) throw new CompareInputError(`${runPath}: must be a JSON object`);
  const run: RunInfo = {
    podwire: field(runPath, '', runJson, 'podwire', isString, 'a string'),
    scenario: field(runPath, '', runJson, 'scenario', isString, 'a string'),
    seed: field(runPath, '', runJson, 'seed', isNumber, 'a number'),
    trafficStartNs: field(runPath, '', runJson, 'trafficStartNs', isNumber, 'a number'),
    epochSec: runJson['epochSec'] === undefined ? 0 : field(runPath, '', runJson, 'epochSec', isNumber, 'a number'),
    endNs: field(runPath, '', runJson, 'endNs', isNumber, 'a number'),
  };
  const ifJson = readJson(ifPath);
  if (!isRecord(ifJson) || !Array.isArray(ifJson['interfaces'])) {
    throw new CompareInputError(`${ifPath}: must be an object with an "interfaces" array`);
  }
  const interfaces = ifJson['interfaces'].map((entry: unknown, i: number): RunInterface => {
    const at = `interfaces[${i}].`;
    if (!isRecord(entry)) throw new CompareInputError(`${ifPath}: interfaces[${i}] must be an object`);
    const str = (k: string): string => field(ifPath, at, entry, k, isString, 'a string');
    const hostKind = str('hostKind');
    if (!HOST_KINDS.includes(hostKind)) throw new CompareInputError(`${ifPath}: ${at}hostKind must be one of ${HOST_KINDS.join(', ')}`);
    const kind = str('kind');
    if (!INTERFACE_KINDS.includes(kind)) throw new CompareInputError(`${ifPath}: ${at}kind must be one of ${INTERFACE_KINDS.join(', ')}`);
    const peerValue = entry['peer'];
    let peer: RunInterface['peer'];
    if (peerValue !== undefined && peerValue !== null) {
      if (!isRecord(peerValue) || !isString(peerValue['host']) || !isString(peerValue['name'])) {
        throw new CompareInputError(`${ifPath}: ${at}peer must be {"host": …, "name": …}`);
      }
      peer = { host: peerValue['host'], name: peerValue['name'] };
    }
    return {
      file: str('file'),
      host: str('host'),
      hostKind: hostKind as HostKind,
      netns: str('netns'),
      name: str('name'),
      kind: kind as InterfaceKind,
      mac: str('mac'),
      mtu: field(ifPath, at, entry, 'mtu', isNumber, 'a number'),
      addresses: field(ifPath, at, entry, 'addresses', isStringArray, 'an array of strings'),
      ...(peer && { peer }),
      packets: field(ifPath, at, entry, 'packets', isNumber, 'a number'),
    };
  });
  return { dir: path, run, interfaces };
}

/** The kr-*.pcap files of a kernel reference folder and its scenario name. */
export function readReferenceFolder(dir: string): ReferenceFolder {
  const path = requireDirectory(dir, 'reference folder');
  const files = readdirSync(path)
    .filter((n) => n.startsWith('kr-') && n.endsWith('.pcap'))
    .sort();
  if (files.length === 0) {
    throw new CompareInputError(`${dir}: no kr-*.pcap capture files: not a kernel reference folder (fixtures/kernel/<scenario>)`);
  }
  let scenario = basename(path);
  const metaPath = join(path, 'meta.json');
  if (existsSync(metaPath)) {
    const meta = readJson(metaPath);
    if (isRecord(meta) && isString(meta['scenario'])) scenario = meta['scenario'];
    // A capture the reference says it took but that is not there would read as "0 packets".
    const listed = isRecord(meta) && isStringArray(meta['pcaps']) ? meta['pcaps'] : [];
    const absent = listed.filter((f) => !files.includes(f));
    if (absent.length > 0) throw new CompareInputError(`${metaPath}: lists ${absent.join(', ')}, which the folder lacks`);
  }
  return { dir: path, scenario, files };
}

/** Reads one capture file; a file that is not a capture is a CompareInputError naming it. */
export function readCapturePackets(path: string): CapturePacket[] {
  try {
    return readCaptureFile(path).packets;
  } catch (e) {
    if (e instanceof CaptureFormatError) throw new CompareInputError(`unreadable capture: ${e.message}`);
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code === 'string') throw new CompareInputError(`${path}: cannot read: ${err.message}`);
    throw e;
  }
}

/** The packets from `startNs` on (virtual time; exact for any timestamp, not only below 2^53 ns). */
/**
 * The packets at or after virtual time `startNs`; capture timestamps are wall-clock time, virtual
 * time 0 being `epochSec` (run.json).
 */
export function packetsFrom(packets: readonly CapturePacket[], startNs: number, epochSec = 0): CapturePacket[] {
  const start = BigInt(epochSec) * 1_000_000_000n + BigInt(Math.trunc(startNs));
  return packets.filter((p) => BigInt(p.timestampSec) * 1_000_000_000n + BigInt(p.timestampNsec) >= start);
}
