/**
 * podwire's `ip route`, `ip neigh`, `bridge fdb` and `ip -d link` of nodes n1 and n2 after the
 * reference scenarios, held against the real kernel's dumps of the same moment (fixtures/kernel/
 * <journey>/{ip-route,ip-neigh,bridge-fdb,ip-link}-nX.txt, taken one second after the traffic, as
 * podwire's run ends).
 *
 * Normalized the same way on both sides, because these values are random or time-dependent on
 * both and say nothing about behaviour:
 * - every MAC becomes the interfaces that carry it, `mac(n1/cni0)` (fixtures: meta.json's
 *   topology; podwire: every device of every netns), several joined by `=`; multicast and
 *   all-zero/broadcast MACs stay;
 * - host-side veth names (random in the plugin, sha256-derived in the references) become
 *   `veth(<pod>)`, the pod their peer lives in (from the dump's own `link-netns`);
 * - the references' netns names lose their `kr-` prefix (kr-pa → pa, kr-underlay → underlay);
 * - node eth0's `@ifN` (the underlay switch port's index, set by the order the references built
 *   their switch) becomes `@if(underlay)`;
 * - `gc_timer` and `forward_delay_timer` values (countdowns podwire does not model) become `T`;
 * - `ip neigh` lines are sorted: the kernel lists them in hash-bucket order, and the hash is keyed
 *   by a random number drawn when the table is made (neigh_hash_alloc).
 * What then still differs is written down below (KNOWN) as edits that turn the kernel's dump into
 * podwire's, each with its reason; each must change the dump it is for, and the dumps must then be
 * equal — so a fix in podwire makes the test fail until its entry goes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../src/k8s/cluster.js';
import { formatMac } from '../../../src/packet/addr.js';
import { bridgeFdbShow } from '../../../src/net/render/bridge-fdb.js';
import { ipLinkDetails } from '../../../src/net/render/ip-link-details.js';
import { ipNeigh, ipRoute } from '../../../src/net/render/iproute.js';
import { loadScenarioFile } from '../../../src/scenario/load.js';
import { runScenario } from '../../../src/scenario/run.js';

const KERNEL = join(import.meta.dirname, '../../../fixtures/kernel');
const root = mkdtempSync(join(tmpdir(), 'podwire-dumps-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Tool = 'ip-route' | 'ip-neigh' | 'bridge-fdb' | 'ip-link';
const TOOLS: readonly Tool[] = ['ip-route', 'ip-neigh', 'bridge-fdb', 'ip-link'];
const NODES = ['n1', 'n2'] as const;

interface Side {
  /** MAC → the interfaces carrying it (`n1/cni0`, `n1/veth3ef4d7d1`). */
  macs: Map<string, string[]>;
  dumps: Map<string, string>;
}

/** veth name → `veth(<peer netns>)`, from an `ip -d link` text's `NAME@ifN: … link-netns NS` pairs. */
function vethRoles(link: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /^\d+: (veth[0-9a-f]+)@if\d+: .*\n\s+link\/ether \S+ brd \S+ link-netns (\S+)/gm;
  for (const m of link.matchAll(re)) out.set(m[1]!, `veth(${m[2]!.replace(/^kr-/, '')})`);
  return out;
}

function normalize(text: string, side: Side, node: string): string {
  const veths = vethRoles(side.dumps.get(`ip-link-${node}`)!);
  const nameOf = (iface: string): string => {
    const [ns, dev] = iface.split('/') as [string, string];
    const nsName = ns.replace(/^kr-/, '');
    return `${nsName}/${veths.get(dev) ?? dev}`;
  };
  return text
    .replace(/\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/g, (mac) => {
      const ifaces = side.macs.get(mac);
      if (!ifaces || mac.startsWith('33:33:') || mac.startsWith('01:00:5e:') || mac.startsWith('01:80:c2:')) return mac;
      return `mac(${ifaces.map(nameOf).sort().join('=')})`;
    })
    .replace(/\bveth[0-9a-f]{8}\b/g, (v) => veths.get(v) ?? v)
    .replace(/link-netns kr-/g, 'link-netns ')
    .replace(/^(\d+: eth0)@if\d+:/gm, '$1@if(underlay):')
    .replace(/(gc_timer|forward_delay_timer) +\d+\.\d+/g, '$1 T');
}

function sortLines(text: string): string {
  return text.split('\n').filter((l) => l !== '').sort().map((l) => `${l}\n`).join('');
}

