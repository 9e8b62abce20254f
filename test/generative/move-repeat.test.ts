// Slot moves are idempotent (safety invariant 5): a leader restarted mid-move plans from an
// observation taken before the old leader's move showed and sends the same move again. With
// moves planned by count it moved as many slots again (error-state-335f2cc0.json: 8192
// slots from vm-1 to vm-4 twice, then 8192 back out); a move names its exact slots now, and
// the repeat finds them at the target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadCorpus } from './corpus.ts';
import { systemUnderTest } from './harness.ts';
import { report } from './run.ts';
import { runScenario } from './runner.ts';

test('a leader restarted mid-move does not move the slots a second time (error-state-335f2cc0)', async () => {
  const entry = loadCorpus().find((c) => path.basename(c.file) === 'error-state-335f2cc0.json');
  assert.ok(entry !== undefined, 'the regression file is in test/regressions/');
  const result = await runScenario(entry.regression.scenario, systemUnderTest());
  assert.ok(result.ok, report(entry.regression.scenario, result));
  assert.ok(result.stats.leaders >= 2, 'the scenario restarts the leader');
  const moves = result.trace.filter((line) => / moved \d+ slots from /.test(line));
  const slots = moves.reduce((n, line) => n + Number(/ moved (\d+) slots/.exec(line)?.[1] ?? 0), 0);
  // 1 node group becomes 2 (with an upgrade to 8.0): half the slots move once, nothing more.
  assert.equal(slots, 8192, moves.join('\n'));
});
