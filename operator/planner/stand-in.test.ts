import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan, planContext } from './plan.ts';
import { isStandIn, standIn } from './stand-in.ts';
import { converge } from './testing/converge.ts';
import { Model } from './testing/model.ts';
import { clusterAt, lines, stepsOf, vmOf } from './testing/test-cluster.ts';

test('replicationFactor 1 with temporary VMs: a temporary replica takes over, the original is kept', () => {
  const one = exampleDesired({ replicationFactor: 1, allowTemporaryVms: true, nodeGroups: 1 });
  const to = { ...one, id: 6, runningSince: 6 };
  const p = plan(to, clusterAt(one));
  assert.deepEqual(stepsOf(p, 'createVm').map((s) => [s.vm.id, s.vm.temporary, s.vm.zone]), [['vm-2', true, 'zone-b']]);
  const m = Model.from(clusterAt(one));
  const r = converge(to, m);
  assert.deepEqual([...m.vms.keys()], ['vm-1'], 'the temporary VM is gone, the original stays');
  assert.ok(r.log.filter((l) => l.includes('fail over')).length === 2, 'over to the temporary VM and back');
});

test('replicationFactor 1: a VM the group is letting go stands in, no temporary VM needed', () => {
  // An interrupted change left vm-7 (no data node yet) in ng0; now rf 1 and a restart.
  const one = exampleDesired({ replicationFactor: 1, nodeGroups: 1 });
  const c = clusterAt(one);
  const extra = structuredClone(vmOf(c, 'vm-1'));
  Object.assign(extra, { id: 'vm-7', zone: 'zone-b', dataNodes: [] });
  c.vms.push(extra);
  const to = { ...one, id: 6, runningSince: 6 };
  const p = plan(to, c);
  assert.deepEqual(lines(p), ['start data node vm-7 (version 7.0, node group 0, runningSince 6)'], 'started, not deleted');
  const m = Model.from(c);
  const r = converge(to, m);
  // vm-7 conforms: once it is the primary the layout keeps it and vm-1 leaves unrestarted.
  assert.deepEqual([...m.vms.keys()], ['vm-7']);
  assert.ok(!r.log.some((l) => l.includes('temporary')));
  assert.equal(r.log.filter((l) => l.includes('fail over')).length, 1);
});

// Which VM stands in (standIn), read off a group of one kept node: with replicationFactor
// 2 observed and 1 desired, vm-1 (the primary) is kept and vm-2 is the replica let go.
describe('standIn: the VM that takes over while the only node of its group restarts', () => {
  const two = exampleDesired({ replicationFactor: 2, nodeGroups: 1 });
  const oneRestart = { ...exampleDesired({ replicationFactor: 1, nodeGroups: 1 }), id: 6, runningSince: 6 };
  /** vm-1 primary, vm-2 its in-sync replica, plus copies of vm-2 as `extra` describes them. */
  const cluster = (...extra: Array<{ id: string; temporary?: boolean; node?: 'healthy' | 'syncing' | 'down' | 'none'; agentUp?: boolean }>) => {
    const c = clusterAt(two);
    for (const e of extra) {
      const vm = structuredClone(vmOf(c, 'vm-2'));
      Object.assign(vm, { id: e.id, temporary: e.temporary ?? false, agentUp: e.agentUp ?? true });
      const n = vm.dataNodes[0];
      assert.ok(n !== undefined);
      Object.assign(n, { id: e.id, vmId: e.id, engineNodeId: `${e.id}-engine` });
      if (e.node === 'syncing') n.inSync = false;
      if (e.node === 'down') Object.assign(n, { up: false, role: 'unknown', inSync: false, primaryId: undefined });
      if (e.node === 'none') vm.dataNodes = [];
      c.vms.unshift(vm); // listed before the others: the choice must not follow the order of the listing
    }
    return c;
  };
  const chosen = (d: typeof oneRestart, c: ReturnType<typeof clusterAt>): string | undefined => standIn(planContext(d, c), 0)?.id;

  test('a VM the group lets go stands in for the kept primary that needs a restart', () => {
    assert.equal(chosen(oneRestart, cluster()), 'vm-2');
  });
  test('none when nothing needs a restart, the nodes should not run, more than one node is kept, or the group is going away', () => {
    assert.equal(chosen({ ...oneRestart, runningSince: 0 }, cluster()), undefined, 'no restart due');
    assert.equal(chosen({ ...oneRestart, running: false }, cluster()), undefined, 'stopped cluster');
    assert.equal(chosen({ ...oneRestart, replicationFactor: 2 }, cluster()), undefined, 'two nodes kept: a replica takes over anyway');
    const c = clusterAt(exampleDesired({ replicationFactor: 1, nodeGroups: 1 }));
    assert.equal(chosen(oneRestart, c), undefined, 'no VM to stand in (a temporary one is created instead, if allowed)');
    assert.equal(standIn(planContext({ ...oneRestart, nodeGroups: 1 }, cluster()), 1), undefined, 'a group beyond nodeGroups');
  });
  test('a healthy node is preferred to one still syncing, that to a down node, that to a VM without a node', () => {
    assert.equal(chosen(oneRestart, cluster({ id: 'vm-3', node: 'syncing' })), 'vm-2');
    const noHealthy = cluster({ id: 'vm-3', node: 'down' }, { id: 'vm-4', node: 'syncing' }, { id: 'vm-5', node: 'none' });
    noHealthy.vms = noHealthy.vms.filter((v) => v.id !== 'vm-2');
    assert.equal(chosen(oneRestart, noHealthy), 'vm-4', 'syncing beats down and none');
    noHealthy.vms = noHealthy.vms.filter((v) => v.id !== 'vm-4');
    assert.equal(chosen(oneRestart, noHealthy), 'vm-3', 'down beats none');
    noHealthy.vms = noHealthy.vms.filter((v) => v.id !== 'vm-3');
    assert.equal(chosen(oneRestart, noHealthy), 'vm-5', 'a VM without a node still stands in (it is started)');
  });
  test('at equal health a VM that is not temporary is preferred, then the lowest id; a VM whose agent does not answer never stands in', () => {
    assert.equal(chosen(oneRestart, cluster({ id: 'vm-10', temporary: true })), 'vm-2', 'not temporary first');
    const temporaryOnly = cluster({ id: 'vm-10', temporary: true }, { id: 'vm-9', temporary: true });
    temporaryOnly.vms = temporaryOnly.vms.filter((v) => v.id !== 'vm-2');
    assert.equal(chosen(oneRestart, temporaryOnly), 'vm-9', 'the lowest id (9 before 10, as numbers)');
    const deaf = cluster({ id: 'vm-3', agentUp: false });
    vmOf(deaf, 'vm-2').agentUp = false;
    assert.equal(chosen(oneRestart, deaf), undefined, 'no VM whose agent answers');
  });
  test('isStandIn names exactly the chosen VM', () => {
    const c = cluster({ id: 'vm-3' });
    const ctx = planContext(oneRestart, c);
    assert.deepEqual(c.vms.filter((vm) => isStandIn(ctx, vm)).map((vm) => vm.id), ['vm-2']);
  });
});
