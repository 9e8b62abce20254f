// End to end, through the command line only: the trial run's livelock. A 2 × 2 cluster,
// a rolling restart (the primaries move away from the VMs that founded the cluster),
// then a backup with a relative local path, then a newer edit saved while the leader
// works on the backup. Before the fix the backup was written under the directory of the
// VM that took it, the sink listing (through another VM) never showed it, the leader ran
// "create backup rel1" every 30 s and stayed WORKING, and the newer edit waited for ever.
// Now a relative path is relative to the state directory for every VM
// (operator/observe/labels.ts resolveSinkPath), and a step whose effect never shows ends
// in ERROR_STATE after maxAttempts (operator/reconciler/liveness.test.ts): either way the
// newer edit must be applied within a minute, and the journal must say what happened to
// the backup.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { editJsonc } from '../../operator/demo/edit-jsonc.ts';
import { EXAMPLE_FILE, killSeen, processesUnder } from '../support/cli-cluster.ts';
import { checkCluster, e2eDir, keepLogs, newCluster, type Shape } from './kit.ts';

test('a backup with a relative path after a rolling restart, then a newer edit: the edit is applied within a minute, the journal says what became of the backup', { timeout: 400_000 }, async () => {
  const dir = await e2eDir('relative-backup');
  const cluster = await newCluster(dir, 'relative-backup', 8);
  const shape: Shape = { nodeGroups: 2, replicationFactor: 2, version: '7.0' };
  try {
    await writeFile(
      cluster.file,
      editJsonc(await readFile(EXAMPLE_FILE, 'utf8'), { id: 1, name: 'relative-backup', version: '7.0', nodeGroups: 2, replicationFactor: 2, maxReplicationFactor: 3, backups: [] }),
    );
    await cluster.up();
    await cluster.wait(1, 120);
    const restart = await cluster.edit({ runningSince: 2 });
    await cluster.wait(restart, 120);
    await checkCluster('after the rolling restart', cluster, restart, shape);

    const backupId = await cluster.edit({ backups: [{ id: 'rel1', sink: { type: 'local', path: 'backups' } }] });
    // The newer edit, saved while the leader works on the backup (it waits as pending).
    await new Promise((r) => setTimeout(r, 500));
    const newer = await cluster.edit({ agentRunningSince: 4 });
    const savedAt = Date.now();
    await cluster.wait(newer, 60);
    const tookS = (Date.now() - savedAt) / 1000;
    assert.ok(tookS <= 60, `the newer edit was applied ${tookS.toFixed(1)} s after it was saved`);

    const jobs = (await cluster.jobs()).filter((j) => j.step.kind === 'createBackup' && j.desiredId === backupId);
    assert.ok(jobs.length > 0, 'the journal has the backup job of the edit that asked for it');
    const last = jobs.at(-1);
    assert.ok(last !== undefined);
    // What became of it, from the journal alone: taken once, its effect seen (committed).
    assert.equal(last.status, 'succeeded', `the backup job: ${JSON.stringify({ status: last.status, error: last.error, ineffective: last.ineffective })}`);
    assert.ok(last.stages.committed !== undefined, `the backup became visible in its sink: ${last.ineffective ?? ''}`);
    assert.equal(jobs.length, 1, `the backup was taken once, not again and again: ${jobs.map((j) => j.id).join(', ')}`);
    // One directory for every VM: <state dir>/backups, not under some VM's directory.
    assert.ok(existsSync(path.join(cluster.stateDir, 'backups', 'rel1', 'manifest.json')), 'the backup is in <state dir>/backups/rel1');
    const status = await cluster.status();
    assert.equal(status.state, 'AT_DESIRED_STATE');
    console.log(`e2e relative backup: backup job ${last.id} committed; the newer edit (id ${newer}) applied ${tookS.toFixed(1)} s after it was saved`);
  } catch (err) {
    const tail = await cluster.leaderLogTail(25);
    if (tail.length > 0) console.log(`e2e relative backup: the last lines of ${cluster.stateDir}/leader.log:\n${tail.join('\n')}`);
    console.log(`e2e relative backup: the logs are kept in ${await keepLogs(cluster, 'relative-backup')}`);
    throw err;
  } finally {
    await cluster.down();
    const anywhere = await killSeen(await processesUnder(dir));
    await rm(dir, { recursive: true, force: true });
    assert.deepEqual(anywhere.map((p) => `${p.label} (pid ${p.pid})`), [], 'down --purge left no process behind');
  }
});
