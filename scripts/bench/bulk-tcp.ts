/**
 * A bulk TCP transfer across nodes through flannel's VXLAN path (pod → veth → cni0 → flannel.1 →
 * eth0 → underlay switch → eth0 → flannel.1 → cni0 → veth → pod, and the ACKs back), with a pcap
 * on every interface and with captures off (a tap that only counts), so the capture cost shows on
 * its own. Then the same transfer in clusters of 2, 20 and 200 nodes (two pods per node): the
 * per-packet cost should not grow with the cluster.
 */
import { parseBridgeConfig } from '../../src/k8s/cni/config.js';
import type { Tap } from '../../src/net/tap.js';
import { benchCluster } from './bench-cluster.js';
import { fmtRate, row } from './measure.js';

const BYTES = 20_000_000;
const SCALING_BYTES = 100_000_000;
const SERVER_PORT = 5001;

interface Figures {
  readonly seconds: number;
  readonly packets: number;
  readonly hops: number;
  readonly received: number;
}

function cniConfig(node: number): string {
  return JSON.stringify({
    cniVersion: '0.3.1', name: 'cbr0', type: 'bridge', bridge: 'cni0', isGateway: true, hairpinMode: true, mtu: 1450,
    ipam: { type: 'host-local', ranges: [[{ subnet: `10.244.${node}.0/24` }]], routes: [{ dst: '0.0.0.0/0' }] },
  });
}

/** One transfer of BYTES from a pod on n1 to a pod on n2 in a cluster of `nodes` nodes. */
export function bulkTransfer(nodes: number, withCaptures: boolean, bytes = BYTES): Figures {
  const b = benchCluster(withCaptures);
  try {
    const { sched, cluster } = b;
    for (let i = 1; i <= nodes; i++) {
      cluster.addNode({
        name: `n${i}`, internalIp: (192 << 24 | 168 << 16 | (i >> 8) << 8 | (i & 0xff)) >>> 0, nodeNetworkPrefixLen: 16, mtu: 1500,
        podSubnet: { network: (10 << 24 | 244 << 16 | i << 8) >>> 0, prefixLen: 24 }, cni: parseBridgeConfig(cniConfig(i)),
      });
    }
    cluster.programOverlay('flannel-vxlan');
    const pods = [];
    for (let i = 1; i <= nodes; i++) for (const k of [1, 2]) pods.push(cluster.addPod({ name: `p${i}-${k}`, namespace: 'default', nodeName: `n${i}`, uid: `${i}-${k}` }));
    sched.run(sched.nowNs + 1e9);
    const client = pods[0]!.netns;
    const server = pods[2]!.netns; // the first pod of n2
    const serverIp = server.devices.get('eth0')!.addresses[0]!.address;
    let packets = 0;
    const packetCounter: Tap = { frame: () => void packets++ };
    client.devices.get('eth0')!.taps.push(packetCounter);
    /** One connection moving `n` bytes; returns the wall time from connect() to the server's end of file. */
    const transfer = (n: number, port: number): { seconds: number; received: number } => {
      let received = 0;
      let t1 = 0n;
      const listener = server.tcp.listen({ addr: 0, port }, (c) => {
        c.onData = (d) => void (received += d.length);
        c.onEnd = () => {
          t1 = process.hrtime.bigint();
          c.close();
        };
      });
      const data = new Uint8Array(n).fill(0x5a);
      const t0 = process.hrtime.bigint();
      const conn = client.tcp.connect({ addr: serverIp, port });
      conn.onConnect = () => {
        conn.write(data);
        conn.close();
      };
      sched.run(sched.nowNs + 120e9);
      listener.close();
      return { seconds: Number(t1 - t0) / 1e9, received };
    };
    // A first, short connection in the same cluster: what is measured is the steady state, not
    // the first ARP exchanges nor the collection of the garbage the cluster's setup left.
    transfer(1_000_000, SERVER_PORT + 1);
    b.resetHops();
    packets = 0;
    const { seconds, received } = transfer(bytes, SERVER_PORT);
    b.closeCaptures();
    if (received !== bytes) throw new Error(`bulk transfer: ${received} of ${bytes} bytes arrived`);
    return { seconds, packets, hops: b.hops(), received };
  } finally {
    b.dispose();
  }
}

export function benchBulkTcp(): void {
  bulkTransfer(2, false, 5_000_000); // warm-up: let the JIT settle
  bulkTransfer(2, true, 2_000_000);
  const median = (f: () => Figures) => [f(), f(), f()].sort((a, b) => a.seconds - b.seconds)[1]!;
  const off = median(() => bulkTransfer(2, false));
  const on = median(() => bulkTransfer(2, true));
  console.log(`bulk TCP: ${BYTES / 1e6} MB pod on n1 → pod on n2 through flannel VXLAN, ${on.packets} packets, ${(on.hops / on.packets).toFixed(1)} device crossings per packet, median of 3`);
  row('captures on (pcap per interface, all.pcapng, trace.jsonl)', fmtRate(on.packets / on.seconds, 'packets'), fmtRate(on.hops / on.seconds, 'hops'));
  row('captures off (a tap that counts)', fmtRate(off.packets / off.seconds, 'packets'), fmtRate(off.hops / off.seconds, 'hops'));
  console.log('');
  // 100 MB per transfer: long enough that collector pauses average out the same way in every size.
  console.log(`bulk TCP by cluster size (two pods per node, captures off, ${SCALING_BYTES / 1e6} MB), per packet, median of 3:`);
  const base = median(() => bulkTransfer(2, false, SCALING_BYTES));
  for (const n of [2, 20, 200]) {
    const f = n === 2 ? base : median(() => bulkTransfer(n, false, SCALING_BYTES));
    const nsPerPacket = (f.seconds * 1e9) / f.packets;
    const basePerPacket = (base.seconds * 1e9) / base.packets;
    row(`${n} nodes, ${2 * n} pods`, `${nsPerPacket.toFixed(0)} ns/packet`, `×${(nsPerPacket / basePerPacket).toFixed(2)} of 2 nodes`);
  }
}
