// The liveness fault classes of the simulated world, one by one: a call that succeeds
// while its effect never shows (effect-invisible), an agent that dies on a cancelled call
// (agent-dies-on-cancel), an edit whose id is not higher (stale-edit) — and the pieces of
// the liveness check that judge them (liveness.ts, checks.ts). That the harness finds a
// leader that mishandles each is proven in planted-bugs.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Desired } from '../../desired-state/types.ts';
import type { ClusterStatus } from '../../operator/model/status.ts';
import { CancelledError, DeadlineExceededError, UnavailableError } from '../../proto/status.ts';
import { checkEndState, invisibleEffectExplains } from './checks.ts';
import { livenessOptions } from './leader.ts';
import { LivenessWatch, livenessBound } from './liveness.ts';
import { checkStaleAnswer, staleEdit } from './stale-edits.ts';
import { formCluster, key, makeKit, startNodes } from './world-test-kit.ts';

const job = (jobId: string): { jobId: string } => ({ jobId });
const sink = { local: { path: 'backups' } };

describe('effect-invisible: succeeded but never visible', () => {
  it('CreateBackup answers success, writes under the VM\'s own directory, and no listing of the sink ever shows it', async () => {
    const kit = makeKit({}, [{ kind: 'effect-invisible', call: 1, method: 'CreateBackup' }]);
    await startNodes(kit, [['vm-1'], ['vm-2']]);
    await formCluster(kit, [['vm-1'], ['vm-2']]);
    await kit.wait(2000);
    const first = await kit.drive(kit.provider.agent('vm-1').createBackup({ job: job('7'), backupId: 'b1', sink }, key()));
    assert.equal(first.outcome?.changed, true);
    assert.equal(first.backup?.status, 'BACKUP_STATUS_COMPLETE');
    // A new job, as the leader plans the step again: the agent finds it in its own directory.
    const again = await kit.drive(kit.provider.agent('vm-1').createBackup({ job: job('8'), backupId: 'b1', sink }, key()));
    assert.match(again.outcome?.message ?? '', /already existed/);
    for (const via of ['vm-1', 'vm-2']) {
      const listed = await kit.drive(kit.provider.agent(via).listBackups({ sink }));
      assert.deepEqual(listed.backups, [], `listing through ${via}`);
    }
    assert.equal(kit.world.backup('local:backups', 'b1'), undefined);
    assert.deepEqual([...kit.ctx.faults.invisibleJobs].sort(), ['7', '8']);
  });

  it('only the first VM the method reaches is affected: a backup through another VM is visible', async () => {
    const kit = makeKit({}, [{ kind: 'effect-invisible', call: 1, method: 'CreateBackup' }]);
    await startNodes(kit, [['vm-1'], ['vm-2']]);
    await formCluster(kit, [['vm-1'], ['vm-2']]);
    await kit.wait(2000);
    await kit.drive(kit.provider.agent('vm-1').createBackup({ job: job('1'), backupId: 'b1', sink }, key()));
    await kit.drive(kit.provider.agent('vm-2').createBackup({ job: job('2'), backupId: 'b1', sink }, key()));
    assert.notEqual(kit.world.backup('local:backups', 'b1'), undefined);
    assert.deepEqual([...kit.ctx.faults.invisibleJobs], ['1']);
  });

  it('ConfigureDataNode answers "Configured" while the node keeps its parameters and labels', async () => {
    const kit = makeKit({}, [{ kind: 'effect-invisible', call: 1, method: 'ConfigureDataNode' }]);
    await startNodes(kit, [['vm-1']]);
    const r = await kit.drive(
      kit.provider.agent('vm-1').configureDataNode({ job: job('3'), nodeId: 'vm-1', engineParams: { 'maxmemory-policy': 'allkeys-lru' }, labels: { 'coxswain.io/config': 'x' } } as never, key()),
    );
    assert.match(r.outcome?.message ?? '', /Configured maxmemory-policy/);
    const n = kit.world.vm('vm-1')?.nodes.get('vm-1');
    assert.equal(n?.config['maxmemory-policy'], undefined);
    assert.equal(n?.labels['coxswain.io/config'], undefined);
  });

  it('JoinNode answers "Joined" while the node stays outside the cluster', async () => {
    const kit = makeKit({}, [{ kind: 'effect-invisible', call: 3, method: 'JoinNode' }]);
    await startNodes(kit, [['vm-1'], ['vm-2']]); // calls 1 and 2
    const agent = kit.provider.agent('vm-1');
    const r = await kit.drive(agent.joinNode({ job: job('4'), nodeId: 'vm-1', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [{ start: 0, end: 16383 }] }, key()));
    assert.equal(r.outcome?.changed, true);
    assert.equal(kit.world.vm('vm-1')?.nodes.get('vm-1')?.member, false);
    assert.equal(kit.world.ownedSlots(), 0);
    // Another VM's join is not hidden.
    await kit.drive(kit.provider.agent('vm-2').joinNode({ job: job('5'), nodeId: 'vm-2', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [{ start: 0, end: 16383 }] }, key()));
    assert.equal(kit.world.ownedSlots(), 16384);
  });
});

