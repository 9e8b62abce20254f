// A second shrinking pass, on the scenario's data, after fast-check's: fast-check shrinks
// the desired states through the generator chain (each successor drawn from the one
// before), which cannot drop a middle desired state or a field the next one depends on.
// This pass tries the simplifications a person would — drop a fault or a stranger, drop a desired
// state, offer at rest, empty the config, drop the backups, a quick world — keeps each
// one that still fails the same check and is still a valid sequence (every desired state
// a valid successor of the one before, as validation decides), and repeats until none
// helps.
import type { Desired } from '../../desired-state/types.ts';
import { validateDesiredStateText } from '../../desired-state/validate.ts';
import { inNamedSinks, type Scenario } from './scenario.ts';

/** Whether each desired state of the scenario is valid, and a valid successor of the one before. */
export function validSequence(s: Scenario): boolean {
  let previous: Desired | undefined;
  let everRan = false;
  for (const step of s.steps) {
    const v = validateDesiredStateText(
      { file: 'step.json', text: JSON.stringify(step.desired) },
      previous === undefined ? {} : { previous, everRan },
    );
    if (v.verdict !== 'valid') return false;
    everRan ||= step.desired.running;
    previous = step.desired;
  }
  return s.steps.length > 0;
}

/** Simpler variants of a scenario, simplest-first. */
function* candidates(s: Scenario): Generator<Scenario> {
  // The sinks keep what they held (a restore's backup the scenario left out stays out), but for sinks no step names any more.
  const withSteps = (steps: Scenario['steps']): Scenario => ({ ...s, steps, world: { ...s.world, preexistingBackups: inNamedSinks(s.world.preexistingBackups, steps) } });
  for (let i = s.faults.length - 1; i >= 0; i--) yield { ...s, faults: s.faults.filter((_, j) => j !== i) };
  const strangers = s.world.strangers ?? [];
  for (let i = strangers.length - 1; i >= 0; i--) {
    const { strangers: _all, ...world } = s.world;
    const rest = strangers.filter((_, j) => j !== i);
    yield { ...s, world: rest.length === 0 ? world : { ...world, strangers: rest } };
  }
  for (let i = s.steps.length - 1; i >= 0; i--) {
    if (s.steps.length > 1) yield withSteps(s.steps.filter((_, j) => j !== i).map((st, j) => (j === 0 ? { ...st, offerAt: { kind: 'at-rest' } } : st)));
  }
  for (let i = 1; i < s.steps.length; i++) {
    const st = s.steps[i];
    if (st !== undefined && st.offerAt.kind !== 'at-rest') yield withSteps(s.steps.map((x, j) => (j === i ? { ...x, offerAt: { kind: 'at-rest' } } : x)));
  }
  const edit = (f: (d: Desired) => Desired): Scenario => withSteps(s.steps.map((x) => ({ ...x, desired: f(x.desired) })));
  if (s.steps.some((x) => Object.keys(x.desired.config).length > 0)) yield edit((d) => ({ ...d, config: {} }));
  if (s.steps.some((x) => x.desired.backups.length > 0)) {
    yield edit((d) => ({ ...d, backups: d.restoreFromBackup === undefined ? [] : d.backups.filter((b) => b.id === d.restoreFromBackup?.id) }));
  }
  if (s.steps.some((x) => x.desired.restoreFromBackup !== undefined)) {
    yield edit((d) => {
      const { restoreFromBackup: _dropped, ...rest } = d;
      return rest;
    });
  }
  if (s.steps.some((x) => x.desired.availabilityZones.length > 1)) yield edit((d) => ({ ...d, availabilityZones: ['zone-a'] }));
  if (s.world.convergeMs > 0 || s.world.fullSyncMs > 100 || s.world.partialSyncMs > 10) {
    yield { ...s, world: { ...s.world, convergeMs: 0, fullSyncMs: 100, partialSyncMs: 10 } };
  }
}

/**
 * Shrinks `scenario` while `fails(candidate)` holds (it should say whether the candidate
 * still fails the same check). Returns the smallest found and how many candidates ran.
 */
export async function shrinkScenario(scenario: Scenario, fails: (s: Scenario) => Promise<boolean>, maxTries = 200): Promise<{ scenario: Scenario; tries: number }> {
  let best = scenario;
  let tries = 0;
  for (let improved = true; improved && tries < maxTries; ) {
    improved = false;
    for (const c of candidates(best)) {
      if (tries >= maxTries) break;
      if (!validSequence(c)) continue;
      tries++;
      if (await fails(c)) {
        best = c;
        improved = true;
        break;
      }
    }
  }
  return { scenario: best, tries };
}
