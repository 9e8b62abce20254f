// The gates every Agent call passes, over real gRPC on loopback (port chosen by the
// OS), against the fake backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { RawAgentClient, JOB, TEST_SECRET, startTestAgent } from '../test-harness.ts';
import type { TestAgent } from '../test-harness.ts';
import { ERROR_DETAILS_METADATA, ERROR_REASON_METADATA, bearer } from '../../proto/metadata.ts';
import { UnavailableError } from '../../proto/status.ts';

async function withAgent(fn: (t: TestAgent, raw: RawAgentClient) => Promise<void>, options = {}): Promise<void> {
  const agent = await startTestAgent(options);
  const raw = new RawAgentClient(agent.endpoint);
  try {
    await fn(agent, raw);
  } finally {
    raw.close();
    await agent.close();
  }
}

const start = (nodeId = 'ng0-r0', port = 7000) => ({ job: JOB, nodeId, port, version: '7.0', nodeGroup: 0 });

function failure<T>(result: { ok: true; response: T } | { ok: false; error: ServiceError }) {
  assert.equal(result.ok, false, 'the call should have failed');
  if (result.ok) throw new Error('unreachable');
  return result.error;
}

function detailsOf(error: ServiceError): Record<string, string> {
  const text = error.metadata.get(ERROR_DETAILS_METADATA)[0];
  return typeof text === 'string' ? (JSON.parse(text) as Record<string, string>) : {};
}

test('a call without a credential is UNAUTHENTICATED, and nothing runs', () =>
  withAgent(async (agent, raw) => {
    const error = failure(await raw.call('GetState', {}, { authorization: undefined }));
    assert.equal(error.code, status.UNAUTHENTICATED);
    assert.match(error.details, /missing credential/);
    assert.equal(agent.backend.attempts('GetState'), 0);
  }));

test('a call with a wrong credential is UNAUTHENTICATED', () =>
  withAgent(async (agent, raw) => {
    for (const authorization of [bearer('not-the-secret'), bearer(`${TEST_SECRET}x`), bearer(''), TEST_SECRET, 'Basic abc']) {
      const error = failure(await raw.call('StartDataNode', start(), { authorization, idempotencyKey: 'k' }));
      assert.equal(error.code, status.UNAUTHENTICATED, authorization);
    }
    assert.equal(agent.backend.attempts('StartDataNode'), 0);
    const ok = await raw.call('GetState', {}, { authorization: `bearer ${TEST_SECRET}` });
    assert.equal(ok.ok, true, 'the scheme is case-insensitive');
  }));

test('the health check answers SERVING without a credential', () =>
  withAgent(async (_agent, raw) => {
    for (const service of ['', 'coxswain.agent.v1.Agent']) {
      const result = await raw.health(service);
      assert.ok(result.ok);
      assert.equal(result.response.status, 'SERVING');
    }
  }));

test('a stale epoch is FAILED_PRECONDITION "stale leader", also after the agent restarts', () =>
  withAgent(async (agent, raw) => {
    assert.ok((await raw.call('GetState', {}, { epoch: '5' })).ok);
    const stale = failure(await raw.call('StartDataNode', start(), { epoch: '3', idempotencyKey: 'a' }));
    assert.equal(stale.code, status.FAILED_PRECONDITION);
    assert.match(stale.details, /^stale leader: epoch 3 < 5 seen/);
    assert.equal(stale.metadata.get(ERROR_REASON_METADATA)[0], 'STALE_LEADER');
    assert.equal(agent.backend.attempts('StartDataNode'), 0);
    assert.ok((await raw.call('GetState', {}, { epoch: '5' })).ok, 'the same epoch is accepted');

    await agent.restart();
    const after = new RawAgentClient(agent.endpoint);
    try {
      const again = failure(await after.call('GetState', {}, { epoch: '4' }));
      assert.equal(again.code, status.FAILED_PRECONDITION);
      assert.match(again.details, /stale leader: epoch 4 < 5 seen/);
      assert.ok((await after.call('GetState', {}, { epoch: '6' })).ok, 'a higher epoch is accepted');
    } finally {
      after.close();
    }
  }));

test('a missing or malformed epoch is INVALID_ARGUMENT naming coxswain-epoch', () =>
  withAgent(async (_agent, raw) => {
    for (const epoch of [undefined, 'abc', '-1', '1.5']) {
      const error = failure(await raw.call('GetState', {}, { epoch }));
      assert.equal(error.code, status.INVALID_ARGUMENT, String(epoch));
      assert.match(error.details, /^coxswain-epoch: /);
      assert.equal(detailsOf(error).field, 'coxswain-epoch');
    }
  }));

