import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { emptyObserved } from '../model/observed.ts';
import { plan } from './plan.ts';
import { converge } from './testing/converge.ts';
import { Model } from './testing/model.ts';
import { lines, stepsOf } from './testing/test-cluster.ts';

/** A model after `rounds` batches of bootstrap from nothing. */
function bootstrapped(d = exampleDesired(), rounds: number): Model {
  const m = new Model();
  m.expectRestore(d.restoreFromBackup?.id);
  for (let i = 0; i < rounds; i++) {
    for (const s of plan(d, m.observe()).next) m.apply(s.step);
    m.tick();
  }
  return m;
}

test('no VM at all: every VM of every group in one batch, spread over the zones', () => {
  const p = plan(exampleDesired(), emptyObserved());
  const vms = stepsOf(p, 'createVm').map((s) => s.vm);
  assert.equal(p.next.length, 6);
  assert.deepEqual(vms.map((v) => `${v.id}:${v.nodeGroup}:${v.zone}`), [
    'vm-1:0:zone-a',
    'vm-2:0:zone-b',
    'vm-3:1:zone-a',
    'vm-4:1:zone-b',
    'vm-5:2:zone-a',
    'vm-6:2:zone-b',
  ]);
  assert.ok(vms.every((v) => v.vmType === 'small' && v.storageGiB === 10 && !v.temporary && v.agentRunningSince === 1));
  assert.equal(p.done, false);
  assert.ok(p.remaining >= 6);
});

test('then the version, then every node starts in one batch', () => {
  const m = bootstrapped(exampleDesired(), 1);
  const p1 = plan(exampleDesired(), m.observe());
  assert.deepEqual(p1.next.map((s) => s.step.kind), Array(6).fill('ensureVersion'));
  m.tick();
  for (const s of p1.next) m.apply(s.step);
  const p2 = plan(exampleDesired(), m.observe());
  const starts = stepsOf(p2, 'startDataNode');
  assert.equal(starts.length, 6);
  assert.deepEqual(starts[0], {
    kind: 'startDataNode',
    vmId: 'vm-1',
    nodeId: 'vm-1',
    nodeGroup: 0,
    version: '7.0',
    config: { 'maxmemory-policy': 'noeviction' },
    runningSince: 1,
  });
});

test('ng0 founds the cluster alone; the other primaries join via it with their shares; then replicas', () => {
  const m = bootstrapped(exampleDesired(), 3);
  const p = plan(exampleDesired(), m.observe());
  assert.deepEqual(lines(p), ['found the cluster with vm-1 as primary of slots 0-5461']);
  m.apply(p.next[0]!.step);
  m.tick();
  const p2 = plan(exampleDesired(), m.observe());
  assert.deepEqual(lines(p2), [
    'join vm-3 as a primary via vm-1 with slots 5462-10922',
    'join vm-5 as a primary via vm-1 with slots 10923-16383',
    'make vm-2 a replica of vm-1',
  ]);
  for (const s of p2.next) m.apply(s.step);
  m.tick();
  assert.deepEqual(lines(plan(exampleDesired(), m.observe())), ['make vm-4 a replica of vm-3', 'make vm-6 a replica of vm-5']);
});

test('one node group: the founder takes every slot (no --cluster create, which wants three primaries)', () => {
  const d = exampleDesired({ nodeGroups: 1, replicationFactor: 1, backups: [] });
  const m = bootstrapped(d, 3);
  const p = plan(d, m.observe());
  assert.deepEqual(lines(p), ['found the cluster with vm-1 as primary of slots 0-16383']);
  m.apply(p.next[0]!.step);
  m.tick();
  const done = plan(d, m.observe());
  assert.equal(done.done, true);
  assert.equal(done.remaining, 0);
});

test('a started node that is down before the cluster exists: no founding (it may be a member elsewhere)', () => {
  const d = exampleDesired();
  const m = bootstrapped(d, 3);
  m.crashNode('vm-4');
  const p = plan(d, m.observe());
  assert.equal(stepsOf(p, 'joinPrimary').length, 0);
  assert.deepEqual(lines(p), ['start data node vm-4 (version 7.0, node group 1, runningSince 1)']);
  assert.ok(p.waiting.some((w) => w.includes('founded once every started node answers')));
});

