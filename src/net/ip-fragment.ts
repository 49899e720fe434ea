/**
 * IPv4 fragmentation: ip_do_fragment's slow path (net/ipv4/ip_output.c). A datagram longer than
 * the MTU is cut into fragments that each carry a copy of its header — same ID, the fragment's
 * offset and MF, DF clear, the total length and checksum of the piece — and the data cut as
 * packet/ipv4.ts's fragmentPlan says (every piece but the last a multiple of 8 bytes). Each
 * fragment is a new skb with the usual headroom, so a tunnel can still push its headers in front.
 * Options travel whole on the first fragment; the later ones keep only the options with the
 * copied flag, the others overwritten with NOPs (ip_options_fragment), so every fragment has the
 * same header length.
 *
 * Whether to fragment at all is the caller's: ip_fragment sends ICMP "fragmentation needed" for
 * a DF packet the host may not fragment (ip-output.ts), ip_forward before that (ipv4-stack.ts).
 */
import * as ipv4 from '../packet/ipv4.js';
import { Skb } from './skb.js';

/**
 * Cuts the datagram in `skb` (its IPv4 header at skb.head) for `mtu` and hands each fragment to
 * `output`, first to last. A fragment of a fragment keeps its place: offsets add, and the last
 * piece keeps the original's MF (refragmentation on a forwarding hop).
 */
export function ipDoFragment(skb: Skb, mtu: number, output: (fragment: Skb) => void): void {
  const b = skb.buf;
  const ip = skb.head;
  const hl = ipv4.headerLen(b, ip);
  const total = ipv4.totalLength(b, ip);
  const baseOffset = ipv4.fragmentOffset(b, ip);
  const plan = ipv4.fragmentPlan(total - hl, hl, mtu, baseOffset, ipv4.isMoreFragments(b, ip));
  // The header travels in a copy: ip_options_fragment rewrites the options after the first piece.
  const header = Buffer.from(b.subarray(ip, ip + hl));
  for (let i = 0; i < plan.length; i++) {
    const piece = plan[i]!;
    const frag = Skb.alloc(hl + piece.len);
    const out = frag.buf;
    header.copy(out, frag.head);
    const from = ip + hl + piece.offset - baseOffset;
    b.copy(out, frag.head + hl, from, from + piece.len);
    ipv4.setFragmentFields(out, frag.head, hl + piece.len, piece.offset, piece.more, false);
    frag.networkOffset = frag.head;
    if (i === 0) ipOptionsFragment(header);
    output(frag);
  }
}

/**
 * ip_options_fragment: the options a fragment after the first carries — each option without the
 * copied flag (RFC 791: record route, timestamp …) becomes NOPs of its length.
 */
export function ipOptionsFragment(header: Uint8Array): void {
  const end = ipv4.headerLen(header, 0);
  let at = ipv4.HEADER_LEN;
  while (at < end) {
    const type = header[at]!;
    if (type === ipv4.OPT_END) return;
    if (type === ipv4.OPT_NOP) {
      at++;
      continue;
    }
    const len = header[at + 1] ?? 0;
    if (len < 2 || at + len > end) return; // a malformed option list: leave the rest as it is
    if ((type & ipv4.OPT_COPIED) === 0) header.fill(ipv4.OPT_NOP, at, at + len);
    at += len;
  }
}
