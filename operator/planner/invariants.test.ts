import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { describeStep, type Step } from '../model/step.ts';
import { checkStepSafety } from './invariants.ts';
import { clusterAt, downNode, nodeOf, vmOf } from './testing/test-cluster.ts';

const d = exampleDesired();
const stop = (id: string): Step => ({ kind: 'stopDataNode', vmId: id, nodeId: id });
const remove = (id: string): Step => ({ kind: 'removeNode', vmId: id, nodeId: id });
const check = (batch: Step[], desired = d, c = clusterAt(d)): string[] => checkStepSafety(desired, c, batch);

test('a safe batch passes: one replica per group, groups in parallel', () => {
  assert.deepEqual(check([stop('vm-2'), stop('vm-4'), stop('vm-6')]), []);
  assert.deepEqual(check([]), []);
});

test('invariant 1: the last up node of a group that holds data', () => {
  const c = clusterAt(d);
  downNode(c, 'vm-2');
  assert.deepEqual(check([{ kind: 'failover', vmId: 'vm-2', nodeId: 'vm-2' }], d, c).length, 1);
  const out = check([stop('vm-1')], d, c);
  assert.ok(out.includes('ng0 holds data and this batch takes down its last up node'), out.join('\n'));
});

test('invariant 1: two nodes of one group down at once during rolling work', () => {
  const three = exampleDesired({ replicationFactor: 3 });
  const out = check([stop('vm-2'), stop('vm-3')], three, clusterAt(three));
  assert.ok(out.some((v) => v.includes('ng0 would have 2 nodes down at once')), out.join('\n'));
  const c = clusterAt(three);
  downNode(c, 'vm-3');
  assert.ok(check([stop('vm-2')], three, c).some((v) => v.includes('2 nodes down at once')), 'a crashed node counts');
});

test('invariant 2: a primary stopped while its group has another up node; running false: replicas first', () => {
  const out = check([stop('vm-1')]);
  assert.ok(out.some((v) => v.includes('it is the primary of ng0 while vm-2 is up: fail over first')), out.join('\n'));
  const off = { ...d, running: false };
  assert.deepEqual(check([stop('vm-1'), stop('vm-2')], off), []);
  assert.ok(check([stop('vm-1')], off).some((v) => v.includes('replica vm-2 still runs: stop replicas first')));
});

test('invariant 2: failover only to a healthy replica, never newer than another replica', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-2').inSync = false;
  assert.ok(check([{ kind: 'failover', vmId: 'vm-2', nodeId: 'vm-2' }], d, c).some((v) => v.includes('not a healthy replica')));
  const three = exampleDesired({ replicationFactor: 3 });
  const c3 = clusterAt(three);
  nodeOf(c3, 'vm-2').version = '8.0';
  const out = check([{ kind: 'failover', vmId: 'vm-2', nodeId: 'vm-2' }], { ...three, version: '8.0' }, c3);
  assert.ok(out.some((v) => v.includes('runs an older version than vm-2')), out.join('\n'));
});

test('invariant 3: removing a node or VM of a group that still serves slots', () => {
  const two = { ...d, nodeGroups: 2 };
  const out = check([remove('vm-6')], two);
  assert.ok(out.some((v) => v.includes('ng2 is going away but still serves 5461 slots')), out.join('\n'));
  assert.ok(check([remove('vm-5')], two).some((v) => v.includes('vm-5 still serves 5461 slots')));
  assert.ok(check([{ kind: 'deleteVm', vmId: 'vm-6' }], two).some((v) => v.includes('still has data node vm-6')));
  const c = clusterAt(d);
  Object.assign(vmOf(c, 'vm-6'), { agentUp: false, dataNodes: [] });
  assert.ok(check([{ kind: 'deleteVm', vmId: 'vm-6' }], two, c).some((v) => v.includes('does not answer')));
});

test('a removal that leaves fewer healthy nodes than min(replicationFactor, healthy now)', () => {
  const three = exampleDesired({ replicationFactor: 3 });
  const c = clusterAt(three);
  nodeOf(c, 'vm-2').inSync = false;
  const out = check([remove('vm-3')], { ...three, replicationFactor: 2 }, c);
  assert.ok(out.some((v) => v.includes('ng0 would keep 1 healthy nodes')), out.join('\n'));
});

