// Crashes, end to end: kill -9 at random moments while the leader carries out a plan,
// with a client writing all along, through the public command line only.
//
//   bootstrap 2 node groups × 2 on 7.0, load a data set, start a writer;
//   at rest: kill -9 a data node → the leader sees the drift and starts it again;
//   mid-plan: kill -9 the leader while a node group is added → `up --detach` again on
//     the same state directory resumes and converges, and no data node that the plan
//     did not touch was restarted (same pid and /proc start time);
//   then COXSWAIN_CRASH_RUNS runs (default 4): an edit (rolling restart, replicas 2↔3,
//     node groups 2↔3, or agent restart), and after a random delay a kill -9 of a data
//     node, an agent, a VM's whole process tree (agent and data node), or the leader
//     (then `up --detach` again). The first four runs take each kind once.
//
// After each kill: `wait` exits 0; the cluster is whole by redis-cli --cluster check,
// CLUSTER NODES and INFO; the data set reads back; the writer of that run lost no
// acknowledged write; and `coxswain jobs --json` holds the job that repaired what was
// killed (a start of the data node, a restart of the agent, …). The random choices come
// from one seed, printed first; COXSWAIN_CRASH_SEED replays a run. The last line:
// "crash: <runs> runs, <converged> converged, <lost> lost writes".
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning, readProcStat } from '../../common/process-inspect.ts';
import type { Job } from '../../operator/ports/journal.ts';
import { editJsonc } from '../../operator/demo/edit-jsonc.ts';
import { checkDataSet, loadDataSet } from '../bench/data-set.ts';
import { EXAMPLE_FILE, killSeen, pidsIn, processesUnder } from '../support/cli-cluster.ts';
import type { SeenProcess } from '../support/cli-cluster.ts';
import { ClusterWriter } from '../support/writer.ts';
import type { ClusterAddress } from '../support/writer.ts';
import { checkCluster, clusterViews, e2eDir, failedTries, intFromEnv, keepLogs, newCluster, seededRandom } from './kit.ts';
import type { Shape } from './kit.ts';
import { TEST_SEED } from '../support/seed.ts';

const RUNS = intFromEnv('COXSWAIN_CRASH_RUNS', 4);
const SEED = intFromEnv('COXSWAIN_CRASH_SEED', TEST_SEED);
const KEYS = 10_000;
const WRITER_RATE = 1_000;
const WAIT_SECONDS = 180;
/** How long the checks may take to pass after `wait` said done: a kill late in a plan is repaired after it. */
const CONVERGE_SECONDS = 90;
const PORTS_PER_CLUSTER = 24;

const KILLS = ['data node', 'agent', 'VM', 'leader'] as const;
type Kill = (typeof KILLS)[number];
const PLANS = ['rolling restart', 'replicas', 'node groups', 'agent restart'] as const;
type PlanKind = (typeof PLANS)[number];

/** The processes of one VM now, from its pid files. */
interface VmProcesses {
  vm: string;
  agent: SeenProcess | undefined;
  node: SeenProcess | undefined;
}

async function running(label: string, pid: number | undefined): Promise<SeenProcess | undefined> {
  if (pid === undefined) return undefined;
  const stat = await readProcStat(pid);
  return stat === undefined || stat.state === 'Z' ? undefined : { label, pid, startTime: stat.startTime };
}

async function vmProcesses(stateDir: string): Promise<VmProcesses[]> {
  const pids = pidsIn(stateDir);
  const vmsDir = path.join(stateDir, 'vms');
  const out: VmProcesses[] = [];
  for (const vm of existsSync(vmsDir) ? readdirSync(vmsDir).filter((n) => n.startsWith('vm-')) : []) {
    const nodesDir = path.join(vmsDir, vm, 'data', 'nodes');
    const nodeIds = existsSync(nodesDir) ? readdirSync(nodesDir) : [];
    const nodeLabel = nodeIds.map((id) => `node ${id}`).find((l) => pids.has(l));
    out.push({
      vm,
      agent: await running(`agent ${vm}`, pids.get(`agent ${vm}`)),
      node: nodeLabel === undefined ? undefined : await running(nodeLabel, pids.get(nodeLabel)),
    });
  }
  return out;
}

