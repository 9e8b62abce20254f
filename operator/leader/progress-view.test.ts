// The progress view: what the block says for each state, the escape codes that redraw
// it in place on a terminal, and one plain line per change elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressView, progressSummary, progressText, renderProgress } from './progress-view.ts';
import { fakeStatus } from './test-fakes.ts';

test('the block shows the state, the steps done and an estimate of those to go, the job running now, waits, the pending id, errors and refusals', () => {
  const lines = renderProgress(
    fakeStatus({
      state: 'WORKING_TOWARDS_DESIRED_STATE',
      acceptedId: 3,
      pendingId: 4,
      progress: { done: 4, total: 9, remaining: 5, current: ['start data node vm-5 (version 8.0, node group 1, runningSince 1)'] },
      waiting: ['vm-5 to finish its initial sync'],
      lastRefusal: { id: 5, reason: 'x.jsonc:3:1: error: $.name: cannot change\n  more', at: '2025-01-01T00:00:00Z' },
    }),
  );
  assert.equal(lines[0], 'WORKING_TOWARDS_DESIRED_STATE  desired state 3  4 steps done, about 5 to go (estimate)');
  assert.ok(lines.includes('  now: start data node vm-5 (version 8.0, node group 1, runningSince 1)'));
  assert.ok(lines.includes('  waiting: vm-5 to finish its initial sync'));
  assert.ok(lines.includes('  next: desired state 4, once the current work ends'));
  assert.ok(lines.includes('  refused edit 5: x.jsonc:3:1: error: $.name: cannot change'), lines.join('\n'));
  assert.equal(lines.at(-1), '  1 node group, 2 of 2 data nodes up, 2 of 2 agents up');

  const error = renderProgress(fakeStatus({ state: 'ERROR_STATE', lastError: { step: 'stop data node vm-2', reason: 'agent unreachable', attempts: 5, jobId: '17', at: '' } }));
  assert.equal(error[0], 'ERROR_STATE  desired state 1');
  assert.ok(error.includes('  error: stop data node vm-2: agent unreachable (5 attempts, job 17)'));
});

test('on a terminal the block is redrawn in place; elsewhere a line is written only when something changes', () => {
  let tty = '';
  const live = new ProgressView({ stream: { write: (t: string) => (tty += t), isTTY: true }, footer: 'Ctrl-C stops the leader' });
  live.update(fakeStatus());
  assert.ok(!tty.startsWith('\x1b['), 'the first draw moves nothing');
  const drawn = tty.split('\n').length - 1;
  tty = '';
  live.update(fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', progress: { done: 0, total: 2, current: [] } }));
  assert.ok(tty.startsWith(`\x1b[${drawn}F\x1b[J`), JSON.stringify(tty.slice(0, 12)));
  assert.match(tty, /Ctrl-C stops the leader\n$/);
  tty = '';
  live.update(fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', progress: { done: 0, total: 2, current: [] } }));
  assert.equal(tty, '', 'the same block is not drawn again');
  const narrow = new ProgressView({ stream: { write: (t: string) => (tty += t), isTTY: true, columns: 30 } });
  narrow.update(fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', progress: { done: 0, total: 2, current: ['start data node vm-1 (version 8.0, node group 0, runningSince 1)'] } }));
  assert.ok(tty.split('\n').every((line) => line.length <= 29), 'lines are cut to the terminal width');

  const plain: string[] = [];
  const view = new ProgressView({ stream: { write: (t: string) => plain.push(t) }, now: () => new Date('2025-01-01T12:34:56Z') });
  view.update(fakeStatus());
  view.update(fakeStatus({ at: 'later' }));
  view.update(fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', acceptedId: 2, progress: { done: 1, total: 4, remaining: 3, current: ['create VM vm-3'] } }));
  assert.deepEqual(plain, [
    '12:34:56 AT_DESIRED_STATE  desired state 1\n',
    '12:34:56 WORKING_TOWARDS_DESIRED_STATE  desired state 2  1 step done, about 3 to go (estimate) — now: create VM vm-3\n',
  ]);
  assert.ok(plain.every((l) => !l.includes('\x1b')), 'no escape codes in plain output');
});

test('the one-line summary names the first job running and how many more, then waits and refusals', () => {
  const line = progressSummary(
    fakeStatus({
      state: 'WORKING_TOWARDS_DESIRED_STATE',
      acceptedId: 2,
      progress: { done: 0, total: 9, remaining: 9, current: ['create VM vm-7', 'create VM vm-8', 'create VM vm-9'] },
      waiting: ['the nodes do not agree on the topology yet'],
    }),
  );
  assert.equal(line, 'WORKING_TOWARDS_DESIRED_STATE  desired state 2  0 steps done, about 9 to go (estimate) — now: create VM vm-7 (+2 more); waiting: the nodes do not agree on the topology yet');
});

test('progress says what is counted and what is estimated, and never shows a step number ahead of the work', () => {
  const text = (progress: Parameters<typeof progressText>[0]) => [progressText(progress), progressText(progress, 'short')];
  assert.deepEqual(text({ done: 7, total: 30, remaining: 23, current: [] }), [
    '7 steps done, about 23 to go (estimated from the current plan)',
    '7 steps done, about 23 to go (estimate)',
  ]);
  assert.deepEqual(text({ done: 1, total: 1, remaining: null, current: [] }), ['1 step done, planning the rest', '1 step done, planning the rest']);
  // A leader from before `remaining`: only the total, an estimate, and never below the jobs done.
  assert.deepEqual(text({ done: 12, total: 9, current: [] }), ['12 steps done of about 12 (the total is an estimate)', '12 steps done of about 12 (estimate)']);
  // The trial's sequence, as the leader now reports it: done only grows, the estimate may move.
  const shown = [
    { done: 6, total: 30, remaining: 24 },
    { done: 6, total: 24, remaining: 18 },
    { done: 12, total: 30, remaining: 18 },
    { done: 14, total: 15, remaining: 1 },
  ].map((p) => renderProgress(fakeStatus({ state: 'WORKING_TOWARDS_DESIRED_STATE', progress: { ...p, current: [] } }))[0] ?? '');
  assert.deepEqual(
    shown.map((l) => /(\d+) steps? done/.exec(l)?.[1]),
    ['6', '6', '12', '14'],
  );
  assert.ok(shown.every((l) => l.includes('(estimate)')));
});
