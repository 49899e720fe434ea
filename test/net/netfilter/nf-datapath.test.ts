/**
 * The netfilter hooks on the datapath, on a hand-built node (routedTopology: pods pa/pb on n1's
 * cni0, an external host behind n1's eth0) with rules loaded as iptables-restore would: DNAT of
 * a "ClusterIP" to a pod on the same bridge (br_netfilter's bridged DNAT) and to a routed
 * destination, MASQUERADE --random-fully, REJECT, counters, and what conntrack keeps.
 */
import { describe, expect, it } from 'vitest';
import { formatIpv4, parseIpv4 } from '../../../src/packet/addr.js';
import * as ethernet from '../../../src/packet/ethernet.js';
import * as icmp from '../../../src/packet/icmp.js';
import * as ipv4 from '../../../src/packet/ipv4.js';
import * as tcp from '../../../src/packet/tcp.js';
import { restoreNoFlush } from '../../../src/k8s/kube-proxy/iptables-client.js';
import { renderConntrackList } from '../../../src/net/netfilter/conntrack-list.js';
import type { TcpConnection } from '../../../src/net/tcp-api.js';
import type { Netns } from '../../../src/net/netns.js';
import { UdpSocket } from '../../../src/net/udp-socket.js';
import { routedTopology } from '../../helpers/routed-topology.js';
import type { Recorded } from '../../helpers/topology.js';
import { tapCaptureProblems } from '../../helpers/net-kit.js';

const IP = ethernet.HEADER_LEN;
const text = (s: string) => new TextEncoder().encode(s);

function withRules(rules: string) {
  const t = routedTopology(1);
  const nf = t.node.ensureNetfilter();
  t.node.sysctl.bridgeNfCallIptables = true;
  restoreNoFlush(nf.ruleset, rules);
  nf.commit();
  return { ...t, nf };
}

/** A server answering every request line with `reply`, closing after the client does. */
function serve(ns: Netns, port: number, reply: string, seen: { from: string[] }) {
  ns.tcp.listen({ addr: 0, port }, (c: TcpConnection) => {
    seen.from.push(`${formatIpv4(c.remote.addr)}:${c.remote.port}`);
    c.onData = () => c.write(text(reply));
    c.onEnd = () => c.close();
  });
}

/** Connects, sends one request, reads the answer, closes; returns what happened. */
function request(ns: Netns, to: string, port: number) {
  const out = { connected: false, body: '', error: '', local: '' };
  const c = ns.tcp.connect({ addr: parseIpv4(to), port });
  c.onConnect = () => {
    out.connected = true;
    out.local = `${formatIpv4(c.local.addr)}:${c.local.port}`;
    c.write(text('GET / HTTP/1.1\r\n\r\n'));
  };
  c.onData = (d) => {
    out.body += new TextDecoder().decode(d);
    c.close();
  };
  c.onError = (e) => (out.error = e);
  return out;
}

function tcpLine(f: Recorded): string {
  const b = f.bytes;
  if (ethernet.ethertype(b, 0) === ethernet.ETHERTYPE_ARP) return `${f.dir} arp`;
  const t = ipv4.payloadOffset(b, IP);
  const proto = ipv4.protocol(b, IP);
  const addr = (a: number, p: number) => `${formatIpv4(a)}${proto === ipv4.PROTO_ICMP ? '' : `:${p}`}`;
  const flags = proto === ipv4.PROTO_TCP ? [[tcp.SYN, 'S'], [tcp.FIN, 'F'], [tcp.RST, 'R'], [tcp.ACK, 'A']].filter(([bit]) => tcp.flags(b, t) & (bit as number)).map(([, n]) => n).join('') : `icmp${icmp.type(b, t)}/${icmp.code(b, t)}`;
  return `${f.dir} ${addr(ipv4.src(b, IP), tcp.srcPort(b, t))}>${addr(ipv4.dst(b, IP), tcp.dstPort(b, t))} ${flags} ttl${ipv4.ttl(b, IP)}`;
}

