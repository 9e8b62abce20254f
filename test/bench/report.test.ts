// The figures' lines: the operation lines keep the issue's exact form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptySide } from './ops.ts';
import type { OpResult } from './ops.ts';
import { generativeLine, memoryLines, operationLine, ratio, sideLines, sideProblems } from './report.ts';

const LINE = /^bench [a-z-]+: coxswain (\d+\.\d\d|-) s, baseline (\d+\.\d\d|-) s, ratio (\d+\.\d\d|-), client errors (\d+|-)$/;
const op = (seconds: number, clientErrors = 0): OpResult => ({ seconds, clientErrors, maxLatencyMs: 12, opsPerSecond: 1000 });

test('an operation line has the exact form of the issue', () => {
  const line = operationLine('scale-out', op(9, 2), op(4.5, 0), false);
  assert.equal(line, 'bench scale-out: coxswain 9.00 s, baseline 4.50 s, ratio 2.00, client errors 2');
  assert.match(line, LINE);
});

test('a side that did not run shows "-"; baseline-only reports the baseline errors', () => {
  assert.equal(operationLine('backup', undefined, op(0.33, 1), true), 'bench backup: coxswain - s, baseline 0.33 s, ratio -, client errors 1');
  assert.equal(operationLine('backup', undefined, op(0.33, 1), false), 'bench backup: coxswain - s, baseline 0.33 s, ratio -, client errors -');
  assert.equal(ratio(1, 0), '-');
});

test('every operation gets a line, in order, even when a side stopped early', () => {
  const baseline = emptySide('baseline');
  baseline.ops.bootstrap = op(2);
  baseline.failure = 'redis-cli --cluster create failed:\n[ERR] Node is not empty';
  const lines = sideLines(undefined, baseline);
  const opLines = lines.filter((l) => LINE.test(l));
  assert.deepEqual(
    opLines.map((l) => l.split(':')[0]),
    ['bootstrap', 'scale-out', 'scale-in', 'rolling-restart', 'upgrade', 'scale-out-valkey', 'scale-in-valkey', 'backup', 'restore'].map((o) => `bench ${o}`),
  );
  assert.ok(lines.includes('bench baseline failed: redis-cli --cluster create failed: | [ERR] Node is not empty'));
  assert.deepEqual(sideProblems(baseline), ['baseline: redis-cli --cluster create failed:']);
});

test('lost writes are problems', () => {
  const side = emptySide('coxswain');
  side.verify = { checked: 10, missing: 1, wrong: 0, unreadable: 0, examples: [], seconds: 0 };
  assert.deepEqual(sideProblems(side), ['coxswain: 1 acknowledged writes missing, 0 wrong, 0 unreadable']);
});

test('generative and memory lines', () => {
  assert.equal(
    generativeLine({ ok: true, figure: { scenarios: 100, failures: 0, perSecond: 3, line: '' } }),
    'bench generative: 3 scenarios/s (100 scenarios, 0 failures)',
  );
  assert.equal(generativeLine({ ok: false, reason: 'no runner' }), 'bench generative: - scenarios/s (no runner)');
  const cox = emptySide('coxswain');
  cox.memory = { leaderKiB: 81920, agentsKiB: [40960, 51200], dataNodesKiB: [10240] };
  const base = emptySide('baseline');
  base.memory = { leaderKiB: undefined, agentsKiB: [], dataNodesKiB: [7680, 7680] };
  assert.deepEqual(memoryLines(cox, base), [
    'bench memory leader: 80.0 MB RSS',
    'bench memory agents: 2 agents, 45.0 MB RSS each (max 50.0 MB)',
    'bench memory data nodes: coxswain 1 × 10.0 MB, baseline 2 × 7.5 MB RSS',
  ]);
});
