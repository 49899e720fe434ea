import { describe, expect, it } from 'vitest';
import { loadScenarioText } from '../../src/scenario/load.js';
import { containerView } from '../../src/scenario/container-files.js';
import { Random } from '../../src/sim/random.js';

const BASE = `apiVersion: podwire.dev/v1alpha1
kind: Cluster
spec: { nodeNetwork: 192.168.1.0/24 }
---
apiVersion: v1
kind: Node
metadata: { name: n1 }
status: { addresses: [{ type: InternalIP, address: 192.168.1.10 }] }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: web }
data:
  index.html: |
    hello
  health: ok
---
`;

const pod = (volumes: string, mounts: string) => `apiVersion: v1
kind: Pod
metadata: { name: pa }
spec:
  nodeName: n1
  volumes: ${volumes}
  containers:
    - name: web
      image: python:3.11
      workingDir: /srv
      command: [python3, -m, http.server]
      volumeMounts: ${mounts}
`;

describe('ConfigMap volumes', () => {
  it('loads ConfigMaps, volumes and mounts; the container sees the kubelet layout', () => {
    const spec = loadScenarioText(BASE + pod('[{ name: site, configMap: { name: web } }]', '[{ name: site, mountPath: /srv, readOnly: true }]'), 's.yaml');
    expect(spec.configMaps).toMatchObject([{ name: 'web', namespace: 'default', data: { 'index.html': 'hello\n', health: 'ok' } }]);
    const p = spec.pods[0]!;
    expect(p.volumes).toEqual([{ name: 'site', configMap: 'web', items: undefined }]);
    expect(p.containers[0]!.volumeMounts).toEqual([{ name: 'site', mountPath: '/srv', readOnly: true }]);
    const view = containerView(p, p.containers[0]!, spec.configMaps, new Random(1), 0);
    expect(view.cwd).toBe('/srv');
    expect(Buffer.from(view.fs.readFile('/srv/index.html')!).toString()).toBe('hello\n');
    expect(view.fs.isSymlink('/srv/health')).toBe(true);
    expect(view.fs.list('/srv')!.sort()).toEqual(expect.arrayContaining(['..data', 'health', 'index.html']));
  });

  it('items project chosen keys to chosen paths', () => {
    const spec = loadScenarioText(BASE + pod('[{ name: site, configMap: { name: web, items: [{ key: health, path: healthz }] } }]', '[{ name: site, mountPath: /srv }]'), 's.yaml');
    const p = spec.pods[0]!;
    const view = containerView(p, p.containers[0]!, spec.configMaps, new Random(1), 0);
    expect(view.fs.stat('/srv/healthz')).toBe('file');
    expect(view.fs.stat('/srv/index.html')).toBeUndefined();
  });

  it('errors point at the place: unknown ConfigMap, unknown key, unknown volume, relative mountPath', () => {
    const err = (volumes: string, mounts: string) => {
      try {
        loadScenarioText(BASE + pod(volumes, mounts), 's.yaml');
      } catch (e) {
        return String(e);
      }
      return 'no error';
    };
    expect(err('[{ name: site, configMap: { name: webb } }]', '[]')).toBe('s.yaml:23:46: pods[pa].spec.volumes[0].configMap.name: ConfigMap "webb" does not exist in namespace "default" (ConfigMaps: web)');
    expect(err('[{ name: site, configMap: { name: web, items: [{ key: nope, path: x }] } }]', '[]')).toMatch(/^s\.yaml:23:\d+: pods\[pa\]\.spec\.volumes\[0\]\.configMap\.items\[0\]\.key: key "nope" is not in ConfigMap web \(keys: index\.html, health\)$/);
    expect(err('[{ name: site, configMap: { name: web } }]', '[{ name: other, mountPath: /srv }]')).toMatch(/^s\.yaml:29:\d+: pods\[pa\]\.spec\.containers\[0\]\.volumeMounts\[0\]\.name: volume "other" is not in the pod's spec\.volumes \(volumes: site\)$/);
    expect(err('[{ name: site, configMap: { name: web } }]', '[{ name: site, mountPath: srv }]')).toMatch(/mountPath: "srv" must be an absolute path$/);
    expect(err('[{ name: site, emptyDir: {} }]', '[]')).toMatch(/emptyDir volumes are not supported yet \(only configMap\)$/);
  });
});

describe('bundled HTTP walkthroughs load (they run once TCP is merged)', () => {
  it.each(['cross-node-http', 'app-bound-to-localhost'])('scenarios/%s.yaml', async (name) => {
    const { loadScenarioFile } = await import('../../src/scenario/load.js');
    const spec = loadScenarioFile(`scenarios/${name}.yaml`);
    expect(spec.pods.map((p) => p.name)).toEqual(['checkout-api', 'payment-api']);
  });
});
