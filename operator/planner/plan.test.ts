import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { emptyObserved } from '../model/observed.ts';
import { checkStepSafety } from './invariants.ts';
import { plan } from './plan.ts';
import { clusterAt, downNode, dropVm, lines, nodeOf } from './testing/test-cluster.ts';

test('done at the desired state, for several shapes', () => {
  for (const d of [
    exampleDesired(),
    exampleDesired({ replicationFactor: 1, nodeGroups: 1 }),
    exampleDesired({ nodeGroups: 7, replicationFactor: 3, availabilityZones: ['a', 'b', 'c', 'd'] }),
    exampleDesired({ running: false }),
  ]) {
    const p = plan(d, clusterAt(d));
    assert.deepEqual(p, { next: [], done: true, waiting: [], remaining: 0, blocked: [] }, JSON.stringify(d));
  }
});

test('blocked: no step at all, the reason, and an estimate', () => {
  const d = exampleDesired();
  const c = clusterAt(d);
  dropVm(c, 'vm-1');
  dropVm(c, 'vm-2');
  downNode(c, 'vm-3'); // would otherwise be restarted
  c.vms = c.vms.filter((v) => v.id !== 'vm-3');
  const p = plan(d, c);
  assert.deepEqual(p.next, []);
  assert.equal(p.done, false);
  assert.equal(p.blocked.length, 1);
  assert.ok(p.remaining >= 1);
});

test('waiting: nothing to do now, and it says for what', () => {
  const d = exampleDesired();
  const c = clusterAt(d);
  nodeOf(c, 'vm-4').inSync = false;
  const p = plan({ ...d, id: 6, runningSince: 6 }, c);
  assert.ok(p.waiting.some((w) => w.includes('ng1')));
  assert.equal(p.done, false);
});

test('remaining counts this batch and what follows; 0 only when done', () => {
  const d = exampleDesired();
  const p = plan(d, emptyObserved());
  assert.ok(p.remaining >= p.next.length + 6, `remaining ${p.remaining}`);
  const restart = plan({ ...d, id: 6, runningSince: 6 }, clusterAt(d));
  assert.ok(restart.remaining >= 9, `remaining ${restart.remaining}`);
});

test('independent work shares a batch; one group never gets two disruptive steps', () => {
  const d = exampleDesired();
  const c = clusterAt(d);
  downNode(c, 'vm-6');
  const to = { ...d, id: 6, runningSince: 6, config: { 'maxmemory-policy': 'allkeys-lru' } };
  const p = plan(to, c);
  assert.deepEqual(lines(p), [
    'start data node vm-6 (version 7.0, node group 2, runningSince 6)',
    'stop data node vm-2',
    'stop data node vm-4',
  ]);
  assert.deepEqual(checkStepSafety(to, c, p.next.map((s) => s.step)), []);
});

test('large clusters: 1,000 and 10,000 nodes plan in linear time', () => {
  const time = (groups: number): number => {
    const d = exampleDesired({ nodeGroups: groups, replicationFactor: 5, maxReplicationFactor: 5, availabilityZones: ['a', 'b', 'c'] });
    const c = clusterAt(d);
    const to = { ...d, id: 6, version: '8.0' as const };
    plan(to, c);
    const t0 = process.cpuUsage();
    const p = plan(to, c);
    const used = process.cpuUsage(t0);
    assert.equal(p.next.length, groups * 5, 'every VM installs 8.0 ahead of the upgrade');
    return (used.user + used.system) / 1000;
  };
  const small = time(200);
  const large = time(2000);
  // Quadratic work would take ~100× as long; allow for noise on a shared machine.
  assert.ok(large < Math.max(40 * small, 1500), `1,000 nodes ${small.toFixed(1)} ms, 10,000 nodes ${large.toFixed(1)} ms`);
});
