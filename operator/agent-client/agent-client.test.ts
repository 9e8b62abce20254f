// The leader's client against a real agent (loopback gRPC, fake backend).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { AgentClient, AgentClientOptionsError } from './agent-client.ts';
import type { AgentClientOptions } from './agent-client.ts';
import { JOB, TEST_SECRET, startTestAgent } from '../../agent/test-harness.ts';
import type { TestAgent } from '../../agent/test-harness.ts';
import {
  AGENT_UNREACHABLE,
  DeadlineExceededError,
  InvalidArgumentError,
  NotFoundError,
  StaleLeaderError,
  UnauthenticatedError,
  UnavailableError,
} from '../../proto/status.ts';
import type { AgentState__Output } from '../../proto/generated/coxswain/agent/v1/AgentState.ts';

async function withClient(
  fn: (client: AgentClient, agent: TestAgent, logs: string[]) => Promise<void>,
  options: Partial<AgentClientOptions> = {},
): Promise<void> {
  const agent = await startTestAgent({ watchIntervalMs: 5000 });
  const logs: string[] = [];
  const client = new AgentClient({
    endpoint: agent.endpoint,
    secret: TEST_SECRET,
    epoch: () => 1,
    retryDelaysMs: [10, 20],
    logger: pino({ level: 'debug' }, { write: (l: string) => void logs.push(l) }),
    ...options,
  });
  try {
    await fn(client, agent, logs);
  } finally {
    client.close();
    await agent.close();
  }
}

const start = (nodeId = 'ng0-r0', port = 7000) => ({ job: JOB, nodeId, port, version: '7.0', nodeGroup: 0 });

test('the options are validated, every problem listed', () => {
  assert.throws(
    () => new AgentClient({ endpoint: '', secret: '', epoch: undefined as unknown as () => number, maxAttempts: 0, jitter: 2 }),
    (err: unknown) => err instanceof AgentClientOptionsError && err.problems.length === 5,
  );
});

test('calls return typed responses with the outcome of the step', () =>
  withClient(async (client) => {
    await client.ensureVersion({ job: JOB, version: '8.0' });
    const started = await client.startDataNode(start());
    assert.equal(started.outcome?.changed, true);
    assert.equal(started.outcome?.job?.jobId, 'job-1');
    assert.equal(started.node?.up, true);
    const joined = await client.joinNode({ job: JOB, nodeId: 'ng0-r0', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [{ start: 0, end: 99 }] });
    assert.deepEqual(joined.node?.slots, [{ start: 0, end: 99 }]);
    const state = (await client.getState()).state;
    assert.deepEqual(state?.installedVersions.map((v) => v.version), ['7.0', '8.0']);
    assert.equal(state?.dataNodes[0]?.role, 'NODE_ROLE_PRIMARY');
  }));

test('a transient failure is retried with the same idempotency key, and the step runs once', () =>
  withClient(async (client, agent, logs) => {
    agent.backend.injectFault('StartDataNode', { kind: 'fail', error: () => new UnavailableError('engine busy'), times: 2 });
    const response = await client.startDataNode(start());
    assert.equal(response.outcome?.changed, true);
    assert.equal(agent.backend.attempts('StartDataNode'), 3);
    assert.equal(agent.backend.executions('StartDataNode'), 1);
    const keys = agent.backend.keys('StartDataNode');
    assert.equal(new Set(keys).size, 1, `one key on every attempt: ${keys.join(', ')}`);
    assert.equal(logs.filter((l) => l.includes('Retrying StartDataNode')).length, 2);
    assert.equal(logs.join('').includes(TEST_SECRET), false);
  }));

test('an agent that does not run (nothing listens on its port): UNAVAILABLE with reason AGENT_UNREACHABLE, after the retries', async () => {
  const agent = await startTestAgent({ watchIntervalMs: 5000 });
  const endpoint = agent.endpoint;
  await agent.close();
  const client = new AgentClient({ endpoint, secret: TEST_SECRET, epoch: () => 1, retryDelaysMs: [10, 20], maxAttempts: 3 });
  try {
    await assert.rejects(client.startDataNode(start()), (err: unknown) => {
      assert.ok(err instanceof UnavailableError, String(err));
      assert.equal(err.reason, AGENT_UNREACHABLE);
      assert.match(err.message, /the agent does not answer: No connection established/);
      return true;
    });
  } finally {
    client.close();
  }
});

test('a retry after a deadline reuses the key; the step runs once', () =>
  withClient(
    async (client, agent) => {
      agent.backend.injectFault('StartDataNode', { kind: 'delay', ms: 10_000 });
      const response = await client.startDataNode(start(), { idempotencyKey: 'job-7/2' });
      assert.equal(response.outcome?.changed, true);
      const keys = agent.backend.keys('StartDataNode');
      assert.ok(keys.length >= 2 && keys.every((k) => k === 'job-7/2'), keys.join(', '));
      assert.equal(agent.backend.executions('StartDataNode'), 1);
    },
    { deadlineMs: 400 },
  ));

test('retries stop after maxAttempts, with the last error typed', () =>
  withClient(
    async (client, agent) => {
      agent.backend.injectFault('GetState', { kind: 'fail', error: () => new UnavailableError('down'), times: 5 });
      await assert.rejects(client.getState(), UnavailableError);
      assert.equal(agent.backend.attempts('GetState'), 3);
    },
    { maxAttempts: 3 },
  ));

