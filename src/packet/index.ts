/**
 * packet/ — the wire library: one codec per header (Ethernet with 802.1Q, ARP, IPv4, ICMPv4, UDP,
 * TCP, VXLAN, DNS), each a plain Repr beside parse/emit and allocation-free accessors over the
 * bytes, after smoltcp's `wire` module; the Internet checksum with RFC 1624 incremental updates;
 * whole-frame decode/encode; and declarative field tables for annotated dumps. It imports nothing
 * else of podwire's, so it could be published on its own.
 *
 * Conventions: addresses are numbers (IPv4 a u32, MAC a 48-bit integer); offsets are absolute in
 * the buffer given; `parse` throws only MalformedPacketError (protocol, field, byte offset);
 * `emit` writes into a preallocated buffer, derives lengths from the Repr and computes checksums
 * unless told to keep them, and returns the bytes written.
 */
export * as arp from './arp.js';
export * as checksum from './checksum.js';
export * as dns from './dns.js';
export * as ethernet from './ethernet.js';
export * as icmp from './icmp.js';
export * as ipv4 from './ipv4.js';
export * as tcp from './tcp.js';
export * as udp from './udp.js';
export * as vxlan from './vxlan.js';
export * from './addr.js';
export * from './bytes.js';
export * from './emit-options.js';
export * from './errors.js';
export { decodeFrame, decodeIpv4Packet, encodeFrame, layerOf, type DecodeOptions, type Layer, type LayerKind } from './frame.js';
export { annotate, fixedHeaderLen, type AnnotatedField, type HeaderKind } from './fields.js';
