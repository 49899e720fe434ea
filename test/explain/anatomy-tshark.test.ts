/**
 * The anatomy against tshark as an independent oracle: for every frame of real kernel captures
 * (fixtures/kernel) and of a podwire run, each field's byte offset and size in the frame, its raw
 * bytes and its value must be what tshark's PDML says (pos, size, value, show), outer and inner
 * headers alike, and every checksum tshark calls good must be called correct here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dissectFrame } from '../../src/explain/anatomy.js';
import type { ExplainedLayer, FieldRow } from '../../src/explain/model.js';
import { readCapture } from '../../src/pcap/index.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { writeClassicPcap } from '../helpers/pcap-file.js';
import { pdmlFrames, type PdmlField } from './pdml.js';

const root = mkdtempSync(join(tmpdir(), 'podwire-explain-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Compare = 'raw' | 'show' | 'both';
interface Check {
  readonly tshark: string;
  readonly rows: (layers: readonly ExplainedLayer[]) => FieldRow[];
  readonly compare: Compare;
  /** For option values tshark points past the option's kind and length bytes. */
  readonly shift?: number;
  readonly size?: number;
}

const rowsOf = (kind: string, name: string | RegExp, quoted = true) => (layers: readonly ExplainedLayer[]) =>
  layers.filter((l) => l.kind === kind && (quoted || !l.name.includes('(quoted'))).flatMap((l) => l.fields.filter((f) => (typeof name === 'string' ? f.name === name : name.test(f.name))));

const CHECKS: readonly Check[] = [
  { tshark: 'eth.dst', rows: rowsOf('ethernet', 'dst'), compare: 'raw' },
  { tshark: 'eth.src', rows: rowsOf('ethernet', 'src'), compare: 'raw' },
  { tshark: 'eth.type', rows: rowsOf('ethernet', 'ethertype'), compare: 'raw' },
  { tshark: 'arp.opcode', rows: rowsOf('arp', 'op'), compare: 'both' },
  { tshark: 'arp.src.proto_ipv4', rows: rowsOf('arp', 'spa'), compare: 'raw' },
  { tshark: 'ip.len', rows: rowsOf('ipv4', 'totalLength'), compare: 'both' },
  { tshark: 'ip.id', rows: rowsOf('ipv4', 'id'), compare: 'raw' },
  { tshark: 'ip.flags.df', rows: rowsOf('ipv4', 'frag.df'), compare: 'show' },
  { tshark: 'ip.flags.mf', rows: rowsOf('ipv4', 'frag.mf'), compare: 'show' },
  { tshark: 'ip.ttl', rows: rowsOf('ipv4', 'ttl'), compare: 'both' },
  { tshark: 'ip.proto', rows: rowsOf('ipv4', 'protocol'), compare: 'both' },
  { tshark: 'ip.checksum', rows: rowsOf('ipv4', 'checksum'), compare: 'raw' },
  { tshark: 'ip.src', rows: rowsOf('ipv4', 'src'), compare: 'raw' },
  { tshark: 'ip.dst', rows: rowsOf('ipv4', 'dst'), compare: 'raw' },
  { tshark: 'icmp.type', rows: rowsOf('icmp', 'type'), compare: 'both' },
  { tshark: 'icmp.code', rows: rowsOf('icmp', 'code'), compare: 'both' },
  { tshark: 'icmp.seq', rows: rowsOf('icmp', 'echoSeq'), compare: 'both' },
  { tshark: 'udp.srcport', rows: rowsOf('udp', 'srcPort'), compare: 'both' },
  { tshark: 'udp.dstport', rows: rowsOf('udp', 'dstPort'), compare: 'both' },
  { tshark: 'udp.length', rows: rowsOf('udp', 'length'), compare: 'both' },
  { tshark: 'udp.checksum', rows: rowsOf('udp', 'checksum'), compare: 'raw' },
  { tshark: 'vxlan.vni', rows: rowsOf('vxlan', 'vni'), compare: 'both' },
  { tshark: 'tcp.srcport', rows: rowsOf('tcp', 'srcPort'), compare: 'both' },
  { tshark: 'tcp.dstport', rows: rowsOf('tcp', 'dstPort'), compare: 'both' },
  // Inside an ICMP error's quote tshark gives the relative number only.
  { tshark: 'tcp.seq_raw', rows: rowsOf('tcp', 'seq', false), compare: 'both' },
  { tshark: 'tcp.flags.syn', rows: rowsOf('tcp', 'ctl.syn'), compare: 'show' },
  { tshark: 'tcp.flags.ack', rows: rowsOf('tcp', 'ctl.ack'), compare: 'show' },
  { tshark: 'tcp.flags.fin', rows: rowsOf('tcp', 'ctl.fin'), compare: 'show' },
  { tshark: 'tcp.window_size_value', rows: rowsOf('tcp', 'window'), compare: 'both' },
  { tshark: 'tcp.checksum', rows: rowsOf('tcp', 'checksum'), compare: 'raw' },
  { tshark: 'tcp.options.mss_val', rows: rowsOf('tcp', /\.mss$/), compare: 'show', shift: 2, size: 2 },
  { tshark: 'tcp.options.wscale.shift', rows: rowsOf('tcp', /\.wscale$/), compare: 'show', shift: 2, size: 1 },
  { tshark: 'tcp.options.timestamp.tsval', rows: rowsOf('tcp', /\.tsval$/), compare: 'both' },
  { tshark: 'tcp.options.timestamp.tsecr', rows: rowsOf('tcp', /\.tsecr$/), compare: 'both' },
  { tshark: 'dns.id', rows: rowsOf('dns', 'id'), compare: 'raw' },
  { tshark: 'dns.qry.name', rows: rowsOf('dns', /^questions\[\d+\]\.name$/), compare: 'show' },
  { tshark: 'dns.qry.type', rows: rowsOf('dns', /^questions\[\d+\]\.type$/), compare: 'both' },
  { tshark: 'dns.resp.ttl', rows: rowsOf('dns', /^answers\[\d+\]\.ttl$/), compare: 'both' },
  { tshark: 'dns.a', rows: rowsOf('dns', /^answers\[\d+\]\.rdata$/), compare: 'show' },
];

