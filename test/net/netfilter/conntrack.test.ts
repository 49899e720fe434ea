import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../../src/packet/addr.js';
import * as icmp from '../../../src/packet/icmp.js';
import * as ipv4 from '../../../src/packet/ipv4.js';
import * as tcp from '../../../src/packet/tcp.js';
import * as udp from '../../../src/packet/udp.js';
import { ConntrackTable, CtInfo, DIR_ORIGINAL, DIR_REPLY, IPS, MANIP_DST, MANIP_SRC, Verdict } from '../../../src/net/netfilter/conntrack.js';
import { natForward, natIcmpError, natPacket } from '../../../src/net/netfilter/conntrack-nat.js';
import { renderConntrackList } from '../../../src/net/netfilter/conntrack-list.js';
import { KUBE_PROXY_TCP_TIMEOUTS, TCP_STATE_NAMES, TcpCt, nextTcpState, TcpIndex, tcpFlagsValid } from '../../../src/net/netfilter/conntrack-tcp.js';
import { icmpFrame, tcpFrame, udpFrame } from '../../helpers/build.js';

const IP = 14;
const S = 1e9;
const A = '10.244.1.2';
const B = '10.244.2.2';
const VIP = '10.96.0.100';

/** Tracks the packet at IP and confirms its entry, as when it leaves the host alive. */
function tc(table: ConntrackTable, b: Uint8Array, nowNs: number) {
  const r = table.track(b, IP, nowNs);
  table.confirm(r.entry);
  return r;
}

function seg(src: string, dst: string, sport: number, dport: number, flags: number, seq: number, ack: number, data = 0): Buffer {
  return tcpFrame({ src, dst, tcp: { srcPort: sport, dstPort: dport, flags, seq, ack, window: 502 }, payload: new Uint8Array(data) });
}

/** A client A:40000 → B:80 conversation, one segment per call. */
function conversation(table: ConntrackTable) {
  let now = 0;
  const c = (flags: number, seq: number, ack: number, data = 0) => tc(table, seg(A, B, 40000, 80, flags, seq, ack, data), (now += 1e6));
  const s = (flags: number, seq: number, ack: number, data = 0) => tc(table, seg(B, A, 80, 40000, flags, seq, ack, data), (now += 1e6));
  return { c, s, now: () => now };
}

function stateName(table: ConntrackTable): string {
  const e = [...table.entries()][0]!;
  return TCP_STATE_NAMES[e.tcp!.state]!;
}

function checksumsVerify(b: Uint8Array): void {
  expect(ipv4.hasValidChecksum(b, IP)).toBe(true);
  const l4 = ipv4.payloadOffset(b, IP);
  const end = IP + ipv4.totalLength(b, IP);
  const pseudo = { src: ipv4.src(b, IP), dst: ipv4.dst(b, IP) };
  switch (ipv4.protocol(b, IP)) {
    case ipv4.PROTO_TCP:
      expect(tcp.hasValidChecksum(b, l4, end, pseudo)).toBe(true);
      break;
    case ipv4.PROTO_UDP:
      expect(udp.hasValidChecksum(b, l4, pseudo)).toBe(true);
      break;
    default:
      expect(() => icmp.parse(b, l4, end)).not.toThrow();
  }
}

