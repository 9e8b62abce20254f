import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configKey, type ObservedCluster, type ObservedDataNode, type ObservedVm } from '../model/observed.ts';
import { clusterAgrees, stepEffectVisible } from './effect-visible.ts';
import { assignedSlots, factsAfterObservation, factsAfterStep } from './leader-facts.ts';

function node(id: string, over: Partial<ObservedDataNode> = {}): ObservedDataNode {
  return {
    id,
    vmId: id,
    host: `h-${id}`,
    port: 7000,
    nodeGroup: 0,
    engineNodeId: `e-${id}`,
    role: 'primary',
    primaryId: undefined,
    slots: [],
    up: true,
    version: '7.0',
    runningSince: 1,
    configKey: '{}',
    inSync: false,
    topologyDigest: 'd1',
    ...over,
  };
}

function vm(id: string, nodes: ObservedDataNode[], over: Partial<ObservedVm> = {}): ObservedVm {
  return {
    id,
    zone: 'zone-a',
    vmType: 'small',
    storageGiB: 10,
    nodeGroup: 0,
    temporary: false,
    state: 'running',
    agentUp: true,
    endpoint: `${id}:9000`,
    agentRunningSince: 1,
    dataHost: `h-${id}`,
    dataPort: 7000,
    installedVersions: ['7.0'],
    dataNodes: nodes,
    ...over,
  };
}

const world = (vms: ObservedVm[], over: Partial<ObservedCluster> = {}): ObservedCluster => ({
  vms,
  backups: [],
  facts: { restoredFrom: undefined, formed: false },
  ...over,
});

test('the cluster agrees when every up member reports the same non-empty digest', () => {
  assert.equal(clusterAgrees(world([vm('a', [node('a')]), vm('b', [node('b', { role: 'replica' })])])), true);
  assert.equal(clusterAgrees(world([vm('a', [node('a')]), vm('b', [node('b', { topologyDigest: 'd2' })])])), false);
  assert.equal(clusterAgrees(world([vm('a', [node('a', { topologyDigest: '' })])])), false);
  // Nodes that are not members (role none) or down do not count.
  assert.equal(clusterAgrees(world([vm('a', [node('a')]), vm('b', [node('b', { role: 'none', topologyDigest: 'x' })]), vm('c', [node('c', { up: false, topologyDigest: '' })])])), true);
});

test('VM steps: created and answering, deleted, agent restarted, version installed', () => {
  const o = world([vm('a', [], { agentRunningSince: 3, installedVersions: ['7.0', '8.0'] }), vm('b', [], { agentUp: false })]);
  const spec = { zone: 'zone-a', vmType: 'small' as const, storageGiB: 10, nodeGroup: 0, temporary: false, agentRunningSince: 1 };
  assert.equal(stepEffectVisible({ kind: 'createVm', vm: { id: 'a', ...spec } }, o), true);
  assert.equal(stepEffectVisible({ kind: 'createVm', vm: { id: 'b', ...spec } }, o), false, 'its agent does not answer yet');
  assert.equal(stepEffectVisible({ kind: 'deleteVm', vmId: 'c' }, o), true);
  assert.equal(stepEffectVisible({ kind: 'deleteVm', vmId: 'a' }, o), false);
  assert.equal(stepEffectVisible({ kind: 'restartAgent', vmId: 'a', agentRunningSince: 3 }, o), true);
  assert.equal(stepEffectVisible({ kind: 'restartAgent', vmId: 'a', agentRunningSince: 4 }, o), false);
  assert.equal(stepEffectVisible({ kind: 'ensureVersion', vmId: 'a', version: '8.0' }, o), true);
  assert.equal(stepEffectVisible({ kind: 'ensureVersion', vmId: 'b', version: '7.0' }, o), false);
});

