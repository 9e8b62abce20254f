import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatJsonPath } from './problem.ts';
import type { Problem } from './problem.ts';
import {
  checkSourceBytes,
  firstInvalidUtf8,
  lineColumnAt,
  lineStarts,
  lineTextAt,
  MAX_DESIRED_STATE_BYTES,
  problemFile,
  readSourceFile,
} from './read-source.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-read-source-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const utf8 = (s: string) => new TextEncoder().encode(s);
const bytes = (...parts: Array<string | number[]>) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...utf8(p)] : p)));

/** What a refusal must say: code, formatted JSON path, a message fragment, line, column. */
type Expected = [code: Problem['code'], path: string, fragment: RegExp, line?: number, column?: number];

function assertProblem(problems: Problem[], [code, jsonPath, fragment, line, column]: Expected): void {
  assert.equal(problems.length, 1, JSON.stringify(problems));
  const [p] = problems;
  assert.ok(p !== undefined);
  assert.equal(p.code, code);
  assert.equal(formatJsonPath(p.path), jsonPath);
  assert.match(p.message, fragment);
  assert.equal(p.location?.line, line);
  assert.equal(p.location?.column, column);
  assert.ok(p.hint !== undefined && p.hint.length > 0, 'every refusal says what to do');
}

const refused: Array<[name: string, input: Uint8Array, expected: Expected]> = [
  ['an empty file', bytes(''), ['empty', '$', /empty/]],
  ['whitespace only', bytes(' \n\t\r\n  '), ['empty', '$', /empty.*whitespace and comments/]],
  ['comments only', bytes('// nothing yet\n/* still nothing */\n'), ['empty', '$', /empty/]],
  ['a byte-order mark only', bytes([0xef, 0xbb, 0xbf]), ['empty', '$', /empty/]],
  ['a NUL byte', bytes('{\n  "a": ', [0], '}'), ['not-text', '$', /binary.*NUL/, 2, 8]],
  ['a NUL after a BOM and CRLF', bytes([0xef, 0xbb, 0xbf], '{\r\n ', [0]), ['not-text', '$', /NUL/, 2, 2]],
  ['invalid UTF-8', bytes('{"name": "', [0xff], '"}'), ['not-text', '$', /not UTF-8.*0xff/, 1, 11]],
  ['a truncated UTF-8 sequence', bytes('{"a": "é', [0xe2, 0x82], '"}'), ['not-text', '$', /not UTF-8/, 1, 9]],
  ['an encoded surrogate', bytes('{}\n', [0xed, 0xa0, 0x80]), ['not-text', '$', /not UTF-8/, 2, 1]],
  ['UTF-16', bytes([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]), ['not-text', '$', /not UTF-8/, 1, 1]],
  ['random binary', bytes([0x7b, 0x00, 0xff, 0xfe, 0x13, 0x37]), ['not-text', '$', /NUL/, 1, 2]],
  ['more than the limit', new Uint8Array(MAX_DESIRED_STATE_BYTES + 1), ['file-too-large', '$', /too large.*1048577 bytes.*limit of 1 MiB/]],
];

for (const [name, input, expected] of refused) {
  void test(`checkSourceBytes refuses ${name}`, () => {
    const result = checkSourceBytes('desired_state.jsonc', input);
    assert.equal(result.ok, false);
    if (!result.ok) assertProblem(result.problems, expected);
  });
}

const accepted: Array<[name: string, input: Uint8Array, text: string]> = [
  ['a byte-order mark, which is dropped', bytes([0xef, 0xbb, 0xbf], '{}'), '{}'],
  ['CRLF line endings, kept as they are', bytes('{\r\n  "id": 1\r\n}\r\n'), '{\r\n  "id": 1\r\n}\r\n'],
  ['non-ASCII text', bytes('{"name": "café ☕ 𝄞"}'), '{"name": "café ☕ 𝄞"}'],
  ['an unfinished comment (left to the parser to explain)', bytes('/* {'), '/* {'],
  ['exactly the limit', bytes('{}', ' '.repeat(MAX_DESIRED_STATE_BYTES - 2)), `{}${' '.repeat(MAX_DESIRED_STATE_BYTES - 2)}`],
];

for (const [name, input, text] of accepted) {
  void test(`checkSourceBytes accepts ${name}`, () => {
    const result = checkSourceBytes('f.jsonc', input);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.source, { file: 'f.jsonc', text });
  });
}

