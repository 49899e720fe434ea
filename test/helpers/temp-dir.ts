/** Temporary folders for the files a test writes (captures for tshark, sinks' output). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A fresh temporary folder, `podwire-<prefix>-…`; removeTempDirs (in afterAll) deletes them all. */
export function tempDir(prefix = 'pcap'): string {
  const dir = mkdtempSync(join(tmpdir(), `podwire-${prefix}-`));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
