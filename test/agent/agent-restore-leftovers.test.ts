// An agent killed in the middle of RestoreBackup: its temporary restore server keeps
// running and its `coxswain-restore-*` directory stays on disk. The next agent on the
// same data directory kills that server and removes the directory when it starts; the
// leader's repeated RestoreBackup then finishes the interrupted restore (every key of
// the backup is in the cluster), and a further repeat changes nothing. Real
// `coxswain agent` processes, real redis-server 7.0 processes, over gRPC. Every process
// is killed by pid and every temporary directory removed, even on failure.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import { closeCluster } from '../support/close-cluster.ts';
import { Leftovers, tempDir } from '../../agent/engines/redis/test-servers.ts';
import { RESTORE_DIR_PREFIX, restoreTempBase } from '../../agent/engines/redis/restore-leftovers.ts';
import { command, withNode } from '../../agent/engines/redis/redis-connection.ts';
import { isRunning, readCmdline } from '../../common/process-inspect.ts';
import { AgentClient } from '../../operator/agent-client/agent-client.ts';
import { freePorts } from '../support/ports.ts';
import { killChild, spawnAgent, writeSecret } from './spawn-agent.ts';

const SECRET = 'e2e-cluster-secret-0a1b2c3d4e5f6789';
const KEYS = 150_000;
const job = (step: string): { jobId: string; stepId: string } => ({ jobId: 'leftovers', stepId: step });

/** Pids of temporary restore servers whose socket lies under `base`. */
async function tempServers(base: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = (await readCmdline(Number(name))) ?? '';
    if (/redis-server|valkey-server/.test(cmdline.split(/\s+/)[0] ?? '') && cmdline.includes(`unixsocket:${base}${path.sep}`)) out.push(Number(name));
  }
  return out;
}

async function leftoverDirs(base: string): Promise<string[]> {
  return (await readdir(base).catch(() => [] as string[])).filter((n) => n.startsWith(RESTORE_DIR_PREFIX));
}

async function dbsize(port: number): Promise<number> {
  return withNode({ host: '127.0.0.1', port }, (c) => command<number>(c, 'DBSIZE'));
}

test('an agent killed mid-restore: the next agent removes the leftover server and directory; the repeated restore finishes it', { timeout: 150_000 }, async () => {
  const leftovers = new Leftovers();
  const root = await tempDir('coxswain-rl-');
  leftovers.dirs.add(root);
  const secretFile = await writeSecret(root, SECRET);
  const dataDir = path.join(root, 'agent');
  leftovers.baseDirs.add(path.join(dataDir, 'nodes'));
  const base = restoreTempBase(dataDir);
  const children: ChildProcess[] = [];
  const clients: AgentClient[] = [];
  let writer: Cluster | undefined;
  const args = ['--data-dir', dataDir, '--secret-file', secretFile, '--agent-id', 'vm-r', '--zone', 'zone-r'];
  try {
    const first = await spawnAgent(args, path.join(root, 'first.log'));
    children.push(first.child);
    const c1 = new AgentClient({ endpoint: first.endpoint, secret: SECRET, epoch: () => 1, deadlineMs: 120_000, maxAttempts: 1 });
    clients.push(c1);
    const [srcPort, dstPort] = (await freePorts(2, { withBus: true })) as [number, number];
    // Two one-primary clusters on this agent: `src` with the data, `dst` to restore into.
    for (const [id, port] of [['src', srcPort], ['dst', dstPort]] as const) {
      const r = await c1.startDataNode({ job: job(`start ${id}`), nodeId: id, port, version: '7.0', nodeGroup: 0 });
      leftovers.pids.add(r.node!.pid);
      await c1.joinNode({ job: job(`found ${id}`), nodeId: id, role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [{ start: 0, end: 16383 }] });
    }
    writer = new Cluster([{ host: '127.0.0.1', port: srcPort }], { enableAutoPipelining: true, redisOptions: { connectTimeout: 2000 } });
    writer.on('error', () => undefined);
    for (let from = 0; from < KEYS; from += 5000) {
      await Promise.all(Array.from({ length: Math.min(5000, KEYS - from) }, (_, j) => writer!.set(`key:${from + j}`, `value-${from + j}-${'x'.repeat(64)}`)));
    }
    const sink = { local: { path: path.join(root, 'backups') } };
    await c1.createBackup({ job: job('backup'), backupId: 'b1', sink, nodeIds: ['src'] });

    // Restore into dst, and SIGKILL the agent once the temporary server writes keys.
    const restoring = c1.restoreBackup({ job: job('restore'), backupId: 'b1', sink, nodeIds: ['dst'] }).then(
      () => 'finished',
      () => 'cut off',
    );
    let servers: number[] = [];
    for (const until = Date.now() + 30_000; Date.now() < until && servers.length === 0; await sleep(5)) servers = await tempServers(base);
    assert.ok(servers.length > 0, 'a temporary restore server was seen');
    for (const pid of servers) leftovers.pids.add(pid);
    for (const until = Date.now() + 30_000; Date.now() < until && (await dbsize(dstPort)) === 0; ) await sleep(5);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => (first.child.exitCode !== null || first.child.signalCode !== null ? resolve(undefined) : first.child.once('exit', resolve)));
    assert.equal(await restoring, 'cut off');
    const written = await dbsize(dstPort);
    assert.ok(written > 0 && written < KEYS, `the restore was cut off half-way (${written} of ${KEYS} keys)`);
    assert.ok((await Promise.all(servers.map((pid) => isRunning(pid)))).some(Boolean), 'the temporary server outlived the agent');
    assert.equal((await leftoverDirs(base)).length, 1, 'its directory is still there');

    // The next agent cleans up before it serves.
    const second = await spawnAgent(args, path.join(root, 'second.log'));
    children.push(second.child);
    for (const pid of servers) assert.equal(await isRunning(pid), false, `temporary server ${pid} was killed`);
    assert.deepEqual(await tempServers(base), []);
    assert.deepEqual(await leftoverDirs(base), []);

    // The leader repeats the restore: it finishes the interrupted one; a repeat changes nothing.
    const c2 = new AgentClient({ endpoint: second.endpoint, secret: SECRET, epoch: () => 1, deadlineMs: 120_000, maxAttempts: 1 });
    clients.push(c2);
    const done = await c2.restoreBackup({ job: job('restore'), backupId: 'b1', sink, nodeIds: ['dst'] });
    assert.equal(done.outcome?.changed, true);
    assert.match(done.outcome?.message ?? '', new RegExp(`${KEYS} keys in the cluster .*an interrupted restore finished`));
    assert.equal(await dbsize(dstPort), KEYS);
    const again = await c2.restoreBackup({ job: job('restore'), backupId: 'b1', sink, nodeIds: ['dst'] });
    assert.equal(again.outcome?.changed, false);
    assert.deepEqual(await leftoverDirs(base), []);
  } finally {
    if (writer !== undefined) await closeCluster(writer);
    for (const c of clients) c.close();
    for (const child of children) await killChild(child);
    await leftovers.cleanup();
  }
});
