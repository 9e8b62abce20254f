import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { formatProblems } from './format.ts';
import { parseDesiredStateText } from './parse.ts';
import { formatJsonPath } from './problem.ts';
import type { Problem } from './problem.ts';
import { checkSchema } from './schema-check.ts';
import type { SchemaResult } from './schema-check.ts';
import type { Desired } from './types.ts';
import '../test/support/seed.ts'; // every property runs on the run's seed

// One field per line, so a case names the line it breaks.
const VALID = `{
  "$schema": "./desired-state.schema.json",
  "id": 4,
  "name": "demo",
  "engine": "redis",
  "version": "7.0",
  "running": true,
  "runningSince": 2,
  "agentRunningSince": 1,
  "nodeGroups": 3,
  "replicationFactor": 2,
  "maxReplicationFactor": 3,
  "availabilityZones": ["zone-a", "zone-b"],
  "vmType": "small",
  "storageGiB": 10,
  "config": { "maxmemory-policy": "allkeys-lru" },
  "backups": [{ "id": "daily", "sink": { "type": "local", "path": "backups" } }],
  "allowTemporaryVms": false
}`;

/** VALID with the line of `field` replaced (the line numbers of the others stay). */
function edit(field: string, line: string): string {
  return VALID.replace(new RegExp(`^ {2}"${field.replace('$', '\\$')}":.*$`, 'm'), () => line);
}

/** VALID without `field` (an empty line in its place). */
function remove(field: string): string {
  return edit(field, '');
}

function check(text: string): SchemaResult {
  const parsed = parseDesiredStateText({ file: 'desired_state.jsonc', text });
  assert.ok(parsed.ok, parsed.ok ? '' : JSON.stringify(parsed.problems, null, 2));
  return checkSchema(parsed.doc);
}

/**
 * Expected: code, formatted JSON path, message fragment, line, and column, given as a
 * number or as the text that starts at that column (its first occurrence on the line).
 */
type Expected = [code: Problem['code'], path: string, fragment: string, line: number, column: number | string, hint?: RegExp];

