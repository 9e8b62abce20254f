// The leader refuses a valid desired state it cannot reach from the cluster as observed
// (reachable.ts): found by the planner's random walks (seed 584512792), where an
// interrupted upgrade with temporary VMs was followed by a desired state that disallowed
// them while the cluster still ran 7.0 with one node per node group.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Desired } from '../../desired-state/types.ts';
import { plan } from '../planner/plan.ts';
import { converge } from '../planner/testing/converge.ts';
import { Model } from '../planner/testing/model.ts';
import { unreachable } from './reachable.ts';

const first: Desired = {
  id: 1, name: 'c', engine: 'redis', version: '7.0', running: true, runningSince: 0, agentRunningSince: 0, nodeGroups: 2,
  replicationFactor: 1, maxReplicationFactor: 1, availabilityZones: ['a'], vmType: 'small', storageGiB: 1, config: {}, backups: [], allowTemporaryVms: false,
};

test('an upgrade interrupted part-way, then temporary VMs disallowed: refused with the planner\'s reason; allowed again, or at rest, it is reachable', () => {
  const m = new Model({ syncTicks: 1, agreeTicks: 0 });
  converge(first, m, { strict: false, maxRounds: 300 });
  assert.deepEqual(unreachable(plan, { ...first, id: 2, version: '8.0' }, first, m.observe()).map((p) => p.code), ['unreachable', 'unreachable'], 'validation refuses this one too; the planner agrees');
  const upgrade = { ...first, id: 2, version: '8.0' as const, allowTemporaryVms: true };
  // One round of the upgrade in which every second step fails: vm-4, the temporary VM of
  // node group 1, is not created.
  let count = 0;
  try {
    converge(upgrade, m, { strict: false, maxRounds: 1, fails: () => ++count % 2 === 0 });
  } catch (e) {
    if (!(e instanceof Error) || !e.message.startsWith('no convergence')) throw e;
  }
  const next = { ...upgrade, id: 3, allowTemporaryVms: false };
  const problems = unreachable(plan, next, upgrade, m.observe());
  assert.ok(problems.length > 0, 'refused');
  assert.match(problems[0]?.message ?? '', /^cannot be reached from the cluster as it is now: ng\d: vm-\d needs a restart \(version 7\.0 → 8\.0\) but it is the only node of its node group/);
  assert.deepEqual(unreachable(plan, { ...next, allowTemporaryVms: true }, upgrade, m.observe()), [], 'with temporary VMs it can be reached');
  converge(upgrade, m, { strict: false, maxRounds: 300 });
  assert.deepEqual(unreachable(plan, next, upgrade, m.observe()), [], 'once the upgrade is done, the same desired state is fine');
  assert.deepEqual(unreachable(plan, next, upgrade, undefined), [], 'nothing observed yet: nothing to hold against it');
});
