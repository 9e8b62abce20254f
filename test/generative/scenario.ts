// The data shape of one generative scenario, and the fast-check arbitrary that draws it.
//
// A scenario is plain JSON: the world's parameters, the desired states offered to the
// leader and when, the faults, the clients' write rhythm. It holds no fast-check
// internals and no seed it depends on, so a failing one is saved as a regression file
// and replayed from the data after the generators change. fast-check shrinks this very
// shape (fewer desired states, fewer faults, smaller numbers), so failures come out small.
import fc from 'fast-check';
import type { Desired } from '../../desired-state/types.ts';
import { sinkKey } from '../../operator/model/observed.ts';
import { arbFaults, type Fault, type FaultOptions } from '../arbitraries/faults.ts';
import { arbSimDesired, arbSimNextDesired } from '../arbitraries/desired-state.ts';
import type { WorldParams } from './world.ts';

export const SCENARIO_FORMAT = 1;

/** When a desired state is offered to the leader. */
export type OfferAt =
  /** Once the leader is at rest (AT_DESIRED_STATE or ERROR_STATE) after the previous offer. */
  | { kind: 'at-rest' }
  /** After this many mutating calls since the previous offer (mid-work: it must wait as pending). At rest if the work ends sooner. */
  | { kind: 'after-calls'; calls: number };

export interface ScenarioStep {
  desired: Desired;
  /** Ignored for the first step (offered at the start). */
  offerAt: OfferAt;
}

export interface Scenario {
  format: typeof SCENARIO_FORMAT;
  world: WorldParams;
  /** Desired states in the order they are offered; each a valid successor of the one before. */
  steps: ScenarioStep[];
  faults: Fault[];
  /** Once the cluster first reached a desired state with running: true, clients write every this many virtual ms. */
  writeEveryMs: number;
  /** The leader's pace (reconciler options): how soon it re-observes after a batch, and how often at rest. */
  leader: { settleIntervalMs: number; observeIntervalMs: number };
}

export interface ScenarioOptions {
  /** Desired states after the first, at most. @default 3 */
  maxSuccessors?: number;
  /** @default 4 */
  maxNodeGroups?: number;
  /** @default arbFaults' defaults */
  faults?: FaultOptions;
}

/** Steps: a first desired state and up to `max` successors, each drawn from the one before. */
function arbSteps(max: number, maxNodeGroups: number): fc.Arbitrary<ScenarioStep[]> {
  const arbOfferAt: fc.Arbitrary<OfferAt> = fc.oneof(
    { withCrossShrink: true },
    { weight: 2, arbitrary: fc.constant<OfferAt>({ kind: 'at-rest' }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }).map((calls): OfferAt => ({ kind: 'after-calls', calls })) },
  );
  const more = (prev: Desired, everRan: boolean, left: number): fc.Arbitrary<ScenarioStep[]> => {
    if (left === 0) return fc.constant<ScenarioStep[]>([]);
    return fc.oneof(
      { withCrossShrink: true },
      { weight: 1, arbitrary: fc.constant<ScenarioStep[]>([]) },
      {
        weight: 3,
        arbitrary: fc
          .tuple(arbSimNextDesired(prev, { everRan, maxNodeGroups }), arbOfferAt)
          .chain(([next, offerAt]) => more(next, everRan || next.running, left - 1).map((rest) => [{ desired: next, offerAt }, ...rest])),
      },
    );
  };
  return arbSimDesired({ maxNodeGroups }).chain((first) =>
    more(first, first.running, max).map((rest) => [{ desired: first, offerAt: { kind: 'at-rest' } as OfferAt }, ...rest]),
  );
}

type SinkBackup = WorldParams['preexistingBackups'][number];

/** Every backup a restoreFromBackup of the steps names: it exists before the cluster does (another cluster made it). */
export function preexistingBackups(steps: readonly ScenarioStep[]): WorldParams['preexistingBackups'] {
  const seen = new Map<string, SinkBackup>();
  for (const s of steps) {
    const r = s.desired.restoreFromBackup;
    if (r !== undefined) seen.set(`${r.id}@${sinkKey(r.sink)}`, { id: r.id, sink: { type: 'local', path: r.sink.path } });
  }
  return [...seen.values()];
}

/** The sinks the steps name (backups and restoreFromBackup), by sinkKey. */
function namedSinks(steps: readonly ScenarioStep[]): Set<string> {
  const out = new Set<string>();
  for (const s of steps) for (const b of [...s.desired.backups, ...(s.desired.restoreFromBackup === undefined ? [] : [s.desired.restoreFromBackup])]) out.add(sinkKey(b.sink));
  return out;
}

/** `backups` without the ones in sinks no step names any more (the leader never lists those): for the shrinker, after it dropped steps. */
export function inNamedSinks(backups: WorldParams['preexistingBackups'], steps: readonly ScenarioStep[]): WorldParams['preexistingBackups'] {
  const sinks = namedSinks(steps);
  return backups.filter((b) => sinks.has(sinkKey(b.sink)));
}

