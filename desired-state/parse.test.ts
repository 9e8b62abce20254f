import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseDesiredStateText } from './parse.ts';
import type { ParsedDocument } from './parse.ts';
import { formatJsonPath } from './problem.ts';
import type { Problem } from './problem.ts';
import { checkSourceBytes, MAX_DESIRED_STATE_BYTES, MAX_NESTING_DEPTH } from './read-source.ts';
import '../test/support/seed.ts'; // every property runs on the run's seed

/** One expected problem: code, formatted JSON path, message fragment, line, column. */
type Expected = [code: Problem['code'], path: string, fragment: string | RegExp, line?: number, column?: number];

function parse(text: string, file = 'desired_state.jsonc') {
  return parseDesiredStateText({ file, text });
}

function parsed(text: string): ParsedDocument {
  const result = parse(text);
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems, null, 2));
  return result.doc;
}

function assertProblems(actual: Problem[], expected: Expected[]): void {
  const shown = JSON.stringify(actual, null, 2);
  assert.equal(actual.length, expected.length, shown);
  expected.forEach(([code, jsonPath, fragment, line, column], i) => {
    const p = actual[i];
    assert.ok(p !== undefined);
    assert.equal(p.code, code, shown);
    assert.equal(formatJsonPath(p.path), jsonPath, shown);
    if (typeof fragment === 'string') assert.ok(p.message.includes(fragment), `"${p.message}" lacks "${fragment}"`);
    else assert.match(p.message, fragment);
    assert.equal(p.location?.line, line, shown);
    assert.equal(p.location?.column, column, shown);
    if (line !== undefined) assert.equal(p.location?.file, 'desired_state.jsonc');
  });
}

const backups = `{
  "backups": [
    { "id": "a", "sink": { "type": "local", "path": "x" } },
    { "id": "b", "sink": { "type": "local", "path": "y", "type": "local" } }
  ]
}`;

