import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { checkStepSafety } from './invariants.ts';
import { plan } from './plan.ts';
import { clusterAt, lines, nodeOf } from './testing/test-cluster.ts';

const d = exampleDesired();

test('a replica that follows another group\'s primary is re-pointed to its own', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-4').primaryId = 'vm-1';
  assert.deepEqual(lines(plan(d, c)), ['make vm-4 a replica of vm-3']);
});

test('a replica whose primary is not known yet is waited for, not re-pointed', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-4').primaryId = undefined;
  const p = plan(d, c);
  assert.deepEqual(p.next, []);
  assert.deepEqual(p.waiting, ['replicas whose primary is not known yet: vm-4']);
});

test('an empty second primary in a group becomes a replica of the one that serves the slots', () => {
  const c = clusterAt(d);
  Object.assign(nodeOf(c, 'vm-6'), { role: 'primary', primaryId: undefined, inSync: false });
  assert.deepEqual(lines(plan(d, c)), ['make vm-6 a replica of vm-5']);
});

test('a half-joined node (only its own view differs: it lists the members, they do not list it) is joined all the same', () => {
  // Seen in the crash test: killed while joining, started again with its nodes.conf.
  // Waiting for agreement first waited for ever: only the join makes the members meet it.
  const c = clusterAt(d);
  Object.assign(nodeOf(c, 'vm-6'), { role: 'primary', primaryId: undefined, inSync: false, topologyDigest: 'its-own-view' });
  const p = plan(d, c);
  assert.deepEqual(lines(p), ['make vm-6 a replica of vm-5']);
  assert.deepEqual(checkStepSafety(d, c, p.next.map((s) => s.step)), [], 'the invariants allow it');
});

test('when another member disagrees too, the join waits for agreement', () => {
  const c = clusterAt(d);
  Object.assign(nodeOf(c, 'vm-6'), { role: 'primary', primaryId: undefined, inSync: false, topologyDigest: 'its-own-view' });
  nodeOf(c, 'vm-2').topologyDigest = 'another-view';
  const p = plan(d, c);
  assert.deepEqual(p.next, []);
  assert.ok(p.waiting.includes('the nodes do not agree on the topology yet'), p.waiting.join(' | '));
});

test('a second primary that serves slots in the same group: its slots move to the group\'s primary first', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-5').slots = [{ start: 10923, end: 15000 }];
  Object.assign(nodeOf(c, 'vm-6'), { role: 'primary', primaryId: undefined, inSync: false, slots: [{ start: 15001, end: 16383 }] });
  assert.deepEqual(lines(plan(d, c)), ['move 1383 slots (15001-16383) from vm-6 to vm-5']);
});

test('a group with no primary whose nodes all replicate other groups: one node is reset to become its primary', () => {
  const c = clusterAt(d);
  // ng2 served no slot: its (empty) primary vm-5 is gone, vm-6 replicates ng0's primary.
  c.vms = c.vms.filter((v) => v.id !== 'vm-5');
  nodeOf(c, 'vm-1').slots = [{ start: 0, end: 5461 }, { start: 10923, end: 16383 }];
  nodeOf(c, 'vm-6').primaryId = 'vm-1';
  const p = plan(d, c);
  assert.ok(lines(p).includes('remove data node vm-6 from the cluster'), lines(p).join('\n'));
  assert.match(p.next.find((s) => s.step.kind === 'removeNode')?.why ?? '', /ng2 has no primary and its nodes replicate other node groups/);
});
