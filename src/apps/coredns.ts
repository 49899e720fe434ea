/**
 * CoreDNS 1.11.1 as the kube-dns pod runs it: `/coredns -conf /etc/coredns/Corefile`, the
 * Corefile read from the container's files (the coredns ConfigMap volume). It answers UDP on the
 * block's port (53) and prints what the real binary logs on start.
 *
 * Plugins run in CoreDNS's compiled order (plugin.cfg), not the Corefile's: loadbalance → cache →
 * hosts → kubernetes → forward. What each does here:
 * - kubernetes ZONES { pods insecure|verified|disabled; fallthrough [ZONES]; ttl N }: the
 *   Kubernetes DNS schema from the context's KubernetesDnsView (kubernetes-dns.ts); answers are
 *   authoritative (AA, no RA); NXDOMAIN and NODATA carry the zone's SOA
 *   `ns.dns.ZONE. hostmaster.ZONE. SERIAL 7200 1800 86400 TTL` (serial: the view's last change).
 * - hosts [FILE] [ZONES] { IP NAME…; ttl N; fallthrough }: inline entries (TTL default 3600),
 *   AA; a name it knows with no record of the type is NODATA without SOA; unknown names fall
 *   through (or SERVFAIL without fallthrough).
 * - forward FROM TO…: TO is IPs[:port] or a resolv.conf path (its nameservers). The query goes
 *   upstream as the client sent it but with a new random ID (proxy.Connect), over a pooled
 *   connected UDP socket reused while idle under 10 s; the answer comes back with the client's
 *   ID. No answer in 2 s: a new socket and another try, until 5 s, then SERVFAIL and an
 *   `[ERROR] plugin/errors` line.
 * - cache [TTL]: responses by (name, type, DO); TTLs capped at TTL (default 3600), SERVFAIL kept
 *   5 s; a hit has AA set and TTLs counted down in whole seconds.
 * - loadbalance: shuffles the A/AAAA/MX records of an answer (round_robin).
 * - errors, health, ready, prometheus, reload, loop, log: accepted; their HTTP listeners, the
 *   loop plugin's start-up HINFO probe and query logging are not modelled.
 * Every reply passes CoreDNS's ScrubWriter (request.SizeAndDo + Scrub): an OPT record when the
 *   query had one (its UDP size, version 0, the DO bit, and the COOKIE/NSID/padding options
 *   echoed); names uncompressed unless the reply is over the client's size (512 without EDNS),
 *   then compressed, then cut with TC set.
 * Not modelled: DNS over TCP, the ExternalName target's own resolution (only the CNAME).
 *
 * The server runs on a CorednsRuntime: podwire's emulated netns and clock (Coredns, the App), or a
 * real process on the kernel's socket API (kernel parity's stand-in, parity/stand-ins/coredns.ts),
 * so that both answer with the same code.
 */
import { createHash } from 'node:crypto';
import { formatIpv4, parseIpv4, type Ipv4Addr } from '../packet/addr.js';
import * as dns from '../packet/dns.js';
import { UdpSocket } from '../net/udp-socket.js';
import type { Random } from '../sim/random.js';
import { UsageError, type App, type AppContext } from './app.js';
import { resolvePath } from './container-fs.js';
import { CorefileError, parseCorefile, type Directive, type ServerBlock } from './corefile.js';
import { kubernetesLookup, kubernetesSoa, type KubernetesDnsView } from './kubernetes-dns.js';
import { parseHosts, parseResolvConf } from './resolv-conf.js';

export interface CorednsOptions {
  readonly conf: string;
}

export function parseCorednsArgs(args: readonly string[]): CorednsOptions {
  let conf = 'Corefile';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^--?conf(?:=(.*))?$/.exec(a);
    if (m) {
      const v = m[1] ?? args[++i];
      if (v === undefined) throw new UsageError('flag needs an argument: -conf', 2);
      conf = v;
    } else throw new UsageError(`flag provided but not defined: ${a}`, 2);
  }
  return { conf };
}

