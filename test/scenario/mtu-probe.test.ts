import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatIpv4 } from '../../src/packet/addr.js';
import * as ethernet from '../../src/packet/ethernet.js';
import * as icmp from '../../src/packet/icmp.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import { readCaptureFile } from '../../src/pcap/index.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { captureProblems } from '../helpers/tshark.js';

const root = mkdtempSync(join(tmpdir(), 'podwire-mtu-probe-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const IP = ethernet.HEADER_LEN;

describe('scenarios/mtu-probe.yaml: a pod MTU larger than flannel.1’s', () => {
  const r = runScenario(loadScenarioFile('scenarios/mtu-probe.yaml'), { out: join(root, 'run'), seed: 3 });
  const frames = (file: string) => readCaptureFile(join(r.dir, file)).packets.map((p) => Buffer.from(p.data));
  const ipFrames = (file: string) => frames(file).filter((f) => ethernet.ethertype(f, 0) === ethernet.ETHERTYPE_IPV4);
  const out = (i: number) => r.steps[i]!.output;

  it('ping -M do: the hop’s "Frag needed" first, then the local error once the path MTU is learned', () => {
    expect(out(0)).toBe(
      'PING 10.244.2.2 (10.244.2.2) 1472(1500) bytes of data.\n' +
        'From 10.244.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1450)\n' +
        'ping: local error: message too long, mtu=1450\n\n' +
        '--- 10.244.2.2 ping statistics ---\n' +
        '2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1000ms\n' +
        'command terminated with exit code 1\n',
    );
  });

  it('n1 answers the 1500-byte DF request with ICMP 3/4, next-hop MTU 1450, from cni0’s address, quoting it as it arrived', () => {
    const errs = ipFrames('captures/pa/eth0.pcap').filter((f) => ipv4.protocol(f, IP) === ipv4.PROTO_ICMP && icmp.type(f, IP + 20) === icmp.TYPE_DEST_UNREACHABLE);
    expect(errs).toHaveLength(2); // ping's request, and the first datagram of step 5
    const e = errs[0]!;
    const l4 = IP + ipv4.headerLen(e, IP);
    expect([icmp.code(e, l4), icmp.nextHopMtu(e, l4)]).toEqual([icmp.FRAGMENTATION_NEEDED, 1450]);
    expect(formatIpv4(ipv4.src(e, IP))).toBe('10.244.1.1');
    const quoted = icmp.dataOffset(l4);
    expect([ipv4.totalLength(e, quoted), ipv4.ttl(e, quoted), ipv4.isDontFragment(e, quoted)]).toEqual([1500, 64, true]);
    // Nothing bigger than flannel.1's MTU ever crosses it.
    expect(Math.max(...frames('captures/n1/flannel.1.pcap').map((f) => f.length - IP))).toBeLessThanOrEqual(1450);
  });

  it('the learned path MTU refuses a DF datagram; the default socket fragments it and pc reassembles it', () => {
    expect(out(1)).toBe('do:1472 -> ERROR EMSGSIZE (Message too long); IP_MTU=1450; IP_MTU_DISCOVER=2\ncommand terminated with exit code 1\n');
    expect(out(2)).toBe('want:1472 -> sent 1472; IP_MTU=1450; IP_MTU_DISCOVER=1\n');
    const udpFrags = ipFrames('captures/pc/eth0.pcap').filter((f) => ipv4.protocol(f, IP) === ipv4.PROTO_UDP && ipv4.isFragment(f, IP));
    expect(udpFrags.slice(0, 2).map((f) => [ipv4.totalLength(f, IP), ipv4.fragmentOffset(f, IP), ipv4.isMoreFragments(f, IP), ipv4.isDontFragment(f, IP)])).toEqual([
      [1444, 0, true, false],
      [76, 1424, false, false],
    ]);
    expect(ipv4.id(udpFrags[0]!, IP)).toBe(ipv4.id(udpFrags[1]!, IP));
    const received = readFileSync(join(r.dir, 'outputs/containers/pc-nc.log'));
    expect([received.length, received.every((b) => b === 0)]).toEqual([1472, true]);
  });

  it('a forwarding hop reassembles (conntrack) and refragments to its MTU; the sender reassembles the reply', () => {
    expect(out(3)).toMatch(/^PING 10\.244\.2\.2 \(10\.244\.2\.2\) 2000\(2028\) bytes of data\.\n2008 bytes from 10\.244\.2\.2: icmp_seq=1 ttl=62 time=[\d.]+ ms\n/);
    const replies = ipFrames('captures/n2/flannel.1.pcap').filter((f) => formatIpv4(ipv4.src(f, IP)) === '10.244.2.2' && ipv4.protocol(f, IP) === ipv4.PROTO_ICMP);
    expect(replies.map((f) => [ipv4.totalLength(f, IP), ipv4.fragmentOffset(f, IP), ipv4.isMoreFragments(f, IP)])).toEqual([
      // pc's 1500 + 548 fragments are whole again on n2 (nf_defrag_ipv4 before routing), and the
      // 2028-byte datagram leaves cut for flannel.1's 1450: its largest fragment was bigger.
      [1444, 0, true],
      [604, 1424, false],
    ]);
  });

  it('a UDP socket learns from its own frag-needed: a pending EMSGSIZE, then fragments', () => {
    expect(out(4)).toBe(
      'want:1472 -> sent 1472; IP_MTU=1500; IP_MTU_DISCOVER=1\n' +
        'want:1472 -> ERROR EMSGSIZE (Message too long); IP_MTU=1450; IP_MTU_DISCOVER=1\n' +
        'want:1472 -> sent 1472; IP_MTU=1450; IP_MTU_DISCOVER=1\n' +
        'command terminated with exit code 1\n',
    );
    expect(readFileSync(join(r.dir, 'outputs/containers/pd-nc.log')).length).toBe(1472);
  });

  it('writes captures tshark decodes cleanly', () => {
    const index = JSON.parse(readFileSync(join(r.dir, 'interfaces.json'), 'utf8')) as { interfaces: { file: string }[] };
    for (const i of index.interfaces) expect(captureProblems(join(r.dir, i.file)), i.file).toEqual([]);
  });
});
