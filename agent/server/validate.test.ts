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
  assert.deepEqual(validateRequest('MoveData', decode('MoveData', { job, sourceNodeId: 's', target, slotCount: 100 })), [{ field: 'source_node_id', nodeId: 's' }]);
  validateRequest('JoinNode', decode('JoinNode', { job, nodeId: 'a', role: 'JOIN_ROLE_REPLICA', replicaOf: target }));
  validateRequest('JoinNode', decode('JoinNode', { job, nodeId: 'a', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [{ start: 0, end: 16383 }] }));
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
    ['assign_slots', () => validateRequest('JoinNode', decode('JoinNode', { job, nodeId: 'a', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', clusterMember: { host: 'h', port: 1, engineNodeId: 'x' }, assignSlots: [{ start: 0, end: 1 }] }))],
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
    ['interval_ms', () => validateRequest('WatchState', decode('WatchState', { intervalMs: 1 }))],
  ];
  for (const [field, fn] of cases) assert.equal(fieldOf(fn), field);
});
