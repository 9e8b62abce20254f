import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, writeFile, mkdir, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { pino, type Logger } from 'pino';
import type { Job, Journal } from '../ports/journal.ts';
import { FileJournal, journalFile, listJournalFile } from './journal-file.ts';
import { MemoryJournal } from './journal-memory.ts';
import { FactsFileError, FileFactsStore, MemoryFactsStore, factsFile } from './facts-store.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'coxswain-journal-'));
  dirs.push(d);
  return d;
}

function job(id: string, over: Partial<Job> = {}): Job {
  return {
    id,
    intent: `delete VM vm-${id}`,
    source: 'reconcile desired state 1',
    why: 'test',
    desiredId: 1,
    epoch: 1,
    step: { kind: 'deleteVm', vmId: `vm-${id}` },
    commands: [],
    stages: { submitted: '2025-01-01T00:00:00.000Z' },
    status: 'running',
    ...over,
  };
}

/** A logger that keeps what it was told. */
function recordingLogger(): { logger: Logger; lines: { msg: string }[] } {
  const lines: { msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string }) });
  return { logger, lines };
}

async function contract(make: () => Promise<Journal>): Promise<void> {
  const j = await make();
  const a = await j.nextId();
  const b = await j.nextId();
  assert.deepEqual([a, b], ['1', '2']);
  await j.record(job(a));
  await j.record(job(b));
  // A list taken before a job's next state must not hide that state (a cache of the
  // sorted jobs once kept the old one: `coxswain jobs` showed a finished job running).
  assert.deepEqual((await j.list()).map((x) => x.status), ['running', 'running']);
  await j.record(job(a, { status: 'succeeded', stages: { submitted: 'x', finished: 'y' } }));
  const list = await j.list();
  assert.deepEqual(
    list.map((x) => [x.id, x.status]),
    [
      ['1', 'succeeded'],
      ['2', 'running'],
    ],
    'the last record of an id wins; jobs in id order',
  );
  assert.equal((await j.get('1'))?.stages.finished, 'y');
  assert.equal(await j.get('3'), undefined);
  // What a caller holds is a copy: changing it changes nothing recorded.
  const got = await j.get('2');
  assert.ok(got);
  got.status = 'failed';
  assert.equal((await j.get('2'))?.status, 'running');
}

test('memory journal: latest state per id, ids in order, copies', async () => {
  await contract(() => Promise.resolve(new MemoryJournal()));
});

test('file journal: the same contract, one JSON line per event', async () => {
  const dir = await tempDir();
  const file = journalFile(dir);
  await contract(() => FileJournal.open(file));
  const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { job: Job }).job.status),
    ['running', 'running', 'succeeded'],
  );
  assert.equal(file, path.join(dir, 'journal', 'jobs.jsonl'));
});

test('file journal: ids stay monotonic across a reopen (a restarted leader)', async () => {
  const file = journalFile(await tempDir());
  const first = await FileJournal.open(file);
  for (let i = 0; i < 3; i++) await first.record(job(await first.nextId()));
  await first.close();
  const second = await FileJournal.open(file);
  assert.equal(await second.nextId(), '4');
  await second.record(job('4'));
  assert.deepEqual(
    (await second.list()).map((x) => x.id),
    ['1', '2', '3', '4'],
  );
  await second.close();
  // Ids order numerically, not as text.
  const third = await FileJournal.open(file);
  for (let i = 5; i <= 12; i++) await third.record(job(await third.nextId()));
  assert.deepEqual((await third.list()).map((x) => x.id).slice(-4), ['9', '10', '11', '12']);
  await third.close();
});

test('file journal: a torn last line is skipped with a warning and cut off at the next append', async () => {
  const file = journalFile(await tempDir());
  const j = await FileJournal.open(file);
  await j.record(job('1'));
  await j.record(job('2'));
  await j.close();
  await appendFile(file, '{"job":{"id":"3","intent":"half a li');
  const { logger, lines } = recordingLogger();
  const reopened = await FileJournal.open(file, { logger });
  assert.deepEqual(
    (await reopened.list()).map((x) => x.id),
    ['1', '2'],
  );
  assert.equal(reopened.skipped.length, 1);
  assert.match(reopened.skipped[0] ?? '', /jobs\.jsonl:3: a torn last line/);
  assert.equal(lines.length, 1);
  assert.match(lines[0]?.msg ?? '', /Skipped an unreadable journal line/);
  assert.equal(await reopened.nextId(), '3', 'the torn job never happened');
  await reopened.record(job('3', { status: 'succeeded' }));
  await reopened.close();
  const text = await readFile(file, 'utf8');
  assert.doesNotMatch(text, /half a li/, 'the torn bytes are gone');
  const again = await FileJournal.open(file);
  assert.deepEqual(again.skipped, []);
  assert.deepEqual(
    (await again.list()).map((x) => [x.id, x.status]),
    [
      ['1', 'running'],
      ['2', 'running'],
      ['3', 'succeeded'],
    ],
  );
  await again.close();
});

