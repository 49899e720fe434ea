import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { tsharkFields } from '../helpers/tshark.js';

const GOLDEN_DIR = new URL('../../fixtures/golden/same-node-ping/', import.meta.url).pathname;
const FIELDS = [
  'frame.number', 'frame.time_relative', 'frame.len', 'eth.src', 'eth.dst', 'eth.type',
  'arp.opcode', 'arp.src.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4',
  'ip.src', 'ip.dst', 'ip.ttl', 'ip.flags.df', 'ip.id', 'ip.checksum', 'icmp.type', 'icmp.ident', 'icmp.seq', 'icmp.checksum',
];

const root = mkdtempSync(join(tmpdir(), 'podwire-golden-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('golden dissections: scenarios/same-node-ping.yaml, seed 1', () => {
  const run = runScenario(loadScenarioFile('scenarios/same-node-ping.yaml'), { out: join(root, 'run'), seed: 1 });
  const index = JSON.parse(readFileSync(join(run.dir, 'interfaces.json'), 'utf8')) as { interfaces: { file: string; host: string; name: string }[] };

  it.each(index.interfaces.map((i) => [`${i.host}/${i.name}`, i.file]))("%s matches tshark's golden fields", (name, file) => {
    const text = tsharkFields(join(run.dir, file), FIELDS);
    const golden = join(GOLDEN_DIR, `${name.replace('/', '-')}.tsv`);
    if (process.env['GOLDEN_UPDATE']) {
      mkdirSync(GOLDEN_DIR, { recursive: true });
      writeFileSync(golden, text);
    }
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });
});
