import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAgentProto } from '../../proto/load.ts';
import type { AgentMethod, DecodedRequestOf, RequestOf } from '../../proto/methods.ts';
import { InvalidArgumentError } from '../../proto/status.ts';
import { validateRequest } from './validate.ts';

/** The request as the agent receives it: encoded, then decoded with the loader's options. */
function decode<M extends AgentMethod>(method: M, request: RequestOf<M>): DecodedRequestOf<M> {
  const def = loadAgentProto().agentService[method] as unknown as {
    requestSerialize(v: RequestOf<M>): Buffer;
    requestDeserialize(b: Buffer): DecodedRequestOf<M>;
  };
  return def.requestDeserialize(def.requestSerialize(request));
}

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InvalidArgumentError, String(err));
    return err.field;
  }
  return '(valid)';
}

const job = { jobId: 'j1', stepId: '2' };
const target = { engineNodeId: 'e'.repeat(40) };

test('valid requests pass and name the local nodes they touch', () => {
  assert.deepEqual(validateRequest('GetState', decode('GetState', {})), []);
  assert.deepEqual(validateRequest('StartDataNode', decode('StartDataNode', { job, nodeId: 'ng0-r0', port: 7000, version: '7.0' })), []);
  assert.deepEqual(validateRequest('StopDataNode', decode('StopDataNode', { job, nodeId: 'ng0-r0' })), [{ field: 'node_id', nodeId: 'ng0-r0' }]);
  assert.deepEqual(
    validateRequest('RestoreBackup', decode('RestoreBackup', { job, backupId: 'b', sink: { local: { path: 'p' } }, nodeIds: ['a', 'b'] })),
    [{ field: 'node_ids[0]', nodeId: 'a' }, { field: 'node_ids[1]', nodeId: 'b' }],
  );
  assert.deepEqual(
    validateRequest('ForgetNode', decode('ForgetNode', { job, nodeId: 'ng0-r0', engineNodeId: 'f'.repeat(40) })),
    [{ field: 'node_id', nodeId: 'ng0-r0' }],
  );
  assert.deepEqual(validateRequest('MoveData', decode('MoveData', { job, sourceNodeId: 's', target, slotCount: 100 })), [{ field: 'source_node_id', nodeId: 's' }]);
  validateRequest('JoinNode', decode('JoinNode', { job, nodeId: 'a', role: 'JOIN_ROLE_REPLICA', replicaOf: target }));
  validateRequest('JoinNode', decode('JoinNode', { job, nodeId: 'a', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [{ start: 0, end: 16383 }] }));
  // A primary joining a cluster may claim unowned slots (the founding of N primaries).
  const member = { host: '127.0.0.1', port: 7000, engineNodeId: 'f'.repeat(40) };
  validateRequest('JoinNode', decode('JoinNode', { job, nodeId: 'a', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', clusterMember: member, assignSlots: [{ start: 5461, end: 10922 }] }));
});

test('labels: lower-case keys of at most 63 characters, values of at most 4096, at most 32; the label is named', () => {
  const labels = { 'coxswain.io/running-since': '3', 'coxswain.io/config': '{"maxmemory-policy":"allkeys-lru"}' };
  validateRequest('StartDataNode', decode('StartDataNode', { job, nodeId: 'a', port: 7000, version: '7.0', labels }));
  validateRequest('ConfigureDataNode', decode('ConfigureDataNode', { job, nodeId: 'a', labels }));
  validateRequest('StartDataNode', decode('StartDataNode', { job, nodeId: 'a', port: 7000, version: '7.0', labels: { ['k'.repeat(63)]: 'v'.repeat(4096) } }));
  const many = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`l${i}`, 'v']));
  validateRequest('StartDataNode', decode('StartDataNode', { job, nodeId: 'a', port: 7000, version: '7.0', labels: many }));

  const start = (l: Record<string, string>) => () => validateRequest('StartDataNode', decode('StartDataNode', { job, nodeId: 'a', port: 7000, version: '7.0', labels: l }));
  const configure = (l: Record<string, string>) => () => validateRequest('ConfigureDataNode', decode('ConfigureDataNode', { job, nodeId: 'a', labels: l }));
  assert.equal(fieldOf(start({ 'Coxswain.io/x': '1' })), 'labels["Coxswain.io/x"]');
  assert.equal(fieldOf(start({ 'a b': '1' })), 'labels["a b"]');
  assert.equal(fieldOf(start({ ['k'.repeat(64)]: '1' })), `labels["${'k'.repeat(64)}"]`);
  assert.equal(fieldOf(start({ '': '1' })), 'labels[""]');
  assert.equal(fieldOf(start({ 'coxswain.io/config': 'v'.repeat(4097) })), 'labels["coxswain.io/config"]');
  assert.equal(fieldOf(start({ ...many, l32: 'v' })), 'labels');
  assert.equal(fieldOf(configure({ 'x_y': '1' })), 'labels["x_y"]');
  // ConfigureDataNode needs a parameter or a label.
  assert.equal(fieldOf(() => validateRequest('ConfigureDataNode', decode('ConfigureDataNode', { job, nodeId: 'a' }))), 'engine_params');
});

