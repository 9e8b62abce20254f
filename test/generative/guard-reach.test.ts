// The floor of guard-reach.ts: the generative scenarios reach every guard of the planner
// (every batch.block, batch.waitOn and batch.wait call site of operator/planner/*.ts) that
// GUARD_NOTES does not list with why. A new guard is reached by the scenarios or gets a
// note; a guard the scenarios stop reaching (a generator change, a planner change) fails
// here, with the table.
//
// Environment: COXSWAIN_REACH_RUNS scenarios (default 200), on a fixed seed of its own
// (the floor is about the generators, so it does not follow COXSWAIN_TEST_SEED).
// `node --import tsx test/generative/guard-reach.ts --runs N --seed S` prints the table.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GUARD_NOTES, guardNote, measureReach, plannerGuards, reachTable } from './guard-reach.ts';

const RUNS = Number(process.env['COXSWAIN_REACH_RUNS'] ?? 200);
const SEED = 20_261_207;

describe('guard reach', () => {
  it('finds the guards in the planner, and every note names one', () => {
    const guards = plannerGuards();
    assert.ok(guards.filter((g) => g.kind === 'block').length >= 3, 'block() call sites');
    assert.ok(guards.filter((g) => g.kind === 'waitOn').length >= 15, 'waitOn() call sites');
    for (const n of GUARD_NOTES) {
      assert.ok(
        guards.some((g) => guardNote(g) === n),
        `the note on ${n.file} "${n.text}" names no guard any more: update it, or remove it if the guard is gone`,
      );
    }
  });

  it(`${RUNS} scenarios (seed ${SEED}) reach every guard that no note explains`, async () => {
    const r = await measureReach(RUNS, SEED);
    const table = reachTable(r);
    console.log(table);
    const missed = r.guards.filter((g) => (r.reached.get(g.site) ?? 0) === 0 && guardNote(g) === undefined);
    assert.deepEqual(
      missed.map((g) => g.site),
      [],
      `guards the generative scenarios no longer reach (reach them, or add a note to GUARD_NOTES in guard-reach.ts saying why not):\n${table}`,
    );
    // A note that says a guard cannot be reached is wrong once a scenario reaches it.
    const wrong = r.guards.filter((g) => {
      const n = guardNote(g);
      return n !== undefined && n.kind !== 'rare' && (r.reached.get(g.site) ?? 0) > 0;
    });
    assert.deepEqual(wrong.map((g) => g.site), [], `guards reached although their note says they cannot be:\n${table}`);
    const unknown = [...r.reached.keys()].filter((site) => !r.guards.some((g) => g.site === site));
    assert.deepEqual(unknown, [], 'call sites the source scan did not find');
  });
});
