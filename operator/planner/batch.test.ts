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

test('a VM being created takes no other step in the same batch', () => {
  const b = new Batch(true);
  assert.ok(b.add({ kind: 'createVm', vm: { id: 'vm-9', zone: 'a', vmType: 'small', storageGiB: 1, nodeGroup: 0, temporary: false, agentRunningSince: 0 } }, 'x'));
  assert.ok(!b.add({ kind: 'ensureVersion', vmId: 'vm-9', version: '8.0' }, 'y'));
  assert.equal(b.steps.length, 1);
});

test('hasClaims: after a claimed step or a global one, not after unclaimed ones', () => {
  const b = new Batch(true);
  assert.ok(b.add({ kind: 'ensureVersion', vmId: 'vm-1', version: '8.0' }, 'x'));
  assert.equal(b.hasClaims, false);
  assert.ok(b.add(stop('vm-2'), 'x', { groups: [0], claim: 'shared' }));
  assert.equal(b.hasClaims, true);
  assert.ok(b.add(stop('vm-3'), 'x', { groups: [0], claim: 'shared' }));
  assert.equal(b.hasClaims, true);
  const g = new Batch(true);
  assert.ok(g.add({ kind: 'createBackup', vmId: 'vm-2', backupId: 'b', sink: { type: 'local', path: 'p' } }, 'x', { global: true }));
  assert.equal(g.hasClaims, true);
});

test('a claim on no node group conflicts with nothing', () => {
  const b = new Batch(true);
  assert.ok(b.add(stop('vm-1'), 'x', { claim: 'exclusive' }));
  assert.ok(b.add(stop('vm-2'), 'x', { claim: 'exclusive' }));
  assert.ok(b.add(stop('vm-3'), 'x', { groups: [0], claim: 'exclusive' }));
});

test('only a join is let through by the agreement of the other members', () => {
  const othersAgree = new Batch(false, undefined, () => true);
  assert.ok(!othersAgree.add({ kind: 'failover', vmId: 'vm-2', nodeId: 'vm-2' }, 'x', { topology: true }), 'not a join: the whole cluster must agree');
  assert.ok(othersAgree.add(stop('vm-5'), 'x', { topology: true, joins: 'vm-5' }));
  const noView = new Batch(false);
  assert.ok(!noView.add(stop('vm-5'), 'x', { topology: true, joins: 'vm-5' }), 'without a view of the others, a join waits too');
  assert.deepEqual(noView.waiting, ['the nodes do not agree on the topology yet']);
});

test('waiting and blocked lines name each id and each message once', () => {
  const b = new Batch(true);
  b.waitOn('replicas syncing', 'vm-1');
  b.waitOn('replicas syncing', 'vm-1');
  b.waitOn('replicas syncing', 'vm-2');
  b.wait('replicas syncing');
  assert.deepEqual(b.waiting, ['replicas syncing: vm-1 and vm-2'], 'a plain wait for the same reason keeps its ids');
  b.block('no zone left');
  b.block('no zone left');
  assert.deepEqual(b.blocked, ['no zone left']);
});

test('exactly as many waiting reasons as shown: no "… and 0 more" line', () => {
  const b = new Batch(true);
  for (let i = 0; i < 20; i++) b.wait(`reason ${i}`);
  assert.equal(b.waiting.length, 20);
  assert.equal(b.waiting[19], 'reason 19');
});
