import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/packet/addr.js';
import * as ethernet from '../../src/packet/ethernet.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import type { TcpConnection, TcpErrno } from '../../src/net/tcp-api.js';
import { sameNodeTopology, type Recorded } from '../helpers/topology.js';
import { tapCaptureProblems } from '../helpers/net-kit.js';

const PA = parseIpv4('10.244.1.2');
const PB = parseIpv4('10.244.1.3');
const text = (s: string) => new TextEncoder().encode(s);

interface Seg {
  src: number;
  flags: string;
  seq: number;
  ack: number;
  len: number;
  win: number;
  id: number;
  df: boolean;
  opts: string;
  mss: number;
  timeNs: number;
}

function segments(frames: Recorded[]): Seg[] {
  const out: Seg[] = [];
  for (const f of frames) {
    const b = f.bytes;
    if (ethernet.ethertype(b, 0) !== ethernet.ETHERTYPE_IPV4) continue;
    const ip = ethernet.HEADER_LEN;
    if (ipv4.protocol(b, ip) !== ipv4.PROTO_TCP) continue;
    const t = ipv4.payloadOffset(b, ip);
    const r = tcp.parse(b, t, ip + ipv4.totalLength(b, ip));
    const names: Array<[number, string]> = [[tcp.FIN, 'F'], [tcp.SYN, 'S'], [tcp.RST, 'R'], [tcp.PSH, 'P'], [tcp.ACK, 'A']];
    out.push({
      src: ipv4.src(b, ip),
      flags: names.filter(([bit]) => r.flags & bit).map(([, n]) => n).join(''),
      seq: r.seq, ack: r.ack, len: r.payloadLen, win: r.window,
      id: ipv4.id(b, ip), df: ipv4.isDontFragment(b, ip),
      opts: r.options.map((o) => ({ mss: 2, nop: 1, 'window-scale': 3, 'sack-permitted': 4, sack: 5, timestamps: 8, eol: 0, unknown: 99 })[o.kind]).join(','),
      mss: (r.options.find((o) => o.kind === 'mss') as { value: number } | undefined)?.value ?? 0,
      timeNs: f.timeNs,
    });
  }
  return out;
}

/** python3 -m http.server's pattern: headers in one write, the body in a second; close after the client's FIN. */
function pythonLikeServer(conn: TcpConnection, headers: string, body: string) {
  let got = '';
  conn.onData = (d) => {
    got += new TextDecoder().decode(d);
    if (got.endsWith('\r\n\r\n')) {
      conn.write(text(headers));
      conn.write(text(body));
    }
  };
  conn.onEnd = () => conn.close();
}

function exchange(seed = 1) {
  const t = sameNodeTopology(seed);
  const [pa, pb] = t.pods as [typeof t.pods[0], typeof t.pods[0]];
  pb.tcp.listen({ addr: 0, port: 8080 }, (c) => pythonLikeServer(c, 'H'.repeat(184), 'kr-pb\n'));
  const c = pa.tcp.connect({ addr: PB, port: 8080 });
  c.setNoDelay(true);
  let body = '';
  let connected = false;
  c.onConnect = () => {
    connected = true;
    c.write(text('G'.repeat(71) + '\r\n\r\n'));
  };
  c.onData = (d) => {
    body += new TextDecoder().decode(d);
    if (body.length === 190) c.close();
  };
  t.sched.run(5e9);
  return { t, segs: segments(t.tap.at('pb/eth0').filter((f) => f.dir === 'rx' || f.dir === 'tx')), connected, body, pa, pb };
}

