import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { describeStep } from '../model/step.ts';
import { plan } from './plan.ts';
import { converge } from './testing/converge.ts';
import { Model } from './testing/model.ts';
import { clusterAt, lines, stepsOf } from './testing/test-cluster.ts';

const d = exampleDesired();

test('upgrade: the version is installed before a node stops; then replicas, failover, the old primary', () => {
  const up = { ...d, id: 6, version: '8.0' as const };
  const c = clusterAt(d);
  assert.deepEqual(stepsOf(plan(up, c), 'ensureVersion').length, 6);
  for (const vm of c.vms) vm.installedVersions = ['7.0', '8.0'];
  assert.deepEqual(lines(plan(up, c)), ['stop data node vm-2', 'stop data node vm-4', 'stop data node vm-6']);
  const m = Model.from(clusterAt(d), { preinstalled: ['8.0'] });
  const r = converge(up, m);
  const order = r.log.join('\n');
  assert.ok(order.indexOf('stop data node vm-2') < order.indexOf('fail over to vm-2'));
  assert.ok(order.indexOf('fail over to vm-2') < order.indexOf('stop data node vm-1'));
});


test('an old primary left behind on the older version cannot sync from its upgraded successor: it restarts, it does not hold its group back', () => {
  // ng0 after its planned failover: vm-2 (8.0) is primary; vm-1 (7.0) became its replica,
  // then lost its sync (the new primary restarted) and cannot sync an 8.0 primary until it
  // restarts on 8.0 itself.
  const up = { ...d, id: 6, version: '8.0' as const };
  const c = clusterAt(d);
  for (const vm of c.vms) vm.installedVersions = ['7.0', '8.0'];
  const [n1, n2] = [c.vms[0]!.dataNodes[0]!, c.vms[1]!.dataNodes[0]!];
  Object.assign(n2, { role: 'primary', primaryId: undefined, slots: n1.slots, version: '8.0', inSync: false });
  Object.assign(n1, { role: 'replica', primaryId: 'vm-2', slots: [], inSync: false });
  const p = plan(up, c);
  assert.ok(lines(p).includes('stop data node vm-1'), lines(p).join(' | '));
  assert.match(p.next.find((s) => describeStep(s.step) === 'stop data node vm-1')?.why ?? '', /cannot sync from its primary on a newer version/);

  // The same replica merely out of sync on the primary's own version waits (a sync may be running).
  n1.version = '8.0';
  const q = plan({ ...up, runningSince: 6 }, c);
  assert.ok(!lines(q).includes('stop data node vm-1'), lines(q).join(' | '));
  assert.ok(q.waiting.some((w) => w.startsWith('rolling restarts wait until every node of their node group is healthy: ng0')), q.waiting.join(' | '));
});