test('node steps: started with its labels, stopped, configured', () => {
  const config = { 'maxmemory-policy': 'noeviction' };
  const o = world([vm('a', [node('a', { runningSince: 2, configKey: configKey(config) })]), vm('b', [node('b', { up: false })])]);
  const start = { kind: 'startDataNode' as const, vmId: 'a', nodeId: 'a', nodeGroup: 0, version: '7.0' as const, config, runningSince: 2 };
  assert.equal(stepEffectVisible(start, o), true);
  assert.equal(stepEffectVisible({ ...start, runningSince: 3 }, o), false);
  assert.equal(stepEffectVisible({ ...start, version: '8.0' }, o), false);
  assert.equal(stepEffectVisible({ ...start, config: {} }, o), false);
  assert.equal(stepEffectVisible({ kind: 'stopDataNode', vmId: 'b', nodeId: 'b' }, o), true);
  assert.equal(stepEffectVisible({ kind: 'stopDataNode', vmId: 'a', nodeId: 'a' }, o), false);
  assert.equal(stepEffectVisible({ kind: 'configureDataNode', vmId: 'a', nodeId: 'a', params: config, config }, o), true);
  assert.equal(stepEffectVisible({ kind: 'configureDataNode', vmId: 'a', nodeId: 'a', params: {}, config: {} }, o), false);
});

test('membership steps need the node in place and the whole cluster agreeing', () => {
  const p = node('p', { slots: [{ start: 0, end: 99 }, { start: 100, end: 200 }] });
  const r = node('r', { role: 'replica', primaryId: 'p' });
  const agreed = world([vm('p', [p]), vm('r', [r])]);
  const disagreeing = world([vm('p', [p]), vm('r', [{ ...r, topologyDigest: 'd0' }])]);
  const join = { kind: 'joinReplica' as const, vmId: 'r', nodeId: 'r', primaryId: 'p' };
  assert.equal(stepEffectVisible(join, agreed), true);
  assert.equal(stepEffectVisible(join, disagreeing), false, 'one node has not learnt the new topology yet');
  assert.equal(stepEffectVisible({ ...join, primaryId: 'x' }, agreed), false);
  const founding = { kind: 'joinPrimary' as const, vmId: 'p', nodeId: 'p', via: undefined, slots: [{ start: 0, end: 150 }] };
  assert.equal(stepEffectVisible(founding, agreed), true, 'slots split over two ranges still cover');
  assert.equal(stepEffectVisible({ ...founding, slots: [{ start: 150, end: 300 }] }, agreed), false);
  assert.equal(stepEffectVisible({ kind: 'failover', vmId: 'p', nodeId: 'p' }, agreed), true);
  assert.equal(stepEffectVisible({ kind: 'failover', vmId: 'r', nodeId: 'r' }, agreed), false);
  assert.equal(stepEffectVisible({ kind: 'removeNode', vmId: 'x', nodeId: 'x' }, agreed), true);
  assert.equal(stepEffectVisible({ kind: 'removeNode', vmId: 'r', nodeId: 'r' }, agreed), false);
});

test('forgetNode: no up node lists the engine id among its failed members, and the cluster agrees', () => {
  const step = { kind: 'forgetNode' as const, engineNodeId: 'ghost', nodeIds: ['a', 'b'] };
  const reported = world([vm('a', [node('a', { failedMembers: ['ghost'] })]), vm('b', [node('b', { role: 'replica' })])]);
  assert.equal(stepEffectVisible(step, reported), false, 'a still lists it');
  const forgotten = world([vm('a', [node('a', { failedMembers: ['other'] })]), vm('b', [node('b', { role: 'replica' })])]);
  assert.equal(stepEffectVisible(step, forgotten), true);
  const downNode = world([vm('a', [node('a', { up: false, topologyDigest: '', failedMembers: ['ghost'] })]), vm('b', [node('b')])]);
  assert.equal(stepEffectVisible(step, downNode), true, 'only up nodes report');
  const disagreeing = world([vm('a', [node('a')]), vm('b', [node('b', { topologyDigest: 'd2' })])]);
  assert.equal(stepEffectVisible(step, disagreeing), false, 'the members have not all forgotten it yet');
});

