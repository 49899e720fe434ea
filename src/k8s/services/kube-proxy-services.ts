/**
 * What kube-proxy on one node builds from Services and EndpointSlices (pkg/proxy servicechangetracker
 * and endpointslicecache): one ProxyServicePort per service port, its endpoints gathered from
 * every slice of the Service by port name and protocol, with their conditions, `isLocal` when the
 * endpoint's nodeName is this node. Headless Services (clusterIP None) and ExternalName Services
 * get no rules: kube-proxy skips them (ShouldSkipService).
 */
import type { ProxyEndpoint, ProxyService, ProxyServicePort } from '../kube-proxy/model.js';
import type { ServiceRegistry } from './registry.js';

export function kubeProxyServices(registry: ServiceRegistry, nodeName: string): ProxyService[] {
  const out: ProxyService[] = [];
  for (const svc of registry.services()) {
    if (svc.type === 'ExternalName' || typeof svc.clusterIP !== 'number') continue;
    const slices = registry.endpointSlices(svc.namespace, svc.name);
    const ports: ProxyServicePort[] = svc.ports.map((sp) => {
      const endpoints: ProxyEndpoint[] = [];
      for (const slice of slices) {
        const p = slice.ports.find((x) => x.name === sp.name && x.protocol === sp.protocol);
        if (!p) continue;
        for (const ep of slice.endpoints) {
          for (const ip of ep.addresses) {
            endpoints.push({
              ip, port: p.port, ready: ep.conditions.ready, serving: ep.conditions.serving,
              terminating: ep.conditions.terminating, isLocal: ep.nodeName === nodeName,
            });
          }
        }
      }
      return { name: sp.name, protocol: sp.protocol, port: sp.port, endpoints };
    });
    out.push({
      namespace: svc.namespace,
      name: svc.name,
      clusterIP: svc.clusterIP,
      ports,
      sessionAffinity: svc.sessionAffinity,
      ...(svc.sessionAffinity === 'ClientIP' ? { affinityTimeoutSeconds: svc.affinityTimeoutSeconds ?? 10800 } : {}),
      internalTrafficPolicy: svc.internalTrafficPolicy,
    });
  }
  return out;
}