const NAT_TO_PB = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 10.96.0.100/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.244.1.3:8080
-A PREROUTING -d 10.96.0.101/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 192.168.1.20:8080
COMMIT
`;

describe('DNAT on the datapath', () => {
  it('bridged DNAT: pa → ClusterIP → pb on the same bridge, the reply un-DNATed, the SYN seen twice on cni0', () => {
    const t = withRules(NAT_TO_PB);
    const [pa, pb] = t.pods as [Netns, Netns];
    const seen = { from: [] as string[] };
    serve(pb, 8080, 'pb\n', seen);
    const r = request(pa, '10.96.0.100', 80);
    t.sched.run(5e9);
    expect(r).toMatchObject({ connected: true, body: 'pb\n', error: '' });
    expect(seen.from).toEqual([r.local]); // pb sees pa's own address: no SNAT
    const cni0 = t.tap.at('n1/cni0').map(tcpLine).filter((l) => !l.endsWith('arp'));
    // Routed copy (through the neighbour code, cni0's MAC) then the bridged copy, as the kernel's clusterip-http-local.
    expect(cni0.slice(0, 2)).toEqual([`tx ${r.local}>10.244.1.3:8080 S ttl64`, `rx ${r.local}>10.244.1.3:8080 S ttl64`]);
    const synOnCni0 = t.tap.at('n1/cni0').filter((f) => ethernet.ethertype(f.bytes, 0) === ethernet.ETHERTYPE_IPV4).slice(0, 2);
    expect(synOnCni0.map((f) => ethernet.src(f.bytes, 0))).toEqual([t.cni0.mac, pa.device('eth0')!.mac]);
    const atPa = t.tap.at('pa/eth0').map(tcpLine);
    expect(atPa.filter((l) => l.startsWith('rx') && !l.endsWith('arp')).every((l) => l.startsWith('rx 10.96.0.100:80>'))).toBe(true);
    const at = t.tap.at('pb/eth0').map(tcpLine).filter((l) => !l.endsWith('arp'));
    expect(at[0]).toBe(`rx ${r.local}>10.244.1.3:8080 S ttl64`);
    // The rule counted the connection's first packet only (the nat table sees NEW packets).
    const rule = t.nf.ruleset.tables.get('nat')!.chains.get('PREROUTING')!.rules[0]!;
    expect(rule.counters).toEqual({ packets: 1, bytes: 60 });
    expect(renderConntrackList(t.nf.conntrack!, t.sched.nowNs)).toMatch(
      new RegExp(`^tcp      6 \\d+ TIME_WAIT src=10\\.244\\.1\\.2 dst=10\\.96\\.0\\.100 sport=${r.local.split(':')[1]} dport=80 src=10\\.244\\.1\\.3 dst=10\\.244\\.1\\.2 sport=8080 dport=${r.local.split(':')[1]} \\[ASSURED\\] mark=0 use=1\\n$`),
    );
    expect(tapCaptureProblems(t.tap)).toEqual({});
  });

  it('routed DNAT: pa → 10.96.0.101:80 → ext 192.168.1.20:8080 through n1, TTL decremented once', () => {
    const t = withRules(NAT_TO_PB);
    const [pa] = t.pods as [Netns];
    const seen = { from: [] as string[] };
    serve(t.ext, 8080, 'ext\n', seen);
    const r = request(pa, '10.96.0.101', 80);
    t.sched.run(5e9);
    expect(r).toMatchObject({ connected: true, body: 'ext\n' });
    expect(seen.from).toEqual([r.local]);
    expect(t.tap.at('n1/eth0').map(tcpLine).filter((l) => !l.endsWith('arp'))[0]).toBe(`tx ${r.local}>192.168.1.20:8080 S ttl63`);
    expect(t.tap.at('n1/cni0').map(tcpLine).filter((l) => l.includes(' SA '))).toEqual([`tx 10.96.0.101:80>${r.local} SA ttl63`]);
  });
});

describe('MASQUERADE --random-fully', () => {
  it('pa → ext leaves as n1 with a new source port; the reply finds its way back', () => {
    const t = withRules(`*nat
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -s 10.244.0.0/16 -o eth0 -j MASQUERADE --random-fully
COMMIT
`);
    const [pa] = t.pods as [Netns];
    const seen = { from: [] as string[] };
    serve(t.ext, 8080, 'ext\n', seen);
    const r = request(pa, '192.168.1.20', 8080);
    t.sched.run(5e9);
    expect(r).toMatchObject({ connected: true, body: 'ext\n' });
    expect(seen.from).toHaveLength(1);
    const [addr, port] = seen.from[0]!.split(':');
    expect(addr).toBe('192.168.1.10');
    expect(port).not.toBe(r.local.split(':')[1]);
    expect(Number(port)).toBeGreaterThanOrEqual(1024);
    expect(renderConntrackList(t.nf.conntrack!, t.sched.nowNs)).toContain(`src=192.168.1.20 dst=192.168.1.10 sport=8080 dport=${port} [ASSURED]`);
  });
});

describe('REJECT', () => {
  it('filter FORWARD REJECT: ICMP port unreachable from cni0, TOS 0xc0, quoting the SYN after the TTL decrement; no conntrack entry', () => {
    const t = withRules(`*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -d 10.96.0.200/32 -p tcp -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
