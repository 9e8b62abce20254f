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