test('invariant 4: the backup restoreFromBackup names is never deleted', () => {
  const r = { id: 'origin', sink: { type: 'local' as const, path: 'r' } };
  const out = check([{ kind: 'deleteBackup', vmId: 'vm-1', backupId: 'origin', sink: r.sink }], { ...d, restoreFromBackup: r });
  assert.ok(out.some((v) => v.includes('restoreFromBackup names backup "origin"')));
});

test('one step per VM, one slot move per source and target, one disruptive step per group', () => {
  assert.ok(check([stop('vm-2'), { kind: 'ensureVersion', vmId: 'vm-2', version: '8.0' }]).some((v) => v.startsWith('2 steps act on vm-2')));
  const moves: Step[] = [
    { kind: 'moveData', vmId: 'vm-1', fromId: 'vm-1', toId: 'vm-3', slots: [{ start: 0, end: 9 }] },
    { kind: 'moveData', vmId: 'vm-5', fromId: 'vm-5', toId: 'vm-3', slots: [{ start: 16374, end: 16383 }] },
  ];
  assert.ok(check(moves).some((v) => v.includes('a second slot move into vm-3')));
  const mixed: Step[] = [{ kind: 'moveData', vmId: 'vm-1', fromId: 'vm-1', toId: 'vm-3', slots: [{ start: 0, end: 9 }] }, { kind: 'failover', vmId: 'vm-4', nodeId: 'vm-4' }];
  assert.ok(check(mixed).some((v) => v.startsWith('ng1 gets 2 disruptive steps at once')));
});

test('slots never move from a primary on a newer version to one on an older version', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-3').version = '8.0';
  const down: Step = { kind: 'moveData', vmId: 'vm-3', fromId: 'vm-3', toId: 'vm-1', slots: [{ start: 6000, end: 6009 }] };
  assert.deepEqual(check([down], d, c), [`${describeStep(down)}: vm-1 runs 7.0, older than vm-3's 8.0: MIGRATE payloads of a newer version do not load in an older one`]);
  assert.deepEqual(check([{ kind: 'moveData', vmId: 'vm-1', fromId: 'vm-1', toId: 'vm-3', slots: [{ start: 0, end: 9 }] }], d, c), []);
});

test('invariant 5: a move names valid, distinct slots that its source serves', () => {
  const move = (slots: { start: number; end: number }[]): Step => ({ kind: 'moveData', vmId: 'vm-1', fromId: 'vm-1', toId: 'vm-3', slots });
  assert.deepEqual(check([move([{ start: 0, end: 9 }, { start: 100, end: 100 }])]), []);
  assert.ok(check([move([])]).some((v) => v.includes('names no slots')));
  assert.ok(check([move([{ start: 9, end: 3 }])]).some((v) => v.includes('names no slots')));
  assert.ok(check([move([{ start: 0, end: 9 }, { start: 5, end: 12 }])]).some((v) => v.includes('names some slots twice')));
  // vm-1 serves 0-5461 in the 3-group cluster: 5462 is vm-3's, 16383 vm-5's.
  assert.ok(check([move([{ start: 5400, end: 5462 }])]).some((v) => v.includes('names slots vm-1 does not serve')));
  assert.ok(check([move([{ start: 16383, end: 16383 }])]).some((v) => v.includes('names slots vm-1 does not serve')));
});

test('topology changes need agreement; no second cluster; no slots claimed in a cluster with data', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-4').topologyDigest = 'other';
  assert.ok(check([{ kind: 'joinReplica', vmId: 'vm-2', nodeId: 'vm-2', primaryId: 'vm-1' }], d, c).some((v) => v.includes('do not agree')));
  const fresh = clusterAt(d);
  Object.assign(nodeOf(fresh, 'vm-6'), { role: 'none', primaryId: undefined, inSync: false });
  const found: Step = { kind: 'joinPrimary', vmId: 'vm-6', nodeId: 'vm-6', via: undefined, slots: [] };
  assert.ok(check([found], d, fresh).some((v) => v.includes('founds a second cluster')));
  const claim: Step = { kind: 'joinPrimary', vmId: 'vm-6', nodeId: 'vm-6', via: 'vm-1', slots: [{ start: 0, end: 1 }] };
  const out = check([claim], d, fresh);
  assert.ok(out.some((v) => v.includes('claims slots in a cluster that holds data')));
  assert.ok(out.some((v) => v.includes('claims slots another primary serves')));
});

