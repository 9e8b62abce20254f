import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { clusterAt, downNode, nodeOf, vmOf } from './testing/test-cluster.ts';
import { ClusterView } from './view.ts';

const d = exampleDesired();

test('a group\'s primary: the up primary with most slots; health follows it', () => {
  const c = clusterAt(d);
  const v = new ClusterView(d, c);
  assert.equal(v.group(0).primary?.id, 'vm-1');
  assert.equal(v.group(0).healthy, 2);
  assert.ok(v.group(0).settled);
  assert.equal(v.assigned, 16384);
  assert.ok(v.topologyAgrees);
  assert.ok(v.holdsData);
  assert.equal(v.nextVmNumber, 7);
});

test('a down primary: the group has none, its replica is not healthy, slots are not seen', () => {
  const c = clusterAt(d);
  downNode(c, 'vm-1');
  const v = new ClusterView(d, c);
  assert.equal(v.group(0).primary, undefined);
  assert.equal(v.group(0).healthy, 0);
  assert.equal(v.group(0).hidden, 1);
  assert.equal(v.assigned, 16384 - 5462);
});

test('topology agreement: every up member the same non-empty digest; fresh nodes do not count', () => {
  const c = clusterAt(d);
  Object.assign(nodeOf(c, 'vm-6'), { role: 'none', topologyDigest: 'alone' });
  assert.ok(new ClusterView(d, c).topologyAgrees);
  nodeOf(c, 'vm-5').topologyDigest = '';
  assert.ok(!new ClusterView(d, c).topologyAgrees);
});

test('staleness: version, runningSince, restart-only config; live config apart', () => {
  const v = new ClusterView({ ...d, version: '8.0', runningSince: 3, config: { 'maxmemory-policy': 'allkeys-lru' } }, clusterAt(d));
  const s = v.staleness(nodeOf(clusterAt(d), 'vm-1'));
  assert.deepEqual(s.restart, ['version 7.0 → 8.0', 'runningSince 1 → 3']);
  assert.deepEqual(s.live, { 'maxmemory-policy': 'allkeys-lru' });
  assert.equal(new ClusterView(d, clusterAt(d)).isStale(nodeOf(clusterAt(d), 'vm-1')), false);
});

test('a VM whose agent is down hides its node', () => {
  const c = clusterAt(d);
  vmOf(c, 'vm-2').agentUp = false;
  const v = new ClusterView(d, c);
  assert.equal(v.node(vmOf(c, 'vm-2')), undefined);
  assert.equal(v.hidden, 1);
});