describe('tcp_conntracks transitions', () => {
  it('has the kernel table entries for the key transitions', () => {
    expect(nextTcpState(DIR_ORIGINAL, TcpIndex.SYN, TcpCt.NONE)).toBe(TcpCt.SYN_SENT);
    expect(nextTcpState(DIR_REPLY, TcpIndex.SYNACK, TcpCt.SYN_SENT)).toBe(TcpCt.SYN_RECV);
    expect(nextTcpState(DIR_ORIGINAL, TcpIndex.ACK, TcpCt.SYN_RECV)).toBe(TcpCt.ESTABLISHED);
    expect(nextTcpState(DIR_REPLY, TcpIndex.SYN, TcpCt.SYN_SENT)).toBe(TcpCt.SYN_SENT2);
    expect(nextTcpState(DIR_ORIGINAL, TcpIndex.SYNACK, TcpCt.SYN_SENT)).toBe(TcpCt.INVALID);
    expect(nextTcpState(DIR_REPLY, TcpIndex.ACK, TcpCt.SYN_SENT)).toBe(TcpCt.IGNORE);
    expect(nextTcpState(DIR_ORIGINAL, TcpIndex.FIN, TcpCt.ESTABLISHED)).toBe(TcpCt.FIN_WAIT);
    expect(nextTcpState(DIR_REPLY, TcpIndex.ACK, TcpCt.FIN_WAIT)).toBe(TcpCt.CLOSE_WAIT);
    expect(nextTcpState(DIR_REPLY, TcpIndex.FIN, TcpCt.CLOSE_WAIT)).toBe(TcpCt.LAST_ACK);
    expect(nextTcpState(DIR_ORIGINAL, TcpIndex.ACK, TcpCt.LAST_ACK)).toBe(TcpCt.TIME_WAIT);
    expect(nextTcpState(DIR_REPLY, TcpIndex.RST, TcpCt.ESTABLISHED)).toBe(TcpCt.CLOSE);
    expect(nextTcpState(DIR_ORIGINAL, TcpIndex.ACK, TcpCt.NONE)).toBe(TcpCt.ESTABLISHED);
  });

  it('accepts only tcp_valid_flags combinations', () => {
    expect(tcpFlagsValid(tcp.SYN)).toBe(true);
    expect(tcpFlagsValid(tcp.SYN | tcp.ACK | tcp.ECE | tcp.CWR)).toBe(true);
    expect(tcpFlagsValid(tcp.ACK | tcp.PSH)).toBe(true);
    expect(tcpFlagsValid(tcp.SYN | tcp.FIN)).toBe(false);
    expect(tcpFlagsValid(0)).toBe(false);
    expect(tcpFlagsValid(tcp.FIN)).toBe(false);
  });
});

