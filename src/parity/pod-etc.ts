/**
 * A process in a pod's kernel namespace sees what the pod's container sees of /etc: the hostname
 * the kubelet sets (a UTS namespace of its own) and the kubelet's /etc/hosts and /etc/resolv.conf
 * bound over the machine's in the mount namespace `ip netns exec` makes for it (a slave of the
 * machine's: nothing propagates back). Servers need it (http.server's getfqdn must not become DNS
 * traffic), and so do clients: glibc, dig and nslookup read resolv.conf for the nameserver
 * (kube-dns's ClusterIP), the search list and ndots:5, and hosts before DNS.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PodEtc {
  readonly hostname: string;
  /** Paths on this machine of the files to bind. */
  readonly hosts: string;
  readonly resolvConf: string;
}

/** Writes `hosts` and `resolvConf` as `dir/etc/hosts` and `dir/etc/resolv.conf`. */
export function writePodEtc(dir: string, hostname: string, hosts: Uint8Array, resolvConf: Uint8Array): PodEtc {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  const etc = { hostname, hosts: join(dir, 'etc/hosts'), resolvConf: join(dir, 'etc/resolv.conf') };
  writeFileSync(etc.hosts, hosts);
  writeFileSync(etc.resolvConf, resolvConf);
  return etc;
}

/** `argv` run in `kernelNetns` with the pod's hostname and /etc files; sh execs it, so its PID is the program's. */
export function inPodNamespace(kernelNetns: string, etc: PodEtc, argv: readonly string[]): string[] {
  return [
    'ip', 'netns', 'exec', kernelNetns,
    'unshare', '--uts', 'sh', '-c',
    'hostname "$1" && mount --bind "$2" /etc/hosts && mount --bind "$3" /etc/resolv.conf && shift 3 && exec "$@"',
    'sh', etc.hostname, etc.hosts, etc.resolvConf,
    ...argv,
  ];
}
