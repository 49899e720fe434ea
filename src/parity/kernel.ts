/**
 * The real kernel's side of parity: running commands (always naming their namespace), starting
 * and stopping tcpdump, and removing what was made. It keeps the record of what it created — the
 * exact namespace names and the PIDs of the processes it started — so that cleanup removes those
 * and nothing else: namespaces by exact name (`ip netns del NAME`), processes by PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A command that failed while building the topology: the command line and what it printed. */
export class KernelCommandError extends Error {
  override readonly name = 'KernelCommandError';
}

/** Whether a program is on the PATH. */
/** The running kernel's release (`uname -r`): what the kernel side of a parity run was. */
export function kernelRelease(): string {
  return release();
}

export function have(program: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', program], { encoding: 'utf8' }).status === 0;
}

/** Why kernel parity cannot run on this machine, or undefined when it can. */
export function kernelUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (ip netns add)';
  for (const p of ['ip', 'bridge', 'tcpdump', 'iptables-restore', 'sysctl']) if (!have(p)) return `${p} is not installed`;
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.status !== 0) return `ip netns is unavailable: ${r.stderr.trim()}`;
  return undefined;
}

/** Runs a command to its end (bounded by `timeoutSec`); never through a shell. */
export function runCommand(argv: readonly string[], opts: { input?: string; timeoutSec?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): CommandResult {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    ...(opts.cwd !== undefined && { cwd: opts.cwd }),
    ...(opts.env !== undefined && { env: opts.env }),
    timeout: (opts.timeoutSec ?? 30) * 1000,
    killSignal: 'SIGKILL',
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? r.error.message : '') };
}

/** Runs a topology command; a failure is a KernelCommandError naming it. */
export function mustRun(argv: readonly string[], input?: string): void {
  const r = runCommand(argv, input !== undefined ? { input } : {});
  if (r.code !== 0) throw new KernelCommandError(`${argv.join(' ')}: exit ${String(r.code)}: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`);
}

/** `taskset -c CPU` in front of a command when the machine has that CPU (the references pinned clients to 0, tcpdumps to 1). */
export function pinned(cpu: number, argv: readonly string[]): string[] {
  return cpu < availableParallelism() && have('taskset') ? ['taskset', '-c', String(cpu), ...argv] : [...argv];
}

/** A tcpdump running in one namespace on one interface, writing one file. */
export interface Capture {
  readonly netns: string;
  readonly iface: string;
  readonly file: string;
  readonly child: ChildProcess;
  stderr: string;
}

/** What kernel parity has made: namespaces by exact name and processes by PID. */
export class KernelResources {
  readonly namespaces: string[] = [];
  readonly processes = new Set<ChildProcess>();

  addNamespace(name: string): void {
    mustRun(['ip', 'netns', 'add', name]);
    this.namespaces.push(name);
  }

  /** Deletes one namespace this object created (a pod deleted mid-run), by its exact name. */
  deleteNamespace(name: string): void {
    const at = this.namespaces.indexOf(name);
    if (at < 0) throw new KernelCommandError(`ip netns del ${name}: not a namespace parity created`);
    mustRun(['ip', 'netns', 'del', name]);
    this.namespaces.splice(at, 1);
  }

  /**
   * Starts tcpdump as the references were taken (-n -s 0 -U --immediate-mode, promiscuous) on
   * CPU 1; resolves once it says it is listening, so no frame of the traffic is missed.
   */
  startCapture(kernelNetns: string, iface: string, file: string): Promise<Capture> {
    const argv = ['ip', 'netns', 'exec', kernelNetns, ...pinned(1, ['tcpdump', '-n', '-s', '0', '-U', '--immediate-mode', '-i', iface, '-w', file])];
    // `ip netns exec` and taskset exec the program: the child's PID is tcpdump's own.
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.processes.add(child);
    const cap: Capture = { netns: kernelNetns, iface, file, child, stderr: '' };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new KernelCommandError(`tcpdump -i ${iface} in ${kernelNetns}: not listening after 10 s: ${cap.stderr.trim()}`)), 10_000);
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (chunk: string) => {
        cap.stderr += chunk;
        if (cap.stderr.includes('listening on')) {
          clearTimeout(timer);
          resolve(cap);
        }
      });
      child.on('exit', (code) => {
        this.processes.delete(child);
        clearTimeout(timer);
        reject(new KernelCommandError(`tcpdump -i ${iface} in ${kernelNetns} exited ${String(code)}: ${cap.stderr.trim()}`));
      });
    });
  }

  /**
   * Starts a long-running program (a server) and returns at once; its output goes to `logFile`.
   * `argv` must exec its way to the program (`ip netns exec`, taskset, chrt all do), so that the
   * PID recorded is the program's own and ending it by PID ends it.
   */
  startProcess(argv: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }): ChildProcess {
    const log = openSync(opts.logFile, 'a');
    try {
      const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: opts.env, stdio: ['ignore', log, log] });
      this.processes.add(child);
      child.on('exit', () => this.processes.delete(child));
      return child;
    } finally {
      closeSync(log);
    }
  }

  /** Ends one process this object started (SIGINT, then SIGKILL after 5 s), waiting for it to exit. */
  endProcess(child: ChildProcess): Promise<void> {
    return this.stopProcess(child, 'SIGINT');
  }

  /** SIGINT to one tcpdump (it flushes and closes its file), waiting for it to exit. */
  stopCapture(cap: Capture): Promise<void> {
    return this.stopProcess(cap.child, 'SIGINT');
  }

  private stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) {
      this.processes.delete(child);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const hard = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(hard);
        this.processes.delete(child);
        resolve();
      });
      if (child.pid !== undefined) process.kill(child.pid, signal);
    });
  }

  /** Ends every process still running that this object started, by PID (SIGINT, then SIGKILL after 5 s). */
  async stopProcesses(): Promise<void> {
    await Promise.all([...this.processes].map((c) => this.stopProcess(c, 'SIGINT')));
  }

  /**
   * Ends every process still running that this object started (by PID), then deletes exactly the
   * namespaces it created. Returns the problems, if any, rather than throwing: it runs in a finally.
   */
  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    await this.stopProcesses();
    for (const name of [...this.namespaces].reverse()) {
      const r = runCommand(['ip', 'netns', 'del', name]);
      if (r.code !== 0) problems.push(`ip netns del ${name}: ${r.stderr.trim()}`);
      else this.namespaces.splice(this.namespaces.indexOf(name), 1);
    }
    return problems;
  }
}

/**
 * Waits, polling `ss -ltn` (UDP: `ss -lun`, an unconnected bound socket) in the namespace every
 * 50 ms for at most `limitMs`, until something listens on `port`; false when nothing did in time.
 */
export async function waitListening(kernelNetns: string, port: number, limitMs = 2000, protocol: 'tcp' | 'udp' = 'tcp'): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const r = runCommand(['ip', 'netns', 'exec', kernelNetns, 'ss', protocol === 'tcp' ? '-Hltn' : '-Hlun', 'sport', '=', `:${port}`], { timeoutSec: 5 });
    if (r.code === 0 && r.stdout.trim() !== '') return true;
    if (Date.now() >= deadline) return false;
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** The namespaces whose names start with `prefix` (to verify that cleanup left none). */
export function namespacesWithPrefix(prefix: string): string[] {
  const r = runCommand(['ip', 'netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}
