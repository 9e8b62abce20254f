// The simulated world behaves like the real agent's contract and like Redis where it
// matters: idempotency keys, the epoch fence, the refusals, replica sync, topology
// agreement, automatic failover, and the data watch that tells moved data from lost.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AlreadyExistsError,
  CancelledError,
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  StaleLeaderError,
  UnavailableError,
} from '../../proto/status.ts';
import { SlotMap } from './ranges.ts';
import { addressOf, formCluster, key, makeKit, startNodes, vmSpec } from './world-test-kit.ts';

const job = { jobId: 't' };

describe('SlotMap', () => {
  it('sets, overwrites and merges runs', () => {
    const m = new SlotMap();
    m.set(0, 99, 1);
    m.set(50, 59, 2);
    m.set(60, 99, 1);
    assert.deepEqual(m.runs(), [
      { start: 0, end: 49, value: 1 },
      { start: 50, end: 59, value: 2 },
      { start: 60, end: 99, value: 1 },
    ]);
    m.set(50, 59, 1);
    assert.deepEqual(m.runs(), [{ start: 0, end: 99, value: 1 }]);
    assert.equal(m.count(), 100);
    assert.equal(m.get(100), 0);
  });

  it('finds the slots no other map holds with the same value', () => {
    const truth = SlotMap.from([{ start: 0, end: 99, value: 7 }]);
    const a = SlotMap.from([{ start: 0, end: 39, value: 7 }]);
    const b = SlotMap.from([{ start: 30, end: 79, value: 7 }, { start: 80, end: 99, value: 6 }]);
    assert.deepEqual(truth.coveredBy([a, b]), [{ start: 80, end: 99, value: 7 }]);
    assert.deepEqual(truth.coveredBy([a, b, SlotMap.from([{ start: 80, end: 99, value: 7 }])]), []);
  });
});

