/**
 * The kernel calls a CNI plugin makes, one method per netlink/sysctl operation the real plugin
 * performs (vishvananda/netlink calls in plugins/main/bridge/bridge.go, pkg/ip/link_linux.go,
 * pkg/ipam/ipam_linux.go), so the emulated kernel (net/) can implement them and a test can record
 * their order. Netns are named by the strings the runtime passes (the host's name, CNI_NETNS).
 *
 * A method that fails throws NetlinkError with the errno the kernel would return; the plugin
 * wraps its message the way the real plugin does.
 */

export type Errno = 'EEXIST' | 'ENOENT' | 'ENODEV' | 'EINVAL' | 'EADDRNOTAVAIL' | 'EBUSY' | 'EOPNOTSUPP';

export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';

  /** `message` is what Go prints for the errno ("file exists", "no such device", …). */
  constructor(
    readonly errno: Errno,
    message: string,
  ) {
    super(message);
  }
}

export interface VethPairSpec {
  readonly hostNetns: string;
  readonly hostName: string;
  readonly containerNetns: string;
  readonly containerName: string;
  /** 0: leave the kernel default (1500). */
  readonly mtu: number;
  /** Only when configured (`mac` in runtimeConfig/args/CNI_ARGS); otherwise the kernel picks. */
  readonly containerMac?: string;
}

export interface RouteSpec {
  /** "a.b.c.d/n". */
  readonly dst: string;
  readonly gw?: string;
  readonly dev: string;
}

export interface Netlink {
  /** `ns.GetNS(path)` succeeds: the netns exists. */
  netnsExists(netns: string): boolean;
  /**
   * `ip link add <name> type bridge` unless it exists (EEXIST is fine), MTU when non-zero (0:
   * kernel default), promiscuous on when asked, then look it up; returns its MAC *now* (a new
   * bridge has a random one, `br_dev_setup`). Throws NetlinkError when a non-bridge link has the
   * name. Does not set it up: the plugin writes accept_ra first, as ensureBridge does.
   */
  ensureBridge(netns: string, name: string, opts: { readonly mtu: number; readonly promiscMode: boolean; readonly vlanFiltering: boolean }): { readonly mac: string };
  /**
   * `ip link add <containerName> mtu <mtu> [address <mac>] type veth peer name <hostName> netns
   * <host>` run inside the container netns (pkg/ip `makeVethPair`): both ends down, MACs from the
   * kernel unless containerMac is given. EEXIST when either name is taken.
   */
  createVethPair(spec: VethPairSpec): { readonly hostMac: string; readonly containerMac: string };
  /** `ip link set <dev> master <master>` (the bridge takes the port; br_add_if). */
  setMaster(netns: string, dev: string, master: string): void;
  /** `bridge link set dev <dev> hairpin on|off` (IFLA_BRPORT_MODE). */
  setHairpin(netns: string, dev: string, on: boolean): void;
  /** `ip link set <dev> up`. */
  setLinkUp(netns: string, dev: string): void;
  /** `ip addr add <cidr> dev <dev>` ("a.b.c.d/n"); the kernel adds the prefix route. */
  addAddress(netns: string, dev: string, cidr: string): void;
  /** `ip -4 addr show dev <dev>`: the IPv4 addresses as "a.b.c.d/n", in kernel order. */
  listAddresses(netns: string, dev: string): readonly string[];
  /** `ip addr del <cidr> dev <dev>`. */
  deleteAddress(netns: string, dev: string, cidr: string): void;
  /** `ip link set <dev> address <mac>`: on a bridge this pins the MAC (addr_assign_type SET). */
  setHardwareAddress(netns: string, dev: string, mac: string): void;
  /** The link's current MAC ("aa:bb:cc:dd:ee:ff"). */
  linkMac(netns: string, dev: string): string;
  /** `ip route add <dst> [via <gw>] dev <dev>`. */
  addRoute(netns: string, route: RouteSpec): void;
  /**
   * A sysctl, dotted ("net.ipv4.conf.eth0.arp_notify"). The plugin ignores failures of all but
   * `net.ipv4.ip_forward`, as it discards the others' errors.
   */
  setSysctl(netns: string, key: string, value: string): void;
  /**
   * `ip link del <dev>`. For a veth the kernel deletes the peer too (veth_dellink queues the
   * peer's unregister), which is how the host-side veth disappears on CNI DEL.
   */
  deleteLink(netns: string, dev: string): void;
  linkExists(netns: string, dev: string): boolean;
}

/**
 * The iptables calls of pkg/ip/ipmasq_iptables_linux.go (go-iptables), in the nat table. Rule
 * specs are the argument lists the plugin passes, e.g. `['-d', '10.244.1.2/24', '-j', 'ACCEPT',
 * '-m', 'comment', '--comment', 'name: "cbr0" id: "…"']`.
 */
export interface Iptables {
  /** `ListChains` + `NewChain` when missing. */
  ensureChain(netns: string, table: 'nat', chain: string): void;
  /** `AppendUnique`: `-A` unless an identical rule exists. */
  appendUnique(netns: string, table: 'nat', chain: string, ruleSpec: readonly string[]): void;
  /** `Delete`: `-D`; a missing rule or chain is not an error here (the plugin ignores IsNotExist). */
  deleteRule(netns: string, table: 'nat', chain: string, ruleSpec: readonly string[]): void;
  /** `ClearChain` (flush), ignoring a missing chain. */
  clearChain(netns: string, table: 'nat', chain: string): void;
  /** `DeleteChain` (-X), ignoring a missing chain. */
  deleteChain(netns: string, table: 'nat', chain: string): void;
}
