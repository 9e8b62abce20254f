import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ObservedCluster } from '../model/observed.ts';
import type { PlannedStep, Step, VmSpec } from '../model/step.ts';
import type { Job } from '../ports/journal.ts';
import { observe } from '../observe/observe.ts';
import { CONFIG_LABEL, RUNNING_SINCE_LABEL } from '../observe/labels.ts';
import { FakeCluster } from '../reconciler/testing/fake-cluster.ts';
import { VirtualClock } from '../../test/support/virtual-clock.ts';
import { AGENT_UNREACHABLE, DeadlineExceededError, FailedPreconditionError, StaleLeaderError, UnavailableError } from '../../proto/status.ts';
import { executeBatch, executeStep, resolveExecutorOptions, retryDelay, ExecutorOptionsError, type ExecuteContext } from './execute-step.ts';
import { MemoryJournal } from './journal-memory.ts';

const facts = { restoredFrom: undefined, formed: false };
const spec = (id: string, nodeGroup = 0): VmSpec => ({ id, zone: 'zone-a', vmType: 'small', storageGiB: 10, nodeGroup, temporary: false, agentRunningSince: 1 });
const job = { jobId: 't' };

/** vm-1 primary of all slots, vm-2 and vm-3 started but not joined. */
async function cluster(): Promise<{ c: FakeCluster; observed: ObservedCluster }> {
  const c = new FakeCluster();
  for (const id of ['vm-1', 'vm-2', 'vm-3']) {
    const rec = await c.create(spec(id, id === 'vm-3' ? 1 : 0));
    await c.agent(id).startDataNode({ job, nodeId: id, port: rec.dataPort, version: '7.0', nodeGroup: id === 'vm-3' ? 1 : 0 });
  }
  await c.agent('vm-1').joinNode({ job, nodeId: 'vm-1', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [{ start: 0, end: 16383 }] });
  const observed = await observe(c, { backupRefs: [], facts });
  c.calls.length = 0;
  return { c, observed };
}

function context(c: FakeCluster, observed: ObservedCluster, extra: Partial<ExecuteContext> = {}): ExecuteContext & { journal: MemoryJournal; clock: VirtualClock } {
  return { provider: c, journal: new MemoryJournal(), clock: new VirtualClock({ mode: 'auto' }), observed, desiredId: 4, epoch: 7, source: 'reconcile desired state 4', ...extra } as ExecuteContext & {
    journal: MemoryJournal;
    clock: VirtualClock;
  };
}

/** The time between the end of each call and the start of the next one, in ms. */
const gaps = (j: Job): number[] => j.commands.slice(1).map((c, i) => Date.parse(c.startedAt) - Date.parse(j.commands[i]?.endedAt ?? ''));

const planned = (step: Step): PlannedStep => ({ step, why: 'because the test says so' });

test('startDataNode: port from the VM, version, node group, config and labels; key job/<id>; 30 s deadline', async () => {
  const { c, observed } = await cluster();
  const ctx = context(c, observed);
  const result = await executeStep(
    planned({ kind: 'startDataNode', vmId: 'vm-2', nodeId: 'vm-2', nodeGroup: 0, version: '7.0', config: { 'maxmemory-policy': 'noeviction' }, runningSince: 3 }),
    ctx,
  );
  assert.equal(result.status, 'succeeded');
  const [call] = c.callsOf('StartDataNode');
  assert.ok(call);
  assert.deepEqual(call.request, {
    job: { jobId: result.id, stepId: '' },
    nodeId: 'vm-2',
    port: observed.vms.find((v) => v.id === 'vm-2')?.dataPort,
    version: '7.0',
    nodeGroup: 0,
    engineParams: { 'maxmemory-policy': 'noeviction' },
    labels: { [RUNNING_SINCE_LABEL]: '3', [CONFIG_LABEL]: '{"maxmemory-policy":"noeviction"}' },
  });
  assert.equal(call.idempotencyKey, `job/${result.id}`);
  assert.equal(call.deadlineMs, 30_000);
  assert.equal(result.intent, 'start data node vm-2 (version 7.0, node group 0, runningSince 3)');
  assert.equal(result.why, 'because the test says so');
  assert.equal(result.desiredId, 4);
  assert.equal(result.epoch, 7);
  assert.equal(result.source, 'reconcile desired state 4');
  assert.deepEqual(Object.keys(result.stages), ['submitted', 'scheduled', 'executed', 'finished']);
  assert.equal(result.commands.length, 1);
  assert.equal(result.commands[0]?.result, 'ok');
  assert.match(result.commands[0]?.output ?? '', /Started data node vm-2/);
  assert.equal(result.commands[0]?.command, 'StartDataNode on vm-2');
  // Each stage was journaled as it was reached; the last line is the whole job.
  assert.deepEqual(
    ctx.journal.events.map((j) => j.status),
    ['running', 'running', 'running', 'succeeded'],
  );
  assert.deepEqual(await ctx.journal.get(result.id), result);
});

