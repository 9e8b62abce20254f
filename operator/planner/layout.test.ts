import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { ZoneChooser, computeLayout, conforms, spreadImprovable } from './layout.ts';
import { clusterAt, nodeOf, vmOf } from './testing/test-cluster.ts';
import { ClusterView } from './view.ts';
import type { Desired } from '../../desired-state/types.ts';
import type { ObservedCluster } from '../model/observed.ts';

const layoutOf = (d: Desired, c: ObservedCluster, improve = d.running) => computeLayout(new ClusterView(d, c), improve);
const ids = (vms: readonly { id: string }[]): string[] => vms.map((v) => v.id);

test('at the desired state every VM is kept and nothing lacks', () => {
  const d = exampleDesired();
  const l = layoutOf(d, clusterAt(d));
  for (let g = 0; g < 3; g++) {
    const gl = l.group(g);
    assert.equal(gl.keep.length, 2);
    assert.deepEqual(gl.extras, []);
    assert.equal(gl.missing, 0);
  }
  assert.equal(l.keepIds.size, 6);
});

test('zone rule: fewest VMs of the group, then fewest overall, then list order', () => {
  const z = new ZoneChooser(['a', 'b', 'c']);
  assert.equal(z.choose(0), 'a');
  z.add(0, 'a');
  assert.equal(z.choose(0), 'b');
  z.add(0, 'b');
  assert.equal(z.choose(1), 'c', 'group 1 has none anywhere: c has the fewest overall');
  z.add(1, 'c');
  assert.equal(z.choose(1), 'a');
  // The bootstrap layout of exampleDesired alternates zones within each group.
  const c = clusterAt(exampleDesired());
  assert.deepEqual(c.vms.map((v) => v.zone), ['zone-a', 'zone-b', 'zone-a', 'zone-b', 'zone-a', 'zone-b']);
});

test('replicationFactor down: the extra is a replica, in the most represented zone', () => {
  const from = exampleDesired({ replicationFactor: 3, availabilityZones: ['zone-a', 'zone-b'] });
  const c = clusterAt(from); // each group: a, b, a
  const l = layoutOf({ ...from, replicationFactor: 2 }, c);
  const g0 = l.group(0);
  assert.deepEqual(ids(g0.keep), ['vm-1', 'vm-2']);
  assert.deepEqual(ids(g0.extras), ['vm-3']);
  assert.equal(vmOf(c, 'vm-3').zone, 'zone-a');
  assert.equal(g0.missing, 0);
});

test('the primary is kept first, even when it is not the lowest id', () => {
  const from = exampleDesired({ replicationFactor: 3, availabilityZones: ['zone-a'] });
  const c = clusterAt(from);
  // vm-3 is ng0's primary now, vm-1 a replica.
  Object.assign(nodeOf(c, 'vm-1'), { role: 'replica', primaryId: 'vm-3', slots: [] });
  Object.assign(nodeOf(c, 'vm-3'), { role: 'primary', primaryId: undefined, slots: [{ start: 0, end: 5461 }] });
  const l = layoutOf({ ...from, replicationFactor: 1 }, c);
  assert.deepEqual(ids(l.group(0).keep), ['vm-3']);
});

test('vmType, storage or a zone that is gone makes a VM an extra the group lacks', () => {
  const d = exampleDesired();
  const c = clusterAt(d);
  assert.ok(conforms(d, vmOf(c, 'vm-1')));
  const l1 = layoutOf({ ...d, vmType: 'medium' }, c);
  assert.equal(l1.group(1).missing, 2);
  assert.equal(l1.group(1).extras.length, 2);
  const l2 = layoutOf({ ...d, availabilityZones: ['zone-b', 'zone-c'] }, c);
  assert.deepEqual(ids(l2.group(0).extras), ['vm-1'], 'vm-1 is in zone-a, no longer listed');
  assert.equal(l2.group(0).missing, 1);
  const l3 = layoutOf({ ...d, storageGiB: 11 }, c);
  assert.equal(l3.group(2).missing, 2);
});

test('a temporary VM is never kept', () => {
  const d = exampleDesired({ replicationFactor: 1 });
  const c = clusterAt(d);
  const temp = structuredClone(vmOf(c, 'vm-1'));
  Object.assign(temp, { id: 'vm-9', temporary: true, dataNodes: [] });
  c.vms.push(temp);
  const l = layoutOf(d, c);
  assert.deepEqual(ids(l.group(0).keep), ['vm-1']);
  assert.deepEqual(ids(l.group(0).extras), ['vm-9']);
});

test('zone spread: a VM is marked misplaced only while the cluster runs, and only if the spread can improve', () => {
  const from = exampleDesired({ availabilityZones: ['zone-a'] });
  const c = clusterAt(from); // every group: a, a
  const to = { ...from, availabilityZones: ['zone-a', 'zone-b'] as [string, ...string[]] };
  assert.ok(spreadImprovable(c.vms.slice(0, 2), to.availabilityZones));
  const running = layoutOf(to, c, true);
  assert.equal(running.group(0).misplaced?.id, 'vm-2', 'not the primary; the highest id');
  assert.equal(running.group(0).missing, 1);
  const stopped = layoutOf(to, c, false);
  assert.equal(stopped.group(0).misplaced, undefined);
  assert.equal(stopped.group(0).missing, 0);
  // rf 1 never needs a move; 3 over 2 zones (2/1) is as good as it gets.
  assert.ok(!spreadImprovable(c.vms.slice(0, 1), to.availabilityZones));
  const three = clusterAt(exampleDesired({ replicationFactor: 3 }));
  assert.ok(!spreadImprovable(three.vms.slice(0, 3), ['zone-a', 'zone-b']));
});

test('groups beyond nodeGroups keep nothing; a new VM gets 1 + the highest number observed', () => {
  const d = exampleDesired();
  const c = clusterAt(d);
  c.vms = c.vms.filter((v) => v.id !== 'vm-3');
  const view = new ClusterView({ ...d, nodeGroups: 2 }, c);
  const l = computeLayout(view, true);
  assert.deepEqual(ids(l.group(2).keep), []);
  assert.deepEqual(ids(l.group(2).extras), ['vm-5', 'vm-6']);
  assert.equal(l.group(1).missing, 1);
  const spec = l.newVm(1, false);
  assert.equal(spec.id, 'vm-7');
  assert.equal(spec.zone, 'zone-a', 'vm-4 (zone-b) is what ng1 kept');
  assert.equal(l.newVm(1, false).id, 'vm-8');
});
