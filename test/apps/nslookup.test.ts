import { describe, expect, it } from 'vitest';
import * as dns from '../../src/packet/dns.js';
import { tapCaptureProblems } from '../helpers/net-kit.js';
import { setup } from './dns-world.js';

const SERVER = 'Server:\t\t10.244.1.3\nAddress:\t10.244.1.3#53\n\n';
/**
 * check_ra: CoreDNS never sets RA, and with no next server the real nslookup 9.18.49 says so for
 * every reply it uses, as it arrives (seen with Debian's bind9-dnsutils against podwire's CoreDNS
 * on the kernel, parity's stand-in).
 */
const NO_RA = ';; Got recursion not available from 10.244.1.3\n';

describe('nslookup (BIND 9.18) against CoreDNS', () => {
  it('walks the search list, prints the A answer, then asks AAAA for the name found; no EDNS on the wire', () => {
    const s = setup();
    const r = s.run(['nslookup', 'my-svc']);
    expect(r).toMatchObject({ out: `${NO_RA}${SERVER}Name:\tmy-svc.default.svc.cluster.local\nAddress: 10.96.0.100\n${NO_RA}\n`, code: 0 });
    const sent = s.wire().filter((w) => w.dir === 'tx');
    expect(sent.map((w) => `${dns.typeName(w.m.questions[0]!.type)}?${w.m.questions[0]!.name}`)).toEqual(['A?my-svc.default.svc.cluster.local', 'AAAA?my-svc.default.svc.cluster.local']);
    for (const w of sent) {
      // RD only (no AD), no OPT record: 12 + name + 4 bytes.
      expect(dns.rawFlags(w.raw, 0)).toBe(0x0100);
      expect(dns.additionalCount(w.raw, 0)).toBe(0);
      expect(w.raw.length).toBe(12 + w.m.questions[0]!.name.length + 2 + 4);
    }
    expect(sent[0]!.src).not.toBe(sent[1]!.src);
    // libisc's UDP sockets use IP_PMTUDISC_OMIT: no DF on the queries (the kernel's captures).
    for (const w of sent) expect(w.df).toBe(false);
    expect(tapCaptureProblems(s.t.tap)).toEqual({});
  });

  it('NXDOMAIN after the whole search list and the name as given: "** server can\'t find", exit 1', () => {
    const s = setup();
    const r = s.run(['nslookup', 'nosvc.default.svc.cluster.local']);
    expect(r).toMatchObject({ out: `${NO_RA.repeat(4)}${SERVER}** server can't find nosvc.default.svc.cluster.local: NXDOMAIN\n\n`, code: 1 });
    expect(s.wire().filter((w) => w.dir === 'tx').map((w) => w.m.questions[0]!.name)).toEqual([
      'nosvc.default.svc.cluster.local.default.svc.cluster.local',
      'nosvc.default.svc.cluster.local.svc.cluster.local',
      'nosvc.default.svc.cluster.local.cluster.local',
      'nosvc.default.svc.cluster.local',
    ]);
  });

  it('a name with ndots dots is asked as given first; a reverse lookup prints the PTR without the server lines', () => {
    const s = setup();
    expect(s.run(['nslookup', 'db-0.db.default.svc.cluster.local']).out).toBe(`${NO_RA}${SERVER}Name:\tdb-0.db.default.svc.cluster.local\nAddress: 10.244.1.7\n${NO_RA}\n`);
    expect(s.wire().filter((w) => w.dir === 'tx').map((w) => dns.typeName(w.m.questions[0]!.type))).toEqual(['A', 'AAAA']);
    expect(s.run(['nslookup', '10.96.0.100']).out).toBe(`${NO_RA}100.0.96.10.in-addr.arpa\tname = my-svc.default.svc.cluster.local.\n\n`);
  });

  it('a server named on the command line turns check_ra off: no "recursion not available"', () => {
    const s = setup();
    expect(s.run(['nslookup', 'my-svc', '10.244.1.3']).out).toBe(`${SERVER}Name:\tmy-svc.default.svc.cluster.local\nAddress: 10.96.0.100\n\n`);
  });

  it('no answer: three 5 s tries per query, then "no servers could be reached", exit 1', () => {
    const s = setup('nameserver 10.244.1.99\noptions ndots:1\n');
    const start = s.t.sched.nowNs;
    const r = s.run(['nslookup', 'x.example']);
    expect(r).toMatchObject({ out: `${';; communications error to 10.244.1.99#53: timed out\n'.repeat(3)};; no servers could be reached\n\n\n`, code: 1 });
    expect(Math.round((s.t.sched.nowNs - start) / 1e9)).toBe(15);
  });
});