describe('agent-dies-on-cancel', () => {
  it('a call that hangs is cancelled at its deadline, and its agent dies with it (the data node keeps running)', async () => {
    const kit = makeKit({}, [{ kind: 'agent-dies-on-cancel', call: 2, hangs: true }]);
    await startNodes(kit, [['vm-1']]); // call 1
    const t0 = kit.clock.now();
    await assert.rejects(kit.drive(kit.provider.agent('vm-1').stopDataNode({ job: job('1'), nodeId: 'vm-1' }, { ...key(), deadlineMs: 5000 })), DeadlineExceededError);
    assert.ok(kit.clock.now() - t0 >= 5000);
    const vm = kit.world.vm('vm-1');
    assert.equal(vm?.agentUp, false);
    assert.equal(vm?.record.state, 'running', 'the VM stays, its agent down');
    assert.equal(vm?.nodes.get('vm-1')?.up, true, 'the hung stop had no effect; the node runs');
    await assert.rejects(kit.drive(kit.provider.agent('vm-1').getState({})), UnavailableError);
  });

  it('the agent of the faulted call dies when a caller aborts a call to it, other agents do not; the leader can restart it', async () => {
    const kit = makeKit({}, [
      { kind: 'agent-dies-on-cancel', call: 3, hangs: false },
      { kind: 'call-slow', call: 4, ms: 10_000 },
      { kind: 'call-slow', call: 5, ms: 10_000 },
    ]);
    await startNodes(kit, [['vm-1'], ['vm-2']]); // calls 1, 2
    await kit.drive(kit.provider.agent('vm-1').stopDataNode({ job: job('1'), nodeId: 'vm-1' }, key())); // call 3: marks vm-1, answers
    assert.equal(kit.world.vm('vm-1')?.agentUp, true, 'a call that is not cancelled kills nothing');
    const abortIn = (ms: number): AbortSignal => {
      const ctl = new AbortController();
      kit.clock.schedule(ms, () => ctl.abort());
      return ctl.signal;
    };
    await assert.rejects(kit.drive(kit.provider.agent('vm-2').stopDataNode({ job: job('2'), nodeId: 'vm-2' }, { ...key(), signal: abortIn(100) })), CancelledError);
    assert.equal(kit.world.vm('vm-2')?.agentUp, true, 'vm-2 is not the faulty agent');
    const rec = kit.world.vm('vm-1')?.record;
    await assert.rejects(
      kit.drive(kit.provider.agent('vm-1').startDataNode({ job: job('3'), nodeId: 'vm-1', port: rec?.dataPort ?? 0, version: '7.0' }, { ...key(), signal: abortIn(100) })),
      CancelledError,
    );
    assert.equal(kit.world.vm('vm-1')?.agentUp, false);
    await kit.drive(kit.provider.restartAgent('vm-1', 1));
    assert.equal(kit.world.vm('vm-1')?.agentUp, true, 'the leader can restart it');
  });
});

const accepted: Desired = {
  id: 5,
  name: 'a',
  engine: 'redis',
  version: '7.0',
  running: true,
  nodeGroups: 2,
  replicationFactor: 2,
  maxReplicationFactor: 2,
  availabilityZones: ['zone-a'],
  vmType: 'small',
  storageGiB: 1,
  backups: [],
  allowTemporaryVms: false,
  runningSince: 0,
  agentRunningSince: 0,
  config: {},
} as Desired;

describe('stale-edit', () => {
  it('keeps or lowers the id (never below 1) and makes its change', () => {
    const f = { kind: 'stale-edit', afterCall: 0, delayMs: 0 } as const;
    assert.deepEqual(staleEdit(accepted, { ...f, lowerBy: 0, change: 'none' }), accepted);
    assert.equal(staleEdit(accepted, { ...f, lowerBy: 2, change: 'none' }).id, 3);
    assert.equal(staleEdit({ ...accepted, id: 1 }, { ...f, lowerBy: 2, change: 'none' }).id, 1);
    assert.equal(staleEdit(accepted, { ...f, lowerBy: 0, change: 'replicas' }).replicationFactor, 1);
    assert.equal(staleEdit(accepted, { ...f, lowerBy: 0, change: 'node-groups' }).nodeGroups, 3);
    assert.equal(staleEdit(accepted, { ...f, lowerBy: 1, change: 'running' }).running, false);
    assert.equal(accepted.id, 5, 'the accepted desired state is not changed');
  });

  it('must be ignored or refused, never taken', () => {
    const edit = { ...accepted, replicationFactor: 1 };
    assert.deepEqual(checkStaleAnswer(edit, 5, 'ignored'), []);
    assert.deepEqual(checkStaleAnswer(edit, 5, 'refused'), []);
    assert.equal(checkStaleAnswer(edit, 5, 'accepted')[0]?.check, 'stale-edit-taken');
    assert.equal(checkStaleAnswer(edit, 5, 'pending')[0]?.check, 'stale-edit-taken');
  });
});

