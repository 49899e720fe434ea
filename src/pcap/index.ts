/**
 * pcap/ — capture files in and out, a library that imports nothing of podwire's but packet/bytes.
 *
 * Writers stream: a PcapWriter (classic pcap, nanosecond timestamps by default, one file per
 * emulated interface) or a PcapngWriter (one section, an IDB per interface added at any time, an
 * EPB per frame with an optional comment) puts each record straight into a BufferedSink —
 * FileSink for files (one write(2) per 64 KiB), MemorySink for tests, ChunkedSink in front of any
 * other ByteSink. Nothing is half-written in place: a run writes its captures into a temporary
 * path, closes every writer (close() flushes and closes the file) and then renames the folder;
 * a failed run removes it. Readers (readPcap / pcapPackets, readPcapng, and readCapture, which
 * detects the format) take the whole file as bytes, return packet data as subarrays of it, accept
 * both byte orders and every timestamp resolution, and throw only CaptureFormatError, with the
 * byte offset of what is wrong.
 */
export { CaptureFormatError } from './errors.js';
export {
  BufferedSink,
  ChunkedSink,
  DEFAULT_BUFFER_BYTES,
  FileSink,
  MemorySink,
  toBufferedSink,
  type ByteSink,
  type FileSinkOptions,
} from './sink.js';
export { BackgroundFileSink, openFileSink, writerThreadAvailable } from './background-sink.js';
export { addPcapngComments, type PacketComments } from './pcapng-comments.js';
export { SeparateCaptureWriters, SplitCaptureWriter, type CaptureFiles } from './split-capture.js';
export {
  DEFAULT_SNAPLEN,
  GLOBAL_HEADER_LEN,
  LINKTYPE_ETHERNET,
  PCAP_MAGIC_NS,
  PCAP_MAGIC_US,
  PcapWriter,
  RECORD_HEADER_LEN,
  type PcapResolution,
  type PcapWriterOptions,
} from './pcap-writer.js';
export {
  BLOCK_ENHANCED_PACKET,
  BLOCK_INTERFACE_DESCRIPTION,
  BLOCK_SECTION_HEADER,
  BLOCK_SIMPLE_PACKET,
  BYTE_ORDER_MAGIC,
  PcapngWriter,
  type PcapngInterfaceOptions,
  type PcapngWriterOptions,
} from './pcapng-writer.js';
export {
  pcapPackets,
  readPcap,
  readPcapHeader,
  type ByteOrder,
  type PcapFile,
  type PcapHeader,
  type PcapPacket,
} from './pcap-reader.js';
export {
  readPcapng,
  type PcapngFile,
  type PcapngInterface,
  type PcapngPacket,
  type PcapngPacketBlock,
  type PcapngSection,
  type PcapngSectionOptions,
} from './pcapng-reader.js';
export {
  detectCaptureFormat,
  readCapture,
  readCaptureFile,
  type Capture,
  type CaptureFormat,
  type CaptureInterface,
  type CapturePacket,
} from './read-capture.js';
