// coxswain wait against a fake leader whose statuses a test scripts. Each way of ending
// has its exit code: 0 at the desired state, 3 ERROR_STATE, 4 refused or ignored, 5
// time-out, 6 no leader. Without --id it waits for the newest edit of the file the
// leader follows, and never calls an ignored or refused edit reached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NoLeaderError } from '../leader/admin-client.ts';
import { FakeLeader, fakeStatus } from '../leader/test-fakes.ts';
import type { StatusFile } from '../model/status.ts';
import { memoryOutput } from './output.ts';
import { judge, makeWaitCommand, WAIT_EXIT } from './wait-command.ts';

function command(fake: FakeLeader, digestOnDisk: (file: string) => string | null | undefined = () => undefined): ReturnType<typeof makeWaitCommand> {
  return makeWaitCommand({ connect: () => Promise.resolve(fake), pollMs: 5, digestOnDisk });
}

function file(overrides: Partial<StatusFile> = {}): StatusFile {
  return { path: '/srv/cluster/desired_state.jsonc', id: 2, sha256: 'aaa', outcome: 'accepted', reason: null, readAt: '', ...overrides };
}

const IGNORED_REASON = 'desired_state.jsonc:11:9: error: $.id: id 5 is not greater than the accepted id 5, so this desired state is ignored\n   hint: set "id" to 6 or more';

test('the exit codes are distinct and documented in --help', () => {
  const codes = Object.values(WAIT_EXIT);
  assert.deepEqual(codes, [0, 1, 2, 3, 4, 5, 6]);
  const help = makeWaitCommand().help;
  for (const [code, words] of [[0, 'AT_DESIRED_STATE'], [1, 'any other failure'], [2, 'usage'], [3, 'ERROR_STATE'], [4, 'refused or ignored'], [5, 'time-out'], [6, 'no leader']] as const) {
    assert.match(help, new RegExp(`^  ${code}  .*${words}`, 'm'), `exit ${code} is documented`);
  }
});

test('judge --id: AT for the id (or later) is reached; working, an older id, or the id still waiting is not', () => {
  assert.deepEqual(judge(fakeStatus({ acceptedId: 2 }), 2), { done: true, code: 0, message: 'AT_DESIRED_STATE: desired state 2' });
  assert.equal(judge(fakeStatus({ acceptedId: 3 }), 2).done, true, 'a later id has passed 2');
  assert.equal(judge(fakeStatus({ acceptedId: 1 }), 2).done, false, 'AT for id 1 is not id 2');
  assert.equal(judge(fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 2 }), 2).done, false);
  assert.equal(judge(fakeStatus({ state: 'ERROR_STATE', acceptedId: 1, pendingId: 2 }), 2).done, false, 'an error of the old id: the pending one comes next');
  const refused = judge(fakeStatus({ acceptedId: 1, lastRefusal: { id: 2, reason: 'bad', at: '' } }), 2);
  assert.equal(refused.done && refused.code, WAIT_EXIT.refused);
});

test('judge without --id follows the file: its id, what became of it, and whether the leader read the latest save', () => {
  // The file holds id 2, accepted, not reached yet; then reached.
  assert.equal(judge(fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 2, file: file() }), undefined).done, false);
  assert.deepEqual(judge(fakeStatus({ acceptedId: 2, file: file() }), undefined, 'aaa'), { done: true, code: 0, message: 'AT_DESIRED_STATE: desired state 2' });
  // Pending behind id 1: AT for 1 is not the edit.
  assert.equal(judge(fakeStatus({ acceptedId: 1, pendingId: 2, file: file({ outcome: 'pending' }) }), undefined).done, false);
  // The file on disk is not what the leader read: the edit is not known yet, whatever the state.
  assert.equal(judge(fakeStatus({ acceptedId: 2, file: file() }), undefined, 'bbb').done, false);
  assert.equal(judge(fakeStatus({ acceptedId: 5, file: file({ id: 5, outcome: 'ignored', reason: IGNORED_REASON }) }), undefined, 'bbb').done, false);
  // Not read yet at all.
  assert.equal(judge(fakeStatus({ acceptedId: 1, file: null }), undefined).done, false);
  // A leader without a file (older status): the newest id it knows.
  assert.equal(judge(fakeStatus({ state: 'AT_DESIRED_STATE', acceptedId: 1, pendingId: 2 }), undefined).done, false);
  assert.equal(judge(fakeStatus({ acceptedId: null }), undefined).done, false);
});

