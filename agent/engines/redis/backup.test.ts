// Backups of a real Redis 7.0 cluster (3 primaries × 1 replica, 100k keys of mixed
// types, some with a time to live) into a local sink; the sink itself; and the
// refusals. Every server is killed by pid and every directory removed in `after`, also
// when a test fails.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from 'ioredis';
import {
  CancelledError,
  DataLossError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from '../../../proto/status.ts';
import { MANIFEST_FILE, parseManifest } from './backup-manifest.ts';
import { createBackup, deleteBackup, inspectBackup, listBackups, verifyBackup } from './backup.ts';
import type { BackupProgress } from './backup.ts';
import { RedisClusterOps } from './cluster-ops.ts';
import { command, withNode } from './redis-connection.ts';
import type { NodeAddress } from './redis-connection.ts';
import { LocalDirectorySink, checkKey, openSink, sinkIoError } from './sink.ts';
import type { BackupSink, ObjectDigest, SinkCallOptions, SinkListing } from './sink.ts';
import { Leftovers, rejectsWith, startTestCluster, testClusterClient, trackedDir } from './test-servers.ts';
import type { TestCluster } from './test-servers.ts';
import { parseInfo, primariesOf } from './topology.ts';
import { SLOT_COUNT, slotsIn } from '../../../common/slot-ranges.ts';

const leftovers = new Leftovers();
after(async () => {
  await leftovers.cleanup();
});

// ---------------------------------------------------------------------------------
// A real cluster with data



/** 100k keys: strings, hashes (with hash tags), lists, sets, sorted sets, a few streams; every 10th with a TTL. */
async function writeMixed(c: Cluster, n: number): Promise<{ withTtl: number }> {
  let withTtl = 0;
  for (let start = 0; start < n; start += 5_000) {
    const ops: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(n, start + 5_000); i++) {
      const k = `${i}`;
      if (i % 1000 === 999) ops.push(c.xadd(`stream:${k}`, '*', 'f', k));
      else if (i % 5 === 0) ops.push(c.set(`str:${k}`, `v${k}`));
      else if (i % 5 === 1) ops.push(c.hset(`hash:{g${i % 50}}:${k}`, 'a', k, 'b', 'x'));
      else if (i % 5 === 2) ops.push(c.rpush(`list:${k}`, k, 'y'));
      else if (i % 5 === 3) ops.push(c.sadd(`set:${k}`, k, 'z'));
      else ops.push(c.zadd(`zset:${k}`, i, k));
      if (i % 10 === 3) {
        withTtl++;
        ops.push(c.pexpire(`set:${k}`, 3_600_000));
      }
    }
    await Promise.all(ops);
  }
  return { withTtl };
}

