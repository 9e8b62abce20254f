// The Coxswain side of `make bench`: the same operations as baseline.ts, on the same
// shape and data with the same writer, driven only through Coxswain's PUBLIC command
// line (docs/desired-state.md, "The command line"), as a person would:
//
//   coxswain up -f FILE --detach --state-dir D      bootstrap (FILE at id 1)
//   edit FILE (operator/demo/edit-jsonc.ts), raising "id" each time:
//     nodeGroups 4                                   scale-out
//     nodeGroups 3                                   scale-in
//     runningSince = id                              rolling-restart
//     version "8.0"                                  upgrade
//     nodeGroups 4, then 3                           scale-out-valkey, scale-in-valkey (on 8.0)
//     backups [{ id, sink: local dir }]              backup
//   coxswain wait --id N --timeout S --state-dir D  after each: exit 0 once AT_DESIRED_STATE
//   coxswain status --json --state-dir D            the data nodes' addresses, for the client
//   a second cluster (FILE2, state dir D2) with restoreFromBackup naming the backup: restore
//   coxswain down --purge --state-dir D (and D2)     at the end, always
//
// Each operation is timed from the command that asks for it (up, or the write of the
// edited FILE) to `wait` returning 0. Ports come from the local VM provider's bases,
// COXSWAIN_DATA_PORT_BASE and COXSWAIN_AGENT_PORT_BASE, given to `up` in its environment.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { editJsonc } from '../../operator/demo/edit-jsonc.ts';
import { AGENT_PORT_BASE_ENV, CliCluster, CoxswainCommandError, DATA_PORT_BASE_ENV, EXAMPLE_FILE } from '../support/cli-cluster.ts';
import { ClusterWriter } from '../support/writer.ts';
import { registerCleanup } from './cleanup.ts';
import { expectCluster } from './cluster-check.ts';
import { checkDataSet, loadDataSet, probe } from './data-set.ts';
import { log } from './log.ts';
import { agentPids, dataNodePids, pidFromFile, rssKiB, rssOfPids } from './memory.ts';
import { ENGINE_CONFIG, SHAPE, emptySide, opResult } from './ops.ts';
import type { OpResult, OperationName, SideResult } from './ops.ts';
import { freePortRun } from './port-range.ts';

/** Ports reserved per cluster: 8 VMs at the widest (scale-out), room for temporary and replacement VMs. */
const PORTS_PER_CLUSTER = 16;

export interface CoxswainOptions {
  /** Keys of the data set. @default 100000 */
  keys?: number;
  /** The writer's bound on commands per second; 0 = unbounded. @default 0 */
  writerRate?: number;
  /** Longest wait for one operation, in s. @default 240 */
  opTimeoutSeconds?: number;
  /** Date.now() by which the last operation must be over: each wait gets at most what is left. @default none */
  deadline?: number;
  /** Where the temporary directory goes. @default os.tmpdir() */
  tmpRoot?: string;
}

/** A CliCluster whose failed `down --purge` is logged as the bench logs. */
function benchCluster(dir: string, name: string, env: NodeJS.ProcessEnv): CliCluster {
  return new CliCluster(dir, name, env, { warn: (message, fields) => log.warn(fields, message) });
}

/** The desired state of the bench cluster, from the documented example. */
export function benchDesiredState(example: string, fields: Record<string, unknown>): string {
  return editJsonc(example, {
    id: 1,
    version: '7.0',
    running: true,
    runningSince: 1,
    agentRunningSince: 1,
    nodeGroups: SHAPE.nodeGroups,
    replicationFactor: SHAPE.replicationFactor,
    config: ENGINE_CONFIG,
    backups: [],
    ...fields,
  });
}

