// coxswain wait against a fake leader whose statuses a test scripts: exit 0 at the
// desired state for the id, 1 on ERROR_STATE, on refusal of the id and on time-out;
// an older id's AT_DESIRED_STATE is not taken for the new one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeLeader, fakeStatus } from '../leader/test-fakes.ts';
import { memoryOutput } from './output.ts';
import { judge, makeWaitCommand } from './wait-command.ts';

function command(fake: FakeLeader): ReturnType<typeof makeWaitCommand> {
  return makeWaitCommand({ connect: () => Promise.resolve(fake), pollMs: 5 });
}

test('judge: AT for the id (or later) is done; working, an older id, or the id still waiting is not', () => {
  assert.deepEqual(judge(fakeStatus({ acceptedId: 2 }), 2), { done: true, ok: true, message: 'AT_DESIRED_STATE: desired state 2' });
  assert.equal(judge(fakeStatus({ acceptedId: 3 }), 2).done, true, 'a later id has passed 2');
  assert.equal(judge(fakeStatus({ acceptedId: 1 }), 2).done, false, 'AT for id 1 is not id 2');
  assert.equal(judge(fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 2 }), 2).done, false);
  assert.equal(judge(fakeStatus({ state: 'AT_DESIRED_STATE', acceptedId: 1, pendingId: 2 }), undefined).done, false, 'without --id, the waiting id is the target');
  assert.equal(judge(fakeStatus({ state: 'ERROR_STATE', acceptedId: 1, pendingId: 2 }), 2).done, false, 'an error of the old id: the pending one comes next');
  assert.equal(judge(fakeStatus({ acceptedId: null }), undefined).done, false);
  const refused = judge(fakeStatus({ acceptedId: 1, lastRefusal: { id: 2, reason: 'bad', at: '' } }), 2);
  assert.equal(refused.done && !refused.ok, true);
});

test('wait --id 2 follows the leader through WORKING to AT_DESIRED_STATE: exit 0, one line per change', async () => {
  const fake = new FakeLeader();
  fake.statuses = [
    fakeStatus({ acceptedId: 1 }),
    fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 2, progress: { done: 0, total: 2, current: ['create VM vm-3'] } }),
    fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 2, progress: { done: 0, total: 2, current: ['create VM vm-3'] } }),
    // Only the estimate changes: no new line.
    fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 2, progress: { done: 0, total: 5, current: ['create VM vm-3'] } }),
    fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 2, progress: { done: 1, total: 2, current: ['start data node vm-3'] } }),
    fakeStatus({ acceptedId: 2 }),
  ];
  const io = memoryOutput();
  assert.equal(await command(fake).run(['--id', '2'], io), 0, io.stderr);
  const lines = io.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(0, 3), [
    'AT_DESIRED_STATE  desired state 1',
    'WORKING_TOWARDS_DESIRED_STATE  desired state 2  0 steps done of about 2 (estimate) — now: create VM vm-3',
    'WORKING_TOWARDS_DESIRED_STATE  desired state 2  1 step done of about 2 (estimate) — now: start data node vm-3',
  ]);
  assert.match(lines[3] ?? '', /^AT_DESIRED_STATE: desired state 2 \(waited \d+\.\d s\)$/);
  assert.equal(lines.length, 4);
});

test('ERROR_STATE for the id: exit 1 with the failing step and why', async () => {
  const fake = new FakeLeader();
  fake.statuses = [fakeStatus({ state: 'ERROR_STATE', acceptedId: 2, lastError: { step: 'join vm-3 as a primary via vm-1', reason: 'CLUSTER MEET timed out', attempts: 5, jobId: '12', at: '' } })];
  const io = memoryOutput();
  assert.equal(await command(fake).run(['--id', '2'], io), 1);
  assert.match(io.stderr, /ERROR_STATE for desired state 2: join vm-3 as a primary via vm-1 failed 5 times \(job 12\): CLUSTER MEET timed out/);
});

test('a refused desired state: exit 1 with the reason', async () => {
  const fake = new FakeLeader();
  fake.statuses = [fakeStatus({ acceptedId: 1, lastRefusal: { id: 2, reason: 'f.jsonc:5:3: error: $.version: 8.0 → 7.0 is a downgrade', at: '' } })];
  const io = memoryOutput();
  assert.equal(await command(fake).run(['--id', '2'], io), 1);
  assert.match(io.stderr, /desired state 2 was refused; the cluster keeps desired state 1:\nf\.jsonc:5:3/);
});

test('time-out: exit 1 saying what it waited for and where the leader stands', async () => {
  const fake = new FakeLeader();
  fake.statuses = [fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 2 })];
  const io = memoryOutput();
  const started = Date.now();
  assert.equal(await command(fake).run(['--id', '2', '--timeout', '0.2'], io), 1);
  assert.ok(Date.now() - started >= 190, 'it waited the time-out');
  assert.ok(Date.now() - started < 2000);
  assert.match(io.stderr, /timed out after 0\.\d s waiting for desired state 2; the leader reports WORKING_TOWARDS_DESIRED_STATE at desired state 2/);
});

test('usage mistakes are usage errors', async () => {
  const fake = new FakeLeader();
  await assert.rejects(command(fake).run(['--timeout', 'soon'], memoryOutput()), /--timeout must be a number of seconds/);
  await assert.rejects(command(fake).run(['--id', 'x'], memoryOutput()), /--id must be a whole number/);
  assert.deepEqual(fake.calls, []);
});
