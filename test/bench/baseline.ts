// The baseline of `make bench`: every operation as the bare, hand-driven `redis-cli`
// sequence (docs/redis-cluster.md, "Timings"), on 3 primaries × 1 replica over
// loopback, timed, with the continuous writer running and its errors counted. No Coxswain code drives the cluster;
// the servers get the configuration the agent renders (agent/engines/redis/config.ts),
// so both sides run the same servers with the same settings.
//
// The sequence, each step one function returning its OpResult:
//   bootstrap        start 6 servers, `--cluster create … --cluster-replicas 1`, wait until
//                    cluster_state:ok and every node agrees (trap 1)
//   (load)           the data set, in batches of 5,000
//   scale-out        start a primary and a replica, add-node both, rebalance with empty masters
//   scale-in         rebalance the added primary to weight 0, del-node replica and primary,
//                    stop both processes (del-node does not: trap 5)
//   rolling-restart  per shard: restart the replica, CLUSTER FAILOVER on it, restart the
//                    old primary — each restarted replica in sync and every node agreeing
//                    before the next step; after the failover, agreeing on the slot map is
//                    enough to stop the old primary (bare-cluster.ts, Agreement)
//   upgrade          the same order, restarting on valkey-server (8.0) with the same data dir
//   scale-out-valkey, scale-in-valkey  scale-out and scale-in again, after the upgrade (Valkey 8.0)
//   backup           BGSAVE each primary, wait for the save (LASTSAVE / rdb_saves), copy
//                    dump.rdb, keep each shard's slot ranges in a manifest
//   restore          a fresh 6-node cluster of the backup's version, then per backed-up RDB a
//                    temporary non-cluster server (appendonly no: trap 3) and
//                    `redis-cli --cluster import --cluster-copy --cluster-replace` (trap 8),
//                    the three imports at once; timed from the first server start, since
//                    Coxswain's restore forms its new cluster too
// Every process is stopped by pid at the end and the temporary directory removed, also
// when a step fails.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineVersion } from '../../desired-state/types.ts';
import { ENGINES } from '../../desired-state/catalogue.ts';
import { freePorts } from '../support/ports.ts';
import { ClusterWriter } from '../support/writer.ts';
import type { ClusterAddress } from '../support/writer.ts';
import {
  BenchStepError,
  HOST,
  ProcessRegistry,
  addr,
  myId,
  nodeCommand,
  redisCli,
  roleOf,
  startNode,
  stopChild,
  stopNode,
  waitForAgreement,
  waitInSync,
} from './bare-cluster.ts';
import type { BareNode, ClusterNodeLine } from './bare-cluster.ts';
import { registerCleanup } from './cleanup.ts';
import { expectCluster } from './cluster-check.ts';
import { checkDataSet, loadDataSet, probe } from './data-set.ts';
import { log } from './log.ts';
import { rssKiB } from './memory.ts';
import { ENGINE_CONFIG, emptySide, opResult } from './ops.ts';
import type { OpResult, OperationName, SideResult } from './ops.ts';

export interface BaselineOptions {
  /** Keys of the data set. @default 100000 */
  keys?: number;
  /** The writer's bound on commands per second; 0 = unbounded. @default 0 */
  writerRate?: number;
  /** Where the temporary directory goes. @default os.tmpdir() */
  tmpRoot?: string;
}

interface Shard {
  primary: BareNode;
  replica: BareNode;
}

/** The state of the hand-driven run. */
class BaselineRun {
  readonly root: string;
  readonly registry = new ProcessRegistry();
  /** Members of the cluster under test, by position of creation. */
  nodes: BareNode[] = [];
  shards: Shard[] = [];
  version: EngineVersion = '7.0';
  writer: ClusterWriter | undefined;
  #count = 0;
  backupDir: string;
  backup: { version: EngineVersion; shards: { file: string; slots: string[] }[] } | undefined;
  restored: BareNode[] = [];

  constructor(root: string) {
    this.root = root;
    this.backupDir = path.join(root, 'backup');
  }

