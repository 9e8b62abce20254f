// Every way malformed.ts breaks a leader's request is one the production validation
// (agent/server/validate.ts) refuses, with INVALID_ARGUMENT naming the field: so a
// 'call-malformed' copy that reaches the simulated agent's backend is the agent's fault.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateRequest } from '../../agent/server/validate.ts';
import { loadAgentProto } from '../../proto/load.ts';
import type { DecodedRequestOf, MutatingMethod, RequestOf } from '../../proto/methods.ts';
import { InvalidArgumentError } from '../../proto/status.ts';
import { breakages, malformed } from './malformed.ts';

function decode<M extends MutatingMethod>(method: M, request: RequestOf<M>): DecodedRequestOf<M> {
  const def = loadAgentProto().agentService[method] as unknown as {
    requestSerialize(v: RequestOf<M>): Buffer;
    requestDeserialize(b: Buffer): DecodedRequestOf<M>;
  };
  return def.requestDeserialize(def.requestSerialize(request));
}

const job = { jobId: '12', stepId: '' };
const member = { host: 'sim-vm-1', port: 7001, engineNodeId: 'a'.repeat(40) };
const sink = { local: { path: 'backups' } };

/** Requests as the leader makes them (operator/executor/commands.ts), several per method where the shape varies. */
const REQUESTS: { [M in MutatingMethod]: RequestOf<M>[] } = {
  EnsureVersion: [{ job, version: '8.0' }],
  StartDataNode: [{ job, nodeId: 'vm-1', port: 7001, version: '7.0', nodeGroup: 0, labels: { 'coxswain.io/running-since': '1' } }],
  StopDataNode: [{ job, nodeId: 'vm-1' }],
  JoinNode: [
    { job, nodeId: 'vm-1', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [{ start: 0, end: 16383 }] },
    { job, nodeId: 'vm-2', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', clusterMember: member, assignSlots: [] },
    { job, nodeId: 'vm-3', role: 'JOIN_ROLE_REPLICA', clusterMember: member, replicaOf: { engineNodeId: 'a'.repeat(40) } },
  ],
  RemoveNode: [{ job, nodeId: 'vm-1' }],
  ForgetNode: [{ job, nodeId: 'vm-1', engineNodeId: 'b'.repeat(40) }],
  Failover: [{ job, nodeId: 'vm-2' }],
  MoveData: [{ job, sourceNodeId: 'vm-1', target: { engineNodeId: 'c'.repeat(40) }, slots: { ranges: [{ start: 0, end: 99 }] } }],
  CreateBackup: [
    { job, backupId: 'b1', sink },
    { job, backupId: 'b1', sink, nodeIds: ['vm-1', 'vm-3'] },
  ],
  RestoreBackup: [{ job, backupId: 'b1', sink, nodeIds: ['vm-1'] }],
  DeleteBackup: [{ job, backupId: 'b1', sink }],
  ConfigureDataNode: [{ job, nodeId: 'vm-1', engineParams: { 'maxmemory-policy': 'allkeys-lru' }, labels: { 'coxswain.io/config': '{}' } }],
};

describe('malformed copies of the leader\'s requests', () => {
  for (const [method, requests] of Object.entries(REQUESTS) as [MutatingMethod, RequestOf<MutatingMethod>[]][]) {
    it(`${method}: the requests are valid, and every way to break them is refused naming the field`, () => {
      for (const request of requests) {
        assert.doesNotThrow(() => validateRequest(method, decode(method, request)), 'the well-formed request passes');
        const ways = breakages(method, request);
        assert.ok(ways >= 3, `${method}: at least three ways to break it (${ways})`);
        for (let pick = 0; pick < ways; pick++) {
          const broken = malformed(method, request, pick);
          assert.ok(broken !== undefined);
          assert.throws(
            () => validateRequest(method, decode(method, broken.request)),
            (e: unknown) => e instanceof InvalidArgumentError && e.field === broken.field,
            `${method} way #${pick} (${broken.field}) must be INVALID_ARGUMENT naming ${broken.field}`,
          );
        }
      }
    });
  }
});
