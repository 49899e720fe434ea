/**
 * `parity --replay`, the verdicts: for every injected frame, what the network did with it — on
 * the kernel (from the kernel's captures) and in podwire's run (from podwire's) — read the same
 * way on both sides, and whether the two agree.
 *
 * A reaction is, in this order of precedence: the frame's answer reaching the pod (an ARP reply,
 * an echo reply, a SYN-ACK or RST, a UDP datagram back), an ICMP error quoting it, or neither —
 * then how far it travelled (the interfaces it was seen on, inside VXLAN too) or, seen nowhere
 * else, a silent drop. Two reactions agree when the answer, the error and the set of interfaces
 * agree; times are not compared (the kernel's are wall-clock).
 *
 * The pod's own stack: on the kernel side the injecting pod's kernel is live but has none of the
 * sockets podwire's applications had. It answers what is sent to it (an ARP request, an echo
 * request) as podwire's pod does, and those answers are compared by description; where it has no
 * socket it resets a SYN-ACK or answers a UDP reply with a port unreachable — those are explained,
 * not counted as podwire's faults, and what follows them on the wire can no longer be compared
 * interface by interface.
 */
import { formatIpv4, type MacAddr } from '../packet/addr.js';
import * as ipv4 from '../packet/ipv4.js';
import * as tcp from '../packet/tcp.js';
import { answers, carriedKeys, describeFrame, isErrorFor, portsOf, quotedFlow, replayability, srcMac, travelKey } from './replay-frames.js';

/** One captured frame: its bytes and its time (nanoseconds; wall-clock on the kernel, virtual in podwire). */
export interface CapFrame {
  readonly data: Uint8Array;
  readonly timeNs: bigint;
}

/** One side's captures by point, `netns/device`. */
export type Captures = ReadonlyMap<string, readonly CapFrame[]>;

/** An injecting interface on one side: where it is, the pod's MAC, and where the injected frames are in its capture. */
export interface InjectPoint {
  readonly point: string;
  readonly pod: string;
  readonly mac: MacAddr;
  /** Indices, in this side's capture of `point`, of the injected frames, in injection order. */
  readonly injected: readonly number[];
}

export interface Reaction {
  /** The answer that reached the pod, described. */
  readonly reply?: string;
  /** The ICMP error quoting the frame that reached the pod, described. */
  readonly error?: string;
  /** Every other interface the frame was seen on (sorted). */
  readonly seenOn: readonly string[];
  /** The interface it was seen on last (for saying how far it went). */
  readonly lastSeen?: string;
}

/**
 * The reaction to each injected frame of `at`, in order. A frame's window runs from it to the
 * next injected frame asking the same question (a retransmission), and an answer is claimed by
 * the first frame it answers.
 */
export function reactions(captures: Captures, at: InjectPoint): Reaction[] {
  const here = captures.get(at.point) ?? [];
  const claimed = new Set<number>();
  const out: Reaction[] = [];
  const keys = at.injected.map((i) => travelKey(here[i]!.data));
  at.injected.forEach((qi, n) => {
    const q = here[qi]!;
    const key = keys[n];
    const nextSame = at.injected.slice(n + 1).find((_, m) => keys[n + 1 + m] === key);
    const until = nextSame === undefined ? undefined : here[nextSame]!.timeNs;
    const inWindow = (f: CapFrame): boolean => f.timeNs >= q.timeNs && (until === undefined || f.timeNs < until);
    let reply: string | undefined;
    let error: string | undefined;
    for (let i = qi + 1; i < here.length && (reply === undefined || error === undefined); i++) {
      const r = here[i]!;
      if (claimed.has(i) || !inWindow(r) || srcMac(r.data) === at.mac) continue;
      if (reply === undefined && answers(q.data, r.data)) {
        reply = describeFrame(r.data);
        claimed.add(i);
      } else if (error === undefined && isErrorFor(q.data, r.data)) {
        error = describeFrame(r.data);
        claimed.add(i);
      }
    }
    const seen: { point: string; t: bigint }[] = [];
    if (key !== undefined) {
      for (const [point, frames] of captures) {
        if (point === at.point) continue;
        const hits = frames.filter((f) => inWindow(f) && carriedKeys(f.data).includes(key));
        if (hits.length > 0) seen.push({ point, t: hits.at(-1)!.timeNs });
      }
    }
    const last = seen.reduce<{ point: string; t: bigint } | undefined>((a, s) => (a === undefined || s.t >= a.t ? s : a), undefined);
    out.push({
      ...(reply !== undefined && { reply }),
      ...(error !== undefined && { error }),
      seenOn: seen.map((s) => s.point).sort(),
      ...(last !== undefined && { lastSeen: last.point }),
    });
  });
  return out;
}

/** A reaction in words: `reply: …`, `ICMP error: …`, `no answer; last seen on X (…)`, `dropped silently`. */
export function describeReaction(r: Reaction): string {
  if (r.reply !== undefined) return `reply: ${r.reply}${r.error !== undefined ? ` (and ICMP error: ${r.error})` : ''}`;
  if (r.error !== undefined) return `ICMP error: ${r.error}`;
  if (r.seenOn.length > 0) return `no answer; last seen on ${r.lastSeen ?? r.seenOn.at(-1)!} (seen on ${r.seenOn.length} other interface${r.seenOn.length === 1 ? '' : 's'})`;
  return 'dropped silently (no answer, seen on no other interface)';
}