const VERSION_LINES = 'CoreDNS-1.11.1\nlinux/amd64, go1.20.7, ae2bbc2\n';
/** Time from a query's arrival to its handling (the reading goroutine hands it to a new one). */
const SERVE_DELAY_NS = 20_000;
const FORWARD_READ_TIMEOUT_NS = 2e9;
const FORWARD_DEADLINE_NS = 5e9;
const FORWARD_EXPIRE_NS = 10e9;
const SERVFAIL_CACHE_SEC = 5;

type Reply = (m: dns.DnsMessage) => void;
/** A plugin: answer through `w`, or hand the request on with the writer the next plugins write through. */
type Handler = (req: dns.DnsMessage, w: Reply, next: (w: Reply) => void) => void;

/** A connected UDP socket to an upstream (forward). */
export interface CorednsUpstream {
  /** Sends one datagram; the error's text when the send fails at once. */
  send(bytes: Uint8Array): string | undefined;
  /** An answer arrived. */
  onDatagram: (data: Uint8Array) => void;
  /** The upstream's port is closed (an ICMP port unreachable came back): connection refused. */
  onError: () => void;
  close(): void;
  /** `ADDR:PORT` of the local end, as Go prints it in an error. */
  localText(): string;
}

/** One query as it arrived, and how to answer its sender. */
export interface CorednsQuery {
  readonly data: Uint8Array;
  reply(bytes: Uint8Array): void;
}

/**
 * Where the server runs: its files, clock, sockets and randomness. podwire's App gives the
 * emulated netns and virtual clock (emulatedRuntime); kernel parity gives real sockets.
 */
export interface CorednsRuntime {
  readonly random: Random;
  /** A name for the server's random streams (the host, or `<pod>/<container>`). */
  readonly label: string;
  readonly fs: { readFile(path: string): Uint8Array | undefined } | undefined;
  readonly cwd: string;
  readonly kubernetesDns: KubernetesDnsView | undefined;
  stdout(text: string): void;
  nowNs(): number;
  after(delayNs: number, fn: () => void): { cancel(): void };
  /** Binds UDP `port` on every address; throws when the port is taken. */
  listenUdp(port: number, onQuery: (q: CorednsQuery) => void): void;
  dialUdp(addr: Ipv4Addr, port: number): CorednsUpstream;
}

export class Coredns implements App {
  constructor(readonly opts: CorednsOptions) {}

  start(ctx: AppContext): void {
    const code = startCoredns(this.opts, emulatedRuntime(ctx));
    if (code !== undefined) ctx.exit(code);
  }
}

/** The App's runtime: the container's netns, files and the virtual clock. */
function emulatedRuntime(ctx: AppContext): CorednsRuntime {
  return {
    random: ctx.random,
    label: ctx.label,
    fs: ctx.fs,
    cwd: ctx.cwd ?? '/',
    kubernetesDns: ctx.kubernetesDns,
    stdout: (t) => ctx.stdout(t),
    nowNs: () => ctx.sched.nowNs,
    after: (delayNs, fn) => ctx.sched.after(delayNs, fn),
    listenUdp: (port, onQuery) => {
      const sock = new UdpSocket(ctx.ns);
      sock.bind(port);
      sock.onDatagram = (d) => onQuery({ data: d.data, reply: (bytes) => void sock.send(bytes, { addr: d.from, port: d.fromPort }) });
    },
    dialUdp: (addr, port) => {
      const sock = new UdpSocket(ctx.ns);
      sock.connect(addr, port);
      const up: CorednsUpstream = {
        send: (bytes) => sock.send(bytes),
        onDatagram: () => {},
        onError: () => {},
        close: () => sock.close(),
        localText: () => `${formatIpv4(sock.localAddr || (ctx.ns.localAddrs.keys().next().value ?? 0))}:${sock.localPort}`,
      };
      sock.onDatagram = (d) => up.onDatagram(d.data);
      sock.onError = () => {
        sock.takeError();
        up.onError();
      };
      return up;
    },
  };
}

/**
 * Reads the Corefile, listens and prints CoreDNS's start-up lines; the exit code when it cannot
 * start (a missing or bad Corefile, a port in use), undefined while it serves.
 */
