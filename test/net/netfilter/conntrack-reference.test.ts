/**
 * The conntrack table fed the kernel reference's own packets (fixtures/kernel/clusterip-http):
 * node 1 sees the client pod's segments before kube-proxy's DNAT (its veth), the server's replies
 * as they arrive over flannel.1, and flannel's VXLAN datagrams on eth0; node 2 sees the segments
 * on flannel.1 untranslated. The rendered table must equal the node's `conntrack -L` dump, and
 * the bytes our NAT rewrites must equal the bytes the kernel put on the next interface.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../../src/packet/addr.js';
import * as ipv4 from '../../../src/packet/ipv4.js';
import * as tcp from '../../../src/packet/tcp.js';
import { readCaptureFile } from '../../../src/pcap/index.js';
import { ConntrackTable, CtInfo, IPS, MANIP_DST, MANIP_SRC, Verdict, natInitialized, type CtEntry } from '../../../src/net/netfilter/conntrack.js';
import { natForward } from '../../../src/net/netfilter/conntrack-nat.js';
import { renderConntrackList } from '../../../src/net/netfilter/conntrack-list.js';
import { TCP_STATE_NAMES } from '../../../src/net/netfilter/conntrack-tcp.js';
import { KERNEL_DIR } from '../../helpers/frames.js';

const DIR = join(KERNEL_DIR, 'clusterip-http');
const ETH_LEN = 14;
const CLIENT = parseIpv4('10.244.1.2');
const SERVER = parseIpv4('10.244.2.2');

interface Pkt {
  readonly ts: number;
  /** The IPv4 packet alone (a copy, so rewriting it leaves the capture intact). */
  readonly ip: Uint8Array;
}

function ipPackets(file: string, keep: (ip: Uint8Array) => boolean): Pkt[] {
  return readCaptureFile(join(DIR, file))
    .packets.filter((p) => p.data.length > ETH_LEN + 20 && p.data[12] === 0x08 && p.data[13] === 0x00)
    .map((p) => ({ ts: p.timestampNs, ip: new Uint8Array(p.data.subarray(ETH_LEN, ETH_LEN + ((p.data[16]! << 8) | p.data[17]!))) }))
    .filter((p) => keep(p.ip));
}

const isTcpFrom = (addr: number) => (ip: Uint8Array) => ipv4.protocol(ip, 0) === ipv4.PROTO_TCP && ipv4.src(ip, 0) === addr;
const isUdp = (ip: Uint8Array): boolean => ipv4.protocol(ip, 0) === ipv4.PROTO_UDP;

function dump(name: string): string[] {
  return readFileSync(join(DIR, name), 'utf8').split('\n').filter((l) => l !== '');
}

const stateOf = (e: CtEntry): string => TCP_STATE_NAMES[e.tcp!.state]!;

