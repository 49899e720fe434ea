/**
 * Per-node pod subnets split from the cluster's pod CIDR, as kube-controller-manager's node IPAM
 * (`--allocate-node-cidrs`, pkg/controller/nodeipam/ipam/range_allocator.go over cidrset) hands
 * them out: `--node-cidr-mask-size` 24 by default for IPv4; nodes that already have a
 * `spec.podCIDR` keep it and it is marked used first (`occupyCIDRs`); every other node, in node
 * order, gets the next free subnet counting from the start of the pod CIDR (`AllocateNext`, whose
 * cursor starts at 0 and moves past each allocation). With no explicit podCIDRs the n-th node
 * (from 0) gets the n-th subnet: 10.244.0.0/24, 10.244.1.0/24, …
 *
 * Errors: an explicit podCIDR outside the pod CIDR fails as the controller does at start
 * ("failed to mark cidr[…] at idx [0] as occupied for node: …: cidr … is out the range of cluster
 * cidr …"); running out is cidrset's "CIDR allocation failed; there are no remaining CIDRs left to
 * allocate in the accepted range". Two nodes with the same or overlapping explicit podCIDRs are
 * refused here (the controller would accept them and break the network), as is a node mask
 * shorter than the cluster's.
 */
import {
  cidrsOverlap,
  formatIpv4Cidr,
  maskedCidr,
  networkAddress,
  parseIpv4Cidr,
  type Ipv4Cidr,
} from './ipv4-range.js';

export const DEFAULT_NODE_CIDR_MASK_SIZE_V4 = 24;

export class ClusterRangeError extends Error {
  override readonly name = 'ClusterRangeError';
}

/**
 * A prefix as text ("10.244.0.0/16"), as ipv4-range.ts parses it, or as a `{ network, prefixLen }`
 * value such as scenario/cidr.ts's Cidr.
 */
export type CidrInput = string | Ipv4Cidr | { readonly network: number; readonly prefixLen: number };

export interface NodeCidrRequest {
  readonly name: string;
  /** spec.podCIDR when the node has one. */
  readonly podCidr?: CidrInput;
}

export interface NodePodCidr {
  readonly node: string;
  /** Masked to its network. */
  readonly cidr: Ipv4Cidr;
  /** "a.b.c.d/n". */
  readonly text: string;
  /** True when the node brought it (spec.podCIDR), false when allocated here. */
  readonly explicit: boolean;
}

export interface ClusterRangesOptions {
  /** The pod CIDR (`--cluster-cidr`). */
  readonly clusterCidr: CidrInput;
  /** `--node-cidr-mask-size`; default 24. */
  readonly nodeMaskSize?: number;
}

function asCidr(c: CidrInput): Ipv4Cidr {
  if (typeof c === 'string') return parseIpv4Cidr(c);
  return 'ip' in c ? c : { ip: c.network, prefixLen: c.prefixLen };
}

/** Subnets for `nodes`, in their order. Throws ClusterRangeError. */
export function allocateNodePodCidrs(opts: ClusterRangesOptions, nodes: readonly NodeCidrRequest[]): NodePodCidr[] {
  const cluster = maskedCidr(asCidr(opts.clusterCidr));
  const clusterText = formatIpv4Cidr(cluster);
  const nodeMask = opts.nodeMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE_V4;
  if (!Number.isInteger(nodeMask) || nodeMask < cluster.prefixLen || nodeMask > 32) {
    throw new ClusterRangeError(`node CIDR mask size ${nodeMask} must be between the cluster CIDR's ${cluster.prefixLen} and 32 (cluster CIDR ${clusterText})`);
  }
  const maxCidrs = 2 ** (nodeMask - cluster.prefixLen);
  const base = networkAddress(cluster);
  const used = new Set<number>();
  const indexOf = (ip: number): number => Math.floor((ip - base) / 2 ** (32 - nodeMask));

  const out = new Map<string, NodePodCidr>();
  const explicit: NodePodCidr[] = [];
  for (const n of nodes) {
    if (n.podCidr === undefined) continue;
    const c = maskedCidr(asCidr(n.podCidr));
    const text = formatIpv4Cidr(c);
    // cidrset getBeginingAndEndIndices: neither contains the other's network.
    if (!cidrsOverlap(cluster, c)) {
      throw new ClusterRangeError(`failed to mark cidr[${text}] at idx [0] as occupied for node: ${n.name}: cidr ${text} is out the range of cluster cidr ${clusterText}`);
    }
    const clash = explicit.find((e) => cidrsOverlap(e.cidr, c));
    if (clash !== undefined) {
      throw new ClusterRangeError(`node ${n.name}: podCIDR ${text} ${clash.text === text ? 'is already the podCIDR of' : `overlaps podCIDR ${clash.text} of`} node ${clash.node}`);
    }
    const entry: NodePodCidr = { node: n.name, cidr: c, text, explicit: true };
    explicit.push(entry);
    out.set(n.name, entry);
    if (c.prefixLen <= cluster.prefixLen) {
      for (let i = 0; i < maxCidrs; i++) used.add(i);
    } else {
      const begin = indexOf(networkAddress({ ip: c.ip, prefixLen: nodeMask }));
      const last = (c.ip + 2 ** (32 - c.prefixLen) - 1) >>> 0;
      const end = indexOf(last);
      for (let i = begin; i <= end; i++) used.add(i);
    }
  }

  let nextCandidate = 0;
  for (const n of nodes) {
    if (n.podCidr !== undefined) continue;
    let found = -1;
    for (let i = 0; i < maxCidrs; i++) {
      const candidate = (i + nextCandidate) % maxCidrs;
      if (!used.has(candidate)) {
        found = candidate;
        break;
      }
    }
    if (found < 0) throw new ClusterRangeError('CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range');
    nextCandidate = (found + 1) % maxCidrs;
    used.add(found);
    const cidr: Ipv4Cidr = { ip: (base + found * 2 ** (32 - nodeMask)) >>> 0, prefixLen: nodeMask };
    out.set(n.name, { node: n.name, cidr, text: formatIpv4Cidr(cidr), explicit: false });
  }
  return nodes.map((n) => out.get(n.name) as NodePodCidr);
}
