// Test support: drives plan() against the model world (model.ts) until it is done, and
// checks every batch on the way — safe (checkStepSafety), deterministic (the same input
// gives a deep-equal plan), and leaving its input untouched.
import assert from 'node:assert/strict';
import type { Desired } from '../../../desired-state/types.ts';
import { describeStep, type Plan } from '../../model/step.ts';
import { checkStepSafety } from '../invariants.ts';
import { plan } from '../plan.ts';
import type { Model } from './model.ts';

export interface ConvergeOptions {
  /** Give up after this many plan() calls. @default 200 */
  maxRounds?: number;
  /** Check determinism and input immutability each round (slower). @default true */
  strict?: boolean;
  /** Called after each applied batch (fault injection). */
  afterRound?: (round: number, model: Model) => void;
  /** Receives each round's line as it happens (debugging). */
  log?: (line: string) => void;
  /** A step of the batch fails (is not carried out) when this says so: failed or timed-out calls. */
  fails?: (round: number, index: number) => boolean;
}

export interface ConvergeResult {
  /** plan() calls until `done` (the last included). */
  rounds: number;
  /** Steps carried out. */
  steps: number;
  /** Rounds in which the plan only waited. */
  waits: number;
  log: string[];
}

export function converge(desired: Desired, model: Model, opts: ConvergeOptions = {}): ConvergeResult {
  const max = opts.maxRounds ?? 200;
  const strict = opts.strict ?? true;
  const log: string[] = [];
  let steps = 0;
  let waits = 0;
  let last: Plan | undefined;
  model.expectRestore(desired.restoreFromBackup?.id);
  for (let round = 1; round <= max; round++) {
    const observed = model.observe();
    const before = strict ? structuredClone(observed) : undefined;
    const p = plan(desired, observed);
    if (strict) {
      assert.deepEqual(observed, before, 'plan() changed its input');
      assert.deepEqual(plan(desired, observed), p, 'plan() is not deterministic');
    }
    last = p;
    const batch = p.next.map((s) => s.step);
    const violations = checkStepSafety(desired, observed, batch);
    assert.deepEqual(violations, [], `round ${round}: unsafe batch\n${batch.map(describeStep).join('\n')}\n${log.slice(-12).join('\n')}`);
    if (p.done) {
      assert.deepEqual(model.mismatches(desired), [], `plan says done but the model differs:\n${log.slice(-12).join('\n')}`);
      assert.equal(p.remaining, 0);
      return { rounds: round, steps, waits, log };
    }
    assert.deepEqual(p.blocked, [], `round ${round}: blocked\n${log.slice(-12).join('\n')}`);
    assert.ok(p.remaining >= p.next.length, 'remaining counts the next steps');
    if (p.next.length === 0) {
      assert.ok(p.waiting.length > 0, 'an empty, not-done plan says what it waits for');
      waits++;
      log.push(`#${round} wait: ${p.waiting.join(' | ')}`);
      opts.log?.(log[log.length - 1] ?? '');
    } else {
      log.push(`#${round} ${batch.map(describeStep).join(' | ')}`);
      opts.log?.(log[log.length - 1] ?? '');
      batch.forEach((s, i) => {
        if (opts.fails?.(round, i) === true) log.push(`   (failed: ${describeStep(s)})`);
        else model.apply(s);
      });
      steps += batch.length;
    }
    model.tick();
    opts.afterRound?.(round, model);
  }
  if (process.env.PLANNER_DUMP !== undefined) {
    const o = model.observe();
    console.log(JSON.stringify(desired));
    for (const vm of o.vms) console.log(vm.id, vm.nodeGroup, vm.zone, vm.vmType, vm.storageGiB, vm.temporary, JSON.stringify(vm.dataNodes.map((n) => [n.role, n.up, n.version, n.runningSince, n.primaryId, n.inSync, n.slots.length])));
  }
  assert.fail(`no convergence in ${max} rounds; last plan waits for: ${last?.waiting.join(' | ') ?? ''}\n${log.slice(0, Number(process.env.PLANNER_LOG_HEAD ?? 0)).join('\n')}\n…\n${log.slice(-20).join('\n')}`);
}
