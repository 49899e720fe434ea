/**
 * The Corefile (Caddyfile syntax, as CoreDNS's caddy fork tokenizes it): server blocks
 * `ZONE[:PORT] [ZONE…] { … }`, in them one directive per line with its arguments and an optional
 * `{ … }` block of its own lines. `#` starts a comment. Errors read as CoreDNS reports them:
 * `Corefile:LINE - Error during parsing: …`.
 */
export interface Directive {
  readonly name: string;
  readonly args: readonly string[];
  /** The lines of its `{ }` block, each as words. */
  readonly block: readonly (readonly string[])[];
  readonly line: number;
}

export interface ServerBlock {
  /** Zones without the trailing dot, lower-case; `.` is the root, written ''. */
  readonly zones: readonly string[];
  readonly port: number;
  readonly directives: readonly Directive[];
}

export class CorefileError extends Error {}

interface Token {
  readonly text: string;
  readonly line: number;
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '');
    for (const m of line.matchAll(/"([^"]*)"|[{}]|[^\s{}]+/g)) out.push({ text: m[1] ?? m[0], line: i + 1 });
  });
  return out;
}

/** The plugins CoreDNS (1.11, kubeadm's image) knows; anything else is an unknown directive. */
const KNOWN = new Set(['errors', 'log', 'health', 'ready', 'prometheus', 'reload', 'loop', 'loadbalance', 'cache', 'hosts', 'kubernetes', 'forward', 'bind', 'debug', 'whoami', 'rewrite', 'template', 'file', 'autopath', 'minimal', 'any']);

export function parseCorefile(text: string, file = 'Corefile'): ServerBlock[] {
  const toks = tokenize(text);
  const blocks: ServerBlock[] = [];
  const fail = (line: number, what: string): never => {
    throw new CorefileError(`${file}:${line} - Error during parsing: ${what}`);
  };
  let i = 0;
  while (i < toks.length) {
    const keys: Token[] = [];
    while (i < toks.length && toks[i]!.text !== '{') keys.push(toks[i++]!);
    if (i >= toks.length) fail(keys[keys.length - 1]?.line ?? 1, 'Unexpected EOF');
    i++; // {
    let port = 53;
    const zones = keys.map((k) => {
      const m = /^(?:dns:\/\/)?([^:]*)(?::(\d+))?$/.exec(k.text);
      if (!m) return fail(k.line, `invalid server block key '${k.text}'`);
      if (m[2]) port = Number(m[2]);
      const z = m[1]!.toLowerCase();
      return z === '.' ? '' : z.replace(/\.$/, '');
    });
    const directives: Directive[] = [];
    while (i < toks.length && toks[i]!.text !== '}') {
      const head = toks[i++]!;
      if (!KNOWN.has(head.text)) fail(head.line, `Unknown directive '${head.text}'`);
      const args: string[] = [];
      while (i < toks.length && toks[i]!.line === head.line && toks[i]!.text !== '{' && toks[i]!.text !== '}') args.push(toks[i++]!.text);
      const block: string[][] = [];
      if (i < toks.length && toks[i]!.text === '{') {
        i++;
        let line: string[] = [];
        let lineNo = -1;
        while (i < toks.length && toks[i]!.text !== '}') {
          const t = toks[i++]!;
          if (t.line !== lineNo && line.length) {
            block.push(line);
            line = [];
          }
          lineNo = t.line;
          line.push(t.text);
        }
        if (line.length) block.push(line);
        if (i >= toks.length) fail(head.line, 'Unexpected EOF');
        i++; // }
      }
      directives.push({ name: head.text, args, block, line: head.line });
    }
    if (i >= toks.length) fail(toks[toks.length - 1]?.line ?? 1, 'Unexpected EOF');
    i++; // }
    blocks.push({ zones, port, directives });
  }
  return blocks;
}

/** kubeadm's default Corefile (cmd/kubeadm/app/phases/addons/dns/manifests.go, CoreDNS 1.11). */
export const KUBEADM_COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;