  async newNodes(count: number, version: EngineVersion, group: string): Promise<BareNode[]> {
    const ports = await freePorts(count, { withBus: true });
    return ports.map((port) => {
      const name = `n${this.#count++}`;
      return { name, port, dir: path.join(this.root, group, name), version, parameters: { ...ENGINE_CONFIG }, child: undefined, pid: undefined };
    });
  }

  addresses(nodes: readonly BareNode[] = this.nodes): ClusterAddress[] {
    return nodes.map((n) => ({ host: HOST, port: n.port }));
  }

  /** Shards from the agreed topology: each primary with its replica. */
  shardsFrom(lines: readonly ClusterNodeLine[], nodes: readonly BareNode[]): Shard[] {
    const byAddress = new Map(nodes.map((n) => [addr(n), n]));
    const byId = new Map(lines.map((l) => [l.id, l]));
    const shards: Shard[] = [];
    for (const line of lines) {
      if (line.role !== 'slave' || line.masterId === undefined) continue;
      const primaryLine = byId.get(line.masterId);
      const replica = byAddress.get(line.address);
      const primary = primaryLine === undefined ? undefined : byAddress.get(primaryLine.address);
      if (replica === undefined || primary === undefined) throw new BenchStepError(`cannot match ${line.address} and its primary to started nodes`);
      shards.push({ primary, replica });
    }
    return shards.sort((a, b) => a.primary.port - b.primary.port);
  }
}

/** Starts `nodes` in parallel, forms them into a cluster with one replica each, waits for agreement. */
async function formCluster(run: BaselineRun, nodes: BareNode[]): Promise<ClusterNodeLine[]> {
  await Promise.all(nodes.map((n) => startNode(n, run.registry)));
  await redisCli(['--cluster', 'create', ...nodes.map(addr), '--cluster-replicas', '1', '--cluster-yes']);
  return waitForAgreement(nodes);
}

/** Runs `fn` as operation `name` with the writer's lap as its window. */
async function timed(run: BaselineRun, name: OperationName, fn: () => Promise<void>): Promise<OpResult> {
  run.writer?.lap();
  const started = performance.now();
  await fn();
  const seconds = (performance.now() - started) / 1000;
  const lap = run.writer?.lap() ?? { ops: 0, writes: 0, reads: 0, errors: 0, wrongReads: 0, maxLatencyMs: 0, seconds, opsPerSecond: 0 };
  const result = opResult(seconds, lap);
  log.info({ side: 'baseline', op: name, ...result }, `baseline ${name}: ${seconds.toFixed(2)} s, ${result.clientErrors} client errors`);
  return result;
}

async function bootstrap(run: BaselineRun): Promise<void> {
  const nodes = await run.newNodes(6, run.version, 'cluster');
  run.nodes = nodes;
  const lines = await formCluster(run, nodes);
  run.shards = run.shardsFrom(lines, nodes);
}

async function scaleOut(run: BaselineRun): Promise<Shard> {
  const [primary, replica] = await run.newNodes(2, run.version, 'cluster');
  if (primary === undefined || replica === undefined) throw new BenchStepError('no ports for the new shard');
  const existing = run.nodes[0];
  if (existing === undefined) throw new BenchStepError('no cluster to scale out');
  await Promise.all([startNode(primary, run.registry), startNode(replica, run.registry)]);
  await redisCli(['--cluster', 'add-node', addr(primary), addr(existing)]);
  run.nodes.push(primary);
  await waitForAgreement(run.nodes);
  const primaryId = await myId(primary);
  await redisCli(['--cluster', 'add-node', addr(replica), addr(existing), '--cluster-slave', '--cluster-master-id', primaryId]);
  run.nodes.push(replica);
  await waitForAgreement(run.nodes);
  await waitInSync(replica);
  await redisCli(['--cluster', 'rebalance', addr(existing), '--cluster-use-empty-masters']);
  await waitForAgreement(run.nodes);
  const shard = { primary, replica };
  run.shards.push(shard);
  return shard;
}

