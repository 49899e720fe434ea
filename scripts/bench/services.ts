/**
 * Service lookup and DNAT per new connection, with 10, 1 000 and 10 000 ClusterIP Services
 * programmed by podwire's kube-proxy (iptables mode, two endpoints each): a TCP SYN to a random
 * Service enters a node's PREROUTING — conntrack creates the entry, the nat table is walked
 * (KUBE-SERVICES → KUBE-SVC-… → KUBE-SEP-…), the DNAT binding is made and the packet rewritten.
 * Reported: connections per second, and how many rules the kernel's linear walk would visit
 * (podwire indexes KUBE-SERVICES, so its own cost should stay flat while that count grows). A
 * last figure keeps 10 000 Services but connects to 10 of them, to tell the rule count apart from
 * the memory a random choice over 10 000 Services touches.
 */
import { ensureKubeletFirewall } from '../../src/k8s/kube-proxy/kubelet-firewall.js';
import type { ProxyService } from '../../src/k8s/kube-proxy/model.js';
import { NodeKubeProxy } from '../../src/k8s/kube-proxy/node-proxy.js';
import { nfPreRouting } from '../../src/net/nf-hooks.js';
import { Netns } from '../../src/net/netns.js';
import { Skb } from '../../src/net/skb.js';
import { buildSegment, NO_OPTIONS } from '../../src/net/tcp-output.js';
import * as tcp from '../../src/packet/tcp.js';
import { parseIpv4 } from '../../src/packet/addr.js';
import { Random } from '../../src/sim/random.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { fmtRate, measureRate, row } from './measure.js';

const SERVICE_BASE = parseIpv4('10.96.0.0');
const POD_BASE = parseIpv4('10.244.0.0');

function services(n: number): ProxyService[] {
  const out: ProxyService[] = [];
  for (let i = 0; i < n; i++) {
    const ep = (k: number) => ({ ip: (POD_BASE + 2 * i + k + 2) >>> 0, port: 8080, ready: true, isLocal: false });
    out.push({ namespace: 'default', name: `svc-${i}`, clusterIP: (SERVICE_BASE + 16 + i) >>> 0, ports: [{ name: 'http', protocol: 'TCP', port: 80, endpoints: [ep(0), ep(1)] }] });
  }
  return out;
}

export function serviceConnections(n: number, hot = n): { rate: number; traversed: number } {
  const sched = new Scheduler();
  const ns = new Netns('n1', sched, new Random(1));
  const dev = ns.lo; // the hook only needs a device name for -i matches
  const nf = ns.ensureNetfilter();
  ensureKubeletFirewall(nf.ruleset);
  new NodeKubeProxy('n1', ns, { clusterCidr: { addr: POD_BASE, prefixLen: 16 } }).sync(services(n));
  const ct = nf.conntrack!;
  // One SYN template per Service; each connection copies one into a scratch skb (NAT rewrites it).
  const templates = Array.from({ length: n }, (_, i) =>
    buildSegment({ src: parseIpv4('10.244.200.2'), dst: (SERVICE_BASE + 16 + i) >>> 0, srcPort: 40000, dstPort: 80, seq: 1, ack: 0, flags: tcp.SYN, window: 64240, id: 1, dontFragment: true, ttl: 64, tos: 0 }, NO_OPTIONS, 0),
  );
  const scratch = Skb.alloc(templates[0]!.len);
  const pick = new Random(7).stream('bench');
  let sport = 1024;
  let walked = 0;
  let conns = 0;
  const rate = measureRate((iterations) => {
    for (let k = 0; k < iterations; k++) {
      const t = templates[(pick.nextU32() % hot) * Math.floor(n / hot)]!; // `hot` Services spread over the table
      t.buf.copy(scratch.buf, scratch.head, t.head, t.end);
      scratch.len = t.len;
      scratch.networkOffset = scratch.head;
      scratch.ct = null;
      tcp.setSrcPort(scratch.buf, scratch.head + 20, (sport = sport === 65535 ? 1024 : sport + 1));
      const before = nf.evaluator.stats.traversed;
      const out = nfPreRouting(ns, scratch, dev);
      if (out === null || out.ct === null) throw new Error('bench: the SYN was dropped');
      walked += nf.evaluator.stats.traversed - before;
      conns++;
      ct.remove(out.ct); // steady state: the table does not grow with the iteration count
    }
  }, 300, 3);
  return { rate: rate.perSecond, traversed: walked / conns };
}

export function benchServices(): void {
  console.log('services: a new TCP connection to a random ClusterIP through PREROUTING (conntrack + nat table + DNAT)');
  for (const n of [10, 1000, 10000]) {
    const r = serviceConnections(n);
    row(`${n} Services (kube-proxy iptables layout)`, fmtRate(r.rate, 'conns'), `${(1e9 / r.rate).toFixed(0)} ns each; kernel walk: ${r.traversed.toFixed(0)} rules/conn`);
  }
  // The same 10 000 rules, connections to 10 Services spread over it (the
  // kernel would still walk thousands of rules): what is left is the memory the
  // random choice touches (rules, chains, counters of 10 000 Services), not the rule count.
  const hot = serviceConnections(10000, 10);
  row('10000 Services, connections to 10 of them', fmtRate(hot.rate, 'conns'), `${(1e9 / hot.rate).toFixed(0)} ns each; kernel walk: ${hot.traversed.toFixed(0)} rules/conn`);
}
