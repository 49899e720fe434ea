/**
 * `podwire compare REFERENCE_DIR RUN_DIR [--json] [--all]` through yargs, as main.ts registers it:
 * what it prints and its exit status (0 all match, 1 a difference, 2 bad input via UserError).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import yargs from 'yargs';
import { compareCommand } from '../../src/cli/commands/compare.js';
import { UserError } from '../../src/cli/user-error.js';
import { ethernet, ipv4 } from '../../src/packet/index.js';
import { KERNEL_DIR } from '../helpers/frames.js';
import { buildRunFolder, removeDir } from './run-folder.js';

const made: string[] = [];

afterEach(() => {
  while (made.length > 0) removeDir(made.pop()!);
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

async function podwire(args: string[]): Promise<{ stdout: string; exitCode: number }> {
  let stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  process.exitCode = undefined;
  await yargs(args)
    .command(compareCommand)
    .strict()
    .fail((msg, err) => {
      throw err ?? new UserError(msg);
    })
    .parseAsync();
  vi.restoreAllMocks();
  return { stdout, exitCode: Number(process.exitCode ?? 0) };
}

function runDir(scenario: string, changeTtl = false): string {
  const dir = buildRunFolder(scenario, {
    transform: (p, frames) => {
      if (!changeTtl || p !== 'kr-pa-eth0') return frames;
      return frames.map((f, i) => {
        if (i !== 3) return f;
        const bytes = new Uint8Array(f.bytes);
        ipv4.setTtl(bytes, ethernet.HEADER_LEN, 1);
        ipv4.fixChecksum(bytes, ethernet.HEADER_LEN);
        return { ...f, bytes };
      });
    },
  });
  made.push(dir);
  return dir;
}

describe('podwire compare', () => {
  test('all match: the summary only, exit 0', async () => {
    const { stdout, exitCode } = await podwire(['compare', join(KERNEL_DIR, 'same-node-ping'), runDir('same-node-ping')]);
    expect(stdout).toBe('same-node-ping: 17/17 capture points match\n');
    expect(exitCode).toBe(0);
  });

  test('--all shows every capture point', async () => {
    const { stdout, exitCode } = await podwire(['compare', join(KERNEL_DIR, 'same-node-ping'), runDir('same-node-ping'), '--all']);
    expect(stdout.match(/^── kr-/gm)).toHaveLength(17);
    expect(stdout).toContain("── kr-n1-veth748aed50 (n1's host veth of pa): match");
    expect(exitCode).toBe(0);
  });

  test('a difference: its diff and the summary, exit 1', async () => {
    const { stdout, exitCode } = await podwire(['compare', join(KERNEL_DIR, 'same-node-ping'), runDir('same-node-ping', true)]);
    expect(stdout).toContain('── kr-pa-eth0 (pa eth0): 1 of 7 packets differ');
    expect(stdout).toContain('^ ttl64 → ttl1');
    expect(stdout.match(/^── kr-/gm)).toHaveLength(1);
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('same-node-ping: 16/17 capture points match; differ: kr-pa-eth0 (1 packet)');
    expect(exitCode).toBe(1);
  });

  test('--json prints the report', async () => {
    const { stdout, exitCode } = await podwire(['compare', join(KERNEL_DIR, 'same-node-ping'), runDir('same-node-ping', true), '--json']);
    const report = JSON.parse(stdout) as { ok: boolean; points: { capturePoint: string; status: string; rows: { marker: string }[] }[] };
    expect(report.ok).toBe(false);
    expect(report.points.filter((p) => p.status === 'differ').map((p) => p.capturePoint)).toEqual(['kr-pa-eth0']);
    expect(exitCode).toBe(1);
  });

  test('bad input is a one-line UserError (main prints it and exits 2)', async () => {
    await expect(podwire(['compare', join(KERNEL_DIR, 'same-node-ping'), '/nonexistent/run'])).rejects.toThrow(
      new UserError('/nonexistent/run: no such run folder'),
    );
    await expect(podwire(['compare', join(KERNEL_DIR, 'same-node-ping')])).rejects.toThrow(UserError);
  });
});
