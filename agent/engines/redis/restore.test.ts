// Restores on real servers: a backup of a Redis 7.0 cluster (3 primaries × 1 replica,
// 100k keys of mixed types, some with a time to live) restored into a fresh Valkey 8.0
// cluster of 2 primaries (the upgrade direction) and a fresh Redis 7.0 cluster of 4
// primaries, every key, value and TTL checked through an ioredis Cluster client; the
// refusals (damaged file, non-empty target, 8.0 backup into 7.0); abort and resume.
// Every server is killed by pid and every directory removed in `after`, also when a
// test fails.
//
// COXSWAIN_BENCH_RESTORE=1 adds the measurement behind the choice of restore method
// (restore.ts): redis-cli --cluster import, SCAN + DUMP/RESTORE through ioredis, and
// restoreBackup's batched MIGRATE, each on the same 100k-key backup.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Cluster } from 'ioredis';
import { freePorts } from '../../../test/support/ports.ts';
import { CancelledError, DataLossError, FailedPreconditionError } from '../../../proto/status.ts';
import { createBackup, readBackupManifest } from './backup.ts';
import { runTool } from '../../../test/support/redis-cli-tools.ts';
import { command, withNode } from './redis-connection.ts';
import type { NodeAddress } from './redis-connection.ts';
import { RESTORE_MARKER_KEY, keySlot, restoreBackup } from './restore.ts';
import type { RestoreProgress, RestoreResult } from './restore.ts';
import { LocalDirectorySink } from './sink.ts';
import { Leftovers, killServer, rejectsWith, startTestCluster, testClusterClient, trackedDir } from './test-servers.ts';
import type { TestCluster } from './test-servers.ts';

const leftovers = new Leftovers();
after(async () => {
  await leftovers.cleanup();
});


const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

// ---------------------------------------------------------------------------------
// Clusters and data




const N = 100_000;
const TTL_MS = 3_600_000;
const LIBRARY = "#!lua name=coxlib\nredis.register_function('cox_echo', function(keys, args) return args[1] end)";

/** Key i and its type: strings (every other one with a TTL), hashes (hash tags), lists, sets, sorted sets, streams. */
function keyOf(i: number): { key: string; type: 'stream' | 'string' | 'hash' | 'list' | 'set' | 'zset'; ttl: boolean } {
  const k = `${i}`;
  if (i % 1000 === 999) return { key: `stream:${k}`, type: 'stream', ttl: false };
  switch (i % 5) {
    case 0:
      return { key: `str:ü:${k}`, type: 'string', ttl: i % 10 === 0 };
    case 1:
      return { key: `hash:{g${i % 50}}:${k}`, type: 'hash', ttl: false };
    case 2:
      return { key: `list:${k}`, type: 'list', ttl: false };
    case 3:
      return { key: `set:${k}`, type: 'set', ttl: false };
    default:
      return { key: `zset:${k}`, type: 'zset', ttl: false };
  }
}

async function writeMixed(c: Cluster, n: number): Promise<void> {
  for (let start = 0; start < n; start += 5_000) {
    const ops: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(n, start + 5_000); i++) {
      const { key, type, ttl } = keyOf(i);
      const k = `${i}`;
      if (type === 'stream') ops.push(c.xadd(key, `${i}-1`, 'f', k));
      else if (type === 'string') ops.push(ttl ? c.set(key, `v${k}`, 'PX', TTL_MS) : c.set(key, `v${k}`));
      else if (type === 'hash') ops.push(c.hset(key, 'a', k, 'b', 'x'));
      else if (type === 'list') ops.push(c.rpush(key, k, 'y'));
      else if (type === 'set') ops.push(c.sadd(key, k, 'z'));
      else ops.push(c.zadd(key, i, k));
    }
    await Promise.all(ops);
  }
}

