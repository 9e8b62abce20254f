import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { FakeBackend, toRanges } from './fake-backend.ts';
import type { BackendContext } from './backend.ts';
import { loadAgentProto } from '../proto/load.ts';
import type { AgentMethod, DecodedRequestOf, RequestOf } from '../proto/methods.ts';
import { AlreadyExistsError, FailedPreconditionError, NotFoundError, UnavailableError } from '../proto/status.ts';

function ctx(method: AgentMethod, signal = new AbortController().signal): BackendContext {
  return { signal, logger: pino({ level: 'silent' }), method, epoch: 1, idempotencyKey: 'k', deadline: new Date(Date.now() + 60_000) };
}
function decode<M extends AgentMethod>(method: M, request: RequestOf<M>): DecodedRequestOf<M> {
  const def = loadAgentProto().agentService[method] as unknown as { requestSerialize(v: RequestOf<M>): Buffer; requestDeserialize(b: Buffer): DecodedRequestOf<M> };
  return def.requestDeserialize(def.requestSerialize(request));
}
const job = { jobId: 'j' };

async function cluster(): Promise<FakeBackend> {
  const b = new FakeBackend({ installedVersions: ['7.0'] });
  await b.startDataNode(decode('StartDataNode', { job, nodeId: 'p', port: 7000, version: '7.0' }), ctx('StartDataNode'));
  await b.startDataNode(decode('StartDataNode', { job, nodeId: 'r', port: 7001, version: '7.0' }), ctx('StartDataNode'));
  await b.joinNode(decode('JoinNode', { job, nodeId: 'p', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [{ start: 0, end: 9 }] }), ctx('JoinNode'));
  await b.joinNode(decode('JoinNode', { job, nodeId: 'r', role: 'JOIN_ROLE_REPLICA', replicaOf: { engineNodeId: b.node('p')?.engineNodeId ?? '' } }), ctx('JoinNode'));
  return b;
}

test('two fakes driven alike report identical states', async () => {
  const [a, b] = [await cluster(), await cluster()];
  assert.deepEqual(await a.getState(decode('GetState', {}), ctx('GetState')), await b.getState(decode('GetState', {}), ctx('GetState')));
});

test('steps are idempotent in effect: a repeat reports changed false', async () => {
  const b = await cluster();
  const again = await b.startDataNode(decode('StartDataNode', { job, nodeId: 'p', port: 7000, version: '7.0' }), ctx('StartDataNode'));
  assert.equal(again.outcome?.changed, false);
  assert.equal(b.executions('StartDataNode'), 3, 'the repeat still ran: the fake counts executions, not changes');
});

test('preconditions: a primary with slots is not removed; failover of a replica swaps roles and slots', async () => {
  const b = await cluster();
  await assert.rejects(b.removeNode(decode('RemoveNode', { job, nodeId: 'p' }), ctx('RemoveNode')), FailedPreconditionError);
  const noop = await b.failover(decode('Failover', { job, nodeId: 'p' }), ctx('Failover'));
  assert.equal(noop.outcome?.changed, false, 'promoting a primary changes nothing');
  const promoted = await b.failover(decode('Failover', { job, nodeId: 'r' }), ctx('Failover'));
  assert.equal(promoted.outcome?.changed, true);
  assert.equal(b.node('r')?.role, 'NODE_ROLE_PRIMARY');
  assert.equal(b.node('p')?.role, 'NODE_ROLE_REPLICA');
  assert.deepEqual(toRanges(b.node('r')?.slots ?? []), [{ start: 0, end: 9 }]);
  await b.removeNode(decode('RemoveNode', { job, nodeId: 'p' }), ctx('RemoveNode'));
  assert.equal(await b.hasDataNode('p'), false);
});

test('injected faults fail or delay the next calls, and a delay observes the signal', async () => {
  const b = new FakeBackend();
  b.injectFault('GetState', { kind: 'fail', error: () => new UnavailableError('x'), times: 2 });
  await assert.rejects(b.getState(decode('GetState', {}), ctx('GetState')), UnavailableError);
  await assert.rejects(b.getState(decode('GetState', {}), ctx('GetState')), UnavailableError);
  await b.getState(decode('GetState', {}), ctx('GetState'));
  assert.equal(b.attempts('GetState'), 3);
  assert.equal(b.executions('GetState'), 1);

  b.injectFault('EnsureVersion', { kind: 'delay', ms: 10_000 });
  const controller = new AbortController();
  const pending = b.ensureVersion(decode('EnsureVersion', { job, version: '8.0' }), ctx('EnsureVersion', controller.signal));
  controller.abort(new Error('deadline'));
  await assert.rejects(pending, /deadline/);
  assert.equal(b.aborted('EnsureVersion'), 1);
  assert.equal(b.executions('EnsureVersion'), 0);
});