describe('conntrack on node 1 of clusterip-http (ClusterIP DNAT to the other node)', () => {
  const fromClient = ipPackets('kr-n1-veth748aed50.pcap', isTcpFrom(CLIENT));
  const fromServer = ipPackets('kr-n1-flannel.1.pcap', isTcpFrom(SERVER));
  const clientAfterNat = ipPackets('kr-n1-flannel.1.pcap', isTcpFrom(CLIENT));
  const serverAfterNat = ipPackets('kr-n1-veth748aed50.pcap', (ip) => ipv4.protocol(ip, 0) === ipv4.PROTO_TCP && ipv4.dst(ip, 0) === CLIENT);
  const vxlan = ipPackets('kr-n1-eth0.pcap', isUdp);

  const run = () => {
    const table = new ConntrackTable();
    const events = [
      ...fromClient.map((p, i) => ({ ts: p.ts, ip: new Uint8Array(p.ip), kind: 'client' as const, i })),
      ...fromServer.map((p, i) => ({ ts: p.ts, ip: new Uint8Array(p.ip), kind: 'server' as const, i })),
      ...vxlan.map((p, i) => ({ ts: p.ts, ip: new Uint8Array(p.ip), kind: 'vxlan' as const, i })),
    ].sort((a, b) => a.ts - b.ts);
    const trace: string[] = [];
    const rewritten: { kind: 'client' | 'server'; i: number; bytes: Uint8Array }[] = [];
    for (const ev of events) {
      const r = table.track(ev.ip, 0, ev.ts);
      table.confirm(r.entry);
      expect(r.verdict, `${ev.kind} #${ev.i} ${trace.join(', ')}`).toBe(Verdict.ACCEPT);
      const e = r.entry!;
      if (ev.kind === 'vxlan') continue;
      if (r.ctinfo === CtInfo.NEW && e.tcp !== null && tcp.flags(ev.ip, 20) === tcp.SYN) {
        // kube-proxy's KUBE-SEP DNAT, decided on the first packet.
        expect(table.setDnat(e, SERVER, 8080)).toBe(true);
      }
      trace.push(`${ev.kind} ctinfo=${r.ctinfo} ${stateOf(e)}${e.has(IPS.ASSURED) ? ' ASSURED' : ''}`);
      natForward(e, r.dir, ev.ip, 0);
      ipv4.decrementTtl(ev.ip, 0);
      rewritten.push({ kind: ev.kind, i: ev.i, bytes: ev.ip });
    }
    const last = Math.max(...events.map((e) => e.ts));
    return { table, trace, rewritten, last };
  };

  it('walks the TCP states of nf_conntrack_proto_tcp and becomes ASSURED on the third segment', () => {
    const { trace } = run();
    expect(trace).toEqual([
      'client ctinfo=2 SYN_SENT',
      'server ctinfo=3 SYN_RECV',
      'client ctinfo=0 ESTABLISHED ASSURED',
      'client ctinfo=0 ESTABLISHED ASSURED',
      'server ctinfo=3 ESTABLISHED ASSURED',
      'server ctinfo=3 ESTABLISHED ASSURED',
      'client ctinfo=0 ESTABLISHED ASSURED',
      'server ctinfo=3 ESTABLISHED ASSURED',
      'client ctinfo=0 ESTABLISHED ASSURED',
      'client ctinfo=0 FIN_WAIT ASSURED',
      'server ctinfo=3 LAST_ACK ASSURED',
      'client ctinfo=0 TIME_WAIT ASSURED',
    ]);
  });

  it('rewrites every segment to the bytes the kernel forwarded (DNAT out, un-DNAT back, checksums patched)', () => {
    const { rewritten } = run();
    expect(rewritten).toHaveLength(clientAfterNat.length + serverAfterNat.length);
    for (const r of rewritten) {
      const want = r.kind === 'client' ? clientAfterNat[r.i]! : serverAfterNat[r.i]!;
      expect(Buffer.from(r.bytes).toString('hex'), `${r.kind} #${r.i}`).toBe(Buffer.from(want.ip).toString('hex'));
    }
  });

  it('renders conntrack -L as the node dumped it, 1.5 s after the last packet', () => {
    const { table, last } = run();
    const lines = renderConntrackList(table, last + 1.5e9).split('\n').filter((l) => l !== '');
    expect(new Set(lines)).toEqual(new Set(dump('conntrack-n1.txt')));
    expect(lines).toHaveLength(3);
  });
});

