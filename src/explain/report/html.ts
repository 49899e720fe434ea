/**
 * The few HTML primitives the report needs: escaping for text and attribute values, and a sink
 * that writes the page to its file in chunks as it is built, so a long report is never one
 * string in memory. Every string that comes from a run (pod names, command outputs, DNS names —
 * all from a user's scenario) goes through `esc` before it reaches the page.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or an attribute value, safe anywhere in the body, in SVG text and inside quotes. */
export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** A page being written to a file descriptor; chunks are joined in a buffer of about 64 KiB. */
export class HtmlSink {
  private readonly fd: number;
  private parts: string[] = [];
  private size = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'wx');
  }

  write(html: string): void {
    this.parts.push(html);
    this.size += html.length;
    if (this.size >= 65536) this.flush();
  }

  private flush(): void {
    if (this.parts.length === 0) return;
    writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }

  close(): void {
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }
}