export function startCoredns(opts: CorednsOptions, rt: CorednsRuntime): number | undefined {
  const path = resolvePath(rt.cwd, opts.conf);
  const data = rt.fs?.readFile(path);
  if (!data) {
    rt.stdout(`open ${opts.conf}: no such file or directory\n`);
    return 1;
  }
  const text = new TextDecoder().decode(data);
  let blocks: ServerBlock[];
  try {
    blocks = parseCorefile(text, opts.conf);
  } catch (e) {
    if (!(e instanceof CorefileError)) throw e;
    rt.stdout(`${e.message}\n`);
    return 1;
  }
  const server = new Server(rt, blocks);
  try {
    server.listen();
  } catch {
    rt.stdout(`Listen: listen udp :${blocks[0]?.port ?? 53}: bind: address already in use\n`);
    return 1;
  }
  rt.stdout(`${blocks.map((b) => b.zones.map((z) => `${z === '' ? '.' : `${z}.`}:${b.port}`).join(' ')).join('\n')}\n`);
  if (blocks.some((b) => b.directives.some((d) => d.name === 'reload'))) {
    rt.stdout(`[INFO] plugin/reload: Running configuration SHA512 = ${createHash('sha512').update(data).digest('hex')}\n`);
  }
  rt.stdout(VERSION_LINES);
  return undefined;
}

class Server {
  private readonly chains: { zones: readonly string[]; port: number; chain: Handler[] }[] = [];

  constructor(
    private readonly rt: CorednsRuntime,
    blocks: readonly ServerBlock[],
  ) {
    for (const b of blocks) this.chains.push({ zones: b.zones, port: b.port, chain: this.build(b) });
  }

  listen(): void {
    for (const port of new Set(this.chains.map((c) => c.port))) {
      // Each query is served by its own goroutine a moment after the read returns: a client's A
      // and AAAA sent back to back (glibc's sendmmsg) both arrive before the first answer leaves,
      // as the kernel reference shows.
      this.rt.listenUdp(port, (q) => void this.rt.after(SERVE_DELAY_NS, () => this.serve(port, q)));
    }
  }

  private serve(port: number, d: CorednsQuery): void {
    let req: dns.DnsMessage;
    try {
      req = dns.parse(d.data);
    } catch {
      return; // miekg/dns drops what it cannot unpack
    }
    if (req.flags.qr || req.questions.length !== 1) return;
    const q = req.questions[0]!;
    const send = (m: dns.DnsMessage) => {
      d.reply(scrub(req, m));
    };
    if (q.class !== dns.CLASS_IN) return send(errorReply(req, dns.RCODE_REFUSED));
    const name = q.name.toLowerCase();
    // The longest zone of a block on this port that contains the name (ServeDNS's label walk).
    const block = this.chains
      .filter((c) => c.port === port)
      .flatMap((c) => c.zones.filter((z) => inZone(name, z)).map((z) => ({ c, z })))
      .sort((a, b) => b.z.length - a.z.length)[0];
    if (!block) return send(errorReply(req, dns.RCODE_REFUSED));
    // plugin.NextOrFailure past the last plugin: SERVFAIL.
    const run = (i: number, w: Reply) => {
      const h = block.c.chain[i];
      if (!h) return w(errorReply(req, dns.RCODE_SERVFAIL));
      h(req, w, (w2) => run(i + 1, w2));
    };
    run(0, send);
  }

  private build(b: ServerBlock): Handler[] {
    const byName = new Map(b.directives.map((d) => [d.name, d]));
    const chain: Handler[] = [];
    const order: [string, (d: Directive) => Handler][] = [
      ['errors', (d) => this.errorsPlugin(d)],
      ['loadbalance', () => loadbalance(this.rt)],
      ['cache', (d) => this.cachePlugin(d)],
      ['hosts', (d) => this.hostsPlugin(d, b.zones)],
      ['kubernetes', (d) => this.kubernetesPlugin(d)],
      ['forward', (d) => this.forwardPlugin(d)],
    ];
    for (const [name, make] of order) {
      const d = byName.get(name);
      if (d) chain.push(make(d));
    }
    return chain;
  }

