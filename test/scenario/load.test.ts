import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ScenarioError } from '../../src/scenario/errors.js';
import { loadScenarioFile, loadScenarioText } from '../../src/scenario/load.js';
import type { ApplyStep, ExecStep, RunStep } from '../../src/scenario/spec.js';

const FIXTURE = 'test/scenario/fixtures/two-nodes.yaml';
const at = (line: number, column: number, file = FIXTURE) => ({ file, line, column });
const cidr = (text: string, network: number, prefixLen: number) => ({ text, network, prefixLen });
const ip = (text: string) => ({ text, addr: text.split('.').reduce((v, o) => v * 256 + Number(o), 0) });

/** The one-line message loading `text` fails with. */
function errorOf(text: string, file = 'x.yaml'): string {
  try {
    loadScenarioText(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) return e.message;
    throw e;
  }
  throw new Error('the scenario loaded');
}

describe('a valid two-node scenario', () => {
  const spec = loadScenarioFile(FIXTURE);

  it('reads the cluster, with the CNI config given as JSON text', () => {
    expect(spec.file).toBe(FIXTURE);
    expect(spec.cluster).toEqual({
      name: 'lab',
      nodeNetwork: cidr('192.168.1.0/24', 0xc0a80100, 24),
      podCIDR: cidr('10.244.0.0/16', 0x0af40000, 16),
      serviceCIDR: cidr('10.96.0.0/12', 0x0a600000, 12),
      nodeSubnetPrefix: 24,
      mtu: 1500,
      gateway: undefined,
      nameservers: [],
      overlay: 'flannel-vxlan',
      vxlan: { port: 8472, vni: 1 },
      cni: {
        config: {
          cniVersion: '0.3.1',
          name: 'cbr0',
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          isDefaultGateway: false,
          ipMasq: false,
          hairpinMode: true,
          mtu: 1450,
          ipam: { type: 'host-local', ranges: [[{ subnet: 'usePodCidr' }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        isDefault: false,
        source: at(14, 13),
      },
      underlay: { defaults: { latencyNs: 1000, loss: 0 }, links: [] },
      source: at(2, 1),
    });
  });

  it('reads the nodes: n1 keeps its podCIDR, n2 gets the lowest free /24, each with its own CNI config', () => {
    const [n1, n2] = spec.nodes;
    expect(spec.nodes).toHaveLength(2);
    expect(n1).toEqual({
      name: 'n1',
      labels: { 'kubernetes.io/hostname': 'n1' },
      internalIP: ip('192.168.1.10'),
      podCIDR: cidr('10.244.1.0/24', 0x0af40100, 24),
      isPodCIDRAllocated: false,
      cni: {
        cniVersion: '0.3.1',
        name: 'cbr0',
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        isDefaultGateway: false,
        forceAddress: false,
        ipMasq: false,
        hairpinMode: true,
        promiscMode: false,
        mtu: 1450,
        vlan: 0,
        preserveDefaultVlan: true,
        dns: {},
        ipam: {
          kind: 'host-local',
          name: 'cbr0',
          cniVersion: '0.3.1',
          ranges: [[{ subnet: { ip: 0x0af40100, prefixLen: 24 }, rangeStart: 0x0af40101, rangeEnd: 0x0af401fe, gateway: 0x0af40101 }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: '/var/lib/cni/networks',
          resolvConf: '',
          requestedIps: [],
        },
      },
      cniConfigJson: n1!.cniConfigJson,
      source: at(32, 1),
    });
    expect(JSON.parse(n1!.cniConfigJson).ipam.ranges).toEqual([[{ subnet: '10.244.1.0/24' }]]);
    expect(n2).toMatchObject({ name: 'n2', internalIP: ip('192.168.1.11'), podCIDR: cidr('10.244.0.0/24', 0x0af40000, 24), isPodCIDRAllocated: true });
    expect(n2!.cni.ipam).toMatchObject({ ranges: [[{ subnet: { ip: 0x0af40000, prefixLen: 24 } }]] });
    expect(JSON.parse(n2!.cniConfigJson).ipam.ranges).toEqual([[{ subnet: '10.244.0.0/24' }]]);
  });

  it('reads the pods with every container field', () => {
    expect(spec.pods.map((p) => `${p.namespace}/${p.name}@${p.nodeName}`)).toEqual(['default/pa@n1', 'apps/web@n2']);
    expect(spec.pods[0]).toEqual({
      name: 'pa',
      namespace: 'default',
      labels: { app: 'client' },
      annotations: { note: 'the client' },
      nodeName: 'n1',
      containers: [
        {
          name: 'shell',
          image: 'busybox:1.36',
          command: ['sleep'],
          args: ['3600'],
          workingDir: '/tmp',
          volumeMounts: [],
          ports: [],
          env: [
            { name: 'TARGET', value: '10.244.0.2' },
            { name: 'EMPTY', value: '' },
          ],
          readinessProbe: undefined,
          livenessProbe: undefined,
          startupProbe: undefined,
          source: at(66, 7),
        },
      ],
      restartPolicy: 'Never',
      dnsPolicy: 'Default',
      hostname: 'pa',
      subdomain: 'lab',
      dnsConfig: undefined,
      volumes: [],
      source: at(52, 1),
    });
    const web = spec.pods[1]!;
    expect(web.labels).toEqual({ app: 'web', tier: 'front' });
    expect(web.restartPolicy).toBe('Always');
    expect(web.dnsPolicy).toBe('ClusterFirst');
    expect(web.containers.map((c) => c.name)).toEqual(['server', 'sidecar']);
    expect(web.containers[0]).toMatchObject({
      command: ['python3', '-m', 'http.server', '8080'],
      args: undefined,
      ports: [
        { containerPort: 8080, protocol: 'TCP', name: 'http' },
        { containerPort: 9000, protocol: 'UDP', name: undefined },
      ],
      readinessProbe: {
        action: { kind: 'httpGet', path: '/', port: 8080, httpHeaders: [] },
        initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3,
      },
      source: at(85, 7),
    });
    expect(web.containers[1]).toMatchObject({ command: undefined, args: ['sleep', '3600'], source: at(94, 7) });
  });

  it('reads the steps, each with its text, position, wait and stdin', () => {
    expect(spec.steps.map((s) => [s.index, s.kind, s.source.line, s.source.column, s.waitNs])).toEqual([
      [0, 'exec', 101, 5, 0],
      [1, 'exec', 102, 10, 5e8],
      [2, 'apply', 106, 10, 0],
      [3, 'sleep', 121, 5, 0],
      [4, 'run', 122, 5, 0],
      [5, 'delete-pod', 123, 5, 0],
      [6, 'run', 124, 10, 90e9],
      [7, 'kubectl-view', 126, 5, 0],
    ]);
    expect(spec.steps[0]).toEqual({
      index: 0,
      kind: 'exec',
      text: 'kubectl exec pa -- ping -c 2 10.244.0.2',
      source: at(101, 5),
      path: 'steps[0]',
      waitNs: 0,
      expectExit: undefined,
      stdin: undefined,
      namespace: 'default',
      pod: 'pa',
      container: undefined,
      argv: ['ping', '-c', '2', '10.244.0.2'],
      interactive: false,
      tty: false,
    } satisfies ExecStep);
    expect(spec.steps[1]).toMatchObject({ namespace: 'apps', pod: 'web', container: 'sidecar', argv: ['cat'], stdin: 'hello\n', expectExit: 0, interactive: true });
    expect(spec.steps[3]).toMatchObject({ kind: 'sleep', durationNs: 1e9 });
    expect(spec.steps[5]).toMatchObject({ kind: 'delete-pod', namespace: 'default', pods: ['pa'], gracePeriodSeconds: 1 });
    expect(spec.steps[7]).toMatchObject({ kind: 'kubectl-view', argv: ['get', 'pods', '-o', 'wide'] });
  });

  it('reads the Pods of kubectl apply -f - with positions inside the stdin text', () => {
    const apply = spec.steps[2] as ApplyStep;
    expect(apply.stdin).toContain('name: pc');
    expect(apply.pods.map((p) => [p.namespace, p.name, p.nodeName, p.source.line, p.source.column])).toEqual([
      ['default', 'pc', 'n2', 108, 7],
      ['apps', 'pd', 'n1', 115, 7],
    ]);
    expect(apply.pods[0]!.containers[0]).toMatchObject({ name: 'c', command: ['sleep', '60'], source: at(113, 23) });
  });

  it('builds the Pods of kubectl run as kubectl does, placed by --overrides or on the least busy node', () => {
    const tmp = spec.steps[4] as RunStep;
    expect(tmp).toMatchObject({ attach: true, rm: true });
    expect(tmp.pod).toEqual({
      name: 'tmp',
      namespace: 'default',
      labels: { run: 'tmp' },
      annotations: {},
      nodeName: 'n2',
      containers: [
        {
          name: 'tmp',
          image: 'busybox:1.36',
          command: undefined,
          args: ['wget', '-qO-', 'http://10.244.0.2:8080/'],
          workingDir: undefined,
          volumeMounts: [],
          ports: [],
          env: [],
          readinessProbe: undefined,
          livenessProbe: undefined,
          startupProbe: undefined,
          source: at(122, 17),
        },
      ],
      restartPolicy: 'Never',
      dnsPolicy: 'ClusterFirst',
      hostname: undefined,
      subdomain: undefined,
      dnsConfig: undefined,
      volumes: [],
      source: at(122, 17),
    });
    // After pa is deleted: n1 runs pd, n2 runs web and pc, so the new pa goes to n1.
    const pa = (spec.steps[6] as RunStep).pod;
    expect(pa).toMatchObject({ name: 'pa', nodeName: 'n1', restartPolicy: 'Always', source: at(124, 22) });
    expect(pa.containers[0]).toMatchObject({ image: 'nginx:1.27', args: undefined, ports: [{ containerPort: 80, protocol: 'TCP', name: undefined }] });
  });
});

describe('the bundled walkthrough', () => {
  it('scenarios/same-node-ping.yaml loads: one node, pa and pb on it, pa pings pb', () => {
    const spec = loadScenarioFile('scenarios/same-node-ping.yaml');
    expect(spec.nodes.map((n) => [n.name, n.internalIP.text, n.podCIDR.text])).toEqual([['n1', '192.168.1.10', '10.244.1.0/24']]);
    expect(spec.pods.map((p) => [p.name, p.nodeName, p.containers[0]!.command])).toEqual([
      ['pa', 'n1', ['sleep', '3600']],
      ['pb', 'n1', ['sleep', '3600']],
    ]);
    expect(spec.cluster.cni.isDefault).toBe(true);
    expect(spec.nodes[0]!.cni).toMatchObject({ type: 'bridge', bridge: 'cni0', isGateway: true, hairpinMode: true });
    expect(JSON.parse(spec.nodes[0]!.cniConfigJson)).toEqual({
      cniVersion: '1.0.0',
      name: 'cbr0',
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      hairpinMode: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] },
    });
    expect(spec.steps).toMatchObject([{ kind: 'exec', pod: 'pa', argv: ['ping', '-c', '2', '10.244.1.3'] }]);
  });
});

// ─── Bad scenarios ──────────────────────────────────────────────────────────────────────────

/** Cluster and node n1 (lines 1–10); cases append documents from line 11. */
const BASE = `apiVersion: podwire.dev/v1alpha1
kind: Cluster
spec:
  nodeNetwork: 192.168.1.0/24
---
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 192.168.1.10}]}
---
`;

/** A pod on n1 whose spec ends with `extra` (indented 2); `name` starts line `line`. */
const pod = (name: string, extra = '', node = 'n1') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  nodeName: ${node}
  containers: [{name: c, image: busybox}]
${extra}`;

const cluster = (spec: string) => `apiVersion: podwire.dev/v1alpha1
kind: Cluster
spec:
${spec}`;

const node = (name: string, address: string, extra = '') => `apiVersion: v1
kind: Node
metadata: {name: ${name}}
status: {addresses: [{type: InternalIP, address: ${address}}]}
${extra}`;

const traffic = (steps: string) => `${BASE}${pod('pa')}---
${pod('pb')}---
apiVersion: podwire.dev/v1alpha1
kind: Traffic
steps:
${steps}`;
// In traffic(): pa is lines 11–16, pb 18–23, Traffic 25–27, the steps from line 28.

describe('a bad scenario is one line: FILE:LINE:COL: PATH: WHAT', () => {
  it.each<[string, string, string]>([
    // YAML itself
    ['a duplicate key', `${BASE}${pod('pa')}metadata: {name: x}\n`, 'x.yaml:17:1: YAML syntax: Map keys must be unique'],
    ['a tab in the indentation', 'kind: Cluster\nspec:\n\tnodeNetwork: 1\n', 'x.yaml:3:1: YAML syntax: Tabs are not allowed as indentation'],
    ['an unclosed flow mapping', `${BASE}metadata: {name: x\n`, 'x.yaml:12:1: YAML syntax: Flow map in block collection must be sufficiently indented and end with a }'],
    ['a document that is a list', `${BASE}- a\n- b\n`, 'x.yaml:11:1: documents[2]: a document must be a mapping (apiVersion, kind, metadata, …), not a list'],
    ['a document without kind', `${BASE}apiVersion: v1\nmetadata: {name: x}\n`, 'x.yaml:11:1: documents[2].kind: kind is required (one of Cluster, Host, Traffic, Node, Pod, ConfigMap, Service)'],
    ['a host outside the node network', `${BASE}apiVersion: podwire.dev/v1alpha1\nkind: Host\nmetadata: {name: ext}\nspec: {address: 10.0.0.1}\n`, 'x.yaml:14:17: hosts[ext].spec.address: 10.0.0.1 is not inside nodeNetwork 192.168.1.0/24'],
    ['a host on a node\'s address', `${BASE}apiVersion: podwire.dev/v1alpha1\nkind: Host\nmetadata: {name: ext}\nspec: {address: 192.168.1.10}\n`, 'x.yaml:14:17: hosts[ext].spec.address: 192.168.1.10 is already node n1\'s address'],
    ['a host file path that is not absolute', `${BASE}apiVersion: podwire.dev/v1alpha1\nkind: Host\nmetadata: {name: ext}\nspec: {address: 192.168.1.100, files: {srv/index.html: x}}\n`, 'x.yaml:14:40: hosts[ext].spec.files.srv/index.html: must be an absolute file path'],
    ['a gateway outside the node network', cluster('  nodeNetwork: 192.168.1.0/24\n  gateway: 10.0.0.1\n'), 'x.yaml:5:12: cluster.spec.gateway: 10.0.0.1 is not inside nodeNetwork 192.168.1.0/24'],
    ['four nameservers', cluster('  nodeNetwork: 192.168.1.0/24\n  nameservers: [192.168.1.2, 192.168.1.3, 192.168.1.4, 192.168.1.5]\n'), 'x.yaml:5:56: cluster.spec.nameservers[3]: at most 3 nameservers (glibc MAXNS)'],
    ['a host without an address', `${BASE}apiVersion: podwire.dev/v1alpha1\nkind: Host\nmetadata: {name: ext}\nspec: {}\n`, 'x.yaml:14:7: hosts[ext].spec.address: is required (an address on the node network)'],
    ['a kind of a later issue', `${BASE}apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n`, 'x.yaml:12:7: documents[2].kind: kind Deployment is not supported yet'],
    ['a Pod with the wrong apiVersion', `${BASE}apiVersion: apps/v1\nkind: Pod\n`, 'x.yaml:11:13: documents[2].apiVersion: apiVersion apps/v1 is not known for kind Pod (use v1)'],
    ['no Cluster', node('n1', '192.168.1.10'), 'x.yaml: cluster: a scenario needs a Cluster document (apiVersion: podwire.dev/v1alpha1, kind: Cluster)'],
    ['two Clusters', `${BASE}${cluster('  nodeNetwork: 192.168.2.0/24\n')}`, 'x.yaml:12:7: cluster: a second Cluster document (the first is at line 2)'],
    // Cluster
    ['no nodeNetwork', cluster('  podCIDR: 10.244.0.0/16\n'), 'x.yaml:4:3: cluster.spec.nodeNetwork: is required (the node network, e.g. 192.168.1.0/24)'],
    ['a nodeNetwork without a length', cluster('  nodeNetwork: 192.168.1.0\n'), 'x.yaml:4:16: cluster.spec.nodeNetwork: not a CIDR (a.b.c.d/len): "192.168.1.0"'],
    ['host bits in podCIDR', cluster('  nodeNetwork: 192.168.1.0/24\n  podCIDR: 10.244.1.5/16\n'), 'x.yaml:5:12: cluster.spec.podCIDR: 10.244.1.5/16 has host bits set (the network is 10.244.0.0/16)'],
    ['a misspelt field', cluster('  nodeNetwork: 192.168.1.0/24\n  podCidr: 10.244.0.0/16\n'), 'x.yaml:5:3: cluster.spec.podCidr: unknown field (did you mean podCIDR?)'],
    ['an unknown overlay', cluster('  nodeNetwork: 192.168.1.0/24\n  overlay: calico\n'), 'x.yaml:5:12: cluster.spec.overlay: "calico" is not one of none, flannel-vxlan, flannel-host-gw'],
    ['an MTU too small', cluster('  nodeNetwork: 192.168.1.0/24\n  mtu: 60\n'), 'x.yaml:5:8: cluster.spec.mtu: 60 is out of range (68..65535)'],
    ['an MTU as a string', cluster('  nodeNetwork: 192.168.1.0/24\n  mtu: "1500"\n'), 'x.yaml:5:8: cluster.spec.mtu: must be a whole number, not the string "1500"'],
    ['node subnets wider than podCIDR', cluster('  nodeNetwork: 192.168.1.0/24\n  podCIDR: 10.244.0.0/16\n  nodeSubnetPrefix: 12\n'), 'x.yaml:6:21: cluster.spec.nodeSubnetPrefix: /12 node subnets do not fit in podCIDR 10.244.0.0/16 (use a prefix of 16..30)'],
    // CNI config
    ['a CNI plugin other than bridge', cluster('  nodeNetwork: 192.168.1.0/24\n  cni:\n    config: {cniVersion: 1.0.0, name: x, type: macvlan}\n'), 'x.yaml:6:48: cluster.spec.cni.config.type: plugin type "macvlan" is not supported yet (only "bridge")'],
    ['an unknown CNI version', cluster('  nodeNetwork: 192.168.1.0/24\n  cni:\n    config: {cniVersion: 0.9.0, name: x, type: bridge}\n'), 'x.yaml:6:26: cluster.spec.cni.config.cniVersion: incompatible CNI versions; config is "0.9.0", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0" "1.1.0"]'],
    [
      'an IPAM plugin other than host-local, inside a JSON string',
      cluster('  nodeNetwork: 192.168.1.0/24\n  cni:\n    config: |\n      {"cniVersion": "1.0.0", "name": "x", "type": "bridge",\n       "ipam": {"type": "dhcp"}}\n'),
      'x.yaml:8:25: cluster.spec.cni.config.ipam.type: IPAM plugin "dhcp" is not supported yet (only "host-local")',
    ],
    [
      'a CNI config that is not JSON',
      cluster('  nodeNetwork: 192.168.1.0/24\n  cni:\n    config: |\n      {"cniVersion": "1.0.0",\n       "name": x}\n'),
      'x.yaml:8:16: cluster.spec.cni.config: not valid JSON: expected a value (a "string", number, true, false, null, {…} or […]), found "x"',
    ],
    [
      'a CNI subnet that is not each node\'s',
      `${cluster('  nodeNetwork: 192.168.1.0/24\n  cni:\n    config: {cniVersion: 1.0.0, name: x, type: bridge, ipam: {type: host-local, ranges: [[{subnet: 10.244.0.0/24}]]}}\n')}---\n${node('n1', '192.168.1.10')}---\n${node('n2', '192.168.1.11')}`,
      'x.yaml:6:100: cluster.spec.cni.config.ipam.ranges[0][0].subnet: 10.244.0.0/24 is not inside node n2\'s podCIDR 10.244.1.0/24 (write "usePodCidr" to take each node\'s podCIDR)',
    ],
    // Ranges
    ['podCIDR overlapping serviceCIDR', cluster('  nodeNetwork: 192.168.1.0/24\n  podCIDR: 10.244.0.0/16\n  serviceCIDR: 10.240.0.0/12\n'), 'x.yaml:6:16: cluster.spec: podCIDR 10.244.0.0/16 overlaps serviceCIDR 10.240.0.0/12'],
    ['serviceCIDR written first', cluster('  serviceCIDR: 10.240.0.0/12\n  nodeNetwork: 192.168.1.0/24\n  podCIDR: 10.244.0.0/16\n'), 'x.yaml:6:12: cluster.spec: podCIDR 10.244.0.0/16 overlaps serviceCIDR 10.240.0.0/12'],
    ['nodeNetwork inside the default podCIDR', cluster('  nodeNetwork: 10.244.0.0/24\n'), 'x.yaml:4:16: cluster.spec: nodeNetwork 10.244.0.0/24 overlaps podCIDR 10.244.0.0/16 (the default)'],
    ['serviceCIDR around nodeNetwork', cluster('  nodeNetwork: 10.100.0.0/24\n  serviceCIDR: 10.64.0.0/10\n'), 'x.yaml:5:16: cluster.spec: nodeNetwork 10.100.0.0/24 overlaps serviceCIDR 10.64.0.0/10'],
    // Nodes
    ['a node outside nodeNetwork', `${BASE}${node('n2', '192.168.2.11')}`, 'x.yaml:14:50: nodes[n2].status.addresses[0].address: 192.168.2.11 is not inside nodeNetwork 192.168.1.0/24'],
    ['a node on the broadcast address', `${BASE}${node('n2', '192.168.1.255')}`, 'x.yaml:14:50: nodes[n2].status.addresses[0].address: 192.168.1.255 is the broadcast address of nodeNetwork 192.168.1.0/24'],
    ['two nodes with one address', `${BASE}${node('n2', '192.168.1.10')}`, "x.yaml:14:50: nodes[n2].status.addresses[0].address: 192.168.1.10 is already node n1's address"],
    ['a node defined twice', `${BASE}${node('n1', '192.168.1.11')}`, 'x.yaml:13:18: nodes[n1].metadata.name: node "n1" is defined twice (first at line 8)'],
    ['a node without InternalIP', `${BASE}apiVersion: v1\nkind: Node\nmetadata: {name: n2}\nstatus: {addresses: [{type: Hostname, address: n2}]}\n`, 'x.yaml:14:10: nodes[n2].status.addresses: an InternalIP is required: status: {addresses: [{type: InternalIP, address: …}]}'],
    ['a node without status', `${BASE}apiVersion: v1\nkind: Node\nmetadata: {name: n2}\n`, 'x.yaml:11:1: nodes[n2]: an InternalIP is required: status: {addresses: [{type: InternalIP, address: …}]}'],
    ['a node podCIDR outside podCIDR', `${BASE}${node('n2', '192.168.1.11', 'spec: {podCIDR: 10.245.2.0/24}\n')}`, 'x.yaml:15:17: nodes[n2].spec.podCIDR: 10.245.2.0/24 is not inside the cluster podCIDR 10.244.0.0/16'],
    [
      'overlapping node podCIDRs',
      `${BASE}${node('n2', '192.168.1.11', 'spec: {podCIDR: 10.244.0.0/23}\n')}---\n${node('n3', '192.168.1.12', 'spec: {podCIDR: 10.244.1.0/24}\n')}`,
      "x.yaml:21:17: nodes[n3].spec.podCIDR: 10.244.1.0/24 overlaps node n2's podCIDR 10.244.0.0/23",
    ],
    ['an uppercase node name', `${BASE}${node('N2', '192.168.1.11')}`, 'x.yaml:13:18: documents[2].metadata.name: "N2" is not a lowercase RFC 1123 subdomain (labels of a-z, 0-9 and \'-\' separated by \'.\')'],
    // Pods
    ['a pod on a node that does not exist', `${BASE}${pod('pb', '', 'n3')}`, 'x.yaml:15:13: pods[pb].spec.nodeName: node "n3" does not exist (nodes: n1)'],
    ['a pod without nodeName', `${BASE}apiVersion: v1\nkind: Pod\nmetadata: {name: pb}\nspec:\n  containers: [{name: c, image: busybox}]\n`, 'x.yaml:15:3: pods[pb].spec.nodeName: is required: podwire has no scheduler, so a Pod names the node it runs on'],
    ['a pod name with a dot', `${BASE}${pod('p.b')}`, 'x.yaml:13:18: documents[2].metadata.name: "p.b" is not a lowercase RFC 1123 label (a-z, 0-9 and \'-\', starting and ending with a letter or digit)'],
    ['a pod defined twice', `${BASE}${pod('pa')}---\n${pod('pa')}`, 'x.yaml:20:18: pods[pa].metadata.name: pod "pa" in namespace "default" is defined twice (first at line 13)'],
    ['no containers', `${BASE}${pod('pa').replace('[{name: c, image: busybox}]', '[]')}`, 'x.yaml:16:15: pods[pa].spec.containers: at least one container is required'],
    ['two containers with one name', `${BASE}${pod('pa', '  - {name: c, image: nginx}\n').replace('  containers: [{name: c, image: busybox}]', '  containers:\n  - {name: c, image: busybox}')}`, 'x.yaml:18:12: pods[pa].spec.containers[1].name: container name "c" is also containers[0]\'s'],
    ['a container without image', `${BASE}${pod('pa').replace(', image: busybox', '')}`, 'x.yaml:16:16: pods[pa].spec.containers[0].image: is required (the container image, e.g. busybox:1.36)'],
    ['a numeric arg', `${BASE}${pod('pa', '').replace('image: busybox}', 'image: busybox, args: [sleep, 3600]}')}`, 'x.yaml:16:56: pods[pa].spec.containers[0].args[1]: must be a string, not the number 3600 (quote it: "3600")'],
    ['a port out of range', `${BASE}${pod('pa').replace('image: busybox}', 'image: busybox, ports: [{containerPort: 70000}]}')}`, 'x.yaml:16:66: pods[pa].spec.containers[0].ports[0].containerPort: 70000 is out of range (1..65535)'],
    ['a hostPort', `${BASE}${pod('pa').replace('image: busybox}', 'image: busybox, ports: [{containerPort: 80, hostPort: 80}]}')}`, 'x.yaml:16:70: pods[pa].spec.containers[0].ports[0].hostPort: hostPort is not supported yet'],
    ['hostNetwork', `${BASE}${pod('pa', '  hostNetwork: true\n')}`, 'x.yaml:17:3: pods[pa].spec.hostNetwork: hostNetwork is not supported yet'],
    ['a misspelt container field', `${BASE}${pod('pa').replace('image: busybox', 'imagee: busybox')}`, 'x.yaml:16:26: pods[pa].spec.containers[0].imagee: unknown field (did you mean image?)'],
    ['a bad label value', `${BASE}apiVersion: v1\nkind: Pod\nmetadata: {name: pa, labels: {app: "web server"}}\n`, 'x.yaml:13:36: pods[pa].metadata.labels.app: value "web server" is not a valid label value (up to 63 of A-Z a-z 0-9 - _ ., starting and ending alphanumeric)'],
    ['a pod in another namespace on a missing node', `${BASE}${pod('pb', '', 'n9').replace('{name: pb}', '{name: pb, namespace: web}')}`, 'x.yaml:15:13: pods[web/pb].spec.nodeName: node "n9" does not exist (nodes: n1)'],
    // Steps
    ['a pipe in a step', traffic('  - kubectl exec pa -- ping -c 1 10.244.0.3 | head -1\n'), 'x.yaml:28:45: steps[0]: "|" (a pipe) is not supported: a step is one command'],
    ['a step that is not a command', traffic('  - ping 10.244.0.3\n'), 'x.yaml:28:5: steps[0]: "ping": a step is a kubectl, ssh, podwire or sleep command (to run a program in a pod: kubectl exec POD -- ping …; on a host: ssh HOST -- ping …)'],
    ['exec in a pod that does not exist', traffic('  - kubectl exec pc -- ls\n'), 'x.yaml:28:18: steps[0]: pod "pc" does not exist in namespace "default" at this step'],
    ['exec in a pod deleted by an earlier step', traffic('  - kubectl delete pod pb\n  - kubectl exec -n default pb -- ls\n'), 'x.yaml:29:29: steps[1]: pod "pb" does not exist in namespace "default" at this step'],
    ['exec in a container that does not exist', traffic('  - kubectl exec pa -c web -- ls\n'), 'x.yaml:28:21: steps[0]: container "web" is not in pod pa (containers: c)'],
    ['a quoted step with an error', traffic('  - "kubectl exec pa -- echo \'unterminated"\n'), 'x.yaml:28:30: steps[0]: unterminated single quote'],
    ['a wait without unit', traffic('  - run: sleep 1\n    at: 2\n'), 'x.yaml:29:9: steps[0].at: a duration needs a unit (e.g. 2s or 500ms)'],
    ['stdin for a command that does not read it', traffic('  - run: kubectl exec pa -- cat\n    stdin: hello\n'), 'x.yaml:29:12: steps[0].stdin: the command does not read stdin (kubectl apply -f -, kubectl exec -i, kubectl run -i and ssh do)'],
    ['kubectl apply without stdin', traffic('  - kubectl apply -f -\n'), 'x.yaml:28:5: steps[0]: kubectl apply -f - reads the manifest from stdin: give it as stdin: | under run:'],
    ['an unknown step field', traffic('  - run: sleep 1\n    expect: 0\n'), 'x.yaml:29:5: steps[0].expect: unknown field (did you mean expectExit?)'],
    ['a step read as a mapping', traffic('  - kubectl exec pa -- echo a: b\n'), 'x.yaml:28:5: steps[0]: this command was read as a mapping because of ": " in it; quote the whole command line'],
    ['a step that is a number', traffic('  - 5\n'), 'x.yaml:28:5: steps[0]: a step is a command line or a mapping with run:, not the number 5'],
    ['kubectl run of an existing pod', traffic('  - kubectl run pa --image=busybox -- sleep 1\n'), 'x.yaml:28:17: steps[0]: pod "pa" already exists in namespace "default" (pods are immutable: delete it in an earlier step)'],
    ['kubectl run on a node that does not exist', traffic(`  - kubectl run pc --image=busybox --overrides='{"spec":{"nodeName":"n7"}}'\n`), 'x.yaml:28:36: steps[0]: kubectl run: node "n7" does not exist (nodes: n1)'],
    ['kubectl run with an uppercase name', traffic('  - kubectl run Pc --image=busybox\n'), 'x.yaml:28:17: steps[0]: kubectl run: pod name "Pc" is not a lowercase RFC 1123 label (a-z, 0-9 and \'-\', starting and ending with a letter or digit)'],
    ['a second Traffic document', `${traffic('  - sleep 1\n')}---\napiVersion: podwire.dev/v1alpha1\nkind: Traffic\nsteps: []\n`, 'x.yaml:31:7: documents[5].kind: a second Traffic document (the first is at line 26); put all steps in one list'],
  ])('%s', (_name, text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  it('ScenarioError keeps the parts of the message', () => {
    try {
      loadScenarioText(`${BASE}${pod('pb', '', 'n3')}`, 'scenarios/x.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioError);
      expect(e).toMatchObject({ file: 'scenarios/x.yaml', line: 15, column: 13, path: 'pods[pb].spec.nodeName', reason: 'node "n3" does not exist (nodes: n1)' });
      expect(String(e)).toBe('scenarios/x.yaml:15:13: pods[pb].spec.nodeName: node "n3" does not exist (nodes: n1)');
      expect((e as ScenarioError).pos).toEqual({ file: 'scenarios/x.yaml', line: 15, column: 13 });
      return;
    }
    throw new Error('no error');
  });
});

describe('CNI configs', () => {
  const withConfig = (config: string, nodes = node('n1', '192.168.1.10')) =>
    `${cluster(`  nodeNetwork: 192.168.1.0/24\n  cni:\n    config:\n${config.replace(/^/gm, '      ')}\n`)}---\n${nodes}`;
  // The config mapping starts on line 7.

  it("host-local's legacy single range (ipam.subnet) with a range, a gateway and routes", () => {
    const spec = loadScenarioText(
      withConfig(`cniVersion: 0.4.0
name: mynet
type: bridge
bridge: br-pods
ipMasq: true
ipam:
  type: host-local
  subnet: 10.244.0.0/24
  rangeStart: 10.244.0.10
  rangeEnd: 10.244.0.99
  gateway: 10.244.0.254
  dataDir: /run/ipam
  routes: [{dst: 0.0.0.0/0, gw: 10.244.0.254}]`, node('n1', '192.168.1.10', 'spec: {podCIDR: 10.244.0.0/24}\n')),
      'x.yaml',
    );
    expect(spec.nodes[0]!.cni).toEqual({
      cniVersion: '0.4.0',
      name: 'mynet',
      type: 'bridge',
      bridge: 'br-pods',
      isGateway: false,
      isDefaultGateway: false,
      forceAddress: false,
      ipMasq: true,
      hairpinMode: false,
      promiscMode: false,
      mtu: 0,
      vlan: 0,
      preserveDefaultVlan: true,
      dns: {},
      ipam: {
        kind: 'host-local',
        name: 'mynet',
        cniVersion: '0.4.0',
        ranges: [[{ subnet: { ip: 0x0af40000, prefixLen: 24 }, rangeStart: ip('10.244.0.10').addr, rangeEnd: ip('10.244.0.99').addr, gateway: ip('10.244.0.254').addr }]],
        routes: [{ dst: '0.0.0.0/0', gw: '10.244.0.254' }],
        dataDir: '/run/ipam',
        resolvConf: '',
        requestedIps: [],
      },
    });
    expect(JSON.parse(spec.nodes[0]!.cniConfigJson)).toMatchObject({ ipam: { subnet: '10.244.0.0/24', rangeStart: '10.244.0.10' } });
  });

  it.each([
    ['a rangeStart outside the node subnet', 'cniVersion: 1.0.0\nname: x\ntype: bridge\nipam: {type: host-local, ranges: [[{subnet: usePodCidr, rangeStart: 10.244.9.10}]]}', "x.yaml:10:75: cluster.spec.cni.config.ipam.ranges[0][0].rangeStart: invalid range set 0: RangeStart 10.244.9.10 not in network 10.244.0.0/24 (with usePodCidr as node n1's podCIDR 10.244.0.0/24)"],
    ['two range sets', 'cniVersion: 1.0.0\nname: x\ntype: bridge\nipam: {type: host-local, ranges: [[{subnet: usePodCidr}], [{subnet: usePodCidr}]]}', 'x.yaml:10:65: cluster.spec.cni.config.ipam.ranges[1]: a second range set (a second address per pod) is not supported yet'],
    ['no ranges', 'cniVersion: 1.0.0\nname: x\ntype: bridge\nipam: {type: host-local}', 'x.yaml:10:13: cluster.spec.cni.config.ipam.ranges: is required: ranges: [[{"subnet": "usePodCidr"}]] takes each node\'s podCIDR'],
    ['a plugin list', 'cniVersion: 1.0.0\nname: x\nplugins: [{type: bridge}]', 'x.yaml:9:16: cluster.spec.cni.config.plugins: a plugin list (.conflist) is not supported yet: give the bridge plugin\'s own config (10-bridge.conf)'],
    ['a VLAN', 'cniVersion: 1.0.0\nname: x\ntype: bridge\nvlan: 100\nipam: {type: host-local, ranges: [[{subnet: usePodCidr}]]}', 'x.yaml:10:7: cluster.spec.cni.config.vlan: a VLAN on the bridge is not supported yet'],
    ['a bridge name too long', 'cniVersion: 1.0.0\nname: x\ntype: bridge\nbridge: a-very-long-bridge\nipam: {type: host-local, ranges: [[{subnet: usePodCidr}]]}', 'x.yaml:10:15: cluster.spec.cni.config.bridge: "a-very-long-bridge" is not a Linux interface name (1-15 characters, no \'/\', \':\' or blanks)'],
    ['a route that is not a CIDR', 'cniVersion: 1.0.0\nname: x\ntype: bridge\nipam: {type: host-local, ranges: [[{subnet: usePodCidr}]], routes: [{dst: default}]}', 'x.yaml:10:81: cluster.spec.cni.config.ipam.routes[0].dst: invalid CIDR address: default'],
  ])('%s', (_name, config, message) => {
    expect(errorOf(withConfig(config))).toBe(message);
  });
});

describe('kubectl apply -f - manifests point into the file', () => {
  const applying = (stdin: string, flags = '') =>
    traffic(`  - run: kubectl apply ${flags}-f -\n    stdin: |\n${stdin.replace(/^/gm, '      ')}\n`);
  // The stdin text starts on line 30.

  it('names the line and column of a bad field inside the inline manifest', () => {
    expect(errorOf(applying(pod('pc', '', 'n5')))).toBe('x.yaml:34:19: steps[0].pods[pc].spec.nodeName: node "n5" does not exist (nodes: n1)');
  });

  it('in the second document of the manifest too', () => {
    expect(errorOf(applying(`${pod('pc')}---\n${pod('pd').replace('image: busybox', 'image: 7')}`))).toBe(
      'x.yaml:42:39: steps[0].pods[pd].spec.containers[0].image: must be a string, not the number 7 (quote it: "7")',
    );
  });

  it('YAML syntax errors inside the manifest', () => {
    expect(errorOf(applying('apiVersion: v1\nkind: Pod\nmetadata: {name: pc\n'))).toBe('x.yaml:32:7: steps[0].stdin: YAML syntax: Flow map in block collection must be sufficiently indented and end with a }');
  });

  it('refuses kinds that cannot be applied, and an object applied twice', () => {
    expect(errorOf(applying(node('n2', '192.168.1.11')))).toBe('x.yaml:31:13: steps[0].stdin.documents[0].kind: kind Node is not supported in a step (only Pods can be applied)');
    expect(errorOf(applying(pod('pa')))).toBe('x.yaml:32:24: steps[0]: pod "pa" already exists in namespace "default" (pods are immutable: delete it in an earlier step)');
    expect(errorOf(applying(''))).toBe('x.yaml:28:10: steps[0]: kubectl apply: no objects passed to apply');
  });

  it('checks -n against the manifest\'s namespace, as kubectl does', () => {
    expect(errorOf(applying(pod('pc').replace('{name: pc}', '{name: pc, namespace: a}'), '-n b '))).toBe(
      'x.yaml:28:24: steps[0]: the namespace from the provided object "a" does not match the namespace "b"',
    );
    const spec = loadScenarioText(applying(pod('pc'), '-n b '), 'x.yaml');
    expect((spec.steps[0] as ApplyStep).pods[0]).toMatchObject({ name: 'pc', namespace: 'b' });
  });
});

describe('node subnets', () => {
  it('are allocated lowest-first around the ones nodes already have, and run out with a message', () => {
    const text = `${cluster('  nodeNetwork: 192.168.1.0/24\n  podCIDR: 10.244.0.0/22\n')}---\n${node('n1', '192.168.1.10')}---\n${node('n2', '192.168.1.11', 'spec: {podCIDR: 10.244.0.0/23}\n')}---\n${node('n3', '192.168.1.12')}`;
    expect(loadScenarioText(text, 'x.yaml').nodes.map((n) => n.podCIDR.text)).toEqual(['10.244.2.0/24', '10.244.0.0/23', '10.244.3.0/24']);
    expect(errorOf(`${text}---\n${node('n4', '192.168.1.13')}`)).toBe('x.yaml:25:18: nodes[n4].spec.podCIDR: no free /24 left in podCIDR 10.244.0.0/22 for node n4');
  });
});

describe('files', () => {
  it('a missing file is a ScenarioError without a line', () => {
    const e = (() => {
      try {
        loadScenarioFile('test/scenario/fixtures/no-such-file.yaml');
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ScenarioError);
    expect(e).toMatchObject({ file: 'test/scenario/fixtures/no-such-file.yaml', line: undefined, column: undefined });
    expect(String(e)).toBe('test/scenario/fixtures/no-such-file.yaml: cannot read the scenario: no such file');
  });

  it('a fixture with a YAML error names its file, line and column', () => {
    expect(() => loadScenarioFile('test/scenario/fixtures/bad-indent.yaml')).toThrow(
      'test/scenario/fixtures/bad-indent.yaml:10:1: YAML syntax: All mapping items must start at the same column',
    );
  });

  it('a fixture with an unknown kind names the kind\'s line', () => {
    expect(() => loadScenarioFile('test/scenario/fixtures/unknown-kind.yaml')).toThrow(
      'test/scenario/fixtures/unknown-kind.yaml:13:7: documents[2].kind: kind Secret is not supported yet',
    );
  });

  it('an empty file, and a file of comments, need a Cluster', () => {
    const dir = mkdtempSync(join(tmpdir(), 'podwire-scenario-'));
    writeFileSync(join(dir, 'empty.yaml'), '# nothing yet\n');
    expect(() => loadScenarioFile(join(dir, 'empty.yaml'))).toThrow(`${join(dir, 'empty.yaml')}: cluster: a scenario needs a Cluster document`);
    expect(() => loadScenarioText('', 'e.yaml')).toThrow('e.yaml: cluster: a scenario needs a Cluster document');
  });
});

// ─── Nothing but ScenarioError, whatever the text ───────────────────────────────────────────

function onlyScenarioErrors(text: string): void {
  try {
    loadScenarioText(text, 'f.yaml');
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    expect(e.message).not.toContain('\n');
    expect(e.message.startsWith('f.yaml')).toBe(true);
  }
}

describe('loading arbitrary text throws nothing but ScenarioError', () => {
  const valid = traffic(
    `  - kubectl exec pa -- ping -c 1 10.244.0.3\n  - run: kubectl apply -f -\n    stdin: |\n${pod('pc').replace(/^/gm, '      ')}\n  - kubectl run x --image=b -- sleep 1\n`,
  );

  it('the seed scenario loads', () => {
    expect(loadScenarioText(valid, 'f.yaml').steps).toHaveLength(3);
  });

  it('arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), onlyScenarioErrors), { numRuns: 1000 });
  });

  it('arbitrary strings made of YAML punctuation', () => {
    const piece = fc.constantFrom('-', ' ', '  ', '\n', ':', ': ', '{', '}', '[', ']', ',', '"', "'", '|', '>', '&a ', '*a', '!', '#', '---\n', '? ', 'kind', 'Pod', 'apiVersion', 'v1', 'spec', 'metadata', 'name', '\t', '%YAML 1.2\n', '<<');
    fc.assert(fc.property(fc.array(piece, { maxLength: 60 }), (ps) => onlyScenarioErrors(ps.join(''))), { numRuns: 2000 });
  });

  it('a valid scenario with one line deleted, duplicated or replaced', () => {
    const lines = valid.split('\n');
    const line = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('  nodeName: n9', '    - name: c', '  containers: 5', 'kind: Service', '  - 7', '  - {run: 1}', 'steps: {}', 'spec: null', '  podCIDR: 10.244.0.0/33', 'metadata: *x', '  labels: &x {a: b}'),
    );
    fc.assert(
      fc.property(fc.nat(lines.length - 1), fc.constantFrom('delete', 'duplicate', 'replace'), line, (i, op, replacement) => {
        const copy = [...lines];
        if (op === 'delete') copy.splice(i, 1);
        else if (op === 'duplicate') copy.splice(i, 0, copy[i]!);
        else copy[i] = replacement;
        onlyScenarioErrors(copy.join('\n'));
      }),
      { numRuns: 3000 },
    );
  });

  it('YAML documents built from arbitrary values in the scenario\'s shape', () => {
    const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.double(), fc.constantFrom('n1', 'pa', '10.244.0.0/16', 'bridge', 'host-local', 'usePodCidr'));
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ maxDepth: 4 }, scalar, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('name', 'image', 'spec', 'nodeName', 'containers', 'run', 'stdin', 'config', 'type', 'ipam', 'ranges', 'subnet', 'x'), tie('v'), { maxKeys: 4 })),
    })).v;
    const doc = fc.record({
      apiVersion: fc.constantFrom('v1', 'podwire.dev/v1alpha1', 'apps/v1'),
      kind: fc.constantFrom('Cluster', 'Node', 'Pod', 'Traffic', 'Service'),
      metadata: fc.oneof(value, fc.record({ name: fc.constantFrom('n1', 'pa', 'x') })),
      spec: value,
      status: value,
      steps: fc.array(fc.oneof(fc.constantFrom('kubectl exec pa -- ls', 'sleep 1', 'kubectl apply -f -'), value), { maxLength: 3 }),
    }, { requiredKeys: ['apiVersion', 'kind'] });
    fc.assert(
      fc.property(fc.array(doc, { maxLength: 4 }), (docs) => {
        onlyScenarioErrors(`${BASE}${docs.map((d) => stringify(d)).join('---\n')}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('anchors and aliases, including an alias loop, are errors or values, never a crash', () => {
    onlyScenarioErrors(`${BASE}${pod('pa', '  dnsConfig: &loop {options: [*loop]}\n')}`);
    expect(errorOf(`${BASE}${pod('pa', '  dnsConfig: &loop {options: [*loop]}\n')}`)).toBe('x.yaml:17:20: pods[pa].spec.dnsConfig: the value is too large or nested too deeply (an alias loop?)');
    const spec = loadScenarioText(`${BASE}${pod('pa').replace('{name: pa}', '{name: pa, labels: &l {app: web}, annotations: *l}')}`, 'x.yaml');
    expect(spec.pods[0]).toMatchObject({ labels: { app: 'web' }, annotations: { app: 'web' } });
    // Anchors belong to their document (YAML 1.2 §3.2.2.2): an alias in the next one has none.
    expect(errorOf(`${BASE}${pod('pa').replace('[{name: c', '[&c {name: c')}---\n${pod('pb').replace('[{name: c, image: busybox}]', '[*c]')}`)).toBe(
      'x.yaml:23:16: pods[pb].spec.containers[0]: alias *c has no anchor',
    );
  });

  it('deeply nested input', () => {
    onlyScenarioErrors('['.repeat(20_000));
    onlyScenarioErrors(`${BASE}${'- '.repeat(5000)}x\n`);
  });
});
