import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ObservedCluster, ObservedDataNode, ObservedVm } from '../model/observed.ts';
import { StatusMemory, buildStatus, mergeRanges, type StatusInput } from './status-view.ts';

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

test('status: node groups from the observation, an unreachable agent never seen shown as not observed, times from the clock', () => {
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
    progress: { done: 2, remaining: 3, current: ['make vm-2 a replica of vm-1'] },
    waiting: [],
    observed,
    epoch: 9,
    now: Date.UTC(2025, 0, 1, 12),
  });
  assert.deepEqual(s.nodeGroups, [
    {
      index: 1,
      nodes: [
        { id: 'vm-1', host: '127.0.0.1', port: 7001, role: 'primary', version: '8.0', up: true, agentUp: true, observed: true, slots: [] },
        {
          id: 'vm-2',
          host: '127.0.0.1',
          port: 7001,
          role: 'unknown',
          version: '',
          up: false,
          agentUp: false,
          observed: false,
          lastObservedAt: null,
          notObservedSince: '2025-01-01T12:00:00.000Z',
          slots: [],
        },
      ],
      slots: [],
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

function dataNode(id: string, nodeGroup: number, port: number, over: Partial<ObservedDataNode> = {}): ObservedDataNode {
  return {
    id,
    vmId: id,
    host: '127.0.0.1',
    port,
    nodeGroup,
    engineNodeId: `e-${id}`,
    role: 'replica',
    primaryId: undefined,
    slots: [],
    up: true,
    version: '7.0',
    runningSince: 1,
    configKey: '{}',
    inSync: true,
    topologyDigest: 'd',
    ...over,
  };
}

/** Two node groups of two; vm-1 and vm-3 primaries. */
function twoGroups(): ObservedCluster {
  const vms = [
    vm('vm-1', 0, { dataPort: 7001, dataNodes: [dataNode('vm-1', 0, 7001, { role: 'primary', slots: [{ start: 0, end: 5460 }, { start: 10923, end: 12000 }] })] }),
    vm('vm-2', 0, { dataPort: 7002, dataNodes: [dataNode('vm-2', 0, 7002, { primaryId: 'vm-1' })] }),
    vm('vm-3', 1, { dataPort: 7003, dataNodes: [dataNode('vm-3', 1, 7003, { role: 'primary', slots: [{ start: 5461, end: 10922 }, { start: 12001, end: 16383 }] })] }),
    vm('vm-4', 1, { dataPort: 7004, dataNodes: [dataNode('vm-4', 1, 7004, { primaryId: 'vm-3' })] }),
  ];
  return { vms, backups: [], facts: { restoredFrom: undefined, formed: true } };
}

function input(observed: ObservedCluster | undefined, over: Partial<StatusInput> = {}): StatusInput {
  return {
    cluster: 'demo',
    state: 'AT_DESIRED_STATE',
    acceptedId: 1,
    pendingId: null,
    lastRefusal: null,
    lastError: null,
    progress: null,
    waiting: [],
    observed,
    epoch: 1,
    now: Date.UTC(2025, 0, 1, 12),
    ...over,
  };
}

test('a node whose agent does not answer is shown as last seen, with when, not as a down data node', () => {
  const memory = new StatusMemory();
  const t0 = Date.UTC(2025, 0, 1, 12);
  buildStatus(input(twoGroups(), { memory, now: t0 }));
  const later = twoGroups();
  // Only the agent of vm-3 was killed: the provider still runs its VM, its data node is not seen.
  Object.assign(later.vms[2]!, { agentUp: false, dataNodes: [] });
  const s = buildStatus(input(later, { memory, now: t0 + 42_000 }));
  const vm3 = s.nodeGroups[1]!.nodes.find((n) => n.id === 'vm-3');
  assert.deepEqual(vm3, {
    id: 'vm-3',
    host: '127.0.0.1',
    port: 7003,
    role: 'primary',
    version: '7.0',
    up: false,
    agentUp: false,
    observed: false,
    lastObservedAt: '2025-01-01T12:00:00.000Z',
    notObservedSince: '2025-01-01T12:00:42.000Z',
    slots: [
      { start: 5461, end: 10922 },
      { start: 12001, end: 16383 },
    ],
  });
  assert.deepEqual(s.agents.find((a) => a.id === 'vm-3'), { id: 'vm-3', endpoint: '127.0.0.1:9110', zone: 'zone-a', up: false, vmState: 'running' });
  // The same observation seen again later keeps the time it was first seen.
  const again = buildStatus(input(later, { memory, now: t0 + 99_000 }));
  const vm3again = again.nodeGroups[1]!.nodes.find((n) => n.id === 'vm-3');
  assert.deepEqual([vm3again?.lastObservedAt, vm3again?.notObservedSince], ['2025-01-01T12:00:00.000Z', '2025-01-01T12:00:42.000Z']);
  // Its agent answers again: seen, and a later loss is dated anew.
  buildStatus(input(twoGroups(), { memory, now: t0 + 120_000 }));
  const lost = twoGroups();
  Object.assign(lost.vms[2]!, { agentUp: false, dataNodes: [] });
  const vm3lost = buildStatus(input(lost, { memory, now: t0 + 121_000 })).nodeGroups[1]!.nodes.find((n) => n.id === 'vm-3');
  assert.deepEqual([vm3lost?.lastObservedAt, vm3lost?.notObservedSince], ['2025-01-01T12:02:00.000Z', '2025-01-01T12:02:01.000Z']);
  // A node seen down by its answering agent is down, and observed.
  const down = twoGroups();
  Object.assign(down.vms[1]!.dataNodes[0]!, { up: false, role: 'unknown' });
  const d = buildStatus(input(down, { memory: new StatusMemory() }));
  assert.deepEqual(
    d.nodeGroups[0]!.nodes.map((n) => [n.id, n.up, n.observed, n.agentUp]),
    [
      ['vm-1', true, true, true],
      ['vm-2', false, true, true],
    ],
  );
});

test('each node group carries its slot ranges, merged; the backups that exist are listed, or null when unlisted', () => {
  const c = twoGroups();
  c.backups = [
    { id: 'b2', sink: 'local:/backups', complete: false },
    { id: 'b1', sink: 'local:/backups', complete: true },
  ];
  const s = buildStatus(input(c));
  assert.deepEqual(
    s.nodeGroups.map((g) => [g.index, g.slots]),
    [
      [0, [{ start: 0, end: 5460 }, { start: 10923, end: 12000 }]],
      [1, [{ start: 5461, end: 10922 }, { start: 12001, end: 16383 }]],
    ],
  );
  assert.deepEqual(s.backups, [
    { id: 'b1', sink: 'local:/backups', complete: true },
    { id: 'b2', sink: 'local:/backups', complete: false },
  ]);
  assert.equal(buildStatus(input({ ...c, backups: undefined })).backups, null);
  assert.deepEqual(mergeRanges([{ start: 10, end: 20 }, { start: 0, end: 9 }, { start: 15, end: 30 }, { start: 40, end: 40 }]), [
    { start: 0, end: 30 },
    { start: 40, end: 40 },
  ]);
});

test('the endpoints to seed a client with: up members seen, primaries first, then replicas', () => {
  const c = twoGroups();
  c.vms.push(vm('vm-5', 0, { dataPort: 7005, dataNodes: [dataNode('vm-5', 0, 7005, { role: 'none' })] }));
  c.vms.push(vm('vm-6', 1, { dataPort: 7006, dataNodes: [dataNode('vm-6', 1, 7006, { up: false, role: 'unknown' })] }));
  assert.deepEqual(buildStatus(input(c)).endpoints, ['127.0.0.1:7001', '127.0.0.1:7003', '127.0.0.1:7002', '127.0.0.1:7004']);
  // The node on 7001 removed (scaled in), vm-4's agent down: neither is offered.
  c.vms = c.vms.filter((v) => v.id !== 'vm-1');
  Object.assign(c.vms.find((v) => v.id === 'vm-4')!, { agentUp: false, dataNodes: [] });
  assert.deepEqual(buildStatus(input(c)).endpoints, ['127.0.0.1:7003', '127.0.0.1:7002']);
});

test('progress: the jobs done as the reconciler counts them, the rest as its estimate, the total never below what is done', () => {
  const c = twoGroups();
  const working = (done: number, remaining: number | null) =>
    buildStatus(input(c, { state: 'WORKING_TOWARDS_DESIRED_STATE', progress: { done, remaining, current: ['x'] } })).progress;
  assert.deepEqual(working(0, null), { done: 0, total: 0, current: ['x'], remaining: null });
  assert.deepEqual(working(6, 24), { done: 6, total: 30, current: ['x'], remaining: 24 });
  assert.equal(buildStatus(input(c, { state: 'AT_DESIRED_STATE', progress: null })).progress, null);
});
