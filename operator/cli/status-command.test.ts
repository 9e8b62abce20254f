// coxswain status against a fake leader: the text a person reads, the JSON keys of the
// contract, and "no leader" as the error that says how to start one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NoLeaderError } from '../leader/admin-client.ts';
import { FakeLeader, fakeStatus } from '../leader/test-fakes.ts';
import { hasStackTrace, runCli } from '../../test/support/run-cli.ts';
import { memoryOutput } from './output.ts';
import { makeStatusCommand } from './status-command.ts';

function command(fake: FakeLeader, dirs: string[] = []): ReturnType<typeof makeStatusCommand> {
  return makeStatusCommand({
    connect: (dir) => {
      dirs.push(dir);
      return Promise.resolve(fake);
    },
  });
}

test('status prints the state, ids, progress, error, refusal, node groups and agents', async () => {
  const fake = new FakeLeader();
  fake.statuses = [
    fakeStatus({
      state: 'WORKING_TOWARDS_DESIRED_STATE',
      acceptedId: 3,
      pendingId: 4,
      progress: { done: 1, total: 6, current: ['make vm-2 a replica of vm-1'] },
      lastError: { step: 'stop data node vm-2', reason: 'DEADLINE_EXCEEDED: the agent did not answer', attempts: 2, jobId: '9', at: '2025-01-01T00:00:09Z' },
      lastRefusal: { id: 5, reason: 'f.jsonc:2:3: error: $.name: cannot change', at: '2025-01-01T00:00:10Z' },
    }),
  ];
  const io = memoryOutput();
  const dirs: string[] = [];
  assert.equal(await command(fake, dirs).run(['--state-dir', 'some/dir'], io), 0);
  assert.deepEqual(dirs, [path.resolve('some/dir')]);
  const out = io.stdout;
  assert.match(out, /^cluster demo: WORKING_TOWARDS_DESIRED_STATE$/m);
  assert.match(out, /desired state: 3 accepted; 4 waiting/);
  assert.match(out, /progress: step 2 of 6/);
  assert.match(out, /now: make vm-2 a replica of vm-1/);
  assert.match(out, /last error: stop data node vm-2 — failed 2 times \(job 9: coxswain job 9\)/);
  assert.match(out, /DEADLINE_EXCEEDED: the agent did not answer/);
  assert.match(out, /last refused edit \(id 5\).*keeps desired state 3/);
  assert.match(out, /^node group 0$/m);
  assert.match(out, /^ {2}vm-1 {2}127\.0\.0\.1:7001 {2}primary {2}7\.0 {2}up$/m);
  assert.match(out, /^ {2}vm-2 {2}127\.0\.0\.1:7002 {2}replica {2}7\.0 {2}up$/m);
  assert.match(out, /^agents$/m);
  assert.match(out, /^ {2}vm-1 {2}127\.0\.0\.1:7101 {2}zone-a {2}up$/m);
});

test('a node or agent that is down is shown in capitals; ids sort naturally', async () => {
  const fake = new FakeLeader();
  const status = fakeStatus();
  status.nodeGroups[0]!.nodes[1]!.up = false;
  status.agents[1]!.up = false;
  status.agents.unshift({ id: 'vm-10', endpoint: '127.0.0.1:7110', zone: 'zone-c', up: true });
  fake.statuses = [status];
  const io = memoryOutput();
  await command(fake).run([], io);
  assert.match(io.stdout, /vm-2 .*\n {2}vm-10 /, 'ids in natural order: vm-2 before vm-10');
  assert.match(io.stdout, /vm-2 {2}127\.0\.0\.1:7002 {2}replica {2}7\.0 {2}DOWN/);
  assert.match(io.stdout, /vm-2 +127\.0\.0\.1:7102 {2}zone-b {2}DOWN/);
});

test('status --json has the keys of the command-line contract', async () => {
  const fake = new FakeLeader();
  const io = memoryOutput();
  assert.equal(await command(fake).run(['--json'], io), 0);
  const json = JSON.parse(io.stdout) as Record<string, unknown>;
  for (const key of ['state', 'acceptedId', 'pendingId', 'lastError', 'nodeGroups', 'agents']) assert.ok(key in json, `missing ${key}`);
  const groups = json['nodeGroups'] as Array<{ nodes: Array<Record<string, unknown>> }>;
  assert.deepEqual(Object.keys(groups[0]!.nodes[0]!).sort(), ['host', 'id', 'port', 'role', 'up', 'version']);
  const agents = json['agents'] as Array<Record<string, unknown>>;
  assert.deepEqual(Object.keys(agents[0]!).sort(), ['endpoint', 'id', 'up', 'zone']);
});

test('with no leader: the command fails with NoLeaderError; the binary says how to start one, exit 1, no stack trace', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-status-'));
  try {
    await assert.rejects(makeStatusCommand().run(['--state-dir', dir], memoryOutput()), NoLeaderError);
    const run = await runCli(['status', '--state-dir', dir]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^coxswain status: no leader is running for .*coxswain-status-.*; start one with: coxswain up -f FILE --state-dir /);
    assert.equal(hasStackTrace(run.stderr), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