COMMIT
`);
    t.node.addRoute({ dst: parseIpv4('10.96.0.0'), prefixLen: 12, dev: t.n1Eth0 });
    const [pa] = t.pods as [Netns];
    const r = request(pa, '10.96.0.200', 80);
    t.sched.run(5e9);
    expect(r).toMatchObject({ connected: false, error: 'ECONNREFUSED' });
    const errors = t.tap.at('pa/eth0').filter((f) => ethernet.ethertype(f.bytes, 0) === ethernet.ETHERTYPE_IPV4 && ipv4.protocol(f.bytes, IP) === ipv4.PROTO_ICMP);
    expect(errors).toHaveLength(1);
    const e = errors[0]!.bytes;
    expect([formatIpv4(ipv4.src(e, IP)), ipv4.tos(e, IP), ipv4.ttl(e, IP)]).toEqual(['10.244.1.1', 0xc0, 64]);
    const l4 = ipv4.payloadOffset(e, IP);
    expect([icmp.type(e, l4), icmp.code(e, l4)]).toEqual([3, 3]);
    expect(ipv4.ttl(e, icmp.dataOffset(l4))).toBe(63);
    expect(t.tap.at('n1/eth0').filter((f) => ethernet.ethertype(f.bytes, 0) === ethernet.ETHERTYPE_IPV4)).toEqual([]);
    expect(renderConntrackList(t.nf.conntrack!, t.sched.nowNs)).toBe('');
  });
});

describe('ICMP errors about a translated flow', () => {
  it('a port unreachable from the DNAT endpoint reaches the client as if from the ClusterIP, its quote un-DNATed too', () => {
    const t = withRules(`*nat
:PREROUTING ACCEPT [0:0]
-A PREROUTING -d 10.96.0.10/32 -p udp -m udp --dport 7000 -j DNAT --to-destination 10.244.1.3:7001
COMMIT
`);
    const [pa] = t.pods as [Netns];
    const sock = new UdpSocket(pa);
    let error = '';
    sock.onError = (e) => (error = e);
    sock.connect(parseIpv4('10.96.0.10'), 7000); // ports no dissector claims: the payload is opaque
    sock.send(text('query'));
    t.sched.run(2e9);
    const errs = t.tap.at('pa/eth0').filter((f) => ethernet.ethertype(f.bytes, 0) === ethernet.ETHERTYPE_IPV4 && ipv4.protocol(f.bytes, IP) === ipv4.PROTO_ICMP);
    expect(errs).toHaveLength(1);
    const e = errs[0]!.bytes;
    const l4 = ipv4.payloadOffset(e, IP);
    const inner = icmp.dataOffset(l4);
    // Outer source and quoted destination: the ClusterIP and its port, as pa sent them.
    expect([formatIpv4(ipv4.src(e, IP)), formatIpv4(ipv4.dst(e, inner)), tcp.dstPort(e, ipv4.payloadOffset(e, inner))]).toEqual(['10.96.0.10', '10.96.0.10', 7000]);
    expect([icmp.type(e, l4), icmp.code(e, l4)]).toEqual([3, 3]);
    expect(error).toBe('ECONNREFUSED');
    expect(tapCaptureProblems(t.tap)).toEqual({});
  });
});

describe('REJECT --reject-with tcp-reset', () => {
  it('answers the SYN with a RST+ACK from the destination: ID 0, DF, TOS 0, window 0, ack = the SYN + 1', () => {
    const t = withRules(`*filter
:FORWARD ACCEPT [0:0]
-A FORWARD -d 192.168.1.20/32 -p tcp -m tcp --dport 9 -j REJECT --reject-with tcp-reset
COMMIT
`);
    const [pa] = t.pods as [Netns];
    const r = request(pa, '192.168.1.20', 9);
    t.sched.run(3e9);
    expect(r).toMatchObject({ connected: false, error: 'ECONNREFUSED' });
    const frames = t.tap.at('pa/eth0').filter((f) => ethernet.ethertype(f.bytes, 0) === ethernet.ETHERTYPE_IPV4);
    const syn = frames.find((f) => f.dir === 'tx')!.bytes;
    const rst = frames.find((f) => f.dir === 'rx')!.bytes;
    const st = ipv4.payloadOffset(syn, IP);
    const rt = ipv4.payloadOffset(rst, IP);
    expect(tcpLine({ ...frames.find((f) => f.dir === 'rx')!, dir: 'rx' })).toBe(`rx 192.168.1.20:9>${formatIpv4(ipv4.src(syn, IP))}:${tcp.srcPort(syn, st)} RA ttl64`); // sent by n1 itself: no forwarding hop
    expect([ipv4.id(rst, IP), ipv4.isDontFragment(rst, IP), ipv4.tos(rst, IP), tcp.window(rst, rt), tcp.seq(rst, rt), tcp.ack(rst, rt)]).toEqual([0, true, 0, 0, 0, (tcp.seq(syn, st) + 1) >>> 0]);
    expect(t.tap.at('ext/eth0').filter((f) => ethernet.ethertype(f.bytes, 0) === ethernet.ETHERTYPE_IPV4)).toEqual([]);
  });
});
