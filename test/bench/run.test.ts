// The bench's command line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BenchUsageError, parseRunArgs } from './run.ts';

test('defaults: both sides, 100k keys, writer at 2,000 commands/s, planner and generative on', () => {
  assert.deepEqual(parseRunArgs([]), {
    baseline: true,
    coxswain: true,
    keys: 100_000,
    rate: 2_000,
    planner: true,
    generative: true,
    generativeRuns: 100,
    json: undefined,
  });
});

test('options', () => {
  const a = parseRunArgs(['--baseline-only', '--keys', '5000', '--rate', '0', '--no-planner', '--no-generative', '--json', 'out.json']);
  assert.equal(a.coxswain, false);
  assert.equal(a.keys, 5000);
  assert.equal(a.rate, 0);
  assert.equal(a.planner, false);
  assert.equal(a.generative, false);
  assert.equal(a.json, 'out.json');
});

test('mistakes are usage errors that say what to do', () => {
  assert.throws(() => parseRunArgs(['--keys']), BenchUsageError);
  assert.throws(() => parseRunArgs(['--keys', 'many']), /whole number/);
  assert.throws(() => parseRunArgs(['--baseline-only', '--coxswain-only']), /exclude each other/);
  assert.throws(() => parseRunArgs(['--fast']), /unknown argument "--fast"; usage/);
});