/** Reads every key back; returns descriptions of what is wrong (empty when all is right). */
async function verifyMixed(c: Cluster, n: number, writtenAt: number, step = 1): Promise<string[]> {
  const bad: string[] = [];
  const check = async (i: number): Promise<void> => {
    const { key, type, ttl } = keyOf(i);
    const k = `${i}`;
    let ok: boolean;
    if (type === 'stream') ok = JSON.stringify(await c.xrange(key, '-', '+')) === JSON.stringify([[`${i}-1`, ['f', k]]]);
    else if (type === 'string') ok = (await c.get(key)) === `v${k}`;
    else if (type === 'hash') ok = JSON.stringify(await c.hgetall(key)) === JSON.stringify({ a: k, b: 'x' });
    else if (type === 'list') ok = JSON.stringify(await c.lrange(key, 0, -1)) === JSON.stringify([k, 'y']);
    else if (type === 'set') ok = JSON.stringify((await c.smembers(key)).sort()) === JSON.stringify([k, 'z'].sort());
    else ok = JSON.stringify(await c.zrange(key, 0, '-1', 'WITHSCORES')) === JSON.stringify([k, String(i)]);
    if (!ok) bad.push(`${key}: wrong or missing ${type}`);
    if (ttl) {
      // TTLs kept, approximately: what is left of the hour since the write, give or take.
      const pttl = await c.pttl(key);
      const left = TTL_MS - (Date.now() - writtenAt);
      if (pttl > TTL_MS || pttl < left - 10_000) bad.push(`${key}: pttl ${pttl}, expected about ${left}`);
    } else if (i % 100 === 4) {
      const pttl = await c.pttl(key);
      if (pttl !== -1) bad.push(`${key}: pttl ${pttl}, expected none (-1)`);
    }
  };
  for (let start = 0; start < n; start += 2_000 * step) {
    const ops: Promise<void>[] = [];
    for (let i = start; i < Math.min(n, start + 2_000 * step); i += step) ops.push(check(i));
    await Promise.all(ops);
  }
  return bad;
}

async function keyCounts(addrs: NodeAddress[]): Promise<number[]> {
  return Promise.all(addrs.map((a) => withNode(a, (c) => command<number>(c, 'DBSIZE'))));
}
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** Pids of processes whose command line mentions `text` (the temporary servers show their socket path). */
async function processesMentioning(text: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text) && Number(name) !== process.pid) out.push(Number(name));
  }
  return out;
}


// ---------------------------------------------------------------------------------