/** Every disagreement between the anatomy of `file` and tshark's dissection, as readable lines. */
function disagreements(file: string): { compared: number; problems: string[] } {
  const capture = readCapture(readFileSync(file));
  const pdml = pdmlFrames(file);
  expect(pdml).toHaveLength(capture.packets.length);
  const problems: string[] = [];
  let compared = 0;
  capture.packets.forEach((p, i) => {
    const layers = dissectFrame(p.data, p.linktype);
    const theirs = pdml[i]!;
    const where = `frame ${i + 1}`;
    for (const c of CHECKS) {
      const t = theirs.filter((f) => f.name === c.tshark);
      const mine = c.rows(layers);
      if (t.length !== mine.length) {
        problems.push(`${where} ${c.tshark}: tshark has ${t.length}, explain ${mine.length}`);
        continue;
      }
      t.forEach((f: PdmlField, k) => {
        const m = mine[k]!;
        compared++;
        const pos = m.offset + (c.shift ?? 0);
        const size = c.size ?? m.length;
        if (f.pos !== pos || f.size !== size) problems.push(`${where} ${c.tshark}[${k}]: tshark at ${f.pos}+${f.size}, explain at ${pos}+${size}`);
        if ((c.compare === 'raw' || c.compare === 'both') && f.value !== m.raw) problems.push(`${where} ${c.tshark}[${k}]: tshark bytes ${f.value}, explain ${m.raw}`);
        const shown = c.compare === 'show' && typeof m.value === 'string' && c.tshark !== 'dns.qry.name' ? m.meaning : String(m.value);
        if ((c.compare === 'show' || c.compare === 'both') && f.show !== shown) problems.push(`${where} ${c.tshark}[${k}]: tshark shows ${f.show}, explain ${shown}`);
      });
    }
    // Checksum verdicts: tshark's status 1 = good, 0 = bad, at the checksum field's position.
    for (const s of theirs.filter((f) => /^(ip|udp|tcp|icmp)\.checksum\.status$/.test(f.name) && (f.show === '0' || f.show === '1'))) {
      const row = layers.flatMap((l) => l.fields).find((f) => f.name === 'checksum' && f.offset === s.pos);
      compared++;
      if (!row) problems.push(`${where} ${s.name} at ${s.pos}: no checksum row there`);
      else if (row.meaning.includes('(correct)') !== (s.show === '1')) problems.push(`${where} ${s.name} at ${s.pos}: tshark ${s.show === '1' ? 'good' : 'bad'}, explain "${row.meaning}"`);
    }
  });
  return { compared, problems };
}

