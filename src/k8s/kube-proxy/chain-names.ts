/**
 * kube-proxy's per-service and per-endpoint chain names (k/k pkg/proxy/iptables/proxier.go:
 * portProtoHash, servicePortPolicyClusterChain, servicePortEndpointChainName). The suffix is the
 * first 16 characters of base32.StdEncoding(sha256(servicePortName + protocol [+ "IP:port"])),
 * which keeps names within iptables' 28-character limit.
 */
import { createHash } from 'node:crypto';

/** RFC 4648 base32 alphabet, as Go's base32.StdEncoding. */
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first `chars` characters of the base32 (RFC 4648, padded) encoding of `bytes`. */
function base32Prefix(bytes: Uint8Array, chars: number): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(acc >>> bits) & 31];
      if (out.length === chars) return out;
    }
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31];
  return out.slice(0, chars);
}

function hash16(text: string): string {
  return base32Prefix(createHash('sha256').update(text, 'utf8').digest(), 16);
}

/**
 * ServicePortName.String() (pkg/proxy/types.go): `ns/name:port`, or `ns/name` when the port is
 * unnamed (fmtPortName drops the colon).
 */
export function servicePortName(namespace: string, name: string, portName: string): string {
  return portName === '' ? `${namespace}/${name}` : `${namespace}/${name}:${portName}`;
}

/** portProtoHash: protocol is lower case ("tcp", "udp", "sctp"), as newServiceInfo lowers it. */
export function portProtoHash(spn: string, protocol: string): string {
  return hash16(spn + protocol);
}

export const svcChainName = (spn: string, protocol: string): string => `KUBE-SVC-${portProtoHash(spn, protocol)}`;
export const svlChainName = (spn: string, protocol: string): string => `KUBE-SVL-${portProtoHash(spn, protocol)}`;
export const extChainName = (spn: string, protocol: string): string => `KUBE-EXT-${portProtoHash(spn, protocol)}`;
export const fwChainName = (spn: string, protocol: string): string => `KUBE-FW-${portProtoHash(spn, protocol)}`;

/** servicePortEndpointChainName: `endpoint` is BaseEndpointInfo.String(), "IP:port". */
export function sepChainName(spn: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${hash16(spn + protocol + endpoint)}`;
}
