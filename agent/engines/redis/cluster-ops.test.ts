// The Redis Cluster operations against real servers on loopback (Redis 7.0 and Valkey
// 8.0). Each scenario runs on its own nodes and prints how long each operation took.
//
// Servers are started by a small helper here (not the agent's supervisor), with the
// flags docs/redis-cluster.md explains, and killed by pid in cleanup, also when a test fails.
//
// Client settings for zero client errors during failover and slot moves (ioredis
// Cluster, see CLIENT_OPTIONS): the defaults already retry MOVED at once
// (retryDelayOnMoved 0), ASK, TRYAGAIN (100 ms), CLUSTERDOWN (100 ms) and a closed
// connection (retryDelayOnFailover 100 ms); maxRedirections is raised from 16 to 64 so
// that a command that meets several redirections during a failover is not failed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import type { ClusterOptions } from 'ioredis';
import { freePorts } from '../../../test/support/ports.ts';
import { RedisClusterOps } from './cluster-ops.ts';
import type { MoveProgress } from './slot-migration.ts';
import { clusterCheck, runTool } from '../../../test/support/redis-cli-tools.ts';
import { addEmptyPrimary, formCluster } from '../../../test/support/form-cluster.ts';
import { drainPrimary, planDrain, planRebalance } from '../../../test/support/rebalance.ts';
import { isRedisOpError } from './errors.ts';
import type { RedisOpError } from './errors.ts';
import { command, formatAddr, withNode } from './redis-connection.ts';
import type { NodeAddress } from './redis-connection.ts';
import { findNode, parseClusterNodes, primariesOf, replicasOf } from './topology.ts';
import type { Topology } from './topology.ts';
import { SLOT_COUNT } from '../../../common/slot-ranges.ts';
import { closeCluster } from '../../../test/support/close-cluster.ts';

// ---------------------------------------------------------------------------------
// Servers

type ServerBin = 'redis-server' | 'valkey-server';

interface Server {
  bin: ServerBin;
  addr: NodeAddress;
  proc: ChildProcess;
  dir: string;
}

const ROOT = mkdtempSync(join(tmpdir(), 'coxswain-cluster-ops-'));
const servers: Server[] = [];
const clients: Cluster[] = [];

after(async () => {
  await Promise.all(clients.map(closeCluster));
  await Promise.all(servers.map(stop));
  rmSync(ROOT, { recursive: true, force: true });
});

function stop(s: Server): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null || s.proc.pid === undefined) return Promise.resolve();
  const exited = new Promise<void>((resolve) => s.proc.once('exit', () => resolve()));
  process.kill(s.proc.pid, 'SIGKILL');
  return exited;
}

async function pingable(addr: NodeAddress): Promise<boolean> {
  try {
    return (await withNode(addr, (c) => command<string>(c, 'PING'), { connectTimeoutMs: 200 })) === 'PONG';
  } catch {
    return false;
  }
}

