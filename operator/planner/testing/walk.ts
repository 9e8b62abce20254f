// Test support: a random walk of desired states through the model world (see
// convergence.property.test.ts), as data — so a failing walk printed by fast-check can be
// replayed with runWalk(JSON) while debugging.
import fc from 'fast-check';
import { arbDesired, arbNextDesired } from '../../../test/arbitraries/desired-state.ts';
import type { Desired } from '../../../desired-state/types.ts';
import { unreachable } from '../../reconciler/reachable.ts';
import { plan } from '../plan.ts';
import { converge } from './converge.ts';
import { Model } from './model.ts';

export interface Walk {
  first: Desired;
  legs: { seed: number; interruptAfter: number }[];
  slow: { syncTicks: number; agreeTicks: number };
  /** Every n-th step fails (0: none), counted across the walk. */
  failEvery: number;
  faults: { round: number; leg: number; target: number; kind: 'crash' | 'fail' }[];
}

export const small = (d: Desired): Desired => ({
  ...d,
  nodeGroups: Math.min(d.nodeGroups, 4),
  availabilityZones: d.availabilityZones.slice(0, 4) as [string, ...string[]],
});

/** Keeps the live parameters a single-copy cluster could not drop without a restart (config-diff.ts). */
function reachable(prev: Desired, next: Desired): Desired {
  if (prev.replicationFactor !== 1 || next.replicationFactor !== 1 || !prev.running || !next.running || next.allowTemporaryVms) return next;
  return { ...next, config: { ...prev.config, ...next.config } };
}

/** The backup a restore names exists in its sink (validation requires it). */
function provideRestore(m: Model, d: Desired): void {
  const r = d.restoreFromBackup;
  if (r !== undefined && !m.backups.some((b) => b.id === r.id)) m.backups.push({ id: r.id, sink: `${r.sink.type}:${r.sink.path}`, complete: true });
}

export const arbWalk = (): fc.Arbitrary<Walk> =>
  fc.record({
    first: arbDesired().map(small),
    legs: fc.array(fc.record({ seed: fc.nat(), interruptAfter: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 6 })) }), { minLength: 1, maxLength: 4 }),
    slow: fc.record({ syncTicks: fc.integer({ min: 1, max: 3 }), agreeTicks: fc.integer({ min: 0, max: 2 }) }),
    failEvery: fc.oneof(fc.constant(0), fc.integer({ min: 2, max: 7 })),
    faults: fc.array(
      fc.record({ round: fc.integer({ min: 1, max: 8 }), leg: fc.nat(3), target: fc.nat(), kind: fc.constantFrom('crash' as const, 'fail' as const) }),
      { maxLength: 3 },
    ),
  });

/** Runs a walk; throws (assertion) on an unsafe batch, a false "done", a block or no convergence. */
export function runWalk(w: Walk, log?: (line: string) => void): void {
  const m = new Model(w.slow);
  let count = 0;
  const fails = (): boolean => w.failEvery > 0 && ++count % w.failEvery === 0;
  provideRestore(m, w.first);
  const trace = (name: string, r: { log: string[] }): void => {
    if (log === undefined) return;
    log(`== ${name}`);
    for (const l of r.log) log(l);
  };
  trace('first', converge(w.first, m, { strict: false, maxRounds: 300 }));
  let prev = w.first;
  let everRan = w.first.running;
  w.legs.forEach((leg, i) => {
    const drawn = fc.sample(arbNextDesired(prev, { everRan }), { seed: leg.seed, numRuns: 1 })[0] ?? prev;
    const next = reachable(prev, small(drawn));
    log?.(`== leg ${i}: ${JSON.stringify(next)}`);
    // The leader refuses a candidate it cannot reach from the cluster as it is (a leg
    // interrupted mid-upgrade, then temporary VMs disallowed): the walk goes on from prev.
    const refused = unreachable(plan, next, prev, m.observe());
    if (refused.length > 0) {
      log?.(`   refused by the leader: ${refused.map((p) => p.message).join('; ')}`);
      return;
    }
    provideRestore(m, next);
    const afterRound = (round: number, model: Model): void => {
      for (const f of w.faults) {
        if (f.leg !== i || f.round !== round) continue;
        const ids = [...model.vms.keys()];
        const id = ids[f.target % Math.max(1, ids.length)];
        if (id === undefined) continue;
        log?.(`   fault: ${f.kind} ${id}`);
        if (f.kind === 'crash') model.crashNode(id);
        else model.failVm(id);
      }
    };
    if (leg.interruptAfter > 0 && i < w.legs.length - 1) {
      try {
        trace(`leg ${i} (interrupted)`, converge(next, m, { strict: false, maxRounds: leg.interruptAfter, afterRound, log, fails }));
      } catch (e) {
        if (!(e instanceof Error) || !e.message.startsWith('no convergence')) throw e;
      }
    } else {
      trace(`leg ${i}`, converge(next, m, { strict: false, maxRounds: 300, afterRound, log, fails }));
    }
    prev = next;
    everRan ||= next.running;
  });
  trace('last', converge(prev, m, { strict: false, maxRounds: 300, log }));
}