describe('explain agrees with tshark field by field', () => {
  it.each([
    ['fixtures/kernel/clusterip-http/kr-n1-eth0.pcap', 'real kernel: VXLAN with TCP and HTTP inside'],
    ['fixtures/kernel/clusterip-http/kr-pa-eth0.pcap', 'real kernel: a pod\'s TCP'],
    ['fixtures/kernel/cross-node-ping/kr-n1-eth0.pcap', 'real kernel: VXLAN with ICMP echo inside'],
    ['fixtures/kernel/dns/kr-n1-eth0.pcap', 'real kernel: DNS over VXLAN'],
    ['fixtures/kernel/no-endpoints/kr-pa-eth0.pcap', 'real kernel: ICMP port unreachable quoting a SYN'],
  ])('%s (%s)', (file) => {
    const { compared, problems } = disagreements(file);
    expect(problems).toEqual([]);
    expect(compared).toBeGreaterThan(20);
  });

  it('on every capture of a podwire run of scenarios/cross-node-http.yaml', () => {
    const r = runScenario(loadScenarioFile('scenarios/cross-node-http.yaml'), { out: join(root, 'cnh'), seed: 1 });
    const eth0 = disagreements(join(r.dir, 'captures/n1/eth0.pcap'));
    expect(eth0.problems).toEqual([]);
    expect(eth0.compared).toBeGreaterThan(200);
    const merged = disagreements(join(r.dir, 'all.pcapng'));
    expect(merged.problems).toEqual([]);
  });

  it('computes the checksum tshark says it should be when one is wrong', () => {
    const capture = readCapture(readFileSync('fixtures/kernel/clusterip-http/kr-n1-eth0.pcap'));
    const frame = new Uint8Array(capture.packets.find((p) => p.data.length > 150)!.data);
    // The inner TCP checksum (Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8 + Ethernet 14 + IPv4 20 + 16)
    // and the outer UDP one, each made wrong.
    frame[100]! ^= 0x5a;
    frame[40]! ^= 0x01;
    const file = join(root, 'bad-checksums.pcap');
    writeClassicPcap(file, [frame]);
    const theirs = pdmlFrames(file)[0]!;
    const layers = dissectFrame(frame, 1);
    for (const [proto, at] of [['tcp', 100], ['udp', 40]] as const) {
      const calculated = theirs.find((f) => f.name === `${proto}.checksum_calculated` || f.name === `${proto}.checksum.calculated`);
      expect(calculated, proto).toBeDefined();
      const row = layers.find((l) => l.kind === proto)!.fields.find((f) => f.name === 'checksum')!;
      expect(row.offset).toBe(at);
      expect(row.meaning).toBe(`0x${row.raw} (incorrect, should be ${calculated!.show})`);
      expect(layers.find((l) => l.kind === proto)!.problems.join()).toMatch(/incorrect/);
    }
  });
});