async function rdbSaves(addrs: NodeAddress[]): Promise<number[]> {
  return Promise.all(addrs.map((a) => withNode(a, async (c) => Number(parseInfo(await command<string>(c, 'INFO', 'persistence'))['rdb_saves']))));
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

const N = 100_000;

// ---------------------------------------------------------------------------------

describe('backup of a real cluster (Redis 7.0, 3 primaries × 1 replica, 100k keys)', () => {
  let cluster: TestCluster;
  let sinkDir: string;
  let sink: LocalDirectorySink;
  let withTtl = 0;

  before(async () => {
    const t0 = Date.now();
    cluster = await startTestCluster(leftovers, '7.0', 3, 1);
    const t1 = Date.now();
    ({ withTtl } = await writeMixed(testClusterClient(leftovers, cluster.primaries), N));
    console.log(`# setup: cluster 3×1 in ${((t1 - t0) / 1000).toFixed(2)} s, 100k keys written in ${((Date.now() - t1) / 1000).toFixed(2)} s`);
    sinkDir = await trackedDir(leftovers, 'coxswain-sink-');
    sink = new LocalDirectorySink(sinkDir);
  });

  test('createBackup writes one RDB per node group and a correct manifest', async () => {
    const seen: BackupProgress[] = [];
    const r = await createBackup({ cluster: [cluster.primaries[0] ?? { host: '', port: 0 }], backupId: 'full', sink, onProgress: (p) => seen.push(p) });
    console.log(
      `# timing backup 3×1, 100k keys: ${(r.ms / 1000).toFixed(2)} s ` +
        `(observe ${r.timings.observeMs} ms, BGSAVE ${r.timings.saveMs} ms, copy ${r.timings.copyMs} ms, manifest ${r.timings.manifestMs} ms; bare baseline, docs/redis-cluster.md: 0.33 s)`,
    );
    assert.equal(r.created, true);
    const m = r.manifest;
    assert.equal(m.backupId, 'full');
    assert.equal(m.totals.nodeGroups, 3);
    assert.equal(m.totals.keys, N);
    assert.equal(m.server.product, 'Redis');
    assert.equal(m.server.catalogueVersion, '7.0');
    assert.equal(m.rdbVersion, 10);
    assert.match(m.consistency, /point-in-time snapshot/);
    // Slots: every slot exactly once, as the cluster has them.
    assert.equal(m.nodeGroups.reduce((n, g) => n + slotsIn(g.slots), 0), SLOT_COUNT);
    const topo = (await new RedisClusterOps({ seeds: cluster.primaries }).observe()).topology;
    for (const g of m.nodeGroups) {
      const p = primariesOf(topo).find((x) => x.id === g.primaryId);
      assert.ok(p, `primary ${g.primaryId} exists`);
      assert.deepEqual(g.slots, p.slots);
      assert.equal(g.replicas, 1);
      assert.equal(g.keysSource, 'rdb');
      assert.equal(g.keys, await withNode(p.addr, (c) => command<number>(c, 'DBSIZE')), 'key count of the snapshot = DBSIZE (no writes meanwhile)');
    }
    assert.equal(m.nodeGroups.reduce((n, g) => n + (g.keysWithExpiry ?? 0), 0), withTtl);
    // Files: names, sizes and checksums, computed independently; the manifest on disk.
    const files = (await readdir(path.join(sinkDir, 'full'))).sort();
    assert.deepEqual(files, [...m.nodeGroups.map((g) => g.file.name), MANIFEST_FILE].sort());
    for (const g of m.nodeGroups) {
      assert.match(g.file.name, /^[0-2]-[0-9a-f]{40}\.rdb$/);
      const file = path.join(sinkDir, 'full', g.file.name);
      assert.equal((await stat(file)).size, g.file.bytes);
      assert.equal(await sha256(file), g.file.sha256);
    }
    assert.deepEqual(parseManifest(await readFile(path.join(sinkDir, 'full', MANIFEST_FILE), 'utf8'), 'full'), m);
    assert.deepEqual([...new Set(seen.map((p) => p.phase))], ['observe', 'save', 'copy', 'manifest', 'done']);
    assert.equal(seen.at(-1)?.bytesCopied, m.totals.bytes);
    assert.deepEqual(await verifyBackup(sink, 'full'), m);
  });

  test('repeating createBackup with the same id does not redo it', async () => {
    const savesBefore = await rdbSaves(cluster.primaries);
    const mtimes = async (): Promise<number[]> =>
      Promise.all((await readdir(path.join(sinkDir, 'full'))).map(async (f) => (await stat(path.join(sinkDir, 'full', f))).mtimeMs));
    const before = await mtimes();
    const r = await createBackup({ cluster: cluster.primaries, backupId: 'full', sink });
    assert.equal(r.created, false);
    assert.equal(r.manifest.totals.keys, N);
    assert.deepEqual(await rdbSaves(cluster.primaries), savesBefore, 'no BGSAVE');
    assert.deepEqual(await mtimes(), before, 'no file rewritten');
  });

  test('an incomplete backup (no manifest) is not listed, then cleaned and redone', async () => {
    await mkdir(path.join(sinkDir, 'half'));
    await writeFile(path.join(sinkDir, 'half', `0-${'a'.repeat(40)}.rdb`), 'partial');
    await writeFile(path.join(sinkDir, 'half', '.manifest.json.1234.partial'), '{');
    assert.deepEqual((await listBackups(sink)).map((b) => b.id), ['full']);
    assert.equal((await inspectBackup(sink, 'half')).state, 'incomplete');
    await rejectsWith(verifyBackup(sink, 'half'), NotFoundError, (e) => assert.match(e.message, /incomplete/));
    const r = await createBackup({ cluster: cluster.primaries, backupId: 'half', sink });
    assert.equal(r.created, true);
    assert.equal(r.cleanedIncomplete, true);
    const files = await readdir(path.join(sinkDir, 'half'));
    assert.ok(!files.includes(`0-${'a'.repeat(40)}.rdb`), 'the stray file is gone');
    assert.equal(files.length, 4);
    assert.deepEqual((await listBackups(sink)).map((b) => b.id), ['full', 'half']);
  });

  test('verifyBackup names the damaged file with expected and actual sha256', async () => {
    await createBackup({ cluster: cluster.primaries, backupId: 'damaged', sink });
    const m = await verifyBackup(sink, 'damaged');
    const g = m.nodeGroups[1];
    assert.ok(g);
    const file = path.join(sinkDir, 'damaged', g.file.name);
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    const actual = await sha256(file);
    await rejectsWith(verifyBackup(sink, 'damaged'), DataLossError, (e) => {
      assert.equal(e.reason, 'CHECKSUM_MISMATCH');
      assert.ok(e.message.includes(g.file.name), e.message);
      assert.ok(e.message.includes(`expected sha256 ${g.file.sha256}`), e.message);
      assert.ok(e.message.includes(`actual sha256 ${actual}`), e.message);
      assert.equal(e.details['file'], g.file.name);
    });
  });

  test('deleteBackup is idempotent; absent backups are NOT_FOUND', async () => {
    assert.deepEqual(await deleteBackup(sink, 'damaged'), { deleted: true });
    assert.deepEqual(await deleteBackup(sink, 'damaged'), { deleted: false });
    assert.deepEqual(await deleteBackup(sink, 'never-was'), { deleted: false });
    assert.equal((await inspectBackup(sink, 'damaged')).state, 'absent');
    assert.ok(!(await readdir(sinkDir)).includes('damaged'));
    await rejectsWith(verifyBackup(sink, 'damaged'), NotFoundError, (e) => assert.match(e.message, /does not exist/));
  });

  test('ids with ../ are refused everywhere, and nothing is written outside the sink', async () => {
    const outside = await readdir(path.dirname(sinkDir));
    for (const id of ['../escape', '..', 'a/../../b']) {
      await rejectsWith(createBackup({ cluster: cluster.primaries, backupId: id, sink }), InvalidArgumentError, (e) => assert.match(e.message, /must not contain/));
      await rejectsWith(deleteBackup(sink, id), InvalidArgumentError);
      await rejectsWith(verifyBackup(sink, id), InvalidArgumentError);
    }
    assert.deepEqual(await readdir(path.dirname(sinkDir)), outside);
  });

  test('refused while a slot is migrating', async () => {
    const topo = (await new RedisClusterOps({ seeds: cluster.primaries }).observe()).topology;
    const [a, b] = primariesOf(topo);
    assert.ok(a && b);
    const slot = a.slots[0]?.start ?? 0;
    await withNode(a.addr, (c) => command(c, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', b.id));
    try {
      await rejectsWith(createBackup({ cluster: cluster.primaries, backupId: 'moving', sink }), UnavailableError, (e) => {
        assert.equal(e.reason, 'SLOTS_MIGRATING');
        assert.match(e.message, new RegExp(`slot ${slot} migrating`));
        assert.match(e.message, /Retry when the move has finished/);
      });
    } finally {
      await withNode(a.addr, (c) => command(c, 'CLUSTER', 'SETSLOT', slot, 'STABLE'));
    }
    assert.equal((await inspectBackup(sink, 'moving')).state, 'absent');
  });

  test('an unwritable sink: a clear error, nothing left', async () => {
    const file = path.join(await trackedDir(leftovers, 'coxswain-notdir-'), 'a-file');
    await writeFile(file, 'x');
    await rejectsWith(createBackup({ cluster: cluster.primaries, backupId: 'x', sink: new LocalDirectorySink(file) }), FailedPreconditionError, (e) => {
      assert.equal(e.reason, 'SINK_UNWRITABLE');
      assert.match(e.message, /not writable/);
      assert.match(e.message, /choose another sink/);
    });
    assert.equal(await readFile(file, 'utf8'), 'x');
  });

  test('disk full while copying: RESOURCE_EXHAUSTED, partial files removed', async () => {
    const full = new FullAfter(sink, 1);
    await rejectsWith(createBackup({ cluster: cluster.primaries, backupId: 'fills', sink: full }), ResourceExhaustedError, (e) => {
      assert.equal(e.reason, 'SINK_FULL');
      assert.match(e.message, /no space left/);
      assert.match(e.message, /Free space/);
    });
    assert.equal(full.puts, 2, 'the first file was written, the second failed');
    assert.ok(!(await readdir(sinkDir)).includes('fills'), 'the first file and the partial second were removed');
  });

  test('an abort stops the backup and removes what it wrote', async () => {
    const ac = new AbortController();
    await rejectsWith(
      createBackup({
        cluster: cluster.primaries,
        backupId: 'aborted',
        sink,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.phase === 'copy' && p.nodeGroupsCopied === 1) ac.abort();
        },
      }),
      CancelledError,
    );
    assert.ok(!(await readdir(sinkDir)).includes('aborted'));
    // Repeating after the abort finishes the job.
    assert.equal((await createBackup({ cluster: cluster.primaries, backupId: 'aborted', sink })).created, true);
  });
});

/** A sink whose file system "fills up" in the middle of the (n+1)-th stream. */
class FullAfter implements BackupSink {
  readonly description: string;
  puts = 0;
  private readonly inner: BackupSink;
  private readonly okStreams: number;
  constructor(
    inner: BackupSink,
    okStreams: number,
  ) {
    this.inner = inner;
    this.okStreams = okStreams;
    this.description = inner.description;
  }
  putStream(key: string, source: AsyncIterable<Uint8Array>, opts?: SinkCallOptions): Promise<ObjectDigest> {
    this.puts++;
    if (this.puts <= this.okStreams) return this.inner.putStream(key, source, opts);
    async function* failing(): AsyncGenerator<Uint8Array> {
      let sent = 0;
      for await (const chunk of source) {
        yield chunk;
        sent += chunk.length;
        if (sent > 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
    }
    return this.inner.putStream(key, failing(), opts);
  }
  putBytes(key: string, data: Uint8Array | string, opts?: SinkCallOptions): Promise<ObjectDigest> {
    return this.inner.putBytes(key, data, opts);
  }
  getBytes(key: string, opts?: SinkCallOptions): Promise<Buffer | undefined> {
    return this.inner.getBytes(key, opts);
  }
  getFile(key: string, localPath: string, opts?: SinkCallOptions): Promise<ObjectDigest> {
    return this.inner.getFile(key, localPath, opts);
  }
  digest(key: string, opts?: SinkCallOptions): Promise<ObjectDigest> {
    return this.inner.digest(key, opts);
  }
  list(prefix: string, opts?: SinkCallOptions): Promise<SinkListing> {
    return this.inner.list(prefix, opts);
  }
  delete(key: string, opts?: SinkCallOptions): Promise<void> {
    return this.inner.delete(key, opts);
  }
  deletePrefix(prefix: string, opts?: SinkCallOptions): Promise<void> {
    return this.inner.deletePrefix(prefix, opts);
  }
}

describe('the local directory sink', () => {
  test('objects appear whole, with size and sha256; temporary files are never listed', async () => {
    const root = await trackedDir(leftovers, 'coxswain-sink-unit-');
    const sink = openSink({ type: 'local', path: 'sub' }, { baseDir: root });
    const d = await sink.putBytes('b1/manifest.json', '{"a":1}');
    assert.deepEqual(d, { bytes: 7, sha256: createHash('sha256').update('{"a":1}').digest('hex') });
    async function* chunks(): AsyncGenerator<Buffer> {
      yield Buffer.from('hello ');
      yield Buffer.from('world');
    }
    const s = await sink.putStream('b1/0-x.rdb', chunks());
    assert.equal(s.bytes, 11);
    assert.deepEqual(await sink.digest('b1/0-x.rdb'), s);
    await writeFile(path.join(root, 'sub', 'b1', '.0-y.rdb.abc.partial'), 'half');
    assert.deepEqual(await sink.list(''), { objects: [], prefixes: ['b1'] });
    assert.deepEqual(await sink.list('b1/'), { objects: ['0-x.rdb', 'manifest.json'], prefixes: [] });
    assert.equal((await sink.getBytes('b1/manifest.json'))?.toString(), '{"a":1}');
    assert.equal(await sink.getBytes('b1/none'), undefined);
    const local = path.join(root, 'copy.rdb');
    assert.deepEqual(await sink.getFile('b1/0-x.rdb', local), s);
    assert.equal(await readFile(local, 'utf8'), 'hello world');
    await rejectsWith(sink.digest('b1/none'), NotFoundError);
    await sink.deletePrefix('b1/');
    await sink.deletePrefix('b1/');
    assert.deepEqual(await sink.list(''), { objects: [], prefixes: [] });
  });

  test('keys cannot leave the sink', () => {
    for (const key of ['../x', 'a/../b', '/a', 'a//b', '.hidden', 'a/.partial', '']) {
      assert.throws(() => checkKey(key), InvalidArgumentError, key);
    }
    assert.deepEqual(checkKey('b1/0-abc.rdb'), ['b1', '0-abc.rdb']);
    assert.throws(() => openSink({ type: 'local', path: 'rel' }), /relative/);
  });

  test('I/O errors map to typed errors that say what to do', () => {
    const err = (code: string): Error => Object.assign(new Error(code), { code });
    assert.ok(sinkIoError(err('ENOSPC'), 'writing "x"', 'sink') instanceof ResourceExhaustedError);
    assert.ok(sinkIoError(err('EDQUOT'), 'writing "x"', 'sink') instanceof ResourceExhaustedError);
    assert.ok(sinkIoError(err('EROFS'), 'writing "x"', 'sink') instanceof FailedPreconditionError);
    assert.ok(sinkIoError(err('EACCES'), 'writing "x"', 'sink') instanceof FailedPreconditionError);
    assert.ok(sinkIoError(err('ENOENT'), 'reading "x"', 'sink') instanceof NotFoundError);
    assert.ok(sinkIoError(err('EIO'), 'reading "x"', 'sink') instanceof UnavailableError);
    const ac = new AbortController();
    ac.abort();
    assert.ok(sinkIoError(err('EIO'), 'reading "x"', 'sink', ac.signal) instanceof CancelledError);
  });
});
