// Slot moves and the replica acknowledgement of CLUSTER SETSLOT (slot-migration.ts,
// `migrate`). Valkey 8.0 holds each SETSLOT on a primary with replicas until every
// replica acknowledged it; sent down one connection, those waits are in series, one per
// SETSLOT (5,460 for a move of 1365 slots: 9.7-16.3 s per move measured, against
// 0.85-1.5 s on Redis 7.0). The move spreads them over many connections instead.
//
// Not a timed test: it counts. The move reports the SETSLOTs a connection sent one
// after the other (`phases.setslotRounds`), and the server says how many connections
// it accepted during the move (INFO stats total_connections_received) — a move that
// sends its SETSLOTs down one connection again fails both, on any machine. The same
// move on Redis 7.0 keeps one pipelined connection (nothing to wait for there). Both
// run with a client writing (ioredis Cluster, no auto-pipelining): zero client
// errors, every acknowledged write read back, the cluster consistent afterwards.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { HOST, ProcessRegistry, startNode } from '../../../test/bench/bare-cluster.ts';
import type { BareNode } from '../../../test/bench/bare-cluster.ts';
import { ENGINE_CONFIG } from '../../../test/bench/ops.ts';
import { freePorts } from '../../../test/support/ports.ts';
import { ClusterWriter } from '../../../test/support/writer.ts';
import { RedisClusterOps } from './cluster-ops.ts';
import { clusterCheck } from '../../../test/support/redis-cli-tools.ts';
import { formCluster } from '../../../test/support/form-cluster.ts';
import { command, withNode } from './redis-connection.ts';
import type { NodeAddress } from './redis-connection.ts';
import { findNode, parseInfo } from './topology.ts';
import { rangesToSlots } from '../../../common/slot-ranges.ts';

const registry = new ProcessRegistry();
const dirs: string[] = [];

after(async () => {
  await registry.killAll();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const SLOTS = 512;
const WINDOW = 256;
const CONNECTIONS = 32;
/** SETSLOT steps per window: IMPORTING on the target, MIGRATING on the source, NODE on both. */
const STEPS = 4;

async function connectionsReceived(addr: NodeAddress): Promise<number> {
  const info = parseInfo(await withNode(addr, (c) => command<string>(c, 'INFO', 'stats')));
  return Number(info['total_connections_received']);
}

/** Two primaries with one replica each, on `version`; `keys` keys loaded. */
async function twoGroups(version: '7.0' | '8.0'): Promise<{ ops: RedisClusterOps; primaries: NodeAddress[]; ids: string[] }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'coxswain-setslot-'));
  dirs.push(root);
  const ports = await freePorts(4, { withBus: true });
  const nodes: BareNode[] = ports.map((port, i) => ({
    name: `n${i}`,
    port,
    dir: path.join(root, `n${i}`),
    version,
    parameters: { ...ENGINE_CONFIG },
    child: undefined,
    pid: undefined,
  }));
  await Promise.all(nodes.map((n) => startNode(n, registry)));
  const addrs = nodes.map((n) => ({ host: HOST, port: n.port }));
  const primaries = addrs.slice(0, 2);
  const ops = new RedisClusterOps({ seeds: primaries, slotWindow: WINDOW, setslotConnections: CONNECTIONS });
  await formCluster(ops, primaries);
  const ids = await Promise.all(primaries.map((a) => withNode(a, (c) => command<string>(c, 'CLUSTER', 'MYID'))));
  for (let i = 0; i < 2; i++) {
    const replica = addrs[2 + i];
    const id = ids[i];
    if (replica === undefined || id === undefined) throw new Error('missing node');
    await ops.addReplica(replica, id);
  }
  return { ops, primaries, ids };
}

async function moveWithWriter(version: '7.0' | '8.0'): Promise<{ rounds: number; fromConnections: number; toConnections: number }> {
  const { ops, primaries, ids } = await twoGroups(version);
  const [fromAddr, toAddr] = primaries;
  const [fromId, toId] = ids;
  if (fromAddr === undefined || toAddr === undefined || fromId === undefined || toId === undefined) throw new Error('missing primary');
  const writer = await ClusterWriter.start({ nodes: primaries, keyPrefix: 'setslot:', maxOpsPerSecond: 500 });
  try {
    await new Promise((resolve) => setTimeout(resolve, 300)); // keys in the slots that move
    const owned = rangesToSlots(findNode((await ops.observe()).topology, fromId)?.slots ?? []);
    const slots = owned.slice(owned.length - SLOTS);
    const before = await Promise.all([connectionsReceived(fromAddr), connectionsReceived(toAddr)]);
    const moved = await ops.moveSlots(fromId, toId, slots);
    const afterMove = await Promise.all([connectionsReceived(fromAddr), connectionsReceived(toAddr)]);
    const stats = await writer.stop();
    const verify = await writer.verify();
    assert.equal(moved.changed, true);
    assert.equal(rangesToSlots(moved.slots).length, SLOTS);
    const to = findNode(moved.topology, toId);
    assert.ok(to !== undefined && slots.every((s) => rangesToSlots(to.slots).includes(s)), 'every slot is at the target');
    assert.equal(stats.errors + stats.wrongReads, 0, `client errors: ${JSON.stringify(stats.errorSamples.slice(0, 3))}`);
    assert.ok(stats.acknowledged > 0, 'the writer wrote during the move');
    assert.deepEqual({ missing: verify.missing, wrong: verify.wrong, unreadable: verify.unreadable }, { missing: 0, wrong: 0, unreadable: 0 }, verify.examples.join(', '));
    const check = await clusterCheck(fromAddr);
    assert.ok(check.ok, check.output);
    return {
      rounds: moved.phases.setslotRounds,
      fromConnections: (afterMove[0] ?? 0) - (before[0] ?? 0),
      toConnections: (afterMove[1] ?? 0) - (before[1] ?? 0),
    };
  } finally {
    await writer.close();
  }
}

describe('CLUSTER SETSLOT during a slot move', { timeout: 120_000 }, () => {
  test('Valkey 8.0 (SETSLOT waits for the replicas): the waits are spread over many connections', async () => {
    const r = await moveWithWriter('8.0');
    // Per window and step, at most ⌈WINDOW / CONNECTIONS⌉ SETSLOTs in series on one connection.
    assert.ok(r.fromConnections >= CONNECTIONS, `the source accepted ${r.fromConnections} connections during the move, at least ${CONNECTIONS} expected`);
    assert.ok(r.toConnections >= CONNECTIONS, `the target accepted ${r.toConnections} connections during the move, at least ${CONNECTIONS} expected`);
    const bound = (SLOTS / WINDOW) * STEPS * Math.ceil(WINDOW / CONNECTIONS);
    assert.ok(r.rounds > 0 && r.rounds <= bound, `SETSLOTs in series: ${r.rounds}, at most ${bound} (one connection: ${SLOTS * STEPS})`);
  });

  test('Redis 7.0 (SETSLOT does not wait): one pipelined connection per node', async () => {
    const r = await moveWithWriter('7.0');
    assert.equal(r.rounds, SLOTS * STEPS, 'every SETSLOT of a step on one connection');
    assert.ok(r.fromConnections < CONNECTIONS, `the source accepted ${r.fromConnections} connections during the move`);
  });
});