test('running false from the start, no backups: the VMs are created, no node is started', () => {
  const d = exampleDesired({ running: false, backups: [] });
  const m = bootstrapped(d, 1);
  const p = plan(d, m.observe());
  assert.deepEqual(p.next, []);
  assert.equal(p.done, true, 'a cluster that never ran and lists no backup needs no node');
});

test('running false from the start with a backup: founded for it, the backup taken, then stopped', () => {
  const d = exampleDesired({ running: false });
  const m = bootstrapped(d, 1);
  const p = plan(d, m.observe());
  assert.equal(p.done, false, 'the backup it lists does not exist');
  assert.equal(stepsOf(p, 'ensureVersion').length, 6, lines(p).join('\n'));
  converge(d, m);
  const end = m.observe();
  assert.ok(end.backups?.some((b) => b.id === 'nightly' && b.complete), 'the backup exists');
  assert.ok(end.facts.formed, 'the cluster was founded for it');
  assert.ok(end.vms.every((vm) => vm.dataNodes.every((n) => !n.up)), 'every node stopped again');
});

test('running false from the start with restoreFromBackup only: not founded, restored when it first runs', () => {
  const restore = { id: 'old', sink: { type: 'local' as const, path: 'backups' } };
  const d = exampleDesired({ running: false, backups: [restore], restoreFromBackup: restore });
  // The backup is there from the start (one that is not blocks the plan: restore.test.ts).
  const m = bootstrapped(d, 0);
  m.backups = [{ id: 'old', sink: 'local:backups', complete: true }];
  for (const s of plan(d, m.observe()).next) m.apply(s.step);
  m.tick();
  const p = plan(d, m.observe());
  assert.deepEqual(p.next, []);
  assert.equal(p.done, true, 'the restore waits for the first start; the backup it lists exists');
});

test('founded but not restored, then stopped: restored with running false, then stopped again', () => {
  const restore = { id: 'old', sink: { type: 'local' as const, path: 'backups' } };
  const running = exampleDesired({ backups: [], restoreFromBackup: restore });
  const m = bootstrapped(running, 1);
  m.backups = [{ id: 'old', sink: 'local:backups', complete: true }];
  // Run until the restore is the next step: the cluster is founded, not restored.
  for (let i = 0; i < 30; i++) {
    const next = plan(running, m.observe()).next;
    if (next.some((s) => s.step.kind === 'restoreBackup')) break;
    for (const s of next) m.apply(s.step);
    m.tick();
  }
  const founded = m.observe();
  assert.ok(founded.vms.some((vm) => vm.dataNodes.some((n) => n.slots.length > 0)), 'founded');
  assert.equal(founded.facts.restoredFrom, undefined, 'not restored yet');
  const stopped = { ...running, id: running.id + 1, running: false };
  assert.equal(plan(stopped, founded).done, false, 'the restore of a founded cluster is still to do');
  converge(stopped, m);
  const end = m.observe();
  assert.equal(end.facts.restoredFrom, 'old');
  assert.ok(end.vms.every((vm) => vm.dataNodes.every((n) => !n.up)), 'every node stopped again');
});


test('when the cluster is founded, the estimate of the steps left is the steps the rest takes', () => {
  const d = exampleDesired();
  const p = plan(d, bootstrapped(d, 3).observe());
  assert.deepEqual(lines(p), ['found the cluster with vm-1 as primary of slots 0-5461']);
  assert.equal(p.remaining, converge(d, bootstrapped(d, 3)).steps);
});

test('a node down after the founding: no slot is claimed until every node answers', () => {
  const d = exampleDesired();
  const m = bootstrapped(d, 4);
  m.crashNode('vm-6');
  const p = plan(d, m.observe());
  assert.equal(stepsOf(p, 'joinPrimary').length, 0);
  assert.ok(p.waiting.includes('slots are assigned once every node answers (a node that cannot be seen may serve some)'));
});