  /** errors: an upstream failure is logged as `[ERROR] plugin/errors: RCODE NAME. TYPE: ERR`. */
  private errorsPlugin(_d: Directive): Handler {
    return (_req, w, next) => next(w);
  }

  /** cache [TTL]: see withCache. */
  private cachePlugin(d: Directive): Handler {
    const cap = d.args[0] !== undefined ? Number(d.args[0]) : 3600;
    const items = new Map<string, { msg: dns.DnsMessage; storedNs: number; ttl: number }>();
    const rt = this.rt;
    return (req, w, next) => {
      const q = req.questions[0]!;
      const key = `${q.name.toLowerCase()}/${q.type}/${dns.edns(req)?.dnssecOk ? 1 : 0}`;
      const hit = items.get(key);
      if (hit) {
        const left = hit.ttl - Math.floor((rt.nowNs() - hit.storedNs) / 1e9);
        if (left > 0) return w(fromCache(req, hit.msg, left));
        items.delete(key);
      }
      next((res) => {
        const duration = cacheDuration(res, cap);
        const rq = res.questions[0];
        if (duration > 0 && rq !== undefined && rq.name.toLowerCase() === q.name.toLowerCase() && rq.type === q.type) {
          items.set(key, { msg: res, storedNs: rt.nowNs(), ttl: duration });
        }
        w(withTtl(res, duration));
      });
    };
  }

  private hostsPlugin(d: Directive, blockZones: readonly string[]): Handler {
    let ttl = 3600;
    let fallthrough = false;
    const inline: string[] = [];
    for (const line of d.block) {
      if (line[0] === 'ttl') ttl = Number(line[1]);
      else if (line[0] === 'fallthrough') fallthrough = true;
      else if (line[0] === 'reload' || line[0] === 'no_reverse') continue;
      else inline.push(line.join(' '));
    }
    const zoneArgs = d.args.filter((a) => !a.startsWith('/')).map((z) => (z === '.' ? '' : z.toLowerCase().replace(/\.$/, '')));
    const zones = zoneArgs.length ? zoneArgs : blockZones;
    const file = d.args.find((a) => a.startsWith('/')) ?? '/etc/hosts';
    const fileData = this.rt.fs?.readFile(file);
    const entries = parseHosts([fileData ? new TextDecoder().decode(fileData) : '', ...inline].join('\n'));
    return (req, w, next) => {
      const q = req.questions[0]!;
      const name = q.name.toLowerCase().replace(/\.$/, '');
      if (!zones.some((z) => inZone(name, z)) && q.type !== dns.TYPE_PTR) return next(w);
      const known = entries.filter((e) => e.names.some((n) => n.toLowerCase().replace(/\.$/, '') === name));
      const answers: dns.DnsRecord[] = [];
      if (q.type === dns.TYPE_A || q.type === dns.TYPE_AAAA) {
        const family = q.type === dns.TYPE_A ? 'inet' : 'inet6';
        for (const e of known.filter((k) => k.family === family)) {
          answers.push({
            name: q.name, type: q.type, class: dns.CLASS_IN, ttl,
            data: e.family === 'inet' ? { kind: 'a', address: ((e.address[0]! << 24) | (e.address[1]! << 16) | (e.address[2]! << 8) | e.address[3]!) >>> 0 } : { kind: 'aaaa', address: e.address },
          });
        }
      } else if (q.type === dns.TYPE_PTR) {
        return next(w); // reverse entries from hosts are not modelled
      }
      if (answers.length === 0 && known.length === 0) {
        if (fallthrough) return next(w);
        return w(errorReply(req, dns.RCODE_SERVFAIL));
      }
      w({ ...replyTo(req), flags: { ...replyTo(req).flags, aa: true }, answers });
    };
  }

