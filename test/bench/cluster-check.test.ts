// The after-operation check against a real 3-primary cluster: it passes when the
// cluster is as asked and says what differs when it is not.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Leftovers, startTestCluster } from '../../agent/engines/redis/test-servers.ts';
import type { TestCluster } from '../../agent/engines/redis/test-servers.ts';
import { BenchStepError } from './bare-cluster.ts';
import { expectCluster } from './cluster-check.ts';

const leftovers = new Leftovers();
let cluster: TestCluster;
let began: number;

before(async () => {
  began = Date.now();
  cluster = await startTestCluster(leftovers, '7.0', 3);
});
after(() => leftovers.cleanup());

test('a cluster as asked passes, with its facts', async () => {
  const facts = await expectCluster('bootstrap', cluster.all, { members: 3, primaries: 3, server: 'redis 7.0', restartedAfter: began });
  assert.equal(facts.servers.length, 3);
  assert.ok(facts.servers.every((s) => /^redis 7\.0\.\d+$/.test(s)), facts.servers.join(', '));
});

test('every difference is named', async () => {
  await assert.rejects(
    expectCluster('scale-out', cluster.all, { members: 4, primaries: 4, server: 'valkey 8.0', restartedAfter: Date.now() + 10_000 }),
    (err: unknown) => {
      assert.ok(err instanceof BenchStepError);
      assert.match(err.message, /^after scale-out the cluster is not as asked: /);
      assert.match(err.message, /3 members, expected 4/);
      assert.match(err.message, /3 primaries with slots, expected 4/);
      assert.match(err.message, /expected valkey 8\.0\.x on every node/);
      assert.match(err.message, /not every node was restarted/);
      return true;
    },
  );
});
