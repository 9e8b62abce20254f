// The leader end to end, from the outside, as a person runs it: the real `coxswain`
// binary, real agents, real redis-server processes. One cluster of 1 node group × 2:
//   up --detach → wait → status --json (2 nodes up) → an edit to replicationFactor 1 →
//   wait → an invalid edit and a lower id (refused, cluster untouched) → SIGTERM to the leader (agents
//   and data nodes keep running) → up --detach again (adopts them, next epoch) →
//   down --purge: no process left (every pid seen is checked) and no state left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRunning, readProcStat } from '../../common/process-inspect.ts';
import type { ClusterStatus } from '../../operator/model/status.ts';
import { editJsonc } from '../../operator/demo/edit-jsonc.ts';
import { freePorts } from '../support/ports.ts';
import { runCli, type CliRun } from '../support/run-cli.ts';

const example = readFileSync(new URL('../../desired-state/desired_state.jsonc', import.meta.url), 'utf8');

/** Pids of the leader, the agents and the data nodes in a state directory, as their pid files say. */
function pidsIn(stateDir: string): Map<string, number> {
  const pids = new Map<string, number>();
  const read = (label: string, file: string): void => {
    if (!existsSync(file)) return;
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    if (Number.isSafeInteger(pid) && pid > 0) pids.set(label, pid);
  };
  read('leader', path.join(stateDir, 'leader.pid'));
  const vms = path.join(stateDir, 'vms');
  for (const vm of existsSync(vms) ? readdirSync(vms) : []) {
    read(`agent ${vm}`, path.join(vms, vm, 'agent.pid'));
    const nodes = path.join(vms, vm, 'data', 'nodes');
    for (const node of existsSync(nodes) ? readdirSync(nodes) : []) read(`redis ${node}`, path.join(nodes, node, 'redis.pid'));
  }
  return pids;
}

async function alive(pids: Iterable<[string, number]>): Promise<string[]> {
  const out: string[] = [];
  for (const [label, pid] of pids) if (await isRunning(pid)) out.push(`${label} (pid ${pid})`);
  return out;
}