async function scaleIn(run: BaselineRun, shard: Shard): Promise<void> {
  const existing = run.nodes.find((n) => n !== shard.primary && n !== shard.replica);
  if (existing === undefined) throw new BenchStepError('no other node to drive the scale-in from');
  const [primaryId, replicaId] = await Promise.all([myId(shard.primary), myId(shard.replica)]);
  await redisCli(['--cluster', 'rebalance', addr(existing), '--cluster-weight', `${primaryId}=0`]);
  await waitForAgreement(run.nodes);
  await redisCli(['--cluster', 'del-node', addr(existing), replicaId]);
  await redisCli(['--cluster', 'del-node', addr(existing), primaryId]);
  await Promise.all([stopNode(shard.replica), stopNode(shard.primary)]);
  run.nodes = run.nodes.filter((n) => n !== shard.primary && n !== shard.replica);
  run.shards = run.shards.filter((s) => s !== shard);
  await waitForAgreement(run.nodes);
}

/** Stops a node, starts it again on `version` (same dir, same config), waits for its sync and for agreement. */
async function restartReplica(run: BaselineRun, node: BareNode, version: EngineVersion): Promise<void> {
  await stopNode(node);
  node.version = version;
  await startNode(node, run.registry);
  await waitInSync(node);
  await waitForAgreement(run.nodes);
}

/** Per shard: the replica, a planned failover to it, the old primary (docs/redis-cluster.md). */
async function rolling(run: BaselineRun, version: EngineVersion): Promise<void> {
  for (const shard of run.shards) {
    await restartReplica(run, shard.replica, version);
    await nodeCommand<string>(shard.replica.port, 'CLUSTER', 'FAILOVER');
    const deadline = Date.now() + 30_000;
    while ((await roleOf(shard.replica)) !== 'master') {
      if (Date.now() > deadline) throw new BenchStepError(`CLUSTER FAILOVER on ${shard.replica.name} did not promote it within 30 s`);
      await sleep(10);
    }
    await waitForAgreement(run.nodes, 'slots');
    const old = shard.primary;
    shard.primary = shard.replica;
    shard.replica = old;
    await restartReplica(run, old, version);
  }
  run.version = version;
}

/** Waits until a BGSAVE that started after `before` finished (rdb_saves grew, none in progress). */
async function waitForSave(node: BareNode, before: { saves: number; lastsave: number }): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const info = await nodeCommand<string>(node.port, 'INFO', 'persistence');
    const saves = Number(/rdb_saves:(\d+)/.exec(info)?.[1] ?? NaN);
    const inProgress = /rdb_bgsave_in_progress:1/.test(info);
    const lastsave = await nodeCommand<number>(node.port, 'LASTSAVE');
    if (!inProgress && (saves > before.saves || lastsave > before.lastsave)) {
      if (!/rdb_last_bgsave_status:ok/.test(info)) throw new BenchStepError(`BGSAVE on ${node.name} failed; see ${node.dir}/redis.log`);
      return;
    }
    if (Date.now() > deadline) throw new BenchStepError(`BGSAVE on ${node.name} did not finish within 60 s`);
    await sleep(5);
  }
}

async function backup(run: BaselineRun): Promise<void> {
  await mkdir(run.backupDir, { recursive: true });
  const shards = await Promise.all(
    run.shards.map(async (shard, i) => {
      const node = shard.primary;
      const info = await nodeCommand<string>(node.port, 'INFO', 'persistence');
      const before = { saves: Number(/rdb_saves:(\d+)/.exec(info)?.[1] ?? 0), lastsave: await nodeCommand<number>(node.port, 'LASTSAVE') };
      await nodeCommand<string>(node.port, 'BGSAVE', 'SCHEDULE');
      await waitForSave(node, before);
      const file = path.join(run.backupDir, `shard-${i}.rdb`);
      await copyFile(path.join(node.dir, 'dump.rdb'), file);
      const own = (await nodeCommand<string>(node.port, 'CLUSTER', 'NODES')).split('\n').find((l) => l.includes('myself'));
      const slots = own?.trim().split(' ').slice(8) ?? [];
      return { file, slots };
    }),
  );
  run.backup = { version: run.version, shards };
  await writeFile(path.join(run.backupDir, 'manifest.json'), `${JSON.stringify(run.backup, null, 2)}\n`);
}

