// Restore of a backup (backup.ts) into a fresh, formed, empty Redis Cluster of any
// shape: the target may have more or fewer node groups than the backup.
//
// How: every RDB of the backup is loaded by a temporary, non-cluster server of the
// TARGET's version (so a Redis 7.0 backup is read by Valkey 8.0 when the target runs
// 8.0), started with `--appendonly no` — with the AOF on and no AOF directory the
// server ignores dump.rdb and starts empty (docs/redis-cluster.md trap 3). It listens on a unix
// socket in its own temporary directory only, so no port is taken. Its keys are then
// copied into the cluster by the temporary server itself: SCAN in batches, the keys of
// a batch grouped by the primary that owns their slot (CRC16, as the cluster computes
// it), and one `MIGRATE <primary> "" 0 <timeout> COPY REPLACE KEYS …` per group. MIGRATE
// carries each key's remaining time to live, and RESTORE-ASKING on the target checks
// the slot, so a key can only land on the primary that owns it.
//
// Why MIGRATE batches: the three ways were measured on 100k keys (restore.test.ts,
// COXSWAIN_BENCH_RESTORE=1; figures in the report): `redis-cli --cluster import
// --cluster-copy --cluster-replace` (docs/redis-cluster.md trap 8) migrates one key per round
// trip; SCAN + DUMP/PTTL + RESTORE through an ioredis Cluster client moves every value
// through this process twice; batched MIGRATE moves the data server to server, a
// thousand keys per command, and was the fastest by a wide margin.
//
// Safety, in order: the manifest must exist; the target must be formed (all 16384 slots
// assigned, the nodes agreeing), run one version whose server loads the backup's RDB
// format (a backup taken on 8.0 is refused for a 7.0 cluster), and hold no keys; every
// file is copied out of the sink and its SHA-256 checked against the manifest BEFORE
// anything is written to the cluster. Afterwards the keys in the cluster are counted:
// the backup's keys, less those whose time to live ran out meanwhile (counted by the
// servers themselves), must all be there, else DATA_LOSS.
//
// Interrupted restores: right before the first key is written a marker key
// (RESTORE_MARKER_KEY) is set to the backup's identity; it is deleted at the end. A
// repeated call finding the cluster non-empty but carrying the marker of the same
// backup resumes (MIGRATE … REPLACE is idempotent); any other non-empty cluster is
// refused. Temporary servers are stopped by pid and temporary directories removed in
// every case, also on failure and abort.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { DataLossError, FailedPreconditionError, InvalidArgumentError } from '../../../proto/status.ts';
import { StartFailedError } from '../errors.ts';
import { RedisEngine } from './redis-engine.ts';
import { asStatusError, checkFileDigest, onNode, readBackupManifest, throwIfStopped } from './backup.ts';
import { backupPrefix, checkBackupId, restoreCompatibility, serverVersionFromInfo } from './backup-manifest.ts';
import type { BackupManifest, NodeGroupRecord, ServerVersion } from './backup-manifest.ts';
import { describeNode, shortId } from './errors.ts';
import { command, commandBuffer, formatAddr, replyErrorText } from './redis-connection.ts';
import type { NodeAddress } from './redis-connection.ts';
import type { BackupSink } from './sink.ts';
import { observeCluster, parseInfo, primariesOf, slotOwners, waitForAgreementObservation } from './topology.ts';
import type { Topology, TopologyNode } from './topology.ts';
import { SLOT_COUNT } from '../../../common/slot-ranges.ts';

/** Set while a restore writes into a cluster; its value names the backup. */
export const RESTORE_MARKER_KEY = 'coxswain:restore-in-progress';

export interface RestoreProgress {
  phase: 'check' | 'stage' | 'move' | 'verify' | 'done';
  filesTotal: number;
  filesDone: number;
  keysTotal: number;
  /** Keys copied into the cluster so far (SCAN may return a key twice: approximate). */
  keysRestored: number;
}

