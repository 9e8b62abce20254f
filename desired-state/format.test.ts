import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProblem, formatProblems } from './format.ts';
import { parseDesiredStateText } from './parse.ts';
import { problem } from './problem.ts';
import type { Problem, SourceLocation } from './problem.ts';
import { fileProblem } from './read-source.ts';
import type { SourceText } from './read-source.ts';
import { checkSchema } from './schema-check.ts';

const FILE = 'desired_state.jsonc';

function source(text: string, file = FILE): SourceText {
  return { file, text };
}

function at(line: number, column: number, length: number, file = FILE): SourceLocation {
  return { file, line, column, length };
}

function located(p: Problem, location: SourceLocation): Problem {
  return { ...p, location };
}

const example = source(`${'\n'.repeat(11)}    "replicationFactr": 2,\n`);
const typo = located(
  problem('unknown-field', ['replicationFactr'], 'unknown field "replicationFactr"', 'did you mean "replicationFactor"?'),
  at(12, 5, 18),
);

const cases: Array<[name: string, p: Problem, src: SourceText | undefined, expected: string]> = [
  [
    'the example from the design: location, excerpt, caret and hint',
    typo,
    example,
    [
      'desired_state.jsonc:12:5: error: $.replicationFactr: unknown field "replicationFactr"',
      '   12 |     "replicationFactr": 2,',
      '      |     ^^^^^^^^^^^^^^^^^^',
      '   hint: did you mean "replicationFactor"?',
    ].join('\n'),
  ],
  [
    'no location: the file, the path and the hint',
    problem('rule', ['backups', 1, 'sink', 'path'], 'must be inside the state directory', 'use a relative path'),
    source('{}'),
    'desired_state.jsonc: error: $.backups[1].sink.path: must be inside the state directory\n   hint: use a relative path',
  ],
  [
    'no location and no hint: one line',
    problem('rule', ['config', 'maxmemory-policy'], 'is not a policy'),
    source('{}'),
    'desired_state.jsonc: error: $.config["maxmemory-policy"]: is not a policy',
  ],
  [
    'a problem about a whole file, without its text',
    fileProblem('clusters/nope.jsonc', 'file-unreadable', 'cannot read the file: no such file or directory', 'check the path'),
    undefined,
    'clusters/nope.jsonc: error: $: cannot read the file: no such file or directory\n   hint: check the path',
  ],
  [
    'a location without the text: no excerpt',
    located(problem('not-text', [], 'the file is binary, not text: it contains a NUL byte'), at(3, 7, 1, 'bin.jsonc')),
    undefined,
    'bin.jsonc:3:7: error: $: the file is binary, not text: it contains a NUL byte',
  ],
  [
    'a location in another file than the text given: no excerpt',
    located(problem('transition', ['id'], 'id 3 is not above 5'), at(1, 1, 1, 'previous.jsonc')),
    source('{ "id": 3 }'),
    'previous.jsonc:1:1: error: $.id: id 3 is not above 5',
  ],
  [
    'tabs are kept so the caret lines up under them',
    located(problem('wrong-type', ['a'], 'must be an integer, got string "1"'), at(2, 8, 3)),
    source('{\n\t\t"a":\t"1"\n}'),
    [
      'desired_state.jsonc:2:8: error: $.a: must be an integer, got string "1"',
      '   2 | \t\t"a":\t"1"',
      '     | \t\t    \t^^^',
    ].join('\n'),
  ],
  [
    'CRLF: no carriage return in the excerpt',
    located(problem('syntax', ['id'], 'expected a comma between properties'), at(3, 3, 6)),
    source('{\r\n  "id": 1\r\n  "name": "x"\r\n}\r\n'),
    [
      'desired_state.jsonc:3:3: error: $.id: expected a comma between properties',
      '   3 |   "name": "x"',
      '     |   ^^^^^^',
    ].join('\n'),
  ],
  [
    'control characters and bidi overrides in the source and the message are not printed raw',
    located(problem('syntax', ['a'], 'bad \u001b[2J "\u202e"'), at(1, 7, 12)),
    source('{"a": "x\u001b[31my\u202ez\u0007"}'),
    [
      'desired_state.jsonc:1:7: error: $.a: bad \uFFFD[2J "\uFFFD"',
      '   1 | {"a": "x\uFFFD[31my\uFFFDz\uFFFD"}',
      '     |       ^^^^^^^^^^^^',
    ].join('\n'),
  ],
  [
    'a location spanning lines is underlined to the end of its first line',
    located(problem('missing-field', ['nodeGroups'], 'missing required field "nodeGroups"'), at(2, 1, 40)),
    source('// header\n{ "id": 1,\n  "name": "x" }'),
    [
      'desired_state.jsonc:2:1: error: $.nodeGroups: missing required field "nodeGroups"',
      '   2 | { "id": 1,',
      '     | ^^^^^^^^^^',
    ].join('\n'),
  ],
  [
    'a location at the end of a line (an error at the end of the file)',
    located(problem('syntax', [], 'unterminated string'), at(1, 12, 1)),
    source('{ "a": "xyz'),
    ['desired_state.jsonc:1:12: error: $: unterminated string', '   1 | { "a": "xyz', '     |            ^'].join('\n'),
  ],
  [
    'a location past the end of the text: no excerpt, no crash',
    located(problem('syntax', [], 'odd'), at(99, 1, 1)),
    source('{}'),
    'desired_state.jsonc:99:1: error: $: odd',
  ],
];

