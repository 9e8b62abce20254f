import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import type { ObservedCluster } from '../model/observed.ts';
import { clusterAt, downNode, lines, nodeOf, stepsOf, vmOf } from './testing/test-cluster.ts';

const d = exampleDesired();
const weekly = { id: 'weekly', sink: { type: 'local' as const, path: 'b2' } };

test('a listed backup that is not in its sink is taken through the lowest-id primary, one at a time', () => {
  const monthly = { id: 'monthly', sink: { type: 'local' as const, path: 'b3' } };
  const p = plan({ ...d, id: 6, backups: [...d.backups, weekly, monthly] }, clusterAt(d));
  assert.deepEqual(stepsOf(p, 'createBackup'), [{ kind: 'createBackup', vmId: 'vm-1', backupId: 'weekly', sink: weekly.sink }]);
  assert.equal(p.next.length, 1);
});

test('an incomplete backup is taken again; a backup with the same id in another sink is another backup', () => {
  const c = clusterAt(d);
  c.backups = [{ id: 'nightly', sink: 'local:backups', complete: false }];
  assert.deepEqual(lines(plan(d, c)), ['create backup nightly in local:backups']);
  c.backups = [{ id: 'nightly', sink: 'local:elsewhere', complete: true }];
  assert.deepEqual(lines(plan(d, c)), ['create backup nightly in local:backups', 'delete backup nightly from local:elsewhere']);
});

test('no backup while a node group lacks its primary', () => {
  const c = clusterAt(d);
  c.backups = [];
  downNode(c, 'vm-3');
  const p = plan(d, c);
  assert.deepEqual(stepsOf(p, 'createBackup'), []);
});

test('a backup no longer listed is deleted, never the one restoreFromBackup names', () => {
  const restore = { id: 'origin', sink: { type: 'local' as const, path: 'r' } };
  const to = { ...d, id: 6, backups: [], restoreFromBackup: restore };
  const c = clusterAt({ ...d, restoreFromBackup: restore });
  c.backups?.push({ id: 'old', sink: 'local:b9', complete: true });
  const p = plan(to, c);
  assert.deepEqual(stepsOf(p, 'deleteBackup').map((s) => [s.backupId, s.sink.path, s.vmId]), [
    ['nightly', 'backups', 'vm-1'],
    ['old', 'b9', 'vm-2'],
  ]);
  assert.ok(!lines(p).some((l) => l.includes('origin')));
});

test('backups are deleted while the cluster is stopped too', () => {
  const c = clusterAt({ ...d, running: false });
  const p = plan({ ...d, id: 6, running: false, backups: [] }, c);
  assert.deepEqual(lines(p), ['delete backup nightly from local:backups']);
});

test('sinks that cannot be listed: the plan waits and is not done', () => {
  const c = clusterAt(d);
  c.backups = undefined;
  const p = plan(d, c);
  assert.deepEqual(p.next, []);
  assert.equal(p.done, false);
  assert.deepEqual(p.waiting, ['the backups cannot be listed now (no agent answered, or a sink could not be read)']);
});

test('a backup is taken even when another one is complete in the same sink', () => {
  const sameSink = { id: 'weekly', sink: { type: 'local' as const, path: 'backups' } };
  const p = plan({ ...d, id: 6, backups: [...d.backups, sameSink] }, clusterAt(d));
  assert.deepEqual(lines(p), ['create backup weekly in local:backups']);
});

test('a backup in a sink of an unknown kind is not deleted: the plan says why', () => {
  const c = clusterAt(d);
  c.backups?.push({ id: 'cloud', sink: 's3:bucket', complete: true });
  const p = plan(d, c);
  assert.deepEqual(p.next, []);
  assert.deepEqual(p.waiting, ['backups in sinks of an unknown kind cannot be deleted: cloud']);
});

test('deletions: in id then sink order, one per agent, through the agents in id order', () => {
  const c = clusterAt(d);
  for (const id of ['z', 'b', 'a', 'y', 'c', 'x', 'd', 'e']) c.backups?.push({ id, sink: 'local:old', complete: true });
  c.backups?.push({ id: 'a', sink: 'local:aaa', complete: true });
  const deletions = stepsOf(plan(d, c), 'deleteBackup').map((s) => [s.backupId, s.sink.path, s.vmId]);
  assert.deepEqual(deletions, [
    ['a', 'aaa', 'vm-1'],
    ['a', 'old', 'vm-2'],
    ['b', 'old', 'vm-3'],
    ['c', 'old', 'vm-4'],
    ['d', 'old', 'vm-5'],
    ['e', 'old', 'vm-6'],
  ]);
});

test('a backup is not deleted through a VM whose agent is down', () => {
  const c = clusterAt(d);
  c.backups?.push({ id: 'old', sink: 'local:o', complete: true });
  vmOf(c, 'vm-1').agentUp = false;
  assert.deepEqual(
    stepsOf(plan(d, c), 'deleteBackup').map((s) => s.vmId),
    ['vm-2'],
  );
});

test('backups are neither taken nor deleted while the nodes disagree on the topology', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-2').topologyDigest = 'topology-2';
  c.backups?.push({ id: 'old', sink: 'local:o', complete: true });
  const p = plan({ ...d, id: 6, backups: [...d.backups, weekly] }, c);
  assert.deepEqual(p.next, []);
  assert.deepEqual(p.waiting, ['the nodes do not agree on the topology yet']);
});

/** A cluster whose nodes run but were never formed: no slots, every node its own primary. */
function unformed(c: ObservedCluster): ObservedCluster {
  c.facts.formed = false;
  for (const vm of c.vms) for (const n of vm.dataNodes) Object.assign(n, { slots: [], role: 'primary', primaryId: undefined, topologyDigest: '' });
  return c;
}

test('a backup of a cluster being formed (or restored) waits for it, and says so', () => {
  const c = unformed(clusterAt(d));
  c.backups = [];
  assert.ok(plan(d, c).waiting.includes('backup "nightly" is taken once the cluster is formed'));
  const origin = { id: 'origin', sink: { type: 'local' as const, path: 'r' } };
  const restoring = { ...d, restoreFromBackup: origin };
  const r = unformed(clusterAt(restoring));
  r.backups = [{ id: 'origin', sink: 'local:r', complete: true }];
  r.facts.restoredFrom = undefined;
  assert.ok(plan(restoring, r).waiting.includes('backup "nightly" is taken once the cluster is formed and restored'));
});

test('while other work claims node groups, backups wait without a word', () => {
  const c = clusterAt(d);
  c.backups = [];
  downNode(c, 'vm-3');
  const p = plan(d, c);
  assert.deepEqual(lines(p), ['start data node vm-3 (version 7.0, node group 1, runningSince 1)']);
  assert.deepEqual(p.waiting, []);
});