/** A temporary non-cluster server on one backed-up RDB (appendonly no: trap 3). */
async function startTempServer(run: BaselineRun, version: EngineVersion, rdb: string, index: number): Promise<{ port: number; stop: () => Promise<void> }> {
  const dir = path.join(run.root, 'restore-temp', `t${index}`);
  await mkdir(dir, { recursive: true });
  await copyFile(rdb, path.join(dir, 'dump.rdb'));
  const [port] = await freePorts(1);
  if (port === undefined) throw new BenchStepError('no port for a temporary server');
  const program = ENGINES.redis.versions[version].serverBinary;
  const out = await open(path.join(dir, 'server-output.log'), 'a');
  const child = spawn(
    program,
    ['--port', String(port), '--bind', HOST, '--dir', dir, '--dbfilename', 'dump.rdb', '--appendonly', 'no', '--save', '', '--daemonize', 'no'],
    { cwd: dir, detached: true, stdio: ['ignore', out.fd, out.fd] },
  );
  await out.close();
  run.registry.add(child);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await nodeCommand<string>(port, 'PING')) === 'PONG') break;
    } catch {
      // not listening yet, or still loading the RDB
    }
    if (child.exitCode !== null) throw new BenchStepError(`temporary ${program} on ${rdb} exited with code ${child.exitCode}; see ${dir}`);
    if (Date.now() > deadline) throw new BenchStepError(`temporary ${program} on ${rdb} did not answer within 30 s; see ${dir}`);
    await sleep(5);
  }
  return { port, stop: () => stopChild(child, 'SIGTERM', 10_000) };
}

async function restore(run: BaselineRun): Promise<void> {
  const backupSet = run.backup;
  if (backupSet === undefined) throw new BenchStepError('no backup to restore');
  const nodes = await run.newNodes(6, backupSet.version, 'restored');
  run.restored = nodes;
  await formCluster(run, nodes);
  const target = nodes[0];
  if (target === undefined) throw new BenchStepError('no restored cluster');
  // One temporary server per backed-up RDB, all imported at once (three shells by hand).
  const counts = await Promise.all(
    backupSet.shards.map(async (shard, i) => {
      const temp = await startTempServer(run, backupSet.version, shard.file, i);
      try {
        const keys = await nodeCommand<number>(temp.port, 'DBSIZE');
        await redisCli(['--cluster', 'import', addr(target), '--cluster-from', `${HOST}:${temp.port}`, '--cluster-copy', '--cluster-replace'], 300_000);
        return keys;
      } finally {
        await temp.stop();
      }
    }),
  );
  const expected = counts.reduce((a, b) => a + b, 0);
  const lines = await waitForAgreement(nodes);
  const primaries = nodes.filter((n) => lines.some((l) => l.address === addr(n) && l.role === 'master'));
  const sizes = await Promise.all(primaries.map((n) => nodeCommand<number>(n.port, 'DBSIZE')));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== expected) throw new BenchStepError(`the restored cluster holds ${total} keys, the backup ${expected}`);
}

