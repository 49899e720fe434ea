import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIptablesSave, renderIptablesSave } from '../../../src/net/netfilter/iptables-save.js';
import {
  ADDR_TYPES, BUILTIN_CHAINS, REJECT_WITH, createRuleset, ensureTable, ensureUserChain, zeroCounters,
  type AddrMatch, type Match, type Rule, type Ruleset, type TableName, type Target,
} from '../../../src/net/netfilter/rules.js';
import { prefixMask } from '../../../src/packet/addr.js';

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const port = fc.integer({ min: 0, max: 65535 });
const counters = fc.record({ packets: fc.nat(), bytes: fc.nat() });

const addr: fc.Arbitrary<AddrMatch | null> = fc.option(
  fc.record({ addr: u32, len: fc.integer({ min: 0, max: 32 }), negated: fc.boolean(), dotted: u32 }).map(({ addr: a, len, negated, dotted }) => {
    const mask = len === 0 && dotted % 3 === 0 ? dotted : prefixMask(len);
    return { addr: (a & mask) >>> 0, mask, negated };
  }),
);
const iface = fc.option(fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9.]{0,13}\+?$/), negated: fc.boolean() }));
const portRange = fc.option(fc.record({ a: port, b: port, negated: fc.boolean() }).map(({ a, b, negated }) => ({ min: Math.min(a, b), max: Math.max(a, b), negated })));
const text = fc.string({ minLength: 1, maxLength: 40, unit: fc.constantFrom('a', 'Z', '0', '-', '_', ' ', '/', ':', '"', '\\', "'", '>', '.') });
const typeSel = fc.option(fc.record({ types: fc.integer({ min: 1, max: (1 << ADDR_TYPES.length) - 1 }), negated: fc.boolean() }));

function matchArb(proto: number | null): fc.Arbitrary<Match> {
  const generic: Array<fc.Arbitrary<Match>> = [
    text.map((t) => ({ kind: 'comment', text: t })),
    fc.record({ mark: u32, mask: u32, negated: fc.boolean() }).map((m) => ({ kind: 'mark', ...m })),
    fc.record({ states: fc.integer({ min: 1, max: 0x70f }).map((s) => s & 0x70f).filter((s) => s !== 0), negated: fc.boolean() }).map((m) => ({ kind: 'conntrack', ...m })),
    fc.record({ probability: fc.integer({ min: 0, max: 0x8000_0000 }), negated: fc.boolean() }).map((m) => ({ kind: 'statistic', ...m })),
    fc.record({ src: typeSel, dst: typeSel, limitIfaceIn: fc.boolean(), limitIfaceOut: fc.boolean() })
      .filter((m) => m.src !== null || m.dst !== null).map((m) => ({ kind: 'addrtype', ...m })),
    fc.record({
      command: fc.constantFrom('set', 'rcheck', 'update', 'remove'), negated: fc.boolean(), name: fc.stringMatching(/^[A-Z][A-Z0-9-]{0,20}$/),
      seconds: fc.nat(), reap: fc.boolean(), hitcount: fc.nat({ max: 255 }), rttl: fc.boolean(), mask: u32, side: fc.constantFrom('source', 'dest'),
    }).map((m) => ({ kind: 'recent', ...m, rttl: m.rttl && (m.command === 'rcheck' || m.command === 'update') }) as Match),
    fc.boolean().map((negated) => ({ kind: 'physdev', isBridged: true, negated })),
  ];
  if (proto === 6 || proto === 17) {
    generic.push(fc.record({ sport: portRange, dport: portRange }).map((m) => ({ kind: proto === 6 ? 'tcp' : 'udp', ...m })));
  }
  return fc.oneof(...generic);
}

function targetArb(chains: readonly string[], proto: number | null): fc.Arbitrary<Target | null> {
  const portsOk = proto === 6 || proto === 17;
  const ports = portsOk ? fc.option(fc.record({ a: port, b: port }).map(({ a, b }) => ({ min: Math.min(a, b), max: Math.max(a, b) }))) : fc.constant(null);
  const options: Array<fc.Arbitrary<Target | null>> = [
    fc.constant(null),
    fc.constantFrom('ACCEPT', 'DROP', 'RETURN').map((verdict) => ({ kind: 'verdict', verdict }) as Target),
    fc.record({ value: u32, mask: u32 }).map((m) => ({ kind: 'MARK', ...m }) as Target),
    fc.record({
      kind: fc.constantFrom('DNAT', 'SNAT'), a: u32, b: u32, ranged: fc.boolean(), ports, random: fc.boolean(), randomFully: fc.boolean(), persistent: fc.boolean(),
    }).map(({ kind, a, b, ranged, ports: p, random, randomFully, persistent }) => ({
      kind, range: { addr: p !== null && ranged && a % 2 === 0 ? null : { min: Math.min(a, ranged ? b : a), max: Math.max(a, ranged ? b : a) }, ports: p },
      random, randomFully: kind === 'SNAT' && randomFully, persistent,
    }) as Target),
    fc.record({ ports, random: fc.boolean(), randomFully: fc.boolean() }).map((m) => ({ kind: 'MASQUERADE', ...m }) as Target),
    fc.constantFrom(...REJECT_WITH.filter((w) => w !== 'tcp-reset' || proto === 6)).map((w) => ({ kind: 'REJECT', with: w }) as Target),
    fc.record({ prefix: fc.string({ maxLength: 29, unit: fc.constantFrom('a', ' ', ':', '"', 'X') }), level: fc.integer({ min: 0, max: 7 }), flags: fc.constantFrom(0, 1, 2, 4, 8, 0x20, 0x2f) })
      .map((m) => ({ kind: 'LOG', ...m }) as Target),
  ];
  if (chains.length > 0) options.push(fc.record({ chain: fc.constantFrom(...chains), goto: fc.boolean() }).map((m) => ({ kind: 'jump', ...m }) as Target));
  return fc.oneof(...options);
}

