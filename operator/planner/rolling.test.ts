import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import { clusterAt, downNode, lines, nodeOf, stepsOf, vmOf } from './testing/test-cluster.ts';

const d = exampleDesired();
const restart = { ...d, id: 6, runningSince: 6 };

test('restart: in every group one stale replica stops, groups in parallel', () => {
  const p = plan(restart, clusterAt(d));
  assert.deepEqual(lines(p), ['stop data node vm-2', 'stop data node vm-4', 'stop data node vm-6']);
  assert.match(p.next[0]?.why ?? '', /ng0: vm-2 needs a restart \(runningSince 1 → 6\); stopping it, replicas first/);
});

test('a stopped stale replica starts with the new labels; its group waits meanwhile', () => {
  const c = clusterAt(d);
  downNode(c, 'vm-2');
  const p = plan(restart, c);
  const start = stepsOf(p, 'startDataNode').find((s) => s.nodeId === 'vm-2');
  assert.equal(start?.runningSince, 6);
  assert.ok(!lines(p).some((l) => l.startsWith('stop data node vm-1')), 'ng0 has a node down: nothing else stops there');
  assert.ok(lines(p).includes('stop data node vm-4'));
});

test('a group with one node down (not by the restart): the other is not stopped', () => {
  const c = clusterAt(d);
  downNode(c, 'vm-3'); // ng1's primary crashed
  const p = plan(restart, c);
  assert.ok(!lines(p).some((l) => l === 'stop data node vm-4'));
  assert.ok(!stepsOf(p, 'failover').some((s) => s.nodeId === 'vm-4'));
});

test('a replica out of sync holds its group back', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-2').inSync = false;
  const p = plan(restart, c);
  assert.ok(!lines(p).includes('stop data node vm-2'));
  assert.ok(p.waiting.some((w) => w.startsWith('rolling restarts wait until every node of their node group is healthy: ng0')));
});

test('only the primary is stale: planned failover to an up-to-date replica first', () => {
  const c = clusterAt(d);
  for (const id of ['vm-2', 'vm-4', 'vm-6']) nodeOf(c, id).runningSince = 6;
  const p = plan(restart, c);
  assert.deepEqual(lines(p), ['fail over to vm-2', 'fail over to vm-4', 'fail over to vm-6']);
});

test('only the primaries are stale and one of them is down: no planned failover anywhere until it is started again', () => {
  const c = clusterAt(d);
  for (const id of ['vm-2', 'vm-4', 'vm-6']) nodeOf(c, id).runningSince = 6;
  downNode(c, 'vm-3'); // ng1's primary crashed: its slots have no up primary
  const p = plan(restart, c);
  assert.deepEqual(stepsOf(p, 'failover'), []);
  assert.ok(stepsOf(p, 'startDataNode').some((s) => s.nodeId === 'vm-3'), 'the down primary is started');
  assert.ok(p.waiting.some((w) => /^planned failovers wait until every slot is served by an up primary \(5461 are not\): ng0 and ng2$/.test(w)), p.waiting.join(' | '));
});

test('replicationFactor 1 without temporary VMs: a restart would take the only copy offline — blocked', () => {
  const one = exampleDesired({ replicationFactor: 1 });
  const p = plan({ ...one, id: 6, runningSince: 6 }, clusterAt(one));
  assert.deepEqual(p.next, []);
  assert.equal(p.blocked.length, 3);
  assert.match(p.blocked[0] ?? '', /ng0: vm-1 needs a restart \(runningSince 1 → 6\) but it is the only node of its node group.*allowTemporaryVms/);
});

test('groups beyond nodeGroups are not restarted (they are leaving)', () => {
  const p = plan({ ...restart, nodeGroups: 2 }, clusterAt(d));
  assert.ok(!lines(p).includes('stop data node vm-6'));
});

test('rolling work in one group shares the batch with drift repair in another', () => {
  const c = clusterAt(d);
  Object.assign(vmOf(c, 'vm-3'), { state: 'failed', agentUp: false, dataNodes: [] });
  const p = plan(restart, c);
  assert.ok(lines(p).includes('restart the agent of vm-3 (agentRunningSince 1)'));
  assert.ok(lines(p).includes('stop data node vm-2'));
  assert.ok(!lines(p).includes('stop data node vm-4'));
});

