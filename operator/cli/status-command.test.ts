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
      progress: { done: 1, total: 6, remaining: 5, current: ['make vm-2 a replica of vm-1'] },
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
  assert.match(out, /^ {2}progress: 1 step done, about 5 to go \(estimated from the current plan\)$/m);
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

test('a node whose agent does not answer is shown as last seen, not as a down data node; slots, backups and endpoints are shown', async () => {
  const fake = new FakeLeader();
  const status = fakeStatus({
    at: '2025-01-01T00:01:00.000Z',
    endpoints: ['127.0.0.1:7002'],
    backups: [
      { id: 'b1', sink: 'local:/backups', complete: true },
      { id: 'b2', sink: 'local:/backups', complete: false },
    ],
  });
  const group = status.nodeGroups[0]!;
  group.slots = [{ start: 0, end: 5460 }];
  group.nodes[0] = { ...group.nodes[0]!, up: false, agentUp: false, observed: false, lastObservedAt: '2025-01-01T00:00:18.000Z', notObservedSince: '2025-01-01T00:00:20.000Z', slots: [{ start: 0, end: 5460 }] };
  group.nodes[1] = { ...group.nodes[1]!, up: false, agentUp: false, observed: false, lastObservedAt: '2025-01-01T00:00:01.000Z', notObservedSince: '2025-01-01T00:00:50.000Z', slots: [] };
  status.agents[0] = { ...status.agents[0]!, up: false, vmState: 'running' };
  status.agents.push({ id: 'vm-3', endpoint: '127.0.0.1:7103', zone: 'zone-c', up: false, vmState: 'failed' });
  status.nodeGroups.push({ index: 1, slots: [{ start: 5461, end: 5470 }, { start: 6000, end: 6000 }], nodes: [{ id: 'vm-3', host: '127.0.0.1', port: 7003, role: 'unknown', version: '', up: false, agentUp: false, observed: false, lastObservedAt: null, slots: [] }] });
  fake.statuses = [status];
  const io = memoryOutput();
  await command(fake).run([], io);
  const out = io.stdout;
  assert.match(out, /^ {2}vm-1 {2}127\.0\.0\.1:7001 {2}primary {2}7\.0 {2}agent down — data node not observed since 2025-01-01T00:00:18\.000Z \(42 s before this status\)$/m);
  assert.doesNotMatch(out, /vm-1 .*7001.*DOWN/, 'not a down data node');
  // Seen last at 00:00:01, found unseen at 00:00:50: the status cannot say more precisely.
  assert.match(out, /^ {2}vm-2 {2}127\.0\.0\.1:7002 {2}replica {2}7\.0 {2}agent down — data node not observed since some time between 2025-01-01T00:00:01\.000Z and 2025-01-01T00:00:50\.000Z$/m);
  assert.match(out, /^ {2}vm-3 {2}127\.0\.0\.1:7003 {2}unknown {2}— {2}agent down \(VM failed\) — data node not observed by this leader$/m);
  assert.match(out, /^node group 0: slots 0-5460$/m);
  assert.match(out, /^node group 1: slots 5461-5470, 6000 \(11 slots\)$/m);
  assert.match(out, /^backups$/m);
  assert.match(out, /^ {2}b1 {2}local:\/backups {2}complete$/m);
  assert.match(out, /^ {2}b2 {2}local:\/backups {2}INCOMPLETE$/m);
  assert.match(out, /^ {2}endpoints: 127\.0\.0\.1:7002 {2}\(seed a cluster-aware client with several; any one may be removed by scaling in\)$/m);
  assert.match(out, /^ {2}vm-1 {2}127\.0\.0\.1:7101 {2}zone-a {2}DOWN$/m);
});

test('status --endpoints prints the seed endpoints one a line; none serving is exit 1 with what to do', async () => {
  const fake = new FakeLeader();
  fake.statuses = [fakeStatus({ endpoints: ['127.0.0.1:7002', '127.0.0.1:7003', '127.0.0.1:7004'] })];
  const io = memoryOutput();
  assert.equal(await command(fake).run(['--endpoints'], io), 0);
  assert.equal(io.stdout, '127.0.0.1:7002\n127.0.0.1:7003\n127.0.0.1:7004\n');
  fake.statuses = [fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', endpoints: [] })];
  const none = memoryOutput();
  assert.equal(await command(fake).run(['--endpoints'], none), 1);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^coxswain status: no data node of cluster demo is seen serving \(state WORKING_TOWARDS_DESIRED_STATE\); wait for it with 'coxswain wait'/);
  await assert.rejects(command(fake).run(['--endpoints', '--json'], memoryOutput()), /--json and --endpoints exclude each other/);
});