function kernelSide(journey: string): Side {
  const meta = JSON.parse(readFileSync(join(KERNEL, journey, 'meta.json'), 'utf8')) as { topology: Record<string, { ifname: string; mac: string }[]> };
  const macs = new Map<string, string[]>();
  for (const [ns, ifaces] of Object.entries(meta.topology)) {
    for (const i of ifaces) macs.set(i.mac, [...(macs.get(i.mac) ?? []), `${ns}/${i.ifname}`]);
  }
  const dumps = new Map<string, string>();
  for (const t of TOOLS) for (const n of NODES) dumps.set(`${t}-${n}`, readFileSync(join(KERNEL, journey, `${t}-${n}.txt`), 'utf8'));
  return { macs, dumps };
}

function podwireSide(journey: string): Side {
  let side: Side | undefined;
  const look = (cluster: Cluster): void => {
    const macs = new Map<string, string[]>();
    for (const ns of cluster.namespaces.values()) {
      for (const d of ns.devices.values()) {
        if (d.kind === 'loopback') continue;
        const mac = formatMac(d.mac);
        macs.set(mac, [...(macs.get(mac) ?? []), `${ns.name}/${d.name}`]);
      }
    }
    const dumps = new Map<string, string>();
    for (const n of NODES) {
      const ns = cluster.nodes.get(n)!.netns;
      dumps.set(`ip-route-${n}`, ipRoute(ns));
      dumps.set(`ip-neigh-${n}`, ipNeigh(ns));
      dumps.set(`bridge-fdb-${n}`, bridgeFdbShow(ns));
      dumps.set(`ip-link-${n}`, ipLinkDetails(ns));
    }
    side = { macs, dumps };
  };
  runScenario(loadScenarioFile(`scenarios/reference/${journey}.yaml`), { out: join(root, journey), seed: 1, onStop: look });
  return side!;
}

interface Known {
  readonly dumps: readonly string[];
  readonly why: string;
  readonly edit: (kernel: string, node: string) => string;
}

/** The pod whose host veth lends cni0 its MAC in the references (the first pod on the node). */
const FIRST_POD: Record<string, string> = { n1: 'pa', n2: 'pc' };

const KNOWN: Record<string, readonly Known[]> = {
  '*': [
    {
      dumps: ['ip-link-n1', 'ip-link-n2'],
      why: "cni0 keeps its own MAC (podwire's bridge plugin sets back the MAC it was created with); the references pinned it to the first pod's host veth MAC",
      edit: (k, n) => k
        .replace(new RegExp(`mac\\(${n}/cni0=${n}/veth\\(${FIRST_POD[n]}\\)\\)( brd \\S+ link-netns)`), `mac(${n}/veth(${FIRST_POD[n]}))$1`)
        .replaceAll(`mac(${n}/cni0=${n}/veth(${FIRST_POD[n]}))`, `mac(${n}/cni0)`),
    },
    {
      dumps: ['bridge-fdb-n1', 'bridge-fdb-n2'],
      why: "cni0 has its own MAC (above), so the bridge lists it as its own entry, and the first port's own entry carries only the port's MAC",
      edit: (k, n) => k
        .replace(new RegExp(`^mac\\(${n}/cni0=${n}/veth\\(${FIRST_POD[n]}\\)\\) dev veth\\(${FIRST_POD[n]}\\) master cni0 permanent$`, 'm'), `mac(${n}/veth(${FIRST_POD[n]})) dev veth(${FIRST_POD[n]}) master cni0 permanent`)
        .replace(/^(01:00:5e:00:00:01 dev cni0 self permanent\n)/m, `$1mac(${n}/cni0) dev cni0 master cni0 permanent\n`),
    },
  ],
};

describe.each(['cross-node-ping', 'same-node-ping'])('kernel dumps after %s', (journey) => {
  const kernel = kernelSide(journey);
  const podwire = podwireSide(journey);

  it.each(TOOLS.flatMap((t) => NODES.map((n) => `${t}-${n}`)))('%s: the same as the kernel\'s but for the listed differences', (dump) => {
    const node = dump.slice(-2);
    const tidy = dump.startsWith('ip-neigh') ? sortLines : (t: string) => t;
    let k = tidy(normalize(kernel.dumps.get(dump)!, kernel, node));
    const p = tidy(normalize(podwire.dumps.get(dump)!, podwire, node));
    for (const known of [...KNOWN['*']!, ...(KNOWN[journey] ?? [])]) {
      if (!known.dumps.includes(dump)) continue;
      const edited = known.edit(k, node);
      expect(edited, `${known.why}: the edit no longer applies`).not.toBe(k);
      k = edited;
    }
    expect(p).toBe(k);
  });
});