test('each malformed field is named by its path in the .proto', () => {
  const cases: [string, () => unknown][] = [
    ['job', () => validateRequest('StopDataNode', decode('StopDataNode', { nodeId: 'a' }))],
    ['job.job_id', () => validateRequest('StopDataNode', decode('StopDataNode', { job: { stepId: '1' }, nodeId: 'a' }))],
    ['node_id', () => validateRequest('StopDataNode', decode('StopDataNode', { job, nodeId: 'has space' }))],
    ['port', () => validateRequest('StartDataNode', decode('StartDataNode', { job, nodeId: 'a', port: 70000, version: '7.0' }))],
    ['version', () => validateRequest('StartDataNode', decode('StartDataNode', { job, nodeId: 'a', port: 1 }))],
    ['role', () => validateRequest('JoinNode', decode('JoinNode', { job, nodeId: 'a' }))],
    ['replica_of.engine_node_id', () => validateRequest('JoinNode', decode('JoinNode', { job, nodeId: 'a', role: 'JOIN_ROLE_REPLICA', replicaOf: {} }))],
    ['assign_slots', () => validateRequest('JoinNode', decode('JoinNode', { job, nodeId: 'a', role: 'JOIN_ROLE_REPLICA', replicaOf: target, assignSlots: [{ start: 0, end: 1 }] }))],
    ['assign_slots[0].end', () => validateRequest('JoinNode', decode('JoinNode', { job, nodeId: 'a', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', clusterMember: { host: 'h', port: 1, engineNodeId: 'x' }, assignSlots: [{ start: 5, end: 1 }] }))],
    ['cluster_member.port', () => validateRequest('JoinNode', decode('JoinNode', { job, nodeId: 'a', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', clusterMember: { host: 'h', engineNodeId: 'x' } }))],
    ['target', () => validateRequest('MoveData', decode('MoveData', { job, sourceNodeId: 's', all: true }))],
    ['selection', () => validateRequest('MoveData', decode('MoveData', { job, sourceNodeId: 's', target }))],
    ['slot_count', () => validateRequest('MoveData', decode('MoveData', { job, sourceNodeId: 's', target, slotCount: 20000 }))],
    ['slots.ranges[0].start', () => validateRequest('MoveData', decode('MoveData', { job, sourceNodeId: 's', target, slots: { ranges: [{ start: 16384, end: 16384 }] } }))],
    ['sink', () => validateRequest('CreateBackup', decode('CreateBackup', { job, backupId: 'b' }))],
    ['sink.kind', () => validateRequest('CreateBackup', decode('CreateBackup', { job, backupId: 'b', sink: {} }))],
    ['node_ids[1]', () => validateRequest('CreateBackup', decode('CreateBackup', { job, backupId: 'b', sink: { local: { path: 'p' } }, nodeIds: ['a', 'a'] }))],
    ['node_ids', () => validateRequest('RestoreBackup', decode('RestoreBackup', { job, backupId: 'b', sink: { local: { path: 'p' } } }))],
    ['engine_params', () => validateRequest('ConfigureDataNode', decode('ConfigureDataNode', { job, nodeId: 'a' }))],
    ['artifact_sha256', () => validateRequest('EnsureVersion', decode('EnsureVersion', { job, version: '7.0', artifactSha256: 'abc' }))],
    ['job', () => validateRequest('ForgetNode', decode('ForgetNode', { nodeId: 'a', engineNodeId: 'x' }))],
    ['node_id', () => validateRequest('ForgetNode', decode('ForgetNode', { job, engineNodeId: 'x' }))],
    ['engine_node_id', () => validateRequest('ForgetNode', decode('ForgetNode', { job, nodeId: 'a' }))],
    ['interval_ms', () => validateRequest('WatchState', decode('WatchState', { intervalMs: 1 }))],
  ];
  for (const [field, fn] of cases) assert.equal(fieldOf(fn), field);
});
