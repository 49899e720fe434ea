/**
 * Pairs the capture points of a kernel reference folder with podwire's capture files by role, not
 * by name (fixtures/kernel/README.md, "Reproducing a reference"): a reference file is named
 * kr-<netns>-<iface>.pcap after the namespace it was taken in, podwire's interfaces.json says for
 * each file which host, interface name and kind it belongs to.
 *
 * - kr-pa-eth0 → host pa, eth0 (likewise a node's eth0, cni0, flannel.1 and the external hosts);
 * - kr-n1-veth748aed50 → on host n1, the veth whose peer is the pod P with sha256("kr-" + P)
 *   starting 748aed50: the reference named host veths after a hash of the pod's namespace;
 * - kr-underlay-br0 → the node-network switch's bridge (hostKind "switch").
 */
import { createHash } from 'node:crypto';
import type { RunInterface } from './folders.js';

/** The reference's namespace for the node-network switch (a Linux bridge joining every eth0). */
export const REFERENCE_SWITCH_NETNS = 'underlay';

export type ReferenceRole =
  /** The switch's bridge device. */
  | { readonly kind: 'switch'; readonly device: string }
  /** A node's host-side veth, named after the hash of its pod's namespace. */
  | { readonly kind: 'veth'; readonly host: string; readonly peerHash: string }
  /** Any other device, by host and interface name. */
  | { readonly kind: 'device'; readonly host: string; readonly name: string };

export interface ReferenceCapturePoint {
  /** The file name without .pcap, e.g. `kr-n1-cni0`. */
  readonly name: string;
  readonly file: string;
  /** Without the kr- prefix: `n1`. */
  readonly netns: string;
  readonly iface: string;
  readonly role: ReferenceRole;
}

const VETH_NAME = /^veth([0-9a-f]{8})$/;

/** The capture point a reference file name stands for, or undefined if it is not kr-<netns>-<iface>.pcap. */
export function parseReferenceName(file: string): ReferenceCapturePoint | undefined {
  const m = /^kr-([^-]+)-(.+)\.pcap$/.exec(file);
  if (!m) return undefined;
  const netns = m[1]!;
  const iface = m[2]!;
  const name = file.slice(0, -'.pcap'.length);
  const veth = VETH_NAME.exec(iface);
  let role: ReferenceRole;
  if (netns === REFERENCE_SWITCH_NETNS) role = { kind: 'switch', device: iface };
  else if (veth) role = { kind: 'veth', host: netns, peerHash: veth[1]! };
  else role = { kind: 'device', host: netns, name: iface };
  return { name, file, netns, iface, role };
}

/** The host veth name the reference gives pod `pod`'s peer: veth + 8 hex digits of sha256("kr-" + pod). */
export function referenceVethName(pod: string): string {
  return `veth${createHash('sha256').update(`kr-${pod}`).digest('hex').slice(0, 8)}`;
}

/** Whether a podwire interface plays a reference capture point's role. */
export function playsRole(role: ReferenceRole, i: RunInterface): boolean {
  switch (role.kind) {
    case 'switch':
      return i.hostKind === 'switch' && i.kind === 'bridge';
    case 'veth':
      return (
        i.host === role.host && i.kind === 'veth' && i.peer !== undefined && referenceVethName(i.peer.host) === `veth${role.peerHash}`
      );
    case 'device':
      return i.host === role.host && i.name === role.name;
  }
}

/** Words for a role, with podwire's interface when one plays it ("n1's host veth of pod pa"). */
export function describeRole(role: ReferenceRole, podwire?: RunInterface): string {
  switch (role.kind) {
    case 'switch':
      return `the node-network switch's bridge${podwire ? ` (${podwire.host} ${podwire.name})` : ''}`;
    case 'veth':
      return podwire?.peer
        ? `${role.host}'s host veth of ${podwire.peer.host}`
        : `${role.host}'s host veth of the pod P with sha256("kr-"+P) = ${role.peerHash}…`;
    case 'device':
      return `${role.host} ${role.name}`;
  }
}

export interface RolePair {
  readonly point: ReferenceCapturePoint;
  /** podwire's interface in that role; undefined when podwire wrote no capture there (0 packets). */
  readonly podwire: RunInterface | undefined;
}

export interface RoleMapping {
  readonly pairs: readonly RolePair[];
  /** podwire's interfaces that play no reference capture point's role. */
  readonly extra: readonly RunInterface[];
  /** Ambiguities worth a line in the report (two podwire interfaces in one role). */
  readonly warnings: readonly string[];
}

/**
 * Pairs every reference capture point with the podwire interface in its role. The switch's bridge
 * prefers the interface of the same name when podwire has several bridges on switches.
 */
export function mapByRole(points: readonly ReferenceCapturePoint[], interfaces: readonly RunInterface[]): RoleMapping {
  const used = new Set<RunInterface>();
  const warnings: string[] = [];
  const pairs = points.map((point): RolePair => {
    const candidates = interfaces.filter((i) => playsRole(point.role, i));
    let podwire = candidates[0];
    if (candidates.length > 1) {
      const role = point.role;
      podwire =
        (role.kind === 'switch' && candidates.find((i) => i.name === role.device)) ||
        candidates.find((i) => i.host === REFERENCE_SWITCH_NETNS) ||
        candidates[0];
      warnings.push(
        `${point.name}: ${candidates.length} podwire interfaces play this role (${candidates.map((i) => i.file).join(', ')}); compared with ${podwire!.file}`,
      );
    }
    if (podwire) used.add(podwire);
    return { point, podwire };
  });
  return { pairs, extra: interfaces.filter((i) => !used.has(i)), warnings };
}
