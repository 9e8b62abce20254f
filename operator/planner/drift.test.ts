import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import { clusterAt, downNode, lines, stepsOf, vmOf } from './testing/test-cluster.ts';

const d = exampleDesired();

test('at the desired state: done, nothing to do', () => {
  const p = plan(d, clusterAt(d));
  assert.deepEqual(p, { next: [], done: true, waiting: [], remaining: 0, blocked: [] });
});

test('a failed or stopped VM, or a dead agent: restartAgent (the data node is left alone)', () => {
  const c = clusterAt(d);
  Object.assign(vmOf(c, 'vm-2'), { state: 'failed', agentUp: false, dataNodes: [] });
  Object.assign(vmOf(c, 'vm-3'), { agentUp: false, dataNodes: [] });
  Object.assign(vmOf(c, 'vm-5'), { state: 'stopped', agentUp: false, dataNodes: [] });
  const p = plan(d, c);
  assert.deepEqual(lines(p), [
    'restart the agent of vm-2 (agentRunningSince 1)',
    'restart the agent of vm-3 (agentRunningSince 1)',
    'restart the agent of vm-5 (agentRunningSince 1)',
  ]);
  assert.match(p.next[0]?.why ?? '', /vm-2 is failed/);
  assert.match(p.next[1]?.why ?? '', /does not answer/);
});

test('a VM still being created is waited for, not restarted', () => {
  const c = clusterAt(d);
  Object.assign(vmOf(c, 'vm-6'), { state: 'creating', agentUp: false, dataNodes: [] });
  const p = plan(d, c);
  assert.deepEqual(p.next, []);
  assert.deepEqual(p.waiting, ['VMs still being created: vm-6']);
  assert.equal(p.done, false);
});

test('a replica that is down: started again with the desired labels', () => {
  const c = clusterAt(d);
  downNode(c, 'vm-4');
  const p = plan(d, c);
  assert.deepEqual(stepsOf(p, 'startDataNode'), [
    { kind: 'startDataNode', vmId: 'vm-4', nodeId: 'vm-4', nodeGroup: 1, version: '7.0', config: { 'maxmemory-policy': 'noeviction' }, runningSince: 1 },
  ]);
  assert.equal(p.next.length, 1);
});

test('a whole group down that holds data: its nodes start, the plan is not blocked', () => {
  const c = clusterAt(d);
  downNode(c, 'vm-3');
  downNode(c, 'vm-4');
  const p = plan(d, c);
  assert.deepEqual(p.blocked, []);
  assert.deepEqual(lines(p), [
    'start data node vm-3 (version 7.0, node group 1, runningSince 1)',
    'start data node vm-4 (version 7.0, node group 1, runningSince 1)',
  ]);
});

test('a kept VM whose agent answers without a data node: its node is started (version first)', () => {
  const c = clusterAt(d);
  Object.assign(vmOf(c, 'vm-6'), { dataNodes: [], installedVersions: [] });
  assert.deepEqual(lines(plan(d, c)), ['make version 7.0 available on vm-6']);
  vmOf(c, 'vm-6').installedVersions = ['7.0'];
  assert.deepEqual(lines(plan(d, c)), ['start data node vm-6 (version 7.0, node group 2, runningSince 1)']);
});

