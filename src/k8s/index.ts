/**
 * k8s/ — the control plane as a pure model: what real controllers and CNI plugins compute and the
 * kernel calls they make, never frames. So far: per-node pod subnets (node IPAM), the bridge CNI
 * plugin with host-local IPAM (its on-disk store kept in memory, byte for byte), CNI network
 * configurations and result JSON per spec version. The plugin programs the emulated kernel
 * through the Netlink/Iptables interfaces that net/ implements.
 */
export * from './ipv4-range.js';
export * from './cluster-ranges.js';
export * from './cni/cni-error.js';
export * from './cni/cni-args.js';
export * from './cni/config.js';
export * from './cni/result.js';
export * from './cni/netlink.js';
export * from './cni/bridge-plugin.js';
export { marshalIndent, sortKeysDeep, goQuote, type GoJsonValue } from './cni/go-json.js';
export * from './ipam/host-local.js';
