// The scenario's data shape, its generator, the fault injector and the data shrinker:
// drawn scenarios are valid sequences of desired states that survive JSON; faults fire
// on the calls they name; shrinking keeps what a failure needs and drops the rest.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ClusterStatus } from '../../operator/model/status.ts';
import { injectedFaultsExhaust } from './checks.ts';
import { FaultInjector, INJECTED } from './faults.ts';
import { systemUnderTest } from './harness.ts';
import { runScenario } from './runner.ts';
import { arbScenario, type Scenario } from './scenario.ts';
import { shrinkScenario, validSequence } from './shrink.ts';
import { exampleDesired } from '../arbitraries/desired-state.ts';
import '../support/seed.ts'; // every property runs on the run's seed

describe('scenarios', () => {
  it('are valid sequences of desired states, and plain JSON', () => {
    fc.assert(
      fc.property(arbScenario(), (s) => {
        assert.ok(validSequence(s), 'each desired state is a valid successor of the one before');
        assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
        // What the sinks hold at the start lies in sinks the desired states name (the leader lists no other).
        const sinks = new Set(s.steps.flatMap((st) => [...st.desired.backups, ...(st.desired.restoreFromBackup === undefined ? [] : [st.desired.restoreFromBackup])].map((b) => b.sink.path)));
        for (const b of s.world.preexistingBackups) assert.ok(sinks.has(b.sink.path), `backup ${b.id} lies in a sink no desired state names`);
        for (const step of s.steps) assert.ok(step.desired.nodeGroups <= 4);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the fault injector', () => {
  it('fails the named call, then repeats with the same key only, or (sticky) the same method and VM', () => {
    const f = new FaultInjector([
      { kind: 'call-fails', call: 2, error: 'unavailable', times: 3, sticky: false },
      { kind: 'call-fails', call: 5, error: 'internal', times: 2, sticky: true },
    ]);
    assert.equal(f.mutatingCall(1, 'StopDataNode', 'vm-1', 'a').fail, undefined);
    const second = f.mutatingCall(2, 'StopDataNode', 'vm-1', 'b').fail;
    assert.ok(second?.message.includes(INJECTED) && second.kind === 'transient');
    assert.equal(f.mutatingCall(3, 'StopDataNode', 'vm-1', 'c').fail, undefined, 'another key');
    assert.ok(f.mutatingCall(4, 'StopDataNode', 'vm-1', 'b').fail !== undefined, 'the same key again');
    assert.equal(f.mutatingCall(5, 'JoinNode', 'vm-2', 'd').fail?.kind, 'terminal');
    assert.ok(f.mutatingCall(6, 'JoinNode', 'vm-2', 'e').fail !== undefined, 'sticky: any key');
    assert.equal(f.mutatingCall(7, 'JoinNode', 'vm-2', 'f').fail, undefined, 'times used up');
    assert.deepEqual(f.fired, [2, 2]);
  });

  it('counts the injected failures per method and VM, whichever faults add them up', () => {
    const f = new FaultInjector([
      { kind: 'call-fails', call: 1, error: 'internal', times: 3, sticky: true },
      { kind: 'call-fails', call: 5, error: 'internal', times: 3, sticky: true },
    ]);
    const failed = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => f.mutatingCall(i, 'EnsureVersion', i === 4 ? 'vm-2' : 'vm-7', `k${i}`).fail !== undefined);
    assert.deepEqual(failed, [true, true, true, false, true, true, true, false, false]);
    assert.deepEqual([...f.failuresByCall], [['EnsureVersion on vm-7', 6]]);
    const status = (attempts: number, reason = `EnsureVersion on vm-7: EnsureVersion on vm-7 failed ${INJECTED} (INTERNAL) (5 failed jobs, ${attempts} calls)`) =>
      ({ lastError: { step: 'make version 8.0 available on vm-7', reason, attempts, at: '' } }) as ClusterStatus;
    // Two sticky faults ×3: 6 failures outlast a budget of 5 jobs of one call each; neither alone does.
    assert.equal(injectedFaultsExhaust(status(5), f.failuresByCall), true);
    assert.equal(injectedFaultsExhaust(status(6), f.failuresByCall), true);
    // More failed calls than injected failures: something else failed the step too.
    assert.equal(injectedFaultsExhaust(status(7), f.failuresByCall), false);
    // Another VM, or a failure that was not injected.
    assert.equal(injectedFaultsExhaust(status(5, `EnsureVersion on vm-2: EnsureVersion on vm-2 failed ${INJECTED} (INTERNAL)`), f.failuresByCall), false);
    assert.equal(injectedFaultsExhaust(status(5, 'EnsureVersion on vm-7: no space left (INTERNAL)'), f.failuresByCall), false);
  });

  it('times a call out, duplicates it, slows it', () => {
    const f = new FaultInjector([
      { kind: 'call-times-out', call: 1, effect: true },
      { kind: 'call-duplicated', call: 1, delayMs: 50 },
      { kind: 'call-slow', call: 1, ms: 700 },
    ]);
    assert.deepEqual(f.mutatingCall(1, 'MoveData', 'vm-1', 'k'), { timeout: { effect: true }, duplicateAfterMs: 50, slowMs: 700 });
    assert.deepEqual(f.mutatingCall(2, 'MoveData', 'vm-1', 'k'), {});
  });
});

describe('shrinking a scenario', () => {
  it('keeps only what the failure needs', async () => {
    const d1 = exampleDesired({ id: 5, config: { 'maxmemory-policy': 'noeviction' } });
    const d2 = exampleDesired({ id: 6, replicationFactor: 3 });
    const d3 = exampleDesired({ id: 7, replicationFactor: 3, runningSince: 7 });
    const scenario: Scenario = {
      format: 1,
      world: { fullSyncMs: 900, partialSyncMs: 90, convergeMs: 900, nodeTimeoutMs: 5000, installedAtCreate: ['7.0'], seed: 1, preexistingBackups: [] },
      steps: [
        { desired: d1, offerAt: { kind: 'at-rest' } },
        { desired: d2, offerAt: { kind: 'after-calls', calls: 3 } },
        { desired: d3, offerAt: { kind: 'at-rest' } },
      ],
      faults: [
        { kind: 'read-fails', read: 4 },
        { kind: 'crash', what: 'vm', afterCall: 3, delayMs: 0, vm: 1 },
      ],
      writeEveryMs: 1000,
      leader: { settleIntervalMs: 100, observeIntervalMs: 1000 },
    };
    // A stand-in failure: it needs the crash and a desired state with rf 3.
    const fails = (s: Scenario): Promise<boolean> =>
      Promise.resolve(s.faults.some((f) => f.kind === 'crash') && s.steps.some((st) => st.desired.replicationFactor === 3));
    const { scenario: small } = await shrinkScenario(scenario, fails);
    assert.deepEqual(small.faults, [{ kind: 'crash', what: 'vm', afterCall: 3, delayMs: 0, vm: 1 }]);
    assert.equal(small.steps.length, 1);
    assert.equal(small.steps[0]?.desired.replicationFactor, 3);
    assert.deepEqual(small.steps[0]?.desired.config, {});
    assert.equal(small.world.convergeMs, 0);
    assert.ok(validSequence(small));
  });
});

describe("a fault in a repair ('in-repair')", () => {
  const d = exampleDesired({ id: 1, nodeGroups: 1, replicationFactor: 2, maxReplicationFactor: 2, backups: [], config: {}, runningSince: 0, agentRunningSince: 0, availabilityZones: ['zone-a'] });
  const scenario = (faults: Scenario['faults'], steps: Scenario['steps'] = [{ desired: d, offerAt: { kind: 'at-rest' } }]): Scenario => ({
    format: 1,
    world: { fullSyncMs: 500, partialSyncMs: 50, convergeMs: 0, nodeTimeoutMs: 5000, installedAtCreate: ['7.0'], seed: 1, preexistingBackups: [] },
    steps,
    faults,
    writeEveryMs: 3000,
    leader: { settleIntervalMs: 500, observeIntervalMs: 3000 },
  });
  const at = (trace: readonly string[], re: RegExp, from = 0): number => trace.findIndex((t, i) => i >= from && re.test(t));

  it('crashes the node again after the leader started it (the repair), not at a random moment', async () => {
    const r = await runScenario(
      scenario([{ kind: 'in-repair', first: { what: 'node', afterCall: 4, delayMs: 0, vm: 0 }, window: { call: 'StartDataNode', nth: 1 }, delayMs: 100, second: { kind: 'crash', what: 'node', vm: 'same' } }]),
      systemUnderTest(),
    );
    assert.deepEqual(r.failures, []);
    assert.deepEqual(r.crashes.map((c) => c.vmId), ['vm-1', 'vm-1']);
    const first = at(r.trace, /vm-1 crashed/);
    const repaired = at(r.trace, /started vm-1 \(/, first);
    const second = at(r.trace, /vm-1 crashed/, repaired);
    assert.ok(first >= 0 && repaired > first && second > repaired, r.trace.join('\n'));
    // 100 ms after the start call, which the repair made once the crash was seen.
    assert.ok((r.crashes[1]?.atMs ?? 0) > (r.crashes[0]?.seenAtMs ?? Infinity));
  });

  it('restarts the leader in the leader\'s own work: at the Nth call of a kind after a mutating call, to any VM', async () => {
    const r = await runScenario(scenario([{ kind: 'in-repair', afterCall: 3, window: { call: 'JoinNode', nth: 1 }, delayMs: 0, second: { kind: 'leader-restart', zombieMs: 0 } }]), systemUnderTest());
    assert.deepEqual(r.failures, []);
    assert.equal(r.stats.leaders, 2);
    // Calls 1 and 2 start the nodes, call 3 is the founder's join; the window opens at the next JoinNode, the replica's.
    const restart = at(r.trace, /leader #2 started/);
    assert.ok(restart > at(r.trace, /vm-1 joined as a primary/) && restart < at(r.trace, /vm-2 joined as a replica/), r.trace.join('\n'));
  });

  it('has its second fault at rest when the window never opens', async () => {
    const r = await runScenario(scenario([{ kind: 'in-repair', afterCall: 0, window: { call: 'offer', nth: 1 }, delayMs: 0, second: { kind: 'crash', what: 'agent', vm: 'other' } }]), systemUnderTest());
    assert.deepEqual(r.failures, []);
    assert.ok(at(r.trace, /its window never opened, so at rest/) >= 0, r.trace.join('\n'));
    assert.equal(r.crashes.length, 1);
  });
});
