/**
 * The kernel-side equivalent of podwire's probe `udp-send` (src/apps/udp-send.ts): a short
 * script for the real /usr/bin/python3 that makes the same system calls in the same order on the
 * real kernel's socket API — socket(AF_INET, SOCK_DGRAM), setsockopt(IP_MTU_DISCOVER, mode),
 * connect(HOST, PORT), then per datagram send(N zero bytes) and getsockopt(IP_MTU), a sleep of
 * --interval between sends, close — and prints the probe's line after each send, the errno of a
 * failed send(2) by name and strerror:
 *
 *   do:1472 -> ERROR EMSGSIZE (Message too long); IP_MTU=1450; IP_MTU_DISCOVER=2
 *
 * IP_MTU_DISCOVER is read back with getsockopt rather than printed from the mode, so the line
 * says what the kernel holds. Exit 0 when every datagram was sent, 1 when a send failed. The
 * constants are <linux/in.h>'s (Python's socket module does not export them all): IP_MTU_DISCOVER
 * 10, IP_MTU 14; IP_PMTUDISC_DONT 0, WANT 1, DO 2.
 */
import { UsageError } from '../../apps/app.js';
import { parseUdpSendArgs } from '../../apps/udp-send.js';
import { formatIpv4 } from '../../packet/addr.js';

export const UDP_SEND_SCRIPT = String.raw`import errno, os, socket, sys, time
host, port, size, mode, count, interval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
IP_MTU_DISCOVER, IP_MTU = 10, 14
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, {'dont': 0, 'want': 1, 'do': 2}[mode])
s.connect((host, port))
payload = bytes(size)
failed = False
for i in range(count):
    if i > 0: time.sleep(interval)
    try:
        s.send(payload)
        result = 'sent %d' % size
    except OSError as e:
        failed = True
        result = 'ERROR %s (%s)' % (errno.errorcode[e.errno], os.strerror(e.errno))
    try: mtu = s.getsockopt(socket.IPPROTO_IP, IP_MTU)
    except OSError: mtu = 0
    print('%s:%d -> %s; IP_MTU=%d; IP_MTU_DISCOVER=%d' % (mode, size, result, mtu, s.getsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER)), flush=True)
s.close()
sys.exit(1 if failed else 0)
`;

const PYTHON = '/usr/bin/python3';
/** The longest a udp-send step may run, and the most datagrams it may send. */
const MAX_SECONDS = 60;
const MAX_COUNT = 100;

/** The kernel's udp-send: its argv and bound, or why it is not run here. */
export function planUdpSend(argv: readonly string[]): { argv: readonly string[]; timeoutSec: number } | string {
  let o;
  try {
    o = parseUdpSendArgs(argv.slice(1));
  } catch (e) {
    if (e instanceof UsageError) return `${argv.join(' ')}: ${e.message.split('\n')[0] ?? ''}`;
    throw e;
  }
  if (o.count > MAX_COUNT) return `udp-send --count ${o.count} (at most ${MAX_COUNT}: bounded traffic)`;
  const seconds = Math.ceil(((o.count - 1) * o.intervalNs) / 1e9) + 5;
  if (seconds > MAX_SECONDS) return `udp-send would run up to ${seconds} s (more than ${MAX_SECONDS})`;
  const interval = String(o.intervalNs / 1e9);
  return { argv: [PYTHON, '-c', UDP_SEND_SCRIPT, formatIpv4(o.host), String(o.port), String(o.bytes), o.pmtudisc, String(o.count), interval], timeoutSec: seconds };
}