test('moveData: the target serves every slot the step names and the source none of them', () => {
  const before = world([vm('s', [node('s', { slots: [{ start: 0, end: 999 }] })]), vm('t', [node('t')])]);
  const after = world([vm('s', [node('s', { slots: [{ start: 100, end: 999 }] })]), vm('t', [node('t', { slots: [{ start: 0, end: 99 }] })])]);
  const move = { kind: 'moveData' as const, vmId: 's', fromId: 's', toId: 't', slots: [{ start: 0, end: 99 }] };
  assert.equal(stepEffectVisible(move, after, before), true);
  assert.equal(stepEffectVisible(move, after), true, 'the earlier observation is not needed');
  assert.equal(stepEffectVisible({ ...move, slots: [{ start: 0, end: 100 }] }, after), false, 'slot 100 is still at the source');
  assert.equal(stepEffectVisible(move, before), false);
  assert.equal(stepEffectVisible({ ...move, slots: [{ start: 0, end: 49 }, { start: 50, end: 99 }] }, after), true, 'split ranges still cover');
  const drained = world([vm('s', [node('s')]), vm('t', [node('t', { slots: [{ start: 0, end: 999 }] })])]);
  assert.equal(stepEffectVisible({ ...move, slots: [{ start: 0, end: 999 }] }, drained), true);
  assert.equal(stepEffectVisible({ ...move, slots: [{ start: 0, end: 999 }] }, after), false);
});

test('backup steps read the sinks; a restore reads the leader facts', () => {
  const sink = { type: 'local' as const, path: '/b' };
  const o = world([], { backups: [{ id: 'b1', sink: 'local:/b', complete: true }], facts: { restoredFrom: 'b1', formed: true } });
  assert.equal(stepEffectVisible({ kind: 'createBackup', vmId: 'a', backupId: 'b1', sink }, o), true);
  assert.equal(stepEffectVisible({ kind: 'createBackup', vmId: 'a', backupId: 'b2', sink }, o), false);
  assert.equal(stepEffectVisible({ kind: 'deleteBackup', vmId: 'a', backupId: 'b2', sink }, o), true);
  assert.equal(stepEffectVisible({ kind: 'deleteBackup', vmId: 'a', backupId: 'b2', sink }, { ...o, backups: undefined }), false, 'sinks not listed: unknown');
  assert.equal(stepEffectVisible({ kind: 'restoreBackup', vmId: 'a', backupId: 'b1', sink, nodeIds: ['a'] }, o), true);
  assert.equal(stepEffectVisible({ kind: 'restoreBackup', vmId: 'a', backupId: 'b9', sink, nodeIds: ['a'] }, o), false);
});

test('facts: formed once up primaries serve every slot, but not before a requested restore', () => {
  const full = world([vm('a', [node('a', { slots: [{ start: 0, end: 8191 }] })]), vm('b', [node('b', { slots: [{ start: 8192, end: 16383 }] })])]);
  const half = world([vm('a', [node('a', { slots: [{ start: 0, end: 8191 }] })]), vm('b', [node('b', { up: false, slots: [{ start: 8192, end: 16383 }] })])]);
  assert.equal(assignedSlots(full), 16384);
  assert.equal(assignedSlots(half), 8192, "a down primary's slots are not served");
  const initial = { restoredFrom: undefined, formed: false };
  assert.deepEqual(factsAfterObservation(initial, full, undefined), { restoredFrom: undefined, formed: true });
  assert.equal(factsAfterObservation(initial, half, undefined), initial);
  assert.equal(factsAfterObservation(initial, full, { id: 'b1' }), initial, 'the restore comes first');
  assert.deepEqual(factsAfterObservation({ restoredFrom: 'b1', formed: false }, full, { id: 'b1' }), { restoredFrom: 'b1', formed: true });
  const restore = { kind: 'restoreBackup' as const, vmId: 'a', backupId: 'b1', sink: { type: 'local' as const, path: '/b' }, nodeIds: ['a'] };
  assert.deepEqual(factsAfterStep(initial, restore), { restoredFrom: 'b1', formed: true });
  assert.equal(factsAfterStep(initial, { kind: 'deleteVm', vmId: 'a' }), initial);
});
