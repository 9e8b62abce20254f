// Convergence: plan() applied round after round to the model world (testing/model.ts)
// reaches `done` — with every batch checked safe, deterministic and input-preserving
// (testing/converge.ts) — from nothing and from one desired state to another. The
// rounds each case takes are printed (node --test shows them as diagnostics) and bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import type { Desired } from '../../desired-state/types.ts';
import { converge } from './testing/converge.ts';
import { Model, type ModelOptions } from './testing/model.ts';
import { clusterAt } from './testing/test-cluster.ts';

const base = exampleDesired(); // 3 node groups × 2, zones a/b, Redis 7.0, backup "nightly"
const zones3 = ['zone-a', 'zone-b', 'zone-c'] as [string, ...string[]];

interface Case {
  name: string;
  from: Desired | undefined; // undefined: from nothing
  to: Partial<Desired>;
  /** Upper bound on plan() calls (fails the test when exceeded). */
  max: number;
}

const cases: Case[] = [
  { name: 'bootstrap 3×2 with a backup', from: undefined, to: {}, max: 10 },
  { name: 'bootstrap 1×1 (one group, one node)', from: undefined, to: { nodeGroups: 1, replicationFactor: 1, backups: [] }, max: 8 },
  { name: 'bootstrap 2×3 over three zones', from: undefined, to: { nodeGroups: 2, replicationFactor: 3, availabilityZones: zones3 }, max: 10 },
  { name: 'bootstrap stopped, no backups (VMs only)', from: undefined, to: { running: false, backups: [] }, max: 3 },
  { name: 'bootstrap stopped with a backup (founded for it, then stopped)', from: undefined, to: { running: false }, max: 12 },

  { name: 'scale out 3 → 5 node groups', from: base, to: { nodeGroups: 5 }, max: 14 },
  { name: 'scale in 3 → 1 node group', from: base, to: { nodeGroups: 1 }, max: 10 },
  { name: 'replicationFactor 2 → 3', from: base, to: { replicationFactor: 3 }, max: 8 },
  { name: 'replicationFactor 2 → 1', from: base, to: { replicationFactor: 1 }, max: 5 },
  { name: 'upgrade 7.0 → 8.0', from: base, to: { version: '8.0' }, max: 10 },
  { name: 'upgrade, replicationFactor 1 with temporary VMs', from: { ...base, replicationFactor: 1, allowTemporaryVms: true }, to: { version: '8.0' }, max: 16 },
  { name: 'replicationFactor 2 → 1 with an upgrade', from: base, to: { replicationFactor: 1, version: '8.0' }, max: 10 },
  { name: 'replicationFactor 1 → 2 with an upgrade', from: { ...base, replicationFactor: 1 }, to: { replicationFactor: 2, version: '8.0' }, max: 12 },
  { name: 'rolling restart (runningSince)', from: base, to: { runningSince: 5 }, max: 8 },
  { name: 'restart-only config (io-threads)', from: base, to: { config: { 'maxmemory-policy': 'noeviction', 'io-threads': 2 } }, max: 8 },
  { name: 'live config', from: base, to: { config: { 'maxmemory-policy': 'allkeys-lru', timeout: 30 } }, max: 3 },
  { name: 'zone change (zone-a → zone-c)', from: base, to: { availabilityZones: ['zone-b', 'zone-c'] }, max: 25 },
  { name: 'zone added (spread 2×a → a+b)', from: { ...base, availabilityZones: ['zone-a'] }, to: { availabilityZones: ['zone-a', 'zone-b'] }, max: 25 },
  { name: 'vmType change', from: base, to: { vmType: 'medium' }, max: 45 },
  { name: 'storageGiB change', from: base, to: { storageGiB: 20 }, max: 45 },
  { name: 'backup added, backup removed', from: base, to: { backups: [{ id: 'weekly', sink: { type: 'local', path: 'weekly' } }] }, max: 4 },
  { name: 'agent rolling restart', from: base, to: { agentRunningSince: 5 }, max: 8 },
  { name: 'stop', from: base, to: { running: false }, max: 4 },
  { name: 'stop with a scale out first', from: base, to: { running: false, nodeGroups: 4 }, max: 16 },
  {
    name: 'everything at once',
    from: base,
    to: {
      nodeGroups: 4,
      replicationFactor: 3,
      version: '8.0',
      runningSince: 5,
      agentRunningSince: 5,
      vmType: 'large',
      availabilityZones: ['zone-b', 'zone-c', 'zone-d'],
      config: { 'io-threads': 3 },
      backups: [],
    },
    max: 60,
  },
];

function run(c: Case, opts: ModelOptions = {}): { rounds: number; steps: number; waits: number } {
  const to: Desired = { ...(c.from ?? base), ...c.to, id: (c.from?.id ?? base.id) + 1 };
  const model = c.from === undefined ? new Model(opts) : Model.from(clusterAt(c.from), opts);
  return converge(to, model, { maxRounds: c.max * 4 });
}

for (const c of cases) {
  test(`converges: ${c.name}`, (t) => {
    const fast = run(c);
    t.diagnostic(`${c.name}: ${fast.rounds} plan calls, ${fast.steps} steps`);
    assert.ok(fast.rounds <= c.max, `${fast.rounds} rounds > ${c.max}`);
    // Slower replicas and a lagging topology only add waiting rounds.
    const slow = run(c, { syncTicks: 3, agreeTicks: 2 });
    t.diagnostic(`${c.name} (slow sync, lagging topology): ${slow.rounds} plan calls, ${slow.waits} of them waiting`);
    assert.ok(slow.rounds >= fast.rounds);
  });
}

test('converges: stopped, then started again with a new version', (t) => {
  const m = Model.from(clusterAt(base));
  converge({ ...base, id: 6, running: false }, m);
  const r = converge({ ...base, id: 7, version: '8.0', runningSince: 7 }, m);
  t.diagnostic(`start after stop with an upgrade: ${r.rounds} plan calls`);
  assert.ok(r.rounds <= 4);
});

test('converges after faults: a crashed node and a failed VM in the middle of an upgrade', (t) => {
  const m = Model.from(clusterAt(base));
  const r = converge({ ...base, id: 6, version: '8.0' }, m, {
    afterRound: (round, model) => {
      if (round === 2) model.crashNode('vm-3');
      if (round === 4) model.failVm('vm-6');
    },
  });
  t.diagnostic(`upgrade with faults: ${r.rounds} plan calls`);
});