test('joins and moves: addresses and engine ids of the named nodes, join 60 s, moveData 10 min', async () => {
  const { c, observed } = await cluster();
  const ctx = context(c, observed);
  const p = observed.vms[0]?.dataNodes[0];
  assert.ok(p);
  const address = { host: p.host, port: p.port, engineNodeId: p.engineNodeId };
  const replica = await executeStep(planned({ kind: 'joinReplica', vmId: 'vm-2', nodeId: 'vm-2', primaryId: 'vm-1' }), ctx);
  const primary = await executeStep(planned({ kind: 'joinPrimary', vmId: 'vm-3', nodeId: 'vm-3', via: 'vm-1', slots: [] }), ctx);
  const move = await executeStep(planned({ kind: 'moveData', vmId: 'vm-1', fromId: 'vm-1', toId: 'vm-3', slots: [{ start: 0, end: 99 }] }), ctx);
  const moveAll = await executeStep(
    planned({ kind: 'moveData', vmId: 'vm-1', fromId: 'vm-1', toId: 'vm-3', slots: [{ start: 100, end: 199 }, { start: 300, end: 300 }] }),
    ctx,
  );
  for (const j of [replica, primary, move, moveAll]) assert.equal(j.status, 'succeeded', j.error);
  const joins = c.callsOf('JoinNode');
  assert.deepEqual(joins[0]?.request, { job: { jobId: replica.id, stepId: '' }, nodeId: 'vm-2', role: 'JOIN_ROLE_REPLICA', replicaOf: address });
  assert.deepEqual(joins[1]?.request, {
    job: { jobId: primary.id, stepId: '' },
    nodeId: 'vm-3',
    role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA',
    clusterMember: address,
    assignSlots: [],
  });
  assert.deepEqual(
    joins.map((j) => j.deadlineMs),
    [60_000, 60_000],
  );
  const t = observed.vms[2]?.dataNodes[0];
  assert.ok(t);
  const target = { host: t.host, port: t.port, engineNodeId: t.engineNodeId };
  const moves = c.callsOf('MoveData');
  // Exact ranges, never a count (a repeated count would move as many again).
  assert.deepEqual(moves[0]?.request, { job: { jobId: move.id, stepId: '' }, sourceNodeId: 'vm-1', target, slots: { ranges: [{ start: 0, end: 99 }] } });
  assert.deepEqual(moves[1]?.request, {
    job: { jobId: moveAll.id, stepId: '' },
    sourceNodeId: 'vm-1',
    target,
    slots: { ranges: [{ start: 100, end: 199 }, { start: 300, end: 300 }] },
  });
  assert.deepEqual(
    moves.map((m) => m.deadlineMs),
    [600_000, 600_000],
  );
  assert.deepEqual(
    [replica, primary, move, moveAll].map((j) => j.id),
    ['1', '2', '3', '4'],
    'job ids come from the journal, in order',
  );
});