export interface RestoreOptions {
  backupId: string;
  sink: BackupSink;
  /** Addresses of the target cluster's members: formed, agreeing, empty. */
  cluster: NodeAddress[];
  signal?: AbortSignal | undefined;
  onProgress?: ((p: RestoreProgress) => void) | undefined;
  /** Where temporary copies and servers live. @default os.tmpdir() */
  tempDir?: string | undefined;
  /**
   * Temporary servers running at once; each holds one node group's data in memory.
   * On 2 busy cores with the whole cluster on the same machine, 1, 2 and 3 were within
   * the noise of each other (the target's servers share the same cores); where the
   * target's nodes run on other VMs, parallel servers overlap their network round
   * trips. @default 2
   */
  concurrency?: number | undefined;
  /** Keys per SCAN batch (and at most per MIGRATE). @default 1000 */
  batchKeys?: number | undefined;
  /** MIGRATE's own I/O timeout towards the target, ms. @default 60000 */
  migrateTimeoutMs?: number | undefined;
  /** How long a temporary server may take to load its RDB. @default 300000 */
  loadTimeoutMs?: number | undefined;
  /** How long to wait for the target's nodes to agree. @default 10000 */
  agreementTimeoutMs?: number | undefined;
  /** Finds the target version's server binary. @default new RedisEngine() (PATH) */
  engine?: RedisEngine | undefined;
}

export interface RestoreResult {
  backupId: string;
  /** Keys in the backup (the manifest's total). */
  keysInBackup: number;
  /** Keys whose time to live ran out between the backup and the end of the restore. */
  keysExpired: number;
  /** Keys in the cluster afterwards (the sum of DBSIZE over its primaries). */
  keysInCluster: number;
  nodeGroupsInBackup: number;
  targetPrimaries: number;
  target: ServerVersion;
  /** True when an interrupted restore of the same backup was finished. */
  resumed: boolean;
  ms: number;
  timings: { checkMs: number; stageMs: number; moveMs: number; verifyMs: number };
}

// ---------------------------------------------------------------------------------
// Key slots (the cluster's CRC16-XMODEM with hash tags)

const CRC16_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

function crc16(buf: Uint8Array, start: number, end: number): number {
  let c = 0;
  for (let i = start; i < end; i++) c = ((c << 8) & 0xffff) ^ (CRC16_TABLE[((c >> 8) ^ (buf[i] ?? 0)) & 0xff] ?? 0);
  return c;
}

/** The hash slot of a key: of the part between the first "{" and the next "}" when that is not empty. */
export function keySlot(key: Buffer | string): number {
  const buf = typeof key === 'string' ? Buffer.from(key) : key;
  const open = buf.indexOf(0x7b);
  if (open >= 0) {
    const close = buf.indexOf(0x7d, open + 1);
    if (close > open + 1) return crc16(buf, open + 1, close) % SLOT_COUNT;
  }
  return crc16(buf, 0, buf.length) % SLOT_COUNT;
}

// ---------------------------------------------------------------------------------
// The temporary server

interface TempServer {
  pid: number;
  client: Redis;
  stop(): Promise<void>;
}

function logTail(text: string, lines = 6): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}

/**
 * Starts `serverPath` as a non-cluster server on the RDB in `dir`/dump.rdb, listening
 * only on a unix socket in `dir`, and waits until it has loaded the file. The returned
 * stop() kills it by pid and waits for its exit.
 */