test('a node starts only on a version its VM has, and never upgrades into a primary over older replicas', () => {
  const start: Step = { kind: 'startDataNode', vmId: 'vm-1', nodeId: 'vm-1', nodeGroup: 0, version: '8.0', config: {}, runningSince: 1 };
  const c = clusterAt(d);
  downNode(c, 'vm-1');
  const out = check([start], { ...d, version: '8.0' }, c);
  assert.ok(out.some((v) => v.includes('vm-1 does not have version 8.0')));
  assert.ok(out.some((v) => v.includes('may come back as the primary of ng0 on 8.0 while replica vm-2 runs 7.0')));
});

test('restore only into a cluster that never held data, and alone', () => {
  const r: Step = { kind: 'restoreBackup', vmId: 'vm-1', backupId: 'b', sink: { type: 'local', path: 'p' }, nodeIds: ['vm-1'] };
  assert.ok(check([r]).some((v) => v.includes('already held data')));
  const fresh = clusterAt(d, { formed: false });
  assert.deepEqual(check([r], d, fresh), []);
  assert.ok(check([r, { kind: 'joinReplica', vmId: 'vm-2', nodeId: 'vm-2', primaryId: 'vm-1' }], d, fresh).some((v) => v.includes('a restore runs alone')));
});

test('one step per VM counts a forgetNode by the VMs of the nodes it names; a new VM id must be new', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-2').id = 'node-2';
  const forget: Step = { kind: 'forgetNode', engineNodeId: 'e-x', nodeIds: ['node-2'] };
  const stopIt: Step = { kind: 'stopDataNode', vmId: 'vm-2', nodeId: 'node-2' };
  assert.ok(check([stopIt, forget], d, c).some((v) => v.startsWith('2 steps act on vm-2')), 'node-2 runs on vm-2');
  const vm = { id: 'vm-1', zone: 'a', vmType: 'small' as const, storageGiB: 1, nodeGroup: 0, temporary: false, agentRunningSince: 0 };
  assert.ok(check([{ kind: 'createVm', vm }]).some((v) => v.includes('vm-1 already exists')));
  assert.deepEqual(check([{ kind: 'createVm', vm: { ...vm, id: 'vm-9' } }]), []);
});

test('while the members disagree, only topology changes are refused, and the join of the one that disagrees is let through', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-2').topologyDigest = 'other';
  assert.deepEqual(check([stop('vm-4')], d, c), []);
  assert.deepEqual(check([{ kind: 'joinReplica', vmId: 'vm-2', nodeId: 'vm-2', primaryId: 'vm-1' }], d, c), []);
  assert.ok(check([{ kind: 'failover', vmId: 'vm-4', nodeId: 'vm-4' }], d, c).some((v) => v.includes('do not agree')));
});

test('a group that served no slot goes away whole: its primary is removed with its replica, or while the replica stops', () => {
  const two = { ...d, nodeGroups: 2 };
  const c = clusterAt(d);
  nodeOf(c, 'vm-5').slots = [];
  assert.deepEqual(check([remove('vm-5'), remove('vm-6')], two, c), []);
  assert.deepEqual(check([remove('vm-5'), stop('vm-6')], two, c), []);
  assert.ok(check([remove('vm-5')], two, c).some((v) => v.includes('it is the primary of ng2 while vm-6 is up')));
});

test('a slot move must come from an up primary that serves slots', () => {
  const move = (fromId: string): Step => ({ kind: 'moveData', vmId: fromId, fromId, toId: 'vm-3', slots: [{ start: 0, end: 0 }] });
  const refused = (batch: Step[], c = clusterAt(d)): boolean => check(batch, d, c).some((v) => v.includes('is not an up primary that serves slots'));
  assert.ok(!refused([move('vm-1')]));
  assert.ok(refused([move('vm-2')]), 'a replica');
  assert.ok(refused([move('vm-9')]), 'no such node');
  const down = clusterAt(d);
  nodeOf(down, 'vm-1').up = false;
  assert.ok(refused([move('vm-1')], down), 'a primary that is down');
  const empty = clusterAt(d);
  nodeOf(empty, 'vm-1').slots = [];
  assert.ok(refused([move('vm-1')], empty), 'a primary without slots');
});

