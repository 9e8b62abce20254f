import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import { clusterAt, downNode, nodeOf, stepsOf, vmOf } from './testing/test-cluster.ts';

const d = exampleDesired();

test('a down node that may come back as primary over an older replica starts as it was', () => {
  // Mid-upgrade to 8.0: ng0's primary vm-1 (7.0) is down, its replica vm-2 (7.0) is up.
  const to = { ...d, version: '8.0' as const, runningSince: 3 };
  const c = clusterAt(d);
  downNode(c, 'vm-1');
  vmOf(c, 'vm-1').installedVersions = ['7.0', '8.0'];
  const start = stepsOf(plan(to, c), 'startDataNode').find((s) => s.nodeId === 'vm-1');
  assert.deepEqual(start, { kind: 'startDataNode', vmId: 'vm-1', nodeId: 'vm-1', nodeGroup: 0, version: '7.0', config: { 'maxmemory-policy': 'noeviction' }, runningSince: 1 });
  // Once vm-2 took over as primary, vm-1 returns as its replica: then on 8.0 at once.
  Object.assign(nodeOf(c, 'vm-2'), { role: 'primary', primaryId: undefined, slots: [{ start: 0, end: 5461 }], inSync: false });
  const again = stepsOf(plan(to, c), 'startDataNode').find((s) => s.nodeId === 'vm-1');
  assert.equal(again?.version, '8.0');
  assert.equal(again?.runningSince, 3);
});

