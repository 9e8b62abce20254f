import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatProblems } from './format.ts';
import { formatJsonPath, type Problem, type ProblemCode } from './problem.ts';
import type { Desired } from './types.ts';
import { validateDesiredStateFile, validateDesiredStateText } from './validate.ts';

/** A desired-state text, one top-level field per line from line 2, fields of `base` overridden. */
function text(fields: Record<string, unknown> = {}): string {
  const base: Record<string, unknown> = {
    id: 5,
    name: 'demo',
    engine: 'redis',
    version: '7.0',
    running: true,
    runningSince: 1,
    nodeGroups: 3,
    replicationFactor: 2,
    maxReplicationFactor: 3,
    backups: [{ id: 'nightly', sink: { type: 'local', path: 'backups' } }],
    ...fields,
  };
  const lines = Object.entries(base)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}
const FILE = 'desired_state.jsonc';
const validate = (t: string, opts?: Parameters<typeof validateDesiredStateText>[1]) =>
  validateDesiredStateText({ file: FILE, text: t }, opts);

/** The desired state of text(fields), as it would have been accepted. */
function accepted(fields: Record<string, unknown> = {}): Desired {
  const r = validate(text(fields));
  assert.equal(r.verdict, 'valid', formatProblems(r.problems, r.source));
  return r.desired as Desired;
}

const where = (p: Problem) => (p.location === undefined ? 'nowhere' : `${p.location.line}:${p.location.column}`);

void test('the example file in the repository is valid', () => {
  const r = validateDesiredStateFile(new URL('./desired_state.jsonc', import.meta.url).pathname);
  assert.equal(r.verdict, 'valid');
  assert.deepEqual(r.problems, []);
  assert.equal(r.desired?.name, 'demo');
});

void test('a valid text: verdict valid, defaults filled, $schema dropped', () => {
  const r = validate(text({ $schema: './desired-state.schema.json' }));
  assert.equal(r.verdict, 'valid');
  assert.deepEqual(r.problems, []);
  const d = r.desired as Desired;
  assert.equal(d.agentRunningSince, 0);
  assert.equal(d.vmType, 'small');
  assert.equal('$schema' in d, false);
  assert.equal(r.source?.file, FILE);
});

interface Located {
  name: string;
  text: string;
  previous?: Desired;
  everRan?: boolean;
  code: ProblemCode;
  path: string;
  at: string;
  message: string;
}

const located: Located[] = [
  {
    name: 'rule: runningSince above id, at its value',
    text: text({ runningSince: 9 }),
    code: 'rule',
    path: '$.runningSince',
    at: '7:19',
    message: 'runningSince 9 is greater than id 5',
  },
  {
    name: 'rule: replicationFactor above max',
    text: text({ replicationFactor: 4 }),
    code: 'rule',
    path: '$.replicationFactor',
    at: '9:24',
    message: 'must be at most maxReplicationFactor (3), got 4',
  },
  {
    name: 'rule: an owned parameter, at its key',
    text: text({ config: { port: 7000 } }),
    code: 'rule',
    path: '$.config.port',
    at: '12:14',
    message: 'config parameter "port" is set by Coxswain',
  },
  {
    name: 'rule: an unknown parameter, at its key',
    text: text({ config: { 'maxmemory-polcy': 'noeviction' } }),
    code: 'rule',
    path: '$.config["maxmemory-polcy"]',
    at: '12:14',
    message: 'unknown config parameter "maxmemory-polcy"',
  },
  {
    name: 'rule: a value of the wrong kind, at the value',
    text: text({ config: { maxmemory: '256 megabytes' } }),
    code: 'rule',
    path: '$.config.maxmemory',
    at: '12:26',
    message: '"256 megabytes", which is not a memory size',
  },
  {
    name: 'rule: restoreFromBackup naming an unlisted backup, at its id',
    text: text({ restoreFromBackup: { id: 'weekly', sink: { type: 'local', path: 'backups' } } }),
    code: 'rule',
    path: '$.restoreFromBackup.id',
    at: '12:30',
    message: 'not listed in "backups"',
  },
  {
    name: 'transition: name changed, at the new name',
    text: text({ id: 6, name: 'other' }),
    previous: accepted(),
    code: 'immutable-field',
    path: '$.name',
    at: '3:11',
    message: 'it was "demo", this desired state has "other"',
  },
  {
    name: 'transition: downgrade, at the version',
    text: text({ id: 6, version: '7.0' }),
    previous: accepted({ version: '8.0' }),
    code: 'transition',
    path: '$.version',
    at: '5:14',
    message: 'version cannot change from 8.0 to 7.0',
  },
  {
    name: 'transition: rf 1 rolling restart, at runningSince',
    text: text({ id: 6, replicationFactor: 1, runningSince: 6 }),
    previous: accepted({ replicationFactor: 1, runningSince: 1 }),
    code: 'transition',
    path: '$.runningSince',
    at: '7:19',
    message: 'raising runningSince from 1 to 6',
  },
  {
    name: 'transition: restoreFromBackup added after the cluster ran',
    text: text({ id: 6, restoreFromBackup: { id: 'nightly', sink: { type: 'local', path: 'backups' } } }),
    previous: accepted({ running: true }),
    code: 'transition',
    path: '$.restoreFromBackup',
    at: '12:24',
    message: 'cannot be added once the cluster has run',
  },
];

