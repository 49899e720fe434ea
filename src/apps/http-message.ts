/**
 * HTTP/1.x message framing (RFC 9112) for the programs that speak it over a TCP byte stream:
 * the head (start line and header fields) arrives in pieces and ends at the first empty line; the
 * body's length comes from the method and status, Transfer-Encoding: chunked, Content-Length, or
 * the connection's end. Kept as the bytes arrive, so a server or client sees exactly what a
 * read() loop would.
 */
export interface HttpHeader {
  readonly name: string;
  readonly value: string;
}

export interface HttpHead {
  /** The start line without its line ending (`GET / HTTP/1.1`, `HTTP/1.1 200 OK`). */
  readonly startLine: string;
  readonly headers: readonly HttpHeader[];
}

/** The first value of a header, names compared case-insensitively as RFC 9110 §5.1 says. */
export function headerValue(headers: readonly HttpHeader[], name: string): string | undefined {
  const n = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === n)?.value;
}

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/**
 * Collects bytes until a message head is complete. `push` returns the head and the bytes after
 * it once the empty line has arrived, undefined before. Bare LF line endings are accepted, as
 * Python's readline and Go's textproto and curl all accept them.
 */
export class HeadReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Bytes received and not yet part of a head. */
  get buffered(): Buffer {
    return this.pending;
  }

  push(data: Uint8Array): { head: HttpHead; rest: Buffer } | undefined {
    this.pending = this.pending.length === 0 ? Buffer.from(data) : Buffer.concat([this.pending, data]);
    return this.take();
  }

  /** A head already complete in the buffered bytes (pipelined requests). */
  take(): { head: HttpHead; rest: Buffer } | undefined {
    const end = findHeadEnd(this.pending);
    if (end === undefined) return undefined;
    const text = latin1(this.pending.subarray(0, end.headLen));
    const rest = this.pending.subarray(end.headLen + end.sepLen);
    this.pending = Buffer.alloc(0);
    const lines = text.split(/\r?\n/);
    const headers: HttpHeader[] = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      headers.push({ name: line.slice(0, colon), value: line.slice(colon + 1).trim() });
    }
    return { head: { startLine: lines[0] ?? '', headers }, rest };
  }

  /** Keeps bytes that arrived after a message for the next one. */
  unshift(rest: Uint8Array): void {
    this.pending = rest.length === 0 ? this.pending : Buffer.concat([rest, this.pending]);
  }
}

function findHeadEnd(b: Buffer): { headLen: number; sepLen: number } | undefined {
  // Leading empty lines before a request line are skipped by servers (RFC 9112 §2.2); the
  // programs here never send them, so the first empty line ends the head.
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 0x0a) continue;
    if (b[i + 1] === 0x0a) return { headLen: i, sepLen: 2 };
    if (b[i + 1] === 0x0d && b[i + 2] === 0x0a) return { headLen: b[i - 1] === 0x0d ? i - 1 : i, sepLen: b[i - 1] === 0x0d ? 4 : 3 };
  }
  return undefined;
}

/** How a response body is delimited (RFC 9112 §6.3). */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' };

export function responseFraming(requestMethod: string, status: number, headers: readonly HttpHeader[]): BodyFraming {
  if (requestMethod === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304) return { kind: 'none' };
  const te = headerValue(headers, 'Transfer-Encoding');
  if (te !== undefined && te.toLowerCase().split(',').map((s) => s.trim()).pop() === 'chunked') return { kind: 'chunked' };
  const cl = headerValue(headers, 'Content-Length');
  if (cl !== undefined && /^\d+$/.test(cl)) return { kind: 'length', length: Number(cl) };
  return { kind: 'close' };
}

/**
 * Reads a body as it arrives: `push` returns the body bytes in this piece (chunked framing
 * removed) and whatever follows the body; `done` once the framing says it is complete.
 */
export class BodyReader {
  private remaining: number;
  private chunkState: 'size' | 'data' | 'data-crlf' | 'trailer' | 'done' = 'size';
  private line = '';
  done: boolean;
  received = 0;

  constructor(readonly framing: BodyFraming) {
    this.remaining = framing.kind === 'length' ? framing.length : 0;
    this.done = framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0);
  }

  push(data: Uint8Array): { body: Uint8Array; rest: Uint8Array } {
    const f = this.framing;
    if (this.done) return { body: data.subarray(0, 0), rest: data };
    if (f.kind === 'close') {
      this.received += data.length;
      return { body: data, rest: data.subarray(data.length) };
    }
    if (f.kind === 'length') {
      const n = Math.min(this.remaining, data.length);
      this.remaining -= n;
      this.received += n;
      if (this.remaining === 0) this.done = true;
      return { body: data.subarray(0, n), rest: data.subarray(n) };
    }
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < data.length && !this.done) {
      if (this.chunkState === 'data') {
        const n = Math.min(this.remaining, data.length - i);
        out.push(data.subarray(i, i + n));
        this.received += n;
        this.remaining -= n;
        i += n;
        if (this.remaining === 0) this.chunkState = 'data-crlf';
        continue;
      }
      const c = data[i++]!;
      if (c !== 0x0a) {
        this.line += String.fromCharCode(c);
        continue;
      }
      const line = this.line.replace(/\r$/, '');
      this.line = '';
      if (this.chunkState === 'size') {
        const size = parseInt(line.split(';')[0]!.trim(), 16);
        this.remaining = Number.isFinite(size) ? size : 0;
        this.chunkState = this.remaining === 0 ? 'trailer' : 'data';
      } else if (this.chunkState === 'data-crlf') {
        this.chunkState = 'size';
      } else if (line === '') {
        this.chunkState = 'done';
        this.done = true;
      }
    }
    return { body: out.length === 1 ? out[0]! : Buffer.concat(out), rest: data.subarray(i) };
  }
}
