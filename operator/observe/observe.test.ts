import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configKey } from '../model/observed.ts';
import type { VmSpec } from '../model/step.ts';
import type { AgentPort } from '../ports/agent-port.ts';
import { FakeCluster } from '../reconciler/testing/fake-cluster.ts';
import { VirtualClock } from '../../test/support/virtual-clock.ts';
import { CONFIG_LABEL, RUNNING_SINCE_LABEL, failedMembersOf, nodeLabels, roleOf } from './labels.ts';
import { backupRefsOf, observe } from './observe.ts';

const facts = { restoredFrom: undefined, formed: false };
const spec = (id: string, nodeGroup = 0): VmSpec => ({ id, zone: 'zone-a', vmType: 'small', storageGiB: 10, nodeGroup, temporary: false, agentRunningSince: 1 });
const job = { jobId: 't' };

async function twoNodeCluster(): Promise<FakeCluster> {
  const c = new FakeCluster();
  for (const id of ['vm-1', 'vm-2']) {
    const rec = await c.create(spec(id));
    await c.agent(id).startDataNode({ job, nodeId: id, port: rec.dataPort, version: '7.0', nodeGroup: 0, labels: nodeLabels(3, { 'maxmemory-policy': 'noeviction' }) });
  }
  await c.agent('vm-1').joinNode({ job, nodeId: 'vm-1', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [{ start: 0, end: 16383 }] });
  const primary = c.vms.get('vm-1')?.nodes.get('vm-1');
  assert.ok(primary);
  await c.agent('vm-2').joinNode({ job, nodeId: 'vm-2', role: 'JOIN_ROLE_REPLICA', replicaOf: { host: 'h', port: 1, engineNodeId: primary.engineNodeId } });
  return c;
}

test('maps VMs and data nodes: roles, primary by Coxswain id, labels, sync, digest, slots, versions', async () => {
  const c = await twoNodeCluster();
  const o = await observe(c, { backupRefs: [], facts });
  assert.deepEqual(
    o.vms.map((v) => [v.id, v.state, v.agentUp, v.installedVersions]),
    [
      ['vm-1', 'running', true, ['7.0']],
      ['vm-2', 'running', true, ['7.0']],
    ],
  );
  const [p, r] = o.vms.map((v) => v.dataNodes[0]);
  assert.ok(p && r);
  assert.equal(p.role, 'primary');
  assert.equal(p.primaryId, undefined);
  assert.deepEqual(p.slots, [{ start: 0, end: 16383 }]);
  assert.equal(p.host, 'host-vm-1');
  assert.equal(p.vmId, 'vm-1');
  assert.equal(r.role, 'replica');
  assert.equal(r.primaryId, 'vm-1', 'the engine id is resolved to the Coxswain id of the primary');
  assert.equal(r.inSync, true);
  assert.equal(p.inSync, false);
  assert.equal(r.runningSince, 3);
  assert.equal(r.configKey, configKey({ 'maxmemory-policy': 'noeviction' }));
  assert.notEqual(p.topologyDigest, '');
  assert.equal(p.topologyDigest, r.topologyDigest);
  assert.deepEqual(o.backups, [], 'no backup was ever named: nothing to list');
  assert.deepEqual(o.facts, facts);
});

test('failed_members: the failed members an up node reports, sorted; absent when none or when the node is down', async () => {
  const c = await twoNodeCluster();
  assert.deepEqual((await observe(c, { backupRefs: [], facts })).vms.map((v) => 'failedMembers' in (v.dataNodes[0] ?? {})), [false, false]);
  c.addGhost('ff'.repeat(20));
  c.addGhost('0a'.repeat(20));
  const o = await observe(c, { backupRefs: [], facts });
  assert.deepEqual(o.vms.map((v) => v.dataNodes[0]?.failedMembers), [
    ['0a'.repeat(20), 'ff'.repeat(20)],
    ['0a'.repeat(20), 'ff'.repeat(20)],
  ]);
  assert.deepEqual(failedMembersOf(' b,a,,a '), ['a', 'b']);
  assert.deepEqual(failedMembersOf(undefined), []);
  await c.agent('vm-2').stopDataNode({ job, nodeId: 'vm-2' });
  assert.equal((await observe(c, { backupRefs: [], facts })).vms[1]?.dataNodes[0]?.failedMembers, undefined);
});

test('an agent that does not answer is down with no data nodes; stopped VMs are not asked', async () => {
  const c = await twoNodeCluster();
  const vm2 = c.vms.get('vm-2');
  assert.ok(vm2);
  vm2.agentUp = false;
  await c.create(spec('vm-3'));
  const vm3 = c.vms.get('vm-3');
  assert.ok(vm3);
  vm3.record.state = 'stopped';
  const o = await observe(c, { backupRefs: [], facts });
  const byId = new Map(o.vms.map((v) => [v.id, v]));
  assert.equal(byId.get('vm-2')?.agentUp, false);
  assert.deepEqual(byId.get('vm-2')?.dataNodes, []);
  assert.equal(byId.get('vm-2')?.state, 'running');
  assert.equal(byId.get('vm-3')?.state, 'stopped');
  assert.equal(byId.get('vm-3')?.agentUp, false);
  assert.deepEqual(
    c.callsOf('GetState').map((x) => x.vmId).sort(),
    ['vm-1', 'vm-2'],
    'GetState goes to running VMs only',
  );
});