const finishedAfter = (j: Job, since: number): boolean => j.status === 'succeeded' && Date.parse(j.stages.finished ?? '') >= since;
const onVm = (j: Job, vm: string): boolean => ('vmId' in j.step && j.step.vmId === vm) || (j.step.kind === 'createVm' && j.step.vm.id === vm);

/** The jobs, finished after `since`, that repaired a kill of `what` on `vm`; [] when none did. */
function repairs(jobs: Job[], what: Exclude<Kill, 'leader'>, vm: string, since: number): Job[] {
  const mine = jobs.filter((j) => finishedAfter(j, since) && onVm(j, vm));
  const deleted = mine.filter((j) => j.step.kind === 'deleteVm');
  if (deleted.length > 0) return deleted; // the plan removed that VM anyway
  const node = mine.filter((j) => j.step.kind === 'startDataNode' || j.step.kind === 'removeNode');
  // A VM still being created when its agent was killed: the creation, finishing after the
  // kill with an agent that answers, is the repair (seen: an agent killed 1.7 s into replicas 2 → 3).
  const agent = mine.filter((j) => j.step.kind === 'restartAgent' || (j.step.kind === 'createVm' && j.status === 'succeeded'));
  if (what === 'data node') return node;
  if (what === 'agent') return agent;
  return agent.length > 0 && node.length > 0 ? [...agent, ...node] : [];
}

const describeJobs = (jobs: Job[]): string => jobs.map((j) => `${j.id} ${j.intent}`).join('; ');

/** A run slower than this prints its jobs since the kill (the journal is deleted with the cluster). */
const SLOW_SECONDS = intFromEnv('COXSWAIN_CRASH_SLOW_SECONDS', 20);

/** The jobs since `since` (ms), one line each: when they ran relative to it, how they ended, failed tries. */
function traceJobs(jobs: Job[], since: number): string[] {
  const at = (iso: string | undefined): string => (iso === undefined ? '-' : `+${((Date.parse(iso) - since) / 1000).toFixed(1)} s`);
  return jobs
    .filter((j) => Date.parse(j.stages.submitted ?? '') >= since - 1_000)
    .map((j) => {
      const tries = failedTries(j, 160);
      return `  job ${j.id} ${j.status} ${at(j.stages.submitted)} → ${at(j.stages.finished)}: ${j.intent}${tries.length > 0 ? `\n    ${tries.join('\n    ')}` : ''}`;
    });
}

