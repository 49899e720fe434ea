/**
 * The resolver's two files: /etc/resolv.conf as glibc 2.36's res_init reads it
 * (resolv/res_init.c), /etc/hosts as nss_files reads it — and the texts the kubelet (with the
 * container runtime) writes into every pod, so that the k8s layer can lay them into a pod's
 * ContainerFs exactly as a node would.
 */
import { parseIpv4, type Ipv4Addr } from '../packet/addr.js';
import type { ContainerFs } from './container-fs.js';

export interface ResolvConf {
  /** At most MAXNS (3); empty in the file → 127.0.0.1 (res_init's loopback default). */
  readonly nameservers: readonly Ipv4Addr[];
  /** The search list (the last `search` or `domain` line wins, as res_init does). */
  readonly search: readonly string[];
  /** options ndots:N (default 1, capped at RES_MAXNDOTS 15). */
  readonly ndots: number;
  /** options timeout:N seconds (RES_TIMEOUT 5, capped at RES_MAXRETRANS 30). */
  readonly timeoutSec: number;
  /** options attempts:N (RES_DFLRETRY 2, capped at RES_MAXRETRY 5). */
  readonly attempts: number;
  /** options rotate. */
  readonly rotate: boolean;
  /** options single-request (RES_SNGLKUP): A and AAAA one after the other, not back to back. */
  readonly singleRequest: boolean;
  /** options edns0 (RES_USE_EDNS0): an OPT record on every query. */
  readonly edns0: boolean;
}

const MAXNS = 3;
const LOOPBACK: Ipv4Addr = 0x7f00_0001;

export const RESOLV_CONF_PATH = '/etc/resolv.conf';
export const HOSTS_PATH = '/etc/hosts';

/** res_init's reading of resolv.conf: unknown keywords and bad values are ignored silently, as there. */
export function parseResolvConf(text: string): ResolvConf {
  const nameservers: Ipv4Addr[] = [];
  let search: string[] = [];
  let ndots = 1;
  let timeoutSec = 5;
  let attempts = 2;
  let rotate = false;
  let singleRequest = false;
  let edns0 = false;
  for (const raw of text.split('\n')) {
    if (raw.startsWith(';') || raw.startsWith('#')) continue;
    const words = raw.trim().split(/[ \t]+/).filter(Boolean);
    const [key, ...args] = words;
    if (key === 'nameserver' && args[0] !== undefined && nameservers.length < MAXNS) {
      try {
        nameservers.push(parseIpv4(args[0]));
      } catch {
        // an IPv6 server or garbage: an IPv4-only resolver has no use for it
      }
    } else if (key === 'domain' && args[0] !== undefined) {
      search = [args[0]];
    } else if (key === 'search') {
      search = args;
    } else if (key === 'options') {
      for (const opt of args) {
        const [name, value] = opt.split(':');
        const n = value === undefined ? Number.NaN : Number.parseInt(value, 10);
        if (name === 'ndots' && Number.isFinite(n)) ndots = Math.min(Math.max(n, 0), 15);
        else if (name === 'timeout' && Number.isFinite(n)) timeoutSec = Math.min(Math.max(n, 1), 30);
        else if (name === 'attempts' && Number.isFinite(n)) attempts = Math.min(Math.max(n, 1), 5);
        else if (name === 'rotate') rotate = true;
        else if (name === 'single-request') singleRequest = true;
        else if (name === 'edns0') edns0 = true;
      }
    }
  }
  // A domain written with a trailing dot is stored without it (res_init strips it).
  search = search.map((d) => (d.length > 1 && d.endsWith('.') ? d.slice(0, -1) : d));
  return { nameservers: nameservers.length ? nameservers : [LOOPBACK], search, ndots, timeoutSec, attempts, rotate, singleRequest, edns0 };
}

export interface HostsEntry {
  /** 4 bytes (IPv4) or 16 (IPv6), network order. */
  readonly address: Uint8Array;
  readonly family: 'inet' | 'inet6';
  /** The official name first, then the aliases. */
  readonly names: readonly string[];
}

/** nss_files' hosts parser: `ADDRESS NAME [ALIAS…]`, `#` to the end of the line is a comment. */
export function parseHosts(text: string): HostsEntry[] {
  const out: HostsEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [addr, ...names] = line.split(/[ \t]+/);
    if (addr === undefined || names.length === 0) continue;
    const v4 = ipv4Bytes(addr);
    if (v4) {
      out.push({ address: v4, family: 'inet', names });
      continue;
    }
    const v6 = ipv6Bytes(addr);
    if (v6) out.push({ address: v6, family: 'inet6', names });
  }
  return out;
}