test('a transient error is retried after the delay list, with the same key, until it succeeds', async () => {
  const { c, observed } = await cluster();
  c.fail('Failover', () => new UnavailableError('busy'), 2);
  await c.agent('vm-2').joinNode({ job, nodeId: 'vm-2', role: 'JOIN_ROLE_REPLICA', replicaOf: { engineNodeId: observed.vms[0]?.dataNodes[0]?.engineNodeId ?? '' } });
  const ctx = context(c, await observe(c, { backupRefs: [], facts }));
  const j = await executeStep(planned({ kind: 'failover', vmId: 'vm-2', nodeId: 'vm-2' }), ctx);
  assert.equal(j.status, 'succeeded');
  assert.deepEqual(gaps(j), [1000, 2000], 'the delays between the attempts');
  assert.deepEqual(
    j.commands.map((x) => [x.attempt, x.result, x.reason]),
    [
      [1, 'transient-error', 'UNAVAILABLE'],
      [2, 'transient-error', 'UNAVAILABLE'],
      [3, 'ok', undefined],
    ],
  );
  assert.equal(j.commands[0]?.output, 'busy');
  assert.deepEqual(new Set(c.callsOf('Failover').map((x) => x.idempotencyKey)), new Set([`job/${j.id}`]), 'every attempt carries the same key');
  // Stage times come from the clock: the retries took 3 s of (virtual) time.
  assert.equal(Date.parse(j.stages.finished ?? '') - Date.parse(j.stages.executed ?? ''), 3000);
});

test('the last delay repeats; after maxAttempts calls the job fails with the reason', async () => {
  const { c, observed } = await cluster();
  c.fail('EnsureVersion', () => new DeadlineExceededError('slow disk'), 100);
  const ctx = context(c, observed, { options: resolveExecutorOptions({ maxAttempts: 5 }) });
  const j = await executeStep(planned({ kind: 'ensureVersion', vmId: 'vm-1', version: '8.0' }), ctx);
  assert.equal(j.status, 'failed');
  assert.deepEqual(gaps(j), [1000, 2000, 5000, 5000]);
  assert.equal(j.commands.length, 5);
  assert.equal(j.error, 'EnsureVersion on vm-1: slow disk (DEADLINE_EXCEEDED)');
  assert.equal(retryDelay([10, 20, 30], 1), 10);
  assert.equal(retryDelay([10, 20, 30], 7), 30);
});

test('a terminal error fails the job at once: no retry', async () => {
  const { c, observed } = await cluster();
  c.fail('StopDataNode', () => new FailedPreconditionError('node holds slots'), 100);
  const ctx = context(c, observed);
  const j = await executeStep(planned({ kind: 'stopDataNode', vmId: 'vm-1', nodeId: 'vm-1' }), ctx);
  assert.equal(j.status, 'failed');
  assert.equal(c.callsOf('StopDataNode').length, 1);
  assert.equal(j.commands.length, 1);
  assert.equal(j.commands[0]?.result, 'terminal-error');
  assert.equal(j.commands[0]?.reason, 'FAILED_PRECONDITION');
  assert.equal(j.error, 'StopDataNode on vm-1: node holds slots (FAILED_PRECONDITION)');
});

test('an agent that cannot be reached ends the job after one call: the next plan starts it again', async () => {
  const { c, observed } = await cluster();
  c.fail('StopDataNode', () => new UnavailableError('the agent does not answer: No connection established', { reason: AGENT_UNREACHABLE }), 100);
  const ctx = context(c, observed);
  const j = await executeStep(planned({ kind: 'stopDataNode', vmId: 'vm-1', nodeId: 'vm-1' }), ctx);
  assert.equal(j.status, 'failed');
  assert.equal(c.callsOf('StopDataNode').length, 1, 'one call, no retries within the job');
  assert.deepEqual(
    j.commands.map((x) => [x.result, x.reason]),
    [['transient-error', AGENT_UNREACHABLE]],
  );
  assert.equal(j.stages.finished, j.stages.executed, 'no wait for a retry delay');
});

test('a step the observation cannot resolve fails before any call', async () => {
  const { c, observed } = await cluster();
  const ctx = context(c, observed);
  const j = await executeStep(planned({ kind: 'joinReplica', vmId: 'vm-2', nodeId: 'vm-2', primaryId: 'vm-9' }), ctx);
  assert.equal(j.status, 'failed');
  assert.equal(c.calls.length, 0);
  assert.equal(j.commands.length, 0);
  assert.match(j.error ?? '', /vm-9 \(the primary to follow\) is not in the observation.*NOT_OBSERVED/);
  assert.equal(j.stages.scheduled, undefined, 'never scheduled');
});

