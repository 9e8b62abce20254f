import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Step } from '../model/step.ts';
import { Batch, stepVms } from './batch.ts';

const stop = (id: string): Step => ({ kind: 'stopDataNode', vmId: id, nodeId: id });

test('one step per VM', () => {
  const b = new Batch(true);
  assert.ok(b.add(stop('vm-1'), 'x'));
  assert.ok(!b.add({ kind: 'ensureVersion', vmId: 'vm-1', version: '8.0' }, 'y'));
  assert.equal(b.steps.length, 1);
});

test('exclusive claims exclude everything in the group; shared ones tolerate each other', () => {
  const b = new Batch(true);
  assert.ok(b.add(stop('vm-1'), 'x', { groups: [0], claim: 'exclusive' }));
  assert.ok(!b.add(stop('vm-2'), 'x', { groups: [0], claim: 'shared' }));
  assert.ok(b.add(stop('vm-3'), 'x', { groups: [1], claim: 'shared' }));
  assert.ok(b.add(stop('vm-4'), 'x', { groups: [1], claim: 'shared' }));
  assert.ok(!b.add(stop('vm-5'), 'x', { groups: [1], claim: 'exclusive' }));
  assert.ok(b.add({ kind: 'createVm', vm: { id: 'vm-9', zone: 'a', vmType: 'small', storageGiB: 1, nodeGroup: 0, temporary: false, agentRunningSince: 0 } }, 'x'));
});

test('a global step only alone among claimed steps, and nothing claimed after it', () => {
  const b = new Batch(true);
  assert.ok(b.add({ kind: 'ensureVersion', vmId: 'vm-1', version: '8.0' }, 'x'));
  assert.ok(b.add({ kind: 'createBackup', vmId: 'vm-2', backupId: 'b', sink: { type: 'local', path: 'p' } }, 'x', { global: true }));
  assert.ok(!b.add(stop('vm-3'), 'x', { groups: [1], claim: 'shared' }));
  const c = new Batch(true);
  assert.ok(c.add(stop('vm-3'), 'x', { groups: [1], claim: 'shared' }));
  assert.ok(!c.add({ kind: 'createBackup', vmId: 'vm-2', backupId: 'b', sink: { type: 'local', path: 'p' } }, 'x', { global: true }));
});

test('forgetNode acts on the VM of every node it names (resolved by the view; a node\'s own id otherwise)', () => {
  const forget: Step = { kind: 'forgetNode', engineNodeId: 'e', nodeIds: ['n-1', 'vm-2'] };
  assert.deepEqual(stepVms(forget), ['n-1', 'vm-2']);
  assert.deepEqual(stepVms(forget, (id) => (id === 'n-1' ? 'vm-1' : undefined)), ['vm-1', 'vm-2']);
  const b = new Batch(true, (id) => (id === 'n-1' ? 'vm-1' : undefined));
  assert.ok(b.add(stop('vm-1'), 'x'));
  assert.ok(!b.add(forget, 'y', { global: true }), 'vm-1 has a step already');
  const c = new Batch(true);
  assert.ok(c.add(forget, 'y', { global: true }));
  assert.ok(!c.add(stop('vm-3'), 'x', { groups: [1], claim: 'shared' }), 'nothing claimed beside it');
  assert.ok(c.add({ kind: 'ensureVersion', vmId: 'vm-3', version: '8.0' }, 'x'), 'unclaimed steps on other VMs go along');
});

test('topology steps wait for agreement, once, in words', () => {
  const b = new Batch(false);
  assert.ok(!b.add({ kind: 'failover', vmId: 'vm-2', nodeId: 'vm-2' }, 'x', { topology: true }));
  assert.ok(!b.add({ kind: 'failover', vmId: 'vm-4', nodeId: 'vm-4' }, 'x', { topology: true }));
  assert.ok(b.add(stop('vm-6'), 'x'));
  assert.deepEqual(b.waiting, ['the nodes do not agree on the topology yet']);
});

test('waiting lines gather ids per reason, and stay few', () => {
  const b = new Batch(true);
  for (let i = 1; i <= 8; i++) b.waitOn('replicas syncing', `vm-${i}`);
  assert.deepEqual(b.waiting, ['replicas syncing: vm-1, vm-2, vm-3, vm-4, vm-5 and 3 more']);
  for (let i = 0; i < 30; i++) b.wait(`reason ${i}`);
  assert.equal(b.waiting.length, 21);
  assert.equal(b.waiting[20], '… and 11 more');
});
