import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import { clusterAt, downNode, dropVm, nodeOf, vmOf } from './testing/test-cluster.ts';

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

test('the last slots lost: named up to 16383', () => {
  const c = clusterAt(d);
  dropVm(c, 'vm-5');
  dropVm(c, 'vm-6');
  assert.match(plan(d, c).blocked[0] ?? '', /^slots 10923-16383 are served by no node/);
});

test('many lost ranges: the first eight named, the rest counted', () => {
  const c = clusterAt(d);
  // ng0's primary serves 0, 2, 4, …, 20 and 22-5461: slots 1, 3, …, 21 (eleven ranges) are lost.
  nodeOf(c, 'vm-1').slots = [...Array.from({ length: 11 }, (_, i) => ({ start: 2 * i, end: 2 * i })), { start: 22, end: 5461 }];
  assert.match(plan(d, c).blocked[0] ?? '', /^slots 1, 3, 5, 7, 9, 11, 13, 15 and 3 more ranges are served by no node/);
});

test('not blocked while a VM is being created, nor while a node that answers has no role yet', () => {
  const creating = clusterAt(d);
  dropVm(creating, 'vm-3');
  dropVm(creating, 'vm-4');
  vmOf(creating, 'vm-6').state = 'creating';
  assert.deepEqual(plan(d, creating).blocked, []);
  const unknownRole = clusterAt(d);
  dropVm(unknownRole, 'vm-3');
  dropVm(unknownRole, 'vm-4');
  nodeOf(unknownRole, 'vm-6').role = 'unknown';
  assert.deepEqual(plan(d, unknownRole).blocked, []);
});