async function startTempServer(serverPath: string, dir: string, what: string, opts: { signal?: AbortSignal | undefined; loadTimeoutMs: number; searchPath: string }): Promise<TempServer> {
  const sock = path.join(dir, 'redis.sock');
  if (Buffer.byteLength(sock) > 100) {
    throw new InvalidArgumentError('tempDir', `the socket path ${sock} is too long for a unix socket (at most 100 bytes); choose a shorter tempDir`);
  }
  const logFile = path.join(dir, 'server.log');
  const log = await open(logFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(
      serverPath,
      [
        '--port', '0', // no TCP listener: the socket only
        '--unixsocket', sock,
        '--unixsocketperm', '700',
        '--dir', dir,
        '--dbfilename', 'dump.rdb',
        '--appendonly', 'no', // docs/redis-cluster.md trap 3: with the AOF on, dump.rdb would be ignored
        '--save', '',
        '--daemonize', 'no',
        '--cluster-enabled', 'no',
        '--logfile', '',
      ],
      { cwd: dir, env: { PATH: opts.searchPath }, stdio: ['ignore', log.fd, log.fd] },
    );
  } finally {
    await log.close();
  }
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const client = new Redis({
    path: sock,
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: undefined,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    autoResendUnfulfilledCommands: false,
  });
  client.on('error', () => undefined);
  const stop = async (): Promise<void> => {
    client.disconnect();
    if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await exited;
  };
  if (pid === undefined) {
    const err = await spawnError;
    throw new StartFailedError(`cannot start the temporary server ${serverPath} for ${what}: ${err.message}`, err);
  }

  try {
    const deadline = Date.now() + opts.loadTimeoutMs;
    let connected = false;
    for (;;) {
      throwIfStopped(opts.signal, `loading ${what}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        const text = await readFile(logFile, 'utf8').catch(() => '');
        const format = /Can't handle RDB format version (\d+)/.exec(text);
        if (format) {
          throw new FailedPreconditionError(
            `${path.basename(serverPath)} cannot load ${what}: its RDB format ${format[1]} is newer than this server reads; restore into a cluster of a newer version`,
            { reason: 'RDB_FORMAT_UNSUPPORTED' },
          );
        }
        if (/Short read|Bad file format|checksum|CRC/i.test(text)) {
          throw new DataLossError(`the temporary server could not load ${what}: ${logTail(text)}; the RDB file is damaged although its checksum matches the manifest (it was damaged when the backup was taken); restore from another backup`, {
            reason: 'RDB_UNLOADABLE',
          });
        }
        throw new StartFailedError(`the temporary server for ${what} exited (code ${child.exitCode ?? child.signalCode}): ${logTail(text)}`);
      }
      try {
        if (!connected) {
          await client.connect();
          connected = true;
        }
        const info = parseInfo(await command<string>(client, 'INFO', 'persistence'));
        if (info['loading'] === '0') return { pid, client, stop };
      } catch {
        if (connected && client.status !== 'ready') {
          client.disconnect();
          connected = false;
        }
        // not listening yet, or still loading
      }
      if (Date.now() > deadline) {
        throw new StartFailedError(`the temporary server for ${what} did not finish loading within ${Math.round(opts.loadTimeoutMs / 1000)} s; raise loadTimeoutMs for large backups`);
      }
      await new Promise((r) => setTimeout(r, connected ? 20 : 5));
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------------
// The target

interface TargetFacts {
  topology: Topology;
  primaries: TopologyNode[];
  server: ServerVersion;
  /** Keys per node (replicas included). */
  keys: { node: TopologyNode; keys: number }[];
}

async function targetFacts(opts: RestoreOptions, what: string, signal: AbortSignal): Promise<TargetFacts> {
  let obs = await observeCluster(opts.cluster, { signal });
  if (!obs.agreed) obs = await waitForAgreementObservation(opts.cluster, { signal, timeoutMs: opts.agreementTimeoutMs ?? 10_000, op: 'restoreBackup' });
  if (obs.unassignedSlots > 0) {
    throw new FailedPreconditionError(
      `${what}: the target cluster is not formed: ${obs.unassignedSlots} of ${SLOT_COUNT} slots are not assigned; form it first (every slot owned by a primary), then restore`,
      { reason: 'TARGET_NOT_FORMED' },
    );
  }
  const nodes = obs.topology.nodes;
  const facts = await Promise.all(
    nodes.map((n) =>
      onNode(
        n.addr,
        'restoreBackup',
        async (c) => ({
          node: n,
          server: serverVersionFromInfo(parseInfo(await command<string>(c, 'INFO', 'server'))),
          keys: await command<number>(c, 'DBSIZE'),
        }),
        { signal, nodeId: n.id },
      ),
    ),
  );
  const versions = new Map<string, string[]>();
  for (const f of facts) {
    const v = `${f.server.product} ${f.server.version}`;
    versions.set(v, [...(versions.get(v) ?? []), describeNode(f.node.id, formatAddr(f.node.addr))]);
  }
  if (versions.size > 1) {
    throw new FailedPreconditionError(
      `${what}: the target's nodes run different versions (${[...versions].map(([v, n]) => `${v}: ${n.join(', ')}`).join('; ')}); finish the upgrade, then restore`,
      { reason: 'TARGET_MIXED_VERSIONS' },
    );
  }
  const server = facts[0]?.server;
  if (server === undefined) throw new FailedPreconditionError(`${what}: the target cluster has no nodes`, { reason: 'TARGET_NOT_FORMED' });
  return { topology: obs.topology, primaries: primariesOf(obs.topology).filter((p) => p.slotCount > 0), server, keys: facts.map((f) => ({ node: f.node, keys: f.keys })) };
}

function ownerOf(topology: Topology, key: string): TopologyNode {
  const id = slotOwners(topology)[keySlot(key)];
  const node = topology.nodes.find((n) => n.id === id);
  if (!node) throw new FailedPreconditionError(`no primary owns the slot of ${key}`, { reason: 'TARGET_NOT_FORMED' });
  return node;
}

async function expiredKeys(nodes: TopologyNode[], signal: AbortSignal | undefined): Promise<number> {
  const counts = await Promise.all(
    nodes.map((n) =>
      onNode(n.addr, 'restoreBackup', async (c) => Number(parseInfo(await command<string>(c, 'INFO', 'stats'))['expired_keys'] ?? 0), { signal, nodeId: n.id }),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}

// ---------------------------------------------------------------------------------
// Moving one node group's keys

interface MoveCounts {
  /** Keys the temporary server loaded. */
  loaded: number;
  /** Keys it dropped while loading because their time to live had passed. */
  expiredOnLoad: number;
  /** Keys that expired in the temporary server while they were being copied. */
  expiredDuringMove: number;
}

const RETRYABLE_MIGRATE = /MOVED|ASK|TRYAGAIN|CLUSTERDOWN|IOERR|LOADING/;

class Router {
  owners: (string | null)[];
  byId: Map<string, TopologyNode>;
  constructor(topology: Topology) {
    this.owners = slotOwners(topology);
    this.byId = new Map(topology.nodes.map((n) => [n.id, n]));
  }
}

/** SCAN + batched MIGRATE from one temporary server into the cluster. */
async function moveKeys(
  temp: TempServer,
  group: NodeGroupRecord,
  ctx: {
    router: Router;
    refresh: () => Promise<void>;
    /** Sets the marker before the first write into the cluster (once). */
    beginWrites: () => Promise<void>;
    opts: RestoreOptions;
    signal: AbortSignal;
    onKeys: (n: number) => void;
    what: string;
  },
): Promise<MoveCounts> {
  const { opts } = ctx;
  const c = temp.client;
  const persistence = parseInfo(await command<string>(c, 'INFO', 'persistence'));
  const loaded = Number(persistence['rdb_last_load_keys_loaded'] ?? NaN);
  const expiredOnLoad = Number(persistence['rdb_last_load_keys_expired'] ?? 0);
  const dbsize = await command<number>(c, 'DBSIZE');
  const loadedKeys = Number.isNaN(loaded) ? dbsize : loaded;
  if (group.keysSource === 'rdb' && loadedKeys + expiredOnLoad !== group.keys) {
    throw new DataLossError(
      `${ctx.what}: file ${group.file.name} loaded ${loadedKeys} keys (+${expiredOnLoad} expired) but the manifest records ${group.keys}; the file is incomplete: restore from another backup`,
      { reason: 'RDB_KEYS_MISMATCH', details: { file: group.file.name } },
    );
  }
  const expiredBefore = Number(parseInfo(await command<string>(c, 'INFO', 'stats'))['expired_keys'] ?? 0);

  // Functions (Redis 7 libraries) live in every primary: copy them to each.
  const libraries = await command<unknown[]>(c, 'FUNCTION', 'LIST');
  if (libraries.length > 0) {
    await ctx.beginWrites();
    const payload = await commandBuffer<Buffer>(c, 'FUNCTION', 'DUMP');
    const primaries = [...ctx.router.byId.values()].filter((n) => n.role === 'primary' && n.slotCount > 0);
    await Promise.all(primaries.map((p) => onNode(p.addr, 'restoreBackup', (t) => command(t, 'FUNCTION', 'RESTORE', payload, 'REPLACE'), { signal: ctx.signal, nodeId: p.id })));
  }

  const batch = opts.batchKeys ?? 1000;
  const timeout = opts.migrateTimeoutMs ?? 60_000;
  const migrate = async (keys: Buffer[]): Promise<void> => {
    let todo = keys;
    for (let attempt = 1; todo.length > 0; attempt++) {
      throwIfStopped(ctx.signal, ctx.what);
      const groups = new Map<string, Buffer[]>();
      for (const k of todo) {
        const id = ctx.router.owners[keySlot(k)];
        if (id === null || id === undefined) throw new FailedPreconditionError(`${ctx.what}: no primary owns slot ${keySlot(k)} any more`, { reason: 'TARGET_NOT_FORMED' });
        const list = groups.get(id);
        if (list) list.push(k);
        else groups.set(id, [k]);
      }
      const failed: Buffer[] = [];
      let lastError = '';
      await Promise.all(
        [...groups].map(async ([id, ks]) => {
          const node = ctx.router.byId.get(id);
          if (!node) throw new FailedPreconditionError(`${ctx.what}: primary ${shortId(id)} is unknown`, { reason: 'TARGET_NOT_FORMED' });
          try {
            await command(c, 'MIGRATE', node.addr.host, node.addr.port, '', 0, timeout, 'COPY', 'REPLACE', 'KEYS', ...ks);
          } catch (err) {
            const text = replyErrorText(err);
            if (text === undefined || !RETRYABLE_MIGRATE.test(text)) throw err;
            lastError = `${describeNode(id, formatAddr(node.addr))}: ${text}`;
            failed.push(...ks);
          }
        }),
      );
      if (failed.length === 0) break;
      if (attempt >= 5) {
        throw new FailedPreconditionError(`${ctx.what}: MIGRATE kept failing (${lastError}); is the target cluster changing? Retry the restore (it resumes)`, {
          reason: 'MIGRATE_FAILED',
        });
      }
      await new Promise((r) => setTimeout(r, 100 * attempt));
      await ctx.refresh();
      todo = failed;
    }
  };

  let cursor = '0';
  do {
    throwIfStopped(ctx.signal, ctx.what);
    const [next, keys] = (await c.scanBuffer(cursor, 'COUNT', batch)) as [Buffer, Buffer[]];
    cursor = next.toString();
    const own = keys.filter((k) => k.toString('latin1') !== RESTORE_MARKER_KEY);
    if (own.length > 0) {
      await ctx.beginWrites();
      await migrate(own);
    }
    ctx.onKeys(own.length);
  } while (cursor !== '0');

  const expiredAfter = Number(parseInfo(await command<string>(c, 'INFO', 'stats'))['expired_keys'] ?? 0);
  return { loaded: loadedKeys, expiredOnLoad, expiredDuringMove: expiredAfter - expiredBefore };
}

// ---------------------------------------------------------------------------------
// The restore

/**
 * Restores backup `backupId` from `sink` into the empty cluster reached through
 * `cluster`. See the top of this file for what is checked, how keys move and how an
 * interrupted restore is resumed.
 */
export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const id = checkBackupId(opts.backupId);
  const what = `restore of backup "${id}"`;
  // Everything below runs on `signal`: the caller's, and also fired when one temporary
  // server's work fails, so that the others stop too.
  const inner = new AbortController();
  const signal = inner.signal;
  const onOuterAbort = (): void => inner.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onOuterAbort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (opts.cluster.length === 0) throw new InvalidArgumentError('cluster', 'no node address given; pass at least one member of the target cluster');
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 2));
  const timings = { checkMs: 0, stageMs: 0, moveMs: 0, verifyMs: 0 };
  const temps = new Set<TempServer>();
  let workDir: string | undefined;
  try {
    // 1. The backup and the target.
    let t0 = Date.now();
    const manifest = await readBackupManifest(opts.sink, id, { signal });
    const progress: RestoreProgress = { phase: 'check', filesTotal: manifest.nodeGroups.length, filesDone: 0, keysTotal: manifest.totals.keys, keysRestored: 0 };
    report(opts.onProgress, progress);
    const target = await targetFacts(opts, what, signal);
    const compat = restoreCompatibility(manifest, target.server);
    if (!compat.ok) throw new FailedPreconditionError(`${what} refused: ${compat.reason}. What to do: ${compat.action}`, { reason: 'INCOMPATIBLE_VERSION' });
    const token = markerValue(manifest);
    const markerOwner = ownerOf(target.topology, RESTORE_MARKER_KEY);
    const resumed = await checkEmpty(target, markerOwner, token, what, signal);
    const engine = opts.engine ?? new RedisEngine();
    const binaries = await engine.resolve(target.server.catalogueVersion ?? '', 'data');
    timings.checkMs = Date.now() - t0;

    // 2. Copy every file out of the sink and check it. Nothing is written to the
    // cluster before all of them passed.
    t0 = Date.now();
    progress.phase = 'stage';
    report(opts.onProgress, progress);
    const base = opts.tempDir ?? os.tmpdir();
    await mkdir(base, { recursive: true });
    workDir = await mkdtemp(path.join(base, 'coxswain-restore-'));
    const dirs: string[] = [];
    for (const g of manifest.nodeGroups) {
      const dir = path.join(workDir, String(g.index));
      await mkdir(dir, { mode: 0o700 });
      const digest = await opts.sink.getFile(`${backupPrefix(id)}${g.file.name}`, path.join(dir, 'dump.rdb'), { signal });
      checkFileDigest(manifest, g, digest);
      dirs.push(dir);
    }
    timings.stageMs = Date.now() - t0;

    // 3. Move the keys, `concurrency` node groups at a time.
    t0 = Date.now();
    progress.phase = 'move';
    report(opts.onProgress, progress);
    let marking: Promise<unknown> | undefined;
    const beginWrites = (): Promise<unknown> =>
      (marking ??= onNode(markerOwner.addr, 'restoreBackup', (c) => command(c, 'SET', RESTORE_MARKER_KEY, token), { signal, nodeId: markerOwner.id }));
    const expiredBefore = await expiredKeys(target.primaries, signal);
    const router = new Router(target.topology);
    const refresh = async (): Promise<void> => {
      const obs = await observeCluster(opts.cluster, { signal });
      const r = new Router(obs.topology);
      router.owners = r.owners;
      router.byId = r.byId;
    };
    const counts: MoveCounts[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const i = next++;
        const g = manifest.nodeGroups[i];
        const dir = dirs[i];
        if (g === undefined || dir === undefined) return;
        throwIfStopped(signal, what);
        const fileWhat = `file ${g.file.name} of backup "${id}"`;
        const temp = await startTempServer(binaries.server.path, dir, fileWhat, {
          signal,
          loadTimeoutMs: opts.loadTimeoutMs ?? 300_000,
          searchPath: process.env.PATH ?? '',
        });
        temps.add(temp);
        const onAbort = (): void => temp.client.disconnect();
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          counts.push(
            await moveKeys(temp, g, {
              router,
              refresh,
              beginWrites: async () => {
                await beginWrites();
              },
              opts,
              signal,
              what,
              onKeys: (n) => {
                progress.keysRestored += n;
                report(opts.onProgress, progress);
              },
            }),
          );
        } finally {
          signal?.removeEventListener('abort', onAbort);
          await temp.stop();
          temps.delete(temp);
          await rm(dir, { recursive: true, force: true });
        }
        progress.filesDone++;
        report(opts.onProgress, progress);
      }
    };
    let firstError: unknown;
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(concurrency, manifest.nodeGroups.length) }, () =>
        worker().catch((err: unknown) => {
          firstError ??= err;
          inner.abort(err);
          throw err;
        }),
      ),
    );
    if (settled.some((r) => r.status === 'rejected')) throw firstError;
    timings.moveMs = Date.now() - t0;

    // 4. Count: every key of the backup is there, except those that expired.
    t0 = Date.now();
    progress.phase = 'verify';
    report(opts.onProgress, progress);
    await onNode(markerOwner.addr, 'restoreBackup', (c) => command(c, 'DEL', RESTORE_MARKER_KEY), { signal, nodeId: markerOwner.id });
    const sizes = await Promise.all(target.primaries.map((p) => onNode(p.addr, 'restoreBackup', (c) => command<number>(c, 'DBSIZE'), { signal, nodeId: p.id })));
    const inCluster = sizes.reduce((a, b) => a + b, 0);
    const expiredInTarget = (await expiredKeys(target.primaries, signal)) - expiredBefore;
    const moved = counts.reduce((n, c) => n + c.loaded - c.expiredDuringMove, 0);
    const expected = moved - expiredInTarget;
    // A resumed restore may find keys of the first attempt expiring in the cluster that
    // were never loaded this time, so there the count may exceed `expected` by those.
    const ok = resumed ? inCluster >= expected && inCluster <= moved : inCluster === expected;
    if (!ok) {
      throw new DataLossError(
        `${what}: the cluster holds ${inCluster} keys after the restore, but ${expected} were expected ` +
          `(${manifest.totals.keys} in the backup, ${counts.reduce((n, c) => n + c.expiredOnLoad, 0)} expired before loading, ` +
          `${counts.reduce((n, c) => n + c.expiredDuringMove, 0)} while copying, ${expiredInTarget} in the cluster since). ` +
          'Did a client write into the cluster during the restore? Empty the cluster (FLUSHALL on every primary) and restore again',
        { reason: 'RESTORE_COUNT_MISMATCH', details: { expected: String(expected), actual: String(inCluster) } },
      );
    }
    timings.verifyMs = Date.now() - t0;
    progress.phase = 'done';
    report(opts.onProgress, progress);
    return {
      backupId: id,
      keysInBackup: manifest.totals.keys,
      keysExpired: manifest.totals.keys - inCluster,
      keysInCluster: inCluster,
      nodeGroupsInBackup: manifest.nodeGroups.length,
      targetPrimaries: target.primaries.length,
      target: target.server,
      resumed,
      ms: Date.now() - started,
      timings,
    };
  } catch (err) {
    throw asStatusError(err, opts.signal, what);
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
    await Promise.all([...temps].map((t) => t.stop()));
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  }
}

