/**
 * The kernel's CoreDNS (coredns.ts): `node coredns-main.js WORLD.json` in a pod's (or Host's)
 * network namespace. It runs apps/coredns.ts's server on a CorednsRuntime made of real things:
 * UDP sockets of node:dgram (an unconnected one bound to 0.0.0.0:PORT for queries, answering each
 * from it to the query's source; a connected one per upstream for forward), the process's
 * monotonic clock and timers, the world file's files and Services, and podwire's seeded random
 * streams. What CoreDNS prints at start and on errors goes to stdout (parity's log of it).
 * Parity ends it by PID.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { parseCorednsArgs, startCoredns, type CorednsRuntime, type CorednsUpstream } from '../../apps/coredns.js';
import { formatIpv4 } from '../../packet/addr.js';
import { worldRuntime, type CorednsWorld } from './coredns.js';

const worldFile = process.argv[2];
if (worldFile === undefined) {
  process.stderr.write('usage: coredns-main.js WORLD.json\n');
  process.exit(2);
}
const world = JSON.parse(readFileSync(worldFile, 'utf8')) as CorednsWorld;
const sockets: Socket[] = [];

const runtime: CorednsRuntime = {
  ...worldRuntime(world),
  stdout: (text) => void process.stdout.write(text),
  nowNs: () => Number(process.hrtime.bigint()),
  after: (delayNs, fn) => {
    // Below a millisecond (the serve delay): the next turn of the loop, after the reads already queued.
    const t = delayNs < 1e6 ? setImmediate(fn) : setTimeout(fn, delayNs / 1e6);
    return { cancel: () => (delayNs < 1e6 ? clearImmediate(t as NodeJS.Immediate) : clearTimeout(t as NodeJS.Timeout)) };
  },
  listenUdp: (port, onQuery) => {
    const sock = createSocket({ type: 'udp4', reuseAddr: false });
    sockets.push(sock);
    sock.on('error', (e) => {
      process.stdout.write(`Listen: listen udp :${port}: ${e.message}\n`);
      process.exit(1);
    });
    sock.on('message', (data, from) => onQuery({ data: new Uint8Array(data), reply: (bytes) => sock.send(bytes, from.port, from.address) }));
    sock.bind({ port, address: '0.0.0.0', exclusive: true });
  },
  dialUdp: (addr, port) => {
    const sock = createSocket('udp4');
    let connected = false;
    const queued: Uint8Array[] = [];
    const up: CorednsUpstream = {
      send: (bytes) => {
        if (connected) sock.send(bytes);
        else queued.push(bytes);
        return undefined;
      },
      onDatagram: () => {},
      onError: () => {},
      close: () => sock.close(),
      localText: () => {
        try {
          const a = sock.address();
          return `${a.address}:${a.port}`;
        } catch {
          return '0.0.0.0:0';
        }
      },
    };
    sock.on('message', (data) => up.onDatagram(new Uint8Array(data)));
    // A connected UDP socket learns of an ICMP port unreachable as ECONNREFUSED on its next read.
    sock.on('error', () => up.onError());
    sock.connect(port, formatIpv4(addr), () => {
      connected = true;
      for (const b of queued.splice(0)) sock.send(b);
    });
    return up;
  },
};

const code = startCoredns(parseCorednsArgs(world.args), runtime);
if (code !== undefined) process.exit(code);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => {
  for (const s of sockets) s.close();
  process.exit(0);
});