/** Runs the whole sequence through the command line. Never throws: a failed step ends the run and is reported in `failure`. */
export async function runCoxswain(opts: CoxswainOptions = {}): Promise<SideResult> {
  const keys = opts.keys ?? 100_000;
  const timeout = opts.opTimeoutSeconds ?? 240;
  const result = emptySide('coxswain');
  const dir = await mkdtemp(path.join(opts.tmpRoot ?? os.tmpdir(), 'coxswain-bench-cli-'));
  const portEnv = async (): Promise<NodeJS.ProcessEnv> => ({
    ...process.env,
    [DATA_PORT_BASE_ENV]: String(await freePortRun(PORTS_PER_CLUSTER, { withBus: true })),
    [AGENT_PORT_BASE_ENV]: String(await freePortRun(PORTS_PER_CLUSTER)),
  });
  const main = benchCluster(dir, 'bench', await portEnv());
  let restored: CliCluster | undefined;
  let writer: ClusterWriter | undefined;
  const example = await readFile(EXAMPLE_FILE, 'utf8');
  const sink = { type: 'local', path: path.join(dir, 'backups') };
  const backupRef = { id: 'bench-backup', sink };
  log.info({ side: 'coxswain', dir }, 'coxswain: starting the sequence through the command line');

  const timed = async (name: OperationName, fn: () => Promise<void>): Promise<OpResult> => {
    writer?.lap();
    const started = performance.now();
    await fn();
    const seconds = (performance.now() - started) / 1000;
    const lap = writer?.lap() ?? { ops: 0, writes: 0, reads: 0, errors: 0, wrongReads: 0, maxLatencyMs: 0, seconds, opsPerSecond: 0 };
    const r = opResult(seconds, lap);
    log.info({ side: 'coxswain', op: name, ...r }, `coxswain ${name}: ${seconds.toFixed(2)} s, ${r.clientErrors} client errors`);
    return r;
  };
  const waitFor = (cluster: CliCluster, id: number): Promise<void> => {
    const left = opts.deadline === undefined ? timeout : Math.floor((opts.deadline - Date.now()) / 1000);
    if (left < 5) throw new CoxswainCommandError(`no time left in the bench's budget to wait for id ${id}`);
    return cluster.wait(id, Math.min(timeout, left));
  };
  const step = async (changes: Record<string, unknown>): Promise<void> => waitFor(main, await main.edit(changes));
  const unregister = registerCleanup(async () => {
    await restored?.down();
    await main.down();
    await rm(dir, { recursive: true, force: true });
  });

  try {
    await writeFile(main.file, benchDesiredState(example, { name: 'bench' }));
    await main.must(['validate', main.file]);
    const boot = await timed('bootstrap', async () => {
      main.started = true;
      await main.must(['up', '-f', main.file, '--detach'], 120_000);
      await waitFor(main, 1);
    });
    const nodes = await main.dataAddresses();
    await expectCluster('bootstrap', nodes, { members: 6, primaries: 3, server: 'redis 7.0' });
    writer = await ClusterWriter.start({ nodes, keyPrefix: 'coxswain:', maxOpsPerSecond: opts.writerRate ?? 0 });
    const loadSeconds = await loadDataSet(nodes, keys);
    result.load = { keys, seconds: loadSeconds };
    result.ops.bootstrap = opResult(boot.seconds, writer.lap());
    log.info({ side: 'coxswain', keys, seconds: loadSeconds }, `coxswain: loaded ${keys} keys in ${loadSeconds.toFixed(2)} s`);

    result.ops['scale-out'] = await timed('scale-out', () => step({ nodeGroups: SHAPE.nodeGroups + 1 }));
    await expectCluster('scale-out', await main.dataAddresses(), { members: 8, primaries: 4 });
    result.ops['scale-in'] = await timed('scale-in', () => step({ nodeGroups: SHAPE.nodeGroups }));
    await expectCluster('scale-in', await main.dataAddresses(), { members: 6, primaries: 3 });
    const restartBegan = Date.now();
    result.ops['rolling-restart'] = await timed('rolling-restart', () => step({ runningSince: main.id + 1 }));
    await expectCluster('rolling-restart', await main.dataAddresses(), { members: 6, primaries: 3, restartedAfter: restartBegan });
    const upgradeBegan = Date.now();
    result.ops.upgrade = await timed('upgrade', () => step({ version: '8.0' }));
    await expectCluster('upgrade', await main.dataAddresses(), { members: 6, primaries: 3, server: 'valkey 8.0', restartedAfter: upgradeBegan });
    result.ops['scale-out-valkey'] = await timed('scale-out-valkey', () => step({ nodeGroups: SHAPE.nodeGroups + 1 }));
    await expectCluster('scale-out-valkey', await main.dataAddresses(), { members: 8, primaries: 4, server: 'valkey 8.0' });
    result.ops['scale-in-valkey'] = await timed('scale-in-valkey', () => step({ nodeGroups: SHAPE.nodeGroups }));
    await expectCluster('scale-in-valkey', await main.dataAddresses(), { members: 6, primaries: 3, server: 'valkey 8.0' });
    result.ops.backup = await timed('backup', () => step({ backups: [backupRef] }));

    const status = await main.status();
    const ports = status.nodeGroups.flatMap((g) => g.nodes.map((n) => n.port));
    const leaderPid = await pidFromFile(path.join(main.stateDir, 'leader.pid'));
    result.memory = {
      leaderKiB: leaderPid === undefined ? undefined : await rssKiB(leaderPid),
      agentsKiB: await rssOfPids(await agentPids(main.stateDir)),
      dataNodesKiB: await rssOfPids(await dataNodePids(ports)),
    };

    const second = benchCluster(dir, 'bench-restored', await portEnv());
    restored = second;
    await writeFile(second.file, benchDesiredState(example, { name: 'bench-restored', version: '8.0', backups: [backupRef], restoreFromBackup: backupRef }));
    const restoreResult = await timed('restore', async () => {
      second.started = true;
      await second.must(['up', '-f', second.file, '--detach'], 120_000);
      await waitFor(second, 1);
    });
    const restoredNodes = await second.dataAddresses();
    await expectCluster('restore', restoredNodes, { members: 6, primaries: 3, server: 'valkey 8.0' });
    const probed = await probe(restoredNodes, 'coxswain-probe:');
    result.ops.restore = { ...restoreResult, clientErrors: restoreResult.clientErrors + probed.errors };
    result.restoredData = await checkDataSet(restoredNodes, keys);
  } catch (err) {
    result.failure = err instanceof Error ? err.message : String(err);
    log.error({ side: 'coxswain', err: result.failure }, `coxswain side stopped: ${result.failure}`);
    for (const c of [main, restored]) {
      const tail = c === undefined ? [] : await c.leaderLogTail(40);
      if (tail.length > 0) log.error({ side: 'coxswain', stateDir: c?.stateDir, leaderLog: tail }, 'the last lines of the leader log, before down --purge removes it');
    }
  } finally {
    if (writer !== undefined) {
      try {
        result.writer = await writer.stop();
        result.verify = await writer.verify();
      } catch (err) {
        result.failure ??= `verifying the writer's data: ${err instanceof Error ? err.message : String(err)}`;
      }
      await writer.close();
    }
    await restored?.down();
    await main.down();
    await rm(dir, { recursive: true, force: true });
    unregister();
  }
  return result;
}