describe('restore into fresh clusters of other shapes (real servers)', () => {
  let source: TestCluster;
  let valkey2: TestCluster; // 2 primaries, Valkey 8.0
  let redis4: TestCluster; // 4 primaries, Redis 7.0
  let valkey1: TestCluster; // 1 primary, Valkey 8.0: abort and resume
  let valkeySource: TestCluster; // 1 primary, Valkey 8.0: an 8.0 backup
  let sinkDir: string;
  let sink: LocalDirectorySink;
  let work: string;
  let writtenAt = 0;

  before(async () => {
    const t0 = Date.now();
    [source, valkey2, redis4, valkey1, valkeySource] = await Promise.all([
      startTestCluster(leftovers, '7.0', 3, 1),
      startTestCluster(leftovers, '8.0', 2),
      startTestCluster(leftovers, '7.0', 4),
      startTestCluster(leftovers, '8.0', 1),
      startTestCluster(leftovers, '8.0', 1),
    ]);
    const t1 = Date.now();
    writtenAt = Date.now();
    await writeMixed(testClusterClient(leftovers, source.primaries), N);
    await writeMixed(testClusterClient(leftovers, valkeySource.primaries), 100);
    // A function library, which lives in every primary (not in the keyspace).
    await Promise.all(source.primaries.map((a) => withNode(a, (c) => command(c, 'FUNCTION', 'LOAD', LIBRARY))));
    console.log(`# setup: 5 clusters (14 servers) in ${secs(t1 - t0)}, 100k keys written in ${secs(Date.now() - t1)}`);
    sinkDir = await trackedDir(leftovers, 'coxswain-restore-sink-');
    sink = new LocalDirectorySink(sinkDir);
    work = await trackedDir(leftovers, 'coxswain-restore-work-');
    const b = await createBackup({ cluster: source.primaries, backupId: 'full', sink });
    console.log(`# timing backup 3×1, 100k keys: ${secs(b.ms)} (bare baseline, docs/redis-cluster.md: 0.33 s)`);
    assert.equal(b.manifest.totals.keys, N);
    await createBackup({ cluster: valkeySource.primaries, backupId: 'valkey8', sink });
  });

  test('keySlot computes the slots the servers compute', async () => {
    const keys = ['foo', '123456789', '{user1000}.following', 'a{}b', '{}{x}', 'x{y', 'ü', `str:ü:7`, 'hash:{g3}:11'];
    const theirs = await withNode(source.primaries[0] ?? { host: '', port: 0 }, (c) => Promise.all(keys.map((k) => command<number>(c, 'CLUSTER', 'KEYSLOT', k))));
    assert.deepEqual(keys.map((k) => keySlot(k)), theirs);
    assert.equal(keySlot('foo'), 12182);
    assert.equal(keySlot('{user1000}.following'), keySlot('user1000'));
  });

  test('a damaged RDB: refused with the checksum message, the target untouched', async () => {
    await createBackup({ cluster: source.primaries, backupId: 'damaged', sink });
    const m = await readBackupManifest(sink, 'damaged');
    const g = m.nodeGroups[2];
    assert.ok(g);
    const file = path.join(sinkDir, 'damaged', g.file.name);
    const bytes = await readFile(file);
    bytes[1000] = (bytes[1000] ?? 0) ^ 0x01; // one bit of one byte
    await writeFile(file, bytes);
    const tmp = path.join(work, 'damaged');
    await rejectsWith(restoreBackup({ backupId: 'damaged', sink, cluster: valkey2.primaries, tempDir: tmp }), DataLossError, (e) => {
      assert.equal(e.reason, 'CHECKSUM_MISMATCH');
      assert.ok(e.message.includes(`file ${g.file.name} is damaged`), e.message);
      assert.ok(e.message.includes(`expected sha256 ${g.file.sha256}`), e.message);
      assert.match(e.message, /actual sha256 [0-9a-f]{64}/);
      assert.match(e.message, /Nothing was restored/);
    });
    assert.deepEqual(await keyCounts(valkey2.all), [0, 0], 'no key written, not even the marker');
    assert.deepEqual(await readdir(tmp), [], 'temporary files removed');
  });

  test('a backup taken on Valkey 8.0 is refused for a Redis 7.0 cluster', async () => {
    await rejectsWith(restoreBackup({ backupId: 'valkey8', sink, cluster: redis4.primaries }), FailedPreconditionError, (e) => {
      assert.equal(e.reason, 'INCOMPATIBLE_VERSION');
      assert.match(e.message, /taken on Valkey 8\.0\.\d+ and its RDB files have format 11/);
      assert.match(e.message, /runs Redis 7\.0\.\d+, which loads RDB formats up to 10/);
      assert.match(e.message, /What to do: restore it into a cluster of version "8\.0"/);
    });
    assert.equal(sum(await keyCounts(redis4.all)), 0);
    // The fact behind the refusal, on the real servers, and the failure path of a
    // temporary server: a manifest forged to claim format 10 gets past the check, and
    // Redis 7.0 itself refuses the file; nothing is written, nothing is left running.
    const m = await readBackupManifest(sink, 'valkey8');
    const g = m.nodeGroups[0];
    assert.ok(g);
    await mkdir(path.join(sinkDir, 'forged'));
    await copyFile(path.join(sinkDir, 'valkey8', g.file.name), path.join(sinkDir, 'forged', g.file.name));
    const forged = { ...m, backupId: 'forged', rdbVersion: 10, nodeGroups: [{ ...g, rdbVersion: 10 }] };
    await writeFile(path.join(sinkDir, 'forged', 'manifest.json'), JSON.stringify(forged));
    const tmp = path.join(work, 'forged');
    await rejectsWith(restoreBackup({ backupId: 'forged', sink, cluster: redis4.primaries, tempDir: tmp }), FailedPreconditionError, (e) => {
      assert.equal(e.reason, 'RDB_FORMAT_UNSUPPORTED');
      assert.match(e.message, /redis-server cannot load file .* its RDB format 11 is newer than this server reads/);
    });
    assert.equal(sum(await keyCounts(redis4.all)), 0);
    assert.deepEqual(await readdir(tmp), [], 'temporary directories removed');
    assert.deepEqual(await processesMentioning(tmp), [], 'temporary servers stopped');
  });

  const restoreAndVerify = async (target: TestCluster, label: string): Promise<RestoreResult> => {
    const seen: RestoreProgress[] = [];
    const tmp = path.join(work, label);
    const r = await restoreBackup({ backupId: 'full', sink, cluster: [target.primaries[0] ?? { host: '', port: 0 }], tempDir: tmp, onProgress: (p) => seen.push(p) });
    console.log(
      `# timing restore 3 node groups → ${label}, 100k keys: ${secs(r.ms)} ` +
        `(checks ${r.timings.checkMs} ms, stage+verify files ${r.timings.stageMs} ms, move ${r.timings.moveMs} ms, count ${r.timings.verifyMs} ms; bare baseline, docs/redis-cluster.md: 3.1–3.9 s)`,
    );
    assert.equal(r.keysInBackup, N);
    assert.equal(r.keysInCluster, N);
    assert.equal(r.keysExpired, 0);
    assert.equal(r.resumed, false);
    assert.equal(r.nodeGroupsInBackup, 3);
    assert.equal(r.targetPrimaries, target.primaries.length);
    assert.equal(sum(await keyCounts(target.primaries)), N, 'DBSIZE sum = manifest total');
    const last = seen.at(-1);
    assert.equal(last?.phase, 'done');
    assert.equal(last?.keysTotal, N);
    assert.ok((last?.keysRestored ?? 0) >= N, `progress reached ${last?.keysRestored}`);
    assert.ok(seen.some((p) => p.phase === 'move' && p.keysRestored > 0 && p.keysRestored < N), 'progress while moving');
    assert.deepEqual(await readdir(tmp), [], 'temporary directories removed');
    assert.deepEqual(await processesMentioning(tmp), [], 'temporary servers stopped');
    for (const p of target.primaries) {
      assert.equal(await withNode(p, (c) => command<string>(c, 'FCALL', 'cox_echo', 0, 'hi')), 'hi', 'the function library is on every primary');
    }
    const t0 = Date.now();
    const bad = await verifyMixed(testClusterClient(leftovers, target.primaries), N, writtenAt);
    console.log(`# verified 100k keys (values and TTLs) in ${label} in ${secs(Date.now() - t0)}`);
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} keys wrong`);
    return r;
  };

  test('restore into a fresh Valkey 8.0 cluster of 2 primaries (7.0 backup, upgrade direction)', async () => {
    const r = await restoreAndVerify(valkey2, '2 primaries (Valkey 8.0)');
    assert.equal(r.target.product, 'Valkey');
  });

  test('restore into a fresh Redis 7.0 cluster of 4 primaries', async () => {
    const r = await restoreAndVerify(redis4, '4 primaries (Redis 7.0)');
    assert.equal(r.target.product, 'Redis');
  });

  test('a non-empty target is refused and left as it is', async () => {
    const before = await keyCounts(valkey2.primaries);
    await rejectsWith(restoreBackup({ backupId: 'full', sink, cluster: valkey2.primaries }), FailedPreconditionError, (e) => {
      assert.equal(e.reason, 'TARGET_NOT_EMPTY');
      assert.match(e.message, new RegExp(`not empty \\(${N} keys`));
      assert.match(e.message, /FLUSHALL on every primary/);
    });
    assert.deepEqual(await keyCounts(valkey2.primaries), before);
  });

  test('an aborted restore stops its servers and cleans up; repeating it resumes and finishes', async () => {
    const tmp = path.join(work, 'abort');
    const ac = new AbortController();
    await rejectsWith(
      restoreBackup({
        backupId: 'full',
        sink,
        cluster: valkey1.primaries,
        tempDir: tmp,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.keysRestored >= 30_000) ac.abort();
        },
      }),
      CancelledError,
    );
    assert.deepEqual(await readdir(tmp), [], 'temporary directories removed');
    assert.deepEqual(await processesMentioning(tmp), [], 'temporary servers stopped');
    const partial = sum(await keyCounts(valkey1.primaries));
    assert.ok(partial > 1 && partial < N, `part of the keys arrived (${partial})`);
    const marker = await withNode(valkey1.primaries[0] ?? { host: '', port: 0 }, (c) => command<string | null>(c, 'GET', RESTORE_MARKER_KEY));
    assert.match(marker ?? '', /^full /, 'the marker names the backup');

    // Another backup is refused: the cluster holds an interrupted restore of "full".
    await rejectsWith(restoreBackup({ backupId: 'valkey8', sink, cluster: valkey1.primaries }), FailedPreconditionError, (e) => {
      assert.match(e.message, /interrupted restore of "full"/);
    });

    const r = await restoreBackup({ backupId: 'full', sink, cluster: valkey1.primaries, tempDir: tmp });
    assert.equal(r.resumed, true);
    assert.equal(r.keysInCluster, N);
    assert.equal(sum(await keyCounts(valkey1.primaries)), N, 'marker gone, every key there');
    assert.deepEqual(await verifyMixed(testClusterClient(leftovers, valkey1.primaries), N, writtenAt, 50), []);
  });

  test('benchmark: redis-cli --cluster import vs DUMP/RESTORE via ioredis vs batched MIGRATE', { skip: process.env['COXSWAIN_BENCH_RESTORE'] !== '1' }, async () => {
    const target = await startTestCluster(leftovers, '7.0', 3);
    const m = await readBackupManifest(sink, 'full');
    const flush = async (): Promise<void> => {
      await Promise.all(target.primaries.map((a) => withNode(a, (c) => command(c, 'FLUSHALL'))));
    };
    /** One non-cluster temporary server per RDB on a TCP port, as docs/redis-cluster.md trap 8 describes. */
    const withTempServers = async (fn: (port: number) => Promise<void>): Promise<void> => {
      for (const g of m.nodeGroups) {
        const d = await trackedDir(leftovers, 'coxswain-bench-');
        await copyFile(path.join(sinkDir, 'full', g.file.name), path.join(d, 'dump.rdb'));
        const [port] = await freePorts(1);
        assert.ok(port);
        const child = spawn('redis-server', ['--port', String(port), '--dir', d, '--appendonly', 'no', '--save', '', '--bind', '127.0.0.1'], { stdio: 'ignore' });
        const pid = child.pid;
        assert.ok(pid);
        leftovers.pids.add(pid);
        try {
          for (let i = 0; i < 500; i++) {
            const ok = await withNode({ host: '127.0.0.1', port }, async (c) => (await command<string>(c, 'INFO', 'persistence')).includes('loading:0')).catch(() => false);
            if (ok) break;
            await sleep(10);
          }
          await fn(port);
        } finally {
          await killServer(pid);
        }
      }
    };
    const results: string[] = [];
    const timedRun = async (label: string, run: () => Promise<void>): Promise<void> => {
      await flush();
      const t0 = Date.now();
      await run();
      const ms = Date.now() - t0;
      assert.equal(sum(await keyCounts(target.primaries)), N, label);
      results.push(`${label}: ${secs(ms)}`);
      console.log(`# bench restore 100k keys (3 RDBs → 3 primaries) ${label}: ${secs(ms)}`);
    };
    const first = target.primaries[0];
    assert.ok(first);
    await timedRun('A redis-cli --cluster import --cluster-copy --cluster-replace', () =>
      withTempServers(async (port) => {
        const run = await runTool('redis-cli', ['--cluster', 'import', `${first.host}:${first.port}`, '--cluster-from', `127.0.0.1:${port}`, '--cluster-copy', '--cluster-replace'], { timeoutMs: 300_000 });
        assert.equal(run.code, 0, run.output.slice(-500));
      }),
    );
    await timedRun('B SCAN + PTTL/DUMP pipelined, RESTORE via ioredis Cluster (auto-pipelining)', () =>
      withTempServers(async (port) => {
        const src = new Redis({ port, host: '127.0.0.1' });
        const dst = testClusterClient(leftovers, target.primaries);
        try {
          let cursor = '0';
          do {
            const [next, keys] = await src.scanBuffer(cursor, 'COUNT', 1000);
            cursor = next.toString();
            const p = src.pipeline();
            for (const k of keys) p.pttl(k).dumpBuffer(k);
            const res = (await p.exec()) ?? [];
            const restores: Promise<unknown>[] = [];
            keys.forEach((k, i) => {
              const ttl = Number(res[2 * i]?.[1] ?? -1);
              const v = res[2 * i + 1]?.[1];
              if (Buffer.isBuffer(v)) restores.push(dst.restore(k, ttl > 0 ? ttl : 0, v, 'REPLACE'));
            });
            await Promise.all(restores);
          } while (cursor !== '0');
        } finally {
          src.disconnect();
          dst.disconnect();
        }
      }),
    );
    for (const [concurrency, batchKeys] of [[1, 1000], [2, 1000], [3, 1000], [1, 200], [1, 5000]] as const) {
      await timedRun(`C restoreBackup (batched MIGRATE, ${batchKeys} keys per SCAN, ${concurrency} temporary server(s) at once)`, async () => {
        await restoreBackup({ backupId: 'full', sink, cluster: target.primaries, concurrency, batchKeys });
      });
    }
    console.log(`# restore method benchmark (100k keys):\n#   ${results.join('\n#   ')}`);
  });
});
