// One rule for a relative local sink path: relative to the state directory, resolved by
// the leader before any agent is called (labels.ts resolveSinkPath), for listing,
// creating, deleting and restoring alike — so a backup one VM wrote is listed and
// restored through any other.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandsFor } from '../executor/commands.ts';
import type { ObservedCluster } from '../model/observed.ts';
import { systemClock } from '../../common/clock.ts';
import type { VmProvider } from '../ports/vm-provider.ts';
import { resolveSinkPath, sinkToProto } from './labels.ts';

test('a relative local path is resolved against the base; an absolute one, or none without a base, is sent as given', () => {
  assert.equal(resolveSinkPath('backups', '/state'), '/state/backups');
  assert.equal(resolveSinkPath('./a/../b', '/state'), '/state/b');
  assert.equal(resolveSinkPath('/abs/dir', '/state'), '/abs/dir');
  assert.equal(resolveSinkPath('backups', undefined), 'backups');
  assert.deepEqual(sinkToProto({ type: 'local', path: 'backups' }, '/state'), { local: { path: '/state/backups' } });
});

test('create, delete and restore send every agent the same resolved directory', async () => {
  const sent: unknown[] = [];
  const agent = new Proxy({}, { get: (_t, method) => (request: unknown) => (sent.push([method, request]), Promise.resolve({ outcome: {} })) });
  const provider = { agent: () => agent } as unknown as VmProvider;
  const node = { id: 'vm-2', vmId: 'vm-2', host: '127.0.0.1', port: 7002, nodeGroup: 0, engineNodeId: 'e2', role: 'primary', primaryId: undefined, slots: [], up: true, version: '7.0', runningSince: 0, configKey: '{}', inSync: true, topologyDigest: 'd' };
  const observed = { vms: [{ id: 'vm-2', dataNodes: [node] }], backups: [], facts: { formed: true } } as unknown as ObservedCluster;
  const sink = { type: 'local' as const, path: 'backups' };
  const steps = [
    { kind: 'createBackup' as const, vmId: 'vm-1', backupId: 'b1', sink },
    { kind: 'deleteBackup' as const, vmId: 'vm-3', backupId: 'b1', sink },
    { kind: 'restoreBackup' as const, vmId: 'vm-2', backupId: 'b1', sink, nodeIds: ['vm-2'] },
  ];
  for (const step of steps) for (const c of commandsFor(step, observed, '7', '/state')) await c.run({ provider, clock: systemClock, deadlineMs: 1000, signal: undefined });
  assert.deepEqual(
    sent.map((s) => (s as [string, { sink: unknown }])[1].sink),
    [{ local: { path: '/state/backups' } }, { local: { path: '/state/backups' } }, { local: { path: '/state/backups' } }],
  );
});