/** Runs the whole hand-driven sequence once. Never throws: a failed step ends the run and is reported in `failure`. */
export async function runBaseline(opts: BaselineOptions = {}): Promise<SideResult> {
  const keys = opts.keys ?? 100_000;
  const result = emptySide('baseline');
  const root = await mkdtemp(path.join(opts.tmpRoot ?? os.tmpdir(), 'coxswain-bench-baseline-'));
  const run = new BaselineRun(root);
  const unregister = registerCleanup(async () => {
    await run.registry.killAll();
    await rm(root, { recursive: true, force: true });
  });
  log.info({ side: 'baseline', dir: root }, 'baseline: starting the hand-driven sequence');
  try {
    // bootstrap: no cluster to write to before; its window is the load right after it.
    const boot = await timed(run, 'bootstrap', () => bootstrap(run));
    await expectCluster('bootstrap', run.addresses(), { members: 6, primaries: 3, server: 'redis 7.0' });
    run.writer = await ClusterWriter.start({ nodes: run.addresses(), keyPrefix: 'baseline:', maxOpsPerSecond: opts.writerRate ?? 0 });
    const loadSeconds = await loadDataSet(run.addresses(), keys);
    result.load = { keys, seconds: loadSeconds };
    result.ops.bootstrap = opResult(boot.seconds, run.writer.lap());
    log.info({ side: 'baseline', keys, seconds: loadSeconds }, `baseline: loaded ${keys} keys in ${loadSeconds.toFixed(2)} s`);

    let added: Shard | undefined;
    result.ops['scale-out'] = await timed(run, 'scale-out', async () => {
      added = await scaleOut(run);
    });
    await expectCluster('scale-out', run.addresses(), { members: 8, primaries: 4 });
    result.ops['scale-in'] = await timed(run, 'scale-in', async () => {
      if (added === undefined) throw new BenchStepError('scale-out added no shard');
      await scaleIn(run, added);
    });
    await expectCluster('scale-in', run.addresses(), { members: 6, primaries: 3 });
    const restartBegan = Date.now();
    result.ops['rolling-restart'] = await timed(run, 'rolling-restart', () => rolling(run, run.version));
    await expectCluster('rolling-restart', run.addresses(), { members: 6, primaries: 3, restartedAfter: restartBegan });
    const upgradeBegan = Date.now();
    result.ops.upgrade = await timed(run, 'upgrade', () => rolling(run, '8.0'));
    await expectCluster('upgrade', run.addresses(), { members: 6, primaries: 3, server: 'valkey 8.0', restartedAfter: upgradeBegan });
    let addedValkey: Shard | undefined;
    result.ops['scale-out-valkey'] = await timed(run, 'scale-out-valkey', async () => {
      addedValkey = await scaleOut(run);
    });
    await expectCluster('scale-out-valkey', run.addresses(), { members: 8, primaries: 4, server: 'valkey 8.0' });
    result.ops['scale-in-valkey'] = await timed(run, 'scale-in-valkey', async () => {
      if (addedValkey === undefined) throw new BenchStepError('scale-out-valkey added no shard');
      await scaleIn(run, addedValkey);
    });
    await expectCluster('scale-in-valkey', run.addresses(), { members: 6, primaries: 3, server: 'valkey 8.0' });
    result.ops.backup = await timed(run, 'backup', () => backup(run));
    result.memory = { leaderKiB: undefined, agentsKiB: [], dataNodesKiB: await rssOf(run.nodes) };
    const restoreResult = await timed(run, 'restore', () => restore(run));
    await expectCluster('restore', run.addresses(run.restored), { members: 6, primaries: 3, server: 'valkey 8.0' });
    const probed = await probe(run.addresses(run.restored), 'baseline-probe:');
    result.ops.restore = { ...restoreResult, clientErrors: restoreResult.clientErrors + probed.errors };
    result.restoredData = await checkDataSet(run.addresses(run.restored), keys);
  } catch (err) {
    result.failure = err instanceof Error ? err.message : String(err);
    log.error({ side: 'baseline', err: result.failure }, `baseline stopped: ${result.failure}`);
  } finally {
    if (run.writer !== undefined) {
      try {
        result.writer = await run.writer.stop();
        result.verify = await run.writer.verify();
      } catch (err) {
        result.failure ??= `verifying the writer's data: ${err instanceof Error ? err.message : String(err)}`;
      }
      await run.writer.close();
    }
    await run.registry.killAll();
    await rm(root, { recursive: true, force: true });
    unregister();
  }
  return result;
}

async function rssOf(nodes: readonly BareNode[]): Promise<number[]> {
  const out: number[] = [];
  for (const n of nodes) {
    const kib = n.pid === undefined ? undefined : await rssKiB(n.pid);
    if (kib !== undefined) out.push(kib);
  }
  return out;
}
