/**
 * The `ip` command inside a pod or on a node: `ip addr`, `ip link`, `ip route`, `ip neigh` (with
 * iproute2's abbreviations and an optional `show`), printing what iproute2 prints.
 */
import { ipAddr, ipLink, ipNeigh, ipRoute } from '../net/render/iproute.js';
import { UsageError, type App, type AppContext } from './app.js';

type Object = 'addr' | 'link' | 'route' | 'neigh';

const OBJECTS: ReadonlyArray<[string, Object]> = [
  ['address', 'addr'], ['addr', 'addr'], ['a', 'addr'],
  ['link', 'link'], ['l', 'link'],
  ['route', 'route'], ['r', 'route'], ['ro', 'route'],
  ['neighbour', 'neigh'], ['neighbor', 'neigh'], ['neigh', 'neigh'], ['n', 'neigh'],
];

export function parseIpArgs(args: readonly string[]): Object {
  const [obj, verb, ...rest] = args;
  const found = OBJECTS.find(([word]) => word === obj)?.[1];
  if (!found) throw new UsageError(`Object "${obj ?? ''}" is unknown, try "ip help".`, 1);
  if (verb !== undefined && verb !== 'show' && verb !== 'list' && verb !== 'ls') {
    throw new UsageError(`Command "${verb}" is unknown, try "ip ${found} help".`, 1);
  }
  if (rest.length) throw new UsageError(`podwire's ip shows whole tables only; "${rest.join(' ')}" is not supported`, 1);
  return found;
}

export class IpCommand implements App {
  constructor(private readonly object: Object) {}

  start(ctx: AppContext): void {
    const text = { addr: ipAddr, link: ipLink, route: ipRoute, neigh: ipNeigh }[this.object](ctx.ns);
    ctx.stdout(text);
    ctx.exit(0);
  }
}
