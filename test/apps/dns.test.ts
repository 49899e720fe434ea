import { describe, expect, it } from 'vitest';
import { clusterFirstResolvConf, kubeletHostsFile, parseResolvConf } from '../../src/apps/resolv-conf.js';
import { parseIpv4 } from '../../src/packet/addr.js';
import * as dns from '../../src/packet/dns.js';
import { tapCaptureProblems } from '../helpers/net-kit.js';
import { SERIAL, setup as world } from './dns-world.js';

/** The CoreDNS-in-pb world of dns-world.ts, with stderr shown in `out` as a terminal shows it. */
const setup = (clientResolv?: string) => world(clientResolv, true);

describe('glibc getaddrinfo against CoreDNS (the kernel reference "dns", on a netns pair)', () => {
  it('asks what glibc 2.36 asked for my-svc, my-svc.default, api.example.com: 2 + 4 + 8 queries', () => {
    const s = setup();
    expect(s.run(['getaddrinfo', 'my-svc']).out).toBe('inet 10.96.0.100\n');
    expect(s.run(['getaddrinfo', 'my-svc.default']).out).toBe('inet 10.96.0.100\n');
    expect(s.run(['getaddrinfo', 'api.example.com']).out).toBe('inet 192.168.1.100\n');
    const sent = s.wire().filter((w) => w.dir === 'tx');
    // The reference's signatures.txt, kr-pa-eth0, in order.
    expect(sent.map((w) => `${dns.typeName(w.m.questions[0]!.type)}?${w.m.questions[0]!.name}`)).toEqual([
      'A?my-svc.default.svc.cluster.local', 'AAAA?my-svc.default.svc.cluster.local',
      'A?my-svc.default.default.svc.cluster.local', 'AAAA?my-svc.default.default.svc.cluster.local',
      'A?my-svc.default.svc.cluster.local', 'AAAA?my-svc.default.svc.cluster.local',
      'A?api.example.com.default.svc.cluster.local', 'AAAA?api.example.com.default.svc.cluster.local',
      'A?api.example.com.svc.cluster.local', 'AAAA?api.example.com.svc.cluster.local',
      'A?api.example.com.cluster.local', 'AAAA?api.example.com.cluster.local',
      'A?api.example.com', 'AAAA?api.example.com',
    ]);
    for (const w of sent) {
      expect(w.dst).toBe(53);
      // RD only, one question of class IN, nothing else: no EDNS.
      expect(dns.rawFlags(w.raw, 0)).toBe(0x0100);
      expect([dns.questionCount(w.raw, 0), dns.answerCount(w.raw, 0), dns.authorityCount(w.raw, 0), dns.additionalCount(w.raw, 0)]).toEqual([1, 0, 0, 0]);
      expect(w.m.questions[0]!.class).toBe(dns.CLASS_IN);
      expect(w.raw.length).toBe(12 + w.m.questions[0]!.name.length + 2 + 4);
    }
    // A and AAAA back to back from one socket; a new socket (source port) per candidate name.
    for (let i = 0; i < sent.length; i += 2) {
      expect(sent[i + 1]!.src).toBe(sent[i]!.src);
      expect(sent[i + 1]!.timeNs).toBe(sent[i]!.timeNs);
      expect(sent[i + 1]!.m.id).not.toBe(sent[i]!.m.id);
    }
    expect(new Set(sent.filter((_, i) => i % 2 === 0).map((w) => w.src)).size).toBe(7);
    // Every query answered, each answer read (14 responses).
    expect(s.wire().filter((w) => w.dir === 'rx')).toHaveLength(14);
  });

  it('CoreDNS answers as the kubernetes plugin does: AA, TTL 30, NXDOMAIN with the zone SOA, uncompressed', () => {
    const s = setup();
    s.run(['getaddrinfo', 'my-svc.default']);
    const rx = s.wire().filter((w) => w.dir === 'rx');
    const [nx, nxAaaa, a, aaaa] = rx.map((w) => w.m);
    expect(nx!.flags).toMatchObject({ qr: true, aa: true, rd: true, ra: false, rcode: dns.RCODE_NXDOMAIN });
    expect(nx!.authorities).toEqual([{ name: 'cluster.local', type: dns.TYPE_SOA, class: 1, ttl: 30, data: { kind: 'soa', mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: SERIAL, refresh: 7200, retry: 1800, expire: 86400, minimum: 30 } }]);
    expect(nxAaaa!.flags.rcode).toBe(dns.RCODE_NXDOMAIN);
    expect(a!.answers).toEqual([{ name: 'my-svc.default.svc.cluster.local', type: dns.TYPE_A, class: 1, ttl: 30, data: { kind: 'a', address: parseIpv4('10.96.0.100') } }]);
    // NODATA: NOERROR, no answer, the SOA.
    expect([aaaa!.flags.rcode, aaaa!.answers.length, aaaa!.authorities[0]?.type]).toEqual([0, 0, dns.TYPE_SOA]);
    // ScrubWriter leaves a reply that fits uncompressed: the owner name written in full.
    expect(rx[2]!.raw.length).toBe(12 + 34 + 4 + 34 + 10 + 4);
    expect(tapCaptureProblems(s.t.tap)).toEqual({});
  });

  it('ndots: a name with 5 dots is tried as given first; a trailing dot only as given', () => {
    const s = setup();
    s.run(['getaddrinfo', 'a.b.c.d.e.f']);
    const names = () => s.wire().filter((w) => w.dir === 'tx' && w.m.questions[0]!.type === dns.TYPE_A).map((w) => w.m.questions[0]!.name);
    // Outside cluster.local this CoreDNS has no upstream: SERVFAIL, which glibc retries (attempts:2).
    expect(names()).toEqual(['a.b.c.d.e.f', 'a.b.c.d.e.f', 'a.b.c.d.e.f.default.svc.cluster.local', 'a.b.c.d.e.f.svc.cluster.local', 'a.b.c.d.e.f.cluster.local']);
    const before = names().length;
    expect(s.run(['getaddrinfo', 'my-svc.default.svc.cluster.local.']).out).toBe('inet 10.96.0.100\n');
    expect(names().slice(before)).toEqual(['my-svc.default.svc.cluster.local.'.slice(0, -1)]);
    expect(s.run(['getaddrinfo', 'nope.cluster.local.']).out).toBe('getaddrinfo: nope.cluster.local.: Name or service not known\n');
  });

  it('AI_ADDRCONFIG without an IPv6 address asks A only (getent ahosts), and prints as getent does', () => {
    const s = setup();
    const r = s.run(['getent', 'ahosts', 'my-svc']);
    expect(r.out).toBe('10.96.0.100     STREAM my-svc.default.svc.cluster.local\n10.96.0.100     DGRAM  \n10.96.0.100     RAW    \n');
    expect(r.code).toBe(0);
    expect(s.wire().filter((w) => w.dir === 'tx').map((w) => dns.typeName(w.m.questions[0]!.type))).toEqual(['A']);
    expect(s.run(['getent', 'ahosts', 'missing']).code).toBe(2);
  });

  it('/etc/hosts first: localhost and the pod name resolve with no packet', () => {
    const s = setup();
    expect(s.run(['getaddrinfo', 'pa', '--flags', 'CANONNAME']).out).toBe('canonname pa\ninet 10.244.1.2\n');
    expect(s.run(['getaddrinfo', 'localhost']).out).toBe('inet 127.0.0.1\ninet6 ::1\n');
    expect(s.wire()).toHaveLength(0);
  });

  it('headless services, endpoint hostnames and pod A records', () => {
    const s = setup();
    expect(s.run(['getaddrinfo', 'db', '--family', 'inet']).out).toBe('inet 10.244.1.7\n');
    expect(s.run(['getaddrinfo', 'db-0.db', '--family', 'inet']).out).toBe('inet 10.244.1.7\n');
    expect(s.run(['getaddrinfo', '10-244-1-9.default.pod', '--family', 'inet']).out).toBe('inet 10.244.1.9\n');
  });

  it('curl, ping and nc name their errors as the real tools do', () => {
    const s = setup();
    const gone = 'nosvc.default.svc.cluster.local.';
    expect(s.run(['ping', '-c', '1', gone]).out).toBe(`ping: ${gone}: Name or service not known\n`);
    expect(s.run(['curl', '-sS', `http://${gone}/`]).out).toBe(`curl: (6) Could not resolve host: ${gone}\n`);
    expect(s.run(['nc', '-z', gone, '80']).out).toBe(`nc: getaddrinfo for host "${gone}" port 80: Name or service not known\n`);
    // The name as given last: SERVFAIL (no upstream here) twice, so TRY_AGAIN.
    expect(s.run(['ping', '-c', '1', 'missing']).out).toBe('ping: missing: Temporary failure in name resolution\n');
  });

  it('no answer: 5 s timeout, 2 attempts from the same socket, then EAI_AGAIN', () => {
    const s = setup('nameserver 10.244.1.99\n');
    const start = s.t.sched.nowNs;
    const r = s.run(['getaddrinfo', 'x.example', '--family', 'inet']);
    expect(r.out).toBe('getaddrinfo: x.example: Temporary failure in name resolution\n');
    expect(Math.round((s.t.sched.nowNs - start) / 1e9)).toBe(10);
  });
});

describe('resolv.conf and hosts texts', () => {
  it('renders the kubelet ClusterFirst file as the reference pod had it, and parses it back', () => {
    const text = clusterFirstResolvConf({ namespace: 'default' });
    expect(text).toBe('search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
    expect(parseResolvConf(text)).toMatchObject({ nameservers: [parseIpv4('10.96.0.10')], search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], ndots: 5, timeoutSec: 5, attempts: 2 });
  });

  it('writes the kubelet hosts file', () => {
    expect(kubeletHostsFile({ podIp: '10.244.1.2', hostname: 'web-0', subdomain: 'web' })).toBe(
      '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n10.244.1.2\tweb-0.web.default.svc.cluster.local\tweb-0\n',
    );
  });
});
