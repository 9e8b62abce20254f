import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import { converge } from './testing/converge.ts';
import { Model } from './testing/model.ts';
import { clusterAt, lines, nodeOf, stepsOf, vmOf } from './testing/test-cluster.ts';

const d = exampleDesired();

test('vmType change: one new VM across the whole cluster, in the group and zone of the VM it replaces', () => {
  const p = plan({ ...d, id: 6, vmType: 'medium' }, clusterAt(d));
  assert.deepEqual(stepsOf(p, 'createVm').map((s) => [s.vm.id, s.vm.nodeGroup, s.vm.zone, s.vm.vmType, s.vm.temporary]), [['vm-7', 0, 'zone-a', 'medium', false]]);
  assert.match(p.next[0]?.why ?? '', /ng0: vm-7 in zone-a replaces vm-1 \(vmType small → medium\); one VM at a time/);
});

test('while a replacement is under way no other starts; the old VM leaves once the new one is in sync', () => {
  const to = { ...d, id: 6, storageGiB: 20 };
  const c = clusterAt(d);
  const fresh = structuredClone(vmOf(c, 'vm-2'));
  Object.assign(fresh, { id: 'vm-7', zone: 'zone-a', storageGiB: 20 });
  Object.assign(fresh.dataNodes[0]!, { id: 'vm-7', vmId: 'vm-7', inSync: false });
  c.vms.push(fresh);
  const p = plan(to, c);
  assert.deepEqual(stepsOf(p, 'createVm'), []);
  assert.deepEqual(stepsOf(p, 'removeNode'), []);
  nodeOf(c, 'vm-7').inSync = true;
  const p2 = plan(to, c);
  assert.deepEqual(lines(p2), ['remove data node vm-2 from the cluster'], 'the replica leaves first; the primary needs a failover');
});

test('replicationFactor = maxReplicationFactor: the replacement still adds its VM first', () => {
  const full = exampleDesired({ replicationFactor: 3, maxReplicationFactor: 3, nodeGroups: 1 });
  const m = Model.from(clusterAt(full));
  const r = converge({ ...full, id: 6, vmType: 'large' }, m);
  assert.ok(r.log.findIndex((l) => l.includes('create VM')) < r.log.findIndex((l) => l.includes('remove data node')));
  assert.equal([...m.vms.values()].filter((v) => v.spec.vmType === 'large').length, 3);
});

test('a zone added: a group crowded into one zone moves one VM into the new zone', () => {
  const from = exampleDesired({ availabilityZones: ['zone-a'], nodeGroups: 1 });
  const to = { ...from, id: 6, availabilityZones: ['zone-a', 'zone-b'] as [string, ...string[]] };
  const p = plan(to, clusterAt(from));
  assert.deepEqual(stepsOf(p, 'createVm').map((s) => s.vm.zone), ['zone-b']);
  const m = Model.from(clusterAt(from));
  converge(to, m);
  assert.deepEqual([...m.vms.values()].map((v) => v.spec.zone).sort(), ['zone-a', 'zone-b']);
});

test('every zone but one gone: all VMs move into the remaining zone, one at a time', () => {
  const from = exampleDesired({ availabilityZones: ['zone-a', 'zone-b', 'zone-c'], replicationFactor: 3, maxReplicationFactor: 3, nodeGroups: 2 });
  const to = { ...from, id: 6, availabilityZones: ['zone-c'] as [string, ...string[]] };
  const m = Model.from(clusterAt(from));
  const r = converge(to, m);
  assert.deepEqual([...m.vms.values()].map((v) => v.spec.zone), Array(6).fill('zone-c'));
  for (const line of r.log) assert.ok((line.match(/create VM/g) ?? []).length <= 1, line);
});

test('replacements wait while any node group is unhealthy (a replica syncing, a VM being created, an agent that does not answer), and say so', () => {
  const to = { ...d, id: 6, vmType: 'medium' as const };
  const inNg0 = (c: ReturnType<typeof clusterAt>): string[] =>
    stepsOf(plan(to, c), 'createVm').filter((s) => s.vm.nodeGroup === 0).map((s) => s.vm.id);
  assert.deepEqual(inNg0(clusterAt(d)), ['vm-7'], 'a healthy cluster: the first replacement');
  const syncing = clusterAt(d);
  nodeOf(syncing, 'vm-6').inSync = false;
  const p = plan(to, syncing);
  assert.deepEqual(inNg0(syncing), [], 'no replacement in ng0 while a replica of ng2 syncs');
  assert.ok(p.waiting.some((w) => w.includes('VM replacements wait until every node group is healthy')), p.waiting.join('; '));
  const creating = clusterAt(d);
  const fresh = structuredClone(vmOf(creating, 'vm-5'));
  Object.assign(fresh, { id: 'vm-8', state: 'creating', dataNodes: [] });
  creating.vms.push(fresh);
  assert.deepEqual(inNg0(creating), [], 'nor while a VM of ng2 is being created');
  const deaf = clusterAt(d);
  vmOf(deaf, 'vm-5').agentUp = false;
  assert.deepEqual(inNg0(deaf), [], 'nor while an agent does not answer');
});

test('the first group with a VM to replace goes first; a group already done is skipped', () => {
  const to = { ...d, id: 6, vmType: 'medium' as const };
  const c = clusterAt(d);
  for (const vm of c.vms) if (vm.nodeGroup === 0) vm.vmType = 'medium';
  assert.deepEqual(stepsOf(plan(to, c), 'createVm').map((s) => [s.vm.nodeGroup, s.vm.vmType]), [[1, 'medium']]);
});
