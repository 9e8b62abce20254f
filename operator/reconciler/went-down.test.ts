import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import type { Step } from '../model/step.ts';
import { clusterAt, downNode, dropVm, vmOf } from '../planner/testing/test-cluster.ts';
import { wentDown } from './went-down.ts';

const d = exampleDesired();
const move: Step = { kind: 'moveData', vmId: 'vm-1', fromId: 'vm-1', toId: 'vm-3', slots: [{ start: 0, end: 10 }] };

test('nothing went down: undefined', () => {
  assert.equal(wentDown(clusterAt(d), clusterAt(d), [move]), undefined);
});

test("a move's target killed as the move ended: its data node went down", () => {
  const after = clusterAt(d);
  downNode(after, 'vm-3');
  assert.equal(wentDown(clusterAt(d), after, [move]), 'the data node vm-3 of vm-3');
});

test('an agent that stopped answering, or a VM that is gone or not running', () => {
  for (const change of [
    (c: ReturnType<typeof clusterAt>) => Object.assign(vmOf(c, 'vm-2'), { agentUp: false, dataNodes: [] }),
    (c: ReturnType<typeof clusterAt>) => Object.assign(vmOf(c, 'vm-2'), { state: 'failed' }),
    (c: ReturnType<typeof clusterAt>) => dropVm(c, 'vm-2'),
  ]) {
    const after = clusterAt(d);
    change(after);
    assert.equal(wentDown(clusterAt(d), after, [move]), 'the agent of vm-2');
  }
});

test('what the batch takes down on purpose does not count', () => {
  const after = clusterAt(d);
  downNode(after, 'vm-2');
  Object.assign(vmOf(after, 'vm-4'), { agentUp: false, dataNodes: [] });
  Object.assign(vmOf(after, 'vm-5'), { agentUp: false, dataNodes: [] });
  vmOf(after, 'vm-6').dataNodes = [];
  const steps: Step[] = [
    { kind: 'stopDataNode', vmId: 'vm-2', nodeId: 'vm-2' },
    { kind: 'restartAgent', vmId: 'vm-4', agentRunningSince: 2 },
    { kind: 'deleteVm', vmId: 'vm-5' },
    { kind: 'removeNode', vmId: 'vm-6', nodeId: 'vm-6' },
    { kind: 'restoreBackup', vmId: 'vm-3', backupId: 'b1', sink: { type: 'local', path: '/b' }, nodeIds: ['vm-3'] },
  ];
  downNode(after, 'vm-3');
  assert.equal(wentDown(clusterAt(d), after, steps), undefined);
  // … but the same stop does not excuse another node.
  downNode(after, 'vm-1');
  assert.equal(wentDown(clusterAt(d), after, steps), 'the data node vm-1 of vm-1');
});

test('a node a succeeded start brought up, or an agent a succeeded restart brought up, that is down again', () => {
  const before = clusterAt(d);
  downNode(before, 'vm-2');
  Object.assign(vmOf(before, 'vm-4'), { agentUp: false, dataNodes: [] });
  const start: Step = { kind: 'startDataNode', vmId: 'vm-2', nodeId: 'vm-2', nodeGroup: 0, version: '7.0', config: {}, runningSince: 1 };
  const restart: Step = { kind: 'restartAgent', vmId: 'vm-4', agentRunningSince: 2 };
  const after = structuredClone(before);
  // The jobs failed: nothing was brought up, nothing went down.
  assert.equal(wentDown(before, after, [start, restart], []), undefined);
  // They succeeded, and the agent of vm-4 answers again: the node of vm-2 went down after its start.
  Object.assign(vmOf(after, 'vm-4'), { agentUp: true, dataNodes: clusterAt(d).vms.find((v) => v.id === 'vm-4')?.dataNodes ?? [] });
  assert.equal(wentDown(before, after, [start, restart], [start, restart]), 'the data node vm-2 of vm-2');
  // The agent of vm-4 is down again after its restart.
  Object.assign(vmOf(after, 'vm-4'), { agentUp: false, dataNodes: [] });
  assert.equal(wentDown(before, after, [start, restart], [start, restart]), 'the agent of vm-4');
});

test('what was already down when the batch was planned does not count', () => {
  const before = clusterAt(d);
  downNode(before, 'vm-3');
  Object.assign(vmOf(before, 'vm-2'), { agentUp: false, dataNodes: [] });
  const after = structuredClone(before);
  assert.equal(wentDown(before, after, [move]), undefined);
});