describe('TCP: a short request/response as the kernel does it', () => {
  const { t, segs, connected, body } = exchange();
  const atPb = segments(t.tap.at('pb/eth0'));

  it('completes the exchange', () => {
    expect(connected).toBe(true);
    expect(body).toBe('H'.repeat(184) + 'kr-pb\n');
  });

  it("puts the reference's 12 segments on the wire in its order (clusterip-http, kr-pc-eth0)", () => {
    const summary = atPb.map((s) => `${s.src === PA ? 'c' : 's'}:${s.flags}:${s.len}`);
    expect(summary).toEqual([
      'c:S:0', 's:SA:0', 'c:A:0', 'c:PA:75', 's:A:0', 's:PA:184', 'c:A:0', 's:PA:6', 'c:A:0', 'c:FA:0', 's:FA:0', 'c:A:0',
    ]);
    expect(segs.length).toBeGreaterThan(0);
  });

  it('sends Linux SYN options and windows: MSS 1460 for MTU 1500, windows 64240/65160 rounded to whole MSS, WS 10', () => {
    const [syn, synAck, ack] = atPb;
    expect([syn!.opts, syn!.mss, syn!.win, syn!.df]).toEqual(['2,4,8,1,3', 1460, 64240, true]);
    expect([synAck!.opts, synAck!.mss, synAck!.win, synAck!.id, synAck!.df]).toEqual(['2,4,8,1,3', 1460, 65160, 0, true]);
    // After the handshake: windows scaled by 1024 and rounded up (__tcp_select_window).
    expect(ack!.win).toBe(Math.ceil(64240 / 1024));
    expect(atPb[4]!.win).toBe(Math.ceil(65160 / 1024));
    expect(ack!.opts).toBe('1,1,8');
  });

  it('numbers IP IDs per socket: consecutive from a random start on each side', () => {
    const client = atPb.filter((s) => s.src === PA).map((s) => s.id);
    expect(client.slice(1).map((id, i) => (id - client[i]!) & 0xffff)).toEqual(client.slice(1).map(() => 1));
    const server = atPb.filter((s) => s.src === PB && s.flags !== 'SA').map((s) => s.id);
    expect(server.slice(1).map((id, i) => (id - server[i]!) & 0xffff)).toEqual(server.slice(1).map(() => 1));
  });

  it("holds the server's small body until its headers are ACKed (Nagle)", () => {
    const headers = atPb.findIndex((s) => s.len === 184);
    expect(atPb[headers + 1]).toMatchObject({ src: PA, flags: 'A' });
    expect(atPb[headers + 2]).toMatchObject({ src: PB, len: 6 });
  });

  it('writes captures tshark decodes cleanly', () => {
    expect(tapCaptureProblems(t.tap)).toEqual(Object.fromEntries(Object.keys(tapCaptureProblems(t.tap)).map((k) => [k, []])));
  });
});