function status(state: ClusterStatus['state'], over: Partial<ClusterStatus> = {}): ClusterStatus {
  return { state, acceptedId: 1, pendingId: null, lastError: null, progress: state === 'WORKING_TOWARDS_DESIRED_STATE' ? { done: 0, total: 1, current: [] } : null, waiting: [], ...over } as ClusterStatus;
}

describe('the liveness bound and watch', () => {
  it('derives the bound from the reconciler\'s resolved options', () => {
    const o = livenessOptions({ settleIntervalMs: 500, observeIntervalMs: 3000 });
    assert.deepEqual(o, {
      maxAttempts: 5,
      settleTimeoutMs: 30_000,
      settleIntervalMs: 500,
      retryDelaysMs: [1000, 2000, 5000],
      observeIntervalMs: 3000,
      observeDeadlineMs: 2000,
      stuckTimeoutMs: 600_000,
    });
    // (5 + 1) × (30 + 0.5 + 2 × 2 + 5) s + (600 + 3 + 2) s + 2 s of slack
    assert.equal(livenessBound(o, 1000).ms, 6 * 39_500 + 605_000 + 2000);
    assert.ok(livenessBound({ ...o, maxAttempts: 2 }, 1000).ms < livenessBound(o, 1000).ms);
  });

  it('counts time WORKING outside jobs since the last progress, and fires past the bound', () => {
    const w = new LivenessWatch({ ms: 10_000, derivation: 'test' }, 0);
    let t = 0;
    const poll = (s: ClusterStatus, committed: number): boolean => w.poll((t += 1000), s, committed);
    assert.equal(poll(status('WORKING_TOWARDS_DESIRED_STATE'), 0), false); // first look: the baseline
    for (let i = 0; i < 5; i++) assert.equal(poll(status('WORKING_TOWARDS_DESIRED_STATE'), 0), false);
    assert.equal(w.idleMs, 5000);
    // A job runs: its time does not count.
    for (let i = 0; i < 20; i++) poll(status('WORKING_TOWARDS_DESIRED_STATE', { progress: { done: 0, total: 1, current: ['x'] } }), 0);
    assert.equal(w.idleMs, 5000);
    // A committed job is progress.
    poll(status('WORKING_TOWARDS_DESIRED_STATE'), 1);
    assert.equal(w.idleMs, 0);
    assert.equal(w.since, t);
    let fired = false;
    for (let i = 0; i < 10 && !fired; i++) fired = poll(status('WORKING_TOWARDS_DESIRED_STATE'), 1);
    assert.equal(fired, false, 'exactly the bound is still fine');
    assert.equal(poll(status('WORKING_TOWARDS_DESIRED_STATE'), 1), true);
    // At rest, or a new acceptance, starts again.
    assert.equal(poll(status('ERROR_STATE'), 1), false);
    assert.equal(w.idleMs, 0);
    assert.equal(w.maxIdleMs, 11_000);
  });
});

describe('ERROR_STATE that an invisible effect explains', () => {
  const invisible = { jobs: new Set(['12']), steps: new Set(['create backup b1 in local:backups']) };
  const err = (step: string, jobId?: string): ClusterStatus =>
    status('ERROR_STATE', { lastError: { step, reason: 'its effect never became visible', attempts: 5, at: '', ...(jobId === undefined ? {} : { jobId }) } });

  it('is the step (or the last job) whose effect the fault hid, and nothing else', () => {
    assert.equal(invisibleEffectExplains(err('create backup b1 in local:backups'), invisible), true);
    assert.equal(invisibleEffectExplains(err('create backup b1 in /state/backups', '12'), invisible), true);
    assert.equal(invisibleEffectExplains(err('create backup b2 in local:backups', '13'), invisible), false);
    assert.equal(invisibleEffectExplains(err('waiting'), invisible), false);
  });

  it('makes checkEndState accept the ERROR_STATE, which it refuses without the fault', () => {
    const world = makeKit().world;
    const s = err('create backup b1 in local:backups');
    assert.deepEqual(checkEndState(s, false, world, undefined, new Map(), invisible), []);
    assert.equal(checkEndState(s, false, world, undefined, new Map())[0]?.check, 'error-state');
  });
});
