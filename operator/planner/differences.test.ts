import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import type { Desired } from '../../desired-state/types.ts';
import type { ObservedCluster } from '../model/observed.ts';
import { Batch } from './batch.ts';
import { differences } from './differences.ts';
import { computeLayout } from './layout.ts';
import { restorePending } from './restore.ts';
import { clusterAt, downNode, nodeOf } from './testing/test-cluster.ts';
import { ClusterView } from './view.ts';

function diff(d: Desired, c: ObservedCluster): string[] {
  const view = new ClusterView(d, c);
  return differences({ desired: d, view, layout: computeLayout(view, d.running), batch: new Batch(true), running: d.running, forming: false, restorePending: restorePending(view), upgradeFirst: new Set() });
}

const d = exampleDesired();

test('nothing differs at the desired state, running or stopped', () => {
  assert.deepEqual(diff(d, clusterAt(d)), []);
  const off = { ...d, running: false };
  assert.deepEqual(diff(off, clusterAt(off)), []);
});

test('each kind of difference is named', () => {
  const c = clusterAt(d);
  downNode(c, 'vm-2');
  nodeOf(c, 'vm-4').runningSince = 0;
  c.backups = [];
  const out = diff({ ...d, agentRunningSince: 2 }, c);
  assert.ok(out.includes('vm-2 is down'));
  assert.ok(out.includes('vm-4 needs a restart: runningSince 0 → 1'));
  assert.ok(out.includes('the agent of vm-1 runs for agentRunningSince 1'));
  assert.ok(out.length <= 10, 'capped');
});

test('stopped: labels are not compared, running nodes are', () => {
  const off = { ...d, running: false, version: '8.0' as const };
  const c = clusterAt({ ...d, running: false });
  assert.deepEqual(diff(off, c), []);
  assert.deepEqual(diff(off, clusterAt(d)).slice(0, 2), ['vm-1 runs, but running is false', 'vm-2 runs, but running is false']);
});

test('a healthy replica whose primary cannot be seen is not called unhealthy: the group says why it shows no primary', () => {
  const c = clusterAt(d);
  const vm1 = c.vms.find((v) => v.id === 'vm-1');
  assert.ok(vm1 !== undefined);
  // Only the agent of vm-1 (ng0's primary) was killed: its data node still serves, unseen.
  Object.assign(vm1, { agentUp: false, dataNodes: [] });
  const out = diff(d, c);
  assert.ok(!out.some((line) => line.startsWith('vm-2 ')), `vm-2 is a healthy replica, yet: ${out.join(' | ')}`);
  assert.ok(out.includes('vm-1 is without an answering agent'), out.join(' | '));
  assert.ok(out.includes('ng0 shows no primary: the agent of vm-1 does not answer, so its data node cannot be seen'), out.join(' | '));
  assert.ok(!out.some((line) => line.includes('no running primary')), 'the primary may well run: it cannot be seen');
});

test('an up node that is not healthy is told why: sync, another primary, a second primary, not a member', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-2').inSync = false;
  nodeOf(c, 'vm-4').primaryId = 'vm-5';
  Object.assign(nodeOf(c, 'vm-6'), { role: 'primary', primaryId: undefined, inSync: false });
  const out = diff(d, c);
  assert.ok(out.includes('vm-2 has not finished its initial sync with vm-1'), out.join(' | '));
  assert.ok(out.includes('vm-4 replicates vm-5, not vm-3, the primary of ng1'), out.join(' | '));
  assert.ok(out.includes('vm-6 is a second primary in ng2 (vm-5 serves the most slots)'), out.join(' | '));
  const fresh = clusterAt(d);
  Object.assign(nodeOf(fresh, 'vm-4'), { role: 'none', primaryId: undefined, inSync: false });
  assert.ok(diff(d, fresh).includes('vm-4 is not a member of the cluster yet'));
  assert.ok(!out.some((line) => line.includes('healthy member')));
});
