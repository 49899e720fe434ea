/**
 * ScenarioSpec: a scenario file after loading — every value validated, defaults filled in,
 * addresses both as the text the user wrote (canonical form) and as numbers. Fields that mirror a
 * Kubernetes or CNI field keep its spelling (`podCIDR`, `nodeName`, `containerPort`, `isGateway`)
 * so that a reader can grep the manifest and the code alike. Every object keeps where it was
 * written (`source`), so checks made later (by the run) can still point at the line.
 */
import type { BridgeConfig } from '../k8s/cni/config.js';
import type { ProbeSpec } from '../k8s/kubelet/probe.js';
import type { Ipv4Addr } from '../packet/index.js';
import type { SourcePos } from './errors.js';

export type { SourcePos } from './errors.js';

/** A JSON value kept as written, for fields podwire does not interpret yet (probes, dnsConfig). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** An IPv4 address: the dotted text and the number. */
export interface AddressSpec {
  readonly text: string;
  readonly addr: Ipv4Addr;
}

/** An IPv4 prefix: the canonical text (`10.244.0.0/16`) and the numbers. */
export interface CidrSpec {
  readonly text: string;
  readonly network: Ipv4Addr;
  readonly prefixLen: number;
}

export interface ScenarioSpec {
  /** The file name as given to the loader (messages and run.json use it). */
  readonly file: string;
  readonly cluster: ClusterSpec;
  /** In document order. */
  readonly nodes: readonly NodeSpec[];
  /** Pods that exist before the traffic starts, in document order. */
  readonly pods: readonly PodSpec[];
  /** Machines on the node network that are not nodes (an external web server, the gateway). */
  readonly hosts: readonly HostSpec[];
  /** `kind: ConfigMap` objects, in document order. */
  readonly configMaps: readonly ConfigMapSpec[];
  /** `kind: Service` objects, created before the first step in document order (ClusterIPs are allocated in that order). */
  readonly services: readonly ServiceSpec[];
  readonly steps: readonly StepSpec[];
}

/** `apiVersion: v1, kind: ConfigMap`: text files for pods' configMap volumes. */
export interface ConfigMapSpec {
  readonly name: string;
  readonly namespace: string;
  /** `data`, in the order written. */
  readonly data: Readonly<Record<string, string>>;
  readonly source: SourcePos;
}

/** `spec.volumes[]` of the one type podwire models: `configMap: {name, items?}`. */
export interface VolumeSpec {
  readonly name: string;
  readonly configMap: string;
  /** `items`: the keys to project and the file each becomes; undefined: every key as its own name. */
  readonly items: readonly { readonly key: string; readonly path: string }[] | undefined;
}

/** `containers[].volumeMounts[]`. */
export interface VolumeMountSpec {
  readonly name: string;
  readonly mountPath: string;
  readonly readOnly: boolean;
}

/** `apiVersion: podwire.dev/v1alpha1, kind: Host`: a machine on the node network (eth0 on its switch). */
export interface HostSpec {
  readonly name: string;
  readonly address: AddressSpec;
  /** What the host runs from the start, as a container's command and args; undefined: nothing. */
  readonly command: readonly string[] | undefined;
  readonly args: readonly string[] | undefined;
  /** spec.files: file contents by absolute path (e.g. the page its web server serves). */
  readonly files: Readonly<Record<string, string>>;
  /** spec.workingDir: where its command runs; `/` when absent. */
  readonly workingDir: string | undefined;
  readonly source: SourcePos;
}

// ─── Cluster ────────────────────────────────────────────────────────────────────────────────

export const OVERLAY_MODES = ['none', 'flannel-vxlan', 'flannel-host-gw'] as const;
export type OverlayMode = (typeof OVERLAY_MODES)[number];

export interface ClusterSpec {
  /** metadata.name; kubeadm's default cluster name when absent. */
  readonly name: string;
  /** The node network (the underlay switch's subnet); every node's InternalIP lies inside it. */
  readonly nodeNetwork: CidrSpec;
  /** The cluster CIDR that node pod subnets are split from (kube-controller-manager --cluster-cidr). */
  readonly podCIDR: CidrSpec;
  /** kube-apiserver --service-cluster-ip-range. */
  readonly serviceCIDR: CidrSpec;
  /** Length of the per-node pod subnets allocated from podCIDR (--node-cidr-mask-size). */
  readonly nodeSubnetPrefix: number;
  /** MTU of each node's NIC. */
  readonly mtu: number;
  readonly overlay: OverlayMode;
  /** flannel's VXLAN backend settings (net-conf.json Backend.Port / Backend.VNI): 8472 and 1 by default. */
  readonly vxlan: { readonly port: number; readonly vni: number };
  readonly cni: ClusterCniSpec;
  /** The cables joining each node's and host's eth0 to the switch. */
  readonly underlay: UnderlaySpec;
  /** spec.gateway: the node network's router; nodes route `default via` it. Undefined: no default route. */
  readonly gateway: Ipv4Addr | undefined;
  /** spec.nameservers: the nodes' /etc/resolv.conf nameservers (dnsPolicy Default; CoreDNS's upstream). */
  readonly nameservers: readonly Ipv4Addr[];
  readonly source: SourcePos;
}

