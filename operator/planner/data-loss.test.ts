import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import { clusterAt, downNode, dropVm, nodeOf } from './testing/test-cluster.ts';

const d = exampleDesired();

test('a group whose VMs are gone after it held data: blocked, naming the slots', () => {
  const c = clusterAt(d);
  dropVm(c, 'vm-3');
  dropVm(c, 'vm-4');
  const p = plan(d, c);
  assert.deepEqual(p.next, []);
  assert.equal(p.blocked.length, 1);
  assert.match(p.blocked[0] ?? '', /^slots 5462-10922 are served by no node although every node answers/);
  assert.ok(p.remaining >= 1);
});

test('not blocked while a node cannot be seen (it may serve the slots), nor before the cluster was formed', () => {
  const c = clusterAt(d);
  dropVm(c, 'vm-3');
  downNode(c, 'vm-4');
  assert.deepEqual(plan(d, c).blocked, []);
  const fresh = clusterAt(d, { formed: false });
  dropVm(fresh, 'vm-3');
  dropVm(fresh, 'vm-4');
  nodeOf(fresh, 'vm-1').slots = [];
  assert.deepEqual(plan(d, fresh).blocked, []);
});