test('a failover needs a healthy replica', () => {
  const failover = (id: string): Step => ({ kind: 'failover', vmId: id, nodeId: id });
  const refused = (batch: Step[], c = clusterAt(d)): boolean => check(batch, d, c).some((v) => v.includes("is not a healthy replica in sync with its group's primary"));
  assert.ok(!refused([failover('vm-2')]));
  assert.ok(refused([failover('vm-1')]), 'the primary');
  assert.ok(refused([failover('vm-9')]), 'no such node');
  const behind = clusterAt(d);
  nodeOf(behind, 'vm-2').inSync = false;
  assert.ok(refused([failover('vm-2')], behind), 'a replica not in sync');
});

test('stopping a primary: fail over first while running; with running false, after its replicas', () => {
  assert.ok(check([stop('vm-1')]).some((v) => v.includes('it is the primary of ng0 while vm-2 is up: fail over first')));
  const stopped = { ...d, running: false };
  assert.ok(check([stop('vm-1')], stopped).some((v) => v.includes('replica vm-2 still runs: stop replicas first')));
  assert.deepEqual(check([stop('vm-1'), stop('vm-2')], stopped), []);
  const c = clusterAt(d);
  downNode(c, 'vm-2');
  assert.deepEqual(check([stop('vm-1')], stopped, c), [], 'its replica is down already');
});

test('a node starting on a newer version may not come back as the primary over an older replica', () => {
  const eight = { ...d, version: '8.0' as const };
  const c = clusterAt(d);
  for (const vm of c.vms) vm.installedVersions = ['7.0', '8.0'];
  downNode(c, 'vm-1');
  nodeOf(c, 'vm-2').role = 'replica';
  const start = (id: string, version: '7.0' | '8.0'): Step => ({ kind: 'startDataNode', vmId: id, nodeId: id, version, nodeGroup: 0, config: {}, runningSince: 1 });
  assert.ok(check([start('vm-1', '8.0')], eight, c).some((v) => v.includes('may come back as the primary of ng0 on 8.0 while replica vm-2 runs 7.0')));
  assert.deepEqual(check([start('vm-1', '7.0')], eight, c), [], 'no upgrade on that start');
  nodeOf(c, 'vm-2').version = '8.0';
  assert.deepEqual(check([start('vm-1', '8.0')], eight, c), [], 'the replica runs 8.0 too');
});

test('a slot move names whole slots 0-16383, start before end, to another up primary not on an older version', () => {
  const move = (slots: { start: number; end: number }[], toId = 'vm-3', fromId = 'vm-5'): Step => ({ kind: 'moveData', vmId: fromId, fromId, toId, slots });
  const bad = 'it names no slots, or ranges that are not slots 0-16383';
  assert.deepEqual(check([move([{ start: 16383, end: 16383 }])]), []);
  for (const slots of [[], [{ start: -1, end: 10923 }], [{ start: 16383, end: 16384 }], [{ start: 16000, end: 15000 }], [{ start: 11000.5, end: 11001 }], [{ start: 11000, end: 11001.5 }]]) {
    assert.ok(check([move(slots)]).some((v) => v.endsWith(bad)), JSON.stringify(slots));
  }
  const notTarget = 'is not another up primary';
  assert.ok(check([move([{ start: 16383, end: 16383 }], 'vm-4')]).some((v) => v.includes(`vm-4 ${notTarget}`)), 'a replica');
  assert.ok(check([move([{ start: 16383, end: 16383 }], 'vm-5')]).some((v) => v.includes(`vm-5 ${notTarget}`)), 'its own source');
  assert.ok(check([move([{ start: 16383, end: 16383 }], 'vm-9')]).some((v) => v.includes(`vm-9 ${notTarget}`)), 'no such node');
  const c = clusterAt(d);
  nodeOf(c, 'vm-3').up = false;
  assert.ok(check([move([{ start: 16383, end: 16383 }])], d, c).some((v) => v.includes(`vm-3 ${notTarget}`)), 'a target that is down');
  const older = clusterAt(d);
  nodeOf(older, 'vm-5').version = '8.0';
  assert.ok(check([move([{ start: 16383, end: 16383 }])], d, older).some((v) => v.includes('vm-3 runs 7.0, older than vm-5')));
});

test('one slot move per source and per target in a batch', () => {
  const move = (fromId: string, toId: string, slot: number): Step => ({ kind: 'moveData', vmId: fromId, fromId, toId, slots: [{ start: slot, end: slot }] });
  assert.ok(check([move('vm-5', 'vm-3', 16383), move('vm-5', 'vm-1', 16382)]).some((v) => v.includes('a second slot move from vm-5')));
  assert.ok(check([move('vm-5', 'vm-3', 16383), move('vm-1', 'vm-3', 0)]).some((v) => v.includes('a second slot move into vm-3')));
});

