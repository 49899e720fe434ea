/**
 * The portal index (chain-index.ts) changes how far the evaluator looks, never what it decides:
 * on random KUBE-SERVICES-like chains (runs of `-d IP/32 -p P -m P --dport N -j CHAIN` mixed with
 * rules the index cannot key), the indexed walk gives the same verdict, the same rule counters
 * and the same count of rules traversed as a plain linear walk written here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { restoreNoFlush } from '../../../src/k8s/kube-proxy/iptables-client.js';
import { buildSegment, NO_OPTIONS } from '../../../src/net/tcp-output.js';
import { CompiledTable } from '../../../src/net/netfilter/chain-index.js';
import { createRuleset } from '../../../src/net/netfilter/rules.js';
import { NF_ACCEPT, NF_DROP, XtEvaluator, type XtEnv, type XtPacket } from '../../../src/net/netfilter/xt-eval.js';
import { RecentTables } from '../../../src/net/netfilter/xt-recent.js';
import * as tcp from '../../../src/packet/tcp.js';

const ADDRS = ['10.96.0.1', '10.96.0.2', '10.96.0.3'];
const PORTS = [53, 80, 443];
const PROTOS = ['tcp', 'udp'];

interface Spec {
  kind: 'portal' | 'src' | 'plain';
  addr: number;
  proto: number;
  port: number;
  target: 'ACCEPT' | 'DROP' | 'RET' | 'ACC';
}

const spec = fc.record<Spec>({
  kind: fc.constantFrom('portal', 'portal', 'portal', 'src', 'plain'),
  addr: fc.nat(2),
  proto: fc.nat(1),
  port: fc.nat(2),
  target: fc.constantFrom('ACCEPT', 'DROP', 'RET', 'ACC'),
});

function ruleText(s: Spec): string {
  const p = PROTOS[s.proto]!;
  const jump = s.target === 'RET' ? 'CH-RET' : s.target === 'ACC' ? 'CH-ACC' : s.target;
  if (s.kind === 'portal') return `-A KUBE-SERVICES -d ${ADDRS[s.addr]}/32 -p ${p} -m comment --comment "svc" -m ${p} --dport ${PORTS[s.port]} -j ${jump}`;
  if (s.kind === 'src') return `-A KUBE-SERVICES -s 10.244.0.0/16 -d ${ADDRS[s.addr]}/32 -p ${p} -m ${p} --dport ${PORTS[s.port]} -j ${jump}`;
  return `-A KUBE-SERVICES -p ${p} -j ${jump}`;
}

/** The plain linear walk: every rule tested in order; returns verdict, matched rule indices, rules visited. */
function linear(specs: Spec[], dst: number, proto: number, port: number): { verdict: number; hits: number[]; visited: number } {
  const hits: number[] = [];
  let visited = 0;
  for (let i = 0; i < specs.length; i++) {
    visited++;
    const s = specs[i]!;
    const protoOk = s.proto === proto;
    const ok = s.kind === 'plain' ? protoOk : protoOk && s.addr === dst && s.port === port; // src 10.244/16 always holds here
    if (!ok) continue;
    hits.push(i);
    if (s.target === 'ACCEPT' || s.target === 'ACC') return { verdict: NF_ACCEPT, hits, visited: visited + (s.target === 'ACC' ? 1 : 0) };
    if (s.target === 'DROP') return { verdict: NF_DROP, hits, visited };
    visited++; // CH-RET's single RETURN rule, then on with the next rule
  }
  return { verdict: NF_ACCEPT, hits, visited };
}

const env: XtEnv = {
  nowNs: 0, randomU32: () => 0, addrTypeBit: () => 2, recent: new RecentTables(),
  nat: () => NF_ACCEPT, reject: () => undefined, log: () => undefined,
};

describe('the indexed chain walk', () => {
  it('decides, counts and reports traversal as the linear walk does', () => {
    fc.assert(
      fc.property(fc.array(spec, { minLength: 0, maxLength: 60 }), fc.nat(2), fc.nat(1), fc.nat(2), (specs, dst, proto, port) => {
        const rs = createRuleset();
        restoreNoFlush(rs, ['*filter', ':FORWARD ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', ':CH-RET - [0:0]', ':CH-ACC - [0:0]',
          '-A FORWARD -j KUBE-SERVICES', ...specs.map(ruleText), '-A CH-RET -j RETURN', '-A CH-ACC -j ACCEPT', 'COMMIT', ''].join('\n'));
        const table = new CompiledTable(rs.tables.get('filter')!);
        const seg = buildSegment({ src: 0x0af40102, dst: [0x0a600001, 0x0a600002, 0x0a600003][dst]!, srcPort: 40000, dstPort: PORTS[port]!, seq: 1, ack: 0, flags: tcp.SYN, window: 1000, id: 1, dontFragment: true, ttl: 64, tos: 0 }, NO_OPTIONS, 0);
        if (proto === 1) seg.buf[seg.head + 9] = 17; // the same bytes read as UDP: ports sit at the same offsets
        const pkt: XtPacket = { buf: seg.buf, ip: seg.head, hook: 'FORWARD', hookIndex: 2, inDev: 'cni0', outDev: 'eth0', physIn: '', physOut: '', mark: 0, ct: null, ctinfo: 0 };
        const ev = new XtEvaluator();
        const verdict = ev.run(table, pkt, env);
        const want = linear(specs, dst, proto, port);
        expect(verdict).toBe(want.verdict);
        const counted = rs.tables.get('filter')!.chains.get('KUBE-SERVICES')!.rules.flatMap((r, i) => (r.counters.packets > 0 ? [i] : []));
        expect(counted).toEqual(want.hits);
        expect(ev.stats.traversed).toBe(want.visited + 1); // + FORWARD's jump rule
      }),
      // The run that once found a miscount: eight equal portal rules, the first one accepting.
      { numRuns: 1000, examples: [[Array.from({ length: 8 }, () => ({ kind: 'portal' as const, addr: 0, proto: 0, port: 0, target: 'ACCEPT' as const })), 0, 0, 0]] },
    );
  });
});