describe('TCP tracking', () => {
  it('goes through the passive close with Linux timeouts, ASSURED once established both ways', () => {
    const table = new ConntrackTable();
    const { c, s, now } = conversation(table);
    const e = c(tcp.SYN, 100, 0).entry!;
    expect(ConntrackTable.remainingSeconds(e, now())).toBe(120);
    s(tcp.SYN | tcp.ACK, 500, 101);
    expect(ConntrackTable.remainingSeconds(e, now())).toBe(60);
    expect(e.has(IPS.ASSURED)).toBe(false);
    expect(c(tcp.ACK, 101, 501).ctinfo).toBe(CtInfo.ESTABLISHED);
    expect(e.has(IPS.ASSURED)).toBe(true);
    expect(ConntrackTable.remainingSeconds(e, now())).toBe(432000);
    // Data not yet acknowledged: the UNACK timeout (300 s) caps ESTABLISHED.
    c(tcp.ACK | tcp.PSH, 101, 501, 10);
    expect(ConntrackTable.remainingSeconds(e, now())).toBe(300);
    s(tcp.ACK, 501, 111);
    expect(ConntrackTable.remainingSeconds(e, now())).toBe(432000);
    s(tcp.FIN | tcp.ACK, 501, 111);
    expect(stateName(table)).toBe('FIN_WAIT');
    c(tcp.ACK, 111, 502);
    expect(stateName(table)).toBe('CLOSE_WAIT');
    expect(ConntrackTable.remainingSeconds(e, now())).toBe(60);
    c(tcp.FIN | tcp.ACK, 111, 502);
    expect(stateName(table)).toBe('LAST_ACK');
    expect(ConntrackTable.remainingSeconds(e, now())).toBe(30);
    s(tcp.ACK, 502, 112);
    expect(stateName(table)).toBe('TIME_WAIT');
    expect(ConntrackTable.remainingSeconds(e, now())).toBe(120);
  });

  it("uses kube-proxy's established timeout when configured", () => {
    const table = new ConntrackTable({ timeouts: { tcp: KUBE_PROXY_TCP_TIMEOUTS } });
    const { c, s, now } = conversation(table);
    const e = c(tcp.SYN, 1, 0).entry!;
    s(tcp.SYN | tcp.ACK, 9, 2);
    c(tcp.ACK, 2, 10);
    expect(ConntrackTable.remainingSeconds(e, now())).toBe(86400);
  });

  it('kills the entry when the only answer is an RST, and says the packet is its reply', () => {
    const table = new ConntrackTable();
    const { c, s } = conversation(table);
    c(tcp.SYN, 1, 0);
    const r = s(tcp.RST | tcp.ACK, 0, 2);
    expect(r.verdict).toBe(Verdict.ACCEPT);
    expect(r.ctinfo).toBe(CtInfo.ESTABLISHED_REPLY);
    expect(table.count).toBe(0);
  });

  it('calls a SYN-ACK without a SYN, or a stray FIN, INVALID and creates nothing', () => {
    const table = new ConntrackTable();
    const { c, s } = conversation(table);
    expect(s(tcp.SYN | tcp.ACK, 1, 2).verdict).toBe(Verdict.INVALID);
    expect(c(tcp.FIN | tcp.ACK, 1, 2).verdict).toBe(Verdict.INVALID);
    expect(c(tcp.SYN | tcp.FIN, 1, 0).verdict).toBe(Verdict.INVALID);
    expect(table.count).toBe(0);
    // A SYN-ACK to an original SYN's own side is invalid too.
    c(tcp.SYN, 1, 0);
    expect(c(tcp.SYN | tcp.ACK, 1, 0).verdict).toBe(Verdict.INVALID);
  });

  it('picks up an established connection from a lone ACK, with the UNACK timeout until a reply', () => {
    const table = new ConntrackTable();
    const { c, s, now } = conversation(table);
    const e = c(tcp.ACK, 5, 6).entry!;
    expect(stateName(table)).toBe('ESTABLISHED');
    expect(ConntrackTable.remainingSeconds(e, now())).toBe(300);
    s(tcp.ACK, 6, 5);
    c(tcp.ACK, 5, 6);
    expect(e.has(IPS.ASSURED)).toBe(true);
  });

  it('does not renew the timeout on a retransmitted SYN', () => {
    const table = new ConntrackTable();
    const { c, now } = conversation(table);
    const e = c(tcp.SYN, 1, 0).entry!;
    const deadline = e.deadlineNs;
    c(tcp.SYN, 1, 0);
    expect(e.deadlineNs).toBe(deadline);
    expect(now()).toBeGreaterThan(0);
  });

  it('replaces a TIME_WAIT entry when a new SYN reuses the tuple', () => {
    const table = new ConntrackTable();
    const { c, s } = conversation(table);
    const old = c(tcp.SYN, 1, 0).entry!;
    s(tcp.SYN | tcp.ACK, 9, 2);
    c(tcp.ACK, 2, 10);
    c(tcp.FIN | tcp.ACK, 2, 10);
    s(tcp.FIN | tcp.ACK, 10, 3);
    c(tcp.ACK, 3, 11);
    expect(stateName(table)).toBe('TIME_WAIT');
    const r = c(tcp.SYN, 5000, 0);
    expect(r.ctinfo).toBe(CtInfo.NEW);
    expect(r.entry).not.toBe(old);
    expect(table.count).toBe(1);
    expect(stateName(table)).toBe('SYN_SENT');
  });
});

