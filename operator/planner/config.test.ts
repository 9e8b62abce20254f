import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import { clusterAt, lines, stepsOf } from './testing/test-cluster.ts';

const d = exampleDesired();

test('a live change: every up node gets only the changed parameters; its label the full config', () => {
  const to = { ...d, id: 6, config: { 'maxmemory-policy': 'allkeys-lru', timeout: 30 } };
  const p = plan(to, clusterAt(d));
  const steps = stepsOf(p, 'configureDataNode');
  assert.equal(steps.length, 6);
  assert.deepEqual(steps[0], {
    kind: 'configureDataNode',
    vmId: 'vm-1',
    nodeId: 'vm-1',
    params: { 'maxmemory-policy': 'allkeys-lru', timeout: '30' },
    config: { 'maxmemory-policy': 'allkeys-lru', timeout: '30' },
  });
});

test('a restart-only change rolls instead', () => {
  const p = plan({ ...d, id: 6, config: { ...d.config, 'io-threads': 4 } }, clusterAt(d));
  assert.deepEqual(stepsOf(p, 'configureDataNode'), []);
  assert.deepEqual(lines(p), ['stop data node vm-2', 'stop data node vm-4', 'stop data node vm-6']);
  assert.match(p.next[0]?.why ?? '', /config "io-threads" is new to "4" \(applied by a restart\)/);
});

test('a removed parameter goes back to the default by a restart (no defaults are known to set live)', () => {
  const p = plan({ ...d, id: 6, config: {} }, clusterAt(d));
  assert.deepEqual(stepsOf(p, 'configureDataNode'), []);
  assert.match(p.next[0]?.why ?? '', /config "maxmemory-policy" was removed/);
});

test('a stopped cluster is not configured: the next start writes the configuration', () => {
  const c = clusterAt({ ...d, running: false });
  assert.equal(plan({ ...d, id: 6, running: false, config: { timeout: 30 } }, c).done, true);
});

test('running false, with nodes started for a backup: still not configured live', () => {
  const stopped = { ...d, running: false };
  const weekly = { id: 'weekly', sink: { type: 'local' as const, path: 'b2' } };
  const c = clusterAt(d);
  const p = plan({ ...stopped, id: 6, config: { ...d.config, timeout: 30 }, backups: [...d.backups, weekly] }, c);
  assert.deepEqual(stepsOf(p, 'configureDataNode'), []);
});

test('the nodes of a node group that goes away are not configured', () => {
  const to = { ...d, id: 6, nodeGroups: 2, config: { 'maxmemory-policy': 'allkeys-lru', timeout: 30 } };
  const configured = stepsOf(plan(to, clusterAt(d)), 'configureDataNode').map((s) => s.vmId);
  assert.ok(configured.length > 0);
  assert.ok(!configured.includes('vm-5') && !configured.includes('vm-6'), configured.join(', '));
});