test('a repeated idempotency key runs the step once and answers the same response', () =>
  withAgent(async (agent, raw) => {
    const first = await raw.call('StartDataNode', start(), { idempotencyKey: 'job-1/1' });
    const second = await raw.call('StartDataNode', start(), { idempotencyKey: 'job-1/1' });
    assert.ok(first.ok && second.ok);
    assert.equal(agent.backend.executions('StartDataNode'), 1);
    assert.deepEqual(second.response, first.response);
    assert.equal(first.response.outcome?.changed, true);
    assert.deepEqual(first.response.outcome?.job, { jobId: 'job-1', stepId: '1' });
    assert.ok(agent.logs.some((l) => l.includes('Replayed StartDataNode from its idempotency record')));
  }));

test('the same idempotency key with a different request is INVALID_ARGUMENT', () =>
  withAgent(async (agent, raw) => {
    assert.ok((await raw.call('StartDataNode', start('a', 7000), { idempotencyKey: 'k1' })).ok);
    const error = failure(await raw.call('StartDataNode', start('b', 7001), { idempotencyKey: 'k1' }));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.match(error.details, /idempotency key reused for a different request/);
    assert.equal(detailsOf(error).field, 'coxswain-idempotency-key');
    assert.equal(agent.backend.executions('StartDataNode'), 1);
  }));

test('a mutating call without an idempotency key is INVALID_ARGUMENT', () =>
  withAgent(async (agent, raw) => {
    const error = failure(await raw.call('StartDataNode', start()));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.match(error.details, /^coxswain-idempotency-key: missing/);
    assert.equal(agent.backend.attempts('StartDataNode'), 0);
  }));

test('concurrent duplicate calls run the step once and all get its response', () =>
  withAgent(async (agent, raw) => {
    agent.backend.injectFault('StartDataNode', { kind: 'delay', ms: 150 });
    const results = await Promise.all([1, 2, 3].map(() => raw.call('StartDataNode', start(), { idempotencyKey: 'dup' })));
    assert.equal(agent.backend.attempts('StartDataNode'), 1);
    assert.equal(agent.backend.executions('StartDataNode'), 1);
    for (const r of results) {
      assert.ok(r.ok);
      assert.deepEqual(r.response, (results[0] as { response: unknown }).response);
    }
  }));

