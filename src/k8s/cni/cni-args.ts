/**
 * CNI_ARGS, "K=V;K2=V2", as libcni's `types.LoadArgs` (containernetworking/cni pkg/types/args.go)
 * reads it into a plugin's argument struct. Keys match Go struct field names exactly (case
 * matters: `IgnoreUnknown`, `MAC`, `IP`); a key the struct lacks is an error unless
 * `IgnoreUnknown` is true — which is why kubelet/containerd always send `IgnoreUnknown=1` before
 * `K8S_POD_NAMESPACE`, `K8S_POD_NAME`, `K8S_POD_INFRA_CONTAINER_ID` and `K8S_POD_UID`.
 */
import { goQuote, goQuoteList } from './go-json.js';

/** The key/value pairs in order; throws Error with LoadArgs's message on a malformed pair. */
export function splitCniArgs(args: string): Array<readonly [string, string]> {
  if (args === '') return [];
  return args.split(';').map((pair) => {
    const kv = pair.split('=');
    if (kv.length !== 2) throw new Error(`ARGS: invalid pair ${goQuote(pair)}`);
    return [kv[0] as string, kv[1] as string] as const;
  });
}

/** Joins pairs the way a runtime builds CNI_ARGS. */
export function formatCniArgs(pairs: Iterable<readonly [string, string]>): string {
  return [...pairs].map(([k, v]) => `${k}=${v}`).join(';');
}

/** `types.UnmarshallableBool`: "1"/"true" and "0"/"false", any case. */
function parseArgBool(pair: string, value: string): boolean {
  const s = value.toLowerCase();
  if (s === '1' || s === 'true') return true;
  if (s === '0' || s === 'false') return false;
  // The unbalanced ")" is in the original format string.
  throw new Error(`ARGS: error parsing value of pair ${goQuote(pair)}: boolean unmarshal error: invalid input ${s})`);
}

export type ArgParser = (value: string) => string;

/**
 * `types.LoadArgs` into a struct with CommonArgs plus the given fields. Each field parser returns
 * the value or throws an Error whose message is the Go UnmarshalText error. Returns the fields
 * found (IgnoreUnknown excluded).
 */
export function loadCniArgs(args: string, fields: Readonly<Record<string, ArgParser>>): Map<string, string> {
  const out = new Map<string, string>();
  let ignoreUnknown = false;
  const unknown: string[] = [];
  for (const [key, value] of splitCniArgs(args)) {
    const pair = `${key}=${value}`;
    if (key === 'IgnoreUnknown') {
      ignoreUnknown = parseArgBool(pair, value);
      continue;
    }
    const parse = fields[key];
    if (parse === undefined) {
      unknown.push(pair);
      continue;
    }
    try {
      out.set(key, parse(value));
    } catch (e) {
      throw new Error(`ARGS: error parsing value of pair ${goQuote(pair)}: ${(e as Error).message})`);
    }
  }
  if (unknown.length > 0 && !ignoreUnknown) throw new Error(`ARGS: unknown args ${goQuoteList(unknown)}`);
  return out;
}

/** The Kubernetes pod identity a runtime passes in CNI_ARGS (CONVENTIONS.md), when present. */
export function k8sPodOf(args: string): { readonly podName?: string; readonly podNamespace?: string } {
  let podName: string | undefined;
  let podNamespace: string | undefined;
  for (const part of args === '' ? [] : args.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq);
    const v = part.slice(eq + 1);
    if (k === 'K8S_POD_NAME') podName = v;
    else if (k === 'K8S_POD_NAMESPACE') podNamespace = v;
  }
  return { ...(podName !== undefined ? { podName } : {}), ...(podNamespace !== undefined ? { podNamespace } : {}) };
}
