import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptDesiredState, submitDesiredStateFile } from './accept.ts';
import { DesiredStateHistory } from './history.ts';
import type { Desired } from './types.ts';
import { validateDesiredStateText } from './validate.ts';

function setUp(t: { after: (fn: () => void) => void }): { dir: string; history: DesiredStateHistory; write: (name: string, fields: Record<string, unknown>) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'coxswain-accept-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const history = new DesiredStateHistory(join(dir, 'state'));
  const write = (name: string, fields: Record<string, unknown>): string => {
    const file = join(dir, name);
    const base = { id: 1, name: 'demo', engine: 'redis', version: '7.0', nodeGroups: 3, replicationFactor: 2, maxReplicationFactor: 3 };
    writeFileSync(file, JSON.stringify({ ...base, ...fields }, null, 2));
    return file;
  };
  return { dir, history, write };
}

void test('submit: a valid first version is accepted; its source is recorded', (t) => {
  const { history, write } = setUp(t);
  const outcome = submitDesiredStateFile(history, write('v1.jsonc', {}), 'file:v1.jsonc');
  assert.equal(outcome.status, 'accepted');
  assert.equal(history.latest()?.id, 1);
  assert.equal(history.latest()?.source, 'file:v1.jsonc');
});

void test('submit: the default source is file:<path>', (t) => {
  const { history, write } = setUp(t);
  const file = write('v1.jsonc', {});
  submitDesiredStateFile(history, file);
  assert.equal(history.latest()?.source, `file:${file}`);
});

void test('submit: an equal id is ignored, an invalid change refused; neither changes the history', (t) => {
  const { history, write } = setUp(t);
  submitDesiredStateFile(history, write('v1.jsonc', { version: '8.0' }));
  const ignored = submitDesiredStateFile(history, write('same.jsonc', { id: 1 }));
  assert.equal(ignored.status, 'ignored');
  const refused = submitDesiredStateFile(history, write('down.jsonc', { id: 2, version: '7.0' }));
  assert.equal(refused.status, 'refused');
  assert.equal(refused.problems[0]?.code, 'transition');
  assert.equal(refused.problems[0]?.location?.line, 5);
  assert.ok(refused.source?.text.includes('"7.0"'));
  assert.deepEqual(
    history.list().map((e) => e.id),
    [1],
  );
});

void test('submit: everRan comes from the whole history, not only the latest version', (t) => {
  const { history, write } = setUp(t);
  const restore = { id: 'b', sink: { type: 'local', path: 'x' } };
  submitDesiredStateFile(history, write('v1.jsonc', { running: true, backups: [restore] }));
  submitDesiredStateFile(history, write('v2.jsonc', { id: 2, running: false, backups: [restore] }));
  const outcome = submitDesiredStateFile(history, write('v3.jsonc', { id: 3, running: false, backups: [restore], restoreFromBackup: restore }));
  assert.equal(outcome.status, 'refused');
  assert.match(outcome.problems[0]?.message ?? '', /once the cluster has run/);
});

void test('accept: a result validated against an older latest is ignored, not appended twice', (t) => {
  const { history } = setUp(t);
  const text = JSON.stringify({ id: 1, name: 'demo', engine: 'redis', version: '7.0', nodeGroups: 1, replicationFactor: 1, maxReplicationFactor: 1 });
  const result = validateDesiredStateText({ file: 'a.jsonc', text });
  assert.equal(acceptDesiredState(history, result, 'api').status, 'accepted');
  const again = acceptDesiredState(history, result, 'api');
  assert.equal(again.status, 'ignored');
  assert.equal(again.problems[0]?.code, 'id-not-increasing');
  assert.equal(history.list().length, 1);
  assert.equal((history.latest()?.desired as Desired).nodeGroups, 1);
});
