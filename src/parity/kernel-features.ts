/**
 * What this machine's kernel can realize. A kernel built without a device driver (this one has
 * veth, bridge and vxlan, but no ipip, gre, dummy, macvlan, ipvlan, WireGuard or IPVS) cannot
 * hold a topology that uses it, and parity must say so — "not realizable here" — rather than fail
 * half-way through building it or, worse, pass without it.
 *
 * The probe asks the kernel itself, once per run, in a scratch namespace of parity's own
 * (`<prefix>-probe`, deleted by exact name before the probe returns): `ip link add … type KIND`
 * succeeds only when the kernel has (or can load) the driver — rtnl_link_ops lookup, then
 * request_module("rtnl-link-KIND") in net/core/rtnetlink.c — and IPVS is there when its per-netns
 * /proc/net/ip_vs exists (ip_vs_control_net_init) or its module can be loaded.
 */
import { runCommand } from './kernel.js';

/** A feature a realization may need: an `ip link` device type, or IPVS (kube-proxy mode ipvs). */
export type KernelFeature = 'veth' | 'bridge' | 'vxlan' | 'ipip' | 'gre' | 'dummy' | 'macvlan' | 'ipvlan' | 'wireguard' | 'ipvs';

/** The kernel module that provides each feature (what a kernel without it lacks). */
export const FEATURE_MODULE: Readonly<Record<KernelFeature, string>> = {
  veth: 'veth',
  bridge: 'bridge',
  vxlan: 'vxlan',
  ipip: 'ipip',
  gre: 'ip_gre',
  dummy: 'dummy',
  macvlan: 'macvlan',
  ipvlan: 'ipvlan',
  wireguard: 'wireguard',
  ipvs: 'ip_vs',
};

export const ALL_FEATURES = Object.keys(FEATURE_MODULE) as KernelFeature[];

/** The probe's answer: per feature, whether the kernel has it (and, when not, what it said). */
export type FeatureProbe = ReadonlyMap<string, { readonly ok: true } | { readonly ok: false; readonly detail: string }>;

/**
 * Why `feature` cannot be realized with this kernel, or undefined when it can. A feature the probe
 * never asked about is not realizable either: parity claims only what it has seen the kernel do.
 */
export function unsupportedReason(feature: string, probe: FeatureProbe): string | undefined {
  const r = probe.get(feature);
  const module = (FEATURE_MODULE as Record<string, string | undefined>)[feature] ?? feature;
  if (r === undefined) return `not realizable here: ${feature} (not probed on this kernel)`;
  return r.ok ? undefined : `not realizable here: ${feature} (this kernel has no ${module})`;
}

/** The reasons, one per distinct feature in `features` that this kernel lacks, in first-use order. */
export function unsupportedFeatures(features: Iterable<string>, probe: FeatureProbe): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of features) {
    if (seen.has(f)) continue;
    seen.add(f);
    const r = unsupportedReason(f, probe);
    if (r !== undefined) out.push(r);
  }
  return out;
}

/** The `ip link add` arguments that make one device of `kind` (a veth pair lends macvlan/ipvlan a lower device). */
function linkAddArgs(kind: Exclude<KernelFeature, 'ipvs'>, name: string, lower: string): string[] {
  switch (kind) {
    case 'veth':
      return ['link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`];
    case 'vxlan':
      return ['link', 'add', name, 'type', 'vxlan', 'id', '1', 'dstport', '4789'];
    case 'macvlan':
    case 'ipvlan':
      return ['link', 'add', name, 'link', lower, 'type', kind];
    case 'ipip':
    case 'gre':
      return ['link', 'add', name, 'type', kind, 'local', '192.0.2.1', 'remote', '192.0.2.2'];
    default:
      return ['link', 'add', name, 'type', kind];
  }
}

/**
 * Probes every feature in the namespace `<prefix>-probe` (created here and deleted here, by exact
 * name, whatever happens). Each device is made and deleted at once; nothing leaves the namespace.
 */
export function probeKernelFeatures(prefix: string): FeatureProbe {
  const ns = `${prefix}-probe`;
  const result = new Map<string, { ok: true } | { ok: false; detail: string }>();
  const add = runCommand(['ip', 'netns', 'add', ns]);
  if (add.code !== 0) throw new Error(`ip netns add ${ns}: ${add.stderr.trim()}`);
  try {
    const lower = 'pwprobelow';
    // The lower device for macvlan/ipvlan: a veth (realizations need veth in any case).
    const low = runCommand(['ip', '-n', ns, 'link', 'add', lower, 'type', 'veth', 'peer', 'name', `${lower}p`]);
    for (const f of ALL_FEATURES) {
      if (f === 'ipvs') continue;
      if ((f === 'macvlan' || f === 'ipvlan') && low.code !== 0) {
        result.set(f, { ok: false, detail: `no lower device to attach to: ${low.stderr.trim()}` });
        continue;
      }
      const name = `pwprobe${ALL_FEATURES.indexOf(f)}`;
      const r = runCommand(['ip', '-n', ns, ...linkAddArgs(f, name, lower)]);
      if (r.code === 0) {
        result.set(f, { ok: true });
        runCommand(['ip', '-n', ns, 'link', 'del', name]);
      } else {
        result.set(f, { ok: false, detail: r.stderr.trim() });
      }
    }
    const ipvs = runCommand(['ip', 'netns', 'exec', ns, 'test', '-e', '/proc/net/ip_vs']);
    const loadable = runCommand(['modinfo', '-F', 'name', FEATURE_MODULE.ipvs]);
    result.set('ipvs', ipvs.code === 0 || loadable.code === 0 ? { ok: true } : { ok: false, detail: 'no /proc/net/ip_vs and no ip_vs module' });
  } finally {
    runCommand(['ip', 'netns', 'del', ns]);
  }
  return result;
}
