// The synthetic clusters the planner is timed on: balanced slots, and — checked with the
// real planner — at their desired state (plan done), with work after a rolling-restart edit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REDIS_SLOTS, slotCount } from '../../operator/model/observed.ts';
import { loadPlanner, timeCalls } from './planner-bench.ts';
import { balancedSlots, syntheticDesired, syntheticObserved, withRollingRestart } from './synthetic-cluster.ts';

test('balancedSlots covers every slot once, sizes within one', () => {
  for (const n of [1, 3, 7, 2000]) {
    const ranges = Array.from({ length: n }, (_, g) => balancedSlots(g, n));
    const sizes = ranges.map((r) => slotCount({ slots: r }));
    assert.equal(sizes.reduce((a, b) => a + b, 0), REDIS_SLOTS);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    let next = 0;
    for (const r of ranges.flat()) {
      assert.equal(r.start, next);
      next = r.end + 1;
    }
  }
});

test('the synthetic observation has one primary and rf-1 in-sync replicas per group, across the zones', () => {
  const desired = syntheticDesired({ nodeGroups: 4, replicationFactor: 3 });
  const observed = syntheticObserved(desired);
  assert.equal(observed.vms.length, 12);
  const nodes = observed.vms.flatMap((v) => v.dataNodes);
  assert.equal(nodes.filter((n) => n.role === 'primary').length, 4);
  assert.ok(nodes.filter((n) => n.role === 'replica').every((n) => n.inSync && n.primaryId !== undefined));
  assert.deepEqual(new Set(observed.vms.filter((v) => v.nodeGroup === 2).map((v) => v.zone)), new Set(desired.availabilityZones));
});

test('the real planner finds a synthetic cluster done, and plans a rolling restart one edit later', async () => {
  const plan = await loadPlanner();
  const desired = syntheticDesired({ nodeGroups: 20, replicationFactor: 2 });
  const observed = syntheticObserved(desired);
  const atDesired = plan(desired, observed);
  assert.deepEqual({ done: atDesired.done, next: atDesired.next.length, waiting: atDesired.waiting, blocked: atDesired.blocked }, { done: true, next: 0, waiting: [], blocked: [] });
  const restart = plan(withRollingRestart(desired), observed);
  assert.equal(restart.done, false);
  assert.ok(restart.next.length > 0, 'the rolling restart has steps');
});

test('timeCalls returns the median of the timed calls and the last result', () => {
  let calls = 0;
  const t = timeCalls(() => ++calls, 5, 0, 7);
  assert.ok(calls >= 8, `warm-up plus at least 5 timed calls (${calls})`);
  assert.equal(t.last, calls);
  assert.ok(t.ms >= 0 && t.ms < 50);
});
