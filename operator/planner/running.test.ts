import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import { converge } from './testing/converge.ts';
import { Model } from './testing/model.ts';
import { clusterAt, downNode, lines, stepsOf } from './testing/test-cluster.ts';

const d = exampleDesired();
const stop = { ...d, id: 6, running: false };

test('running false: every replica stops in one batch, then every primary', () => {
  const c = clusterAt(d);
  const p1 = plan(stop, c);
  assert.deepEqual(lines(p1), ['stop data node vm-2', 'stop data node vm-4', 'stop data node vm-6']);
  for (const id of ['vm-2', 'vm-4', 'vm-6']) downNode(c, id);
  assert.deepEqual(lines(plan(stop, c)), ['stop data node vm-1', 'stop data node vm-3', 'stop data node vm-5']);
  for (const id of ['vm-1', 'vm-3', 'vm-5']) downNode(c, id);
  assert.equal(plan(stop, c).done, true);
});

test('running false with work that needs the nodes: the work first, then the stop', () => {
  const backup = { id: 'before-stop', sink: { type: 'local' as const, path: 'b' } };
  const p = plan({ ...stop, backups: [...d.backups, backup] }, clusterAt(d));
  assert.deepEqual(lines(p), ['create backup before-stop in local:b']);
  const m = Model.from(clusterAt(d));
  const r = converge({ ...stop, nodeGroups: 4 }, m);
  assert.ok(r.log.some((l) => l.includes('move ')), 'the slots moved before the stop');
  assert.ok(m.nodes().every((n) => !n.up));
});

test('a stopped cluster: label changes wait for the next start; agents may restart all at once', () => {
  const c = clusterAt(d);
  for (const vm of c.vms) downNode(c, vm.id);
  const later = { ...stop, id: 7, version: '8.0' as const, runningSince: 7, config: { 'io-threads': 2 } };
  assert.equal(plan(later, c).done, true);
  const agents = plan({ ...later, agentRunningSince: 7 }, c);
  assert.equal(stepsOf(agents, 'restartAgent').length, 6);
});

test('running true after a stop: every node starts in one batch, on the desired labels', () => {
  const c = clusterAt(d);
  for (const vm of c.vms) downNode(c, vm.id);
  for (const vm of c.vms) vm.installedVersions = ['7.0', '8.0'];
  const p = plan({ ...d, id: 8, version: '8.0', runningSince: 8 }, c);
  const starts = stepsOf(p, 'startDataNode');
  assert.equal(starts.length, 6);
  assert.ok(starts.every((s) => s.version === '8.0' && s.runningSince === 8));
});

test('stop, then start again, converges (model)', () => {
  const m = Model.from(clusterAt(d));
  assert.equal(converge(stop, m).rounds, 3);
  assert.equal(converge({ ...d, id: 7 }, m).rounds, 2);
});
