import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import { converge } from './testing/converge.ts';
import { Model } from './testing/model.ts';
import { clusterAt, lines, stepsOf, vmOf } from './testing/test-cluster.ts';

test('replicationFactor 1 with temporary VMs: a temporary replica takes over, the original is kept', () => {
  const one = exampleDesired({ replicationFactor: 1, allowTemporaryVms: true, nodeGroups: 1 });
  const to = { ...one, id: 6, runningSince: 6 };
  const p = plan(to, clusterAt(one));
  assert.deepEqual(stepsOf(p, 'createVm').map((s) => [s.vm.id, s.vm.temporary, s.vm.zone]), [['vm-2', true, 'zone-b']]);
  const m = Model.from(clusterAt(one));
  const r = converge(to, m);
  assert.deepEqual([...m.vms.keys()], ['vm-1'], 'the temporary VM is gone, the original stays');
  assert.ok(r.log.filter((l) => l.includes('fail over')).length === 2, 'over to the temporary VM and back');
});

test('replicationFactor 1: a VM the group is letting go stands in, no temporary VM needed', () => {
  // An interrupted change left vm-7 (no data node yet) in ng0; now rf 1 and a restart.
  const one = exampleDesired({ replicationFactor: 1, nodeGroups: 1 });
  const c = clusterAt(one);
  const extra = structuredClone(vmOf(c, 'vm-1'));
  Object.assign(extra, { id: 'vm-7', zone: 'zone-b', dataNodes: [] });
  c.vms.push(extra);
  const to = { ...one, id: 6, runningSince: 6 };
  const p = plan(to, c);
  assert.deepEqual(lines(p), ['start data node vm-7 (version 7.0, node group 0, runningSince 6)'], 'started, not deleted');
  const m = Model.from(c);
  const r = converge(to, m);
  // vm-7 conforms: once it is the primary the layout keeps it and vm-1 leaves unrestarted.
  assert.deepEqual([...m.vms.keys()], ['vm-7']);
  assert.ok(!r.log.some((l) => l.includes('temporary')));
  assert.equal(r.log.filter((l) => l.includes('fail over')).length, 1);
});
