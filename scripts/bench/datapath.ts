/**
 * The emulated datapath's speed: a long ping stream between two pods on one node (pod eth0 →
 * veth → cni0 → veth → pod eth0 and back), with a pcap on every interface and with captures off
 * (a tap that only counts), reporting emulated packets per second and packet-hops per second
 * (one hop = one device crossing a tap sees).
 */
import { Ping, type PingOptions } from '../../src/apps/ping.js';
import { parseBridgeConfig } from '../../src/k8s/cni/config.js';
import { parseIpv4 } from '../../src/packet/addr.js';
import { benchCluster } from './bench-cluster.js';
import { fmtRate, row } from './measure.js';

const PINGS = 100_000;
const CNI = JSON.stringify({
  cniVersion: '1.0.0', name: 'cbr0', type: 'bridge', bridge: 'cni0', isGateway: true, hairpinMode: true,
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] },
});

interface Figures {
  readonly seconds: number;
  readonly packets: number;
  readonly hops: number;
}

function once(withCaptures: boolean): Figures {
  const b = benchCluster(withCaptures);
  try {
    const { sched, random, cluster } = b;
    cluster.addNode({ name: 'n1', internalIp: parseIpv4('192.168.1.10'), podSubnet: { network: parseIpv4('10.244.1.0'), prefixLen: 24 }, nodeNetworkPrefixLen: 24, mtu: 1500, cni: parseBridgeConfig(CNI) });
    const pa = cluster.addPod({ name: 'pa', namespace: 'default', nodeName: 'n1', uid: 'a' });
    cluster.addPod({ name: 'pb', namespace: 'default', nodeName: 'n1', uid: 'b' });
    sched.run();
    b.resetHops();
    const opts: PingOptions = { dst: parseIpv4('10.244.1.3'), target: '10.244.1.3', count: PINGS, intervalNs: 20_000, dataLen: 56, ttl: undefined, pmtudisc: 'want', quiet: true, lingerNs: 1e9 };
    let exited = false;
    const t0 = process.hrtime.bigint();
    new Ping(opts).start({ ns: pa.netns, sched, random, label: 'bench', stdout: () => {}, stderr: () => {}, exit: () => (exited = true) });
    sched.run();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    b.closeCaptures();
    if (!exited) throw new Error('ping did not finish');
    return { seconds, packets: 2 * PINGS, hops: b.hops() };
  } finally {
    b.dispose();
  }
}

export function benchDatapath(): void {
  once(false); // warm-up
  const runs = (c: boolean) => [once(c), once(c), once(c)].sort((a, b) => a.seconds - b.seconds)[1]!;
  const off = runs(false);
  const on = runs(true);
  console.log(`datapath: ${PINGS} pings pod → pod on one node (${off.hops / off.packets} device crossings per packet), median of 3`);
  row('captures on (pcap per interface, all.pcapng, trace.jsonl)', fmtRate(on.packets / on.seconds, 'packets'), fmtRate(on.hops / on.seconds, 'hops'));
  row('captures off (a tap that counts)', fmtRate(off.packets / off.seconds, 'packets'), fmtRate(off.hops / off.seconds, 'hops'));
}