const cases: Array<[name: string, text: string, expected: Expected[]]> = [
  ['an empty text', '', [['empty', '$', 'the file is empty']]],
  ['whitespace only', '  \n\t\n', [['empty', '$', 'empty']]],
  ['a comment only', '// just a comment\n', [['empty', '$', 'empty']]],
  ['a root array', '[1, 2, 3]\n', [['not-object', '$', 'the desired state must be a JSON object { … }, found an array', 1, 1]]],
  ['a root string', '\n  "demo"', [['not-object', '$', 'must be a JSON object { … }, found a string', 2, 3]]],
  ['a root number', '42', [['not-object', '$', 'found a number', 1, 1]]],
  ['trailing garbage', '{ "id": 1 }\n}} garbage', [['syntax', '$', 'unexpected content after the end of the document', 2, 1]]],
  ['an unterminated string', '{\n  "name": "demo\n}\n', [['syntax', '$.name', 'unterminated string', 2, 11]]],
  ['an unterminated string that swallows a comma', '{\n  "name": "demo,\n  "id": 1\n}', [['syntax', '$.name', 'unterminated string', 2, 11]]],
  ['an unterminated string at the end', '{ "name": "demo', [['syntax', '$.name', 'unterminated string', 1, 11]]],
  ['a missing comma between properties', '{\n  "id": 1\n  "name": "demo"\n}', [['syntax', '$.id', 'expected a comma between properties', 3, 3]]],
  ['a missing comma between array items', '{ "zones": ["a" "b"] }', [['syntax', '$.zones[0]', 'expected a comma between array items', 1, 17]]],
  ['an unclosed object', '{\n  "id": 1,\n  "sink": { "path": "x"\n', [
    ['syntax', '$', "unclosed object: this '{' has no matching '}'", 1, 1],
    ['syntax', '$.sink', "unclosed object: this '{' has no matching '}'", 3, 11],
  ]],
  ['an unclosed array', '{ "zones": ["a", "b" }', [['syntax', '$.zones', "expected ']' to close the array that starts on line 1, found '}'", 1, 22]]],
  ['an unclosed array at the end', '{ "zones": ["a", "b"', [['syntax', '$', 'unclosed object', 1, 1], ['syntax', '$.zones', "unclosed array: this '[' has no matching ']'", 1, 12]]],
  ['an object closed by a bracket', '{\n  "sink": { "path": "x" ]\n}', [['syntax', '$.sink', "expected '}' to close the object that starts on line 2, found ']'", 2, 25]]],
  ['a missing colon', '{ "id" 1 }', [['syntax', '$.id', "expected ':' after the property name, found 1", 1, 8]]],
  ['an extra comma', '{ "id": 1,, "name": "x" }', [['syntax', '$.id', "expected a property name in double quotes, found ','", 1, 11]]],
  ['True instead of true', '{ "running": True }', [['syntax', '$.running', 'unknown word True', 1, 14]]],
  ['single quotes', "{ 'name': 1 }", [['syntax', '$', "single quotes are not JSON: 'name'", 1, 3]]],
  ['a property name without quotes', '{ name: "x" }', [['syntax', '$', 'property name without quotes: name', 1, 3]]],
  ['a leading zero', '{ "id": 01 }', [['syntax', '$.id', 'a number cannot start with 0', 1, 10]]],
  ['an incomplete number', '{ "id": 1. }', [['syntax', '$.id', 'incomplete number 1.', 1, 9]]],
  ['a bad escape', '{ "path": "C:\\Users" }', [['syntax', '$.path', 'invalid escape sequence', 1, 11]]],
  ['a raw tab in a string', '{ "path": "a\tb" }', [['syntax', '$.path', 'raw control character', 1, 11]]],
  ['an unterminated comment', '{ "id": 1 /* note', [['syntax', '$.id', 'unterminated comment', 1, 11]]],
  ['a duplicate top-level key', '{\n  "nodeGroups": 3,\n  "nodeGroups": 4\n}', [['duplicate-key', '$.nodeGroups', 'duplicate key "nodeGroups": it is already set on line 2', 3, 3]]],
  ['a duplicate key in backups[1].sink', backups, [['duplicate-key', '$.backups[1].sink.type', 'already set on line 4', 4, 58]]],
  ['a key three times', '{ "a": 1,\n "a": 2,\n "a": 3 }', [['duplicate-key', '$.a', 'line 1', 2, 2], ['duplicate-key', '$.a', 'line 1', 3, 2]]],
  ['duplicate keys and a syntax error together', '{\n  "id": 1,\n  "id": 2\n  "name": "x"\n}', [
    ['duplicate-key', '$.id', 'already set on line 2', 3, 3],
    ['syntax', '$.id', 'expected a comma between properties', 4, 3],
  ]],
  ['CRLF line endings', '{\r\n  "id": 1,\r\n  "id": 2\r\n  "name": "x"\r\n}\r\n', [
    ['duplicate-key', '$.id', 'already set on line 2', 3, 3],
    ['syntax', '$.id', 'expected a comma between properties', 4, 3],
  ]],
  ['lone CR line endings', '{\r  "a": 1,\r  "a": 2\r}', [['duplicate-key', '$.a', 'line 2', 3, 3]]],
  ['a control character outside strings', '{\u0001}', [['syntax', '$', 'unexpected control character U+0001', 1, 2]]],
  ['a syntax error in a root array', '[1,,2]', [['syntax', '$[0]', "expected a value, found ','", 1, 4], ['not-object', '$', 'found an array', 1, 1]]],
];

for (const [name, text, expected] of cases) {
  void test(`parse reports ${name}`, () => {
    const result = parse(text);
    assert.equal(result.ok, false);
    if (!result.ok) assertProblems(result.problems, expected);
  });
}

void test('parse accepts comments, trailing commas and CRLF', () => {
  const doc = parsed('// the cluster\r\n{\r\n  "id": 1, /* one */\r\n  "zones": ["a", "b",],\r\n}\r\n');
  assert.deepEqual(doc.value, { id: 1, zones: ['a', 'b'] });
});

