/** What the CNI tests share: flannel's delegated bridge configuration, and the CniError a call throws. */
import { CniError } from '../../src/k8s/cni/cni-error.js';
import type { JsonObject } from '../../src/k8s/cni/config.js';
import { thrown } from '../helpers/errors.js';

/**
 * What flannel's CNI plugin hands the bridge plugin on node 1 of the kernel references: the
 * kube-flannel "cbr0" conflist's delegate {hairpinMode, isDefaultGateway} on a node with subnet
 * 10.244.1.0/24, MTU 1450.
 */
export const flannelDelegate: JsonObject = {
  cniVersion: '0.3.1',
  name: 'cbr0',
  type: 'bridge',
  hairpinMode: true,
  isDefaultGateway: true,
  ipMasq: false,
  isGateway: true,
  mtu: 1450,
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]], routes: [{ dst: '10.244.0.0/16' }] },
};

/** The CniError `f` throws (another error is rethrown; no error fails). */
export function caught(f: () => unknown): CniError {
  return thrown(CniError, f);
}
