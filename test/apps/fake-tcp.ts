/**
 * An in-memory stand-in for the netns TCP sockets (src/net/tcp-api.ts), for testing programs
 * before the protocol is merged: two ends joined by the scheduler — bytes written on one side
 * arrive as one onData on the other `latencyNs` later, in order; a FIN after the queued bytes; a
 * SYN to a port nobody listens on is refused; a "black hole" address never answers. Every write
 * is recorded, so tests can see how a program split its output into send() calls.
 */
import { formatIpv4, type Ipv4Addr } from '../../src/packet/addr.js';
import { TcpSocketError, type TcpConnection, type TcpEndpoint, type TcpErrno, type TcpListener, type TcpSockets } from '../../src/net/tcp-api.js';
import type { Netns } from '../../src/net/netns.js';
import type { Scheduler } from '../../src/sim/scheduler.js';

const LOOPBACK = 0x7f00_0001;

export interface RecordedWrite {
  readonly from: string;
  readonly timeNs: number;
  readonly bytes: Buffer;
}

export class FakeNet {
  readonly writes: RecordedWrite[] = [];
  readonly blackHoles = new Set<Ipv4Addr>();
  readonly listeners = new Map<string, { host: FakeHost; onAccept: (c: TcpConnection) => void; closed: boolean }>();
  /** The order connections were closed or shut down, for "who sent FIN first". */
  readonly fins: string[] = [];

  constructor(
    readonly sched: Scheduler,
    readonly latencyNs = 100_000,
  ) {}

  host(addrs: readonly Ipv4Addr[]): FakeHost {
    return new FakeHost(this, addrs);
  }

  /** Gives a real Netns these sockets (the field is the lead's TcpSockets after the merge). */
  attach(ns: Netns, addrs: readonly Ipv4Addr[]): FakeHost {
    const h = this.host(addrs);
    (ns as unknown as { tcp: TcpSockets }).tcp = h;
    return h;
  }

  text(from?: string): string {
    return this.writes.filter((w) => from === undefined || w.from === from).map((w) => w.bytes.toString('latin1')).join('');
  }
}

export class FakeHost implements TcpSockets {
  private nextPort = 40000;

  constructor(
    readonly net: FakeNet,
    readonly addrs: readonly Ipv4Addr[],
  ) {}

  private key(addr: Ipv4Addr, port: number): string {
    return `${addr}:${port}`;
  }

  listen(local: TcpEndpoint, onAccept: (c: TcpConnection) => void): TcpListener {
    if (local.addr !== 0 && local.addr !== LOOPBACK && !this.addrs.includes(local.addr)) throw new TcpSocketError('EADDRNOTAVAIL');
    const k = this.key(local.addr, local.port);
    const clash = [...this.net.listeners.entries()].find(([key, l]) => l.host === this && !l.closed && key.endsWith(`:${local.port}`) && (local.addr === 0 || key.startsWith('0:') || key === k));
    if (clash) throw new TcpSocketError('EADDRINUSE');
    const entry = { host: this as FakeHost, onAccept, closed: false };
    this.net.listeners.set(k, entry);
    return { local, close: () => (entry.closed = true) };
  }

  /** The listener a SYN to remote would reach: bound to that address, or to INADDR_ANY on its host. */
  private findListener(remote: TcpEndpoint) {
    for (const [key, l] of this.net.listeners) {
      if (l.closed) continue;
      const [addr, port] = key.split(':').map(Number);
      if (port !== remote.port) continue;
      const sameHost = remote.addr === LOOPBACK ? l.host === this : l.host.addrs.includes(remote.addr);
      if (!sameHost) continue;
      if (addr === remote.addr || addr === 0) return l;
    }
    return undefined;
  }

  connect(remote: TcpEndpoint, bind?: Partial<TcpEndpoint>): TcpConnection {
    const net = this.net;
    const localAddr = remote.addr === LOOPBACK ? LOOPBACK : this.addrs[0]!;
    const local = { addr: bind?.addr || localAddr, port: bind?.port || this.nextPort++ };
    const client = new FakeConnection(net, local, remote, `${formatIpv4(local.addr)}:${local.port}`);
    if (net.blackHoles.has(remote.addr)) return client;
    const l = this.findListener(remote);
    net.sched.after(net.latencyNs, () => {
      if (!l || l.closed) return client.fail('ECONNREFUSED');
      const server = new FakeConnection(net, remote, local, `${formatIpv4(remote.addr)}:${remote.port}`);
      client.peer = server;
      server.peer = client;
      client.established = true;
      server.established = true;
      l.onAccept(server);
      client.onConnect();
    });
    return client;
  }
}

class FakeConnection implements TcpConnection {
  peer: FakeConnection | undefined;
  established = false;
  writeClosed = false;
  fullyClosed = false;
  dead = false;
  noDelay = false;
  onConnect: () => void = () => {};
  onData: (data: Uint8Array) => void = () => {};
  onEnd: () => void = () => {};
  onError: (errno: TcpErrno) => void = () => {};

  constructor(
    private readonly net: FakeNet,
    readonly local: TcpEndpoint,
    readonly remote: TcpEndpoint,
    readonly name: string,
  ) {}

  fail(errno: TcpErrno): void {
    if (this.dead) return;
    this.dead = true;
    this.onError(errno);
  }

  private deliver(fn: (peer: FakeConnection) => void): void {
    const peer = this.peer;
    if (!peer) return;
    this.net.sched.after(this.net.latencyNs, () => {
      if (!peer.dead) fn(peer);
    });
  }

  write(data: Uint8Array): void {
    if (this.writeClosed || this.dead) throw new Error(`${this.name}: write after shutdown/close`);
    const bytes = Buffer.from(data);
    this.net.writes.push({ from: this.name, timeNs: this.net.sched.nowNs, bytes });
    // Data to a socket the peer has closed is answered with RST.
    if (this.peer?.fullyClosed) return this.net.sched.after(2 * this.net.latencyNs, () => this.fail('ECONNRESET')), undefined;
    this.deliver((p) => p.onData(bytes));
  }

  shutdown(): void {
    if (this.writeClosed) return;
    this.writeClosed = true;
    this.net.fins.push(this.name);
    this.deliver((p) => p.onEnd());
  }

  close(): void {
    this.shutdown();
    this.fullyClosed = true;
    this.dead = true;
  }

  abort(): void {
    this.dead = true;
    this.fullyClosed = true;
    this.deliver((p) => p.fail('ECONNRESET'));
  }

  setNoDelay(on: boolean): void {
    this.noDelay = on;
  }
}