describe('the simulated agent contract', () => {
  it('runs a repeated idempotency key once and returns the recorded outcome', async () => {
    const kit = makeKit();
    await startNodes(kit, [['vm-1']]);
    const agent = kit.provider.agent('vm-1');
    const first = await kit.drive(agent.stopDataNode({ job, nodeId: 'vm-1' }, { idempotencyKey: 'stop-1' }));
    assert.equal(first.outcome?.changed, true);
    const rec = kit.world.vm('vm-1');
    await kit.drive(agent.startDataNode({ job, nodeId: 'vm-1', port: rec?.record.dataPort ?? 0, version: '7.0' }, key()));
    // The repeat of the stop must not stop the node that was started since.
    const again = await kit.drive(agent.stopDataNode({ job, nodeId: 'vm-1' }, { idempotencyKey: 'stop-1' }));
    assert.equal(again.outcome?.changed, true, 'the recorded outcome, not a new one');
    assert.equal(kit.world.vm('vm-1')?.nodes.get('vm-1')?.up, true);
    await assert.rejects(kit.drive(agent.stopDataNode({ job, nodeId: 'other' }, { idempotencyKey: 'stop-1' })), InvalidArgumentError);
  });

  it('refuses a stale epoch without effect, and flags a superseded leader that gets through', async () => {
    const kit = makeKit();
    await startNodes(kit, [['vm-1']]);
    const newer = kit.leader(2, 2);
    await kit.drive(newer.agent('vm-1').getState({}));
    await assert.rejects(kit.drive(kit.provider.agent('vm-1').stopDataNode({ job, nodeId: 'vm-1' }, key())), StaleLeaderError);
    assert.equal(kit.world.vm('vm-1')?.nodes.get('vm-1')?.up, true);
    assert.deepEqual(kit.world.violations.map((v) => v.check), []);
    // A leader that (wrongly) kept the old epoch: the fence cannot tell, the world can.
    const sameEpoch = kit.leader(1, 2);
    await kit.drive(sameEpoch.agent('vm-1').stopDataNode({ job, nodeId: 'vm-1' }, key()));
    assert.deepEqual(kit.world.violations.map((v) => v.check), ['stale-leader-accepted']);
  });

  it('refuses what the real agent refuses', async () => {
    const kit = makeKit();
    await startNodes(kit, [['vm-1', 'vm-2'], ['vm-3']]);
    const a1 = kit.provider.agent('vm-1');
    const rec = kit.world.vm('vm-1')?.record;
    await assert.rejects(
      kit.drive(a1.startDataNode({ job, nodeId: 'vm-1', port: rec?.dataPort ?? 0, version: '8.0' }, key())),
      (e: unknown) => e instanceof FailedPreconditionError && /not installed/.test(e.message),
    );
    await kit.drive(a1.ensureVersion({ job, version: '8.0' }, key()));
    await assert.rejects(
      kit.drive(a1.startDataNode({ job, nodeId: 'vm-1', port: rec?.dataPort ?? 0, version: '8.0' }, key())),
      AlreadyExistsError,
      'a running node is not restarted with another version',
    );
    await assert.rejects(kit.drive(kit.provider.agent('vm-3').failover({ job, nodeId: 'vm-3' }, key())), /not a replica/);
    await formCluster(kit, [['vm-1', 'vm-2'], ['vm-3']]);
    await assert.rejects(kit.drive(a1.removeNode({ job, nodeId: 'vm-1' }, key())), /still serves slots/);
    assert.equal((await kit.drive(a1.failover({ job, nodeId: 'vm-1' }, key()))).outcome?.changed, false, 'a primary is already promoted');
    await assert.rejects(
      kit.drive(
        kit.provider.agent('vm-3').joinNode({ job, nodeId: 'vm-3', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', clusterMember: addressOf(kit, 'vm-1'), assignSlots: [{ start: 0, end: 10 }] }, key()),
      ),
      /served by vm-1/,
    );
  });

  it('makes a replica in sync only after the sync time, and fails over only then', async () => {
    const kit = makeKit({ fullSyncMs: 2000, convergeMs: 0 });
    await startNodes(kit, [['vm-1', 'vm-2']]);
    await formCluster(kit, [['vm-1', 'vm-2']]);
    const replica = kit.world.vm('vm-2')?.nodes.get('vm-2');
    assert.ok(replica !== undefined);
    assert.equal(kit.world.inSync(replica), false);
    await assert.rejects(kit.drive(kit.provider.agent('vm-2').failover({ job, nodeId: 'vm-2' }, key())), UnavailableError);
    await kit.wait(2100);
    assert.equal(kit.world.inSync(replica), true);
    const res = await kit.drive(kit.provider.agent('vm-2').failover({ job, nodeId: 'vm-2' }, key()));
    assert.equal(res.outcome?.changed, true);
    assert.equal(replica.role, 'primary');
    assert.equal(kit.world.slotsOf(replica).length, 1);
  });

  it('lets topology digests converge only after each node lag', async () => {
    const kit = makeKit({ convergeMs: 3000, seed: 7 });
    await startNodes(kit, [['vm-1', 'vm-2', 'vm-3']]);
    await formCluster(kit, [['vm-1', 'vm-2', 'vm-3']]);
    const lags = ['vm-1', 'vm-2', 'vm-3'].map((id) => kit.world.vm(id)?.nodes.get(id)?.lag ?? 0);
    assert.ok(Math.max(...lags) > 0, 'some node lags');
    await kit.wait(3001);
    assert.equal(kit.world.agreed(), true);
  });

  it('replaces a primary that stays down by its in-sync replica after node-timeout, with the data', async () => {
    const kit = makeKit({ fullSyncMs: 100, convergeMs: 0, nodeTimeoutMs: 5000 });
    await startNodes(kit, [['vm-1', 'vm-2'], ['vm-3', 'vm-4'], ['vm-5', 'vm-6']]);
    await formCluster(kit, [['vm-1', 'vm-2'], ['vm-3', 'vm-4'], ['vm-5', 'vm-6']]);
    await kit.wait(200);
    kit.world.write();
    kit.world.crashNode('vm-1');
    await kit.wait(4000);
    assert.equal(kit.world.vm('vm-2')?.nodes.get('vm-2')?.role, 'replica', 'not before node-timeout');
    await kit.wait(1100);
    assert.equal(kit.world.vm('vm-2')?.nodes.get('vm-2')?.role, 'primary');
    assert.deepEqual(kit.world.violations, [], 'a crash is a fault, not a violation, and no data was lost');
    // The old primary comes back as a replica and resyncs.
    const rec = kit.world.vm('vm-1')?.record;
    await kit.drive(kit.provider.agent('vm-1').startDataNode({ job, nodeId: 'vm-1', port: rec?.dataPort ?? 0, version: '7.0' }, key()));
    assert.equal(kit.world.vm('vm-1')?.nodes.get('vm-1')?.role, 'replica');
  });

  it('records data lost when the only copy is deleted, and moved data as safe', async () => {
    const kit = makeKit({ fullSyncMs: 100, convergeMs: 0 });
    await startNodes(kit, [['vm-1'], ['vm-2']]);
    await formCluster(kit, [['vm-1'], ['vm-2']]);
    kit.world.write();
    await kit.drive(
      kit.provider.agent('vm-2').moveData({ job, sourceNodeId: 'vm-2', target: addressOf(kit, 'vm-1'), all: true, selection: 'all' }, key()),
    );
    assert.deepEqual(kit.world.violations.map((v) => v.check), [], 'moved, not lost');
    await kit.drive(kit.provider.agent('vm-2').removeNode({ job, nodeId: 'vm-2' }, key()));
    await kit.drive(kit.provider.delete('vm-2'));
    assert.deepEqual(kit.world.violations.map((v) => v.check), []);
    await kit.drive(kit.provider.delete('vm-1'));
    const checks = kit.world.violations.map((v) => v.check);
    assert.ok(checks.includes('data-lost'), checks.join());
    assert.ok(checks.includes('node-group-removed-with-data'), checks.join());
  });

  it('moves slots by ranges as the real agent: a repeat changes nothing, slots of a third node refuse the whole call', async () => {
    const kit = makeKit({ fullSyncMs: 100, convergeMs: 0 });
    await startNodes(kit, [['vm-1'], ['vm-2'], ['vm-3']]);
    await formCluster(kit, [['vm-1'], ['vm-2'], ['vm-3']]); // vm-1 0-5460, vm-2 5461-10921, vm-3 10922-16383
    kit.world.write();
    const slotsOf = (id: string): unknown => {
      const n = kit.world.vm(id)?.nodes.get(id);
      return n === undefined ? undefined : kit.world.slotsOf(n);
    };
    const move = (from: string, to: string, ranges: { start: number; end: number }[]) =>
      kit.drive(kit.provider.agent(from).moveData({ job, sourceNodeId: from, target: addressOf(kit, to), slots: { ranges } }, key()));
    const first = await move('vm-1', 'vm-2', [{ start: 5000, end: 5460 }, { start: 100, end: 100 }]);
    assert.equal(first.outcome?.changed, true);
    assert.deepEqual(first.moved, [{ start: 100, end: 100 }, { start: 5000, end: 5460 }]);
    assert.deepEqual(slotsOf('vm-1'), [{ start: 0, end: 99 }, { start: 101, end: 4999 }]);
    // The same step again, as a new leader's job (another idempotency key): nothing more moves.
    const again = await move('vm-1', 'vm-2', [{ start: 5000, end: 5460 }, { start: 100, end: 100 }]);
    assert.equal(again.outcome?.changed, false);
    assert.deepEqual(again.moved, []);
    assert.deepEqual(slotsOf('vm-1'), [{ start: 0, end: 99 }, { start: 101, end: 4999 }]);
    assert.deepEqual(slotsOf('vm-2'), [{ start: 100, end: 100 }, { start: 5000, end: 10921 }]);
    // Part moved already, part still at the source: only the rest moves.
    const rest = await move('vm-1', 'vm-2', [{ start: 4990, end: 5010 }]);
    assert.deepEqual(rest.moved, [{ start: 4990, end: 4999 }]);
    // Slots a third node serves: the whole call is refused and nothing moves.
    await assert.rejects(move('vm-1', 'vm-3', [{ start: 0, end: 9 }, { start: 5000, end: 5010 }]), InvalidArgumentError);
    assert.deepEqual(slotsOf('vm-1'), [{ start: 0, end: 99 }, { start: 101, end: 4989 }]);
    assert.deepEqual(slotsOf('vm-3'), [{ start: 10922, end: 16383 }]);
    assert.deepEqual(kit.world.violations.map((v) => v.check), []);
  });

  it('flags stopping a primary whose replica could have taken over, and two nodes of a group down', async () => {
    const kit = makeKit({ fullSyncMs: 100, convergeMs: 0 });
    await startNodes(kit, [['vm-1', 'vm-2', 'vm-3']]);
    await formCluster(kit, [['vm-1', 'vm-2', 'vm-3']]);
    await kit.wait(200);
    await kit.drive(kit.provider.agent('vm-2').stopDataNode({ job, nodeId: 'vm-2' }, key()));
    assert.deepEqual(kit.world.violations.map((v) => v.check), []);
    await kit.drive(kit.provider.agent('vm-1').stopDataNode({ job, nodeId: 'vm-1' }, key()));
    assert.deepEqual(kit.world.violations.map((v) => v.check).sort(), ['primary-stopped-without-failover', 'two-down-in-group']);
  });

  it('answers DEADLINE_EXCEEDED after the deadline, with or without the effect', async () => {
    const kit = makeKit({}, [
      { kind: 'call-times-out', call: 2, effect: true },
      { kind: 'call-times-out', call: 3, effect: false },
    ]);
    await startNodes(kit, [['vm-1']]); // call 1: StartDataNode
    const agent = kit.provider.agent('vm-1');
    const t0 = kit.clock.now();
    await assert.rejects(kit.drive(agent.stopDataNode({ job, nodeId: 'vm-1' }, { idempotencyKey: 'a', deadlineMs: 5000 })), DeadlineExceededError);
    assert.ok(kit.clock.now() - t0 >= 5000);
    assert.equal(kit.world.vm('vm-1')?.nodes.get('vm-1')?.up, false, 'the effect happened');
    const rec = kit.world.vm('vm-1')?.record;
    await assert.rejects(
      kit.drive(agent.startDataNode({ job, nodeId: 'vm-1', port: rec?.dataPort ?? 0, version: '7.0' }, { idempotencyKey: 'b', deadlineMs: 5000 })),
      DeadlineExceededError,
    );
    assert.equal(kit.world.vm('vm-1')?.nodes.get('vm-1')?.up, false, 'no effect');
    // The retry with the same key of the first call returns its recorded outcome.
    const retry = await kit.drive(agent.stopDataNode({ job, nodeId: 'vm-1' }, { idempotencyKey: 'a' }));
    assert.equal(retry.outcome?.changed, true);
  });

  it('cancels a call when the caller aborts, without effect', async () => {
    const kit = makeKit({}, [{ kind: 'call-slow', call: 2, ms: 10_000 }]);
    await startNodes(kit, [['vm-1']]);
    const ctl = new AbortController();
    kit.clock.schedule(100, () => ctl.abort());
    await assert.rejects(kit.drive(kit.provider.agent('vm-1').stopDataNode({ job, nodeId: 'vm-1' }, { ...key(), signal: ctl.signal })), CancelledError);
    assert.equal(kit.world.vm('vm-1')?.nodes.get('vm-1')?.up, true);
  });

  it('delivers a duplicated call twice but runs it once', async () => {
    const kit = makeKit({}, [{ kind: 'call-duplicated', call: 2, delayMs: 5000 }]);
    await startNodes(kit, [['vm-1']]);
    const agent = kit.provider.agent('vm-1');
    await kit.drive(agent.stopDataNode({ job, nodeId: 'vm-1' }, { idempotencyKey: 'dup' }));
    const rec = kit.world.vm('vm-1')?.record;
    await kit.drive(agent.startDataNode({ job, nodeId: 'vm-1', port: rec?.dataPort ?? 0, version: '7.0' }, key()));
    await kit.wait(6000);
    assert.equal(kit.world.vm('vm-1')?.nodes.get('vm-1')?.up, true, 'the late copy did not stop it again');
  });

  it('fails a call to a dead agent with UNAVAILABLE, and restartAgent brings it back with its data node', async () => {
    const kit = makeKit();
    await startNodes(kit, [['vm-1']]);
    kit.world.crashAgent('vm-1');
    await assert.rejects(kit.drive(kit.provider.agent('vm-1').getState({})), UnavailableError);
    assert.equal((await kit.drive(kit.provider.list())).find((v) => v.id === 'vm-1')?.state, 'running', 'a VM whose agent died is running with its agent down');
    await kit.drive(kit.provider.restartAgent('vm-1', 2));
    const state = await kit.drive(kit.provider.agent('vm-1').getState({}));
    assert.equal(state.state?.dataNodes[0]?.up, true, 'an agent restart leaves the data node running');
  });

  it('boots the agent of a new VM only after agentStartMs, while the provider lists the VM as running', async () => {
    const kit = makeKit({ agentStartMs: 3000 });
    await kit.drive(kit.provider.create(vmSpec('vm-1', 0)));
    assert.equal((await kit.drive(kit.provider.list())).find((v) => v.id === 'vm-1')?.state, 'running');
    await assert.rejects(kit.drive(kit.provider.agent('vm-1').getState({})), UnavailableError);
    await kit.wait(3000);
    assert.ok((await kit.drive(kit.provider.agent('vm-1').getState({}))).state !== null);
  });

  it('refuses provider calls of a superseded epoch', async () => {
    const kit = makeKit();
    await kit.drive(kit.leader(2, 2).create(vmSpec('vm-1', 0)));
    await assert.rejects(kit.drive(kit.provider.create(vmSpec('vm-2', 0))), StaleLeaderError);
    assert.equal(kit.world.vm('vm-2'), undefined);
  });

  it('restores a backup only into an empty cluster, and once', async () => {
    const sink = { type: 'local' as const, path: 'b' };
    const kit = makeKit({ fullSyncMs: 100, convergeMs: 0, preexistingBackups: [{ id: 'old', sink }] });
    await startNodes(kit, [['vm-1', 'vm-2']]);
    await formCluster(kit, [['vm-1', 'vm-2']]);
    await kit.wait(200);
    const agent = kit.provider.agent('vm-1');
    const req = { job, backupId: 'old', sink: { local: { path: 'b' } }, nodeIds: ['vm-1'] };
    assert.equal((await kit.drive(agent.restoreBackup(req, key()))).outcome?.changed, true);
    assert.equal((await kit.drive(agent.restoreBackup(req, key()))).outcome?.changed, false);
    assert.equal(kit.world.truth().count(), 16384);
    kit.world.write();
    await kit.drive(agent.createBackup({ job, backupId: 'new', sink: { local: { path: 'b' } } }, key()));
    await assert.rejects(kit.drive(agent.restoreBackup({ ...req, backupId: 'new' }, key())), /already holds data/);
    assert.deepEqual(
      (await kit.drive(agent.listBackups({ sink: { local: { path: 'b' } } }))).backups.map((b) => b.backupId),
      ['new', 'old'],
    );
  });
});

describe('the simulated agent runs the real agent core', () => {
  it('keeps the leader epoch and the idempotency records in the VM\'s files across an agent restart', async () => {
    const kit = makeKit();
    await startNodes(kit, [['vm-1']]);
    const agent = kit.provider.agent('vm-1');
    const first = await kit.drive(agent.stopDataNode({ job, nodeId: 'vm-1' }, { idempotencyKey: 'stop-once' }));
    await kit.drive(kit.leader(2, 2).agent('vm-1').getState({}));
    const files = [...(kit.world.vm('vm-1')?.agentFiles.keys() ?? [])].sort();
    assert.equal(files[0], 'idempotency/' + files[0]?.slice('idempotency/'.length), 'the records are in idempotency/');
    assert.ok(files.includes('leader-epoch'));
    assert.equal(kit.world.vm('vm-1')?.agentFiles.get('leader-epoch'), '2\n');

    kit.world.crashAgent('vm-1');
    await kit.drive(kit.leader(2, 2).restartAgent('vm-1', 2));
    // The new process reads the epoch back: the old leader is still refused.
    await assert.rejects(kit.drive(agent.getState({})), StaleLeaderError);
    // And the record: the repeat of the stop is replayed, not run again on the node started since.
    const newer = kit.leader(2, 2).agent('vm-1');
    const rec = kit.world.vm('vm-1')?.record;
    await kit.drive(newer.startDataNode({ job, nodeId: 'vm-1', port: rec?.dataPort ?? 0, version: '7.0' }, key()));
    const again = await kit.drive(newer.stopDataNode({ job, nodeId: 'vm-1' }, { idempotencyKey: 'stop-once' }));
    assert.deepEqual(again, first);
    assert.equal(kit.world.vm('vm-1')?.nodes.get('vm-1')?.up, true);
    assert.deepEqual(kit.world.violations, []);
  });

  it('forgets the calls in flight when the agent dies: the call fails, and its retry runs in the new process', async () => {
    const kit = makeKit({}, [{ kind: 'call-slow', call: 2, ms: 5000 }]);
    await startNodes(kit, [['vm-1']]);
    const agent = kit.provider.agent('vm-1');
    kit.clock.schedule(1000, () => kit.world.crashAgent('vm-1'));
    kit.clock.schedule(2000, () => {
      kit.world.restartAgent('vm-1', 2);
    });
    await assert.rejects(kit.drive(agent.stopDataNode({ job, nodeId: 'vm-1' }, { idempotencyKey: 'slow-stop' })), UnavailableError);
    assert.equal(kit.world.vm('vm-1')?.nodes.get('vm-1')?.up, true, 'no effect: the process died first');
    const retry = await kit.drive(agent.stopDataNode({ job, nodeId: 'vm-1' }, { idempotencyKey: 'slow-stop' }));
    assert.equal(retry.outcome?.changed, true, 'nothing was recorded, so the retry runs');
    assert.deepEqual(kit.world.violations, []);
  });

  it('refuses a malformed copy and another request under a key in use, and runs neither', async () => {
    const kit = makeKit({}, [
      { kind: 'call-malformed', call: 2, delayMs: 5, pick: 0 },
      { kind: 'key-reused', call: 2, delayMs: 5 },
      { kind: 'call-malformed', call: 3, delayMs: 500, pick: 4 },
      { kind: 'key-reused', call: 3, delayMs: 500 },
    ]);
    await startNodes(kit, [['vm-1']]);
    const agent = kit.provider.agent('vm-1');
    await kit.drive(agent.stopDataNode({ job, nodeId: 'vm-1' }, { idempotencyKey: 'stop' }));
    const rec = kit.world.vm('vm-1')?.record;
    await kit.drive(agent.startDataNode({ job, nodeId: 'vm-1', port: rec?.dataPort ?? 0, version: '7.0' }, { idempotencyKey: 'start' }));
    await kit.wait(1000);
    assert.equal(kit.world.trace.filter((t) => /a malformed copy of (StopDataNode|StartDataNode)/.test(t)).length, 2);
    // One while the stop ran, one once the start had answered.
    assert.equal(kit.world.trace.filter((t) => /another (StopDataNode|StartDataNode) request under key (stop|start) /.test(t)).length, 2);
    assert.equal(kit.world.vm('vm-1')?.nodes.get('vm-1')?.up, true);
    assert.deepEqual(kit.world.violations, []);
  });
});