test('judge: an ignored edit is never reached, even though the cluster is AT_DESIRED_STATE at that id', () => {
  const verdict = judge(fakeStatus({ acceptedId: 5, lastRefusal: { id: 5, reason: IGNORED_REASON, at: '' }, file: file({ id: 5, outcome: 'ignored', reason: IGNORED_REASON }) }), undefined, 'aaa');
  assert.equal(verdict.done, true);
  assert.ok(verdict.done);
  assert.equal(verdict.code, WAIT_EXIT.refused);
  assert.match(verdict.message, /^the edit in \/srv\/cluster\/desired_state\.jsonc was ignored: the file's id 5 is not higher than the accepted id 5: raise "id" to 6 or more and save it again; the cluster keeps desired state 5:\n.*:11:9: error: \$\.id/);
});

test('wait (no --id) on an edit saved without raising id: exit 4 saying it was ignored and how to fix it', async () => {
  const fake = new FakeLeader();
  fake.statuses = [fakeStatus({ acceptedId: 5, lastRefusal: { id: 5, reason: IGNORED_REASON, at: '' }, file: file({ id: 5, outcome: 'ignored', reason: IGNORED_REASON }) })];
  const io = memoryOutput();
  assert.equal(await command(fake, () => 'aaa').run([], io), WAIT_EXIT.refused);
  assert.doesNotMatch(io.stdout, /AT_DESIRED_STATE: desired state 5/);
  assert.match(io.stderr, /coxswain wait: the edit in \/srv\/cluster\/desired_state\.jsonc was ignored: the file's id 5 is not higher than the accepted id 5: raise "id" to 6 or more/);
  assert.match(io.stderr, /hint: set "id" to 6 or more/);
});

test('wait (no --id) waits for a save the leader has not read yet, then follows it to AT_DESIRED_STATE', async () => {
  const fake = new FakeLeader();
  fake.statuses = [
    // The leader still has the old text (digest aaa) at id 1; the file on disk is bbb.
    fakeStatus({ acceptedId: 1, file: file({ id: 1, sha256: 'aaa' }) }),
    fakeStatus({ acceptedId: 1, file: file({ id: 1, sha256: 'aaa' }) }),
    fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 2, file: file({ id: 2, sha256: 'bbb' }) }),
    fakeStatus({ acceptedId: 2, file: file({ id: 2, sha256: 'bbb' }) }),
  ];
  const io = memoryOutput();
  assert.equal(await command(fake, () => 'bbb').run([], io), 0, io.stderr);
  assert.match(io.stdout, /AT_DESIRED_STATE: desired state 2 \(waited/);
  assert.equal(fake.calls.length, 4, 'AT for the old text was not taken for the new one');
});

test('wait (no --id) on a refused edit of the file: exit 4 with the located reason', async () => {
  const fake = new FakeLeader();
  const reason = 'f.jsonc:9:24: error: $.replicationFactor: must be at most maxReplicationFactor (3), got 9';
  fake.statuses = [fakeStatus({ acceptedId: 1, lastRefusal: { id: 2, reason, at: '' }, file: file({ id: 2, outcome: 'refused', reason }) })];
  const io = memoryOutput();
  assert.equal(await command(fake).run([], io), WAIT_EXIT.refused);
  assert.match(io.stderr, /the edit in \/srv\/cluster\/desired_state\.jsonc \(id 2\) was refused; the cluster keeps desired state 1\. Fix the file and save it again:\nf\.jsonc:9:24: error: \$\.replicationFactor: must be at most maxReplicationFactor \(3\), got 9/);
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

test('ERROR_STATE for the id: exit 3 with the failing step and why', async () => {
  const fake = new FakeLeader();
  fake.statuses = [fakeStatus({ state: 'ERROR_STATE', acceptedId: 2, lastError: { step: 'join vm-3 as a primary via vm-1', reason: 'CLUSTER MEET timed out', attempts: 5, jobId: '12', at: '' } })];
  const io = memoryOutput();
  assert.equal(await command(fake).run(['--id', '2'], io), WAIT_EXIT.errorState);
  assert.match(io.stderr, /ERROR_STATE for desired state 2: join vm-3 as a primary via vm-1 failed 5 times \(job 12\): CLUSTER MEET timed out/);
});

test('a refused desired state --id: exit 4 with the reason', async () => {
  const fake = new FakeLeader();
  fake.statuses = [fakeStatus({ acceptedId: 1, lastRefusal: { id: 2, reason: 'f.jsonc:5:3: error: $.version: 8.0 → 7.0 is a downgrade', at: '' } })];
  const io = memoryOutput();
  assert.equal(await command(fake).run(['--id', '2'], io), WAIT_EXIT.refused);
  assert.match(io.stderr, /desired state 2 was refused; the cluster keeps desired state 1:\nf\.jsonc:5:3/);
});

test('time-out: exit 5 saying what it waited for and where the leader stands', async () => {
  const fake = new FakeLeader();
  fake.statuses = [fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 2 })];
  const io = memoryOutput();
  const started = Date.now();
  assert.equal(await command(fake).run(['--id', '2', '--timeout', '0.2'], io), WAIT_EXIT.timedOut);
  assert.ok(Date.now() - started >= 190, 'it waited the time-out');
  assert.ok(Date.now() - started < 2000);
  assert.match(io.stderr, /timed out after 0\.\d s waiting for desired state 2; the leader reports WORKING_TOWARDS_DESIRED_STATE at desired state 2/);
});

test('time-out on a save the leader never read: exit 5, and it says so', async () => {
  const fake = new FakeLeader();
  fake.statuses = [fakeStatus({ acceptedId: 1, file: file({ id: 1, sha256: 'aaa' }) })];
  const io = memoryOutput();
  assert.equal(await command(fake, () => 'bbb').run(['--timeout', '0.1'], io), WAIT_EXIT.timedOut);
  assert.match(io.stderr, /waiting for the leader to read the latest save of \/srv\/cluster\/desired_state\.jsonc/);
});

test('no leader running: exit 6 with how to start one; a leader that goes away mid-wait: 6 too', async () => {
  const io = memoryOutput();
  const none = makeWaitCommand({ connect: (dir) => Promise.reject(new NoLeaderError(dir)), pollMs: 5 });
  assert.equal(await none.run(['--state-dir', '/nowhere/state'], io), WAIT_EXIT.noLeader);
  assert.match(io.stderr, /no leader is running for \/nowhere\/state; start one with: coxswain up -f FILE/);

  const fake = new FakeLeader();
  fake.statuses = [fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 2 })];
  let calls = 0;
  fake.status = () => (++calls < 3 ? Promise.resolve(fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 2 })) : Promise.reject(new NoLeaderError('/s', 'its admin interface on port 1 does not answer')));
  const gone = memoryOutput();
  assert.equal(await command(fake).run(['--id', '2'], gone), WAIT_EXIT.noLeader);
  assert.match(gone.stderr, /does not answer/);
});

test('usage mistakes are usage errors', async () => {
  const fake = new FakeLeader();
  await assert.rejects(command(fake).run(['--timeout', 'soon'], memoryOutput()), /--timeout must be a number of seconds/);
  await assert.rejects(command(fake).run(['--id', 'x'], memoryOutput()), /--id must be a whole number/);
  assert.deepEqual(fake.calls, []);
});
