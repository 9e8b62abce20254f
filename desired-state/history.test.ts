import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsonpatch from 'fast-json-patch';
import { exampleDesired } from '../test/arbitraries/desired-state.ts';
import { canonicalJson } from '../common/canonical-json.ts';
import {
  DesiredStateHistory,
  HistoryCorruptError,
  HistoryError,
  HistoryIdNotIncreasingError,
  diffDesired,
  formatPatch,
  sha256Of,
} from './history.ts';

function tempStateDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'coxswain-history-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'state');
}

/** A clock that ticks one second per call, from a fixed time. */
function fakeClock(): () => Date {
  let t = Date.parse('2026-01-02T03:04:05.000Z');
  return () => new Date((t += 1000));
}

void test('an empty history: no entries, never ran, no file created by reading', (t) => {
  const dir = tempStateDir(t);
  const h = new DesiredStateHistory(dir);
  assert.deepEqual(h.list(), []);
  assert.equal(h.latest(), undefined);
  assert.equal(h.get(1), undefined);
  assert.equal(h.everRan(), false);
  assert.throws(() => readFileSync(h.file), /ENOENT/);
});

void test('append, list, get, latest', (t) => {
  const dir = tempStateDir(t);
  const h = new DesiredStateHistory(dir, fakeClock());
  const a = h.append(exampleDesired({ id: 1, running: false }), 'file:desired_state.jsonc');
  const b = h.append(exampleDesired({ id: 3, replicationFactor: 3 }), 'api');
  assert.equal(a.id, 1);
  assert.equal(a.acceptedAt, '2026-01-02T03:04:06.000Z');
  assert.equal(a.source, 'file:desired_state.jsonc');
  assert.match(a.sha256, /^[0-9a-f]{64}$/);
  assert.equal(a.sha256, sha256Of(exampleDesired({ id: 1, running: false })));
  assert.deepEqual(a.desired, exampleDesired({ id: 1, running: false }));
  assert.deepEqual(
    h.list().map((e) => e.id),
    [1, 3],
  );
  assert.deepEqual(h.get(3), b);
  assert.equal(h.get(2), undefined);
  assert.deepEqual(h.latest(), b);
  assert.equal(h.file, join(dir, 'history', 'desired-states.jsonl'));
});

void test('the history survives a new instance (it lives in the file, one line per entry)', (t) => {
  const dir = tempStateDir(t);
  const first = new DesiredStateHistory(dir, fakeClock());
  first.append(exampleDesired({ id: 1 }), 'api');
  first.append(exampleDesired({ id: 2 }), 'api');
  const second = new DesiredStateHistory(dir);
  assert.deepEqual(second.list(), first.list());
  const text = readFileSync(second.file, 'utf8');
  assert.equal(text.split('\n').length, 3);
  assert.ok(text.endsWith('\n'));
  assert.deepEqual(Object.keys(JSON.parse(text.split('\n')[0] ?? '') as object), ['id', 'acceptedAt', 'source', 'sha256', 'desired']);
});

void test('everRan: true once any accepted desired state had the cluster running', (t) => {
  const h = new DesiredStateHistory(tempStateDir(t));
  h.append(exampleDesired({ id: 1, running: false }), 'api');
  assert.equal(h.everRan(), false);
  h.append(exampleDesired({ id: 2, running: true }), 'api');
  h.append(exampleDesired({ id: 3, running: false }), 'api');
  assert.equal(h.everRan(), true);
});

void test('append refuses an id not above the latest with a typed error', (t) => {
  const h = new DesiredStateHistory(tempStateDir(t));
  h.append(exampleDesired({ id: 4 }), 'api');
  for (const id of [4, 2]) {
    assert.throws(
      () => h.append(exampleDesired({ id }), 'api'),
      (e: unknown) => e instanceof HistoryIdNotIncreasingError && e instanceof HistoryError && e.id === id && e.latestId === 4,
    );
  }
  assert.equal(h.list().length, 1);
});

void test('the entry is a copy: changing the caller\'s object later changes nothing', (t) => {
  const h = new DesiredStateHistory(tempStateDir(t));
  const d = exampleDesired({ id: 1 });
  h.append(d, 'api');
  d.nodeGroups = 99;
  assert.equal(h.latest()?.desired.nodeGroups, 3);
});