test('up --detach, wait, status, edits, a leader restart that adopts the cluster, down --purge', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-leader-e2e-'));
  const stateDir = path.join(dir, 'state');
  const file = path.join(dir, 'desired_state.jsonc');
  const [dataBase] = await freePorts(1, { withBus: true });
  const [agentBase] = await freePorts(1);
  const env = { COXSWAIN_DATA_PORT_BASE: String(dataBase), COXSWAIN_AGENT_PORT_BASE: String(agentBase) };
  const seen = new Map<string, number>();
  /** Start time of each pid seen: with the pid it names the process, so cleanup never hits a reused pid. */
  const startTimes = new Map<number, number>();
  const cli = async (args: string[], timeoutMs = 60_000): Promise<CliRun> => {
    const run = await runCli([...args, '--state-dir', stateDir], { env, timeoutMs, cwd: dir });
    for (const [label, pid] of pidsIn(stateDir)) {
      seen.set(`${label} ${pid}`, pid);
      const start = (await readProcStat(pid))?.startTime;
      if (start !== undefined && !startTimes.has(pid)) startTimes.set(pid, start);
    }
    return run;
  };
  const must = async (args: string[], timeoutMs?: number): Promise<CliRun> => {
    const run = await cli(args, timeoutMs);
    assert.equal(run.code, 0, `coxswain ${args.join(' ')} exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
    return run;
  };
  const status = async (): Promise<ClusterStatus> => JSON.parse((await must(['status', '--json'])).stdout) as ClusterStatus;
  let text = editJsonc(example, { nodeGroups: 1 });
  try {
    writeFileSync(file, text);
    const up = await must(['up', '-f', file, '--detach'], 90_000);
    assert.match(up.stdout, /Leader of cluster "demo" runs in the background \(pid \d+, epoch 1\)/);

    await must(['wait', '--id', '1', '--timeout', '120'], 130_000);
    const first = await status();
    assert.equal(first.state, 'AT_DESIRED_STATE');
    assert.equal(first.acceptedId, 1);
    const nodes = first.nodeGroups.flatMap((g) => g.nodes);
    assert.equal(nodes.length, 2);
    assert.ok(nodes.every((n) => n.up && n.version === '7.0' && n.host === '127.0.0.1'), JSON.stringify(nodes));
    assert.deepEqual(nodes.map((n) => n.role).sort(), ['primary', 'replica']);
    assert.ok(nodes.every((n) => n.port >= (dataBase ?? 0)), 'data ports come from COXSWAIN_DATA_PORT_BASE');
    assert.equal(first.agents.length, 2);
    assert.ok(first.agents.every((a) => a.up && Number(a.endpoint.split(':')[1]) >= (agentBase ?? 0)));
    const redisBefore = pidsIn(stateDir);

    // An edit: replicationFactor 1 — the replica leaves, its VM goes.
    text = editJsonc(text, { id: 2, replicationFactor: 1 });
    writeFileSync(file, text);
    await must(['wait', '--id', '2', '--timeout', '120'], 130_000);
    const second = await status();
    assert.equal(second.acceptedId, 2);
    assert.equal(second.nodeGroups.flatMap((g) => g.nodes).length, 1);
    const primary = second.nodeGroups[0]?.nodes[0];
    assert.equal(primary?.role, 'primary');
    const removed = [...redisBefore].filter(([label]) => label.startsWith('redis') && label !== `redis ${primary?.id ?? ''}`);
    assert.equal(removed.length, 1);
    assert.deepEqual(await alive(removed), [], 'the removed replica process is gone');

    // An invalid edit is refused; the cluster keeps desired state 2.
    writeFileSync(file, editJsonc(text, { id: 3, name: 'renamed' }));
    let refused: ClusterStatus | undefined;
    for (let i = 0; i < 50 && (refused?.lastRefusal ?? null) === null; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      refused = await status();
    }
    assert.equal(refused?.lastRefusal?.id, 3);
    assert.match(refused?.lastRefusal?.reason ?? '', /\$\.name/);
    assert.equal(refused?.acceptedId, 2);
    assert.equal(refused?.state, 'AT_DESIRED_STATE');

    // A lower id is ignored, and status says why; the cluster keeps desired state 2.
    writeFileSync(file, editJsonc(text, { id: 1, replicationFactor: 2 }));
    let ignored: ClusterStatus | undefined;
    for (let i = 0; i < 50 && ignored?.lastRefusal?.id !== 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      ignored = await status();
    }
    assert.equal(ignored?.lastRefusal?.id, 1);
    assert.match(ignored?.lastRefusal?.reason ?? '', /id 1 is not greater than the accepted id 2/);
    assert.equal(ignored?.acceptedId, 2);
    assert.equal(ignored?.state, 'AT_DESIRED_STATE');
    assert.equal(ignored?.nodeGroups.flatMap((g) => g.nodes).length, 1, 'the cluster is untouched: still one data node');
    writeFileSync(file, text);

    // SIGTERM to the leader: it stops; the agent and the data node keep running.
    const before = pidsIn(stateDir);
    const leaderPid = before.get('leader');
    const redisPid = before.get(`redis ${primary?.id ?? ''}`);
    assert.ok(leaderPid !== undefined && redisPid !== undefined);
    process.kill(leaderPid, 'SIGTERM');
    for (let i = 0; i < 100 && (await isRunning(leaderPid)); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await isRunning(leaderPid), false, 'the leader ended on SIGTERM');
    assert.equal(await isRunning(redisPid), true, 'the data node keeps serving without a leader');
    const gone = await cli(['status']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no leader is running for .*; start one with: coxswain up -f FILE/);

    // A new leader adopts the running cluster with the next epoch.
    const again = await must(['up', '-f', file, '--detach'], 90_000);
    assert.match(again.stdout, /epoch 2/);
    await must(['wait', '--id', '2', '--timeout', '60'], 70_000);
    const adopted = await status();
    assert.equal(adopted.epoch, 2);
    assert.equal(adopted.nodeGroups[0]?.nodes[0]?.up, true);
    assert.equal(pidsIn(stateDir).get(`redis ${primary?.id ?? ''}`), redisPid, 'the same redis-server process, adopted');

    const jobs = JSON.parse((await must(['jobs', '--json'])).stdout) as Array<{ status: string; intent: string }>;
    assert.ok(jobs.length >= 6, `jobs: ${jobs.length}`);
    assert.ok(jobs.every((j) => j.status === 'succeeded'), JSON.stringify(jobs.map((j) => [j.intent, j.status])));

    const down = await must(['down', '--purge'], 120_000);
    assert.match(down.stdout, /Stopped the leader of .* and every agent and data node/);
    assert.ok(seen.size >= 5, `pids seen: ${[...seen.keys()].join(', ')}`);
    assert.deepEqual(await alive(seen), [], 'no leader, agent or data node is left');
    assert.equal(existsSync(stateDir), false, 'purge leaves no state');
  } finally {
    // Whatever happened above: stop everything this test started, by pid.
    if (existsSync(stateDir)) await runCli(['down', '--purge', '--state-dir', stateDir], { env, timeoutMs: 120_000 }).catch(() => undefined);
    for (const pid of seen.values()) {
      const start = startTimes.get(pid);
      if (start === undefined || !(await isRunning(pid, start))) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
