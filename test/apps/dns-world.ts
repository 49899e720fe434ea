/**
 * The small DNS world of dns.test.ts for the DNS tools' tests: pod pb (10.244.1.3) runs CoreDNS
 * with the kube-dns Corefile and a fixed Service view, pod pa (10.244.1.2) runs the tool with a
 * ClusterFirst-style resolv.conf; `run` drives the clock until the tool exits, `wire` decodes the
 * DNS datagrams pa sent and received.
 */
import type { AppContext } from '../../src/apps/app.js';
import { ContainerFs } from '../../src/apps/container-fs.js';
import type { KubernetesDnsView } from '../../src/apps/kubernetes-dns.js';
import { programFor } from '../../src/apps/programs.js';
import { kubeletHostsFile } from '../../src/apps/resolv-conf.js';
import { parseIpv4 } from '../../src/packet/addr.js';
import * as dns from '../../src/packet/dns.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as udp from '../../src/packet/udp.js';
import { sameNodeTopology } from '../helpers/topology.js';

export const COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    hosts {
       192.168.1.100 api.example.com
       ttl 5
       fallthrough
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    cache 30
    loop
    reload
    loadbalance
}
`;

export const SERIAL = 1_767_225_000;
export const view: KubernetesDnsView = {
  namespaceExists: (ns) => ns === 'default' || ns === 'kube-system',
  service: (ns, name) => (ns === 'default' && name === 'my-svc' ? { namespace: 'default', name: 'my-svc', clusterIp: parseIpv4('10.96.0.100'), ports: [{ name: 'http', protocol: 'TCP', port: 80 }] } : ns === 'default' && name === 'db' ? { namespace: 'default', name: 'db', clusterIp: null, ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }] } : undefined),
  endpoints: (ns, name) => (ns === 'default' && name === 'db' ? [{ ip: parseIpv4('10.244.1.7'), hostname: 'db-0', ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }] }] : []),
  services: () => [view.service('default', 'my-svc')!, view.service('default', 'db')!],
  modifiedUnixSec: () => SERIAL,
};

export function fsWith(files: Record<string, string>): ContainerFs {
  const fs = new ContainerFs(0);
  for (const [p, t] of Object.entries(files)) fs.addFile(p, new TextEncoder().encode(t));
  return fs;
}

/** `mergeStderr`: the program's stderr goes into `out` too, in order (as a terminal shows both). */
export function setup(clientResolv = 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.244.1.3\noptions ndots:5\n', mergeStderr = false) {
  const t = sameNodeTopology();
  const [pa, pb] = t.pods as [typeof t.pods[0], typeof t.pods[0]];
  const out = { server: '' };
  const serverCtx: AppContext = {
    ns: pb, sched: t.sched, random: t.random, label: 'pb/coredns', fs: fsWith({ '/etc/coredns/Corefile': COREFILE }), kubernetesDns: view,
    stdout: (s) => (out.server += s), stderr: (s) => (out.server += s), exit: () => {},
  };
  programFor(['/coredns', '-conf', '/etc/coredns/Corefile']).start(serverCtx);
  const clientFs = fsWith({ '/etc/resolv.conf': clientResolv, '/etc/hosts': kubeletHostsFile({ podIp: '10.244.1.2', hostname: 'pa' }) });
  const run = (argv: string[]) => {
    const p = { out: '', err: '', code: undefined as number | undefined };
    const ctx: AppContext = { ns: pa, sched: t.sched, random: t.random, label: `pa/${argv[0]}`, fs: clientFs, stdout: (s) => (p.out += s), stderr: (s) => (mergeStderr ? (p.out += s) : (p.err += s)), exit: (c) => (p.code ??= c) };
    programFor(argv).start(ctx);
    for (let n = t.sched.peekTimeNs(); p.code === undefined && n !== undefined && n < t.sched.nowNs + 60e9; n = t.sched.peekTimeNs()) t.sched.run(n);
    t.sched.run(t.sched.nowNs + 1e6);
    return p;
  };
  /** The DNS datagrams pa sent and received, decoded, with their ports. */
  const wire = () =>
    t.tap.at('pa/eth0')
      .filter((f) => f.bytes[12] === 0x08 && f.bytes[13] === 0x00 && ipv4.protocol(f.bytes, 14) === ipv4.PROTO_UDP)
      .map((f) => {
        const l4 = 14 + ipv4.headerLen(f.bytes, 14);
        const m = dns.parse(f.bytes, l4 + udp.HEADER_LEN);
        return { dir: f.dir, timeNs: f.timeNs, src: udp.srcPort(f.bytes, l4), dst: udp.dstPort(f.bytes, l4), df: (f.bytes[14 + 6]! & 0x40) !== 0, m, raw: f.bytes.subarray(l4 + udp.HEADER_LEN) };
      });
  return { t, run, wire, out };
}