  private kubernetesPlugin(d: Directive): Handler {
    const zones = d.args.map((z) => z.toLowerCase().replace(/\.$/, ''));
    const clusterDomain = zones.find((z) => !z.endsWith('.arpa')) ?? 'cluster.local';
    let ttl = 5;
    let pods: 'disabled' | 'insecure' | 'verified' = 'disabled';
    let fall: string[] | undefined;
    for (const line of d.block) {
      if (line[0] === 'ttl') ttl = Number(line[1]);
      else if (line[0] === 'pods') pods = line[1] === 'insecure' ? 'insecure' : line[1] === 'verified' ? 'verified' : 'disabled';
      else if (line[0] === 'fallthrough') fall = line.slice(1).map((z) => z.toLowerCase().replace(/\.$/, ''));
    }
    const view: KubernetesDnsView = this.rt.kubernetesDns ?? EMPTY_VIEW;
    return (req, w, next) => {
      const q = req.questions[0]!;
      const asked = q.name.replace(/\.$/, '');
      const name = asked.toLowerCase();
      const zone = zones.filter((z) => inZone(name, z)).sort((a, b) => b.length - a.length)[0];
      if (zone === undefined) return next(w);
      const soa = () => kubernetesSoa(zone, ttl, view.modifiedUnixSec());
      const base = replyTo(req);
      const authoritative = { ...base.flags, aa: true };
      if (name === zone && q.type === dns.TYPE_SOA) return w({ ...base, flags: authoritative, answers: [soa()] });
      const r = kubernetesLookup(view, zone, clusterDomain, asked, q.type, ttl, pods);
      if (r.kind === 'nxdomain') {
        const falls = fall !== undefined && (fall.length === 0 || fall.some((z) => inZone(name, z)));
        if (falls) return next(w);
        return w({ ...base, flags: { ...authoritative, rcode: dns.RCODE_NXDOMAIN }, authorities: [soa()] });
      }
      if (r.kind !== 'answer') return w({ ...base, flags: authoritative, authorities: [soa()] });
      w({ ...base, flags: authoritative, answers: r.answers, additionals: r.extra });
    };
  }

  private forwardPlugin(d: Directive): Handler {
    const from = (d.args[0] ?? '.').toLowerCase().replace(/\.$/, '');
    const upstreams: { addr: Ipv4Addr; port: number }[] = [];
    for (const to of d.args.slice(1)) {
      if (to.startsWith('/')) {
        const data = this.rt.fs?.readFile(to);
        const conf = parseResolvConf(data ? new TextDecoder().decode(data) : '');
        for (const ns of conf.nameservers) upstreams.push({ addr: ns, port: dns.PORT });
        continue;
      }
      const m = /^(?:dns:\/\/)?([\d.]+)(?::(\d+))?$/.exec(to);
      if (m) upstreams.push({ addr: parseIpv4(m[1]!), port: m[2] ? Number(m[2]) : dns.PORT });
    }
    const pool = new Map<string, { sock: CorednsUpstream; usedNs: number }[]>();
    const rt = this.rt;
    const ids = rt.random.stream(`coredns-forward-id/${rt.label}`);
    const pick = rt.random.stream(`coredns-forward-policy/${rt.label}`);
    const dial = (u: { addr: Ipv4Addr; port: number }): CorednsUpstream => {
      const key = `${u.addr}:${u.port}`;
      const stack = pool.get(key) ?? [];
      pool.set(key, stack);
      while (stack.length) {
        const pc = stack.pop()!;
        if (rt.nowNs() - pc.usedNs < FORWARD_EXPIRE_NS) return pc.sock;
        pc.sock.close();
      }
      return rt.dialUdp(u.addr, u.port);
    };
    const yieldConn = (u: { addr: Ipv4Addr; port: number }, sock: CorednsUpstream) => {
      sock.onDatagram = () => {};
      sock.onError = () => {};
      pool.get(`${u.addr}:${u.port}`)!.push({ sock, usedNs: rt.nowNs() });
    };
    return (req, w, next) => {
      const q = req.questions[0]!;
      const name = q.name.toLowerCase().replace(/\.$/, '');
      if (!inZone(name, from) || upstreams.length === 0) return next(w);
      const startNs = rt.nowNs();
      let lastError = '';
      const attempt = () => {
        if (rt.nowNs() - startNs >= FORWARD_DEADLINE_NS) {
          rt.stdout(`[ERROR] plugin/errors: 2 ${q.name.replace(/\.$/, '')}. ${dns.typeName(q.type)}: ${lastError}\n`);
          return w(errorReply(req, dns.RCODE_SERVFAIL));
        }
        // policy random: a random order of the upstreams per query; one upstream tried per round.
        const u = upstreams[pick.intBetween(0, upstreams.length - 1)]!;
        const sock = dial(u);
        const id = ids.nextU32() & 0xffff;
        const out: dns.DnsMessage = { ...req, id };
        const bytes = new Uint8Array(dns.encodedLength(out, { compress: false }));
        dns.emit(out, bytes, 0, { compress: false });
        let timer: { cancel(): void } | undefined;
        const fail = (why: string) => {
          timer?.cancel();
          sock.onDatagram = () => {};
          sock.onError = () => {};
          sock.close();
          lastError = why;
          attempt();
        };
        sock.onDatagram = (data) => {
          let ret: dns.DnsMessage;
          try {
            ret = dns.parse(data);
          } catch {
            return;
          }
          if (ret.id !== id) return; // a late answer to an earlier query on this pooled socket
          timer?.cancel();
          yieldConn(u, sock);
          const rq = ret.questions[0];
          if (!ret.flags.qr || ret.questions.length !== 1 || rq!.name.toLowerCase().replace(/\.$/, '') !== name || rq!.type !== q.type) {
            return w(errorReply(req, dns.RCODE_FORMERR));
          }
          w({ ...ret, id: req.id });
        };
        sock.onError = () => fail(`read udp ${sock.localText()}->${formatIpv4(u.addr)}:${u.port}: read: connection refused`);
        const err = sock.send(bytes);
        if (err) return fail(`write udp ${sock.localText()}->${formatIpv4(u.addr)}:${u.port}: ${err}`);
        timer = rt.after(FORWARD_READ_TIMEOUT_NS, () => fail(`read udp ${sock.localText()}->${formatIpv4(u.addr)}:${u.port}: i/o timeout`));
      };
      attempt();
    };
  }
}