/**
 * What the sinks hold before the scenario starts. Mostly the backups restoreFromBackup
 * names (preexistingBackups); sometimes not one of them (a restore of a backup its sink does
 * not hold: the plan is blocked, operator/planner/restore.ts), and sometimes backups of
 * another cluster in sinks the desired states name: under an id a desired state lists (it
 * exists before it would be taken), or under the id a restore names, in another sink
 * (operator/planner/backups.ts never deletes the restore's id, whatever its sink).
 */
function arbSinkContents(steps: readonly ScenarioStep[]): fc.Arbitrary<WorldParams['preexistingBackups']> {
  const restores = preexistingBackups(steps);
  const sinks = [...namedSinks(steps)].map((k) => k.slice('local:'.length));
  const others = new Map<string, SinkBackup>();
  const add = (id: string, path: string): void => {
    const key = `${id}@local:${path}`;
    if (!restores.some((r) => `${r.id}@${sinkKey(r.sink)}` === key)) others.set(key, { id, sink: { type: 'local', path } });
  };
  for (const s of steps) for (const b of s.desired.backups) add(b.id, b.sink.path);
  for (const r of restores) for (const path of sinks) add(r.id, path);
  const present = restores.length === 0 ? fc.constant(restores) : fc.oneof({ weight: 9, arbitrary: fc.constant(restores) }, { weight: 1, arbitrary: fc.subarray(restores) });
  const extra = others.size === 0 ? fc.constant<SinkBackup[]>([]) : fc.oneof({ weight: 3, arbitrary: fc.constant<SinkBackup[]>([]) }, { weight: 1, arbitrary: fc.subarray([...others.values()], { minLength: 1, maxLength: Math.min(2, others.size) }) });
  return fc.tuple(present, extra).map(([p, e]) => [...p, ...e]);
}

export function arbScenario(opts: ScenarioOptions = {}): fc.Arbitrary<Scenario> {
  return fc
    .record({
      steps: arbSteps(opts.maxSuccessors ?? 3, opts.maxNodeGroups ?? 4).chain((steps) => arbSinkContents(steps).map((backups) => ({ steps, backups }))),
      faults: arbFaults(opts.faults),
      writeEveryMs: fc.integer({ min: 1000, max: 30_000 }),
      fullSyncMs: fc.integer({ min: 50, max: 2000 }),
      partialSyncMs: fc.integer({ min: 10, max: 500 }),
      convergeMs: fc.integer({ min: 0, max: 3000 }),
      nodeTimeoutMs: fc.constantFrom(2000, 5000, 15_000),
      installedAtCreate: fc.constantFrom<WorldParams['installedAtCreate']>(['7.0'], ['7.0', '8.0'], []),
      agentStartMs: fc.oneof({ withCrossShrink: true }, { weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 8000 }) }),
      seed: fc.nat(),
      // Mostly none; sometimes a node no VM runs joins and dies (world.ts "Ghosts"): the
      // members must forget it before the leader may say it is done.
      strangers: fc.oneof(
        { withCrossShrink: true },
        { weight: 3, arbitrary: fc.constant<{ afterCall: number }[]>([]) },
        { weight: 1, arbitrary: fc.array(fc.record({ afterCall: fc.integer({ min: 0, max: 60 }) }, { noNullPrototype: true }), { minLength: 1, maxLength: 2 }) },
      ),
      // The production default (100 ms settle, 1 s at rest) sometimes; slower paces mostly, which
      // cost fewer observations per scenario and give the world's timers other interleavings.
      settleIntervalMs: fc.oneof({ weight: 1, arbitrary: fc.constant(100) }, { weight: 3, arbitrary: fc.constantFrom(500, 1000) }),
      observeIntervalMs: fc.oneof({ weight: 1, arbitrary: fc.constant(1000) }, { weight: 2, arbitrary: fc.constant(3000) }),
    }, { noNullPrototype: true })
    .map(
      (r): Scenario => ({
        format: SCENARIO_FORMAT,
        world: {
          fullSyncMs: r.fullSyncMs,
          partialSyncMs: r.partialSyncMs,
          convergeMs: r.convergeMs,
          nodeTimeoutMs: r.nodeTimeoutMs,
          installedAtCreate: r.installedAtCreate,
          agentStartMs: r.agentStartMs,
          seed: r.seed,
          preexistingBackups: r.steps.backups,
          ...(r.strangers.length > 0 ? { strangers: r.strangers } : {}),
        },
        steps: r.steps.steps,
        faults: r.faults,
        writeEveryMs: r.writeEveryMs,
        leader: { settleIntervalMs: r.settleIntervalMs, observeIntervalMs: r.observeIntervalMs },
      }),
    );
}
