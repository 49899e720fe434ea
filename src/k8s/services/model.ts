/**
 * Services and EndpointSlices as plain data: the fields of core/v1 Service and discovery/v1
 * EndpointSlice that decide where traffic goes and what kubectl shows. Addresses are numbers;
 * kubectl's views format them.
 */
import type { Ipv4Addr } from '../../packet/addr.js';

export type ServiceProtocol = 'TCP' | 'UDP' | 'SCTP';
/** The Service types podwire models; NodePort and LoadBalancer are refused for now. */
export type ServiceType = 'ClusterIP' | 'ExternalName';

export interface ServicePort {
  /** '' when the service has one unnamed port (the API requires names when there are several). */
  readonly name: string;
  readonly protocol: ServiceProtocol;
  readonly port: number;
  /** A number, or a container port's name resolved per pod (podutil.FindPort). */
  readonly targetPort: number | string;
}

/** What a user (or kubeadm) asks for: spec.clusterIP may be an address, 'None' (headless) or left to the allocator. */
export interface ServiceInput {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly type: ServiceType;
  /** spec.selector; undefined: a Service without a selector (its endpoints are someone else's). */
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly ports: readonly ServicePort[];
  /** spec.clusterIP as written: an address, 'None', or undefined (allocate). */
  readonly clusterIP: Ipv4Addr | 'None' | undefined;
  readonly externalName: string | undefined;
  readonly sessionAffinity: 'None' | 'ClientIP';
  /** sessionAffinityConfig.clientIP.timeoutSeconds (defaulted to 10800 with ClientIP). */
  readonly affinityTimeoutSeconds: number | undefined;
  readonly internalTrafficPolicy: 'Cluster' | 'Local';
  /** spec.publishNotReadyAddresses: endpoints are ready whatever their pods' readiness. */
  readonly publishNotReadyAddresses: boolean;
}

export interface Service extends Omit<ServiceInput, 'clusterIP'> {
  /** The allocated address, 'None' for a headless service, undefined for ExternalName (no IP). */
  readonly clusterIP: Ipv4Addr | 'None' | undefined;
  readonly creationNs: number;
}

export interface EndpointConditions {
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

export interface Endpoint {
  readonly addresses: readonly Ipv4Addr[];
  readonly conditions: EndpointConditions;
  /** undefined for endpoints that are not pods (the apiserver's). */
  readonly nodeName: string | undefined;
  readonly targetRef: { readonly kind: 'Pod'; readonly namespace: string; readonly name: string; readonly uid: string } | undefined;
}

export interface EndpointPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: ServiceProtocol;
}

export interface EndpointSlice {
  readonly namespace: string;
  readonly name: string;
  /** The kubernetes.io/service-name label. */
  readonly serviceName: string;
  readonly addressType: 'IPv4';
  readonly labels: Readonly<Record<string, string>>;
  readonly endpoints: readonly Endpoint[];
  readonly ports: readonly EndpointPort[];
  readonly creationNs: number;
}

/** A pod as the Service machinery sees it: where it runs, its labels and ports, its readiness. */
export interface PodView {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly nodeName: string;
  /** status.podIP; undefined while the sandbox has no address. */
  readonly ip: Ipv4Addr | undefined;
  readonly running: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly containerPorts: readonly { readonly name: string | undefined; readonly containerPort: number; readonly protocol: ServiceProtocol }[];
  /** The pod's Ready condition. */
  readonly ready: boolean;
  /** metadata.deletionTimestamp is set. */
  readonly terminating: boolean;
}

/** discovery/v1's label naming the Service a slice belongs to. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
/** The EndpointSlice controller's value of that label (the apiserver's own slice has none). */
export const MANAGED_BY_CONTROLLER = 'endpointslice-controller.k8s.io';
/** discovery.k8s.io: --max-endpoints-per-slice, 100 by default (kube-controller-manager). */
export const MAX_ENDPOINTS_PER_SLICE = 100;

/** The selector matches when every key=value is among the labels (labels.SelectorFromSet). */
export function selectorMatches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}
