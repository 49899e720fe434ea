/**
 * The kubelet's readiness probes in a one-node cluster built by hand: real TCP from the node's
 * netns to the pod, the probe's timing (jitter, period, thresholds), and an app that stops.
 */
import { describe, expect, it } from 'vitest';
import { programFor } from '../../../src/apps/programs.js';
import { Cluster } from '../../../src/k8s/cluster.js';
import { ContainerProcess } from '../../../src/k8s/container-process.js';
import { probeRequest } from '../../../src/k8s/kubelet/probe.js';
import { formatIpv4, parseIpv4 } from '../../../src/packet/addr.js';
import { loadScenarioText } from '../../../src/scenario/load.js';
import { Random } from '../../../src/sim/random.js';
import { Scheduler } from '../../../src/sim/scheduler.js';

const SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Cluster
spec: { nodeNetwork: 192.168.1.0/24 }
---
apiVersion: v1
kind: Node
metadata: { name: n1 }
spec: { podCIDR: 10.244.1.0/24 }
status: { addresses: [{ type: InternalIP, address: 192.168.1.10 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: web, labels: { app: web } }
spec:
  nodeName: n1
  containers:
    - name: web
      image: python:3.11
      command: [python3, -m, http.server, "8080"]
      ports: [{ name: http, containerPort: 8080 }]
      readinessProbe: { httpGet: { path: /, port: http }, initialDelaySeconds: 3, periodSeconds: 5 }
    - name: side
      image: busybox
      command: [nc, -lk, "9000"]
      readinessProbe: { tcpSocket: { port: 9000 }, periodSeconds: 2, failureThreshold: 1 }
`;

function world() {
  const spec = loadScenarioText(SCENARIO, 'x.yaml');
  const sched = new Scheduler();
  const cluster = new Cluster(sched, new Random(5), 1500);
  const n = spec.nodes[0]!;
  cluster.addNode({ name: n.name, internalIp: n.internalIP.addr, podSubnet: { network: n.podCIDR.network, prefixLen: n.podCIDR.prefixLen }, nodeNetworkPrefixLen: 24, mtu: 1500, cni: n.cni });
  const registry = cluster.startServices({ serviceCidr: { network: parseIpv4('10.96.0.0'), prefixLen: 12 }, apiserverIp: n.internalIP.addr });
  const p = spec.pods[0]!;
  const pod = cluster.addPod({ name: p.name, namespace: p.namespace, nodeName: p.nodeName, uid: 'u' });
  const procs = p.containers.map((c) => {
    const proc = new ContainerProcess(pod.netns, sched);
    programFor(c.command!).start({ ns: proc.ns, sched: proc.sched, random: cluster.random, label: c.name, stdout: () => {}, stderr: () => {}, exit: () => {} });
    return proc;
  });
  cluster.podContainersStarted(pod, { labels: p.labels, containers: p.containers.map((c) => ({ name: c.name, ports: c.ports, readinessProbe: c.readinessProbe })) });
  // What crosses the node's side of the pod's veth: the probes' segments, as [time, src, dst, flags].
  const segments: string[] = [];
  const nodeNs = cluster.nodes.get('n1')!.netns;
  const tcp = nodeNs.tcp;
  const connect = tcp.connect.bind(tcp);
  tcp.connect = (remote, bind) => {
    const c = connect(remote, bind);
    segments.push(`${sched.nowNs / 1e9}s ${formatIpv4(c.local.addr)} -> ${formatIpv4(remote.addr)}:${remote.port}`);
    return c;
  };
  return { cluster, registry, pod, procs, sched, segments };
}

describe('readiness probes', () => {
  it('writes the request Go\'s client writes for the kubelet', () => {
    expect(probeRequest(parseIpv4('10.244.1.2'), 8080, '/healthz', [])).toBe(
      'GET /healthz HTTP/1.1\r\nHost: 10.244.1.2:8080\r\nUser-Agent: kube-probe/1.31\r\nAccept: */*\r\nConnection: close\r\n\r\n',
    );
    // Probe headers are sorted with Accept; a Host header replaces the address; a User-Agent the kubelet's.
    expect(probeRequest(parseIpv4('10.244.1.2'), 80, 'x', [{ name: 'x-b', value: '1' }, { name: 'host', value: 'web' }, { name: 'user-agent', value: 'me' }])).toBe(
      'GET /x HTTP/1.1\r\nHost: web\r\nUser-Agent: me\r\nAccept: */*\r\nX-B: 1\r\nConnection: close\r\n\r\n',
    );
  });

  it('probes from the node (its cni0 address) after the jitter, honouring initialDelaySeconds, then every period', () => {
    const w = world();
    const readiness = w.cluster.podReadinessState('default', 'web')!;
    expect(readiness.ready).toBe(false); // results start as Failure
    w.sched.run(30e9);
    const web = w.segments.filter((s) => s.endsWith(':8080'));
    expect(web.length).toBeGreaterThan(4);
    for (const s of web) expect(s).toContain('10.244.1.1 -> 10.244.1.2:8080');
    const times = web.map((s) => Number(s.split('s ')[0]));
    expect(times[0]).toBeGreaterThanOrEqual(3); // initialDelaySeconds
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeCloseTo(5, 6);
    expect(readiness.ready).toBe(true);
    expect(w.cluster.podReadiness(w.pod)).toEqual({ ready: 2, total: 2 });
    const slice = w.registry.endpointSlices('default', 'kubernetes');
    expect(slice.length).toBe(1);
  });

  it('takes a pod out of rotation failureThreshold periods after its app stops', () => {
    const w = world();
    w.registry.addService({
      namespace: 'default', name: 'web', labels: {}, annotations: {}, type: 'ClusterIP', selector: { app: 'web' },
      ports: [{ name: '', protocol: 'TCP', port: 80, targetPort: 'http' }], clusterIP: undefined, externalName: undefined,
      sessionAffinity: 'None', affinityTimeoutSeconds: undefined, internalTrafficPolicy: 'Cluster', publishNotReadyAddresses: false,
    });
    const changes: [number, boolean][] = [];
    w.registry.onChange(() => changes.push([w.sched.nowNs, w.registry.endpointSlices('default', 'web')[0]!.endpoints[0]!.conditions.ready]));
    w.sched.run(20e9);
    expect(changes.map((c) => c[1])).toEqual([true]);
    w.procs[0]!.stop();
    const stoppedAt = w.sched.nowNs;
    const probesBefore = w.segments.filter((s) => s.endsWith(':8080')).length;
    w.sched.run(45e9);
    const after = w.segments.filter((s) => s.endsWith(':8080')).slice(probesBefore).map((s) => Number(s.split('s ')[0]) * 1e9);
    // Three failures (failureThreshold 3) → NotReady at the third failed probe.
    expect(changes.length).toBe(2);
    const [at, ready] = changes[1]!;
    expect(ready).toBe(false);
    expect(at).toBeGreaterThanOrEqual(after[2]!);
    expect(at - after[2]!).toBeLessThan(1e6);
    expect(after[0]! - stoppedAt).toBeLessThanOrEqual(5e9);
    expect(w.cluster.podReadiness(w.pod)).toEqual({ ready: 1, total: 2 });
    // The side container's nc still answers its tcpSocket probe.
    expect(w.cluster.podReadinessState('default', 'web')!.worker('side')!.ready).toBe(true);
  });
});
