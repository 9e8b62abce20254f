// Clean-up after a restore an agent was killed in: its temporary servers (real
// redis-server processes on a unix socket, started as restore.ts starts them) are
// killed and their directories removed; another agent's are left alone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, open, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning } from '../../../common/process-inspect.ts';
import { RESTORE_DIR_PREFIX, cleanUpLeftoverRestores, restoreTempBase } from './restore-leftovers.ts';
import { Leftovers, tempDir } from './test-servers.ts';

/** A temporary server as restore.ts starts one, in `<base>/coxswain-restore-<name>/0`. */
async function tempServer(base: string, name: string, leftovers: Leftovers): Promise<{ pid: number; dir: string }> {
  const dir = path.join(base, `${RESTORE_DIR_PREFIX}${name}`);
  const groupDir = path.join(dir, '0');
  await mkdir(groupDir, { recursive: true });
  const sock = path.join(groupDir, 'redis.sock');
  const log = await open(path.join(groupDir, 'server.log'), 'w');
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--dir', groupDir, '--appendonly', 'no', '--save', '', '--daemonize', 'no', '--cluster-enabled', 'no', '--logfile', ''], {
    cwd: groupDir,
    stdio: ['ignore', log.fd, log.fd],
    detached: true,
  });
  await log.close();
  child.unref();
  const pid = child.pid;
  assert.ok(pid !== undefined);
  leftovers.pids.add(pid);
  for (let i = 0; i < 200; i++) {
    if (await stat(sock).then(() => true, () => false)) break;
    await sleep(10);
  }
  return { pid, dir };
}

test('the base directory is beside the agent when short, else in the system temp dir, one per agent', () => {
  assert.equal(restoreTempBase('/var/lib/coxswain/vm-1'), '/var/lib/coxswain/vm-1/restore-tmp');
  const long = `/srv/${'x'.repeat(60)}/vm-1`;
  const base = restoreTempBase(long);
  assert.equal(path.dirname(base), os.tmpdir());
  assert.match(path.basename(base), /^coxswain-agent-[0-9a-f]{12}$/);
  assert.notEqual(restoreTempBase(`${long}-other`), base);
});

test("an interrupted restore's temporary servers are killed and its directories removed; another agent's are left alone", { timeout: 30_000 }, async () => {
  const leftovers = new Leftovers();
  const root = await tempDir('coxswain-lo-');
  leftovers.dirs.add(root);
  try {
    const mine = path.join(root, 'vm-a');
    const theirs = path.join(root, 'vm-b');
    const a = await tempServer(restoreTempBase(mine), 'aaaaaa', leftovers);
    const b = await tempServer(restoreTempBase(mine), 'bbbbbb', leftovers);
    const other = await tempServer(restoreTempBase(theirs), 'cccccc', leftovers);
    // A directory whose server had not started yet.
    await mkdir(path.join(restoreTempBase(mine), `${RESTORE_DIR_PREFIX}dddddd`, '1'), { recursive: true });
    assert.ok(await isRunning(a.pid));

    const infos: string[] = [];
    const result = await cleanUpLeftoverRestores(mine, { info: (_f, m) => void infos.push(m), warn: () => undefined });
    assert.deepEqual(result.killed, [a.pid, b.pid].sort((x, y) => x - y));
    assert.equal(result.dirs.length, 3);
    assert.deepEqual(result.survivors, []);
    assert.equal(await isRunning(a.pid), false);
    assert.equal(await isRunning(b.pid), false);
    assert.equal(await stat(a.dir).then(() => true, () => false), false);
    assert.match(infos[0] ?? '', /Cleaned up after 3 interrupted restore\(s\): killed 2 temporary server\(s\)/);
    assert.ok(await isRunning(other.pid), "the other agent's server still runs");
    assert.ok(await stat(other.dir).then(() => true, () => false));

    const again = await cleanUpLeftoverRestores(mine);
    assert.deepEqual(again, { dirs: [], killed: [], survivors: [] }, 'nothing left: nothing to do');
  } finally {
    await leftovers.cleanup();
  }
});
