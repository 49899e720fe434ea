/**
 * Starts a KernelProgram as parity starts its Python servers (parity.ts): in the pod's kernel
 * namespace, in a UTS namespace of its own named as the kubelet names the pod, with the pod's
 * /etc/hosts and /etc/resolv.conf bound over the machine's in the mount namespace `ip netns exec`
 * makes for it (a slave of the machine's: nothing propagates back), pinned to CPU 0; once it
 * listens it goes SCHED_IDLE, so that a client on CPU 0 finishes a burst of sends before its
 * server reacts, as the references ran their servers. The PID recorded is the program's own
 * (ip netns exec, unshare, sh's exec and taskset all exec), so parity ends it by PID.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KernelCommandError, mustRun, pinned, waitListening, type KernelResources } from '../kernel.js';
import { inPodNamespace, writePodEtc } from '../pod-etc.js';
import type { KernelProgram } from './program.js';

/** How long a program may take to listen (Python's start-up on a loaded machine). */
const START_MS = 15_000;

const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Starts `p` in `<prefix>-<netns>`; its files go under `filesDir/<slug>`, what it prints to
 * `outputsDir/<p.log>` (the kernel's counterpart of podwire's outputs/containers/… log). Resolves
 * with its PID once it listens; throws (naming the log) when it does not in time.
 */
export async function startProgram(res: KernelResources, prefix: string, p: KernelProgram, filesDir: string, outputsDir: string): Promise<number> {
  const root = join(filesDir, p.slug);
  const etc = writePodEtc(root, p.hostname, p.etcHosts, p.resolvConf);
  for (const [name, data] of p.files ?? []) writeFileSync(join(root, name), data);
  const logFile = join(outputsDir, p.log);
  mkdirSync(dirname(logFile), { recursive: true });
  const kns = `${prefix}-${p.netns}`;
  const argv = inPodNamespace(kns, etc, pinned(0, p.argv));
  const env = { PATH: BASE_PATH, HOME: root, LANG: 'C.UTF-8', ...Object.fromEntries(p.env) };
  const child = res.startProcess(argv, { cwd: root, env, logFile });
  const listening = await waitListening(kns, p.listen.port, START_MS, p.listen.protocol);
  if (!listening || child.exitCode !== null || child.pid === undefined) {
    throw new KernelCommandError(`${p.label}: ${p.what} in ${kns} is not listening on ${p.listen.protocol} port ${p.listen.port} after ${START_MS / 1000} s (log: ${logFile})`);
  }
  mustRun(['chrt', '-a', '-i', '-p', '0', String(child.pid)]);
  return child.pid;
}
