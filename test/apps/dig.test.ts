import { describe, expect, it } from 'vitest';
import { parseDigArgs } from '../../src/apps/dig.js';
import * as dns from '../../src/packet/dns.js';
import { tapCaptureProblems } from '../helpers/net-kit.js';
import { setup } from './dns-world.js';

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/** The COOKIE dig sent in query `w` (its OPT record's only option). */
function cookieOf(w: { m: dns.DnsMessage }): Uint8Array {
  const opt = w.m.additionals[0]!;
  if (opt.data.kind !== 'opt') throw new Error('no OPT');
  return opt.data.options[0]!.data;
}

describe('dig (BIND 9.18) against CoreDNS', () => {
  it('prints a Service lookup as dig 9.18 does, and sends RD+AD with EDNS 1232 and a COOKIE', () => {
    const s = setup();
    const r = s.run(['dig', 'my-svc.default.svc.cluster.local']);
    const [tx, rx] = s.wire();
    const cookie = hex(cookieOf(tx!));
    expect(r.code).toBe(0);
    // libisc's UDP sockets use IP_PMTUDISC_OMIT: the query has no DF (the kernel's captures); CoreDNS's answer has.
    expect([tx!.df, rx!.df]).toEqual([false, true]);
    expect(r.out).toBe(
      '\n; <<>> DiG 9.18.27 <<>> my-svc.default.svc.cluster.local\n' +
        ';; global options: +cmd\n' +
        ';; Got answer:\n' +
        ';; WARNING: .local is reserved for Multicast DNS\n' +
        ';; You are currently testing what happens when an mDNS query is leaked to DNS\n' +
        `;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: ${tx!.m.id}\n` +
        ';; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1\n' +
        ';; WARNING: recursion requested but not available\n' +
        '\n' +
        ';; OPT PSEUDOSECTION:\n' +
        '; EDNS: version: 0, flags:; udp: 1232\n' +
        `; COOKIE: ${cookie} (echoed)\n` +
        ';; QUESTION SECTION:\n' +
        ';my-svc.default.svc.cluster.local. IN\tA\n' +
        '\n' +
        ';; ANSWER SECTION:\n' +
        'my-svc.default.svc.cluster.local. 30 IN\tA\t10.96.0.100\n' +
        '\n' +
        ';; Query time: 0 msec\n' +
        ';; SERVER: 10.244.1.3#53(10.244.1.3) (UDP)\n' +
        ';; WHEN: Thu Jan 01 00:00:00 UTC 2026\n' +
        `;; MSG SIZE  rcvd: ${rx!.raw.length}\n` +
        '\n',
    );
    // The query on the wire: RD|AD, one question, an OPT record (root, type 41, class 1232, TTL 0)
    // with COOKIE (option 10, 8 bytes) — and nothing else.
    const q = tx!.raw;
    expect(dns.rawFlags(q, 0)).toBe(0x0120);
    expect([dns.questionCount(q, 0), dns.answerCount(q, 0), dns.authorityCount(q, 0), dns.additionalCount(q, 0)]).toEqual([1, 0, 0, 1]);
    const qname = 34; // wire length of my-svc.default.svc.cluster.local.
    expect(q.length).toBe(12 + qname + 4 + 11 + 12);
    expect([...q.subarray(12 + qname + 4, 12 + qname + 4 + 15)]).toEqual([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 12, 0, 10, 0, 8]);
    expect(tx!.dst).toBe(53);
    expect(tapCaptureProblems(s.t.tap)).toEqual({});
  });

  it('NXDOMAIN: the authority SOA in dig columns, exit 0; the name is asked as given (no search list)', () => {
    const s = setup();
    const r = s.run(['dig', 'nosvc.default.svc.cluster.local']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(';; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: ');
    expect(r.out).toContain(';; flags: qr aa rd; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1\n');
    expect(r.out).toContain(
      ';; QUESTION SECTION:\n;nosvc.default.svc.cluster.local. IN\tA\n\n;; AUTHORITY SECTION:\n' +
        'cluster.local.\t\t30\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. 1767225000 7200 1800 86400 30\n\n;; Query time: 0 msec\n',
    );
    expect(s.wire().filter((w) => w.dir === 'tx').map((w) => w.m.questions[0]!.name)).toEqual(['nosvc.default.svc.cluster.local']);
    expect(s.run(['dig', 'my-svc']).out).toContain('status: SERVFAIL');
  });

  it('+short prints the RDATA only; +noall +answer the record lines; +search walks resolv.conf', () => {
    const s = setup();
    expect(s.run(['dig', '+short', 'my-svc.default.svc.cluster.local'])).toMatchObject({ out: '10.96.0.100\n', code: 0 });
    expect(s.run(['dig', '+short', 'nosvc.default.svc.cluster.local'])).toMatchObject({ out: '', code: 0 });
    expect(s.run(['dig', '+noall', '+answer', '-x', '10.96.0.100']).out).toBe('100.0.96.10.in-addr.arpa. 30\tIN\tPTR\tmy-svc.default.svc.cluster.local.\n');
    const before = s.wire().length;
    const r = s.run(['dig', '+search', 'db.default']);
    expect(r.out).toContain(';; ANSWER SECTION:\ndb.default.svc.cluster.local. 30 IN\tA\t10.244.1.7\n');
    expect(s.wire().slice(before).filter((w) => w.dir === 'tx').map((w) => w.m.questions[0]!.name)).toEqual(['db.default.default.svc.cluster.local', 'db.default.svc.cluster.local']);
  });

  it('no answer: 3 tries of 5 s, then the greeting and "no servers could be reached", exit 9', () => {
    const s = setup('nameserver 10.244.1.99\n');
    const start = s.t.sched.nowNs;
    const r = s.run(['dig', 'x.example']);
    expect(r.out).toBe(
      ';; communications error to 10.244.1.99#53: timed out\n'.repeat(3) +
        '\n; <<>> DiG 9.18.27 <<>> x.example\n;; global options: +cmd\n;; no servers could be reached\n\n',
    );
    expect(r.code).toBe(9);
    expect(Math.round((s.t.sched.nowNs - start) / 1e9)).toBe(15);
    const t = s.run(['dig', '+short', '@10.244.1.99', '+tries=1', '+time=2', 'x.example']);
    expect(t).toMatchObject({ out: ';; communications error to 10.244.1.99#53: timed out\n;; no servers could be reached\n\n', code: 9 });
    expect(s.run(['dig', '@10.244.1.3', 'my-svc.default.svc.cluster.local']).out).toMatch(/^\n; <<>> DiG 9\.18\.27 <<>> @10\.244\.1\.3 my-svc\.default\.svc\.cluster\.local\n; \(1 server found\)\n;; global options: \+cmd\n;; Got answer:\n/);
  });

  it('port unreachable: each try from a new socket with the same ID, "connection refused"', () => {
    // The bridge address answers UDP/53 with ICMP port unreachable: ECONNREFUSED on the connected socket.
    const s = setup('nameserver 10.244.1.1\n');
    const r = s.run(['dig', '+short', 'x.example']);
    expect(r).toMatchObject({ out: `${';; communications error to 10.244.1.1#53: connection refused\n'.repeat(3)};; no servers could be reached\n\n`, code: 9 });
    const sent = s.wire().filter((w) => w.dir === 'tx');
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((w) => w.m.id)).size).toBe(1);
    expect(new Set(sent.map((w) => w.src)).size).toBe(3);
    expect(tapCaptureProblems(s.t.tap)).toEqual({});
  });

  it('rejects an unknown +option as dig does (exit 1)', () => {
    expect(() => parseDigArgs(['+bogus', 'x'])).toThrow(/^Invalid option: \+bogus\nUsage:  dig /);
    expect(parseDigArgs(['my-svc', 'aaaa', '+noall', '+answer'])).toMatchObject({ name: 'my-svc', rdtype: dns.TYPE_AAAA, comments: false, printcmd: false, sections: { answer: true, question: false } });
  });
});