function markerValue(m: BackupManifest): string {
  return `${m.backupId} ${m.finishedAt} ${m.totals.keys}`;
}

/** Refuses a non-empty target, unless it only holds an interrupted restore of this backup. Returns whether to resume. */
async function checkEmpty(target: TargetFacts, markerOwner: TopologyNode, token: string, what: string, signal: AbortSignal | undefined): Promise<boolean> {
  const busy = target.keys.filter((k) => k.keys > 0);
  if (busy.length === 0) return false;
  const marker = await onNode(markerOwner.addr, 'restoreBackup', (c) => command<string | null>(c, 'GET', RESTORE_MARKER_KEY), { signal, nodeId: markerOwner.id });
  if (marker === token) return true;
  const total = busy.filter((k) => k.node.role === 'primary').reduce((n, k) => n + k.keys, 0);
  const where = busy.map((k) => `${describeNode(k.node.id, formatAddr(k.node.addr))}: ${k.keys}`).join(', ');
  const interrupted = marker === null ? '' : ` It carries the marker of an interrupted restore of "${marker.split(' ')[0] ?? '?'}": finish that one by restoring it again.`;
  throw new FailedPreconditionError(
    `${what} refused: the target cluster is not empty (${total} keys; ${where}). A restore only writes into an empty cluster, so that no data is overwritten or mixed.${interrupted} ` +
      'To restore here anyway, empty it first (FLUSHALL on every primary), or restore into a new cluster',
    { reason: 'TARGET_NOT_EMPTY' },
  );
}

function report(onProgress: ((p: RestoreProgress) => void) | undefined, p: RestoreProgress): void {
  try {
    onProgress?.({ ...p });
  } catch {
    // A failing progress callback must not fail the restore.
  }
}

