/**
 * `podwire journey --flow FILTER`: a small pcap-filter-like language over a packet's own
 * headers (the inner ones of a tunnelled frame). Terms joined by `and`:
 *
 *   tcp | udp | icmp | arp        the protocol
 *   host A | src A | dst A        an address (src host A, dst host A also read)
 *   port N | src port N | dst port N
 *   syn                           a TCP segment with SYN set (the start of a connection)
 *
 * e.g. `tcp and dst 10.96.0.100 and port 80 and syn`. A packet matches when one of its frames,
 * at any hop, does: `dst 10.96.0.100` finds the SYN sent to a ClusterIP although its later
 * frames carry the endpoint's address.
 */
import { parseIpv4 } from '../packet/addr.js';
import * as tcp from '../packet/tcp.js';
import type { FrameView } from './journey-frame.js';

export type FlowTerm =
  | { readonly kind: 'proto'; readonly proto: 'tcp' | 'udp' | 'icmp' | 'arp' }
  | { readonly kind: 'host'; readonly which: 'src' | 'dst' | 'any'; readonly addr: string }
  | { readonly kind: 'port'; readonly which: 'src' | 'dst' | 'any'; readonly port: number }
  | { readonly kind: 'syn' };

export class FlowFilterError extends Error {
  override readonly name = 'FlowFilterError';
}

export function parseFlowFilter(text: string): FlowTerm[] {
  const words = text.trim().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) throw new FlowFilterError('empty filter: e.g. --flow "tcp and dst 10.96.0.100 and port 80"');
  const terms: FlowTerm[] = [];
  let i = 0;
  const bad = (what: string): never => {
    throw new FlowFilterError(`bad filter "${text}": ${what} (terms: tcp, udp, icmp, arp, [src|dst] host A, [src|dst] port N, syn; joined by "and")`);
  };
  const addr = (w: string | undefined): string => {
    if (w === undefined) return bad('an address is missing');
    try {
      parseIpv4(w);
    } catch {
      return bad(`"${w}" is not an IPv4 address`);
    }
    return w;
  };
  const port = (w: string | undefined): number => {
    const n = Number(w);
    if (w === undefined || !/^\d+$/.test(w) || n > 65535) return bad(`"${w ?? ''}" is not a port`);
    return n;
  };
  for (;;) {
    const w = words[i++]?.toLowerCase();
    if (w === undefined) return bad('a term is missing after "and"');
    if (w === 'tcp' || w === 'udp' || w === 'icmp' || w === 'arp') terms.push({ kind: 'proto', proto: w });
    else if (w === 'syn') terms.push({ kind: 'syn' });
    else if (w === 'host') terms.push({ kind: 'host', which: 'any', addr: addr(words[i++]) });
    else if (w === 'port') terms.push({ kind: 'port', which: 'any', port: port(words[i++]) });
    else if (w === 'src' || w === 'dst') {
      const next = words[i]?.toLowerCase();
      if (next === 'port') {
        i++;
        terms.push({ kind: 'port', which: w, port: port(words[i++]) });
      } else {
        if (next === 'host') i++;
        terms.push({ kind: 'host', which: w, addr: addr(words[i++]) });
      }
    } else bad(`unknown term "${w}"`);
    if (i >= words.length) return terms;
    if (words[i]?.toLowerCase() !== 'and') bad(`"and" expected before "${words[i]}"`);
    i++;
  }
}

export function frameMatches(terms: readonly FlowTerm[], v: FrameView): boolean {
  for (const t of terms) {
    switch (t.kind) {
      case 'proto':
        if (t.proto === 'arp' ? v.l3 !== 'arp' : v.proto !== t.proto) return false;
        break;
      case 'syn':
        if (v.proto !== 'tcp' || ((v.tcpFlags ?? 0) & tcp.SYN) === 0) return false;
        break;
      case 'host':
        if (!(t.which !== 'dst' && v.src === t.addr) && !(t.which !== 'src' && v.dst === t.addr)) return false;
        break;
      case 'port':
        if (v.srcPort === undefined) return false;
        if (!(t.which !== 'dst' && v.srcPort === t.port) && !(t.which !== 'src' && v.dstPort === t.port)) return false;
        break;
    }
  }
  return true;
}