test('aborting ends the job as abandoned, also while it waits to retry', async () => {
  const { c, observed } = await cluster();
  c.fail('StopDataNode', () => new UnavailableError('down'), 100);
  const ctl = new AbortController();
  const clock = new VirtualClock();
  const ctx = context(c, observed, { clock, signal: ctl.signal });
  const running = executeStep(planned({ kind: 'stopDataNode', vmId: 'vm-2', nodeId: 'vm-2' }), ctx);
  await clock.advance(1000);
  assert.equal(c.callsOf('StopDataNode').length, 2);
  ctl.abort(new Error('leader stopping'));
  const j = await running;
  assert.equal(j.status, 'abandoned');
  assert.match(j.error ?? '', /leader stopped/);
  assert.equal(c.callsOf('StopDataNode').length, 2);
});

test('provider steps: create, restart the agent, delete', async () => {
  const c = new FakeCluster();
  const observed = await observe(c, { backupRefs: [], facts });
  const ctx = context(c, observed);
  const created = await executeStep(planned({ kind: 'createVm', vm: spec('vm-5') }), ctx);
  assert.equal(created.status, 'succeeded');
  assert.equal(created.commands[0]?.command, 'provider.create vm-5');
  assert.match(created.commands[0]?.output ?? '', /Created VM vm-5 in zone-a/);
  const restarted = await executeStep(planned({ kind: 'restartAgent', vmId: 'vm-5', agentRunningSince: 2 }), ctx);
  assert.equal(restarted.status, 'succeeded');
  assert.equal(c.vms.get('vm-5')?.record.agentRunningSince, 2);
  const deleted = await executeStep(planned({ kind: 'deleteVm', vmId: 'vm-5' }), ctx);
  assert.equal(deleted.status, 'succeeded');
  assert.equal(c.vms.has('vm-5'), false);
});

test('a provider call that hangs is cut at its deadline and retried', async () => {
  const c = new FakeCluster();
  const clock = new VirtualClock();
  let calls = 0;
  const slow = Object.create(c) as FakeCluster;
  slow.create = (s: VmSpec) => (++calls === 1 ? new Promise<never>(() => undefined) : c.create(s));
  const ctx = context(slow, await observe(c, { backupRefs: [], facts }), { clock, options: resolveExecutorOptions({ deadlinesMs: { createVm: 5000 } }) });
  const j = await clock.drive(executeStep(planned({ kind: 'createVm', vm: spec('vm-5') }), ctx));
  assert.equal(j.status, 'succeeded');
  assert.deepEqual(
    j.commands.map((x) => [x.result, x.reason]),
    [
      ['transient-error', 'DEADLINE_EXCEEDED'],
      ['ok', undefined],
    ],
  );
  assert.equal(clock.now() - Date.UTC(2025, 0, 1), 6000, '5 s deadline + 1 s retry delay');
  assert.equal(clock.pending, 0);
});

test('restoreBackup: one RestoreBackup through the named VM, with the named nodes that run there', async () => {
  const { c, observed } = await cluster();
  const ctx = context(c, observed);
  const j = await executeStep(
    planned({ kind: 'restoreBackup', vmId: 'vm-1', backupId: 'b1', sink: { type: 'local', path: '/b' }, nodeIds: ['vm-1', 'vm-3'] }),
    ctx,
  );
  assert.equal(j.status, 'succeeded', j.error);
  assert.deepEqual(
    c.callsOf('RestoreBackup').map((x) => [x.vmId, x.idempotencyKey, x.request, x.deadlineMs]),
    [['vm-1', `job/${j.id}`, { job: { jobId: j.id, stepId: '' }, backupId: 'b1', sink: { local: { path: '/b' } }, nodeIds: ['vm-1'] }, 600_000]],
  );
  const elsewhere = await executeStep(
    planned({ kind: 'restoreBackup', vmId: 'vm-2', backupId: 'b1', sink: { type: 'local', path: '/b' }, nodeIds: ['vm-1', 'vm-3'] }),
    ctx,
  );
  assert.equal(elsewhere.status, 'failed');
  assert.match(elsewhere.error ?? '', /none of its primaries \(vm-1, vm-3\) runs on that VM/);
});

