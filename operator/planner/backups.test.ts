import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import { clusterAt, downNode, lines, stepsOf } from './testing/test-cluster.ts';

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
