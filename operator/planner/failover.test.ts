import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { failoverTarget, olderVersion, versionOrderAllows } from './failover.ts';
import { computeLayout } from './layout.ts';
import { clusterAt, nodeOf } from './testing/test-cluster.ts';
import { ClusterView } from './view.ts';

test('olderVersion compares numerically', () => {
  assert.ok(olderVersion('7.0', '8.0'));
  assert.ok(!olderVersion('8.0', '7.0'));
  assert.ok(!olderVersion('8.0', '8.0'));
  assert.ok(olderVersion('9.0', '10.0'));
});

test('the target: healthy, up to date, kept first, lowest id; never newer than another replica', () => {
  const d = exampleDesired({ replicationFactor: 3, version: '8.0' });
  const c = clusterAt({ ...d, version: '7.0' });
  const view = () => new ClusterView(d, c);
  const pick = () => {
    const v = view();
    return failoverTarget(v, computeLayout(v, true), v.group(0))?.id;
  };
  assert.equal(pick(), undefined, 'nobody is up to date');
  nodeOf(c, 'vm-3').version = '8.0';
  assert.equal(pick(), undefined, 'vm-2 still runs 7.0 and could not sync from vm-3');
  nodeOf(c, 'vm-2').version = '8.0';
  assert.equal(pick(), 'vm-2');
  nodeOf(c, 'vm-2').inSync = false;
  assert.equal(pick(), 'vm-3', 'vm-2 is not in sync');
  const v = view();
  assert.ok(versionOrderAllows(v, v.group(1), nodeOf(c, 'vm-5')), 'ng1 runs one version: any replica may take over');
});
