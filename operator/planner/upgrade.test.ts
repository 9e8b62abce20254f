import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
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

