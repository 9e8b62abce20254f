// End to end, from the outside, as a person runs it: the real `coxswain` binary, real
// agents over real gRPC, real redis-server 7.0 and valkey-server 8.0 processes, and a
// cluster-aware client writing and reading all along. Only the public command line
// drives the cluster: write the desired-state file, `up --detach`, edit the file raising
// "id", `wait --id N`, `status --json`, `jobs --json`, `down --purge`.
//
//   bootstrap 3 node groups × 2 on 7.0 → load 100k keys → start the writer →
//   replicationFactor 3 → 2 → nodeGroups 4 → 2 (below the start) → rolling restart →
//   rolling upgrade to 8.0 → rolling agent restart → VM replacement (vmType) → backup to
//   a local sink → a second cluster restored from that backup.
//
// After every step, checks that do not take Coxswain's word for it (kit.ts): redis-cli
// --cluster check, the shape from CLUSTER NODES and INFO, the 100k keys read back; and
// what each step must or must not have restarted (pids and /proc start times). At the
// end every acknowledged write of the writer is read back. Each step prints
// "e2e <step>: <s> s, client errors <n>". Every process started is stopped: down
// --purge, then by pid (with its start time) for anything left, which fails the test.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { editJsonc } from '../../operator/demo/edit-jsonc.ts';
import { checkDataSet, loadDataSet } from '../bench/data-set.ts';
import { EXAMPLE_FILE, killSeen, processesUnder } from '../support/cli-cluster.ts';
import type { CliCluster, SeenProcess } from '../support/cli-cluster.ts';
import { CLIENT_SETTINGS, ClusterWriter } from '../support/writer.ts';
import type { ClusterAddress, WriterCounts } from '../support/writer.ts';
import { checkCluster, e2eDir, failedTries, keepLogs, newCluster } from './kit.ts';
import type { Shape } from './kit.ts';

const KEYS = 100_000;
/** The writer's bound on commands per second: enough to see every hiccup, little enough for 2 cores. */
const WRITER_RATE = 1_500;
const WAIT_SECONDS = 240;
/** Data and agent ports per cluster: 3 × 3 VMs at the widest, room for replacements. */
const PORTS_PER_CLUSTER = 24;

interface StepLine {
  step: string;
  seconds: number;
  clientErrors: number;
  maxLatencyMs: number;
  settleSeconds: number;
}

/** The data nodes running now, by label ("node <id>"), from the pid files. */
function dataNodes(now: Map<string, SeenProcess>): Map<string, SeenProcess> {
  return new Map([...now].filter(([label]) => label.startsWith('node ')));
}

function agents(now: Map<string, SeenProcess>): Map<string, SeenProcess> {
  return new Map([...now].filter(([label]) => label.startsWith('agent ')));
}

const same = (a: SeenProcess | undefined, b: SeenProcess | undefined): boolean => a !== undefined && b !== undefined && a.pid === b.pid && a.startTime === b.startTime;

