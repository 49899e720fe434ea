/**
 * The host-local IPAM plugin (containernetworking/plugins plugins/ipam/host-local) over an
 * in-memory copy of its on-disk store, so that `podwire inspect` can show the node's files as
 * `ls /var/lib/cni/networks/<network>` would:
 *
 * - `<dataDir>/<network>/lock`: the flock file, created empty whenever the store is opened
 *   (backend/disk/lock.go `NewFileLock` on the directory);
 * - `<dataDir>/<network>/<ip>`: one file per reserved address holding `<containerID>\r\n<ifname>`
 *   (backend/disk/backend.go `Reserve`, `LineBreak = "\r\n"`; the ID is TrimSpace'd);
 * - `<dataDir>/<network>/last_reserved_ip.<i>`: the last address reserved from range set i, no
 *   newline — the round-robin cursor.
 *
 * Allocation (backend/allocator/allocator.go `Get`, `GetIter`, `RangeIter.Next`): start at the
 * address after `last_reserved_ip.<i>` (or at rangeStart when there is none, or when it lies
 * outside the set), walk to rangeEnd, continue with the next range of the set and wrap to the
 * first, skip each range's gateway, and try to create the file; give up after one full loop with
 * "no IP addresses available in range set: <start>-<end>". So after DEL of the pod holding .2 the
 * next pod still gets the address after the last one handed out, not .2: a crash-looping pod does
 * not get its old address back until the whole range has been used.
 *
 * ADD for a container ID + ifname that already holds an address in the set is an error, not an
 * idempotent answer: "<ip> has been allocated to <id>, duplicate allocation is not allowed".
 * DEL releases every file whose content is `<id>\r\n<ifname>` (or, for files written by old
 * versions, just `<id>`) and succeeds when there is none.
 *
 * Errors are CniError 999 with host-local's text; main.go prefixes allocation failures with
 * "failed to allocate for range <i>: ".
 */
import { posix } from 'node:path';
import { formatIpv4, type Ipv4Addr } from '../../packet/index.js';
import { loadCniArgs } from '../cni/cni-args.js';
import { CniError } from '../cni/cni-error.js';
import {
  rangeContains,
  rangeSetContains,
  rangeSetText,
  type HostLocalConfig,
  type HostLocalRange,
  type HostLocalRangeSet,
} from '../cni/config.js';
import { resultJson, type CniDns, type CniIpConfig, type CniRoute } from '../cni/result.js';
import { nextIpv4, parseIpv4Address } from '../ipv4-range.js';

/** backend/disk/backend.go. */
export const LINE_BREAK = '\r\n';
export const LAST_IP_FILE_PREFIX = 'last_reserved_ip.';
export const LOCK_FILE = 'lock';

/** The files of every host-local network on one node, keyed by absolute path. */
export class HostLocalStore {
  private readonly fileMap = new Map<string, string>();