describe('TCP: errors', () => {
  it('answers a SYN to a closed port with RST+ACK seq 0, window 0, DF, IP ID 0; connect reports ECONNREFUSED', () => {
    const t = sameNodeTopology(2);
    const [pa] = t.pods;
    const c = pa!.tcp.connect({ addr: PB, port: 9 });
    let err: TcpErrno | undefined;
    c.onError = (e) => (err = e);
    t.sched.run(2e9);
    expect(err).toBe('ECONNREFUSED');
    const s = segments(t.tap.at('pb/eth0'));
    expect(s.map((x) => x.flags)).toEqual(['S', 'RA']);
    expect(s[1]).toMatchObject({ seq: 0, ack: (s[0]!.seq + 1) >>> 0, win: 0, id: 0, df: true, opts: '' });
  });

  it('a listener bound to 127.0.0.1 does not take SYNs to the pod IP', () => {
    const t = sameNodeTopology(3);
    const [pa, pb] = t.pods;
    pb!.tcp.listen({ addr: parseIpv4('127.0.0.1'), port: 8080 }, () => {});
    const c = pa!.tcp.connect({ addr: PB, port: 8080 });
    let err: TcpErrno | undefined;
    c.onError = (e) => (err = e);
    t.sched.run(2e9);
    expect(err).toBe('ECONNREFUSED');
  });

  it('retransmits an unanswered SYN 1.024 s apart five times (tcp_syn_linear_timeouts, on the timer wheel), then doubling, and gives up with ETIMEDOUT after tcp_syn_retries more', () => {
    const t = sameNodeTopology(4);
    const [pa, pb] = t.pods;
    void pb;
    // A stale neighbour entry: the SYNs leave for a MAC nobody has any more, and nobody answers.
    pa!.neigh.addPermanent(pa!.devices.get('eth0')!, PB, 0x0e00_0000_0099);
    const c = pa!.tcp.connect({ addr: PB, port: 8080 });
    let err: TcpErrno | undefined;
    let at = 0;
    c.onError = (e) => {
      err = e;
      at = t.sched.nowNs;
    };
    t.sched.run(200e9);
    const syns = segments(t.tap.at('pa/eth0').filter((f) => f.dir === 'tx')).filter((s) => s.flags === 'S');
    const gapsMs = syns.slice(1).map((s, i) => Math.round((s.timeNs - syns[i]!.timeNs) / 1e6));
    // Linux 6.7+: the first tcp_syn_linear_timeouts (4) timeouts keep the 1 s RTO; then it doubles.
    // Each timeout is a timer-wheel timer (HZ=250): 1 s fires 1.024 s later, 2 s 2.016 s, and the
    // longer ones on coarser buckets. This machine's kernel, a SYN to a port that drops it:
    // 1014, 1024, 1020, 1024, 1024, 2016, 4064, 8192, 16128, 33284 ms — the same buckets, but for
    // where its jiffies stood at the first SYN and a tick that ran late.
    expect(gapsMs).toEqual([1024, 1024, 1024, 1024, 1024, 2016, 4128, 8192, 16128, 34048]);
    expect(err).toBe('ETIMEDOUT');
    // The last timeout (64 s, 16000 jiffies, 2.048 s buckets) after the eleventh SYN.
    expect(Math.round((at - syns[10]!.timeNs) / 1e6)).toBe(65536);
  });

  it('connect to an address nobody answers ARP for fails with EHOSTUNREACH once ARP gives up (about 3 s)', () => {
    const t = sameNodeTopology(9);
    const [pa] = t.pods;
    const c = pa!.tcp.connect({ addr: parseIpv4('10.244.1.77'), port: 80 });
    let err: TcpErrno | undefined;
    let at = 0;
    c.onError = (e) => {
      err = e;
      at = t.sched.nowNs;
    };
    t.sched.run(10e9);
    expect(err).toBe('EHOSTUNREACH');
    expect(at / 1e9).toBeGreaterThan(2.9);
    expect(at / 1e9).toBeLessThan(3.2);
  });

  it('listen on a port in use fails with EADDRINUSE', () => {
    const t = sameNodeTopology(5);
    const [pa] = t.pods;
    pa!.tcp.listen({ addr: 0, port: 80 }, () => {});
    expect(() => pa!.tcp.listen({ addr: PA, port: 80 }, () => {})).toThrow(/EADDRINUSE/);
  });
});

describe('TCP: bulk transfer', () => {
  it('moves 2 MB intact in MSS-sized segments, ACKing every second segment', () => {
    const t = sameNodeTopology(6);
    const [pa, pb] = t.pods;
    const size = 2_000_000;
    const data = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
    let received = 0;
    let ok = true;
    pb!.tcp.listen({ addr: 0, port: 5001 }, (c) => {
      c.onData = (d) => {
        for (let i = 0; i < d.length; i++) if (d[i] !== ((received + i) * 7 & 0xff)) ok = false;
        received += d.length;
      };
      c.onEnd = () => c.close();
    });
    const c = pa!.tcp.connect({ addr: PB, port: 5001 });
    c.onConnect = () => {
      c.write(data);
      c.close();
    };
    t.sched.run(60e9);
    expect(received).toBe(size);
    expect(ok).toBe(true);
    const segs = segments(t.tap.at('pb/eth0').filter((f) => f.dir === 'rx'));
    const dataSegs = segs.filter((s) => s.len > 0);
    expect(Math.max(...dataSegs.map((s) => s.len))).toBe(1448);
    const acks = segments(t.tap.at('pb/eth0').filter((f) => f.dir === 'tx')).filter((s) => s.len === 0);
    expect(acks.length).toBeLessThan(dataSegs.length * 0.7);
  });
});