test('lifecycle through the command line: scale, restart, upgrade, agent restart, VM replacement, backup, restore; no acknowledged write lost', { timeout: 1_200_000 }, async () => {
  const testStarted = performance.now();
  const dir = await e2eDir('lifecycle');
  const main = await newCluster(dir, 'main', PORTS_PER_CLUSTER);
  let restored: CliCluster | undefined;
  let writer: ClusterWriter | undefined;
  const lines: StepLine[] = [];
  // Short-lived VMs (scale-out then in) come and go between commands: look every second.
  const tracker = setInterval(() => {
    void main.track();
    void restored?.track();
  }, 1_000);
  const example = await readFile(EXAMPLE_FILE, 'utf8');
  const backupRef = { id: 'e2e-backup', sink: { type: 'local', path: path.join(dir, 'backups') } };
  let shape: Shape = { nodeGroups: 3, replicationFactor: 2, version: '7.0' };
  console.log(`e2e client settings: ${JSON.stringify({ ...CLIENT_SETTINGS, maxOpsPerSecond: WRITER_RATE, concurrency: 4 })}`);

  /** Checks after a step; returns the addresses of the data nodes. */
  const checks = async (step: string, cluster: CliCluster, id: number, wanted: Shape): Promise<{ nodes: ClusterAddress[]; settleSeconds: number }> => {
    const report = await checkCluster(step, cluster, id, wanted);
    if (report.earlier.length > 0) console.log(`e2e ${step}: the checks passed only after ${report.settleSeconds.toFixed(1)} s; first: ${report.earlier[0] ?? ''}`);
    const data = await checkDataSet(report.nodes, KEYS);
    assert.deepEqual([data.checked, data.missing, data.wrong, data.unreadable], [KEYS, 0, 0, 0], `after ${step} the data set reads back whole: ${data.examples.join('; ')}`);
    return report;
  };

  /** One edit of the desired state, timed from the write of the file to `wait` exiting 0, then checked. */
  const step = async (name: string, changes: Record<string, unknown>, wanted: Shape, opts: { zeroErrors?: boolean } = {}): Promise<void> => {
    writer?.lap();
    const started = performance.now();
    const id = await main.edit(changes);
    await main.wait(id, WAIT_SECONDS);
    const seconds = (performance.now() - started) / 1000;
    const lap: WriterCounts | undefined = writer?.lap();
    const clientErrors = (lap?.errors ?? 0) + (lap?.wrongReads ?? 0);
    console.log(`e2e ${name}: ${seconds.toFixed(1)} s, client errors ${clientErrors} (max latency ${lap?.maxLatencyMs ?? 0} ms, ${lap?.opsPerSecond ?? 0} ops/s)`);
    shape = wanted;
    const report = await checks(name, main, id, wanted);
    lines.push({ step: name, seconds, clientErrors, maxLatencyMs: lap?.maxLatencyMs ?? 0, settleSeconds: report.settleSeconds });
    if (opts.zeroErrors === true) {
      assert.equal(clientErrors, 0, `no client error during ${name}: ${JSON.stringify(writer?.stats().errorSamples.slice(-5))}`);
    }
  };

  try {
    await writeFile(
      main.file,
      editJsonc(example, { id: 1, name: 'e2e', version: '7.0', running: true, nodeGroups: 3, replicationFactor: 2, maxReplicationFactor: 3, backups: [] }),
    );
    await main.must(['validate', main.file]);

    // ── bootstrap ──
    const bootStarted = performance.now();
    const up = await main.up();
    assert.match(up.stdout, /runs in the background \(pid \d+, epoch 1\)/);
    await main.wait(1, WAIT_SECONDS);
    const bootSeconds = (performance.now() - bootStarted) / 1000;
    console.log(`e2e bootstrap: ${bootSeconds.toFixed(1)} s, client errors 0 (no client yet)`);
    const boot = await checkCluster('bootstrap', main, 1, shape);
    lines.push({ step: 'bootstrap', seconds: bootSeconds, clientErrors: 0, maxLatencyMs: 0, settleSeconds: boot.settleSeconds });
    const loadSeconds = await loadDataSet(boot.nodes, KEYS);
    console.log(`e2e load: ${KEYS} keys in ${loadSeconds.toFixed(1)} s`);
    writer = await ClusterWriter.start({ nodes: boot.nodes, keyPrefix: 'e2e:', maxOpsPerSecond: WRITER_RATE, concurrency: 4 });

    // ── replicas and node groups ──
    await step('replicationFactor 3', { replicationFactor: 3 }, { ...shape, replicationFactor: 3 });
    await step('replicationFactor 2', { replicationFactor: 2 }, { ...shape, replicationFactor: 2 });
    await step('nodeGroups 4', { nodeGroups: 4 }, { ...shape, nodeGroups: 4 });
    await step('nodeGroups 2', { nodeGroups: 2 }, { ...shape, nodeGroups: 2 });

    // ── rolling restart: every data node restarted, no client error ──
    const beforeRestart = dataNodes(await main.track());
    await step('rolling restart', { runningSince: main.id + 1 }, shape, { zeroErrors: true });
    const afterRestart = dataNodes(await main.track());
    assert.equal(afterRestart.size, shape.nodeGroups * shape.replicationFactor);
    for (const [label, p] of afterRestart) assert.ok(!same(p, beforeRestart.get(label)), `${label} was restarted by the rolling restart`);

    // ── rolling upgrade to Valkey 8.0 ──
    await step('upgrade to 8.0', { version: '8.0' }, { ...shape, version: '8.0' }, { zeroErrors: true });

    // ── rolling agent restart: every agent new, every data node the same process ──
    const beforeAgents = await main.track();
    await step('agent restart', { agentRunningSince: main.id + 1 }, shape, { zeroErrors: true });
    const afterAgents = await main.track();
    for (const [label, p] of agents(afterAgents)) assert.ok(!same(p, beforeAgents.get(label)), `${label} was restarted by the agent restart`);
    for (const [label, p] of dataNodes(afterAgents)) assert.ok(same(p, beforeAgents.get(label)), `${label} kept running through the agent restart`);

    // ── VM replacement: a new vmType replaces every VM ──
    const vmsBefore = new Set((await main.status()).agents.map((a) => a.id));
    await step('VM replacement', { vmType: 'medium' }, shape);
    const vmsAfter = (await main.status()).agents.map((a) => a.id);
    assert.deepEqual(
      vmsAfter.filter((id) => vmsBefore.has(id)),
      [],
      `every VM was replaced (before ${[...vmsBefore].join(', ')}; after ${vmsAfter.join(', ')})`,
    );

    // ── backup to a local sink ──
    await step('backup', { backups: [backupRef] }, shape);
    assert.ok(existsSync(path.join(backupRef.sink.path, backupRef.id, 'manifest.json')), 'the backup has its manifest in the sink');

    // ── the writer's acknowledged writes, all of them ──
    const stats = await writer.stop();
    const verify = await writer.verify();
    console.log(
      `e2e writer: ${stats.acknowledged} acknowledged writes, ${stats.reads} reads, ${stats.errors} errors, ${stats.wrongReads} wrong reads, ` +
        `verified ${verify.checked}: ${verify.missing} missing, ${verify.wrong} wrong, ${verify.unreadable} unreadable`,
    );
    assert.ok(stats.acknowledged > 1_000, `the writer wrote (${stats.acknowledged} acknowledged writes)`);
    assert.equal(verify.checked, stats.acknowledged);
    assert.deepEqual([verify.missing, verify.wrong, verify.unreadable, stats.wrongReads], [0, 0, 0, 0], `no acknowledged write lost: ${verify.examples.join('; ')}`);

    // ── a second cluster, restored from the backup ──
    const second = await newCluster(dir, 'restored', PORTS_PER_CLUSTER);
    restored = second;
    await writeFile(
      second.file,
      editJsonc(example, { id: 1, name: 'e2e-restored', version: '8.0', nodeGroups: 2, replicationFactor: 2, backups: [backupRef], restoreFromBackup: backupRef }),
    );
    const restoreStarted = performance.now();
    await second.up();
    await second.wait(1, WAIT_SECONDS);
    const restoreSeconds = (performance.now() - restoreStarted) / 1000;
    console.log(`e2e restore (second cluster): ${restoreSeconds.toFixed(1)} s`);
    const restoredCheck = await checks('restore', second, 1, { nodeGroups: 2, replicationFactor: 2, version: '8.0' });
    lines.push({ step: 'restore', seconds: restoreSeconds, clientErrors: 0, maxLatencyMs: 0, settleSeconds: restoredCheck.settleSeconds });
    console.log(`e2e restore: ${KEYS} keys of the data set read back from the restored cluster`);

    // ── the journal tells what happened ──
    const jobs = await main.jobs();
    const failed = jobs.filter((j) => j.status !== 'succeeded');
    console.log(`e2e journal: ${jobs.length} jobs, ${failed.length} not succeeded${failed.length > 0 ? `: ${failed.map((j) => `${j.id} ${j.status} ${j.intent}`).join('; ')}` : ''}`);
    // Why (the journal goes with down --purge): each failed try, with how long it took.
    for (const j of failed) for (const line of failedTries(j, 300)) console.log(`e2e journal: job ${j.id} ${line}`);
    for (const kind of ['createVm', 'deleteVm', 'moveData', 'failover', 'restartAgent', 'createBackup'] as const) {
      assert.ok(
        jobs.some((j) => j.step.kind === kind && j.status === 'succeeded'),
        `the journal holds a succeeded ${kind} job`,
      );
    }

    // ── down --purge stops everything ──
    clearInterval(tracker);
    const leftMain = await main.down();
    const leftRestored = await second.down();
    const leftAnywhere = await killSeen(await processesUnder(dir));
    assert.deepEqual(
      [...leftMain, ...leftRestored, ...leftAnywhere].map((p) => `${p.label} (pid ${p.pid})`),
      [],
      'down --purge left no process behind',
    );
    assert.equal(existsSync(main.stateDir), false, 'purge removed the state of the first cluster');
    console.log(`e2e seen: ${main.seen.size + second.seen.size} processes (leaders, agents, data nodes), none left after down --purge`);
    console.log(`e2e total: ${((performance.now() - testStarted) / 1000).toFixed(1)} s; steps: ${lines.map((l) => `${l.step} ${l.seconds.toFixed(1)} s/${l.clientErrors} err`).join(', ')}`);
  } catch (err) {
    for (const c of [main, restored]) {
      if (c === undefined) continue;
      const tail = await c.leaderLogTail(25);
      if (tail.length > 0) console.log(`e2e: the last lines of ${c.stateDir}/leader.log:\n${tail.join('\n')}`);
      console.log(`e2e: the leader's and agents' logs and the journal are kept in ${await keepLogs(c, 'lifecycle')}`);
    }
    throw err;
  } finally {
    clearInterval(tracker);
    await writer?.close();
    await restored?.down();
    await main.down();
    await killSeen(await processesUnder(dir));
    await rm(dir, { recursive: true, force: true });
  }
});
