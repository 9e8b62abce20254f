// Choosing ports for a new VM. Locally every VM shares this machine's ports, so each
// one gets its own: a data node port (Redis Cluster also binds port + 10000, its bus)
// and an agent gRPC port. The rule: the lowest port ≥ the base that no VM of the
// inventory reserves — a stopped VM keeps its ports, since its data node must come
// back on the same one — and that can be bound on the host right now (for a data
// port, its bus port too). Predictable ports (7001, 7002 …) are what a person types
// into redis-cli.
import { NoFreePortError } from './errors.ts';
import type { InventoryEntry } from './inventory.ts';

/** Redis Cluster's bus port is the client port + this. */
export const BUS_PORT_OFFSET = 10_000;
const MAX_PORT = 65_535;

/** True when `port` on `host` can be bound now. */
export type CanBind = (host: string, port: number) => Promise<boolean>;

/** Every port the VMs of the inventory reserve: data, bus and agent ports. */
export function reservedPorts(entries: readonly Pick<InventoryEntry, 'dataPort' | 'agentPort'>[]): Set<number> {
  const ports = new Set<number>();
  for (const e of entries) {
    ports.add(e.dataPort);
    ports.add(e.dataPort + BUS_PORT_OFFSET);
    ports.add(e.agentPort);
  }
  return ports;
}

export interface PortRequest {
  /** Lowest port to consider. */
  base: number;
  host: string;
  /** Ports not to take (reserved by VMs of the inventory, or just chosen). */
  reserved: ReadonlySet<number>;
  /** The port's bus port (port + 10000) must be free and bindable too. */
  withBus: boolean;
  /** For messages: "data node", "agent". */
  purpose: string;
  canBind: CanBind;
}

/** The highest port a request may return. */
export function highestPort(withBus: boolean): number {
  return withBus ? MAX_PORT - BUS_PORT_OFFSET : MAX_PORT;
}

/** The lowest acceptable port ≥ base; NoFreePortError when there is none. */
export async function allocatePort(request: PortRequest): Promise<number> {
  const { base, host, reserved, withBus, canBind } = request;
  const last = highestPort(withBus);
  for (let port = base; port <= last; port++) {
    if (reserved.has(port)) continue;
    if (withBus && reserved.has(port + BUS_PORT_OFFSET)) continue;
    if (!(await canBind(host, port))) continue;
    if (withBus && !(await canBind(host, port + BUS_PORT_OFFSET))) continue;
    return port;
  }
  throw new NoFreePortError(request.purpose, base, last, host);
}