test('a batch runs its steps at once, each its own job; onSucceeded runs before finished', async () => {
  const { c, observed } = await cluster();
  const clock = new VirtualClock();
  c.fail('StopDataNode', () => new UnavailableError('busy'), 1, 'vm-2');
  const seen: string[] = [];
  const ctx = context(c, observed, {
    clock,
    onSucceeded: (job) => {
      seen.push(`${job.id}:${job.status}`);
      return Promise.resolve();
    },
  });
  const jobs = await clock.drive(
    executeBatch([planned({ kind: 'stopDataNode', vmId: 'vm-2', nodeId: 'vm-2' }), planned({ kind: 'stopDataNode', vmId: 'vm-3', nodeId: 'vm-3' })], ctx),
  );
  assert.deepEqual(
    jobs.map((j) => [j.id, j.status]),
    [
      ['1', 'succeeded'],
      ['2', 'succeeded'],
    ],
  );
  assert.deepEqual(seen.sort(), ['1:running', '2:running']);
  // vm-3's job did not wait for vm-2's retry: it finished first.
  assert.ok(Date.parse(jobs[1]?.stages.finished ?? '') < Date.parse(jobs[0]?.stages.finished ?? ''));
});

test('a batch runs its planned failovers one after the other (concurrent elections collide), the other steps at once', async () => {
  const { c, observed } = await cluster();
  const clock = new VirtualClock();
  c.fail('Failover', () => new UnavailableError('busy'), 1, 'vm-2');
  const ctx = context(c, observed, { clock });
  const jobs = await clock.drive(
    executeBatch(
      [
        planned({ kind: 'failover', vmId: 'vm-2', nodeId: 'vm-2' }),
        planned({ kind: 'stopDataNode', vmId: 'vm-1', nodeId: 'vm-1' }),
        planned({ kind: 'failover', vmId: 'vm-3', nodeId: 'vm-3' }),
      ],
      ctx,
    ),
  );
  assert.deepEqual(
    jobs.map((j) => j.step.kind),
    ['failover', 'stopDataNode', 'failover'],
    'jobs in the order of the steps',
  );
  // vm-2's failover was retried before vm-3's began; the stop did not wait for either.
  assert.deepEqual(
    c.calls.filter((x) => x.method === 'Failover' || x.method === 'StopDataNode').map((x) => `${x.method} ${x.vmId}`),
    ['Failover vm-2', 'StopDataNode vm-1', 'Failover vm-2', 'Failover vm-3'],
  );
  const [first, , second] = jobs;
  assert.ok(Date.parse(first?.stages.finished ?? '') <= Date.parse(second?.stages.executed ?? second?.stages.scheduled ?? ''), 'the second failover began after the first ended');
});

test('a stale-leader refusal is terminal and named in the job', async () => {
  const { c, observed } = await cluster();
  c.fail('StopDataNode', () => new StaleLeaderError(7, 8));
  const j = await executeStep(planned({ kind: 'stopDataNode', vmId: 'vm-2', nodeId: 'vm-2' }), context(c, observed));
  assert.equal(j.status, 'failed');
  assert.equal(j.commands.at(-1)?.reason, 'STALE_LEADER');
});

test('options are validated once, every problem listed', () => {
  assert.throws(
    () => resolveExecutorOptions({ retryDelaysMs: [], maxAttempts: 0, deadlinesMs: { moveData: -1 } }),
    (err: unknown) => err instanceof ExecutorOptionsError && err.problems.length === 3,
  );
});