describe('conntrack on node 2 of clusterip-http (no NAT)', () => {
  it('tracks the forwarded connection and the VXLAN flows exactly as the dump shows them', () => {
    const table = new ConntrackTable();
    const pkts = [...ipPackets('kr-n2-flannel.1.pcap', (ip) => ipv4.protocol(ip, 0) === ipv4.PROTO_TCP), ...ipPackets('kr-n2-eth0.pcap', isUdp)].sort(
      (a, b) => a.ts - b.ts,
    );
    for (const p of pkts) {
      const r = table.track(p.ip, 0, p.ts);
      expect(r.verdict).toBe(Verdict.ACCEPT);
      table.confirm(r.entry);
    }
    const last = Math.max(...pkts.map((p) => p.ts));
    const lines = renderConntrackList(table, last + 1.5e9).split('\n').filter((l) => l !== '');
    expect(new Set(lines)).toEqual(new Set(dump('conntrack-n2.txt')));
  });

  it('the one-way VXLAN entries stay [UNREPLIED] and expire 30 s after their last datagram', () => {
    const table = new ConntrackTable();
    const pkts = ipPackets('kr-n2-eth0.pcap', isUdp);
    for (const p of pkts) table.confirm(table.track(p.ip, 0, p.ts).entry);
    const last = Math.max(...pkts.map((p) => p.ts));
    const lines = renderConntrackList(table, last + 2e9).split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^udp {6}17 2[78] src=\S+ dst=\S+ sport=\d+ dport=8472 \[UNREPLIED\] /);
    expect(renderConntrackList(table, last + 30e9)).toBe('');
    expect(table.sweep(last + 30e9)).toBe(2);
    expect(table.count).toBe(0);
  });
});

/** Where one node's conntrack sees a journey's packets, and what the rules do to new flows. */
interface NodeJourney {
  readonly scenario: string;
  readonly dump: string;
  /** Capture files and which of their IPv4 packets this node's conntrack sees there. */
  readonly sources: readonly { readonly file: string; readonly keep: (ip: Uint8Array) => boolean }[];
  /** kube-proxy / flannel NAT decided on a flow's first packet. */
  readonly onNew?: (table: ConntrackTable, e: CtEntry) => void;
  /** The first packet of a new flow is dropped by the rules (REJECT): the entry is never confirmed. */
  readonly dropsNew?: boolean;
}

const proto = (p: number) => (ip: Uint8Array) => ipv4.protocol(ip, 0) === p;
const from = (p: number, addr: string) => (ip: Uint8Array) => ipv4.protocol(ip, 0) === p && ipv4.src(ip, 0) === parseIpv4(addr);
const udpAll = proto(ipv4.PROTO_UDP);
const icmpAll = proto(ipv4.PROTO_ICMP);

const JOURNEYS: readonly NodeJourney[] = [
  {
    scenario: 'cross-node-ping',
    dump: 'conntrack-n1.txt',
    sources: [
      { file: 'kr-n1-veth748aed50.pcap', keep: from(ipv4.PROTO_ICMP, '10.244.1.2') },
      { file: 'kr-n1-flannel.1.pcap', keep: from(ipv4.PROTO_ICMP, '10.244.2.2') },
      { file: 'kr-n1-eth0.pcap', keep: udpAll },
    ],
  },
  {
    scenario: 'cross-node-ping',
    dump: 'conntrack-n2.txt',
    sources: [
      { file: 'kr-n2-flannel.1.pcap', keep: icmpAll },
      { file: 'kr-n2-eth0.pcap', keep: udpAll },
    ],
  },
  {
    scenario: 'same-node-ping',
    dump: 'conntrack-n1.txt',
    sources: [{ file: 'kr-n1-veth748aed50.pcap', keep: icmpAll }],
  },
  {
    scenario: 'dns',
    dump: 'conntrack-n1.txt',
    sources: [
      { file: 'kr-n1-veth748aed50.pcap', keep: from(ipv4.PROTO_UDP, '10.244.1.2') },
      { file: 'kr-n1-flannel.1.pcap', keep: from(ipv4.PROTO_UDP, '10.244.2.3') },
      { file: 'kr-n1-eth0.pcap', keep: udpAll },
    ],
    onNew: (table, e) => {
      if (e.original.dst === parseIpv4('10.96.0.10')) table.setDnat(e, parseIpv4('10.244.2.3'), 53);
    },
  },
  {
    scenario: 'dns',
    dump: 'conntrack-n2.txt',
    sources: [
      { file: 'kr-n2-flannel.1.pcap', keep: udpAll },
      { file: 'kr-n2-eth0.pcap', keep: udpAll },
    ],
  },
  {
    scenario: 'egress-masquerade',
    dump: 'conntrack-n1.txt',
    sources: [
      { file: 'kr-n1-veth748aed50.pcap', keep: from(ipv4.PROTO_TCP, '10.244.1.2') },
      { file: 'kr-n1-eth0.pcap', keep: from(ipv4.PROTO_TCP, '192.168.1.100') },
    ],
    // flannel's MASQUERADE --random-fully picked this port; the binding takes it as given.
    onNew: (table, e) => void table.setSnat(e, parseIpv4('192.168.1.10'), 46034),
  },
  {
    scenario: 'clusterip-http-local',
    dump: 'conntrack-n1.txt',
    sources: [
      { file: 'kr-n1-veth748aed50.pcap', keep: from(ipv4.PROTO_TCP, '10.244.1.2') },
      { file: 'kr-n1-veth78830a10.pcap', keep: from(ipv4.PROTO_TCP, '10.244.1.3') },
    ],
    onNew: (table, e) => void table.setDnat(e, parseIpv4('10.244.1.3'), 8080),
  },
  {
    scenario: 'mtu',
    dump: 'conntrack-n1.txt',
    sources: [
      { file: 'kr-n1-veth748aed50.pcap', keep: udpAll },
      { file: 'kr-n1-eth0.pcap', keep: udpAll },
    ],
  },
  {
    scenario: 'no-endpoints',
    dump: 'conntrack-n1.txt',
    sources: [{ file: 'kr-n1-veth748aed50.pcap', keep: proto(ipv4.PROTO_TCP) }],
    dropsNew: true,
  },
];

