// The golden check as a user's own test uses it: imported by the package's name (Node's package
// self-reference through package.json "exports", so this runs dist/, built in global setup).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectGolden } from 'podwire/golden';
import { changeTtl, copyGolden, delayPacket, dropPacket, vethCapture } from './golden-tamper.js';

const SCENARIO = 'scenarios/cross-node-ping.yaml';
const root = mkdtempSync(join(tmpdir(), 'podwire-golden-api-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The message expectGolden rejects with. */
async function failure(golden: string, opts: { seed?: number } = {}): Promise<string> {
  try {
    await expectGolden(SCENARIO, golden, opts);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expectGolden passed');
}

let n = 0;
const fresh = (pristine: string): string => copyGolden(pristine, join(root, `case-${++n}`));

describe('expectGolden (podwire/golden)', () => {
  const pristine = join(root, 'golden');

  beforeAll(async () => {
    const r = await expectGolden(SCENARIO, pristine, { update: true });
    expect(r).toEqual({ updated: true, files: expect.any(Number) });
  });

  it('writes the compared files and golden.json, nothing half-written beside', () => {
    expect(JSON.parse(readFileSync(join(pristine, 'golden.json'), 'utf8'))).toEqual({ podwire: '0.1.0', scenario: SCENARIO, seed: 1 });
    expect(existsSync(join(pristine, 'captures', 'n1', 'flannel.1.pcap'))).toBe(true);
    expect(existsSync(join(pristine, 'outputs', '01-pa.txt'))).toBe(true);
    expect(existsSync(join(pristine, 'interfaces.json'))).toBe(true);
    expect(existsSync(join(pristine, 'all.pcapng'))).toBe(false);
    expect(existsSync(join(pristine, 'trace.jsonl'))).toBe(false);
    expect(readdirSync(root).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('passes when the run gives the same bytes', async () => {
    const r = await expectGolden(SCENARIO, pristine);
    expect(r.updated).toBe(false);
    if (!r.updated) expect(r.report).toMatchObject({ ok: true, differences: [] });
  });

  it('names the interface, packet, header and field of a changed TTL, with both values', async () => {
    const g = fresh(pristine);
    const file = vethCapture(g, 'n1');
    const c = changeTtl(g, file);
    const message = await failure(g);
    expect(message.split('\n')).toEqual([
      `${SCENARIO} (seed 1) differs from ${g}: 1 difference in 1 file`,
      `  ${file}: packet ${c.packet}, IPv4 Time to live: golden ${c.becomes}, now ${c.was}`,
      'If the change is intended, update the golden folder: PODWIRE_UPDATE_GOLDEN=1',
    ]);
  });

  it('names the inner header inside VXLAN', async () => {
    const g = fresh(pristine);
    const c = changeTtl(g, 'captures/n1/eth0.pcap', 1);
    expect(await failure(g)).toContain(`\n  captures/n1/eth0.pcap: packet ${c.packet}, inner IPv4 Time to live: golden ${c.becomes}, now ${c.was}\n`);
  });

  it('says the packet count when the golden has a packet fewer', async () => {
    const g = fresh(pristine);
    const count = 8; // pa's eth0: 4 ARP (its gratuitous ARP, its request and the hairpin's copy, the reply), 2 echo requests, 2 replies
    dropPacket(g, 'captures/pa/eth0.pcap', count - 1);
    const lines = (await failure(g)).split('\n');
    expect(lines).toContain(`  captures/pa/eth0.pcap: packet count: golden ${count - 1}, now ${count}`);
    expect(lines.filter((l) => l.includes('captures/pa/eth0.pcap'))).toHaveLength(1);
  });

  it('a packet missing in the middle: the count, then the first packet that differs', async () => {
    const g = fresh(pristine);
    dropPacket(g, 'captures/pa/eth0.pcap', 5); // the first echo reply
    const lines = (await failure(g)).split('\n').filter((l) => l.includes('captures/pa/eth0.pcap'));
    // Golden's packet 6 is the second echo request (to the gateway's MAC), now's the first
    // reply (to pa's): the first field that differs is the Ethernet destination.
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('  captures/pa/eth0.pcap: packet count: golden 7, now 8');
    expect(lines[1]).toMatch(/^ {2}captures\/pa\/eth0.pcap: packet 6, Ethernet Destination MAC: golden ([0-9a-f:]{17}), now (?!\1)[0-9a-f:]{17}$/);
  });

  it('says when a packet came at another time', async () => {
    const g = fresh(pristine);
    delayPacket(g, 'captures/pa/eth0.pcap', 5, 50_000);
    expect(await failure(g)).toContain('\n  captures/pa/eth0.pcap: packet 6 time: golden 1.000066000, now 1.000016000\n');
  });

  it('says which files only one side has', async () => {
    const g = fresh(pristine);
    rmSync(join(g, 'captures', 'pc', 'eth0.pcap'));
    mkdirSync(join(g, 'captures', 'n3'));
    copyFileSync(join(g, 'captures', 'n1', 'cni0.pcap'), join(g, 'captures', 'n3', 'cni0.pcap'));
    const lines = (await failure(g)).split('\n');
    expect(lines).toContain('  captures/n3/cni0.pcap: only in golden');
    expect(lines).toContain('  captures/pc/eth0.pcap: only in now');
    expect(lines[0]).toMatch(/: 2 differences in 2 files$/);
  });

  it("names the first line of a command's output that differs", async () => {
    const g = fresh(pristine);
    const out = join(g, 'outputs', '01-pa.txt');
    writeFileSync(out, readFileSync(out, 'utf8').replace('icmp_seq=2 ttl=62', 'icmp_seq=2 ttl=61'));
    expect(await failure(g)).toContain('\n  outputs/01-pa.txt: line 3: golden "64 bytes from 10.244.2.2: icmp_seq=2 ttl=61 time=0.008 ms", now "64 bytes from 10.244.2.2: icmp_seq=2 ttl=62 time=0.008 ms"\n');
  });

  it('uses the seed given over the golden one, and lists at most 20 lines', async () => {
    const message = await failure(pristine, { seed: 7 });
    expect(message).toMatch(/^scenarios\/cross-node-ping.yaml \(seed 7\) differs/);
    const listed = message.split('\n').filter((l) => l.startsWith('  '));
    expect(listed.length).toBeLessThanOrEqual(21);
    expect(listed.some((l) => /: packet \d+, Ethernet Source MAC: golden [0-9a-f:]{17}, now [0-9a-f:]{17}$/.test(l))).toBe(true);
  });

  it('refuses a missing golden folder, saying how to make it', async () => {
    expect(await failure(join(root, 'nowhere'))).toBe(
      `${join(root, 'nowhere')}: no golden folder there: create it with expectGolden(…, { update: true }) or PODWIRE_UPDATE_GOLDEN=1`,
    );
  });

  it('does not replace a folder that is not a golden one', async () => {
    const other = join(root, 'precious');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    await expect(expectGolden(SCENARIO, other, { update: true })).rejects.toThrow(/not a golden folder \(no golden.json\); not replacing it/);
    expect(readFileSync(join(other, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('updates a golden folder in place, as a whole', async () => {
    const g = fresh(pristine);
    changeTtl(g, 'captures/n1/eth0.pcap');
    await expectGolden(SCENARIO, g, { update: true });
    await expect(expectGolden(SCENARIO, g)).resolves.toMatchObject({ updated: false });
    expect(readdirSync(root).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

describe("the README's Golden tests example, verbatim, in a project that installed podwire", () => {
  const block = /## Golden tests[\s\S]*?```ts\n([\s\S]*?)```/.exec(readFileSync('README.md', 'utf8'))?.[1];

  /** Runs the README's test file in `project` with a one-line stand-in for the test runner's `test`. */
  function runExample(project: string, env: Record<string, string> = {}) {
    const harness = "const test = async (name, body) => { await body(); console.log(`ok ${name}`); };\n";
    writeFileSync(join(project, 'example.test.mjs'), harness + block!);
    return spawnSync('node', ['example.test.mjs'], { cwd: project, encoding: 'utf8', env: { ...process.env, PODWIRE_UPDATE_GOLDEN: '', ...env } });
  }

  it('makes the golden with PODWIRE_UPDATE_GOLDEN=1, passes, and fails naming the change', () => {
    expect(block).toBeDefined();
    expect(block!.trim().split('\n').filter((l) => l.trim() !== '')).toHaveLength(4); // the import and the three-line test
    const project = join(root, 'user-project');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    mkdirSync(join(project, 'scenarios'));
    symlinkSync(process.cwd(), join(project, 'node_modules', 'podwire'), 'dir');
    copyFileSync(SCENARIO, join(project, SCENARIO));

    const first = runExample(project, { PODWIRE_UPDATE_GOLDEN: '1' });
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe('ok cross-node ping is unchanged\n');
    const golden = join(project, 'test', 'golden', 'cross-node-ping');
    expect(existsSync(join(golden, 'golden.json'))).toBe(true);

    expect(runExample(project).stdout).toBe('ok cross-node ping is unchanged\n');

    const c = changeTtl(golden, 'captures/n2/eth0.pcap', 1);
    const failed = runExample(project);
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toContain(`GoldenMismatchError: ${SCENARIO} (seed 1) differs from test/golden/cross-node-ping: 1 difference in 1 file\n`);
    expect(failed.stderr).toContain(`\n  captures/n2/eth0.pcap: packet ${c.packet}, inner IPv4 Time to live: golden ${c.becomes}, now ${c.was}\n`);
  });
});
