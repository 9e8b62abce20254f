// The agent daemon: options, listening, health, restart on the same data dir, stop.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { AgentOptionsError, resolveAgentOptions, startAgent } from './daemon.ts';
import { FakeBackend } from './fake-backend.ts';
import { JOB, RawAgentClient, TEST_SECRET, startTestAgent } from './test-harness.ts';
import { createAgentLogger } from './server/logger.ts';
import { pino } from 'pino';

test('resolveAgentOptions fills in the defaults', () => {
  const o = resolveAgentOptions({ dataDir: 'd', secretFile: 's', agentId: 'vm-1', zone: 'zone-a', backend: new FakeBackend() });
  assert.equal(o.host, '127.0.0.1');
  assert.equal(o.port, 0);
  assert.equal(o.defaultDeadlineMs, 600_000);
  assert.equal(o.idempotencyRetentionMs, 86_400_000);
  assert.equal(o.shutdownTimeoutMs, 5000);
  assert.ok(path.isAbsolute(o.dataDir) && path.isAbsolute(o.secretFile));
});

test('resolveAgentOptions lists every problem at once', () => {
  assert.throws(
    () =>
      resolveAgentOptions({
        port: 70000,
        dataDir: '',
        secretFile: 's',
        agentId: 'VM_1',
        zone: '',
        backend: {} as FakeBackend,
        defaultDeadlineMs: 0,
      }),
    (err: unknown) => {
      assert.ok(err instanceof AgentOptionsError);
      const text = err.problems.join('\n');
      for (const name of ['port:', 'dataDir:', 'agentId:', 'zone:', 'backend:', 'defaultDeadlineMs:']) assert.ok(text.includes(name), name);
      assert.equal(err.problems.length, 6);
      return true;
    },
  );
});

test('the agent listens on a loopback port chosen by the OS', async () => {
  const t = await startTestAgent();
  try {
    assert.ok(t.agent.port > 0);
    assert.equal(t.agent.endpoint, `127.0.0.1:${t.agent.port}`);
  } finally {
    await t.close();
  }
});

test('a secret file readable by others is accepted with a warning that says what to do', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'coxswain-daemon-test-'));
  const secretFile = path.join(root, 'secret');
  await writeFile(secretFile, TEST_SECRET);
  await chmod(secretFile, 0o644);
  const logs: string[] = [];
  const agent = await startAgent({
    dataDir: path.join(root, 'data'),
    secretFile,
    agentId: 'vm-2',
    zone: 'zone-b',
    backend: new FakeBackend(),
    logger: createAgentLogger({ destination: { write: (l: string) => void logs.push(l) } }),
  });
  try {
    const warning = logs.find((l) => l.includes('chmod 600'));
    assert.ok(warning, 'warned about the mode');
    assert.match(warning, /"mode":"0644"/);
  } finally {
    await agent.stop();
    await rm(root, { recursive: true, force: true });
  }
});

test('an agent that cannot read its secret does not start, and says why', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'coxswain-daemon-test-'));
  try {
    await assert.rejects(
      startAgent({
        dataDir: path.join(root, 'data'),
        secretFile: path.join(root, 'missing'),
        agentId: 'vm-3',
        zone: 'z',
        backend: new FakeBackend(),
        logger: createAgentLogger({ level: 'silent' }),
      }),
      /cannot read the cluster secret file .*missing \(ENOENT\)/,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('recorded idempotency keys survive an agent restart', async () => {
  const t = await startTestAgent();
  try {
    const request = { job: JOB, nodeId: 'n1', port: 7001, version: '7.0' };
    let raw = new RawAgentClient(t.endpoint);
    const first = await raw.call('StartDataNode', request, { idempotencyKey: 'restart-key' });
    raw.close();
    await t.restart();
    raw = new RawAgentClient(t.endpoint);
    const second = await raw.call('StartDataNode', request, { idempotencyKey: 'restart-key' });
    raw.close();
    assert.ok(first.ok && second.ok);
    assert.deepEqual(second.response, first.response);
    assert.equal(t.backend.executions('StartDataNode'), 1);
  } finally {
    await t.close();
  }
});

test('stopping turns health NOT_SERVING and lets a running call finish', async () => {
  const t = await startTestAgent({ shutdownTimeoutMs: 3000 });
  const client = new grpc.Client(t.endpoint, grpc.credentials.createInsecure());
  const raw = new RawAgentClient(t.endpoint);
  try {
    const watch = healthService.Watch;
    assert.ok(watch);
    const stream = client.makeServerStreamRequest(watch.path, watch.requestSerialize, watch.responseDeserialize, { service: '' }, new grpc.Metadata());
    stream.on('error', () => undefined);
    const statuses: string[] = [];
    const seen = new Promise<void>((resolve) =>
      stream.on('data', (m: { status: string }) => {
        statuses.push(m.status);
        if (m.status === 'NOT_SERVING') resolve();
      }),
    );
    while (statuses.length === 0) await new Promise((r) => setTimeout(r, 5));

    t.backend.injectFault('GetState', { kind: 'delay', ms: 300 });
    const slow = raw.call('GetState', {});
    while (t.backend.attempts('GetState') === 0) await new Promise((r) => setTimeout(r, 5));
    const stopping = t.agent.stop();
    await seen;
    stream.cancel();
    assert.deepEqual(statuses, ['SERVING', 'NOT_SERVING']);
    const result = await slow;
    assert.ok(result.ok, 'the running call finished');
    await stopping;
  } finally {
    client.close();
    raw.close();
    await t.close();
  }
});

test('a call still running when the shutdown time is up is interrupted', async () => {
  const t = await startTestAgent({ shutdownTimeoutMs: 200 });
  const raw = new RawAgentClient(t.endpoint);
  try {
    t.backend.injectFault('GetState', { kind: 'delay', ms: 10_000 });
    const slow = raw.call('GetState', {});
    while (t.backend.attempts('GetState') === 0) await new Promise((r) => setTimeout(r, 5));
    const began = Date.now();
    await t.agent.stop();
    assert.ok(Date.now() - began < 5000, 'stop() did not wait for the slow call');
    const result = await slow;
    assert.equal(result.ok, false);
    assert.equal(t.backend.aborted('GetState'), 1, 'the backend saw the abort');
  } finally {
    raw.close();
    await t.close();
  }
});

test('a logger given without redaction still never prints the secret', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'coxswain-daemon-test-'));
  const secretFile = path.join(root, 'secret');
  await writeFile(secretFile, TEST_SECRET, { mode: 0o600 });
  const lines: string[] = [];
  const agent = await startAgent({
    dataDir: path.join(root, 'data'),
    secretFile,
    agentId: 'vm-4',
    zone: 'z',
    backend: new FakeBackend(),
    logger: pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) }),
  });
  const raw = new RawAgentClient(agent.endpoint);
  try {
    assert.ok((await raw.call('GetState', {})).ok);
    assert.ok(lines.some((l) => l.includes('Received GetState')));
    assert.equal(lines.join('').includes(TEST_SECRET), false);
  } finally {
    raw.close();
    await agent.stop();
    await rm(root, { recursive: true, force: true });
  }
});