void test('firstInvalidUtf8 agrees with the fatal TextDecoder', () => {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const samples = [[0x41], [0xc0, 0x80], [0xc2, 0x80], [0xe0, 0x9f, 0x80], [0xe0, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf4, 0x8f, 0xbf, 0xbf], [0xf5], [0x80], [0xf0, 0x9f, 0x98]];
  for (const sample of samples) {
    const input = Uint8Array.from(sample);
    let valid = true;
    try {
      decoder.decode(input);
    } catch {
      valid = false;
    }
    assert.equal(firstInvalidUtf8(input) < 0, valid, JSON.stringify(sample));
  }
});

void test('lines end at CRLF, CR or LF, and columns do not count the line break', () => {
  const text = 'a\r\nbb\rccc\nd';
  const starts = lineStarts(text);
  assert.deepEqual(starts, [0, 3, 6, 10]);
  assert.deepEqual(lineColumnAt(starts, 0), { line: 1, column: 1 });
  assert.deepEqual(lineColumnAt(starts, 4), { line: 2, column: 2 });
  assert.deepEqual(lineColumnAt(starts, 8), { line: 3, column: 3 });
  assert.deepEqual(lineColumnAt(starts, 11), { line: 4, column: 2 });
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => lineTextAt(text, starts, n)), ['a', 'bb', 'ccc', 'd', '']);
});

// ---------------------------------------------------------------------------------------
// Files.

void test('readSourceFile refuses a 20 MB file without reading it', () => {
  const big = path.join(dir, 'big.jsonc');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, 20 * 1024 * 1024);
  closeSync(fd);
  try {
    const started = performance.now();
    const result = readSourceFile(big);
    const ms = performance.now() - started;
    assert.equal(result.ok, false);
    if (!result.ok) {
      assertProblem(result.problems, ['file-too-large', '$', /too large: 20 MiB \(20971520 bytes\), over the limit of 1 MiB/]);
      assert.match(result.problems[0]?.hint ?? '', /a few KiB/);
      assert.equal(problemFile(result.problems[0] as Problem), big);
    }
    assert.ok(ms < 100, `took ${ms} ms`);
  } finally {
    rmSync(big);
  }
});

const unreadable: Array<[name: string, file: () => string, fragment: RegExp]> = [
  ['a file that does not exist', () => path.join(dir, 'nope.jsonc'), /cannot read the file: no such file or directory/],
  ['a directory', () => mkdirSync(path.join(dir, 'a-dir'), { recursive: true }) ?? path.join(dir, 'a-dir'), /is a directory/],
  ['a path through a file', () => writeTemp('plain.jsonc', '{}') + '/x.jsonc', /not a directory/],
];

for (const [name, file, fragment] of unreadable) {
  void test(`readSourceFile says why it cannot read ${name}, in words`, () => {
    const f = file();
    const result = readSourceFile(f);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assertProblem(result.problems, ['file-unreadable', '$', fragment]);
    assert.doesNotMatch(result.problems[0]?.message ?? '', /E[A-Z]+:|errno|syscall/);
    assert.equal(problemFile(result.problems[0] as Problem), f);
  });
}

void test('readSourceFile reads a file, drops the BOM and keeps CRLF', () => {
  const f = writeTemp('bom.jsonc', '\uFEFF{\r\n  "id": 1\r\n}\r\n');
  assert.deepEqual(readSourceFile(f), { ok: true, source: { file: f, text: '{\r\n  "id": 1\r\n}\r\n' } });
});

void test('readSourceFile refuses an empty file and binary content', () => {
  const empty = readSourceFile(writeTemp('empty.jsonc', ''));
  assert.equal(empty.ok ? 'ok' : empty.problems[0]?.code, 'empty');
  const binary = readSourceFile(writeTemp('binary.jsonc', Buffer.from([0x7b, 0x00, 0xff])));
  assert.equal(binary.ok ? 'ok' : binary.problems[0]?.code, 'not-text');
});

void test('readSourceFile reads a device only up to the limit (/dev/zero is refused, not read forever)', { skip: process.platform === 'win32' }, () => {
  const result = readSourceFile('/dev/zero');
  assert.equal(result.ok ? 'ok' : result.problems[0]?.code, 'file-too-large');
});

function writeTemp(name: string, content: string | Buffer): string {
  const f = path.join(dir, name);
  writeFileSync(f, content);
  return f;
}