describe('UDP and ICMP tracking', () => {
  const dgram = (src: string, dst: string, sp: number, dp: number) => udpFrame({ src, dst, srcPort: sp, dstPort: dp, payload: new Uint8Array(4) });

  it('keeps 30 s until a reply, then 120 s and ASSURED once the flow lives past 2 s', () => {
    const table = new ConntrackTable();
    const e = tc(table, dgram(A, B, 5000, 53), 0).entry!;
    expect(ConntrackTable.remainingSeconds(e, 0)).toBe(30);
    const r = tc(table, dgram(B, A, 53, 5000), 0.5 * S);
    expect(r.ctinfo).toBe(CtInfo.ESTABLISHED_REPLY);
    expect(ConntrackTable.remainingSeconds(e, 0.5 * S)).toBe(30);
    expect(e.has(IPS.SEEN_REPLY)).toBe(true);
    tc(table, dgram(A, B, 5000, 53), 1.5 * S);
    expect(e.has(IPS.ASSURED)).toBe(false);
    expect(ConntrackTable.remainingSeconds(e, 1.5 * S)).toBe(30);
    expect(tc(table, dgram(A, B, 5000, 53), 2.5 * S).ctinfo).toBe(CtInfo.ESTABLISHED);
    expect(e.has(IPS.ASSURED)).toBe(true);
    expect(ConntrackTable.remainingSeconds(e, 2.5 * S)).toBe(120);
  });

  it('renders the DNS lookup as the dns dump: replied, not assured', () => {
    const table = new ConntrackTable();
    const e = tc(table, dgram(A, '10.96.0.10', 34732, 53), 0).entry!;
    table.setDnat(e, parseIpv4('10.244.2.3'), 53);
    tc(table, dgram('10.244.2.3', A, 53, 34732), 0.001 * S);
    expect(renderConntrackList(table, 1.5 * S)).toBe(
      'udp      17 28 src=10.244.1.2 dst=10.96.0.10 sport=34732 dport=53 src=10.244.2.3 dst=10.244.1.2 sport=53 dport=34732 mark=0 use=1\n',
    );
  });

  it('tracks an echo request and its reply as the cross-node-ping dump shows them', () => {
    const table = new ConntrackTable();
    const req = icmpFrame({ src: A, dst: B, icmp: { type: icmp.TYPE_ECHO_REQUEST, code: 0, rest: icmp.echoRest(13822, 1) }, data: new Uint8Array(56) });
    const rep = icmpFrame({ src: B, dst: A, icmp: { type: icmp.TYPE_ECHO_REPLY, code: 0, rest: icmp.echoRest(13822, 1) }, data: new Uint8Array(56) });
    expect(tc(table, req, 0).ctinfo).toBe(CtInfo.NEW);
    expect(tc(table, rep, 0.001 * S).ctinfo).toBe(CtInfo.ESTABLISHED_REPLY);
    expect(renderConntrackList(table, 1.5 * S)).toBe(
      'icmp     1 28 src=10.244.1.2 dst=10.244.2.2 type=8 code=0 id=13822 src=10.244.2.2 dst=10.244.1.2 type=0 code=0 id=13822 mark=0 use=1\n',
    );
    // An unsolicited echo reply opens nothing.
    const stray = icmpFrame({ src: B, dst: A, icmp: { type: icmp.TYPE_ECHO_REPLY, code: 0, rest: icmp.echoRest(9, 1) }, data: new Uint8Array(8) });
    expect(tc(table, stray, 2 * S).verdict).toBe(Verdict.INVALID);
  });

  it('expires lazily on lookup: a packet after the timeout opens a new entry', () => {
    const table = new ConntrackTable();
    const first = tc(table, dgram(A, B, 1, 2), 0).entry!;
    const again = tc(table, dgram(A, B, 1, 2), 30 * S);
    expect(again.entry).not.toBe(first);
    expect(again.ctinfo).toBe(CtInfo.NEW);
    expect(table.count).toBe(1);
  });
});

describe('nf_conntrack_max', () => {
  const dgram = (sp: number) => udpFrame({ src: A, dst: B, srcPort: sp, dstPort: 9, payload: new Uint8Array(1) });

  it('refuses a new flow when the table is full of assured entries, and takes it again after expiry', () => {
    const table = new ConntrackTable({ max: 4, buckets: 1 });
    for (let p = 1; p <= 4; p++) {
      const e = tc(table, dgram(p), 0).entry!;
      e.status |= IPS.ASSURED;
    }
    const r = tc(table, dgram(99), 0);
    expect(r.verdict).toBe(Verdict.DROP);
    expect(r.entry).toBeNull();
    expect(table.count).toBe(4);
    // Packets of existing flows still pass.
    expect(tc(table, dgram(2), 0).verdict).toBe(Verdict.ACCEPT);
    expect(tc(table, dgram(99), 31 * S).verdict).toBe(Verdict.ACCEPT);
  });

  it('early-drops an entry that is not assured to make room (early_drop)', () => {
    const table = new ConntrackTable({ max: 2, buckets: 1 });
    const keep = tc(table, dgram(1), 0).entry!;
    keep.status |= IPS.ASSURED;
    const victim = tc(table, dgram(2), 0).entry!;
    expect(tc(table, dgram(3), 0).verdict).toBe(Verdict.ACCEPT);
    expect([...table.entries()]).toContain(keep);
    expect([...table.entries()]).not.toContain(victim);
  });
});