test('a VM the caller just created is "creating" while its agent does not answer', async () => {
  const c = new FakeCluster();
  await c.create(spec('vm-1'));
  const vm = c.vms.get('vm-1');
  assert.ok(vm);
  vm.agentUp = false;
  const creating = await observe(c, { backupRefs: [], facts, creatingVmIds: new Set(['vm-1']) });
  assert.equal(creating.vms[0]?.state, 'creating');
  const broken = await observe(c, { backupRefs: [], facts });
  assert.equal(broken.vms[0]?.state, 'running');
  vm.agentUp = true;
  const answered = await observe(c, { backupRefs: [], facts, creatingVmIds: new Set(['vm-1']) });
  assert.equal(answered.vms[0]?.state, 'running', 'once the agent answers it is running');
});

test('backups: one listing per distinct sink, only the named ones, through an up agent', async () => {
  const c = await twoNodeCluster();
  c.backups.set('local:/b1', new Set(['nightly', 'stranger']));
  c.backups.set('local:/b2', new Set(['weekly']));
  const refs = backupRefsOf([
    { backups: [{ id: 'nightly', sink: { type: 'local', path: '/b1' } }] },
    {
      backups: [
        { id: 'nightly', sink: { type: 'local', path: '/b1' } },
        { id: 'gone', sink: { type: 'local', path: '/b1' } },
      ],
      restoreFromBackup: { id: 'weekly', sink: { type: 'local', path: '/b2' } },
    },
  ]);
  assert.equal(refs.length, 3, 'duplicates are dropped');
  const o = await observe(c, { backupRefs: refs, facts });
  assert.deepEqual(o.backups, [
    { id: 'nightly', sink: 'local:/b1', complete: true },
    { id: 'weekly', sink: 'local:/b2', complete: true },
  ]);
  assert.deepEqual(
    c.callsOf('ListBackups').map((x) => x.request),
    [{ sink: { local: { path: '/b1' } } }, { sink: { local: { path: '/b2' } } }],
  );
});

test('backups are undefined when no agent answers or a listing fails', async () => {
  const refs = [{ id: 'nightly', sink: { type: 'local' as const, path: '/b1' } }];
  const c = await twoNodeCluster();
  c.fail('ListBackups', () => new Error('disk on fire'));
  assert.equal((await observe(c, { backupRefs: refs, facts })).backups, undefined);
  for (const vm of c.vms.values()) vm.agentUp = false;
  assert.equal((await observe(c, { backupRefs: refs, facts })).backups, undefined);
  assert.deepEqual((await observe(c, { backupRefs: [], facts })).backups, []);
});

test('a GetState that hangs past the deadline counts as a down agent (the clock bounds it)', async () => {
  const c = await twoNodeCluster();
  const clock = new VirtualClock();
  const hanging = Object.create(c) as FakeCluster;
  hanging.agent = (vmId: string): AgentPort => {
    const real = c.agent(vmId);
    if (vmId !== 'vm-2') return real;
    return Object.assign(Object.create(real) as AgentPort, { getState: () => new Promise<never>(() => undefined) });
  };
  hanging.list = () => c.list();
  const o = await clock.drive(observe(hanging, { backupRefs: [], facts, clock, callDeadlineMs: 2000 }));
  assert.equal(o.vms.find((v) => v.id === 'vm-1')?.agentUp, true);
  assert.equal(o.vms.find((v) => v.id === 'vm-2')?.agentUp, false);
  assert.equal(clock.now() - Date.UTC(2025, 0, 1), 2000, 'it waited exactly the deadline');
  assert.equal(clock.pending, 0, 'no timer is left behind');
});

test('proto roles map to model roles; labels are read defensively', () => {
  assert.equal(roleOf('NODE_ROLE_PRIMARY'), 'primary');
  assert.equal(roleOf('NODE_ROLE_REPLICA'), 'replica');
  assert.equal(roleOf('NODE_ROLE_NONE'), 'none');
  assert.equal(roleOf('NODE_ROLE_UNSPECIFIED'), 'unknown');
  assert.equal(roleOf('SOMETHING_NEW'), 'unknown');
  assert.deepEqual(nodeLabels(4, { b: '2', a: '1' }), { [RUNNING_SINCE_LABEL]: '4', [CONFIG_LABEL]: '{"a":"1","b":"2"}' });
});

test('an aborted observation rejects', async () => {
  const c = await twoNodeCluster();
  const ctl = new AbortController();
  ctl.abort(new Error('leader stopping'));
  await assert.rejects(observe(c, { backupRefs: [], facts, signal: ctl.signal }), /leader stopping/);
});
