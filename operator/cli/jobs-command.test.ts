// coxswain jobs / job ID against a fake leader, and from the journal file when no
// leader runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { journalFile } from '../executor/journal-file.ts';
import { NoLeaderError } from '../leader/admin-client.ts';
import { FakeLeader, fakeJob } from '../leader/test-fakes.ts';
import { makeJobsCommands, openJournalFile } from './jobs-command.ts';
import { memoryOutput } from './output.ts';

function withLeader(fake: FakeLeader): ReturnType<typeof makeJobsCommands> {
  return makeJobsCommands({ connect: () => Promise.resolve(fake), openJournal: () => Promise.resolve(undefined) });
}

const failed = fakeJob({
  id: '2',
  intent: 'join vm-2 as a primary via vm-1',
  status: 'failed',
  error: 'CLUSTER MEET timed out after 60 s',
  commands: [
    { command: 'JoinNode on vm-2', attempt: 1, startedAt: '2025-01-01T00:00:02.000Z', endedAt: '2025-01-01T00:00:03.000Z', result: 'transient-error', output: 'deadline exceeded', reason: 'DEADLINE_EXCEEDED' },
    { command: 'JoinNode on vm-2', attempt: 2, startedAt: '2025-01-01T00:00:04.000Z', endedAt: '2025-01-01T00:00:05.000Z', result: 'terminal-error', output: 'refused', reason: 'FAILED_PRECONDITION' },
  ],
  stages: { submitted: '2025-01-01T00:00:01.500Z', scheduled: '2025-01-01T00:00:01.600Z', executed: '2025-01-01T00:00:02.000Z', finished: '2025-01-01T00:00:05.100Z' },
});

test('jobs lists id, status, time, duration, tries and intent; a failed job shows its error', async () => {
  const fake = new FakeLeader();
  fake.jobList = [fakeJob(), failed];
  const io = memoryOutput();
  assert.equal(await withLeader(fake).jobs.run([], io), 0);
  const lines = io.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^ID +STATUS +SUBMITTED +TOOK +TRIES +INTENT$/);
  assert.match(lines[1] ?? '', /^1 +succeeded +2025-01-01 00:00:00 +0\.4 s +1 +start data node vm-1/);
  assert.match(lines[2] ?? '', /^2 +failed +2025-01-01 00:00:01 +3\.6 s +2 +join vm-2 as a primary via vm-1$/);
  assert.equal(lines[3], '      error: CLUSTER MEET timed out after 60 s');

  const json = memoryOutput();
  await withLeader(fake).jobs.run(['--json'], json);
  assert.deepEqual((JSON.parse(json.stdout) as Array<{ id: string }>).map((j) => j.id), ['1', '2']);
});

test('job ID shows intent, why, stages and every command with its result; an unknown id exits 1', async () => {
  const fake = new FakeLeader();
  fake.jobList = [fakeJob(), failed];
  const io = memoryOutput();
  assert.equal(await withLeader(fake).job.run(['2'], io), 0);
  assert.match(io.stdout, /^job 2: failed\n {2}intent: join vm-2 as a primary via vm-1\n {2}why: /);
  assert.match(io.stdout, /error: CLUSTER MEET timed out/);
  assert.match(io.stdout, /submitted {2}2025-01-01T00:00:01\.500Z/);
  assert.match(io.stdout, /JoinNode on vm-2 — attempt 1, transient-error \(DEADLINE_EXCEEDED\), 1\.0 s\n {6}deadline exceeded/);
  assert.match(io.stdout, /attempt 2, terminal-error \(FAILED_PRECONDITION\)/);

  const missing = memoryOutput();
  assert.equal(await withLeader(fake).job.run(['99'], missing), 1);
  assert.match(missing.stderr, /no job 99 in .* \(jobs are 1 … 2\); run 'coxswain jobs'/);
});

test('a succeeded job whose effect never showed says so, in the list and in detail', async () => {
  const fake = new FakeLeader();
  const why = 'create backup b1 succeeded, but its effect was not visible 5.0 s later: wanted sink local:backups lists backup b1 as complete; observed sink local:backups lists none';
  fake.jobList = [fakeJob({ id: '3', intent: 'create backup b1 through vm-2', ineffective: why, stages: { submitted: '2025-01-01T00:00:00.900Z', finished: '2025-01-01T00:00:01.300Z' } })];
  const io = memoryOutput();
  assert.equal(await withLeader(fake).jobs.run([], io), 0);
  assert.equal(io.stdout.trimEnd().split('\n')[2], `      not visible: ${why}`);
  const one = memoryOutput();
  assert.equal(await withLeader(fake).job.run(['3'], one), 0);
  assert.match(one.stdout, /effect: never seen — create backup b1 succeeded, but its effect was not visible/);
});

test('with no leader, jobs reads the journal file; with neither, NoLeaderError', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-jobs-'));
  try {
    const gone = makeJobsCommands({ connect: (d) => Promise.reject(new NoLeaderError(d)), openJournal: openJournalFile });
    await assert.rejects(gone.jobs.run(['--state-dir', dir], memoryOutput()), NoLeaderError);

    const file = journalFile(dir);
    mkdirSync(path.dirname(file), { recursive: true });
    const running = fakeJob({ id: '2', status: 'running', stages: { submitted: '2025-01-01T00:00:01.000Z' } });
    writeFileSync(file, [fakeJob(), { ...running }, { ...running, status: 'abandoned' }].map((job) => JSON.stringify({ job })).join('\n') + '\n');
    const io = memoryOutput();
    assert.equal(await gone.jobs.run(['--state-dir', dir], io), 0);
    assert.match(io.stdout, /^2 +abandoned/m, 'the last line of a job wins');
    const one = memoryOutput();
    assert.equal(await gone.job.run(['1', '--state-dir', dir], one), 0);
    assert.match(one.stdout, /^job 1: succeeded/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