test('a deadline with no retries left is DeadlineExceededError', () =>
  withClient(
    async (client, agent) => {
      agent.backend.injectFault('GetState', { kind: 'delay', ms: 5000 });
      await assert.rejects(client.getState(), DeadlineExceededError);
    },
    { deadlineMs: 100, maxAttempts: 1 },
  ));

test('terminal errors are not retried and arrive as their classes', () =>
  withClient(async (client, agent) => {
    await assert.rejects(client.stopDataNode({ job: JOB, nodeId: 'ghost' }), NotFoundError);
    await assert.rejects(client.startDataNode({ ...start(), port: 0 }), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.equal(err.field, 'port');
      return true;
    });
    assert.equal(agent.backend.attempts('StartDataNode'), 0);

    const newer = new AgentClient({ endpoint: agent.endpoint, secret: TEST_SECRET, epoch: () => 9 });
    const wrong = new AgentClient({ endpoint: agent.endpoint, secret: 'not-the-secret', epoch: () => 9 });
    try {
      await newer.getState();
      await assert.rejects(client.getState(), (err: unknown) => {
        assert.ok(err instanceof StaleLeaderError);
        assert.equal(err.presentedEpoch, 1);
        assert.equal(err.seenEpoch, 9);
        return true;
      });
      await assert.rejects(wrong.getState(), UnauthenticatedError);
    } finally {
      newer.close();
      wrong.close();
    }
  }));

test('the epoch provider is asked on every attempt', () =>
  withClient(async (_client, agent) => {
    let epoch = 1;
    const client = new AgentClient({ endpoint: agent.endpoint, secret: TEST_SECRET, epoch: () => epoch++, retryDelaysMs: [5] });
    try {
      agent.backend.injectFault('GetState', { kind: 'fail', error: () => new UnavailableError('x'), times: 2 });
      await client.getState();
      assert.equal(epoch, 4);
    } finally {
      client.close();
    }
  }));

async function nextState(iterator: AsyncIterator<AgentState__Output>): Promise<AgentState__Output> {
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no state update within 3 s')), 3000).unref());
  const next = await Promise.race([iterator.next(), timeout]);
  assert.equal(next.done, false);
  return next.value as AgentState__Output;
}

test('WatchState: a snapshot, then patches that, applied, equal GetState', () =>
  withClient(async (client, agent) => {
    const controller = new AbortController();
    const watch = client.watchState({ signal: controller.signal });
    try {
      const snapshot = await nextState(watch);
      assert.deepEqual(snapshot, (await client.getState()).state);
      assert.equal(snapshot.dataNodes.length, 0);

      const steps: (() => Promise<unknown>)[] = [
        () => client.startDataNode(start('ng0-r0', 7000)),
        () => client.startDataNode({ ...start('ng0-r1', 7001), engineParams: { 'maxmemory-policy': 'noeviction' } }),
        () => client.joinNode({ job: JOB, nodeId: 'ng0-r0', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [{ start: 0, end: 16383 }] }),
        () => client.joinNode({ job: JOB, nodeId: 'ng0-r1', role: 'JOIN_ROLE_REPLICA', replicaOf: { engineNodeId: agent.backend.node('ng0-r0')?.engineNodeId ?? '' } }),
        () => client.failover({ job: JOB, nodeId: 'ng0-r1' }),
        () => client.createBackup({ job: JOB, backupId: 'b1', sink: { local: { path: 'backups' } } }),
        async () => agent.backend.crashNode('ng0-r0'), // a change no RPC made
        () => client.stopDataNode({ job: JOB, nodeId: 'ng0-r1' }),
      ];
      for (const step of steps) {
        await step();
        const patched = await nextState(watch);
        assert.deepEqual(patched, (await client.getState()).state);
      }
      const final = (await client.getState()).state;
      assert.equal(final?.dataNodes.find((n) => n.id === 'ng0-r1')?.up, false);
      assert.equal(final?.backups[0]?.backupId, 'b1');
    } finally {
      controller.abort();
      await watch.return(undefined);
    }
  }));

test('WatchState with a wrong secret ends with UnauthenticatedError', () =>
  withClient(async (_client, agent) => {
    const wrong = new AgentClient({ endpoint: agent.endpoint, secret: 'wrong', epoch: () => 1 });
    try {
      await assert.rejects(wrong.watchState().next(), UnauthenticatedError);
    } finally {
      wrong.close();
    }
  }));

test('WatchState reconnects, with a new snapshot, after the agent restarts', () =>
  withClient(
    async (client, agent, logs) => {
      const controller = new AbortController();
      const watch = client.watchState({ signal: controller.signal });
      try {
        assert.equal((await nextState(watch)).dataNodes.length, 0);
        await agent.restart(); // the stream ends with UNAVAILABLE; the agent comes back on the same port
        await client.startDataNode(start());
        let state = await nextState(watch);
        // The first state after the reconnection may predate the step; the next one has it.
        if (state.dataNodes.length === 0) state = await nextState(watch);
        assert.equal(state.dataNodes[0]?.id, 'ng0-r0');
        assert.ok(logs.some((l) => l.includes('Lost the state stream of agent')));
      } finally {
        controller.abort();
        await watch.return(undefined);
      }
    },
    { retryDelaysMs: [50, 100], maxAttempts: 20 },
  ));
