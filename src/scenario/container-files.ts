/**
 * What a container's process sees of its pod spec: its files (configMap volumes, laid out as the
 * kubelet's AtomicWriter writes them — the data in a timestamped directory `..2026_01_01_…`, a
 * `..data` link to it, and one link per key, `key -> ..data/key`, which is why `ls -la` and
 * Python's directory listing show the keys as symlinks), its working directory and environment.
 */
import { ContainerFs } from '../apps/container-fs.js';
import { unixSeconds } from '../apps/wall-clock.js';
import type { Random } from '../sim/random.js';
import type { ConfigMapSpec, ContainerSpec, PodSpec } from './spec.js';

export interface ContainerView {
  readonly fs: ContainerFs;
  readonly cwd: string;
  readonly env: ReadonlyMap<string, string>;
}

export function containerView(pod: PodSpec, container: ContainerSpec, configMaps: readonly ConfigMapSpec[], random: Random, nowNs: number): ContainerView {
  const fs = new ContainerFs(unixSeconds(nowNs));
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