for (const c of located) {
  void test(`located: ${c.name}`, () => {
    const r = validate(c.text, { ...(c.previous === undefined ? {} : { previous: c.previous }), ...(c.everRan === undefined ? {} : { everRan: c.everRan }) });
    assert.equal(r.verdict, 'invalid');
    assert.equal(r.desired, undefined);
    assert.equal(r.problems.length, 1, JSON.stringify(r.problems, null, 2));
    const [p] = r.problems;
    assert.ok(p);
    assert.equal(p.code, c.code);
    assert.equal(formatJsonPath(p.path), c.path);
    assert.equal(where(p), c.at, formatProblems(r.problems, r.source));
    assert.equal(p.location?.file, FILE);
    assert.ok(p.message.includes(c.message), p.message);
  });
}

void test('ignored: an id equal to or lower than the accepted one, and nothing else reported', () => {
  for (const id of [5, 2]) {
    const r = validate(text({ id, name: 'renamed', version: '7.0' }), { previous: accepted({ version: '8.0' }) });
    assert.equal(r.verdict, 'ignored');
    assert.equal(r.desired, undefined);
    assert.deepEqual(
      r.problems.map((p) => `${p.code} ${formatJsonPath(p.path)} ${where(p)}`),
      ['id-not-increasing $.id 2:9'],
    );
    assert.match(r.problems[0]?.message ?? '', new RegExp(`id ${id} is not greater than the accepted id 5, so this desired state is ignored`));
    assert.equal(r.problems[0]?.hint, 'set "id" to 6 or more');
  }
});

void test('a higher id with valid changes is valid against the previous state', () => {
  const r = validate(text({ id: 6, version: '8.0', replicationFactor: 3 }), { previous: accepted() });
  assert.equal(r.verdict, 'valid', formatProblems(r.problems, r.source));
});

void test('everRan defaults to previous.running, and can be given', () => {
  const restore = { id: 'nightly', sink: { type: 'local', path: 'backups' } };
  const t = text({ id: 6, running: false, restoreFromBackup: restore });
  assert.equal(validate(t, { previous: accepted({ running: false, backups: [] }) }).verdict, 'valid');
  assert.equal(validate(t, { previous: accepted({ running: true }) }).verdict, 'invalid');
  assert.equal(validate(t, { previous: accepted({ running: false, backups: [] }), everRan: true }).verdict, 'invalid');
});

void test('stages stop at the first with problems: a syntax error hides the rule problems', () => {
  const r = validate(text({ runningSince: 9 }).replace('"name"', '"name" "x"'));
  assert.equal(r.verdict, 'invalid');
  assert.ok(r.problems.every((p) => p.code !== 'rule'));
  assert.ok(r.problems.length > 0);
});

void test('stages stop at the first with problems: a schema error hides the rule and transition problems', () => {
  const r = validate(text({ id: 1, runningSince: 9, nodeGroups: 0 }), { previous: accepted() });
  assert.equal(r.verdict, 'invalid');
  assert.deepEqual(
    r.problems.map((p) => formatJsonPath(p.path)),
    ['$.nodeGroups'],
  );
});

void test('a byte-order mark at the start of the text is accepted', () => {
  const r = validate(`\uFEFF${text({ runningSince: 9 })}`);
  assert.equal(r.verdict, 'invalid');
  assert.equal(where(r.problems[0] as Problem), '7:19');
  assert.equal(validate(`\uFEFF${text()}`).verdict, 'valid');
});

void test('validateDesiredStateFile: locations name the file; a missing file is a problem, not an exception', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'coxswain-validate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'desired.jsonc');
  writeFileSync(file, text({ config: { port: 1 } }));
  const r = validateDesiredStateFile(file);
  assert.equal(r.verdict, 'invalid');
  assert.equal(r.problems[0]?.location?.file, file);
  assert.equal(r.source?.file, file);
  const missing = validateDesiredStateFile(join(dir, 'nope.jsonc'));
  assert.equal(missing.verdict, 'invalid');
  assert.equal(missing.problems[0]?.code, 'file-unreadable');
});