/** spec.underlay: the properties of every cable, and per-cable overrides. */
export interface UnderlaySpec {
  /** spec.underlay.latency/loss, or the defaults (a veth hop's 1 µs, no loss). */
  readonly defaults: LinkSpec;
  /** Overrides by node or host name, defaults filled in; a name appears at most once. */
  readonly links: readonly NamedLinkSpec[];
}

export interface LinkSpec {
  /** One-way latency of the cable, ns. */
  readonly latencyNs: number;
  /** Probability in [0, 1] that a frame crossing the cable is lost. */
  readonly loss: number;
}

export interface NamedLinkSpec extends LinkSpec {
  /** The node or host whose eth0 the cable joins to the switch. */
  readonly name: string;
  readonly source: SourcePos;
}

export interface ClusterCniSpec {
  /**
   * The configuration as written (or the default), before per-node resolution: a host-local
   * range's subnet may be `usePodCidr`, which each node replaces with its podCIDR.
   */
  readonly config: JsonValue;
  /** Whether the user gave the configuration (false: podwire's default bridge config). */
  readonly isDefault: boolean;
  readonly source: SourcePos;
}

// ─── Node ───────────────────────────────────────────────────────────────────────────────────

export interface NodeSpec {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** status.addresses[type=InternalIP]: the address of the node's NIC, inside nodeNetwork. */
  readonly internalIP: AddressSpec;
  /** spec.podCIDR, or the subnet allocated from the cluster podCIDR when the node gave none. */
  readonly podCIDR: CidrSpec;
  readonly isPodCIDRAllocated: boolean;
  /**
   * The cluster's CNI configuration with this node's podCIDR filled in, as k8s's bridge parser
   * reads it (defaults filled in, host-local's ranges canonical).
   */
  readonly cni: BridgeConfig;
  /** That configuration as the JSON file /etc/cni/net.d/10-bridge.conf on the node would hold it. */
  readonly cniConfigJson: string;
  readonly source: SourcePos;
}

// ─── Pod ────────────────────────────────────────────────────────────────────────────────────

export const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] as const;
export type DnsPolicy = (typeof DNS_POLICIES)[number];

export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

export const PORT_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
export type PortProtocol = (typeof PORT_PROTOCOLS)[number];

export interface PodSpec {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** The node the pod runs on. Manifests must give it (there is no scheduler). */
  readonly nodeName: string;
  readonly containers: readonly ContainerSpec[];
  readonly restartPolicy: RestartPolicy;
  readonly dnsPolicy: DnsPolicy;
  readonly hostname: string | undefined;
  readonly subdomain: string | undefined;
  readonly dnsConfig: JsonValue | undefined;
  readonly volumes: readonly VolumeSpec[];
  readonly source: SourcePos;
}

export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  /** The entrypoint override; undefined: the image's own (which then decides the program). */
  readonly command: readonly string[] | undefined;
  readonly args: readonly string[] | undefined;
  readonly workingDir: string | undefined;
  readonly volumeMounts: readonly VolumeMountSpec[];
  readonly ports: readonly ContainerPortSpec[];
  readonly env: readonly EnvVarSpec[];
  /** The probe with the API's defaults filled in (period 10 s, timeout 1 s, thresholds 1 and 3). */
  readonly readinessProbe: ProbeSpec | undefined;
  readonly livenessProbe: JsonValue | undefined;
  readonly startupProbe: JsonValue | undefined;
  readonly source: SourcePos;
}

export interface ContainerPortSpec {
  readonly containerPort: number;
  readonly protocol: PortProtocol;
  readonly name: string | undefined;
}

export interface EnvVarSpec {
  readonly name: string;
  readonly value: string;
}

// ─── Service ────────────────────────────────────────────────────────────────────────────────

export const SERVICE_TYPES = ['ClusterIP', 'ExternalName'] as const;
export type ServiceTypeSpec = (typeof SERVICE_TYPES)[number];