/** cache.ResponseWriter: the message's minimal TTL (SOA's for a negative answer), capped. */
function cacheDuration(m: dns.DnsMessage, capSec: number): number {
  if (m.flags.rcode === dns.RCODE_SERVFAIL) return SERVFAIL_CACHE_SEC;
  if (m.flags.rcode !== dns.RCODE_NOERROR && m.flags.rcode !== dns.RCODE_NXDOMAIN) return 0;
  const negative = m.flags.rcode === dns.RCODE_NXDOMAIN || m.answers.length === 0;
  let min = Number.POSITIVE_INFINITY;
  if (negative) {
    for (const r of m.authorities) if (r.data.kind === 'soa') min = Math.min(min, r.ttl, r.data.minimum);
    if (!Number.isFinite(min)) return 0;
  } else {
    for (const r of [...m.answers, ...m.authorities, ...m.additionals]) if (r.type !== dns.TYPE_OPT) min = Math.min(min, r.ttl);
  }
  return Math.max(0, Math.min(min, capSec));
}

/** filterRRSlice: every record's TTL set to `ttl`, OPT dropped (SizeAndDo adds the client's back). */
function withTtl(m: dns.DnsMessage, ttl: number): dns.DnsMessage {
  const set = (rs: readonly dns.DnsRecord[]) => rs.filter((r) => r.type !== dns.TYPE_OPT).map((r) => ({ ...r, ttl }));
  return { ...m, answers: set(m.answers), authorities: set(m.authorities), additionals: set(m.additionals) };
}

/** item.toMsg: the cached reply for this request, AA set, TTLs counted down. */
function fromCache(req: dns.DnsMessage, m: dns.DnsMessage, ttl: number): dns.DnsMessage {
  const r = withTtl(m, ttl);
  return { ...r, id: req.id, questions: req.questions, flags: { ...m.flags, aa: true, rd: req.flags.rd, cd: req.flags.cd, tc: false } };
}

