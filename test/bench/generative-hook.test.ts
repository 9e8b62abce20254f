// Reading the generative runner's summary line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGenerativeLine } from './generative-hook.ts';

test('the last summary line is read; the start line is not a summary', () => {
  const out = 'generative: seed 1, 20 scenarios\nknown issues hit: x\ngenerative: 20 scenarios, 1 failures, 3 scenarios/s\n';
  assert.deepEqual(parseGenerativeLine(out), { scenarios: 20, failures: 1, perSecond: 3, line: 'generative: 20 scenarios, 1 failures, 3 scenarios/s' });
  assert.equal(parseGenerativeLine('generative: seed 1, 20 scenarios\n'), undefined);
  assert.equal(parseGenerativeLine(''), undefined);
});
