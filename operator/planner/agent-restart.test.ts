import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import { converge } from './testing/converge.ts';
import { Model } from './testing/model.ts';
import { clusterAt, downNode, lines, nodeOf, vmOf } from './testing/test-cluster.ts';

const d = exampleDesired();
const to = { ...d, id: 6, agentRunningSince: 6 };

test('agents restart one at a time, lowest id first, data nodes untouched', () => {
  const p = plan(to, clusterAt(d));
  assert.deepEqual(lines(p), ['restart the agent of vm-1 (agentRunningSince 6)']);
  const m = Model.from(clusterAt(d));
  const r = converge(to, m);
  assert.equal(r.steps, 6);
  assert.equal(r.rounds, 7);
});

test('no agent restarts while a node group is not healthy', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-6').inSync = false;
  const p = plan(to, c);
  assert.deepEqual(p.next, []);
  assert.deepEqual(p.waiting, ['agent restarts wait until every node group is healthy: ng2']);
});

test('a data node down while others run: its repair comes first, the agents wait without a word', () => {
  const c = clusterAt(d);
  downNode(c, 'vm-3');
  const p = plan(to, c);
  assert.deepEqual(lines(p), ['start data node vm-3 (version 7.0, node group 1, runningSince 1)']);
  assert.deepEqual(p.waiting, []);
});

test('a VM without a data node does not stop the plan', () => {
  const c = clusterAt(d);
  vmOf(c, 'vm-6').dataNodes = [];
  assert.deepEqual(lines(plan(to, c)), ['start data node vm-6 (version 7.0, node group 2, runningSince 1)']);
});

test('an agent restart runs alone: a backup to take waits for a later batch', () => {
  const weekly = { id: 'weekly', sink: { type: 'local' as const, path: 'b2' } };
  const p = plan({ ...to, backups: [...d.backups, weekly] }, clusterAt(d));
  assert.deepEqual(lines(p), ['restart the agent of vm-1 (agentRunningSince 6)']);
});