/** loadbalance round_robin: the answer's A, AAAA and MX records shuffled, others kept in place. */
function loadbalance(rt: CorednsRuntime): Handler {
  const rng = rt.random.stream(`coredns-loadbalance/${rt.label}`);
  return (_req, w, next) => {
    const shuffle: Reply = (m) => {
      const movable = m.answers.filter((r) => r.type === dns.TYPE_A || r.type === dns.TYPE_AAAA || r.type === dns.TYPE_MX);
      if (movable.length < 2) return w(m);
      for (let i = movable.length - 1; i > 0; i--) {
        const j = rng.intBetween(0, i);
        [movable[i], movable[j]] = [movable[j]!, movable[i]!];
      }
      let k = 0;
      const answers = m.answers.map((r) => (r.type === dns.TYPE_A || r.type === dns.TYPE_AAAA || r.type === dns.TYPE_MX ? movable[k++]! : r));
      w({ ...m, answers });
    };
    next(shuffle);
  };
}

const EMPTY_VIEW: KubernetesDnsView = {
  namespaceExists: () => false,
  service: () => undefined,
  endpoints: () => [],
  services: () => [],
  modifiedUnixSec: () => 0,
};

function inZone(name: string, zone: string): boolean {
  return zone === '' || name === zone || name.endsWith(`.${zone}`);
}

/** dns.Msg.SetReply: the ID, opcode, RD and CD of the query, its question, QR set. */
function replyTo(req: dns.DnsMessage): dns.DnsMessage {
  return {
    id: req.id,
    flags: dns.makeFlags({ qr: true, opcode: req.flags.opcode, rd: req.flags.rd, cd: req.flags.cd }),
    questions: req.questions,
    answers: [],
    authorities: [],
    additionals: [],
  };
}

function errorReply(req: dns.DnsMessage, rcode: number): dns.DnsMessage {
  const r = replyTo(req);
  return { ...r, flags: { ...r.flags, rcode } };
}

/** EDNS options SizeAndDo echoes back (supportedOptions): NSID 3, EXPIRE 9, COOKIE 10, TCP keepalive 11, padding 12. */
const ECHOED_OPTIONS = new Set([3, 9, 10, 11, 12]);

/** ScrubWriter: SizeAndDo, then Scrub (uncompressed if it fits, else compressed, else cut with TC). */
function scrub(req: dns.DnsMessage, m0: dns.DnsMessage): Uint8Array {
  const reqOpt = req.additionals.find((r) => r.type === dns.TYPE_OPT);
  let m = m0;
  if (reqOpt) {
    const mo = m.additionals.find((r) => r.type === dns.TYPE_OPT);
    const keepDo = reqOpt.ttl & dns.EDNS_DO;
    if (mo) {
      const fixed: dns.DnsRecord = { ...mo, name: '', class: reqOpt.class, ttl: ((mo.ttl & 0xff00 & ~0xff0000) | keepDo) >>> 0 };
      m = { ...m, additionals: m.additionals.map((r) => (r === mo ? fixed : r)) };
    } else {
      const options = reqOpt.data.kind === 'opt' ? reqOpt.data.options.filter((o) => ECHOED_OPTIONS.has(o.code)) : [];
      m = { ...m, additionals: [...m.additionals, { name: '', type: dns.TYPE_OPT, class: reqOpt.class, ttl: reqOpt.ttl & 0xff00, data: { kind: 'opt', options } }] };
    }
  }
  const size = Math.max(reqOpt ? reqOpt.class : 512, 512);
  const plain = dns.encodedLength(m, { compress: false });
  if (plain <= size) {
    const compress = plain > 1480;
    const b = new Uint8Array(dns.encodedLength(m, { compress }));
    dns.emit(m, b, 0, { compress });
    return b;
  }
  let cut = m;
  const opt = m.additionals.filter((r) => r.type === dns.TYPE_OPT);
  const extra = m.additionals.filter((r) => r.type !== dns.TYPE_OPT);
  while (dns.encodedLength(cut) > size && extra.length) {
    extra.pop();
    cut = { ...cut, additionals: [...extra, ...opt] };
  }
  if (dns.encodedLength(cut) > size) {
    const answers = [...cut.answers];
    while (dns.encodedLength(cut) > size && answers.length) {
      answers.pop();
      cut = { ...cut, answers, flags: { ...cut.flags, tc: true } };
    }
  }
  const b = new Uint8Array(dns.encodedLength(cut));
  dns.emit(cut, b);
  return b;
}