describe('TCP: loss and retransmission', () => {
  /** Drops the frames `drop` picks on pb's eth0 as they arrive (a lossy wire, for the test only). */
  function lossyTransfer(seed: number, size: number, drop: (dataSegIndex: number) => boolean) {
    const t = sameNodeTopology(seed);
    const [pa, pb] = t.pods;
    const eth0 = pb!.devices.get('eth0')!;
    const receive = eth0.receive.bind(eth0);
    let dataIndex = 0;
    eth0.receive = (skb) => {
      const b = skb.buf;
      const ip = skb.head + ethernet.HEADER_LEN;
      if (ethernet.ethertype(b, skb.head) === ethernet.ETHERTYPE_IPV4 && ipv4.protocol(b, ip) === ipv4.PROTO_TCP) {
        const tOff = ipv4.payloadOffset(b, ip);
        const len = ipv4.totalLength(b, ip) - (tOff - ip) - tcp.headerLen(b, tOff);
        if (len > 0 && drop(dataIndex++)) return;
      }
      receive(skb);
    };
    let received = 0;
    pb!.tcp.listen({ addr: 0, port: 5001 }, (c) => {
      c.onData = (d) => void (received += d.length);
      c.onEnd = () => c.close();
    });
    const c = pa!.tcp.connect({ addr: PB, port: 5001 });
    c.onConnect = () => {
      c.write(new Uint8Array(size).fill(1));
      c.close();
    };
    t.sched.run(60e9);
    return { t, received, sent: segments(t.tap.at('pa/eth0').filter((f) => f.dir === 'tx')), acks: segments(t.tap.at('pb/eth0').filter((f) => f.dir === 'tx')) };
  }

  it('fast-retransmits a lost segment after three duplicate ACKs that carry SACK blocks', () => {
    const r = lossyTransfer(7, 100_000, (i) => i === 4);
    expect(r.received).toBe(100_000);
    const lostSeq = r.sent.filter((s) => s.len > 0)[4]!.seq;
    const copies = r.sent.filter((s) => s.seq === lostSeq && s.len > 0);
    expect(copies).toHaveLength(2);
    const dupAcks = r.acks.filter((s) => s.ack === lostSeq && s.len === 0);
    expect(dupAcks.length).toBeGreaterThanOrEqual(3);
    expect(dupAcks.slice(1).every((s) => s.opts === '1,1,8,1,1,5')).toBe(true);
    // The retransmission follows the third duplicate ACK, long before any RTO.
    expect(copies[1]!.timeNs - copies[0]!.timeNs).toBeLessThan(10e6);
  });

  it('retransmits the last segment on RTO (no duplicate ACKs can come) and backs off when it is lost again', () => {
    const r = lossyTransfer(8, 1000, (i) => i === 0 || i === 1);
    expect(r.received).toBe(1000);
    const copies = r.sent.filter((s) => s.len === 1000);
    expect(copies).toHaveLength(3);
    const gap1 = copies[1]!.timeNs - copies[0]!.timeNs;
    const gap2 = copies[2]!.timeNs - copies[1]!.timeNs;
    expect(gap1).toBeGreaterThanOrEqual(200e6); // RTO floor: TCP_RTO_MIN
    expect(gap1).toBeLessThan(1e9);
    // Exponential backoff; each timeout rounded up to its timer-wheel bucket (up to 32 ms at 400 ms).
    expect(gap2 / gap1).toBeGreaterThanOrEqual(2);
    expect(gap2 / gap1).toBeLessThan(2.2);
  });
});
