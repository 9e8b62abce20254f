import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { failoverTarget, failoverWait, olderVersion, versionOrderAllows } from './failover.ts';
import { computeLayout } from './layout.ts';
import { clusterAt, nodeOf, vmOf } from './testing/test-cluster.ts';
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

/** The failover target of node group 0 for desired `d` on cluster `c`. */
function target(d: ReturnType<typeof exampleDesired>, c: ReturnType<typeof clusterAt>, opts: Parameters<typeof failoverTarget>[3] = {}): string | undefined {
  const v = new ClusterView(d, c);
  return failoverTarget(v, computeLayout(v, true), v.group(0), opts)?.id;
}

test('the target: kept VMs first, temporary ones last, the lowest id among equals; keptOnly leaves the others out', () => {
  const d = exampleDesired({ replicationFactor: 4 });
  const c = clusterAt(d);
  assert.equal(target(d, c), 'vm-2', 'all kept: the lowest id');
  const fewer = { ...d, replicationFactor: 3 };
  const leaving = computeLayout(new ClusterView(fewer, c), true).group(0).keep.map((vm) => vm.id);
  const gone = ['vm-2', 'vm-3', 'vm-4'].find((id) => !leaving.includes(id));
  assert.ok(gone !== undefined, 'one replica of ng0 leaves when the replication factor goes down');
  assert.notEqual(target(fewer, c), gone, 'a kept replica comes first');
  vmOf(c, 'vm-2').temporary = true;
  assert.equal(target(d, c), 'vm-3', 'a temporary VM comes after the others');
  assert.equal(target(d, c, { keptOnly: true }), 'vm-3');
  vmOf(c, 'vm-3').temporary = true;
  vmOf(c, 'vm-4').temporary = true;
  assert.equal(target(d, c, { keptOnly: true }), undefined, 'only kept VMs may take over: none is');
  assert.equal(target(d, c), 'vm-2', 'all temporary: the lowest id');
});

test('the target may be out of date when asked, and never the primary, a non-replica or an unhealthy node', () => {
  const d = exampleDesired({ replicationFactor: 3 });
  const c = clusterAt({ ...d, runningSince: 0 });
  assert.equal(target(d, c), undefined, 'every replica awaits its restart');
  assert.equal(target(d, c, { upToDate: false }), 'vm-2');
  nodeOf(c, 'vm-2').up = false;
  assert.equal(target(d, c, { upToDate: false }), 'vm-3', 'vm-2 is down');
  nodeOf(c, 'vm-3').role = 'unknown';
  assert.equal(target(d, c, { upToDate: false }), undefined, 'vm-3 is not a replica');
});

test('an older version on the old primary or on a node that is down does not hold a promotion back', () => {
  const d = exampleDesired({ replicationFactor: 3, version: '8.0' });
  const c = clusterAt(d);
  nodeOf(c, 'vm-1').version = '7.0';
  assert.equal(target(d, c), 'vm-2', 'the old primary restarts next');
  nodeOf(c, 'vm-2').version = '7.0';
  nodeOf(c, 'vm-2').up = false;
  assert.equal(target(d, c), 'vm-3', 'vm-2 is down');
});

test('failovers wait while some slots have no up primary, saying how many', () => {
  const d = exampleDesired();
  const c = clusterAt(d);
  assert.equal(failoverWait(new ClusterView(d, c)), undefined);
  nodeOf(c, 'vm-3').slots = [];
  assert.equal(failoverWait(new ClusterView(d, c)), 'planned failovers wait until every slot is served by an up primary (5461 are not)');
});