for (const [name, p, src, expected] of cases) {
  void test(`formatProblem: ${name}`, () => {
    assert.equal(formatProblem(p, src), expected);
  });
}

void test('formatProblem: a long line shows a window of about 100 characters around the column', () => {
  const line = `{"config": {${Array.from({ length: 40_000 }, (_, i) => `"k${i}": "v"`).join(', ')}}}`;
  const src = source(line);
  for (const offset of [0, 5000, Math.floor(line.length / 2), line.length - 3]) {
    const p = located(problem('syntax', [], 'here'), at(1, offset + 1, 8));
    const [, excerpt = '', carets = ''] = formatProblem(p, src).split('\n');
    const shown = excerpt.slice('   1 | '.length);
    assert.ok(shown.length <= 102, `${shown.length} characters shown`);
    assert.equal(shown.startsWith('…'), offset > 40, shown);
    assert.equal(shown.endsWith('…'), offset < line.length - 60, shown);
    const caret = carets.indexOf('^');
    assert.equal(excerpt[caret], line[offset], `caret under "${excerpt[caret]}", not "${line[offset]}"`);
  }
});

void test('formatProblems: sorted by line then column, whole-file problems last, and a count', () => {
  const src = source('{\n  "a": 1,\n  "b": 2\n}');
  const problems = [
    located(problem('rule', ['b'], 'third'), at(3, 3, 3)),
    problem('rule', [], 'about the whole file'),
    located(problem('rule', ['a'], 'second'), at(2, 8, 1)),
    located(problem('rule', ['a'], 'first'), at(2, 3, 3)),
  ];
  const out = formatProblems(problems, src);
  const headers = out.split('\n').filter((l) => l.includes(': error: '));
  assert.deepEqual(headers, [
    'desired_state.jsonc:2:3: error: $.a: first',
    'desired_state.jsonc:2:8: error: $.a: second',
    'desired_state.jsonc:3:3: error: $.b: third',
    'desired_state.jsonc: error: $: about the whole file',
  ]);
  assert.ok(out.endsWith('\n\n4 problems in desired_state.jsonc'), out);
});

void test('formatProblems: one problem, and the file taken from the problem when no text is given', () => {
  const out = formatProblems([fileProblem('big.jsonc', 'file-too-large', 'the file is too large: 20 MiB')]);
  assert.equal(out, 'big.jsonc: error: $: the file is too large: 20 MiB\n\n1 problem in big.jsonc');
});

void test('parse, schema and format together: each problem located, in order, with its line shown', () => {
  const text = '{\r\n  "id": 1,\r\n  "name": "My_Cluster",\r\n  "engine": "redis", "version": "7",\r\n  "nodeGroups": 3, "replicationFactr": 2, "maxReplicationFactor": 3\r\n}\r\n';
  const parsed = parseDesiredStateText(source(text));
  assert.ok(parsed.ok);
  const checked = checkSchema(parsed.doc);
  assert.equal(checked.ok, false);
  if (checked.ok) return;
  const out = formatProblems(checked.problems, source(text));
  assert.equal(
    out,
    [
      `desired_state.jsonc:3:11: error: $.name: must be a DNS-1123 label: lower-case letters a-z, digits 0-9 and '-', starting and ending with a letter or digit, got "My_Cluster"`,
      '   3 |   "name": "My_Cluster",',
      '     |           ^^^^^^^^^^^^',
      '   hint: for example "my-cluster"',
      '',
      'desired_state.jsonc:4:33: error: $.version: must be one of "7.0", "8.0", got "7"',
      '   4 |   "engine": "redis", "version": "7",',
      '     |                                 ^^^',
      '   hint: did you mean "7.0"?',
      '',
      'desired_state.jsonc:5:20: error: $.replicationFactr: unknown field "replicationFactr"',
      '   5 |   "nodeGroups": 3, "replicationFactr": 2, "maxReplicationFactor": 3',
      '     |                    ^^^^^^^^^^^^^^^^^^',
      '   hint: did you mean "replicationFactor"?',
      '',
      '3 problems in desired_state.jsonc',
    ].join('\n'),
  );
});