test('backups other than the one restoreFromBackup names may be deleted; a VM being created may go without its agent', () => {
  const restore = { id: 'origin', sink: { type: 'local' as const, path: 'r' } };
  const del = (backupId: string): Step => ({ kind: 'deleteBackup', vmId: 'vm-1', backupId, sink: { type: 'local', path: 'r' } });
  assert.deepEqual(check([del('old')], { ...d, restoreFromBackup: restore }), []);
  assert.deepEqual(check([del('origin')]), [], 'no restore named: any backup may go');
  const c = clusterAt(d);
  Object.assign(vmOf(c, 'vm-6'), { agentUp: false, dataNodes: [], state: 'creating' });
  assert.deepEqual(check([{ kind: 'deleteVm', vmId: 'vm-6' }], { ...d, nodeGroups: 2 }, c), []);
});

test('removing a node the VM does not report is refused; removing one that never joined disrupts nothing', () => {
  assert.ok(check([{ kind: 'removeNode', vmId: 'vm-2', nodeId: 'ghost' }]).some((v) => v.includes('vm-2 reports no data node ghost')));
  const three = exampleDesired({ replicationFactor: 3 });
  const c = clusterAt(three);
  Object.assign(nodeOf(c, 'vm-3'), { role: 'none', primaryId: undefined, inSync: false, topologyDigest: '' });
  assert.deepEqual(check([remove('vm-3'), stop('vm-2')], { ...three, replicationFactor: 2 }, c), []);
});

test('a replica joins an up primary of its own node group', () => {
  const join = (primaryId: string): Step => ({ kind: 'joinReplica', vmId: 'vm-2', nodeId: 'vm-2', primaryId });
  assert.deepEqual(check([join('vm-1')]), []);
  assert.ok(check([join('vm-2')]).some((v) => v.includes('vm-2 is not an up primary')), 'a replica');
  assert.ok(check([join('vm-9')]).some((v) => v.includes('vm-9 is not an up primary')), 'no such node');
  assert.ok(check([join('vm-3')]).some((v) => v.includes('vm-3 is the primary of another node group')));
  const c = clusterAt(d);
  nodeOf(c, 'vm-1').up = false;
  assert.ok(check([join('vm-1')], d, c).some((v) => v.includes('vm-1 is not an up primary')), 'a primary that is down');
});

test('a primary joins through an up member', () => {
  const fresh = clusterAt(d);
  Object.assign(nodeOf(fresh, 'vm-6'), { role: 'none', primaryId: undefined, inSync: false });
  const join = (via: string): Step => ({ kind: 'joinPrimary', vmId: 'vm-6', nodeId: 'vm-6', via, slots: [] });
  assert.deepEqual(check([join('vm-1')], d, fresh), []);
  assert.ok(check([join('vm-9')], d, fresh).some((v) => v.includes('vm-9 is not an up member to join through')));
});

test('a backup needs a running primary in every node group', () => {
  const backup: Step = { kind: 'createBackup', vmId: 'vm-1', backupId: 'b', sink: { type: 'local', path: 'p' } };
  assert.deepEqual(check([backup]), []);
  const c = clusterAt(d);
  downNode(c, 'vm-5');
  assert.ok(check([backup], d, c).some((v) => v.includes('ng2 has no running primary: the backup would miss its slots')));
});

test('an upgrading start of the primary itself, or into a group without one, may not leave an older replica behind; a replica that is down or already upgraded does not count', () => {
  const eight = { ...d, version: '8.0' as const };
  const start = (id: string): Step => ({ kind: 'startDataNode', vmId: id, nodeId: id, version: '8.0', nodeGroup: 0, config: {}, runningSince: 1 });
  const c = clusterAt(d);
  for (const vm of c.vms) vm.installedVersions = ['7.0', '8.0'];
  assert.ok(check([start('vm-1')], eight, c).some((v) => v.includes('may come back as the primary of ng0')), 'the primary restarts on 8.0');
  assert.deepEqual(check([start('vm-2')], eight, c), [], 'a replica restarting: ng0 keeps its primary vm-1');
  nodeOf(c, 'vm-2').up = false;
  assert.deepEqual(check([start('vm-1')], eight, c), [], 'the older replica is down');
});