  /** Every file, sorted by path, with its exact content. */
  files(): Map<string, string> {
    return new Map([...this.fileMap].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  readFile(path: string): string | undefined {
    return this.fileMap.get(path);
  }

  /** A network's directory handle (disk.New: MkdirAll, then the lock file). */
  open(dataDir: string, network: string): NetworkDir {
    const dir = posix.join(dataDir, network);
    const lock = posix.join(dir, LOCK_FILE);
    if (!this.fileMap.has(lock)) this.fileMap.set(lock, '');
    return new NetworkDir(this.fileMap, dir);
  }
}

/** backend/disk `Store` for one network directory. */
export class NetworkDir {
  constructor(
    private readonly fileMap: Map<string, string>,
    readonly dir: string,
  ) {}

  /** The directory's files in filepath.Walk order (lexical by name). */
  private walk(): string[] {
    const prefix = `${this.dir}/`;
    return [...this.fileMap.keys()].filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/')).sort();
  }

  /** O_EXCL create of `<dir>/<ip>`; false when it exists. Records the range set's cursor. */
  reserve(id: string, ifname: string, ip: Ipv4Addr, rangeId: string): boolean {
    const path = posix.join(this.dir, formatIpv4(ip));
    if (this.fileMap.has(path)) return false;
    this.fileMap.set(path, id.trim() + LINE_BREAK + ifname);
    this.fileMap.set(posix.join(this.dir, LAST_IP_FILE_PREFIX + rangeId), formatIpv4(ip));
    return true;
  }

  /** `LastReservedIP`: undefined when the file is missing or does not parse. */
  lastReservedIp(rangeId: string): Ipv4Addr | undefined {
    const text = this.fileMap.get(posix.join(this.dir, LAST_IP_FILE_PREFIX + rangeId));
    if (text === undefined) return undefined;
    try {
      return parseIpv4Address(text);
    } catch {
      return undefined;
    }
  }

  /** `GetByID`: addresses whose file names this container (new or old file format). */
  getById(id: string, ifname: string): Ipv4Addr[] {
    const match = id.trim() + LINE_BREAK + ifname;
    const matchOld = id.trim();
    const out: Ipv4Addr[] = [];
    for (const path of this.walk()) {
      const data = (this.fileMap.get(path) ?? '').trim();
      if (data !== match && data !== matchOld) continue;
      try {
        out.push(parseIpv4Address(posix.basename(path)));
      } catch {
        // lock, last_reserved_ip.N: not addresses (net.ParseIP returns nil).
      }
    }
    return out;
  }

  private releaseByKey(match: string): boolean {
    let found = false;
    for (const path of this.walk()) {
      if ((this.fileMap.get(path) ?? '').trim() === match) {
        this.fileMap.delete(path);
        found = true;
      }
    }
    return found;
  }

  /** `ReleaseByID`; tolerant, never fails. */
  releaseById(id: string, ifname: string): void {
    if (!this.releaseByKey(id.trim() + LINE_BREAK + ifname)) this.releaseByKey(id.trim());
  }
}

/** allocator.go `RangeIter`. */
class RangeIter {
  private rangeIdx = 0;
  private cur: Ipv4Addr | undefined;
  private startIp: Ipv4Addr | undefined;

  constructor(
    private readonly set: HostLocalRangeSet,
    lastReserved: Ipv4Addr | undefined,
  ) {
    // GetIter: round-robin from the last reserved address when it is still inside the set.
    if (lastReserved !== undefined && rangeSetContains(set, lastReserved)) {
      this.rangeIdx = set.findIndex((r) => rangeContains(r, lastReserved));
      this.cur = lastReserved;
    } else {
      this.startIp = (set[0] as HostLocalRange).rangeStart;
    }
  }

  /** The next candidate and its range, or undefined once the walk is back where it started. */
  next(): { readonly ip: Ipv4Addr; readonly range: HostLocalRange } | undefined {
    // Go's Next() recurses to skip a gateway; this loop is that recursion.
    for (;;) {
      let r = this.set[this.rangeIdx] as HostLocalRange;
      if (this.cur === undefined) {
        this.cur = r.rangeStart;
        this.startIp = this.cur;
        if (this.cur === r.gateway) continue;
        return { ip: this.cur, range: r };
      }
      if (this.cur === r.rangeEnd) {
        this.rangeIdx = (this.rangeIdx + 1) % this.set.length;
        r = this.set[this.rangeIdx] as HostLocalRange;
        this.cur = r.rangeStart;
      } else {
        this.cur = nextIpv4(this.cur);
      }
      if (this.startIp === undefined) this.startIp = this.cur;
      else if (this.cur === this.startIp) return undefined;
      if (this.cur === r.gateway) continue;
      return { ip: this.cur, range: r };
    }
  }
}

/** The abbreviated IPAM result (no interfaces, no `ips[].interface`). */
export interface IpamResult {
  readonly ips: readonly CniIpConfig[];
  readonly routes: readonly CniRoute[];
  readonly dns: CniDns;
}

export interface IpamArgs {
  readonly containerId: string;
  readonly ifName: string;
  /** CNI_ARGS; host-local reads `IP=` (and `IgnoreUnknown=`). */
  readonly cniArgs?: string;
}

export interface HostLocalIpamOptions {
  /** Reads a node file (for `ipam.resolvConf`); a missing file fails ADD as on a real node. */
  readonly readFile?: (path: string) => string | undefined;
}

function allocateError(idx: number, msg: string): CniError {
  return CniError.internal(`failed to allocate for range ${idx}: ${msg}`);
}

/** host-local dns.go `parseResolvConf`. */
export function parseResolvConf(text: string): CniDns {
  const nameservers: string[] = [];
  const search: string[] = [];
  const options: string[] = [];
  let domain = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line[0] === '#' || line[0] === ';') continue;
    const fields = line.split(/\s+/);
    if (fields.length < 2) continue;
    const [key, first, ...rest] = fields as [string, string, ...string[]];
    if (key === 'nameserver') nameservers.push(first);
    else if (key === 'domain') domain = first;
    else if (key === 'search') search.push(first, ...rest);
    else if (key === 'options') options.push(first, ...rest);
  }
  return {
    ...(nameservers.length > 0 ? { nameservers } : {}),
    ...(domain !== '' ? { domain } : {}),
    ...(search.length > 0 ? { search } : {}),
    ...(options.length > 0 ? { options } : {}),
  };
}

/** host-local's ADD and DEL against a node's store. */
export class HostLocalIpam {
  constructor(
    readonly store: HostLocalStore = new HostLocalStore(),
    private readonly opts: HostLocalIpamOptions = {},
  ) {}

