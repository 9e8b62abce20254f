import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ObservedCluster, ObservedVm } from '../model/observed.ts';
import { buildStatus } from './status-view.ts';

function vm(id: string, nodeGroup: number, over: Partial<ObservedVm> = {}): ObservedVm {
  return {
    id,
    zone: 'zone-a',
    vmType: 'small',
    storageGiB: 10,
    nodeGroup,
    temporary: false,
    state: 'running',
    agentUp: true,
    endpoint: `127.0.0.1:91${nodeGroup}0`,
    agentRunningSince: 1,
    dataHost: '127.0.0.1',
    dataPort: 7000 + nodeGroup,
    installedVersions: ['7.0'],
    dataNodes: [],
    ...over,
  };
}

test('status: node groups from the observation, an unreachable agent shown as a down node, times from the clock', () => {
  const node = {
    id: 'vm-1',
    vmId: 'vm-1',
    host: '127.0.0.1',
    port: 7001,
    nodeGroup: 1,
    engineNodeId: 'e1',
    role: 'primary' as const,
    primaryId: undefined,
    slots: [],
    up: true,
    version: '8.0' as const,
    runningSince: 1,
    configKey: '{}',
    inSync: false,
    topologyDigest: 'd',
  };
  const observed: ObservedCluster = {
    vms: [vm('vm-1', 1, { dataNodes: [node] }), vm('vm-2', 1, { agentUp: false }), vm('vm-3', 0)],
    backups: [],
    facts: { restoredFrom: undefined, formed: true },
  };
  const s = buildStatus({
    cluster: 'demo',
    state: 'WORKING_TOWARDS_DESIRED_STATE',
    acceptedId: 3,
    pendingId: 4,
    lastRefusal: null,
    lastError: null,
    progress: { done: 2, total: 5, current: ['make vm-2 a replica of vm-1'] },
    waiting: [],
    observed,
    epoch: 9,
    now: Date.UTC(2025, 0, 1, 12),
  });
  assert.deepEqual(s.nodeGroups, [
    {
      index: 1,
      nodes: [
        { id: 'vm-1', host: '127.0.0.1', port: 7001, role: 'primary', version: '8.0', up: true },
        { id: 'vm-2', host: '127.0.0.1', port: 7001, role: 'unknown', version: '', up: false },
      ],
    },
  ]);
  assert.deepEqual(
    s.agents.map((a) => [a.id, a.endpoint, a.up]),
    [
      ['vm-1', '127.0.0.1:9110', true],
      ['vm-2', '127.0.0.1:9110', false],
      ['vm-3', '127.0.0.1:9100', true],
    ],
  );
  assert.equal(s.at, '2025-01-01T12:00:00.000Z');
  assert.deepEqual([s.state, s.acceptedId, s.pendingId, s.epoch, s.progress?.done, s.progress?.total], ['WORKING_TOWARDS_DESIRED_STATE', 3, 4, 9, 2, 5]);
  const empty = buildStatus({ ...{ cluster: 'demo', state: 'AT_DESIRED_STATE', acceptedId: null, pendingId: null, lastRefusal: null, lastError: null, progress: null, waiting: [], epoch: 1, now: 0 }, observed: undefined });
  assert.deepEqual([empty.nodeGroups, empty.agents], [[], []]);
});
