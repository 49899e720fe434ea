/**
 * The optional libpcap binding `cap` (npm cap 0.2.1, a node-gyp addon over libpcap), loaded
 * lazily: `parity --replay` needs it to put podwire's frames on a pod's interface as they are —
 * pcap_sendpacket(3) writes a whole Ethernet frame to an AF_PACKET socket, which Node itself
 * cannot open (its dgram and net modules stop at UDP and TCP sockets). Everything else in podwire
 * runs without it, and an install where it failed to build (no libpcap-dev, no compiler) still
 * works: only --replay says why it cannot.
 */
import { createRequire } from 'node:module';

/** An open interface that frames can be sent on. */
export interface FrameSender {
  send(frame: Buffer): void;
  close(): void;
}

interface CapInstance {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  send(buffer: Buffer, size: number): void;
  close(): void;
}
interface CapModule {
  Cap: new () => CapInstance;
}

export type CapLoad = { readonly ok: true; readonly open: (iface: string) => FrameSender } | { readonly ok: false; readonly reason: string };

/** The one-line error when cap is missing. */
export function capMissing(reason: string): string {
  return `--replay needs the optional dependency cap (libpcap binding): ${reason}`;
}

/** Loads cap, or says why it cannot be (not installed, or its native part failed to build or load). */
export function loadCap(): CapLoad {
  let mod: CapModule;
  try {
    mod = createRequire(import.meta.url)('cap') as CapModule;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const first = (err.message ?? String(e)).split('\n')[0] ?? '';
    return { ok: false, reason: err.code === 'MODULE_NOT_FOUND' && first.includes("'cap'") ? 'it is not installed (npm install cap; it builds against libpcap-dev)' : first };
  }
  return {
    ok: true,
    open: (iface: string): FrameSender => {
      const c = new mod.Cap();
      // A filter no frame passes ("len <= 1"): the handle only sends; nothing is read into the buffer.
      const linkType = c.open(iface, 'less 1', 1 << 20, Buffer.alloc(65535));
      if (linkType !== 'ETHERNET') {
        c.close();
        throw new Error(`${iface}: link type ${linkType}, not Ethernet`);
      }
      return { send: (frame) => c.send(frame, frame.length), close: () => c.close() };
    },
  };
}
