import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import { converge } from './testing/converge.ts';
import { Model } from './testing/model.ts';
import { clusterAt, lines, nodeOf } from './testing/test-cluster.ts';

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
