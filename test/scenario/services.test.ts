/**
 * Services in a scenario: Service documents, readiness probes over the wire, `podwire stop`, and
 * kubectl's views of Services, Endpoints and EndpointSlices, byte for byte.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile, loadScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { captureProblems, tsharkFields } from '../helpers/tshark.js';

const root = mkdtempSync(join(tmpdir(), 'podwire-services-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FIXTURE = 'test/scenario/fixtures/services-readiness.yaml';

describe('services-readiness.yaml', () => {
  const r = runScenario(loadScenarioFile(FIXTURE), { out: join(root, 'run'), seed: 1 });
  const out = (i: number) => r.steps[i]!.output;

  it('shows READY from the readiness probes (pc not probed yet one second in)', () => {
    expect(out(0)).toBe(
      [
        'NAME   READY   STATUS    RESTARTS   AGE   IP           NODE   NOMINATED NODE   READINESS GATES',
        'pa     1/1     Running   0          1s    10.244.1.2   n1     <none>           <none>',
        'pb     1/1     Running   0          1s    10.244.1.3   n1     <none>           <none>',
        'pc     0/1     Running   0          1s    10.244.2.2   n2     <none>           <none>',
        'pd     1/1     Running   0          1s    10.244.2.3   n2     <none>           <none>',
        '',
      ].join('\n'),
    );
  });

  it('prints get svc,endpoints as two tables with kind/name names', () => {
    expect(out(1)).toBe(
      [
        'NAME                 TYPE           CLUSTER-IP      EXTERNAL-IP   PORT(S)    AGE',
        'service/ext          ExternalName   <none>          example.com   <none>     21s',
        'service/fixed        ClusterIP      10.96.0.50      <none>        5432/TCP   21s',
        'service/headless     ClusterIP      None            <none>        8080/TCP   21s',
        'service/kubernetes   ClusterIP      10.96.0.1       <none>        443/TCP    21s',
        'service/web          ClusterIP      10.111.61.121   <none>        80/TCP     21s',
        '',
        'NAME                   ENDPOINTS                                         AGE',
        'endpoints/fixed        <none>                                            21s',
        'endpoints/headless     10.244.1.3:8080,10.244.2.2:8080,10.244.2.3:8080   21s',
        'endpoints/kubernetes   192.168.1.10:6443                                 21s',
        'endpoints/web          10.244.1.3:8080,10.244.2.2:8080,10.244.2.3:9090   21s',
        '',
      ].join('\n'),
    );
  });

  it('prints one slice per port mapping of the named targetPort, and a placeholder for no endpoints', () => {
    expect(out(2)).toBe(
      [
        'NAME             ADDRESSTYPE   PORTS     ENDPOINTS                          AGE',
        'fixed-rkh57      IPv4          <unset>   <unset>                            21s',
        'headless-shxws   IPv4          8080      10.244.1.3,10.244.2.2,10.244.2.3   21s',
        'kubernetes       IPv4          6443      192.168.1.10                       21s',
        'web-9qp4p        IPv4          8080      10.244.1.3,10.244.2.2              21s',
        'web-mkkqw        IPv4          9090      10.244.2.3                         21s',
        '',
      ].join('\n'),
    );
  });

  const describeWeb = (endpoints: string) =>
    [
      'Name:                     web',
      'Namespace:                default',
      'Labels:                   <none>',
      'Annotations:              <none>',
      'Selector:                 app=web',
      'Type:                     ClusterIP',
      'IP Family Policy:         SingleStack',
      'IP Families:              IPv4',
      'IP:                       10.111.61.121',
      'IPs:                      10.111.61.121',
      'Port:                     http  80/TCP',
      'TargetPort:               http/TCP',
      `Endpoints:                ${endpoints}`,
      'Session Affinity:         None',
      'Internal Traffic Policy:  Cluster',
      'Events:                   <none>',
      '',
    ].join('\n');

  it('describes a Service as kubectl 1.31 does', () => {
    expect(out(3)).toBe(describeWeb('10.244.1.3:8080,10.244.2.2:8080,10.244.2.3:9090'));
    expect(out(8)).toBe(
      [
        'Name:              ext',
        'Namespace:         default',
        'Labels:            <none>',
        'Annotations:       <none>',
        'Selector:          <none>',
        'Type:              ExternalName',
        'IP Families:       <none>',
        'IP:                ',
        'IPs:               <none>',
        'External Name:     example.com',
        'Session Affinity:  None',
        'Events:            <none>',
        '',
        '',
        'Name:                     headless',
        'Namespace:                default',
        'Labels:                   <none>',
        'Annotations:              <none>',
        'Selector:                 app=web',
        'Type:                     ClusterIP',
        'IP Family Policy:         SingleStack',
        'IP Families:              IPv4',
        'IP:                       None',
        'IPs:                      None',
        'Port:                     <unset>  8080/TCP',
        'TargetPort:               8080/TCP',
        'Endpoints:                10.244.1.3:8080,10.244.2.3:8080',
        'Session Affinity:         None',
        'Internal Traffic Policy:  Cluster',
        'Events:                   <none>',
        '',
      ].join('\n'),
    );
    expect(out(9)).toBe('Error from server (NotFound): services "nope" not found\n');
    expect(r.steps[9]!.exitCode).toBe(1);
    expect(out(10).split('\n')[0]).toBe('NAMESPACE   NAME         TYPE           CLUSTER-IP      EXTERNAL-IP   PORT(S)    AGE   SELECTOR');
  });

  it('takes pc out of the endpoints once its stopped app failed three probes', () => {
    expect(out(5)).toBe('NAME   ENDPOINTS                         AGE\nweb    10.244.1.3:8080,10.244.2.3:9090   37s\n');
    expect(out(6).split('\n')[3]).toBe('pc     0/1     Running   0          37s');
    expect(out(7)).toBe(describeWeb('10.244.1.3:8080,10.244.2.3:9090'));
  });

  it('probes with real packets from the node\'s cni0 address; a stopped app answers RST', () => {
    const cni0 = join(r.dir, 'captures/n2/cni0.pcap');
    const syns = tsharkFields(cni0, ['ip.src', 'ip.dst', 'tcp.dstport']).split('\n').filter((l) => l !== '');
    expect(syns.length).toBeGreaterThan(0);
    const requests = tsharkFields(cni0, ['frame.time_relative', 'ip.src', 'http.request.line']).split('\n').filter((l) => l.includes('kube-probe'));
    expect(requests.length).toBeGreaterThan(2);
    for (const line of requests) expect(line).toMatch(/\t10\.244\.2\.1\tHost: 10\.244\.2\.2:8080\\r\\n,User-Agent: kube-probe\/1\.31\\r\\n,Accept: \*\/\*\\r\\n,Connection: close\\r\\n$/);
    const resets = tsharkFields(cni0, ['frame.time_relative', 'ip.src', 'tcp.srcport', 'tcp.flags.reset']).split('\n').filter((l) => l.endsWith('\tTrue') || l.endsWith('\t1'));
    expect(resets.length).toBe(3);
    for (const l of resets) expect(l).toContain('\t10.244.2.2\t8080\t');
  });

  it('writes captures tshark decodes cleanly', () => {
    for (const f of ['captures/n1/cni0.pcap', 'captures/n2/cni0.pcap', 'captures/pc/eth0.pcap', 'captures/pd/eth0.pcap']) {
      expect(captureProblems(join(r.dir, f)), f).toEqual([]);
    }
  });
});

const BASE = `apiVersion: podwire.dev/v1alpha1
kind: Cluster
spec: { nodeNetwork: 192.168.1.0/24 }
---
apiVersion: v1
kind: Node
metadata: { name: n1 }
status: { addresses: [{ type: InternalIP, address: 192.168.1.10 }] }
---
`;

function errorOf(text: string): string {
  try {
    const spec = loadScenarioText(text, 'x.yaml');
    runScenario(spec, { out: join(root, `err-${Math.random().toString(36).slice(2)}`), seed: 1 });
  } catch (e) {
    if (e instanceof ScenarioError) return e.message;
    throw e;
  }
  return 'no error';
}

const service = (spec: string, name = 'web') => `${BASE}apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec: ${spec}\n`;
const probe = (p: string) =>
  `${BASE}apiVersion: v1\nkind: Pod\nmetadata: {name: pa}\nspec:\n  nodeName: n1\n  containers:\n    - name: c\n      image: busybox\n      readinessProbe: ${p}\n`;

describe('Service and probe manifests that the API would refuse', () => {
  it.each([
    ['a NodePort', service('{type: NodePort, ports: [{port: 80}]}'), 'x.yaml:13:14: services[web].spec.type: type NodePort is not supported yet (ClusterIP and ExternalName are)'],
    ['no ports', service('{selector: {app: web}}'), 'x.yaml:13:7: services[web].spec.ports: at least one port is required (a headless Service, clusterIP: None, may have none)'],
    ['two unnamed ports', service('{ports: [{port: 80}, {port: 81}]}'), 'x.yaml:13:16: services[web].spec.ports[0].name: is required when a Service has more than one port'],
    ['a duplicate port', service('{ports: [{name: a, port: 80}, {name: b, port: 80}]}'), 'x.yaml:13:53: services[web].spec.ports[1].port: duplicate port 80/TCP (also ports[0])'],
    ['a port out of range', service('{ports: [{port: 70000}]}'), 'x.yaml:13:23: services[web].spec.ports[0].port: 70000 is out of range (1..65535)'],
    ['a bad targetPort name', service('{ports: [{port: 80, targetPort: "8080"}]}'), 'x.yaml:13:39: services[web].spec.ports[0].targetPort: "8080" is not a valid port name (IANA_SVC_NAME: up to 15 of a-z, 0-9, \'-\', with a letter, no \'--\')'],
    ['a clusterIP outside the range', service('{clusterIP: 10.0.0.5, ports: [{port: 80}]}'), 'x.yaml:13:19: services[web].spec.clusterIP: failed to allocate IP 10.0.0.5: provided IP (10.0.0.5) is not in the valid range. The range of valid IPs is 10.96.0.0/12'],
    ['the kubernetes IP', service('{clusterIP: 10.96.0.1, ports: [{port: 80}]}'), 'x.yaml:13:19: services[web].spec.clusterIP: failed to allocate IP 10.96.0.1: provided IP is already allocated (kubernetes.default has it)'],
    ['a clusterIP twice', `${service('{clusterIP: 10.96.0.20, ports: [{port: 80}]}')}---\n${service('{clusterIP: 10.96.0.20, ports: [{port: 80}]}', 'db').slice(BASE.length)}`, 'x.yaml:18:19: services[db].spec.clusterIP: failed to allocate IP 10.96.0.20: provided IP is already allocated (Service web, line 12)'],
    ['a Service twice', `${service('{ports: [{port: 80}]}')}---\n${service('{ports: [{port: 80}]}').slice(BASE.length)}`, 'x.yaml:17:18: services[web].metadata.name: Service "web" in namespace "default" is defined twice (first at line 12)'],
    ['the kubernetes Service', service('{ports: [{port: 80}]}', 'kubernetes'), 'x.yaml:12:18: services[kubernetes].metadata.name: the kubernetes Service in default exists in every cluster (the apiserver creates it)'],
    ['an ExternalName without a name', service('{type: ExternalName}'), 'x.yaml:13:7: services[web].spec.externalName: is required for type ExternalName (a DNS name)'],
    ['an ExternalName with a clusterIP', service('{type: ExternalName, externalName: a.b, clusterIP: 10.96.0.9}'), 'x.yaml:13:58: services[web].spec.clusterIP: must be empty for type ExternalName'],
    ['a bad affinity', service('{sessionAffinity: Sticky, ports: [{port: 80}]}'), 'x.yaml:13:25: services[web].spec.sessionAffinity: "Sticky" is not one of None, ClientIP'],
    ['a probe without a handler', probe('{periodSeconds: 5}'), 'x.yaml:18:23: pods[pa].spec.containers[0].readinessProbe: must specify a handler type (httpGet or tcpSocket)'],
    ['a probe with two handlers', probe('{httpGet: {port: 80}, tcpSocket: {port: 80}}'), 'x.yaml:18:56: pods[pa].spec.containers[0].readinessProbe.tcpSocket: may not specify more than 1 handler type'],
    ['an exec probe', probe('{exec: {command: [true]}}'), 'x.yaml:18:30: pods[pa].spec.containers[0].readinessProbe.exec: exec probes are not supported yet (httpGet and tcpSocket are)'],
    ['a zero period', probe('{tcpSocket: {port: 80}, periodSeconds: 0}'), 'x.yaml:18:62: pods[pa].spec.containers[0].readinessProbe.periodSeconds: 0 is out of range (1..2147483647)'],
    ['an HTTPS probe', probe('{httpGet: {port: 443, scheme: HTTPS}}'), 'x.yaml:18:53: pods[pa].spec.containers[0].readinessProbe.httpGet.scheme: HTTPS probes are not supported yet (no TLS)'],
    ['a stop of a missing pod', `${BASE}apiVersion: podwire.dev/v1alpha1\nkind: Traffic\nsteps: ["podwire stop pz"]\n`, 'x.yaml:12:23: steps[0]: pod "pz" does not exist in namespace "default" at this step'],
  ])('%s', (_, text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  it('says which address kube-dns took when a Service asks for it', () => {
    const dns = `${BASE}apiVersion: v1\nkind: Pod\nmetadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}\nspec: {nodeName: n1, containers: [{name: c, image: coredns/coredns:1.11.1}]}\n---\n`;
    expect(errorOf(`${dns}${service('{clusterIP: 10.96.0.10, ports: [{port: 80}]}').slice(BASE.length)}`)).toBe(
      'x.yaml:18:19: services[web].spec.clusterIP: failed to allocate IP 10.96.0.10: provided IP is already allocated (kube-dns has the tenth address of the service CIDR)',
    );
  });
});

describe('podwire stop', () => {
  it('parses as kubectl parses its flags: -n, -c, pod/NAME', async () => {
    const { parseCommandLine } = await import('../../src/scenario/steps.js');
    expect(parseCommandLine('podwire stop -n web pod/pc -c app')).toEqual({ kind: 'stop', namespace: 'web', pod: 'pc', podOffset: 20, container: 'app', containerOffset: 27 });
    expect(parseCommandLine('podwire stop pc')).toMatchObject({ kind: 'stop', namespace: undefined, pod: 'pc', container: undefined });
    expect(() => parseCommandLine('podwire stop')).toThrow('podwire stop: a pod is required (podwire stop POD [-c CONTAINER])');
    expect(() => parseCommandLine('podwire stop pc pd')).toThrow('podwire stop: unexpected argument "pd"');
  });
});
