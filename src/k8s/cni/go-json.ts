/**
 * JSON text as Go's encoding/json writes it, which is what every CNI plugin prints: the libcni
 * types print with `json.MarshalIndent(r, "", "    ")` (pkg/types/100/types.go `PrintTo`), no
 * trailing newline, and encoding/json escapes <, > and & (and U+2028/U+2029) inside strings.
 * Key order is the caller's: struct field order, or sorted keys where Go marshals a map.
 */

/** A JSON value whose objects are written in their insertion order. */
export type GoJsonValue = string | number | boolean | null | readonly GoJsonValue[] | { readonly [key: string]: GoJsonValue };

function escapeLikeGo(text: string): string {
  return text
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** `json.MarshalIndent(v, "", "    ")`. */
export function marshalIndent(v: GoJsonValue): string {
  // JSON.stringify's 4-space layout is Go's MarshalIndent layout ("key": value, [] and {} when
  // empty); the characters Go escapes besides JSON's own can only occur inside strings.
  return escapeLikeGo(JSON.stringify(v, null, 4));
}

/** `json.Marshal(v)`: compact. */
export function marshal(v: GoJsonValue): string {
  return escapeLikeGo(JSON.stringify(v));
}

/**
 * The value re-keyed in sorted order at every level: what Go writes after a round trip through
 * `map[string]interface{}` (encoding/json sorts map keys by their bytes).
 */
export function sortKeysDeep(v: GoJsonValue): GoJsonValue {
  if (Array.isArray(v)) return (v as readonly GoJsonValue[]).map(sortKeysDeep);
  if (v !== null && typeof v === 'object') {
    const o = v as { readonly [key: string]: GoJsonValue };
    const out: Record<string, GoJsonValue> = {};
    for (const k of Object.keys(o).sort(byteOrder)) out[k] = sortKeysDeep(o[k] as GoJsonValue);
    return out;
  }
  return v;
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Go's `%q` of a string: a double-quoted Go string literal (ASCII-printable input stays as is). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go's `%q` of a []string: `["a" "b"]`. */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map(goQuote).join(' ')}]`;
}
