/**
 * What a container's process sees of its pod spec: its files (configMap volumes, laid out as the
 * kubelet's AtomicWriter writes them — the data in a timestamped directory `..2026_01_01_…`, a
 * `..data` link to it, and one link per key, `key -> ..data/key`, which is why `ls -la` and
 * Python's directory listing show the keys as symlinks), its working directory and environment.
 */
import { ContainerFs } from '../apps/container-fs.js';
import { clusterFirstResolvConf, kubeletHostsFile } from '../apps/resolv-conf.js';
import { formatIpv4, type Ipv4Addr } from '../packet/addr.js';
import { unixSeconds } from '../apps/wall-clock.js';
import type { Random } from '../sim/random.js';
import type { ConfigMapSpec, ContainerSpec, PodSpec } from './spec.js';

export interface ContainerView {
  readonly fs: ContainerFs;
  readonly cwd: string;
  readonly env: ReadonlyMap<string, string>;
}

/** What the kubelet writes into every container of a pod besides its volumes. */
export interface KubeletFiles {
  /** The pod's IP (its /etc/hosts line); undefined while it has none. */
  readonly podIp: Ipv4Addr | undefined;
  /** kubelet's clusterDNS (kube-dns's ClusterIP) for dnsPolicy ClusterFirst. */
  readonly clusterDns: Ipv4Addr;
  /** The node's /etc/resolv.conf nameservers, for dnsPolicy Default. */
  readonly nodeNameservers: readonly Ipv4Addr[];
}

/**
 * /etc/resolv.conf by dnsPolicy, as the kubelet's dns.Configurer writes it (ClusterFirst: the
 * cluster DNS, the pod's three search domains, ndots:5; Default: the node's file; None: from
 * dnsConfig, which podwire does not read yet — an empty file), and /etc/hosts.
 */
function kubeletFiles(fs: ContainerFs, pod: PodSpec, k: KubeletFiles): void {
  let resolv = '';
  if (pod.dnsPolicy === 'ClusterFirst' || pod.dnsPolicy === 'ClusterFirstWithHostNet') {
    resolv = clusterFirstResolvConf({ namespace: pod.namespace, nameservers: [formatIpv4(k.clusterDns)] });
  } else if (pod.dnsPolicy === 'Default') {
    resolv = k.nodeNameservers.map((n) => `nameserver ${formatIpv4(n)}\n`).join('');
  }
  fs.addFile('/etc/resolv.conf', Buffer.from(resolv, 'utf8'));
  if (k.podIp !== undefined) {
    const hosts = kubeletHostsFile({ podIp: formatIpv4(k.podIp), hostname: pod.hostname ?? pod.name, namespace: pod.namespace, ...(pod.subdomain !== undefined ? { subdomain: pod.subdomain } : {}) });
    fs.addFile('/etc/hosts', Buffer.from(hosts, 'utf8'));
  }
}

export function containerView(pod: PodSpec, container: ContainerSpec, configMaps: readonly ConfigMapSpec[], random: Random, nowNs: number, kubelet?: KubeletFiles): ContainerView {
  const fs = new ContainerFs(unixSeconds(nowNs));
  if (kubelet !== undefined) kubeletFiles(fs, pod, kubelet);
  for (const mount of container.volumeMounts) {
    const volume = pod.volumes.find((v) => v.name === mount.name);
    const cm = volume && configMaps.find((c) => c.name === volume.configMap && c.namespace === pod.namespace);
    fs.addDir(mount.mountPath);
    if (!volume || !cm) continue; // an optional ConfigMap that does not exist: an empty directory
    // AtomicWriter's directory: time.Now().Format("..2006_01_02_15_04_05.") plus MkdirTemp's random digits.
    const d = new Date(unixSeconds(nowNs) * 1000);
    const two = (n: number) => String(n).padStart(2, '0');
    const digits = String(random.stream(`configmap-volume/${pod.namespace}/${pod.name}/${volume.name}`).nextU32()).padStart(10, '0');
    const stamp = `..${d.getUTCFullYear()}_${two(d.getUTCMonth() + 1)}_${two(d.getUTCDate())}_${two(d.getUTCHours())}_${two(d.getUTCMinutes())}_${two(d.getUTCSeconds())}.${digits}`;
    const files = volume.items ?? Object.keys(cm.data).map((key) => ({ key, path: key }));
    for (const f of files) fs.addFile(`${mount.mountPath}/${stamp}/${f.path}`, Buffer.from(cm.data[f.key] ?? '', 'utf8'));
    fs.addSymlink(`${mount.mountPath}/..data`, stamp);
    // Only a key's first path component is linked (a nested item path links its top directory).
    for (const top of new Set(files.map((f) => f.path.split('/')[0]!))) fs.addSymlink(`${mount.mountPath}/${top}`, `..data/${top}`);
  }
  return { fs, cwd: container.workingDir ?? '/', env: new Map(container.env.map((e) => [e.name, e.value])) };
}
