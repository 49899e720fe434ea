/**
 * sameNodeTopology plus a routed hop: node n1's eth0 (192.168.1.10/24) on a veth to an external
 * host `ext` (192.168.1.20/24, route to the pod network via n1). Pods reach ext through n1's
 * forwarding path (cni0 in, eth0 out), with the same recording tap on the new devices.
 *
 *   pa 10.244.1.2 ─┐
 *                  cni0 10.244.1.1 ── n1 ── eth0 192.168.1.10 ═══ eth0 192.168.1.20 ext
 *   pb 10.244.1.3 ─┘
 */
import { parseIpv4, parseMac } from '../../src/packet/addr.js';
import { Netns } from '../../src/net/netns.js';
import { sameNodeTopology } from './topology.js';

export const N1_ETH0_MAC = '0a:00:00:00:0a:01';
export const EXT_ETH0_MAC = '0e:00:00:00:0a:02';
/** cni0 takes its first port's MAC (veth0's). */
export const CNI0_MAC = '0a:00:00:00:01:01';
export const PA_MAC = '0e:00:00:00:02:01';
export const PB_MAC = '0e:00:00:00:02:02';

export function routedTopology(seed = 1) {
  const t = sameNodeTopology(seed);
  const ext = new Netns('ext', t.sched, t.random);
  const [n1Eth0, extEth0] = Netns.addVethPair(t.node, 'eth0', parseMac(N1_ETH0_MAC), ext, 'eth0', parseMac(EXT_ETH0_MAC), 1500);
  t.node.addAddress(n1Eth0, parseIpv4('192.168.1.10'), 24);
  t.node.linkUp(n1Eth0);
  ext.addAddress(extEth0, parseIpv4('192.168.1.20'), 24);
  ext.linkUp(extEth0);
  ext.addRoute({ dst: parseIpv4('10.244.0.0'), prefixLen: 16, gateway: parseIpv4('192.168.1.10'), dev: extEth0 });
  for (const d of [n1Eth0, ...ext.devices.values()]) d.taps.push(t.tap);
  return { ...t, ext, n1Eth0, extEth0 };
}
