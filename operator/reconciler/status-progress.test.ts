// The progress the reconciler's status() reports, through a real reconcile: the jobs done
// never decrease while one desired state is worked on — also when the reconciler leaves
// ERROR_STATE and works again (it counts on) — and the total never falls below them.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { DesiredStateHistory } from '../../desired-state/history.ts';
import { validateDesiredStateText } from '../../desired-state/validate.ts';
import type { ClusterStatus } from '../model/status.ts';
import { MemoryFactsStore } from '../executor/facts-store.ts';
import { MemoryJournal } from '../executor/journal-memory.ts';
import type { Planner } from './options.ts';
import { Reconciler } from './reconciler.ts';
import { FakeCluster } from './testing/fake-cluster.ts';
import { tinyPlanner } from './testing/tiny-planner.ts';
import { VirtualClock, settle } from '../../test/support/virtual-clock.ts';

test('progress through ERROR_STATE and back: the jobs done never decrease for one desired state', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-progress-'));
  const clock = new VirtualClock();
  let broken = false;
  const planner: Planner = (d, o) => {
    if (broken) throw new Error('planner bug: no layout for 0 zones');
    return tinyPlanner(d, o);
  };
  const history = new DesiredStateHistory(dir, () => new Date(clock.now()));
  const r = new Reconciler({
    cluster: 'demo',
    history,
    provider: new FakeCluster(),
    journal: new MemoryJournal(),
    facts: new MemoryFactsStore(),
    clock,
    epoch: 1,
    logger: pino({ level: 'silent' }),
    planner,
  });
  const ctl = new AbortController();
  const running = r.run(ctl.signal);
  const seen: { state: string; done: number; total: number }[] = [];
  const until = async (pred: (s: ClusterStatus) => boolean, what: string): Promise<ClusterStatus> => {
    for (let turns = 0, idle = 0; turns < 200_000; turns++) {
      await settle();
      const s = await r.status();
      if (s.progress !== null) seen.push({ state: s.state, done: s.progress.done, total: s.progress.total });
      if (pred(s)) return s;
      const next = clock.nextDue();
      if (next === undefined && ++idle < 100) continue;
      idle = 0;
      if (next === undefined) break;
      await clock.advanceTo(next);
    }
    throw new Error(`test: never ${what}`);
  };
  try {
    const text = JSON.stringify({ id: 1, name: 'demo', engine: 'redis', version: '7.0', nodeGroups: 1, replicationFactor: 2, maxReplicationFactor: 3 });
    assert.equal((await r.offer(validateDesiredStateText({ file: 'desired.jsonc', text }, {}), 'file:desired.jsonc')).status, 'accepted');
    const before = await until((s) => (s.progress?.done ?? 0) >= 2, 'made progress');
    broken = true;
    await until((s) => s.state === 'ERROR_STATE', 'entered ERROR_STATE');
    broken = false;
    await until((s) => s.state === 'AT_DESIRED_STATE', 'reached desired state 1');
    const done = seen.map((p) => p.done);
    assert.ok(seen.length > 3 && (before.progress?.done ?? 0) >= 2, `progress seen: ${JSON.stringify(seen)}`);
    assert.ok(
      done.every((n, i) => i === 0 || n >= (done[i - 1] ?? 0)),
      `the jobs done went down: ${done.join(' → ')}`,
    );
    assert.ok(seen.every((p) => p.total >= p.done), `a total fell below the jobs done: ${JSON.stringify(seen)}`);
  } finally {
    ctl.abort(new Error('test over'));
    await clock.drive(running);
    await rm(dir, { recursive: true, force: true });
  }
});
