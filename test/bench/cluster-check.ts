// After each operation (outside its timed window) both sides check the cluster itself,
// not what the tool said: members and primaries from CLUSTER NODES, the server each
// node runs (INFO server) and how long it has been up. A tool that reports "done" for
// work it did not do fails here instead of printing a flattering figure.
import type { ClusterAddress } from '../support/writer.ts';
import { command, withNode } from '../../agent/engines/redis/redis-connection.ts';
import { BenchStepError, parseClusterNodes } from './bare-cluster.ts';
import { log } from './log.ts';

export interface ClusterFacts {
  /** Members as the first node lists them. */
  members: number;
  /** Primaries serving slots. */
  primaries: number;
  /** "redis 7.0.15", "valkey 8.0.1", per node. */
  servers: string[];
  /** The longest uptime of a node, in s. */
  maxUptimeSeconds: number;
}

export async function clusterFacts(nodes: readonly ClusterAddress[]): Promise<ClusterFacts> {
  const first = nodes[0];
  if (first === undefined) throw new BenchStepError('no node to check');
  const lines = parseClusterNodes(await withNode(first, (c) => command<string>(c, 'CLUSTER', 'NODES'), { op: 'bench check' }));
  const infos = await Promise.all(nodes.map((n) => withNode(n, (c) => command<string>(c, 'INFO', 'server'), { op: 'bench check' })));
  const servers = infos.map((info) => {
    const valkey = /valkey_version:(\S+)/.exec(info)?.[1];
    return valkey !== undefined ? `valkey ${valkey}` : `redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'}`;
  });
  const uptimes = infos.map((info) => Number(/uptime_in_seconds:(\d+)/.exec(info)?.[1] ?? NaN));
  log.debug({ nodes: nodes.map((n, i) => `${n.port} ${servers[i] ?? '?'} up ${uptimes[i] ?? '?'} s`) }, 'cluster facts');
  return {
    members: lines.length,
    primaries: lines.filter((l) => l.role === 'master' && l.slots.length > 0).length,
    servers,
    maxUptimeSeconds: Math.max(...uptimes),
  };
}

export interface ClusterExpectation {
  members?: number;
  primaries?: number;
  /** Every node runs this server: "redis 7.0" or "valkey 8.0". */
  server?: string;
  /** Every node was (re)started after this time (Date.now() ms), i.e. during the operation. */
  restartedAfter?: number;
}

/** Throws a BenchStepError saying what differs from `expect` after `op`. */
export async function expectCluster(op: string, nodes: readonly ClusterAddress[], expect: ClusterExpectation): Promise<ClusterFacts> {
  const facts = await clusterFacts(nodes);
  const wrong: string[] = [];
  if (expect.members !== undefined && facts.members !== expect.members) wrong.push(`${facts.members} members, expected ${expect.members}`);
  if (expect.primaries !== undefined && facts.primaries !== expect.primaries) wrong.push(`${facts.primaries} primaries with slots, expected ${expect.primaries}`);
  const server = expect.server;
  if (server !== undefined && !facts.servers.every((s) => s.startsWith(`${server}.`))) wrong.push(`servers ${facts.servers.join(', ')}, expected ${server}.x on every node`);
  if (expect.restartedAfter !== undefined) {
    // uptime_in_seconds is whole seconds: one second of slack.
    const sinceStart = Math.ceil((Date.now() - expect.restartedAfter) / 1000) + 1;
    if (facts.maxUptimeSeconds > sinceStart) {
      wrong.push(`a node has been up for ${facts.maxUptimeSeconds} s, but the operation began ${sinceStart - 1} s ago: not every node was restarted`);
    }
  }
  if (wrong.length > 0) throw new BenchStepError(`after ${op} the cluster is not as asked: ${wrong.join('; ')}`);
  return facts;
}
