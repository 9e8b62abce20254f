import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import { converge } from './testing/converge.ts';
import { Model } from './testing/model.ts';
import { clusterAt, lines, nodeOf, stepsOf, vmOf } from './testing/test-cluster.ts';

const d = exampleDesired();

test('replicationFactor up: every missing VM in one batch, each in its group\'s emptiest zone', () => {
  const to = { ...d, id: 6, replicationFactor: 3, availabilityZones: ['zone-a', 'zone-b', 'zone-c'] as [string, ...string[]] };
  const p = plan(to, clusterAt(d));
  assert.deepEqual(stepsOf(p, 'createVm').map((s) => `${s.vm.id}:${s.vm.nodeGroup}:${s.vm.zone}`), ['vm-7:0:zone-c', 'vm-8:1:zone-c', 'vm-9:2:zone-c']);
  assert.match(p.next[0]?.why ?? '', /ng0 has 2 of 3 nodes: adding vm-7 in zone-c/);
});

test('replicationFactor up: a new node joins as a replica of its group\'s primary', () => {
  const to = { ...d, replicationFactor: 3 };
  const c = clusterAt(to);
  Object.assign(nodeOf(c, 'vm-3'), { role: 'none', primaryId: undefined, inSync: false, topologyDigest: 'alone' });
  assert.deepEqual(lines(plan(to, c)), ['make vm-3 a replica of vm-1']);
});

test('replicationFactor down: one replica per group at a time, never the primary, then its VM', () => {
  const from = exampleDesired({ replicationFactor: 3 });
  const to = { ...from, id: 6, replicationFactor: 1 };
  const c = clusterAt(from);
  const p = plan(to, c);
  const removed = stepsOf(p, 'removeNode').map((s) => s.nodeId);
  assert.deepEqual(removed, ['vm-3', 'vm-6', 'vm-9'], 'one per group; the primaries vm-1, vm-4, vm-7 stay');
  assert.equal(p.next.length, 3);
  vmOf(c, 'vm-3').dataNodes = [];
  const p2 = plan(to, c);
  assert.ok(lines(p2).includes('delete VM vm-3'));
  assert.ok(lines(p2).includes('remove data node vm-2 from the cluster'));
});

test('replicationFactor down: a kept replica out of sync holds the removal back', () => {
  const from = exampleDesired({ replicationFactor: 3 });
  const to = { ...from, id: 6, replicationFactor: 2 };
  const c = clusterAt(from);
  nodeOf(c, 'vm-2').inSync = false; // ng0 keeps vm-1 and vm-2; vm-3 would go
  const p = plan(to, c);
  assert.ok(!lines(p).includes('remove data node vm-3 from the cluster'));
  assert.ok(p.waiting.some((w) => w.includes('VMs leaving ng0 wait until its kept nodes are healthy')));
});

test('a leaving primary hands its role to a healthy kept replica first', () => {
  // vm-1 (ng0's primary) sits in zone-a, which is no longer listed; vm-7 replaced it.
  const to = { ...d, id: 6, availabilityZones: ['zone-b', 'zone-c'] as [string, ...string[]] };
  const c = clusterAt(d);
  const fresh = structuredClone(vmOf(c, 'vm-2'));
  fresh.id = 'vm-7';
  fresh.zone = 'zone-c';
  Object.assign(fresh.dataNodes[0]!, { id: 'vm-7', vmId: 'vm-7' });
  c.vms.push(fresh);
  const p = plan(to, c);
  assert.deepEqual(stepsOf(p, 'failover').map((s) => s.nodeId), ['vm-2']);
  assert.match(p.next.find((s) => s.step.kind === 'failover')?.why ?? '', /vm-1 leaves ng0 \(zone zone-a is no longer listed\)/);
});

test('replicationFactor 2 → 1 with an upgrade: the upgrade runs first, using the leaving replica', () => {
  const m = Model.from(clusterAt(d));
  const r = converge({ ...d, id: 6, replicationFactor: 1, version: '8.0' }, m);
  const failovers = r.log.filter((l) => l.includes('fail over'));
  assert.ok(failovers.length > 0);
  assert.ok(r.log.findIndex((l) => l.includes('fail over')) < r.log.findIndex((l) => l.includes('remove data node')));
});
