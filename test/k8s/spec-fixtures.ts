/** The CNI spec examples copied into test/k8s/fixtures (each file opens with its provenance). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The file's JSON text with its full-line `//` comments (provenance, the spec's own) removed. */
export function specFixtureText(name: string): string {
  const text = readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8');
  return text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('//'))
    .join('\n');
}

export function specFixture(name: string): Record<string, unknown> {
  return JSON.parse(specFixtureText(name)) as Record<string, unknown>;
}