void test('a torn last line (a crash mid-write) is ignored, then cut off by the next append', (t) => {
  const h = new DesiredStateHistory(tempStateDir(t));
  h.append(exampleDesired({ id: 1 }), 'api');
  const good = readFileSync(h.file, 'utf8');
  appendFileSync(h.file, '{"id":2,"acceptedAt":"2026-01-0');
  assert.deepEqual(
    h.list().map((e) => e.id),
    [1],
  );
  h.append(exampleDesired({ id: 2 }), 'api');
  const text = readFileSync(h.file, 'utf8');
  assert.ok(text.startsWith(good));
  assert.equal(text.split('\n').length, 3);
  assert.deepEqual(
    new DesiredStateHistory(h.stateDir).list().map((e) => e.id),
    [1, 2],
  );
});

void test('a complete last entry that lost only its newline is kept, and the next append adds the newline', (t) => {
  const h = new DesiredStateHistory(tempStateDir(t));
  h.append(exampleDesired({ id: 1 }), 'api');
  writeFileSync(h.file, readFileSync(h.file, 'utf8').replace(/\n$/, ''));
  assert.deepEqual(
    h.list().map((e) => e.id),
    [1],
  );
  h.append(exampleDesired({ id: 2 }), 'api');
  assert.deepEqual(
    h.list().map((e) => e.id),
    [1, 2],
  );
});

const corruptions: Array<[string, (lines: string[]) => string[], RegExp]> = [
  ['a line that is not JSON', (l) => [l[0] ?? '', 'garbage', l[1] ?? ''], /:2: .*not valid JSON/],
  ['a line with a wrong checksum', (l) => [(l[0] ?? '').replace('"nodeGroups":3', '"nodeGroups":4'), l[1] ?? ''], /:1: .*checksum of desired state 1 does not match/],
  ['a line that is not an object', (l) => [l[0] ?? '', '[1,2]', l[1] ?? ''], /:2: .*not a JSON object/],
  ['ids out of order', (l) => [l[1] ?? '', l[0] ?? ''], /:2: .*id 1 does not follow the previous entry's id 2/],
];
for (const [name, corrupt, reason] of corruptions) {
  void test(`a corrupt line in the middle is an error naming file and line: ${name}`, (t) => {
    const h = new DesiredStateHistory(tempStateDir(t));
    h.append(exampleDesired({ id: 1 }), 'api');
    h.append(exampleDesired({ id: 2 }), 'api');
    const lines = readFileSync(h.file, 'utf8').split('\n').filter((l) => l !== '');
    writeFileSync(h.file, `${corrupt(lines).join('\n')}\n`);
    assert.throws(
      () => h.list(),
      (e: unknown) => {
        assert.ok(e instanceof HistoryCorruptError);
        assert.ok(e.message.startsWith(`${h.file}:`), e.message);
        assert.match(e.message, reason);
        assert.match(e.message, /restore the file from a copy/);
        return true;
      },
    );
    assert.throws(() => h.append(exampleDesired({ id: 9 }), 'api'), HistoryCorruptError);
  });
}

void test('canonical JSON sorts keys at every depth', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
  const a = exampleDesired();
  const reordered = Object.fromEntries(Object.entries(a).reverse()) as typeof a;
  assert.equal(sha256Of(a), sha256Of(reordered));
});

void test('diffDesired is a JSON patch from a to b', () => {
  const a = exampleDesired({ id: 1 });
  const b = exampleDesired({
    id: 2,
    replicationFactor: 3,
    backups: [...a.backups, { id: 'b2', sink: { type: 'local', path: 'x' } }],
    config: {},
  });
  const ops = diffDesired(a, b);
  const applied = jsonpatch.applyPatch(structuredClone(a), ops, true, false).newDocument;
  assert.deepEqual(applied, b);
  assert.deepEqual(diffDesired(a, a), []);
});

void test('formatPatch: one line per change, with old and new values', () => {
  const a = exampleDesired({ id: 1 });
  const b = exampleDesired({
    id: 2,
    replicationFactor: 3,
    backups: [...a.backups, { id: 'b2', sink: { type: 'local', path: 'x' } }],
    config: {},
  });
  const lines = formatPatch(diffDesired(a, b)).split('\n').sort();
  assert.deepEqual(lines, [
    'add /backups/1 {"id":"b2","sink":{"type":"local","path":"x"}}',
    'remove /config/maxmemory-policy (was "noeviction")',
    'replace /id 1 → 2',
    'replace /replicationFactor 2 → 3',
  ]);
  assert.equal(formatPatch([]), '');
  assert.equal(formatPatch([{ op: 'replace', path: '/x', value: 1 }]), 'replace /x 1');
  assert.equal(formatPatch([{ op: 'move', from: '/a', path: '/b' }]), 'move /a → /b');
});