test('when the caller\'s deadline passes, the backend is aborted and the caller sees DEADLINE_EXCEEDED', () =>
  withAgent(async (agent, raw) => {
    assert.ok((await raw.call('GetState', {})).ok); // the epoch is recorded; the slow call only waits on the backend
    agent.backend.injectFault('StartDataNode', { kind: 'delay', ms: 10_000 });
    const began = Date.now();
    const error = failure(await raw.call('StartDataNode', start(), { idempotencyKey: 'slow' }, 400));
    assert.equal(error.code, status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - began < 5000);
    // The agent's own timer fires at the same deadline; give it a moment to abort.
    for (let i = 0; i < 200 && agent.backend.aborted('StartDataNode') === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(agent.backend.aborted('StartDataNode'), 1);
    assert.equal(agent.backend.executions('StartDataNode'), 0);
    // Not recorded: a retry with the same key runs the step.
    const retry = await raw.call('StartDataNode', start(), { idempotencyKey: 'slow' });
    assert.ok(retry.ok);
    assert.equal(agent.backend.executions('StartDataNode'), 1);
  }));

test('a call without a deadline is cut at the agent\'s maximum', () =>
  withAgent(
    async (agent, raw) => {
      agent.backend.injectFault('GetState', { kind: 'delay', ms: 5000 });
      const error = failure(await raw.call('GetState', {}, {}, 3000));
      assert.equal(error.code, status.DEADLINE_EXCEEDED);
      assert.match(error.details, /agent's maximum/);
      assert.equal(agent.backend.aborted('GetState'), 1);
    },
    { defaultDeadlineMs: 150 },
  ));

test('a malformed request is INVALID_ARGUMENT naming the field', () =>
  withAgent(async (agent, raw) => {
    const cases: [() => ReturnType<typeof raw.call>, string][] = [
      [() => raw.call('StartDataNode', { ...start(), port: 0 }, { idempotencyKey: 'f1' }), 'port'],
      [() => raw.call('StartDataNode', { ...start(), nodeId: '' }, { idempotencyKey: 'f2' }), 'node_id'],
      [() => raw.call('StartDataNode', { ...start(), job: null }, { idempotencyKey: 'f3' }), 'job'],
      [() => raw.call('StartDataNode', { ...start(), job: { jobId: '' } }, { idempotencyKey: 'f4' }), 'job.job_id'],
      [() => raw.call('JoinNode', { job: JOB, nodeId: 'a', role: 'JOIN_ROLE_REPLICA' }, { idempotencyKey: 'f5' }), 'replica_of'],
      [() => raw.call('MoveData', { job: JOB, sourceNodeId: 'a', target: { engineNodeId: 'x' } }, { idempotencyKey: 'f6' }), 'selection'],
      [
        () => raw.call('MoveData', { job: JOB, sourceNodeId: 'a', target: { engineNodeId: 'x' }, slots: { ranges: [{ start: 9, end: 3 }] } }, { idempotencyKey: 'f7' }),
        'slots.ranges[0].end',
      ],
      [() => raw.call('CreateBackup', { job: JOB, backupId: 'b1', sink: { local: { path: '' } } }, { idempotencyKey: 'f8' }), 'sink.local.path'],
    ];
    for (const [call, field] of cases) {
      const error = failure(await call());
      assert.equal(error.code, status.INVALID_ARGUMENT, field);
      assert.equal(detailsOf(error).field, field);
      assert.ok(error.details.startsWith(`${field}: `), error.details);
    }
    assert.equal(agent.backend.attempts('StartDataNode') + agent.backend.attempts('MoveData'), 0);
  }));

test('a request naming a data node the agent does not have is NOT_FOUND', () =>
  withAgent(async (agent, raw) => {
    const error = failure(await raw.call('StopDataNode', { job: JOB, nodeId: 'ghost' }, { idempotencyKey: 'nf' }));
    assert.equal(error.code, status.NOT_FOUND);
    assert.match(error.details, /data node "ghost" \(node_id\) is not on agent vm-1/);
    assert.equal(agent.backend.attempts('StopDataNode'), 0);
    const restore = failure(
      await raw.call('RestoreBackup', { job: JOB, backupId: 'b', sink: { local: { path: 'x' } }, nodeIds: ['ghost'] }, { idempotencyKey: 'nf2' }),
    );
    assert.equal(restore.code, status.NOT_FOUND);
    assert.match(restore.details, /node_ids\[0\]/);
  }));

test('backend preconditions come back as FAILED_PRECONDITION, recorded for the key', () =>
  withAgent(async (agent, raw) => {
    const v = failure(await raw.call('StartDataNode', { ...start(), version: '9.9' }, { idempotencyKey: 'p1' }));
    assert.equal(v.code, status.FAILED_PRECONDITION);
    assert.match(v.details, /version 9\.9 is not installed on this agent; call EnsureVersion first/);
    const again = failure(await raw.call('StartDataNode', { ...start(), version: '9.9' }, { idempotencyKey: 'p1' }));
    assert.equal(again.details, v.details);
    assert.equal(agent.backend.attempts('StartDataNode'), 1, 'the terminal outcome was replayed');
  }));

test('a transient backend failure is not recorded: a retry with the same key runs again', () =>
  withAgent(async (agent, raw) => {
    agent.backend.injectFault('EnsureVersion', { kind: 'fail', error: () => new UnavailableError('disk busy') });
    const first = failure(await raw.call('EnsureVersion', { job: JOB, version: '8.0' }, { idempotencyKey: 'ev' }));
    assert.equal(first.code, status.UNAVAILABLE);
    const second = await raw.call('EnsureVersion', { job: JOB, version: '8.0' }, { idempotencyKey: 'ev' });
    assert.ok(second.ok);
    assert.equal(agent.backend.attempts('EnsureVersion'), 2);
    assert.equal(agent.backend.executions('EnsureVersion'), 1);
  }));

test('GetState names the agent and zone from the daemon options', () =>
  withAgent(async (_agent, raw) => {
    assert.ok((await raw.call('StartDataNode', start(), { idempotencyKey: 's' })).ok);
    const result = await raw.call('GetState', {});
    assert.ok(result.ok);
    const state = result.response.state;
    assert.equal(state?.agentId, 'vm-1');
    assert.equal(state?.zone, 'zone-a');
    assert.equal(state?.dataNodes[0]?.id, 'ng0-r0');
    assert.equal(state?.dataNodes[0]?.role, 'NODE_ROLE_NONE');
    assert.equal(typeof state?.dataNodes[0]?.dataDirUsage?.availableBytes, 'string', '64-bit integers arrive as strings');
  }));

test('the cluster secret never appears in the log, whatever the calls', () =>
  withAgent(async (agent, raw) => {
    await raw.call('GetState', {});
    await raw.call('StartDataNode', start(), { idempotencyKey: 'log-1' });
    await raw.call('StartDataNode', start(), { idempotencyKey: 'log-1' });
    await raw.call('GetState', {}, { authorization: bearer('wrong-guess-of-the-secret') });
    await raw.call('StopDataNode', { job: JOB, nodeId: 'ghost' }, { idempotencyKey: 'log-2' });
    await raw.call('GetState', {}, { epoch: '0' });
    const text = agent.logs.join('');
    assert.ok(agent.logs.length > 10, 'debug lines were captured');
    assert.ok(text.includes('"authorization":"[Redacted]"'), 'call metadata is logged, redacted');
    assert.equal(text.includes(TEST_SECRET), false, 'the secret is not in the log');
    assert.equal(text.includes('wrong-guess-of-the-secret'), false, 'nor is a presented credential');
    for (const line of agent.logs) assert.doesNotThrow(() => JSON.parse(line), 'one JSON object per line');
  }));