test('labels: kept and reported, replaced by a start of a stopped node, set by ConfigureDataNode; a running node is not started with other labels', async () => {
  const b = new FakeBackend({ installedVersions: ['7.0'] });
  const labels = { 'coxswain.io/running-since': '1', 'coxswain.io/config': '{}' };
  const started = await b.startDataNode(decode('StartDataNode', { job, nodeId: 'n', port: 7000, version: '7.0', labels }), ctx('StartDataNode'));
  assert.deepEqual(started.node?.labels, labels);
  const same = await b.startDataNode(decode('StartDataNode', { job, nodeId: 'n', port: 7000, version: '7.0', labels }), ctx('StartDataNode'));
  assert.equal(same.outcome?.changed, false);
  await assert.rejects(
    b.startDataNode(decode('StartDataNode', { job, nodeId: 'n', port: 7000, version: '7.0', labels: { ...labels, 'coxswain.io/running-since': '2' } }), ctx('StartDataNode')),
    (err: unknown) => err instanceof AlreadyExistsError && /coxswain\.io\/running-since/.test(err.message),
  );
  const configured = await b.configureDataNode(decode('ConfigureDataNode', { job, nodeId: 'n', labels: { 'coxswain.io/config': '{"a":"1"}' } }), ctx('ConfigureDataNode'));
  assert.equal(configured.outcome?.changed, true);
  assert.deepEqual(b.node('n')?.labels, { 'coxswain.io/running-since': '1', 'coxswain.io/config': '{"a":"1"}' });
  const repeat = await b.configureDataNode(decode('ConfigureDataNode', { job, nodeId: 'n', labels: { 'coxswain.io/config': '{"a":"1"}' } }), ctx('ConfigureDataNode'));
  assert.equal(repeat.outcome?.changed, false);
  await b.stopDataNode(decode('StopDataNode', { job, nodeId: 'n' }), ctx('StopDataNode'));
  const restarted = await b.startDataNode(decode('StartDataNode', { job, nodeId: 'n', port: 7000, version: '7.0', labels: { 'coxswain.io/running-since': '2' } }), ctx('StartDataNode'));
  assert.deepEqual(restarted.node?.labels, { 'coxswain.io/running-since': '2' }, 'a start replaces the labels');
  const state = await b.getState(decode('GetState', {}), ctx('GetState'));
  assert.deepEqual(state.dataNodes?.[0]?.labels, { 'coxswain.io/running-since': '2' });
});

test('an up replica reports in_sync', async () => {
  const b = await cluster();
  const state = await b.getState(decode('GetState', {}), ctx('GetState'));
  const byId = new Map((state.dataNodes ?? []).map((n) => [n.id, n]));
  assert.equal(byId.get('r')?.engineParams?.['in_sync'], 'yes');
  assert.equal(byId.get('p')?.engineParams?.['in_sync'], undefined);
});

test('ForgetNode: the local node is checked (known, running, not itself); the fake has no failed member, so nothing changes', async () => {
  const b = await cluster();
  const ghost = 'f'.repeat(40);
  const res = await b.forgetNode(decode('ForgetNode', { job, nodeId: 'p', engineNodeId: ghost }), ctx('ForgetNode'));
  assert.equal(res.outcome?.changed, false);
  assert.match(res.outcome?.message ?? '', /does not know node f{40}; nothing to forget/);
  assert.equal(res.node?.id, 'p');
  const self = b.node('p')?.engineNodeId ?? '';
  await assert.rejects(
    b.forgetNode(decode('ForgetNode', { job, nodeId: 'p', engineNodeId: self }), ctx('ForgetNode')),
    (err: unknown) => err instanceof FailedPreconditionError && err.reason === 'NOT_FAILED',
  );
  await assert.rejects(b.forgetNode(decode('ForgetNode', { job, nodeId: 'ghost', engineNodeId: ghost }), ctx('ForgetNode')), NotFoundError);
  await b.stopDataNode(decode('StopDataNode', { job, nodeId: 'r' }), ctx('StopDataNode'));
  await assert.rejects(b.forgetNode(decode('ForgetNode', { job, nodeId: 'r', engineNodeId: ghost }), ctx('ForgetNode')), FailedPreconditionError);
  const state = await b.getState(decode('GetState', {}), ctx('GetState'));
  assert.ok((state.dataNodes ?? []).every((n) => n.engineParams?.['failed_members'] === undefined));
});
