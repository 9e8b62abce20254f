// End to end: a member that no VM of the cluster runs dies and stays in every member's
// CLUSTER NODES as a failed primary without slots (what a removal that some member
// missed, or a lost VM, leaves behind). The leader must notice it, make every member
// forget it (ForgetNode on each agent), and only then say AT_DESIRED_STATE again.
//
// The stranger is a plain redis-server started by the test with the cluster's own
// engine settings, met into the cluster with CLUSTER MEET and killed with kill -9. The
// checks do not take Coxswain's word for it: every member's CLUSTER NODES must list
// exactly the cluster's nodes (kit.ts), for a while after the leader said done.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { killServer, Leftovers, rawSpec, startRaw, trackedDir } from '../../agent/engines/redis/test-servers.ts';
import { RedisEngine } from '../../agent/engines/redis/redis-engine.ts';
import { command, withNode } from '../../agent/engines/redis/redis-connection.ts';
import { editJsonc } from '../../operator/demo/edit-jsonc.ts';
import { EXAMPLE_FILE, killSeen, processesUnder } from '../support/cli-cluster.ts';
import { checkCluster, e2eDir, keepLogs, newCluster, type Shape } from './kit.ts';

const WAIT_SECONDS = 120;

/** The CLUSTER NODES lines of `addr` that name `engineId`, with their flags. */
async function flagsOf(addr: { host: string; port: number }, engineId: string): Promise<string | undefined> {
  const text = await withNode(addr, (c) => command<string>(c, 'CLUSTER', 'NODES'), { op: 'e2e stranger' });
  const line = text.split('\n').find((l) => l.startsWith(`${engineId} `));
  return line?.split(' ')[2];
}

test('a dead member no VM runs (a failed, slotless primary) is forgotten by every member before the leader says AT_DESIRED_STATE', { timeout: 300_000 }, async () => {
  const dir = await e2eDir('stranger');
  const cluster = await newCluster(dir, 'stranger', 8);
  const leftovers = new Leftovers();
  const shape: Shape = { nodeGroups: 3, replicationFactor: 1, version: '7.0' };
  try {
    await writeFile(
      cluster.file,
      editJsonc(await readFile(EXAMPLE_FILE, 'utf8'), { id: 1, name: 'stranger', version: '7.0', nodeGroups: 3, replicationFactor: 1, maxReplicationFactor: 3, backups: [] }),
    );
    await cluster.up();
    await cluster.wait(1, WAIT_SECONDS);
    const boot = await checkCluster('bootstrap', cluster, 1, shape);
    const first = boot.nodes[0];
    assert.ok(first !== undefined, 'a data node is up');

    // A stranger joins: a cluster-enabled redis-server the leader knows nothing of.
    const engine = new RedisEngine();
    const spec = await rawSpec(await trackedDir(leftovers, 'coxswain-e2e-stranger-node-'), '7.0');
    const pid = await startRaw(engine, spec, leftovers);
    const strangerId = await withNode({ host: spec.bindHost, port: spec.port }, (c) => command<string>(c, 'CLUSTER', 'MYID'), { op: 'e2e stranger' });
    await withNode(first, (c) => command(c, 'CLUSTER', 'MEET', spec.bindHost, String(spec.port)), { op: 'e2e stranger' });
    for (const until = Date.now() + 20_000; ; ) {
      const flags = await Promise.all(boot.nodes.map((n) => flagsOf(n, strangerId)));
      if (flags.every((f) => f !== undefined && !f.includes('handshake'))) break;
      assert.ok(Date.now() < until, `every member learns the stranger ${strangerId} within 20 s (flags: ${flags.join(', ')})`);
      await sleep(200);
    }

    // It dies: after cluster-node-timeout the members flag it failed, and keep it.
    const killedAt = Date.now();
    await killServer(pid);
    leftovers.pids.delete(pid);
    for (const until = Date.now() + 30_000; ; ) {
      const flags = await Promise.all(boot.nodes.map((n) => flagsOf(n, strangerId)));
      // The leader may already be forgetting it: a member that forgot it lists nothing.
      if (flags.some((f) => f?.split(',').includes('fail') === true) || flags.every((f) => f === undefined)) break;
      assert.ok(Date.now() < until, `the members flag the dead stranger failed within 30 s (flags: ${flags.join(', ')})`);
      await sleep(250);
    }
    const flaggedAfter = (Date.now() - killedAt) / 1000;

    // The leader forgets it on every member, then reaches the desired state again.
    let forgets: string[] = [];
    for (const until = Date.now() + 60_000; forgets.length === 0; ) {
      forgets = (await cluster.jobs())
        .filter((j) => j.step.kind === 'forgetNode' && j.status === 'succeeded' && Date.parse(j.stages.finished ?? '') >= killedAt)
        .map((j) => `${j.id} ${j.intent}`);
      assert.ok(forgets.length > 0 || Date.now() < until, 'the journal shows a forgetNode job within 60 s of the kill');
      if (forgets.length === 0) await sleep(250);
    }
    await cluster.wait(1, WAIT_SECONDS);
    const report = await checkCluster('the stranger forgotten', cluster, 1, shape);
    const cleanAfter = (Date.now() - killedAt) / 1000;
    const left = await Promise.all(report.nodes.map((n) => flagsOf(n, strangerId)));
    assert.deepEqual(left, report.nodes.map(() => undefined), 'no member lists the stranger any more');
    // Still forgotten after Redis's 60 s FORGET ban would have let gossip bring it back? The
    // leader forgot it on every member at once, so no member is left to gossip it: check
    // a little later that it did not come back.
    await sleep(3_000);
    const later = await Promise.all(report.nodes.map((n) => flagsOf(n, strangerId)));
    assert.deepEqual(later, report.nodes.map(() => undefined), 'the stranger did not come back');
    console.log(
      `e2e stranger: flagged failed ${flaggedAfter.toFixed(1)} s after kill -9; forgotten by job ${forgets.join('; ')}; ` +
        `AT_DESIRED_STATE and every member clean ${cleanAfter.toFixed(1)} s after the kill`,
    );
  } catch (err) {
    const tail = await cluster.leaderLogTail(25);
    if (tail.length > 0) console.log(`e2e stranger: the last lines of ${cluster.stateDir}/leader.log:\n${tail.join('\n')}`);
    console.log(`e2e stranger: the logs are kept in ${await keepLogs(cluster, 'stranger')}`);
    throw err;
  } finally {
    await leftovers.cleanup();
    await cluster.down();
    const anywhere = await killSeen(await processesUnder(dir));
    await rm(dir, { recursive: true, force: true });
    assert.deepEqual(anywhere.map((p) => `${p.label} (pid ${p.pid})`), [], 'down --purge left no process behind');
  }
});
