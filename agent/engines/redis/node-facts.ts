// What one node says about itself, read before it joins or is made a replica or a
// failover target: its own view of the cluster with its key count, and its replication
// state (INFO replication). Used by the operations beside this file (cluster-join.ts,
// cluster-failover.ts).
import type { Redis } from 'ioredis';
import { command, withNode } from './redis-connection.ts';
import type { NodeAddress } from './redis-connection.ts';
import { parseInfo, viewOf } from './topology.ts';
import type { NodeView } from './topology.ts';

export interface NodeFacts {
  addr: NodeAddress;
  view: Extract<NodeView, { reachable: true }>;
  keys: number;
}

export async function nodeFacts(addr: NodeAddress, op: string, signal?: AbortSignal): Promise<NodeFacts> {
  return withNode(
    addr,
    async (c) => {
      const view = await viewOf(c, addr);
      if (!view.reachable) throw new Error('unreachable');
      const keys = await command<number>(c, 'DBSIZE');
      return { addr, view, keys };
    },
    { signal, op },
  );
}

export interface ReplicationState {
  linkUp: boolean;
  syncing: boolean;
  offset: number;
  primaryHost: string | undefined;
  primaryPort: number | undefined;
}

export async function replicationOf(client: Redis): Promise<ReplicationState> {
  const info = parseInfo(await command<string>(client, 'INFO', 'replication'));
  return {
    linkUp: info['master_link_status'] === 'up',
    syncing: info['master_sync_in_progress'] === '1',
    offset: Number(info['slave_repl_offset'] ?? info['master_repl_offset'] ?? 0),
    primaryHost: info['master_host'],
    primaryPort: info['master_port'] === undefined ? undefined : Number(info['master_port']),
  };
}
