// `coxswain validate` from the outside: bad input gives exit 1 and a located message,
// never a stack trace or a hang; usage mistakes give exit 2 and a one-line hint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, ftruncateSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hasStackTrace, runCli } from '../../test/support/run-cli.ts';

const example = readFileSync(new URL('../../desired-state/desired_state.jsonc', import.meta.url), 'utf8');
const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-validate-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

// name, content, a pattern the output must contain ("file:line:col: error: ..." or "file: error: ...")
const badInputs: Array<[string, string | Buffer, RegExp]> = [
  ['empty.jsonc', '', /empty\.jsonc(:1:1)?: error: .*empty/i],
  ['binary.jsonc', Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x13, 0x37, 0x00, 0x42]), /binary\.jsonc:1:\d+: error: .*(text|binary|UTF-8|NUL)/i],
  ['array.jsonc', '[1, 2, 3]\n', /array\.jsonc:1:1: error: \$: .*object.*array/i],
  ['trailing.jsonc', example + '\n}} garbage', /trailing\.jsonc:\d+:\d+: error: .*(after the end|end of the document)/i],
  ['unterminated.jsonc', '{\n  "name": "demo\n}\n', /unterminated\.jsonc:2:\d+: error: .*unterminated string/i],
  ['duplicate.jsonc', example.replace('"nodeGroups": 3,', '"nodeGroups": 3,\n  "nodeGroups": 4,'), /duplicate\.jsonc:\d+:3: error: \$\.nodeGroups: .*duplicate/i],
];

for (const [name, content, expected] of badInputs) {
  test(`validate refuses ${name} with exit 1, a located message and no stack trace`, async () => {
    const run = await runCli(['validate', file(name, content)]);
    const output = run.stdout + run.stderr;
    assert.equal(run.code, 1, output);
    assert.match(output, expected);
    assert.equal(hasStackTrace(output), false, output);
  });
}

test('validate refuses a 20 MB file quickly, without reading it', async () => {
  const big = path.join(dir, 'big.jsonc');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, 20 * 1024 * 1024);
  closeSync(fd);
  const run = await runCli(['validate', big]);
  const output = run.stdout + run.stderr;
  assert.equal(run.code, 1, output);
  assert.match(output, /big\.jsonc: error: .*(20 MiB|20971520|too large)/i);
  assert.equal(hasStackTrace(output), false, output);
  assert.ok(run.ms < 10_000, `took ${run.ms} ms`);
});

test('validate accepts the example file with exit 0', async () => {
  const run = await runCli(['validate', file('ok.jsonc', example)]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /ok\.jsonc: valid — id 1, cluster "demo", redis 7\.0, 3 node groups × 2 \(6 data nodes\)/);
});

test('validate --previous reports a lower id as ignored, exit 1, at the id', async () => {
  const prev = file('prev.jsonc', example.replace('"id": 1,', '"id": 5,'));
  const next = file('next.jsonc', example.replace('"id": 1,', '"id": 3,'));
  const run = await runCli(['validate', next, '--previous', prev]);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /ignored/);
  assert.match(run.stdout, /next\.jsonc:\d+:\d+: error: \$\.id: id 3 is not greater than the accepted id 5/);
});

test('validate --previous flags an edit that changes a field but keeps the id: exit 1, at the id, with the fix', async () => {
  const prev = file('accepted5.jsonc', example.replace('"id": 1,', '"id": 5,'));
  const next = file('edited5.jsonc', example.replace('"id": 1,', '"id": 5,').replace('"replicationFactor": 2,', '"replicationFactor": 3,'));
  const line = example.split('\n').findIndex((l) => l.includes('"id": 1,')) + 1;
  const run = await runCli(['validate', next, '--previous', prev]);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.doesNotMatch(run.stdout, /valid —/);
  assert.match(run.stdout, new RegExp(`edited5\\.jsonc:${line}:9: error: \\$\\.id: id 5 is not greater than the accepted id 5, so this desired state is ignored`));
  assert.match(run.stdout, /hint: set "id" to 6 or more/);
  const json = await runCli(['validate', next, '--previous', prev, '--json']);
  assert.equal(json.code, 1);
  assert.equal((JSON.parse(json.stdout) as { verdict: string }).verdict, 'ignored');
  // Without --previous nothing changes: the file alone is valid.
  assert.equal((await runCli(['validate', next])).code, 0);
});

const usageMistakes: Array<[string[], RegExp]> = [
  [['validate'], /coxswain validate: missing FILE/],
  [['validate', 'a', 'b'], /unexpected argument "b"/],
  [['validate', 'x.jsonc', '--frobnicate'], /unknown option --frobnicate/],
  [['validate', 'x.jsonc', '--previous'], /option --previous needs a value/],
  [['valdate', 'x.jsonc'], /unknown command "valdate" — did you mean "validate"\?/],
  [['diff', '1'], /coxswain diff: missing the two version ids/],
  [['diff', 'one', '2'], /A must be a whole number, got "one"/],
  [['submit'], /coxswain submit: missing -f FILE/],
];

for (const [args, expected] of usageMistakes) {
  test(`usage mistake "coxswain ${args.join(' ')}" exits 2 with a one-line hint`, async () => {
    const run = await runCli(args);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stderr, expected);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  });
}

test('a file that does not exist is exit 1 with a plain message', async () => {
  const run = await runCli(['validate', path.join(dir, 'nope.jsonc')]);
  assert.equal(run.code, 1);
  assert.match(run.stdout + run.stderr, /nope\.jsonc: error: .*(no such file|does not exist|not found)/i);
  assert.equal(hasStackTrace(run.stdout + run.stderr), false);
});