  files(): Map<string, string> {
    return this.store.files();
  }

  /** The requested addresses: CNI_ARGS `IP=` first, then the configuration's (LoadIPAMConfig). */
  private requestedIps(conf: HostLocalConfig, cniArgs: string): Ipv4Addr[] {
    let fromEnv: Map<string, string>;
    try {
      fromEnv = loadCniArgs(cniArgs, { IP: (v) => formatIpv4(parseIpv4Address(v)) });
    } catch (e) {
      throw CniError.internal((e as Error).message);
    }
    const ip = fromEnv.get('IP');
    return [...(ip !== undefined ? [parseIpv4Address(ip)] : []), ...conf.requestedIps];
  }

  /** cmdAdd. Throws CniError. */
  add(conf: HostLocalConfig, args: IpamArgs): IpamResult {
    const requested = this.requestedIps(conf, args.cniArgs ?? '');
    let dns: CniDns = {};
    if (conf.resolvConf !== '') {
      const text = this.opts.readFile?.(conf.resolvConf);
      if (text === undefined) throw CniError.internal(`open ${conf.resolvConf}: no such file or directory`);
      dns = parseResolvConf(text);
    }
    const dir = this.store.open(conf.dataDir, conf.name);
    // main.go keeps requested IPs in a map keyed by their text.
    const pending = new Map<string, Ipv4Addr>();
    for (const ip of requested) pending.set(formatIpv4(ip), ip);

    const ips: CniIpConfig[] = [];
    let allocated = false;
    const releaseAll = (): void => {
      if (allocated) dir.releaseById(args.containerId, args.ifName);
    };
    conf.ranges.forEach((set, idx) => {
      let requestedIp: Ipv4Addr | undefined;
      for (const [k, ip] of pending) {
        if (rangeSetContains(set, ip)) {
          requestedIp = ip;
          pending.delete(k);
          break;
        }
      }
      let got: CniIpConfig;
      try {
        got = this.get(dir, set, String(idx), args.containerId, args.ifName, requestedIp);
      } catch (e) {
        releaseAll();
        throw allocateError(idx, (e as Error).message);
      }
      allocated = true;
      ips.push(got);
    });
    if (pending.size > 0) {
      releaseAll();
      throw CniError.internal(`failed to allocate all requested IPs: ${[...pending.keys()].join(' ')}`);
    }
    return { ips, routes: conf.routes, dns };
  }

  /** allocator.go `IPAllocator.Get` for range set `rangeId`; throws Error with its text. */
  private get(dir: NetworkDir, set: HostLocalRangeSet, rangeId: string, id: string, ifname: string, requestedIp: Ipv4Addr | undefined): CniIpConfig {
    if (requestedIp !== undefined) {
      const r = set.find((x) => rangeContains(x, requestedIp));
      if (r === undefined) throw new Error(`${formatIpv4(requestedIp)} not in range set ${rangeSetText(set)}`);
      if (requestedIp === r.gateway) throw new Error(`requested ip ${formatIpv4(requestedIp)} is subnet's gateway`);
      if (!dir.reserve(id, ifname, requestedIp, rangeId)) {
        throw new Error(`requested IP address ${formatIpv4(requestedIp)} is not available in range set ${rangeSetText(set)}`);
      }
      return { address: `${formatIpv4(requestedIp)}/${r.subnet.prefixLen}`, gateway: formatIpv4(r.gateway) };
    }
    // "duplicate allocation is not allowed in SPEC".
    for (const ip of dir.getById(id, ifname)) {
      if (rangeSetContains(set, ip)) throw new Error(`${formatIpv4(ip)} has been allocated to ${id}, duplicate allocation is not allowed`);
    }
    const iter = new RangeIter(set, dir.lastReservedIp(rangeId));
    for (let c = iter.next(); c !== undefined; c = iter.next()) {
      if (dir.reserve(id, ifname, c.ip, rangeId)) {
        return { address: `${formatIpv4(c.ip)}/${c.range.subnet.prefixLen}`, gateway: formatIpv4(c.range.gateway) };
      }
    }
    throw new Error(`no IP addresses available in range set: ${rangeSetText(set)}`);
  }

  /** cmdDel: release the container's addresses in every range set; never fails on absence. */
  del(conf: HostLocalConfig, args: IpamArgs): void {
    this.requestedIps(conf, args.cniArgs ?? '');
    const dir = this.store.open(conf.dataDir, conf.name);
    for (let i = 0; i < conf.ranges.length; i++) dir.releaseById(args.containerId, args.ifName);
  }
}

/** host-local's stdout for ADD, in the configuration's version. */
export function ipamResultJson(r: IpamResult, cniVersion: string): string {
  return resultJson({ cniVersion, interfaces: [], ips: r.ips, routes: r.routes, dns: r.dns }, cniVersion);
}