const cases: Array<[name: string, text: string, expected: Expected[]]> = [
  ['an unknown field with a suggestion', edit('replicationFactor', '  "replicationFactr": 2,'), [
    ['unknown-field', '$.replicationFactr', 'unknown field "replicationFactr"', 11, 3, /^did you mean "replicationFactor"\?$/],
  ]],
  ['an unknown field without a suggestion', edit('allowTemporaryVms', '  "allowTemporaryVms": false, "colour": "blue"'), [
    ['unknown-field', '$.colour', 'unknown field "colour"', 18, '"colour"', /allowed here are "\$schema", "id", "name", .*"allowTemporaryVms"/],
  ]],
  ['an unknown nested field', edit('backups', '  "backups": [{ "id": "daily", "sink": { "type": "local", "pth": "backups" } }],'), [
    ['unknown-field', '$.backups[0].sink.pth', 'unknown field "pth"', 17, '"pth"', /did you mean "path"\?/],
  ]],
  ['a string for an integer', edit('nodeGroups', '  "nodeGroups": "3",'), [
    ['wrong-type', '$.nodeGroups', 'must be an integer, got string "3"', 10, '"3"', /^write 3 without quotes$/],
  ]],
  ['a fraction for an integer', edit('storageGiB', '  "storageGiB": 2.5,'), [
    ['wrong-type', '$.storageGiB', 'must be an integer, got number 2.5', 15, '2.5', /whole number/],
  ]],
  ['an object for a string', edit('name', '  "name": { "first": "demo" },'), [
    ['wrong-type', '$.name', 'must be a string, got an object', 4, '{', /DNS-1123 label/],
  ]],
  ['a number for a version string', edit('version', '  "version": 8.0,'), [
    ['wrong-type', '$.version', 'must be a string, got number 8.0', 6, '8.0', /put it in double quotes: "8\.0"/],
  ]],
  ['a string for a boolean', edit('running', '  "running": "false",'), [
    ['wrong-type', '$.running', 'must be a boolean, got string "false"', 7, '"false"', /write false without quotes/],
  ]],
  ['replicationFactor 7 with maxReplicationFactor 3: the bound that applies is named', edit('replicationFactor', '  "replicationFactor": 7,'), [
    ['out-of-range', '$.replicationFactor', 'must be at most maxReplicationFactor (3), got 7', 11, '7', /^set "replicationFactor" to 3 or less; maxReplicationFactor is fixed once the cluster exists$/],
  ]],
  ['replicationFactor 7 with maxReplicationFactor 5: the schema\'s bound is the one', edit('replicationFactor', '  "replicationFactor": 7,').replace('"maxReplicationFactor": 3', '"maxReplicationFactor": 5'), [
    ['out-of-range', '$.replicationFactor', 'must be at most 5, got 7', 11, '7', /Data nodes per node group/],
  ]],
  ['replicationFactor 7 with an invalid maxReplicationFactor: the schema\'s bounds', edit('replicationFactor', '  "replicationFactor": 7,').replace('"maxReplicationFactor": 3', '"maxReplicationFactor": 0'), [
    ['out-of-range', '$.replicationFactor', 'must be at most 5, got 7', 11, '7'],
    ['out-of-range', '$.maxReplicationFactor', 'must be at least 1, got 0', 12, '0'],
  ]],
  ['nodeGroups 0', edit('nodeGroups', '  "nodeGroups": 0,'), [['out-of-range', '$.nodeGroups', 'must be at least 1, got 0', 10, '0']]],
  ['id -1', edit('id', '  "id": -1,'), [['out-of-range', '$.id', 'must be at least 1, got -1', 3, '-1']]],
  ['version "7"', edit('version', '  "version": "7",'), [
    ['bad-value', '$.version', 'must be one of "7.0", "8.0", got "7"', 6, '"7"', /^did you mean "7\.0"\?$/],
  ]],
  ['engine "rondb"', edit('engine', '  "engine": "rondb",'), [
    ['bad-value', '$.engine', 'must be "redis", got "rondb"', 5, '"rondb"', /"redis" runs Redis Cluster/],
  ]],
  ['a misspelt vmType', edit('vmType', '  "vmType": "smal",'), [
    ['bad-value', '$.vmType', 'must be one of "small", "medium", "large", got "smal"', 14, '"smal"', /did you mean "small"\?/],
  ]],
  ['the name "My_Cluster"', edit('name', '  "name": "My_Cluster",'), [
    ['bad-value', '$.name', 'must be a DNS-1123 label: lower-case letters a-z, digits 0-9 and \'-\'', 4, '"My_Cluster"', /for example "my-cluster"/],
  ]],
  ['an empty name (told once, not also as a bad pattern)', edit('name', '  "name": "",'), [
    ['out-of-range', '$.name', 'must not be empty', 4, '""'],
  ]],
  ['a duplicate availability zone', edit('availabilityZones', '  "availabilityZones": ["zone-a", "zone-b", "zone-a"],'), [
    ['duplicate-item', '$.availabilityZones[2]', 'duplicate item "zone-a": already listed at $.availabilityZones[0]', 13, 45],
  ]],
  ['a duplicate backup id', edit('backups', '  "backups": [{ "id": "daily", "sink": { "type": "local", "path": "a" } },\n    { "id": "daily", "sink": { "type": "local", "path": "b" } }],'), [
    ['duplicate-item', '$.backups[1]', 'duplicate id "daily": $.backups[0] has the same', 18, 13, /its own "id"/],
  ]],
  ['a boolean config value', edit('config', '  "config": { "maxmemory-policy": true },'), [
    ['wrong-type', '$.config["maxmemory-policy"]', 'must be a string or an integer, got boolean true', 16, 'true'],
  ]],
  ['a fraction as config value', edit('config', '  "config": { "hz": 10.5 },'), [
    ['wrong-type', '$.config.hz', 'must be a string or an integer, got number 10.5', 16, '10.5'],
  ]],
  ['a too long config value', edit('config', `  "config": { "x": "${'a'.repeat(1025)}" },`), [
    ['out-of-range', '$.config.x', 'must be at most 1024 characters long, got 1025', 16, 20],
  ]],
  ['a missing required field', remove('nodeGroups'), [
    ['missing-field', '$.nodeGroups', 'missing required field "nodeGroups"', 1, 1, /^add "nodeGroups" \(an integer from 1 to 1000\): Number of node groups/],
  ]],
  ['a missing nested field', edit('backups', '  "backups": [{ "id": "daily", "sink": { "type": "local" } }],'), [
    ['missing-field', '$.backups[0].sink.path', 'missing required field "path"', 17, '{ "type"'],
  ]],
  ['an unknown field in restoreFromBackup.sink', edit('allowTemporaryVms', '  "restoreFromBackup": { "id": "daily", "sink": { "type": "local", "path": "b", "bucket": "x" } }'), [
    ['unknown-field', '$.restoreFromBackup.sink.bucket', 'unknown field "bucket"', 18, '"bucket"', /"type", "path"/],
  ]],
  ['null for an integer', edit('storageGiB', '  "storageGiB": null,'), [
    ['wrong-type', '$.storageGiB', 'must be an integer, got null', 15, 'null', /give an integer, or remove the field/],
  ]],
  ['an empty list of zones', edit('availabilityZones', '  "availabilityZones": [],'), [
    ['out-of-range', '$.availabilityZones', 'must have at least 1 item, got 0', 13, '[]'],
  ]],
];

for (const [name, text, expected] of cases) {
  for (const [lineEnding, variant] of [['LF', text], ['CRLF', text.replace(/\n/g, '\r\n')]] as const) {
    void test(`checkSchema reports ${name} (${lineEnding})`, () => {
      const result = check(variant);
      assert.equal(result.ok, false);
      if (!result.ok) assertProblems(text, result.problems, expected);
    });
  }
}