test('kill -9 of data nodes, agents, VMs and the leader at random moments: the cluster converges and no acknowledged write is lost', { timeout: 600_000 + RUNS * 180_000 }, async () => {
  const testStarted = performance.now();
  const random = seededRandom(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  console.log(`crash: seed ${SEED} (COXSWAIN_CRASH_SEED=${SEED} replays it), ${RUNS} runs`);
  const dir = await e2eDir('crash');
  const cluster = await newCluster(dir, 'crash', PORTS_PER_CLUSTER);
  const tracker = setInterval(() => void cluster.track(), 1_000);
  let writer: ClusterWriter | undefined;
  let writerNo = 0;
  let shape: Shape = { nodeGroups: 2, replicationFactor: 2, version: '7.0' };
  let converged = 0;
  let lost = 0;
  let runsDone = 0;
  /** When the last kill -9 was sent (ms since the epoch): the failure message traces the jobs since. */
  let lastKillAt = Date.now();

  /** Stops the writer of the last stretch and reads back its acknowledged writes; returns how many were lost. */
  const verifyWriter = async (): Promise<{ lost: number; errors: number; acknowledged: number }> => {
    if (writer === undefined) return { lost: 0, errors: 0, acknowledged: 0 };
    const stats = await writer.stop();
    const verify = await writer.verify();
    await writer.close();
    writer = undefined;
    const missing = verify.missing + verify.wrong + verify.unreadable;
    if (missing > 0) console.log(`crash: lost or unreadable acknowledged writes: ${verify.examples.slice(0, 5).join('; ')}`);
    return { lost: missing, errors: stats.errors + stats.wrongReads, acknowledged: stats.acknowledged };
  };
  const startWriter = async (nodes: ClusterAddress[]): Promise<void> => {
    writerNo += 1;
    writer = await ClusterWriter.start({ nodes, keyPrefix: `crash${writerNo}:`, maxOpsPerSecond: WRITER_RATE, concurrency: 4 });
  };
  /** The checks after a kill; the writer is read back and started again. Returns the seconds until they passed. */
  const convergeAndCheck = async (label: string, id: number): Promise<{ nodes: ClusterAddress[]; lost: number; errors: number }> => {
    await cluster.wait(id, WAIT_SECONDS);
    const report = await checkCluster(label, cluster, id, shape, CONVERGE_SECONDS);
    const data = await checkDataSet(report.nodes, KEYS);
    assert.deepEqual([data.missing, data.wrong, data.unreadable], [0, 0, 0], `${label}: the data set reads back whole: ${data.examples.join('; ')}`);
    const w = await verifyWriter();
    lost += w.lost;
    await startWriter(report.nodes);
    return { nodes: report.nodes, lost: w.lost, errors: w.errors };
  };
  const leaderEpoch = async (): Promise<number> => (await cluster.status()).epoch;
  /** kill -9 of the leader, then `up --detach` again on the same state directory. */
  const killLeader = async (): Promise<SeenProcess> => {
    const leader = (await cluster.track()).get('leader');
    assert.ok(leader !== undefined, 'the leader runs');
    process.kill(leader.pid, 'SIGKILL');
    for (let i = 0; i < 100 && (await isRunning(leader.pid, leader.startTime)); i++) await sleep(50);
    const again = await cluster.up();
    assert.match(again.stdout, /runs in the background/);
    return leader;
  };

  try {
    await writeFile(
      cluster.file,
      editJsonc(await readFile(EXAMPLE_FILE, 'utf8'), { id: 1, name: 'crash', version: '7.0', nodeGroups: 2, replicationFactor: 2, maxReplicationFactor: 3, backups: [] }),
    );
    let t0 = performance.now();
    await cluster.up();
    await cluster.wait(1, WAIT_SECONDS);
    const boot = await checkCluster('bootstrap', cluster, 1, shape);
    console.log(`crash bootstrap: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await loadDataSet(boot.nodes, KEYS);
    await startWriter(boot.nodes);

    // ── a data node killed at rest: drift detected and repaired ──
    {
      const vms = (await vmProcesses(cluster.stateDir)).filter((v) => v.node !== undefined);
      const victim = pick(vms);
      const killedAt = Date.now();
      lastKillAt = killedAt;
      t0 = performance.now();
      process.kill(victim.node?.pid ?? 0, 'SIGKILL');
      let repaired: Job[] = [];
      let jobs: Job[] = [];
      for (const until = Date.now() + 60_000; repaired.length === 0 && Date.now() < until; ) {
        await sleep(250);
        jobs = await cluster.jobs();
        repaired = repairs(jobs, 'data node', victim.vm, killedAt);
      }
      assert.ok(
        repaired.length > 0,
        `the journal shows the data node of ${victim.vm} started again after the kill at rest (at ${new Date(killedAt).toISOString()}); ` +
          `the last jobs: ${jobs.slice(-3).map((j) => `${j.id} ${j.status} ${j.intent} finished ${j.stages.finished ?? '-'}`).join('; ')}`,
      );
      const detected = (performance.now() - t0) / 1000;
      const r = await convergeAndCheck('a data node killed at rest', cluster.id);
      const now = (await vmProcesses(cluster.stateDir)).find((v) => v.vm === victim.vm);
      assert.ok(now?.node !== undefined && now.node.pid !== victim.node?.pid, `${victim.vm} runs a new data node process`);
      console.log(
        `crash at rest: kill -9 of the data node of ${victim.vm} (pid ${victim.node?.pid}) repaired by job ${describeJobs(repaired)} in ${detected.toFixed(1)} s; ` +
          `converged in ${((performance.now() - t0) / 1000).toFixed(1)} s, client errors ${r.errors}, lost writes ${r.lost}`,
      );
    }

    // ── the leader killed mid-plan: a new `up` resumes without restarting healthy nodes ──
    {
      const before = await vmProcesses(cluster.stateDir);
      const epoch = await leaderEpoch();
      const delayMs = 300 + Math.floor(random() * 2_500);
      t0 = performance.now();
      const id = await cluster.edit({ nodeGroups: shape.nodeGroups + 1 });
      shape = { ...shape, nodeGroups: shape.nodeGroups + 1 };
      await sleep(delayMs);
      lastKillAt = Date.now();
      const leader = await killLeader();
      const r = await convergeAndCheck('the leader killed mid-plan', id);
      assert.equal(await leaderEpoch(), epoch + 1, 'the new leader runs with the next epoch');
      const after = await vmProcesses(cluster.stateDir);
      for (const old of before) {
        const now = after.find((v) => v.vm === old.vm);
        assert.ok(
          now?.node !== undefined && old.node !== undefined && now.node.pid === old.node.pid && now.node.startTime === old.node.startTime,
          `the data node of ${old.vm}, not part of the plan, was not restarted (pid ${old.node?.pid} → ${now?.node?.pid})`,
        );
      }
      const jobs = await cluster.jobs();
      const abandoned = jobs.filter((j) => j.status === 'abandoned');
      const resumed = jobs.filter((j) => j.epoch === epoch + 1);
      assert.ok(jobs.every((j) => j.status !== 'running'), 'no job of the killed leader is left running in the journal');
      console.log(
        `crash leader mid-plan: kill -9 of the leader (pid ${leader.pid}) ${delayMs} ms into nodeGroups ${shape.nodeGroups}; ` +
          `new leader epoch ${epoch + 1} ran ${resumed.length} jobs (${describeJobs(resumed.slice(0, 4))}${resumed.length > 4 ? ' …' : ''}), ` +
          `${abandoned.filter((j) => j.epoch === epoch).length} abandoned; converged in ${((performance.now() - t0) / 1000).toFixed(1)} s, ` +
          `${before.length} data nodes untouched, client errors ${r.errors}, lost writes ${r.lost}`,
      );
    }

    // ── random runs ──
    const firstKinds = [...KILLS].sort(() => random() - 0.5);
    for (let run = 1; run <= RUNS; run++) {
      const kill: Kill = run <= firstKinds.length ? (firstKinds[run - 1] as Kill) : pick(KILLS);
      const plan: PlanKind = pick(PLANS);
      const delayMs = Math.floor(random() * 4_000);
      const changes: Record<string, unknown> = {};
      let next = shape;
      if (plan === 'rolling restart') changes['runningSince'] = cluster.id + 1;
      if (plan === 'agent restart') changes['agentRunningSince'] = cluster.id + 1;
      if (plan === 'replicas') next = { ...shape, replicationFactor: shape.replicationFactor === 2 ? 3 : 2 };
      if (plan === 'node groups') next = { ...shape, nodeGroups: shape.nodeGroups === 2 ? 3 : 2 };
      if (next.replicationFactor !== shape.replicationFactor) changes['replicationFactor'] = next.replicationFactor;
      if (next.nodeGroups !== shape.nodeGroups) changes['nodeGroups'] = next.nodeGroups;
      const epoch = await leaderEpoch();
      t0 = performance.now();
      const id = await cluster.edit(changes);
      shape = next;
      await sleep(delayMs);
      const killedAt = Date.now();
      lastKillAt = killedAt;
      let target = 'the leader';
      let vm = '';
      if (kill === 'leader') {
        const leader = await killLeader();
        target = `the leader (pid ${leader.pid})`;
      } else {
        const vms = (await vmProcesses(cluster.stateDir)).filter((v) => v.agent !== undefined && (kill === 'agent' || v.node !== undefined));
        const victim = pick(vms);
        vm = victim.vm;
        const victims = kill === 'data node' ? [victim.node] : kill === 'agent' ? [victim.agent] : [victim.agent, victim.node];
        for (const p of victims) if (p !== undefined) process.kill(p.pid, 'SIGKILL');
        target = `${kill === 'VM' ? 'the agent and data node' : `the ${kill}`} of ${vm} (pid ${victims.map((p) => p?.pid).join(', ')})`;
      }
      const label = `run ${run} (${plan}, kill -9 of ${target} ${delayMs} ms in)`;
      console.log(`crash ${label}: converging`);
      try {
        const r = await convergeAndCheck(label, id);
        const jobs = await cluster.jobs();
        let told: string;
        if (kill === 'leader') {
          assert.equal(await leaderEpoch(), epoch + 1, `${label}: the new leader runs with the next epoch`);
          assert.ok(jobs.every((j) => j.status !== 'running'), `${label}: no job of the killed leader is left running in the journal`);
          const ended = jobs.filter((j) => j.epoch === epoch && j.status === 'abandoned');
          told = `${ended.length} job(s) of epoch ${epoch} abandoned, ${jobs.filter((j) => j.epoch === epoch + 1).length} run by epoch ${epoch + 1}`;
        } else {
          let repaired = repairs(jobs, kill, vm, killedAt);
          // The plan may have ended before the leader saw the kill: its repair follows.
          for (const until = Date.now() + 30_000; repaired.length === 0 && Date.now() < until; ) {
            await sleep(250);
            repaired = repairs(await cluster.jobs(), kill, vm, killedAt);
          }
          assert.ok(repaired.length > 0, `${label}: the journal shows the job that repaired it; jobs since the kill: ${describeJobs(jobs.filter((j) => Date.parse(j.stages.submitted ?? '') >= killedAt - 5_000))}`);
          told = `repaired by job ${describeJobs(repaired)}`;
        }
        converged += 1;
        const seconds = (performance.now() - t0) / 1000;
        console.log(`crash ${label}: converged in ${seconds.toFixed(1)} s, ${told}, client errors ${r.errors}, lost writes ${r.lost}`);
        if (seconds > SLOW_SECONDS) console.log(`crash ${label}: slow; the jobs since the kill:\n${traceJobs(await cluster.jobs(), killedAt).join('\n')}`);
        assert.equal(r.lost, 0, `${label}: no acknowledged write lost`);
      } finally {
        runsDone = run;
      }
    }

    const w = await verifyWriter();
    lost += w.lost;
    assert.equal(lost, 0, 'no acknowledged write lost');
    clearInterval(tracker);
    const left = await cluster.down();
    const anywhere = await killSeen(await processesUnder(dir));
    assert.deepEqual([...left, ...anywhere].map((p) => `${p.label} (pid ${p.pid})`), [], 'down --purge left no process behind');
    console.log(`crash: ${cluster.seen.size} processes seen, none left after down --purge; ${((performance.now() - testStarted) / 1000).toFixed(1)} s in all`);
  } catch (err) {
    const tail = await cluster.leaderLogTail(25);
    if (tail.length > 0) console.log(`crash: the last lines of ${cluster.stateDir}/leader.log:\n${tail.join('\n')}`);
    console.log(`crash: the leader's and agents' logs and the journal are kept in ${await keepLogs(cluster, 'crash')}`);
    // A CI log may show only its last lines: the failure's message ends with what the
    // leader said last and the jobs since the last kill, where a person looks first.
    const digest = await cluster.leaderLogDigest(15).catch(() => []);
    const recent = await cluster.jobs().then((jobs) => traceJobs(jobs, lastKillAt).slice(-20), () => []);
    const nodes = await cluster.status().then((st) => st.nodeGroups.flatMap((g) => g.nodes).filter((n) => n.up), () => []);
    const views = await clusterViews(nodes).catch(() => []);
    const more =
      `\n--- the jobs since the last kill ---\n${recent.join('\n')}\n--- each up node's CLUSTER NODES ---\n${views.join('\n')}` +
      `\n--- the leader's last messages ---\n${digest.join('\n')}`;
    if (err instanceof Error) err.stack = `${err.stack ?? err.message}${more}`; // the reporter prints the stack
    throw err;
  } finally {
    clearInterval(tracker);
    console.log(`crash: ${runsDone} runs, ${converged} converged, ${lost} lost writes`);
    await writer?.close();
    await cluster.down();
    await killSeen(await processesUnder(dir));
    await rm(dir, { recursive: true, force: true });
  }
});