async function startOne(bin: ServerBin, port: number): Promise<Server> {
  const dir = join(ROOT, `${bin}-${port}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'server.log');
  const fd = openSync(log, 'w');
  const args = [
    '--port', String(port),
    '--cluster-enabled', 'yes',
    '--cluster-config-file', 'nodes.conf',
    '--dir', dir,
    '--appendonly', 'yes',
    '--repl-diskless-sync-delay', '0',
    '--daemonize', 'no',
    '--cluster-allow-replica-migration', 'no',
    '--save', '',
  ];
  const proc = spawn(bin, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const server: Server = { bin, addr: { host: '127.0.0.1', port }, proc, dir };
  servers.push(server);
  for (let i = 0; i < 500; i++) {
    if (proc.exitCode !== null) break;
    if (await pingable(server.addr)) return server;
    await delay(10);
  }
  await stop(server);
  throw new Error(`${bin} on port ${port} did not start: ${readFileSync(log, 'utf8').split('\n').slice(-4).join(' | ')}`);
}

/** Starts `count` servers on free ports (port and bus port), retrying a lost race. */
async function start(bin: ServerBin, count: number): Promise<Server[]> {
  const out: Server[] = [];
  for (let attempt = 0; out.length < count; attempt++) {
    const ports = await freePorts(count - out.length, { withBus: true });
    const got = await Promise.allSettled(ports.map((p) => startOne(bin, p)));
    for (const g of got) if (g.status === 'fulfilled') out.push(g.value);
    if (attempt > 3 && out.length < count) throw new Error(`could not start ${count} ${bin} processes`);
  }
  return out;
}

// ---------------------------------------------------------------------------------
// Clients and data

const CLIENT_OPTIONS: ClusterOptions = {
  maxRedirections: 64,
  retryDelayOnMoved: 0,
  retryDelayOnFailover: 100,
  retryDelayOnClusterDown: 100,
  retryDelayOnTryAgain: 100,
  slotsRefreshTimeout: 2_000,
  enableOfflineQueue: true,
  redisOptions: { connectTimeout: 2_000 },
};

/** COXSWAIN_TEST_LOG=1 prints what the operations log, with the time since start. */
const T0 = Date.now();
const LOGGER =
  process.env['COXSWAIN_TEST_LOG'] === '1'
    ? {
        info: (f: object, m: string) => console.log(`# +${Date.now() - T0} ms ${m} ${JSON.stringify(f)}`),
        warn: (f: object, m: string) => console.log(`# +${Date.now() - T0} ms WARN ${m} ${JSON.stringify(f)}`),
      }
    : undefined;

function clusterClient(addrs: NodeAddress[]): Cluster {
  const c = new Cluster(addrs.map((a) => ({ host: a.host, port: a.port })), CLIENT_OPTIONS);
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

const key = (i: number): string => `k:${i}`;
const value = (i: number): string => `v:${i}:${'x'.repeat(i % 16)}`;

async function writeKeys(c: Cluster, n: number, batch = 5_000): Promise<void> {
  for (let i = 0; i < n; i += batch) {
    const ops: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) ops.push(c.set(key(j), value(j)));
    await Promise.all(ops);
  }
}

/** Reads every key back; returns the number of missing or wrong values. */
async function verifyKeys(c: Cluster, n: number, batch = 5_000): Promise<number> {
  let bad = 0;
  for (let i = 0; i < n; i += batch) {
    const ids: number[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) ids.push(j);
    const got = await Promise.all(ids.map((j) => c.get(key(j))));
    got.forEach((v, k) => {
      if (v !== value(ids[k] ?? -1)) bad++;
    });
  }
  return bad;
}

/** Writes continuously (a few in flight) until stopped; counts errors. */
function startWriter(c: Cluster, prefix: string): { stop: () => Promise<{ acked: Map<string, string>; errors: string[]; maxLatencyMs: number }> } {
  const acked = new Map<string, string>();
  const errors: string[] = [];
  let running = true;
  let maxLatencyMs = 0;
  let n = 0;
  const lane = async (): Promise<void> => {
    while (running) {
      const k = `${prefix}:${n++}`;
      const v = `w${n}`;
      const t0 = Date.now();
      try {
        await c.set(k, v);
        acked.set(k, v);
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
      }
      maxLatencyMs = Math.max(maxLatencyMs, Date.now() - t0);
    }
  };
  const lanes = Array.from({ length: 8 }, () => lane());
  return {
    stop: async () => {
      running = false;
      await Promise.all(lanes);
      return { acked, errors, maxLatencyMs };
    },
  };
}

async function verifyAcked(c: Cluster, acked: Map<string, string>): Promise<number> {
  let bad = 0;
  const entries = [...acked];
  for (let i = 0; i < entries.length; i += 5_000) {
    const part = entries.slice(i, i + 5_000);
    const got = await Promise.all(part.map(([k]) => c.get(k)));
    got.forEach((v, j) => {
      if (v !== part[j]?.[1]) bad++;
    });
  }
  return bad;
}

// ---------------------------------------------------------------------------------
// Assertions and reporting

const timings: string[] = [];

/** Slots in a list of ranges. */
function rangesCount(ranges: readonly { start: number; end: number }[]): number {
  return ranges.reduce((n, r) => n + r.end - r.start + 1, 0);
}

function timed(label: string, ms: number): void {
  timings.push(`${label}: ${(ms / 1000).toFixed(2)} s`);
  console.log(`# timing ${label}: ${(ms / 1000).toFixed(2)} s`);
}

after(() => {
  if (timings.length > 0) console.log(`# operation timings (compare with docs/redis-cluster.md)\n#   ${timings.join('\n#   ')}`);
});

/** All slots assigned to `primaries` primaries; `replicas[i]` replicas for the i-th
 * primary in id order (one number: the same for all). */
function assertComplete(t: Topology, primaries: number, replicas: number | number[]): void {
  const prim = primariesOf(t).filter((p) => p.slotCount > 0);
  assert.equal(prim.length, primaries, 'primaries with slots');
  assert.equal(prim.reduce((n, p) => n + p.slotCount, 0), SLOT_COUNT, 'all slots assigned');
  const got = prim.map((p) => replicasOf(t, p.id).length);
  const want = Array.isArray(replicas) ? replicas : prim.map(() => replicas);
  assert.deepEqual([...got].sort(), [...want].sort(), 'replicas per primary');
}

async function assertCheckOk(addr: NodeAddress): Promise<void> {
  const check = await clusterCheck(addr);
  assert.ok(check.ok, `cluster check failed:\n${check.output}`);
}

async function rejects(p: Promise<unknown>, reason: string): Promise<RedisOpError> {
  try {
    await p;
  } catch (err) {
    assert.ok(isRedisOpError(err), `expected a RedisOpError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    return err;
  }
  assert.fail(`expected ${reason}`);
}

/** A 3-primary cluster with `replicas` replicas each; returns ops and the servers. */
async function formShards(bin: ServerBin, shards: number, replicas: number): Promise<{ ops: RedisClusterOps; primaries: Server[]; replicas: Server[]; formMs: number; joinMs: number }> {
  const nodes = await start(bin, shards * (1 + replicas));
  const prim = nodes.slice(0, shards);
  const repl = nodes.slice(shards);
  const ops = new RedisClusterOps({ logger: LOGGER });
  const t0 = Date.now();
  const formed = await formCluster(ops, prim.map((s) => s.addr));
  const formMs = Date.now() - t0;
  const ids = await Promise.all(prim.map((s) => withNode(s.addr, (c) => command<string>(c, 'CLUSTER', 'MYID'))));
  assert.equal(formed.changed, true);
  const t1 = Date.now();
  // Replicas of different node groups join concurrently? No: each join recomputes the
  // topology and waits for agreement, so they are done one after the other.
  for (let i = 0; i < repl.length; i++) {
    const r = repl[i];
    const pid = ids[i % shards];
    if (r && pid) await ops.addReplica(r.addr, pid);
  }
  return { ops, primaries: prim, replicas: repl, formMs, joinMs: Date.now() - t1 };
}

// ---------------------------------------------------------------------------------
// Scenarios (run concurrently, each on its own nodes)

// The scenarios run one after the other, so that the printed timings are not inflated
// by another scenario sharing the CPU and this process's event loop (measured: a
// failover took 0.55 s alone and up to 5 s next to the 100k-key scenario).
// COXSWAIN_TEST_CONCURRENT=1 runs them at once: ~25% faster, timings not comparable.
const CONCURRENCY = process.env['COXSWAIN_TEST_CONCURRENT'] === '1' ? true : 1;

describe('Redis Cluster operations on real servers', { concurrency: CONCURRENCY, timeout: 170_000 }, () => {
  test('form a cluster of 1 primary; refusals (non-empty node, removal while a member is down)', async () => {
    const [a, b] = await start('redis-server', 2);
    assert.ok(a && b);
    const ops = new RedisClusterOps({ logger: LOGGER });
    const t0 = Date.now();
    const r = await formCluster(ops, [a.addr]);
    timed('formCluster 1 primary', Date.now() - t0);
    assert.equal(r.changed, true);
    assertComplete(r.topology, 1, 0);
    await assertCheckOk(a.addr);

    const again = await formCluster(ops, [a.addr]);
    assert.equal(again.changed, false, 'second formCluster is a no-op');

    // A node with keys is refused by a new formation.
    const c = clusterClient([a.addr]);
    await c.set('some-key', 'x');
    const err = await rejects(formCluster(new RedisClusterOps({ logger: LOGGER }), [a.addr, b.addr]), 'NOT_EMPTY');
    assert.match(err.message, /holds 1 keys/);
    assert.match(err.message, /What to do:/);

    // Removal waits for members that are down (they would gossip the node back in).
    const [r1, r2] = await start('redis-server', 2);
    assert.ok(r1 && r2);
    const pid = r.topology.nodes[0]?.id ?? '';
    const j1 = await ops.addReplica(r1.addr, pid);
    const j2 = await ops.addReplica(r2.addr, pid);
    await stop(r2);
    const down = await rejects(ops.removeNode(j1.nodeId), 'UNREACHABLE');
    assert.match(down.message, new RegExp(`${j2.nodeId.slice(0, 8)}.*is unreachable`));
    assert.equal(down.kind, 'transient');
  });

  test('form a cluster of 2 primaries (fewer than --cluster create accepts), completing a partial formation', async () => {
    const nodes = await start('valkey-server', 3);
    const [a, b, other] = nodes;
    assert.ok(a && b && other);
    // A crash part-way through an earlier formation: the node first by address already
    // claimed its share. formCluster completes the formation instead of refusing it.
    const [lo, hi] = [a, b].sort((x, y) => (`${x.addr.host}:${x.addr.port}` < `${y.addr.host}:${y.addr.port}` ? -1 : 1));
    assert.ok(lo && hi);
    await withNode(lo.addr, (c) => command(c, 'CLUSTER', 'ADDSLOTSRANGE', 0, 8191));
    const ops = new RedisClusterOps({ logger: LOGGER });
    const t0 = Date.now();
    const r = await formCluster(ops, [a.addr, b.addr]);
    timed('formCluster 2 primaries (Valkey 8.0)', Date.now() - t0);
    assert.equal(r.changed, true);
    assertComplete(r.topology, 2, 0);
    await assertCheckOk(b.addr);
    // A node of this cluster is refused as a member of another one.
    await rejects(formCluster(new RedisClusterOps({ logger: LOGGER }), [a.addr, other.addr]), 'FOREIGN_CLUSTER');
  });

  test('3 primaries × 1 replica: form, failover under load, idempotency, refusals', async (t) => {
    const { ops, primaries, replicas, formMs, joinMs } = await formShards('redis-server', 3, 1);
    timed('formCluster 3 primaries', formMs);
    timed('addReplica ×3 (one after the other)', joinMs);
    timed('form 3×1 in total', formMs + joinMs);
    const topo = (await ops.observe()).topology;
    assertComplete(topo, 3, 1);
    const first = primaries[0];
    const r0 = replicas[0];
    assert.ok(first && r0);
    await assertCheckOk(first.addr);

    await t.test('repeating formCluster and addReplica changes nothing', async () => {
      assert.equal((await formCluster(ops, primaries.map((s) => s.addr))).changed, false);
      const pid = await withNode(first.addr, (c) => command<string>(c, 'CLUSTER', 'MYID'));
      const again = await ops.addReplica(r0.addr, pid);
      assert.equal(again.changed, false);
    });

    await t.test('refusals: removing a primary with slots, failover of a primary', async () => {
      const t1 = (await ops.observe()).topology;
      const p = primariesOf(t1).find((n) => n.slotCount > 0);
      assert.ok(p);
      const e = await rejects(ops.removeNode(p.id), 'NOT_EMPTY');
      assert.match(e.message, /move its slots to the other primaries first \(MoveData\)/);
      await rejects(ops.failover('0'.repeat(40)), 'UNKNOWN_NODE');
    });

    await t.test('planned failover with a client writing: zero errors, every write kept', async () => {
      const c = clusterClient(primaries.map((s) => s.addr));
      await writeKeys(c, 20_000);
      const t1 = (await ops.observe()).topology;
      const writer = startWriter(c, 'fo');
      await delay(300);
      const results: number[] = [];
      // Every node group in turn, as a rolling restart does.
      for (const p of primariesOf(t1).filter((n) => n.slotCount > 0)) {
        const rep = replicasOf(t1, p.id)[0];
        assert.ok(rep);
        const r = await ops.failover(rep.id);
        assert.equal(r.changed, true);
        assert.equal(findNode(r.topology, rep.id)?.role, 'primary');
        assert.equal(findNode(r.topology, p.id)?.primaryId, rep.id, 'old primary is the new replica');
        results.push(r.ms);
      }
      await delay(300);
      const { acked, errors, maxLatencyMs } = await writer.stop();
      for (const [i, ms] of results.entries()) timed(`failover node group ${i + 1} (planned, under load)`, ms);
      console.log(`# failover client: ${acked.size} acknowledged writes, ${errors.length} errors, max latency ${maxLatencyMs} ms`);
      assert.deepEqual(errors, [], 'no client errors');
      assert.equal(await verifyAcked(c, acked), 0, 'every acknowledged write is read back');
      assert.equal(await verifyKeys(c, 20_000), 0);
      const rep0 = replicasOf(t1, primariesOf(t1).find((n) => n.slotCount > 0)?.id ?? '')[0];
      assert.ok(rep0);
      const again = await ops.failover(rep0.id);
      assert.equal(again.changed, false, 'failover of a node that is already primary is a no-op');
      await assertCheckOk(first.addr);
    });
  });

  test('3×2 with 100k keys: add a node group, move its share (abort + resume), drain, remove', async (t) => {
    const { ops, primaries } = await formShards('redis-server', 3, 2);
    const all = primaries.map((s) => s.addr);
    const c = clusterClient(all);
    const N = 100_000;
    let t0 = Date.now();
    await writeKeys(c, N);
    timed('write 100k keys', Date.now() - t0);
    const [np, nr] = await start('redis-server', 2);
    assert.ok(np && nr);

    let newPrimaryId = '';
    await t.test('add a node group and move its share of the slots', async () => {
      t0 = Date.now();
      const joined = await addEmptyPrimary(ops, np.addr);
      const tJoinP = Date.now() - t0;
      newPrimaryId = joined.nodeId;
      const rep = await ops.addReplica(nr.addr, newPrimaryId);
      const tJoin = Date.now() - t0;
      assert.equal((await addEmptyPrimary(ops, np.addr)).changed, false, 'second addEmptyPrimary is a no-op');

      // The share of the new group: planned from the topology, moved source by source.
      const moves = planRebalance(rep.topology);
      assert.equal(moves.reduce((n, m) => n + m.slots.length, 0), 4096);
      const [firstMove, ...rest] = moves;
      assert.ok(firstMove);

      // Abort the first move part-way, then repeat it: the second call finishes it.
      const ac = new AbortController();
      const seen: MoveProgress[] = [];
      const tMove = Date.now();
      const aborted = ops.moveSlots(firstMove.fromId, firstMove.toId, firstMove.slots, {
        signal: ac.signal,
        onProgress: (p) => {
          seen.push(p);
          if (p.slotsDone >= 256) ac.abort(new Error('test abort'));
        },
      });
      await rejects(aborted, 'OP_ABORTED');
      assert.ok(seen.some((p) => p.slotsDone > 0 && p.slotsDone < firstMove.slots.length), 'stopped part-way');
      const resumed = await ops.moveSlots(firstMove.fromId, firstMove.toId, firstMove.slots);
      assert.equal(resumed.changed, true);
      for (const m of rest) await ops.moveSlots(m.fromId, m.toId, m.slots);
      const moveMs = Date.now() - tMove;
      timed('addEmptyPrimary', tJoinP);
      timed('addEmptyPrimary + addReplica (new node group)', tJoin);
      timed('move 4096 slots (~25k keys) to the new group, incl. an abort and resume', moveMs);
      timed('add node group + move, in total', tJoin + moveMs);

      const after = (await ops.observe()).topology;
      assert.equal(findNode(after, newPrimaryId)?.slotCount, 4096);
      assertComplete(after, 4, [2, 2, 2, 1]);
      assert.equal(planRebalance(after).length, 0, 'even');
      const again = await ops.moveSlots(firstMove.fromId, firstMove.toId, firstMove.slots);
      assert.equal(again.changed, false, 'repeating a finished move is a no-op');
      t0 = Date.now();
      assert.equal(await verifyKeys(c, N), 0, 'every key read back after the move');
      timed('read back 100k keys', Date.now() - t0);
      await assertCheckOk(np.addr);
    });

    await t.test('drain the node group and remove it', async () => {
      t0 = Date.now();
      const planned = planDrain((await ops.observe()).topology, newPrimaryId);
      assert.equal(planned.length, 3);
      const drained = await drainPrimary(ops, newPrimaryId);
      const tDrain = Date.now() - t0;
      assert.equal(findNode(drained.topology, newPrimaryId)?.slotCount, 0);
      assert.ok(drained.keysMoved > 20_000, `moved ${drained.keysMoved} keys`);
      assert.equal(await verifyKeys(c, N), 0, 'every key read back after the drain');
      const t1 = Date.now();
      const replicaId = replicasOf(drained.topology, newPrimaryId)[0]?.id;
      assert.ok(replicaId, 'the replica stayed with its drained primary (allow-replica-migration no)');
      await rejects(ops.removeNode(newPrimaryId), 'HAS_REPLICAS');
      const r1 = await ops.removeNode(replicaId);
      const r2 = await ops.removeNode(newPrimaryId);
      const tRemove = Date.now() - t1;
      assert.ok(r1.changed && r2.changed && r1.reset && r2.reset);
      timed('drainPrimary (4096 slots, ~25k keys)', tDrain);
      timed('removeNode replica + primary', tRemove);
      timed('drain + remove, in total', tDrain + tRemove);
      assert.equal(r2.topology.nodes.length, 9);
      assertComplete(r2.topology, 3, 2);
      assert.equal((await ops.removeNode(newPrimaryId)).changed, false, 'second removeNode is a no-op');
      assert.equal(await verifyKeys(c, N), 0, 'every key read back after the removal');
      // The removed processes still run (trap 5), as empty, reset nodes.
      for (const s of [np, nr]) {
        const known = await withNode(s.addr, (cl) => command<string>(cl, 'CLUSTER', 'NODES'));
        assert.equal(known.trim().split('\n').length, 1, 'a removed node knows only itself');
      }
      await assertCheckOk(all[0] ?? np.addr);
    });
  });

  test('3×2 → 3×1: a replica of each node group removed at once, each stopped as soon as it is out (as the agents do)', async () => {
    // Seen end to end (replicationFactor 3 → 2): each removal remembered the other
    // replicas as members; once another call had reset them, its wait for agreement
    // MET them back in as empty primaries, and once they were stopped it waited for
    // them until its deadline, again and again.
    const { primaries, replicas } = await formShards('redis-server', 3, 2);
    const second = replicas.slice(3);
    const ids = await Promise.all(second.map((s) => withNode(s.addr, (c) => command<string>(c, 'CLUSTER', 'MYID'))));
    const t0 = Date.now();
    await Promise.all(
      second.map(async (s, i) => {
        const removed = await new RedisClusterOps({ seeds: [s.addr], logger: LOGGER, agreementTimeoutMs: 15_000 }).removeNode(ids[i] ?? '');
        assert.ok(removed.changed && removed.reset);
        await stop(s);
      }),
    );
    const ms = Date.now() - t0;
    timed('removeNode ×3 at once, each node stopped right after', ms);
    // A fresh view from the primaries (`ops` still remembers the removed addresses).
    const after = await new RedisClusterOps({ seeds: primaries.map((p) => p.addr) }).agree('test', { timeoutMs: 10_000 });
    assert.equal(after.topology.nodes.length, 6, `members: ${after.topology.nodes.map((n) => formatAddr(n.addr)).join(', ')}`);
    assertComplete(after.topology, 3, 1);
    for (const id of ids) assert.equal(findNode(after.topology, id), undefined, 'a removed node is not met back in');
    await assertCheckOk(primaries[0]?.addr ?? { host: '127.0.0.1', port: 0 });
  });

  test('addReplica of a half-joined node (it lists the members, they do not list it) joins it all the same', async () => {
    // Seen in the crash test: a node killed while joining came back with its nodes.conf
    // listing the members, whose handshake with it never completed. The members ignore
    // its pings, so nothing changes by itself; the join's agreement wait has the members
    // meet it (pushNews). Made here with FORGET.
    const { ops, primaries } = await formShards('redis-server', 3, 0);
    const [fresh] = await start('redis-server', 1);
    const [p0] = primaries;
    assert.ok(fresh && p0);
    const joined = await addEmptyPrimary(ops, fresh.addr);
    const id = joined.nodeId;
    await Promise.all(primaries.map((s) => withNode(s.addr, (c) => command(c, 'CLUSTER', 'FORGET', id))));
    const listed = async (addr: NodeAddress): Promise<boolean> =>
      parseClusterNodes(String(await withNode(addr, (c) => command<string>(c, 'CLUSTER', 'NODES')))).some((r) => r.id === id);
    assert.deepEqual(await Promise.all(primaries.map((s) => listed(s.addr))), [false, false, false], 'the members forgot it');
    const itsView = parseClusterNodes(String(await withNode(fresh.addr, (c) => command<string>(c, 'CLUSTER', 'NODES'))));
    assert.equal(itsView.filter((r) => !r.myself && !r.flags.includes('handshake')).length, 3, 'it still lists the three members');

    const p0Id = await withNode(p0.addr, (c) => command<string>(c, 'CLUSTER', 'MYID'));
    const t0 = Date.now();
    const r = await new RedisClusterOps({ seeds: primaries.map((s) => s.addr), agreementTimeoutMs: 15_000, logger: LOGGER }).addReplica(fresh.addr, p0Id);
    timed('addReplica of a half-joined node', Date.now() - t0);
    assert.equal(r.changed, true);
    assert.equal(findNode(r.topology, id)?.role, 'replica');
    assert.equal(findNode(r.topology, id)?.primaryId, p0Id);
    assert.deepEqual(await Promise.all(primaries.map((s) => listed(s.addr))), [true, true, true], 'every member lists it again');
  });

  test('addReplica to a primary that is down fails at once (UNREACHABLE), not after waiting for a sync', async () => {
    const { primaries } = await formShards('redis-server', 3, 0);
    const [dead, alive] = primaries;
    const [fresh] = await start('redis-server', 1);
    assert.ok(dead && alive && fresh);
    const deadId = await withNode(dead.addr, (c) => command<string>(c, 'CLUSTER', 'MYID'));
    await stop(dead);
    const t0 = Date.now();
    const e = await rejects(new RedisClusterOps({ seeds: [alive.addr] }).addReplica(fresh.addr, deadId), 'UNREACHABLE');
    assert.match(e.message, /does not answer|marked failed/);
    assert.ok(Date.now() - t0 < 5_000, `refused in ${Date.now() - t0} ms`);
  });

  test('addReplica while another member is down (flagged fail): the join does not wait for it', async () => {
    // Seen end to end: a primary killed while the leader added replicas to other node
    // groups held those joins (waiting for every node to agree) until their deadlines.
    const { primaries, replicas } = await formShards('redis-server', 3, 1);
    const [gone] = replicas;
    const [target] = primaries;
    const [fresh] = await start('redis-server', 1);
    assert.ok(gone && target && fresh);
    const targetId = await withNode(target.addr, (c) => command<string>(c, 'CLUSTER', 'MYID'));
    // Coxswain's cluster-node-timeout (agent/engines/redis/config.ts), not the default 15 s.
    await Promise.all([...primaries, ...replicas, fresh].map((s) => withNode(s.addr, (c) => command(c, 'CONFIG', 'SET', 'cluster-node-timeout', '2000'))));
    await stop(gone);
    const t0 = Date.now();
    const joined = await new RedisClusterOps({ seeds: primaries.map((p) => p.addr), agreementTimeoutMs: 20_000 }).addReplica(fresh.addr, targetId);
    timed('addReplica while a member is down (until the cluster flags it fail)', Date.now() - t0);
    assert.equal(findNode(joined.topology, joined.nodeId)?.primaryId, targetId);
  });

  test('moveSlots while a replica is down (flagged fail): the move does not wait for it', async () => {
    const { primaries, replicas } = await formShards('redis-server', 3, 1);
    const [from, to] = primaries;
    const [gone] = replicas;
    assert.ok(from && to && gone);
    await Promise.all([...primaries, ...replicas].map((s) => withNode(s.addr, (c) => command(c, 'CONFIG', 'SET', 'cluster-node-timeout', '2000'))));
    const [fromId, toId] = await Promise.all([from, to].map((s) => withNode(s.addr, (c) => command<string>(c, 'CLUSTER', 'MYID'))));
    await stop(gone);
    const t0 = Date.now();
    const moved = await new RedisClusterOps({ seeds: primaries.map((p) => p.addr), agreementTimeoutMs: 20_000 }).moveSlots(fromId ?? '', toId ?? '', { count: 16 });
    timed('moveSlots (16 slots) while a replica is down', Date.now() - t0);
    assert.equal(moved.changed, true);
    assert.equal(rangesCount(moved.slots), 16);
  });

  test('failover while a replica of another node group is down (flagged fail): the failover does not wait for it', async () => {
    const { primaries, replicas } = await formShards('redis-server', 3, 1);
    const [gone, promoted] = replicas;
    assert.ok(gone && promoted);
    await Promise.all([...primaries, ...replicas].map((s) => withNode(s.addr, (c) => command(c, 'CONFIG', 'SET', 'cluster-node-timeout', '2000'))));
    const promotedId = await withNode(promoted.addr, (c) => command<string>(c, 'CLUSTER', 'MYID'));
    await stop(gone);
    // Let the cluster flag it failed, as it would be by the time the leader asks.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const t0 = Date.now();
    const result = await new RedisClusterOps({ seeds: primaries.map((p) => p.addr), agreementTimeoutMs: 20_000 }).failover(promotedId);
    timed('failover while a replica of another group is down', Date.now() - t0);
    assert.equal(result.changed, true);
    assert.equal(findNode(result.topology, promotedId)?.role, 'primary');
  });

  test('mixed versions: a Valkey 8.0 replica of a Redis 7.0 primary, failover to it', async () => {
    const [p] = await start('redis-server', 1);
    const [v] = await start('valkey-server', 1);
    assert.ok(p && v);
    const ops = new RedisClusterOps({ logger: LOGGER });
    await formCluster(ops, [p.addr]);
    const c = clusterClient([p.addr]);
    await writeKeys(c, 10_000);
    const pid = await withNode(p.addr, (cl) => command<string>(cl, 'CLUSTER', 'MYID'));
    const joined = await ops.addReplica(v.addr, pid);
    const writer = startWriter(c, 'mixed');
    const t0 = Date.now();
    const fo = await ops.failover(joined.nodeId);
    timed('failover Redis 7.0 → Valkey 8.0 (rolling-upgrade step)', Date.now() - t0);
    const { acked, errors } = await writer.stop();
    assert.deepEqual(errors, []);
    assert.equal(findNode(fo.topology, joined.nodeId)?.role, 'primary');
    assert.equal(findNode(fo.topology, pid)?.primaryId, joined.nodeId);
    assert.equal(await verifyKeys(c, 10_000), 0);
    assert.equal(await verifyAcked(c, acked), 0);
    // The old 7.0 primary follows the 8.0 primary (partial resync, no RDB to load).
    const link = await withNode(p.addr, (cl) => command<string>(cl, 'INFO', 'replication'));
    assert.match(link, /master_link_status:up/);
    await assertCheckOk(v.addr);
    // The other tool works against the other server, too.
    const cross = await runTool('redis-cli', ['--cluster', 'check', `${v.addr.host}:${v.addr.port}`]);
    assert.equal(cross.code, 0, cross.output);
  });
});