function assertProblems(text: string, actual: Problem[], expected: Expected[]): void {
  const shown = JSON.stringify(actual, null, 2);
  assert.equal(actual.length, expected.length, shown);
  const lines = text.split('\n');
  expected.forEach(([code, jsonPath, fragment, line, column, hint], i) => {
    const p = actual[i];
    assert.ok(p !== undefined);
    assert.equal(p.code, code, shown);
    assert.equal(formatJsonPath(p.path), jsonPath, shown);
    assert.ok(p.message.includes(fragment), `"${p.message}" lacks "${fragment}"`);
    assert.equal(p.location?.line, line, shown);
    const col = typeof column === 'number' ? column : (lines[line - 1] ?? '').indexOf(column) + 1;
    assert.ok(col > 0, `"${column}" is not on line ${line}`);
    assert.equal(p.location?.column, col, shown);
    if (hint !== undefined) assert.match(p.hint ?? '', hint);
  });
}

void test('several problems are reported in one pass, one per real issue', () => {
  let text = edit('name', '  "name": "My_Cluster",');
  text = text.replace('"nodeGroups": 3', '"nodeGroups": "3"').replace('"replicationFactor": 2', '"replicationFactor": 7');
  text = text.replace('  "version": "7.0",\n', '\n').replace('"vmType": "small"', '"vmType": "small", "colour": "red"');
  text = text.replace('"config": { "maxmemory-policy": "allkeys-lru" }', '"config": { "maxmemory-policy": false, "hz": {} }');
  const result = check(text);
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(
    result.problems.map((p) => `${p.code} ${formatJsonPath(p.path)}`).sort(),
    [
      'bad-value $.name',
      'missing-field $.version',
      'out-of-range $.replicationFactor',
      'unknown-field $.colour',
      'wrong-type $.config.hz',
      'wrong-type $.config["maxmemory-policy"]',
      'wrong-type $.nodeGroups',
    ],
  );
  for (const p of result.problems) assert.ok(p.location !== undefined && p.hint !== undefined, JSON.stringify(p));
});

void test('a valid file gives the Desired state, $schema dropped', () => {
  const result = check(VALID);
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems, null, 2));
  const expected: Desired = {
    id: 4,
    name: 'demo',
    engine: 'redis',
    version: '7.0',
    running: true,
    runningSince: 2,
    agentRunningSince: 1,
    nodeGroups: 3,
    replicationFactor: 2,
    maxReplicationFactor: 3,
    availabilityZones: ['zone-a', 'zone-b'],
    vmType: 'small',
    storageGiB: 10,
    config: { 'maxmemory-policy': 'allkeys-lru' },
    backups: [{ id: 'daily', sink: { type: 'local', path: 'backups' } }],
    allowTemporaryVms: false,
  };
  assert.deepEqual(result.desired, expected);
});

void test('defaults are filled in a copy; the parsed document is left as it was', () => {
  const text = `{ "id": 1, "name": "x", "engine": "redis", "version": "8.0",
    "nodeGroups": 1, "replicationFactor": 1, "maxReplicationFactor": 1 }`;
  const parsed = parseDesiredStateText({ file: 'f', text });
  assert.ok(parsed.ok);
  const before = structuredClone(parsed.doc.value);
  const result = checkSchema(parsed.doc);
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems));
  assert.deepEqual(result.desired, {
    id: 1,
    name: 'x',
    engine: 'redis',
    version: '8.0',
    nodeGroups: 1,
    replicationFactor: 1,
    maxReplicationFactor: 1,
    running: true,
    runningSince: 0,
    agentRunningSince: 0,
    availabilityZones: ['zone-a'],
    vmType: 'small',
    storageGiB: 10,
    config: {},
    backups: [],
    allowTemporaryVms: false,
  });
  assert.deepEqual(parsed.doc.value, before);
  // Each result has its own default objects.
  const again = checkSchema(parsed.doc);
  assert.ok(again.ok);
  assert.notEqual(again.desired.backups, result.desired.backups);
});

void test('the example desired_state.jsonc passes', () => {
  const text = readFileSync(new URL('./desired_state.jsonc', import.meta.url), 'utf8');
  const result = check(text);
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems, null, 2));
  assert.equal('$schema' in result.desired, false);
});

void test('the schema file stays in the Kubernetes structural subset (closing happens at compile time)', () => {
  const schema = readFileSync(new URL('./desired-state.schema.json', import.meta.url), 'utf8');
  assert.doesNotMatch(schema, /"additionalProperties":\s*false/);
  assert.doesNotMatch(schema, /"uniqueItems"/);
});

void test('checkSchema never throws, and locates and explains every problem, whatever a field holds', () => {
  const fields = [...VALID.matchAll(/^ {2}"([^"]+)":/gm)].map((m) => m[1] ?? '').concat(['restoreFromBackup', 'extra']);
  fc.assert(
    fc.property(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 4 }), (field, value) => {
      const line = `  ${JSON.stringify(field)}: ${JSON.stringify(value)},`;
      const text = VALID.includes(`"${field}":`) ? edit(field, line) : VALID.replace('{\n', () => `{\n${line}\n`);
      const result = check(text);
      if (result.ok) return;
      for (const p of result.problems) {
        assert.ok(p.message.length > 0 && p.location !== undefined && p.hint !== undefined, JSON.stringify(p));
      }
      assert.match(formatProblems(result.problems, { file: 'f', text }), /\d+ problems? in f$/);
    }),
    { numRuns: 500 },
  );
});