function packetsOf(scenario: string, file: string, keep: (ip: Uint8Array) => boolean): Pkt[] {
  return readCaptureFile(join(KERNEL_DIR, scenario, file))
    .packets.filter((p) => p.data.length > ETH_LEN + 20 && p.data[12] === 0x08 && p.data[13] === 0x00)
    .map((p) => ({ ts: p.timestampNs, ip: new Uint8Array(p.data.subarray(ETH_LEN, ETH_LEN + ((p.data[16]! << 8) | p.data[17]!))) }))
    .filter((p) => keep(p.ip));
}

describe('conntrack -L after each reference journey', () => {
  it.each(JOURNEYS.map((j) => [`${j.scenario} ${j.dump}`, j] as const))('%s', (_name, j) => {
    const table = new ConntrackTable();
    const pkts = j.sources.flatMap((s) => packetsOf(j.scenario, s.file, s.keep)).sort((a, b) => a.ts - b.ts);
    expect(pkts.length).toBeGreaterThan(0);
    for (const p of pkts) {
      const r = table.track(p.ip, 0, p.ts);
      if (ipv4.fragmentOffset(p.ip, 0) !== 0) {
        // The kernel reassembles before conntrack; a later fragment alone carries no tuple.
        expect(r.verdict).toBe(Verdict.INVALID);
        continue;
      }
      expect(r.verdict).toBe(Verdict.ACCEPT);
      if (r.ctinfo === CtInfo.NEW) {
        if (!natInitialized(r.entry!, MANIP_DST) && !natInitialized(r.entry!, MANIP_SRC)) j.onNew?.(table, r.entry!);
        if (j.dropsNew) {
          table.discard(r.entry);
          continue;
        }
      }
      table.confirm(r.entry);
    }
    const last = Math.max(...pkts.map((p) => p.ts));
    const lines = renderConntrackList(table, last + 1.5e9).split('\n').filter((l) => l !== '');
    const want = readFileSync(join(KERNEL_DIR, j.scenario, j.dump), 'utf8').split('\n').filter((l) => l !== '');
    expect(new Set(lines)).toEqual(new Set(want));
    expect(lines).toHaveLength(want.length);
  });
});