void test('a "__proto__" key is an ordinary field, not the prototype', () => {
  const doc = parsed('{ "__proto__": { "polluted": true } }');
  assert.deepEqual(Object.keys(doc.value as object), ['__proto__']);
  assert.equal(Object.getPrototypeOf(doc.value), Object.prototype);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

// ---------------------------------------------------------------------------------------
// locate

const located = `{\r
  "nodeGroups": 3,\r
  "backups": [\r
    { "id": "a", "sink": { "type": "local", "path": "x" } }\r
  ],\r
  "config": {}\r
}`;

const locations: Array<[path: Array<string | number>, part: 'key' | 'value', line: number, column: number, length: number]> = [
  [[], 'value', 1, 1, located.length],
  [['nodeGroups'], 'value', 2, 17, 1],
  [['nodeGroups'], 'key', 2, 3, 12],
  [['backups', 0, 'sink', 'path'], 'value', 4, 53, 3],
  [['backups', 0, 'sink', 'path'], 'key', 4, 45, 6],
  [['backups', 0, 'sink', 'pth'], 'key', 4, 26, 32], // missing: the nearest ancestor, the sink
  [['backups', 3], 'value', 3, 14, 67], // missing item: the array
  [['config', 'maxmemory'], 'value', 6, 13, 2],
  [['nodeGroups', 'x'], 'value', 2, 17, 1], // below a scalar: the scalar
];

for (const [jsonPath, part, line, column, length] of locations) {
  void test(`locate ${formatJsonPath(jsonPath)} (${part}) in a CRLF text`, () => {
    const doc = parsed(located);
    assert.deepEqual(doc.locate(jsonPath, part), { file: 'desired_state.jsonc', line, column, length });
  });
}

// ---------------------------------------------------------------------------------------
// Nesting and size: never hang, never throw.

function nested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

void test(`nesting of ${MAX_NESTING_DEPTH} levels is fine`, () => {
  parsed(nested(MAX_NESTING_DEPTH));
});

void test(`nesting of ${MAX_NESTING_DEPTH + 1} levels is too deep, at the first bracket over the limit`, () => {
  const result = parse(nested(MAX_NESTING_DEPTH + 1));
  assert.equal(result.ok, false);
  if (result.ok) return;
  const path = `$${'.a'.repeat(MAX_NESTING_DEPTH)}`;
  assertProblems(result.problems, [['too-deep', path, `33 levels, the limit is ${MAX_NESTING_DEPTH}`, 1, 5 * MAX_NESTING_DEPTH + 1]]);
});

void test('1 MiB of "[" is reported as too deep, quickly and without a stack overflow', () => {
  const started = performance.now();
  const result = parse('['.repeat(MAX_DESIRED_STATE_BYTES));
  const ms = performance.now() - started;
  assert.equal(result.ok, false);
  if (!result.ok) assertProblems(result.problems, [['too-deep', `$${'[0]'.repeat(MAX_NESTING_DEPTH)}`, 'nested too deeply', 1, MAX_NESTING_DEPTH + 1]]);
  assert.ok(ms < 2000, `took ${ms} ms`);
});

void test('brackets closed by the wrong kind still count as open (as the parser sees them)', () => {
  const result = parse('{"a":' + '[}'.repeat(40) + '}');
  assert.equal(result.ok, false);
  if (!result.ok) assert.equal(result.problems[0]?.code, 'too-deep');
});

void test('a 1 MiB single line parses, and 100 000 syntax errors are listed as 50 and a count', () => {
  const entries = Array.from({ length: 19_000 }, (_, i) => `"k${i}": "${'v'.repeat(40)}"`).join(', ');
  const line = `{ "config": { ${entries} } }`;
  assert.ok(line.length > 1_000_000 && line.length < MAX_DESIRED_STATE_BYTES);
  let started = performance.now();
  assert.equal(Object.keys((parsed(line).value as { config: object }).config).length, 19_000);
  assert.ok(performance.now() - started < 2000);

  started = performance.now();
  const result = parse('{ ' + '@ '.repeat(100_000) + '}');
  assert.ok(performance.now() - started < 2000);
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.problems.length, 51);
  assert.match(result.problems[50]?.message ?? '', /and 99950 more problems/);
});

void test('parse never throws, on random bytes or on jumbled JSON tokens', () => {
  const outcome = (text: string) => {
    const result = parse(text);
    assert.ok(result.ok || result.problems.length > 0);
    if (!result.ok) for (const p of result.problems) assert.ok(p.message.length > 0 && (p.location === undefined || p.location.line >= 1));
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (raw) => {
      const read = checkSourceBytes('f', raw);
      if (read.ok) outcome(read.source.text);
    }),
    { numRuns: 300 },
  );
  const token = fc.constantFrom('{', '}', '[', ']', ',', ':', '"a"', '"b"', '1', '-', '0', 'true', 'True', ' ', '\n', '\r', '//c\n', '/*', '*/', '"', '\\', "'", 'x', '\u0000', '\uFEFF');
  fc.assert(fc.property(fc.array(token, { maxLength: 80 }), (tokens) => outcome(tokens.join(''))), { numRuns: 1000 });
});