/** `apiVersion: v1, kind: Service`, with the apiserver's defaults filled in. */
export interface ServiceSpec {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly type: ServiceTypeSpec;
  /** spec.selector; undefined when absent (a Service without a selector gets no EndpointSlices). */
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly ports: readonly ServicePortSpec[];
  /** spec.clusterIP: an address, 'None' (headless), or undefined (allocated). */
  readonly clusterIP: AddressSpec | 'None' | undefined;
  readonly externalName: string | undefined;
  readonly sessionAffinity: 'None' | 'ClientIP';
  /** sessionAffinityConfig.clientIP.timeoutSeconds; 10800 by default with ClientIP. */
  readonly affinityTimeoutSeconds: number | undefined;
  readonly internalTrafficPolicy: 'Cluster' | 'Local';
  readonly publishNotReadyAddresses: boolean;
  readonly source: SourcePos;
  /** Where spec.clusterIP is written (or the Service), for errors the run finds. */
  readonly clusterIPSource: SourcePos;
}

export interface ServicePortSpec {
  /** '' when not given (allowed for a single port). */
  readonly name: string;
  readonly protocol: PortProtocol;
  readonly port: number;
  /** A port number, or a container port's name; defaults to `port`. */
  readonly targetPort: number | string;
}

// ─── Traffic steps ──────────────────────────────────────────────────────────────────────────

interface StepCommon {
  /** 0-based position in the Traffic document's list; outputs are numbered index + 1. */
  readonly index: number;
  /** The command line as written. */
  readonly text: string;
  /** Where the command line is written. */
  readonly source: SourcePos;
  /** `steps[N]`, the path errors about this step use. */
  readonly path: string;
  /** `at:` — virtual time to wait after the previous step ends (traffic start for the first). */
  readonly waitNs: number;
  /** `expectExit:` — the exit code the command must end with; undefined: not checked. */
  readonly expectExit: number | undefined;
  /** `stdin:` — given only to commands that read it (apply -f -, exec -i, run -i). */
  readonly stdin: string | undefined;
}

/** `kubectl exec [-n NS] [-i] [-t] POD [-c CONTAINER] -- CMD ARGS…` */
export interface ExecStep extends StepCommon {
  readonly kind: 'exec';
  readonly namespace: string;
  readonly pod: string;
  /** -c; undefined: the pod's first container, as kubectl defaults. */
  readonly container: string | undefined;
  readonly argv: readonly string[];
  readonly interactive: boolean;
  readonly tty: boolean;
}

/** `kubectl delete pod NAME… [-n NS] [--grace-period=N|--now] [--ignore-not-found]` */
export interface DeletePodStep extends StepCommon {
  readonly kind: 'delete-pod';
  readonly namespace: string;
  readonly pods: readonly string[];
  readonly gracePeriodSeconds: number | undefined;
  readonly ignoreNotFound: boolean;
}

/** `kubectl apply -f -` with Pod manifests on stdin. */
export interface ApplyStep extends StepCommon {
  readonly kind: 'apply';
  readonly pods: readonly PodSpec[];
}

/** `kubectl run NAME --image=IMG [--restart=…] [--command] -- ARGS…` */
export interface RunStep extends StepCommon {
  readonly kind: 'run';
  readonly pod: PodSpec;
  /** -i/-t/--attach: kubectl waits for the container and prints its output. */
  readonly attach: boolean;
  /** --rm: the pod is deleted when the attached container ends. */
  readonly rm: boolean;
}

/** `sleep N` (GNU sleep's syntax: seconds, or a number with s/m/h/d; several are summed). */
export interface SleepStep extends StepCommon {
  readonly kind: 'sleep';
  readonly durationNs: number;
}

/** `kubectl get|describe|logs …`: read-only views, kept as argv (after `kubectl`) for the run. */
export interface KubectlViewStep extends StepCommon {
  readonly kind: 'kubectl-view';
  readonly argv: readonly string[];
}

/** `podwire link down|up NAME`: pulls out (or plugs back) the cable of a node's or host's eth0. */
export interface LinkStep extends StepCommon {
  readonly kind: 'link';
  readonly name: string;
  readonly up: boolean;
}

/** `ssh [user@]HOST [--] COMMAND …`: a command on an external host or a node, as its shell runs it. */
export interface SshStep extends StepCommon {
  readonly kind: 'ssh';
  readonly host: string;
  readonly argv: readonly string[];
}

/**
 * `podwire stop [-n NS] POD [-c CONTAINER]`: the container's process ends (its sockets close);
 * podwire does not restart it, so its readiness probe fails from then on.
 */
export interface StopStep extends StepCommon {
  readonly kind: 'stop';
  readonly namespace: string;
  readonly pod: string;
  /** undefined: the pod's first container. */
  readonly container: string | undefined;
}

export type StepSpec = ExecStep | DeletePodStep | ApplyStep | RunStep | SleepStep | KubectlViewStep | LinkStep | SshStep | StopStep;