/** Whether the kernel's and podwire's reactions agree, and where not, in words. */
export function compareReactions(kernel: Reaction, podwire: Reaction): { same: boolean; differences: string[] } {
  const d: string[] = [];
  if (kernel.reply !== podwire.reply) d.push(`answer: kernel ${kernel.reply ?? 'none'}, podwire ${podwire.reply ?? 'none'}`);
  if (kernel.error !== podwire.error) d.push(`ICMP error: kernel ${kernel.error ?? 'none'}, podwire ${podwire.error ?? 'none'}`);
  const k = new Set(kernel.seenOn);
  const p = new Set(podwire.seenOn);
  const onlyK = kernel.seenOn.filter((x) => !p.has(x));
  const onlyP = podwire.seenOn.filter((x) => !k.has(x));
  if (onlyK.length > 0) d.push(`seen only on the kernel on ${onlyK.join(', ')}`);
  if (onlyP.length > 0) d.push(`seen only in podwire on ${onlyP.join(', ')}`);
  return { same: d.length === 0, differences: d };
}

/** One injected frame's verdict. */
export interface FrameVerdict {
  readonly point: string;
  /** 1-based frame number in podwire's capture of `point`. */
  readonly frame: number;
  readonly what: string;
  readonly kernel: Reaction;
  readonly podwire: Reaction;
  readonly same: boolean;
  readonly differences: readonly string[];
}

export function formatVerdict(v: FrameVerdict): string {
  const head = `${v.point} #${v.frame} ${v.what}`;
  const k = describeReaction(v.kernel);
  if (v.same) return `${head}: kernel ${k}; podwire the same — match`;
  return `${head}: kernel ${k}; podwire ${describeReaction(v.podwire)} — DIFFER (${v.differences.join('; ')})`;
}

/** What the injecting pod's own stack sent, on each side. */
export interface OwnStack {
  /** Kernel-side frames explained by the pod's missing sockets (they change what follows: no interface comparison). */
  readonly explained: readonly string[];
  /** Answers both pods sent alike. */
  readonly alike: readonly string[];
  /** Frames one side's pod sent and the other's did not, unexplained: differences. */
  readonly differences: readonly string[];
}

/**
 * The frames the pod sent itself (its MAC, not injected, not a copy of an injected frame — the
 * bridge's hairpin flood brings a broadcast back) from `fromNs` on.
 */
export function ownFrames(frames: readonly CapFrame[], at: InjectPoint, fromNs: bigint): CapFrame[] {
  const injected = new Set(at.injected);
  const bytes = new Set(at.injected.map((i) => Buffer.from(frames[i]!.data).toString('hex')));
  return frames.filter((f, i) => f.timeNs >= fromNs && !injected.has(i) && srcMac(f.data) === at.mac && !bytes.has(Buffer.from(f.data).toString('hex')));
}

/**
 * Sorts out the pod's own frames: on the kernel, a RST to the SYN-ACK of an injected SYN or a
 * port unreachable for the reply to an injected UDP datagram is the missing socket (explained);
 * answers (ARP replies, echo replies, ICMP errors) are matched by description with podwire's
 * pod's answers; anything else, or an answer only one side sent, is a difference.
 */
export function compareOwnStacks(kernel: { frames: readonly CapFrame[]; injectedFrames: readonly Uint8Array[] }, podwire: { frames: readonly CapFrame[] }, pod: string): OwnStack {
  const explained: string[] = [];
  const alike: string[] = [];
  const differences: string[] = [];
  const syns = kernel.injectedFrames.map(portsOf).filter((p) => p !== undefined && p.proto === ipv4.PROTO_TCP);
  const udps = kernel.injectedFrames.map(portsOf).filter((p) => p !== undefined && p.proto === ipv4.PROTO_UDP);
  const podwireAnswers = podwire.frames.filter((f) => { const r = replayability(f.data); return !r.replay && !r.spoils; }).map((f) => describeFrame(f.data));
  for (const f of kernel.frames) {
    const d = describeFrame(f.data);
    const p = portsOf(f.data);
    if (p !== undefined && p.proto === ipv4.PROTO_TCP && (p.flags & tcp.RST) !== 0) {
      const syn = syns.find((s) => s!.src === p.src && s!.sport === p.sport && s!.dst === p.dst && s!.dport === p.dport);
      if (syn) {
        explained.push(`${pod}'s own kernel: ${d} — it has no socket for the injected SYN ${formatIpv4(syn.src)}.${syn.sport} > ${formatIpv4(syn.dst)}.${syn.dport}, so it resets the SYN-ACK (podwire's client completes the handshake)`);
        continue;
      }
    }
    const quoted = quotedFlow(f.data);
    if (quoted !== undefined && quoted.proto === ipv4.PROTO_UDP) {
      const u = udps.find((s) => s!.src === quoted.dst && s!.sport === quoted.dport && s!.dport === quoted.sport);
      if (u) {
        explained.push(`${pod}'s own kernel: ${d} — it has no socket for the reply to the injected UDP from port ${u.sport} (podwire's application receives it)`);
        continue;
      }
    }
    const at = podwireAnswers.indexOf(d);
    if (at >= 0) {
      podwireAnswers.splice(at, 1);
      alike.push(`${pod}'s own kernel: ${d}, as podwire's ${pod}`);
    } else {
      differences.push(`${pod}'s own kernel sent ${d}; podwire's ${pod} did not`);
    }
  }
  for (const d of podwireAnswers) differences.push(`podwire's ${pod} sent ${d}; ${pod}'s own kernel did not`);
  return { explained, alike, differences };
}