function ipv4Bytes(text: string): Uint8Array | undefined {
  try {
    const a = parseIpv4(text);
    return Uint8Array.of(a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff);
  } catch {
    return undefined;
  }
}

function ipv6Bytes(text: string): Uint8Array | undefined {
  if (!text.includes(':')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const zeros = 8 - head.length - tail.length;
  if (halves.length === 2 ? zeros < 1 : zeros !== 0) return undefined;
  const all = [...head, ...new Array<string>(zeros).fill('0'), ...tail];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

const decoder = new TextDecoder();

/**
 * The container's /etc/resolv.conf; without one, res_init's defaults (nameserver 127.0.0.1, no
 * search list — a pod hostname has no dot to take a domain from — ndots:1).
 */
export function readResolvConf(fs: ContainerFs | undefined): ResolvConf {
  const data = fs?.readFile(RESOLV_CONF_PATH);
  return parseResolvConf(data ? decoder.decode(data) : '');
}

/**
 * The container's /etc/hosts. Every pod has one (the kubelet mounts it), so a container whose
 * files do not include it gets the kubelet's localhost lines — what `localhost` resolves with.
 */
export function readHosts(fs: ContainerFs | undefined): HostsEntry[] {
  const data = fs?.readFile(HOSTS_PATH);
  return parseHosts(data ? decoder.decode(data) : KUBELET_HOSTS_HEADER);
}

/** The managed part every kubelet-written /etc/hosts starts with (pkg/kubelet/kubelet_pods.go, managedHostsHeader + ensureHostsFile). */
const KUBELET_HOSTS_HEADER =
  '# Kubernetes-managed hosts file.\n' +
  '127.0.0.1\tlocalhost\n' +
  '::1\tlocalhost ip6-localhost ip6-loopback\n' +
  'fe00::0\tip6-localnet\n' +
  'fe00::0\tip6-mcastprefix\n' +
  'fe00::1\tip6-allnodes\n' +
  'fe00::2\tip6-allrouters\n';

export interface PodHostsSpec {
  readonly podIp: string;
  /** spec.hostname, else the pod name. */
  readonly hostname: string;
  /** spec.subdomain: adds the FQDN `<hostname>.<subdomain>.<ns>.svc.<domain>` first. */
  readonly subdomain?: string;
  readonly namespace?: string;
  readonly clusterDomain?: string;
  /** spec.hostAliases, in order. */
  readonly hostAliases?: readonly { readonly ip: string; readonly hostnames: readonly string[] }[];
}

/**
 * The /etc/hosts the kubelet writes for a pod network pod (managedHostsFileContent):
 * the localhost block, then `IP\tFQDN\thostname` (or `IP\thostname` without a subdomain), then
 * any hostAliases under their own comment.
 */
export function kubeletHostsFile(p: PodHostsSpec): string {
  let text = KUBELET_HOSTS_HEADER;
  if (p.subdomain) {
    const fqdn = `${p.hostname}.${p.subdomain}.${p.namespace ?? 'default'}.svc.${p.clusterDomain ?? 'cluster.local'}`;
    text += `${p.podIp}\t${fqdn}\t${p.hostname}\n`;
  } else {
    text += `${p.podIp}\t${p.hostname}\n`;
  }
  if (p.hostAliases?.length) {
    text += '\n# Entries added by HostAliases.\n';
    for (const a of p.hostAliases) text += `${a.ip}\t${a.hostnames.join('\t')}\n`;
  }
  return text;
}

export interface ClusterFirstSpec {
  readonly namespace: string;
  /** The kubelet's --cluster-dns (kubeadm: the 10th address of the service CIDR). */
  readonly nameservers?: readonly string[];
  readonly clusterDomain?: string;
  /** The node's own search domains, appended after the cluster ones. */
  readonly hostSearch?: readonly string[];
}

/**
 * The resolv.conf of dnsPolicy ClusterFirst (pkg/kubelet/network/dns/dns.go:
 * generateSearchesForDNSClusterFirst, defaultDNSOptions ndots:5), in the order the runtime
 * writes it: search, nameserver, options — the dns reference's file.
 */
export function clusterFirstResolvConf(s: ClusterFirstSpec): string {
  const domain = s.clusterDomain ?? 'cluster.local';
  const search = [`${s.namespace}.svc.${domain}`, `svc.${domain}`, domain, ...(s.hostSearch ?? [])];
  const servers = s.nameservers ?? ['10.96.0.10'];
  return `search ${search.join(' ')}\n${servers.map((n) => `nameserver ${n}\n`).join('')}options ndots:5\n`;
}