function ruleArb(chains: readonly string[]): fc.Arbitrary<Rule> {
  return fc.option(fc.record({ proto: fc.constantFrom(6, 17, 1, 47, 132), negated: fc.boolean() }), { freq: 2 }).chain((protocol) => {
    const proto = protocol !== null && !protocol.negated ? protocol.proto : null;
    return fc.record({
      src: addr, dst: addr, inIface: iface, outIface: iface, protocol: fc.constant(protocol),
      matches: fc.array(matchArb(proto), { maxLength: 4 }), target: targetArb(chains, proto), counters,
    });
  });
}

const rulesetArb: fc.Arbitrary<Ruleset> = fc.record({
  tables: fc.subarray(['filter', 'mangle', 'raw', 'nat'] as TableName[], { minLength: 1 }),
  userChains: fc.uniqueArray(fc.stringMatching(/^[A-Z][A-Z0-9-]{0,27}$/), { maxLength: 5 }),
}).chain(({ tables, userChains }) => {
  const slots = tables.flatMap((t) => [...BUILTIN_CHAINS[t], ...userChains].map((c) => [t, c] as const));
  return fc.tuple(
    fc.array(fc.tuple(fc.nat({ max: slots.length - 1 }), ruleArb(userChains)), { maxLength: 12 }),
    fc.array(fc.tuple(fc.constantFrom('ACCEPT', 'DROP') as fc.Arbitrary<'ACCEPT' | 'DROP'>, counters), { minLength: 5, maxLength: 5 }),
  ).map(([rules, policies]) => {
    const rs = createRuleset();
    for (const t of tables) {
      const table = ensureTable(rs, t);
      BUILTIN_CHAINS[t].forEach((hook, i) => {
        const c = table.chains.get(hook);
        const [policy, cnt] = policies[i] ?? ['ACCEPT', zeroCounters()];
        if (c) {
          c.policy = policy;
          Object.assign(c.counters, cnt);
        }
      });
      for (const u of userChains) if (!table.chains.has(u)) ensureUserChain(table, u);
    }
    for (const [slot, rule] of rules) {
      const [t, c] = slots[slot] as readonly [TableName, string];
      rs.tables.get(t)?.chains.get(c)?.rules.push(rule);
    }
    return rs;
  });
});

describe('iptables-save text is a fixed point of render ∘ parse', () => {
  it('render(parse(render(rs))) === render(rs), with and without counters', () => {
    const date = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
    fc.assert(
      fc.property(rulesetArb, fc.boolean(), (rs, withCounters) => {
        const text = renderIptablesSave(rs, { date, counters: withCounters });
        const again = renderIptablesSave(parseIptablesSave(text), { date, counters: withCounters });
        expect(again).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('parse(render(rs)) keeps the model (counters included) for canonical rulesets', () => {
    const date = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
    fc.assert(
      fc.property(rulesetArb, (rs) => {
        const back = parseIptablesSave(renderIptablesSave(rs, { date, counters: true }));
        // Canonicalize what iptables itself forgets: an interface of just "+" un-negated, 0/0.
        for (const t of rs.tables.values()) {
          for (const c of t.chains.values()) {
            for (const r of c.rules) {
              if (r.inIface?.name === '+' && !r.inIface.negated) r.inIface = null;
              if (r.outIface?.name === '+' && !r.outIface.negated) r.outIface = null;
              for (const a of ['src', 'dst'] as const) {
                const v = r[a];
                if (v !== null && v.mask === 0 && v.addr === 0 && !v.negated) r[a] = null;
              }
              for (const m of r.matches) {
                if (m.kind === 'tcp' || m.kind === 'udp') {
                  if (m.sport?.min === 0 && m.sport.max === 65535 && !m.sport.negated) m.sport = null;
                  if (m.dport?.min === 0 && m.dport.max === 65535 && !m.dport.negated) m.dport = null;
                }
              }
            }
          }
        }
        expect(back).toEqual(rs);
      }),
      { numRuns: 100 },
    );
  });
});