test('file journal: a complete last line without its newline is kept; a bad middle line is skipped', async () => {
  const dir = await tempDir();
  const file = journalFile(dir);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify({ job: job('1') })}\nnot json at all\n${JSON.stringify({ job: job('2') })}`);
  const j = await FileJournal.open(file);
  assert.deepEqual(
    (await j.list()).map((x) => x.id),
    ['1', '2'],
  );
  assert.equal(j.skipped.length, 1);
  assert.match(j.skipped[0] ?? '', /:2: not valid JSON/);
  await j.record(job('3'));
  await j.close();
  const lines = (await readFile(file, 'utf8')).split('\n');
  assert.equal(lines.length, 5, 'a newline was added before the new line');
  assert.deepEqual(
    (await listJournalFile(file)).map((x) => x.id),
    ['1', '2', '3'],
  );
});

test('file journal: 10,000 jobs (50,000 lines) open and list fast', async () => {
  const file = journalFile(await tempDir());
  await mkdir(path.dirname(file), { recursive: true });
  const chunks: string[] = [];
  for (let i = 1; i <= 10_000; i++) {
    const base = job(String(i), {
      commands: [{ command: `StartDataNode on vm-${i}`, attempt: 1, startedAt: 't', endedAt: 't', result: 'ok', output: `Started data node vm-${i} on port 7001` }],
    });
    for (const status of ['running', 'running', 'running', 'running'] as const) chunks.push(JSON.stringify({ job: { ...base, status } }));
    chunks.push(JSON.stringify({ job: { ...base, status: 'succeeded' } }));
  }
  await writeFile(file, `${chunks.join('\n')}\n`);
  const started = process.hrtime.bigint();
  const j = await FileJournal.open(file);
  const list = await j.list();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.equal(list.length, 10_000);
  assert.ok(list.every((x) => x.status === 'succeeded'));
  assert.equal(await j.nextId(), '10001');
  console.log(`# opened and listed 10,000 jobs (50,000 lines) in ${ms.toFixed(0)} ms`);
  assert.ok(ms < 3000, `took ${ms} ms`);
  await j.close();
});

test('file journal: appends from a batch running in parallel do not mix', async () => {
  const file = journalFile(await tempDir());
  const j = await FileJournal.open(file);
  const ids = await Promise.all(Array.from({ length: 20 }, () => j.nextId()));
  await Promise.all(ids.map((id) => j.record(job(id, { why: 'x'.repeat(5000) }))));
  await j.close();
  const reopened = await FileJournal.open(file);
  assert.equal((await reopened.list()).length, 20);
  assert.deepEqual(reopened.skipped, []);
  await reopened.close();
});

test('facts: file round trip, defaults when missing, a clear error when damaged', async () => {
  const dir = await tempDir();
  const file = factsFile(dir);
  const store = new FileFactsStore(file);
  assert.deepEqual(await store.load(), { restoredFrom: undefined, formed: false });
  await store.save({ restoredFrom: 'nightly', formed: true });
  assert.deepEqual(await new FileFactsStore(file).load(), { restoredFrom: 'nightly', formed: true });
  await store.save({ restoredFrom: undefined, formed: true });
  assert.deepEqual(await store.load(), { restoredFrom: undefined, formed: true });
  assert.deepEqual(await readdir(path.dirname(file)), ['facts.json'], 'no temporary file is left behind');
  await writeFile(file, '{"formed": "yes"}');
  await assert.rejects(store.load(), (err: unknown) => err instanceof FactsFileError && /lacks "formed"/.test(err.message));
  await writeFile(file, '{');
  await assert.rejects(store.load(), /is not valid JSON/);
  const memory = new MemoryFactsStore();
  await memory.save({ restoredFrom: 'x', formed: true });
  assert.deepEqual(await memory.load(), { restoredFrom: 'x', formed: true });
  assert.equal(memory.saves, 1);
});