// ---------------------------------------------------------------------------------
// Opt-in measurement (COXSWAIN_BENCH_RESHARD=1): moving slots with this module versus
// `redis-cli --cluster reshard`, on 100k keys, in one run on the same cluster, plus what
// an interrupted reshard leaves behind and whether the tools work across versions.

const BENCH = process.env['COXSWAIN_BENCH_RESHARD'] === '1';

describe('reshard: moveSlots versus redis-cli --cluster reshard (COXSWAIN_BENCH_RESHARD=1)', { skip: !BENCH, timeout: 600_000 }, () => {
  test('100k keys, 1365 slots per move, alternating', async () => {
    const { ops, primaries } = await formShards('redis-server', 3, 1);
    const [extra, extraReplica] = await start('redis-server', 2);
    assert.ok(extra && extraReplica);
    const c = clusterClient(primaries.map((s) => s.addr));
    await writeKeys(c, 100_000);
    const toId = (await addEmptyPrimary(ops, extra.addr)).nodeId;
    await ops.addReplica(extraReplica.addr, toId);
    const a = primaries[0];
    assert.ok(a);
    const fromId = await withNode(a.addr, (cl) => command<string>(cl, 'CLUSTER', 'MYID'));
    const seed = `${a.addr.host}:${a.addr.port}`;
    const rows: string[] = [];
    const slotsOf = async (id: string): Promise<number[]> => {
      const n = findNode((await ops.observe()).topology, id);
      const out: number[] = [];
      for (const r of n?.slots ?? []) for (let s = r.start; s <= r.end; s++) out.push(s);
      return out;
    };
    for (let round = 1; round <= 2; round++) {
      let t0 = Date.now();
      const mine = await ops.moveSlots(fromId, toId, { count: 1365 });
      rows.push(`round ${round}: moveSlots 1365 slots, ${mine.keysMoved} keys: ${Date.now() - t0} ms (agreed at return)`);
      await ops.moveSlots(toId, fromId, await slotsOf(toId));
      for (const pipeline of ['10', '1000']) {
        t0 = Date.now();
        const run = await runTool('redis-cli', ['--cluster', 'reshard', seed, '--cluster-from', fromId, '--cluster-to', toId, '--cluster-slots', '1365', '--cluster-yes', '--cluster-pipeline', pipeline], { timeoutMs: 300_000 });
        const cliMs = Date.now() - t0;
        assert.equal(run.code, 0, run.output.slice(-2000));
        await ops.agree('bench');
        rows.push(`round ${round}: redis-cli reshard --cluster-pipeline ${pipeline}: ${cliMs} ms, agreed after ${Date.now() - t0} ms`);
        await ops.moveSlots(toId, fromId, await slotsOf(toId));
      }
    }
    // Interrupted: kill redis-cli part-way; then moveSlots with the same intent finishes.
    const ac = new AbortController();
    const killer = setTimeout(() => ac.abort(new Error('killed')), 400);
    const killed = await runTool('redis-cli', ['--cluster', 'reshard', seed, '--cluster-from', fromId, '--cluster-to', toId, '--cluster-slots', '1365', '--cluster-yes'], { signal: ac.signal }).catch((e: unknown) => e);
    clearTimeout(killer);
    const check = await clusterCheck(a.addr);
    rows.push(`redis-cli reshard killed after 400 ms (${isRedisOpError(killed) ? killed.reason : 'finished'}): cluster check ok=${check.ok}; ${check.output.split('\n').filter((l) => /WARNING|ERR|open/i.test(l)).slice(0, 3).join(' / ')}`);
    const t0 = Date.now();
    const resumed = await ops.moveSlots(fromId, toId, []);
    rows.push(`moveSlots afterwards: finished ${resumed.resumedSlots} half-moved slots in ${Date.now() - t0} ms`);
    assert.ok((await clusterCheck(a.addr)).ok);
    assert.equal(await verifyKeys(c, 100_000), 0);
    console.log(`# reshard benchmark\n#   ${rows.join('\n#   ')}`);
  });

  test('redis-cli 7.0 against Valkey 8.0 nodes, valkey-cli 8.0 against Redis 7.0 nodes', async () => {
    for (const [bin, tool] of [['valkey-server', 'redis-cli'], ['redis-server', 'valkey-cli']] as const) {
      const nodes = await start(bin, 2);
      const [x, y] = nodes;
      assert.ok(x && y);
      const ops = new RedisClusterOps({ logger: LOGGER });
      const formed = await formCluster(ops, [x.addr, y.addr]);
      const c = clusterClient([x.addr]);
      await writeKeys(c, 5_000);
      const [p1, p2] = primariesOf(formed.topology);
      assert.ok(p1 && p2);
      const run = await runTool(tool, ['--cluster', 'reshard', `${x.addr.host}:${x.addr.port}`, '--cluster-from', p1.id, '--cluster-to', p2.id, '--cluster-slots', '100', '--cluster-yes'], { timeoutMs: 60_000 });
      await ops.agree('compat');
      const check = await runTool(tool, ['--cluster', 'check', `${y.addr.host}:${y.addr.port}`]);
      console.log(`# ${tool} --cluster reshard/check against ${bin}: exit ${run.code}/${check.code}`);
      assert.equal(run.code, 0, run.output.slice(-1000));
      assert.equal(check.code, 0, check.output);
      assert.equal(await verifyKeys(c, 5_000), 0);
    }
  });
});
