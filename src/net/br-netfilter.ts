/**
 * br_netfilter (net/bridge/br_netfilter_hooks.c): with net.bridge.bridge-nf-call-iptables=1 —
 * which Kubernetes requires — IPv4 frames crossing a bridge pass the IPv4 hooks as if routed:
 * PREROUTING when they enter (in = the bridge, physdev-in = the port), FORWARD and POSTROUTING
 * when bridged out of a port. That is how a pod's packet to a ClusterIP is DNATed on its node even
 * when the chosen endpoint sits on the same bridge:
 *
 * - DNAT to an address routed elsewhere: the frame is re-addressed to the bridge's own MAC and
 *   passed up to be routed (br_nf_pre_routing_finish).
 * - DNAT to an address on the bridge itself ("bridged DNAT"): the frame stays bridged, with the
 *   new destination's MAC from the bridge device's neighbour table; when that is not resolved yet
 *   the frame goes out through the neighbour code (ARP from the bridge's address, the frame then
 *   sent with the bridge's MAC as source — a tap on the bridge sees it), and br_dev_xmit restores
 *   the sender's MAC and bridges it on (br_nf_pre_routing_finish_bridge / _slow).
 *
 * IP PREROUTING is not run a second time for a frame passed up (ip_sabotage_in).
 */
import * as ethernet from '../packet/ethernet.js';
import * as ipv4 from '../packet/ipv4.js';
import { verifies } from '../packet/checksum.js';
import type { Bridge, BridgeNetfilter } from './bridge.js';
import type { NetDevice } from './device.js';
import { NudState } from './neighbour.js';
import { nfForward, nfPostRouting, nfPreRouting } from './nf-hooks.js';
import type { Netns } from './netns.js';
import type { Skb } from './skb.js';

const NUD_CONNECTED = NudState.Permanent | NudState.NoArp | NudState.Reachable;

export function bridgeNetfilterOf(ns: Netns): BridgeNetfilter {
  const active = (): boolean => ns.netfilter !== null && ns.sysctl.bridgeNfCallIptables;
  return {
    preRouting(br: Bridge, port: NetDevice, skb: Skb): Skb | null {
      if (!active() || ethernet.ethertype(skb.buf, skb.head) !== ethernet.ETHERTYPE_IPV4) return skb;
      return preRouting(ns, br, port, skb);
    },
    forward(br: Bridge, outPort: NetDevice, skb: Skb): boolean {
      const nb = skb.nfBridge;
      if (!active() || nb === null) return true;
      nb.physOut = outPort;
      skb.networkOffset = skb.head + ethernet.HEADER_LEN;
      // br_nf_forward_ip: in and out are the bridge (the logical devices), the ports physdev.
      if (!nfForward(ns, skb, br, br)) return false;
      return nfPostRouting(ns, skb, br, br, ipv4.dst(skb.buf, skb.networkOffset));
    },
  };
}

function preRouting(ns: Netns, br: Bridge, port: NetDevice, skb: Skb): Skb | null {
  const b = skb.buf;
  const ip = skb.head + ethernet.HEADER_LEN;
  // br_validate_ipv4: a bad header is dropped here, as ip_rcv would.
  const avail = skb.len - ethernet.HEADER_LEN;
  if (avail < ipv4.HEADER_LEN) return drop(ns, port, skb, 'br_netfilter: truncated IPv4 header');
  const hl = ipv4.headerLen(b, ip);
  if (ipv4.version(b, ip) !== 4 || hl < ipv4.HEADER_LEN || hl > avail || !verifies(b, ip, ip + hl)) return drop(ns, port, skb, 'br_netfilter: bad IPv4 header');
  const total = ipv4.totalLength(b, ip);
  if (total < hl || total > avail) return drop(ns, port, skb, 'br_netfilter: bad IPv4 total length');
  skb.trim(ethernet.HEADER_LEN + total);
  const ethDst = ethernet.dst(b, skb.head);
  const ethSrc = ethernet.src(b, skb.head);
  skb.networkOffset = ip;
  skb.enterBridge(port);
  const origDst = ipv4.dst(b, ip);
  let out = nfPreRouting(ns, skb, br);
  if (out === null) return null;
  if (out !== skb) {
    // conntrack reassembled the datagram: it continues as one frame behind the last fragment's header.
    const off = out.push(ethernet.HEADER_LEN);
    ethernet.emit({ dst: ethDst, src: ethSrc, ethertype: ethernet.ETHERTYPE_IPV4 }, out.buf, off);
    out.ingressIfindex = skb.ingressIfindex;
  }
  const nb = out.nfBridge!;
  nb.preroutingDone = true;
  const newDst = ipv4.dst(out.buf, out.networkOffset);
  if (newDst === origDst) return out;
  // br_nf_pre_routing_finish: the destination changed, so the routing decides.
  const route = ns.fib.lookup(newDst);
  if (!route) return drop(ns, br, out, 'br_netfilter: no route to the DNAT destination');
  if (route.type === 'unicast' && route.dev === br && route.gateway === undefined) {
    const n = ns.neigh.lookup(br, newDst);
    if (n !== undefined && (n.state & NUD_CONNECTED) !== 0 && n.lladdr !== undefined) {
      ethernet.setDst(out.buf, out.head, n.lladdr); // neigh_hh_bridge: only the destination MAC
      return out;
    }
    nb.bridgedDnat = true;
    nb.savedSrcMac = ethernet.src(out.buf, out.head);
    out.pull(ethernet.HEADER_LEN);
    ns.neigh.output(br, newDst, out);
    return null;
  }
  ethernet.setDst(out.buf, out.head, br.mac);
  out.isForHost = true;
  return out;
}

function drop(ns: Netns, dev: NetDevice, skb: Skb, reason: string): null {
  ns.drop(dev, skb, reason);
  return null;
}