describe('NAT bindings and byte rewriting', () => {
  it('DNATs a ClusterIP flow: reply tuple, both directions rewritten with checksums that verify', () => {
    const table = new ConntrackTable();
    const syn = seg(A, VIP, 40812, 80, tcp.SYN, 1, 0);
    const e = tc(table, syn, 0).entry!;
    expect(table.setDnat(e, parseIpv4(B), 8080)).toBe(true);
    expect(e.has(IPS.DST_NAT)).toBe(true);
    natForward(e, DIR_ORIGINAL, syn, IP);
    expect(ipv4.dst(syn, IP)).toBe(parseIpv4(B));
    expect(tcp.dstPort(syn, ipv4.payloadOffset(syn, IP))).toBe(8080);
    checksumsVerify(syn);
    const synack = seg(B, A, 8080, 40812, tcp.SYN | tcp.ACK, 7, 2);
    const r = tc(table, synack, 1e6);
    expect(r.entry).toBe(e);
    expect(r.dir).toBe(DIR_REPLY);
    // The reply's un-DNAT is a SRC manip; a DST manip hook leaves it alone.
    expect(natPacket(e, DIR_REPLY, MANIP_DST, synack, IP)).toBe(false);
    expect(natPacket(e, DIR_REPLY, MANIP_SRC, synack, IP)).toBe(true);
    expect(ipv4.src(synack, IP)).toBe(parseIpv4(VIP));
    expect(tcp.srcPort(synack, ipv4.payloadOffset(synack, IP))).toBe(80);
    checksumsVerify(synack);
  });

  it('SNATs (masquerade) a UDP flow, keeping the port unless it clashes', () => {
    const table = new ConntrackTable({ randomU16: () => 7 });
    const node = parseIpv4('192.168.1.10');
    const ext = '192.168.1.100';
    const p1 = udpFrame({ src: A, dst: ext, srcPort: 5000, dstPort: 53, payload: new Uint8Array([1, 2, 3]) });
    const e1 = tc(table, p1, 0).entry!;
    expect(table.setSnat(e1, node)).toBe(true);
    expect(e1.reply.dstPort).toBe(5000);
    natForward(e1, DIR_ORIGINAL, p1, IP);
    expect(ipv4.src(p1, IP)).toBe(node);
    checksumsVerify(p1);
    // Another pod with the same source port: the reply tuple would clash, so another port is chosen.
    const p2 = udpFrame({ src: '10.244.1.3', dst: ext, srcPort: 5000, dstPort: 53, payload: new Uint8Array([4]) });
    const e2 = tc(table, p2, 0).entry!;
    expect(table.setSnat(e2, node)).toBe(true);
    expect(e2.reply.dstPort).toBe(1024 + 7);
    natForward(e2, DIR_ORIGINAL, p2, IP);
    expect(udp.srcPort(p2, ipv4.payloadOffset(p2, IP))).toBe(1031);
    checksumsVerify(p2);
    // The answer to the second finds its entry by the translated tuple and is translated back.
    const back = udpFrame({ src: ext, dst: '192.168.1.10', srcPort: 53, dstPort: 1031, payload: new Uint8Array([5]) });
    const r = tc(table, back, 1e6);
    expect(r.entry).toBe(e2);
    natForward(e2, DIR_REPLY, back, IP);
    expect(ipv4.dst(back, IP)).toBe(parseIpv4('10.244.1.3'));
    expect(udp.dstPort(back, ipv4.payloadOffset(back, IP))).toBe(5000);
    checksumsVerify(back);
  });

  it('SNAT with an explicit port renders like the egress-masquerade dump', () => {
    const table = new ConntrackTable();
    const ext = '192.168.1.100';
    const syn = seg(A, ext, 59054, 8080, tcp.SYN, 1, 0);
    const e = tc(table, syn, 0).entry!;
    table.setSnat(e, parseIpv4('192.168.1.10'), 46034);
    natForward(e, DIR_ORIGINAL, syn, IP);
    checksumsVerify(syn);
    const line = renderConntrackList(table, 0.5 * S);
    expect(line).toBe(
      'tcp      6 119 SYN_SENT src=10.244.1.2 dst=192.168.1.100 sport=59054 dport=8080 [UNREPLIED] src=192.168.1.100 dst=192.168.1.10 sport=8080 dport=46034 mark=0 use=1\n',
    );
  });

  it('relates an ICMP error to the DNATed flow it quotes and translates it back (inner and outer)', () => {
    const table = new ConntrackTable();
    const syn = seg(A, VIP, 40812, 80, tcp.SYN, 1, 0);
    const e = tc(table, syn, 0).entry!;
    table.setDnat(e, parseIpv4(B), 8080);
    natForward(e, DIR_ORIGINAL, syn, IP);
    // B's host answers with port unreachable, quoting the translated SYN (its IP header + 8 bytes).
    const quoteLen = 20 + 8;
    const quoted = new Uint8Array(syn.subarray(IP, IP + quoteLen));
    const err = icmpFrame({ src: B, dst: A, icmp: { type: icmp.TYPE_DEST_UNREACHABLE, code: icmp.PORT_UNREACHABLE, rest: 0 }, data: quoted });
    const r = tc(table, err, 1e6);
    expect(r.verdict).toBe(Verdict.ACCEPT);
    expect(r.entry).toBe(e);
    expect(r.ctinfo).toBe(CtInfo.RELATED_REPLY);
    expect(natIcmpError(e, r.dir, MANIP_DST, err, IP)).toBe(false);
    expect(natIcmpError(e, r.dir, MANIP_SRC, err, IP)).toBe(true);
    expect(ipv4.src(err, IP)).toBe(parseIpv4(VIP));
    const inner = icmp.dataOffset(ipv4.payloadOffset(err, IP));
    expect(ipv4.dst(err, inner)).toBe(parseIpv4(VIP));
    expect(ipv4.hasValidChecksum(err, inner)).toBe(true);
    expect(tcp.dstPort(err, ipv4.payloadOffset(err, inner))).toBe(80);
    checksumsVerify(err);
    // The relation did not refresh the entry, nor count as a reply.
    expect(e.has(IPS.SEEN_REPLY)).toBe(false);
    // An error quoting something unknown is INVALID.
    const unknown = icmpFrame({
      src: B,
      dst: A,
      icmp: { type: icmp.TYPE_DEST_UNREACHABLE, code: icmp.PORT_UNREACHABLE, rest: 0 },
      data: new Uint8Array(seg(A, B, 1, 2, tcp.SYN, 1, 0).subarray(IP, IP + quoteLen)),
    });
    expect(tc(table, unknown, 2e6).verdict).toBe(Verdict.INVALID);
  });

  it('shows an entry only once confirmed, and forgets it when its first packet is dropped (no-endpoints REJECT)', () => {
    const table = new ConntrackTable();
    const r = table.track(seg(A, '10.96.0.200', 42408, 80, tcp.SYN, 1, 0), IP, 0);
    expect(r.ctinfo).toBe(CtInfo.NEW);
    expect(renderConntrackList(table, 0)).toBe('');
    table.discard(r.entry);
    expect(table.count).toBe(0);
    const again = tc(table, seg(A, '10.96.0.200', 42408, 80, tcp.SYN, 1, 0), 1e6);
    table.discard(again.entry);
    expect(table.count).toBe(1);
    expect(renderConntrackList(table, 1e6)).toMatch(/^tcp {6}6 120 SYN_SENT /);
  });

  it('refuses to bind the same manip twice', () => {
    const table = new ConntrackTable();
    const e = tc(table, seg(A, VIP, 1, 80, tcp.SYN, 1, 0), 0).entry!;
    table.setDnat(e, parseIpv4(B), 8080);
    expect(() => table.setDnat(e, parseIpv4(B), 8081)).toThrow(/twice/);
  });
});