/** The cluster of `cluster()` with vm-2 a replica of vm-1, and a ghost every member knows. */
async function withGhost(): Promise<{ c: FakeCluster; observed: ObservedCluster; ghost: string }> {
  const { c, observed } = await cluster();
  await c.agent('vm-2').joinNode({ job, nodeId: 'vm-2', role: 'JOIN_ROLE_REPLICA', replicaOf: { engineNodeId: observed.vms[0]?.dataNodes[0]?.engineNodeId ?? '' } });
  const ghost = 'ab'.repeat(20);
  c.addGhost(ghost);
  const fresh = await observe(c, { backupRefs: [], facts });
  c.calls.length = 0;
  return { c, observed: fresh, ghost };
}

test('forgetNode: one ForgetNode per named node, on its agent, all at once, each with its own key; 10 s deadline', async () => {
  const { c, observed, ghost } = await withGhost();
  assert.deepEqual(
    observed.vms.map((v) => v.dataNodes[0]?.failedMembers),
    [[ghost], [ghost], undefined],
    'the members report it (vm-3 never joined)',
  );
  const ctx = context(c, observed);
  const j = await executeStep(planned({ kind: 'forgetNode', engineNodeId: ghost, nodeIds: ['vm-1', 'vm-2'] }), ctx);
  assert.equal(j.status, 'succeeded', j.error);
  assert.equal(j.intent, 'forget failed node abababab… on vm-1, vm-2');
  const calls = c.callsOf('ForgetNode');
  assert.deepEqual(
    calls.map((x) => [x.vmId, x.request, x.idempotencyKey, x.deadlineMs]),
    [
      ['vm-1', { job: { jobId: j.id, stepId: 'vm-1' }, nodeId: 'vm-1', engineNodeId: ghost }, `job/${j.id}/vm-1`, 10_000],
      ['vm-2', { job: { jobId: j.id, stepId: 'vm-2' }, nodeId: 'vm-2', engineNodeId: ghost }, `job/${j.id}/vm-2`, 10_000],
    ],
  );
  assert.deepEqual(
    j.commands.map((x) => [x.command, x.result]),
    [
      ['ForgetNode on vm-1', 'ok'],
      ['ForgetNode on vm-2', 'ok'],
    ],
  );
  assert.deepEqual([...c.ghosts.keys()], [], 'forgotten by every member');
});

test('forgetNode: a call that fails is retried on its own while the others are done; the job fails with the first call that failed for good', async () => {
  const { c, observed, ghost } = await withGhost();
  c.fail('ForgetNode', () => new UnavailableError('busy'), 1, 'vm-1');
  const ok = await executeStep(planned({ kind: 'forgetNode', engineNodeId: ghost, nodeIds: ['vm-1', 'vm-2'] }), context(c, observed));
  assert.equal(ok.status, 'succeeded', ok.error);
  // vm-2's call did not wait for vm-1's retry: it ended first.
  assert.deepEqual(
    ok.commands.map((x) => [x.command, x.attempt, x.result]),
    [
      ['ForgetNode on vm-1', 1, 'transient-error'],
      ['ForgetNode on vm-2', 1, 'ok'],
      ['ForgetNode on vm-1', 2, 'ok'],
    ],
  );
  c.addGhost(ghost);
  c.fail('ForgetNode', () => new FailedPreconditionError('not failed', { reason: 'NOT_FAILED' }), 1, 'vm-2');
  const failed = await executeStep(planned({ kind: 'forgetNode', engineNodeId: ghost, nodeIds: ['vm-1', 'vm-2'] }), context(c, observed));
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error, 'ForgetNode on vm-2: not failed (NOT_FAILED)');
  assert.deepEqual([...(c.ghosts.get(ghost) ?? [])], ['vm-2'], 'vm-1 forgot it all the same');
});

test('forgetNode: a node the observation does not have fails the job before any call', async () => {
  const { c, observed, ghost } = await withGhost();
  const j = await executeStep(planned({ kind: 'forgetNode', engineNodeId: ghost, nodeIds: ['vm-1', 'vm-9'] }), context(c, observed));
  assert.equal(j.status, 'failed');
  assert.equal(c.calls.length, 0);
  assert.match(j.error ?? '', /vm-9 \(a member to forget failed node .* on\) is not in the observation/);
});
