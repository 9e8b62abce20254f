// Backups of a Redis Cluster into a sink (sink.ts): one RDB snapshot per node group
// plus a manifest (backup-manifest.ts), and listing, deleting and verifying them.
//
// What "consistent" means here. Each node group's RDB is a point-in-time snapshot of
// the slots its primary owns: BGSAVE forks, and the child writes the data set exactly
// as it was at the fork. The saves of different node groups are started together, so
// their points in time differ by milliseconds, but there is no cross-shard atomicity:
// a client that writes key A (group 1) and then key B (group 2) may find B in the
// backup without A. This is the guarantee Redis Cluster's own tooling gives (BGSAVE on
// each primary); an application that needs more must pause its writes itself. What a
// backup does guarantee: every slot is in exactly one snapshot. So it refuses to start
// while slots are migrating (the nodes do not agree on the topology) and fails
// (transient: retry) when the primaries or their slots changed while it ran.
//
// A backup is complete once its manifest exists. The manifest is written last,
// atomically, and holds the size and SHA-256 of every file; a backup without one is
// incomplete, is never listed, and is removed and redone by the next createBackup with
// the same id. A complete backup with that id makes createBackup a no-op (idempotent).
//
// The RDB files are read from each primary's data directory (CONFIG GET dir +
// dbfilename): the local engine runs every node on this machine. With nodes on other
// VMs the agent on each VM copies its own primary's file; the sink interface is the
// same.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import {
  AgentCallError,
  DataLossError,
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from '../../../proto/status.ts';
import { abortedError } from '../errors.ts';
import {
  CONSISTENCY_TEXT,
  MANIFEST_FILE,
  MANIFEST_KIND,
  MANIFEST_SCHEMA_VERSION,
  backupPrefix,
  checkBackupId,
  manifestKey,
  parseManifest,
  parseRdbHeader,
  rdbFileName,
  serializeManifest,
  serverVersionFromInfo,
} from './backup-manifest.ts';
import type { BackupManifest, NodeGroupRecord, ServerVersion } from './backup-manifest.ts';
import { describeNode } from './errors.ts';
import { command, connectNode, formatAddr, replyErrorText, toOpError } from './redis-connection.ts';
import type { NodeAddress } from './redis-connection.ts';
import type { BackupSink, ObjectDigest, SinkCallOptions } from './sink.ts';
import {
  findNode,
  observeCluster,
  parseInfo,
  primariesOf,
  replicasOf,
  waitForAgreementObservation,
} from './topology.ts';
import type { TopologyNode } from './topology.ts';
import type { SlotRange } from '../../../common/slot-ranges.ts';
import { normalRanges, rangesText } from '../../../common/slot-ranges.ts';

// ---------------------------------------------------------------------------------
// Errors at the boundary

/**
 * Any error of a backup or restore as a typed error of the agent contract. The cluster
 * layer's errors already are (RedisOpError is an AgentCallError); anything else is an
 * unexpected failure, reported as transient with its message.
 */
export function asStatusError(err: unknown, signal: AbortSignal | undefined, what: string): AgentCallError {
  if (err instanceof AgentCallError) return err;
  if (signal?.aborted) return abortedError(signal, `${what} was stopped before it finished; repeat it to finish the job`);
  const message = err instanceof Error ? err.message : String(err);
  return new UnavailableError(`${what} failed unexpectedly: ${message}; see the agent's log, then retry`, { cause: err });
}

export function throwIfStopped(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortedError(signal, `${what} was stopped before it finished; repeat it to finish the job`);
}

/**
 * Runs `fn` with one connection to a node, closed afterwards and at once when the
 * signal fires. Typed errors thrown by `fn` pass unchanged; client errors become a
 * RedisOpError naming the node.
 */
export async function onNode<T>(
  addr: NodeAddress,
  op: string,
  fn: (c: Redis) => Promise<T>,
  opts: { signal?: AbortSignal | undefined; nodeId?: string | undefined; commandTimeoutMs?: number } = {},
): Promise<T> {
  const client = await connectNode(addr, { signal: opts.signal, op, nodeId: opts.nodeId, commandTimeoutMs: opts.commandTimeoutMs });
  const onAbort = (): void => client.disconnect();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await fn(client);
  } catch (err) {
    if (err instanceof AgentCallError) throw err;
    if (opts.signal?.aborted) throw abortedError(opts.signal, `${op} was stopped`);
    throw toOpError(err, op, addr, opts.nodeId);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    client.disconnect();
  }
}

function sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : {}).catch(() => {
    throw abortedError(signal ?? AbortSignal.abort(), `${what} was stopped before it finished; repeat it to finish the job`);
  });
}

function report<P>(onProgress: ((p: P) => void) | undefined, p: P): void {
  try {
    onProgress?.(p);
  } catch {
    // A failing progress callback must not fail the backup.
  }
}

// ---------------------------------------------------------------------------------
// Reading backups

export type BackupState =
  | { state: 'complete'; manifest: BackupManifest }
  | { state: 'incomplete'; objects: string[] }
  | { state: 'absent' };

/** Whether backup `id` exists in the sink, complete (with its manifest) or not. */
export async function inspectBackup(sink: BackupSink, id: string, opts: SinkCallOptions = {}): Promise<BackupState> {
  const text = await sink.getBytes(manifestKey(id), opts);
  if (text !== undefined) return { state: 'complete', manifest: parseManifest(text.toString('utf8'), id) };
  const { objects, prefixes } = await sink.list(backupPrefix(id), opts);
  if (objects.length === 0 && prefixes.length === 0) return { state: 'absent' };
  return { state: 'incomplete', objects };
}

/** The manifest of a complete backup; NOT_FOUND when the backup is absent or incomplete. */
export async function readBackupManifest(sink: BackupSink, id: string, opts: SinkCallOptions = {}): Promise<BackupManifest> {
  const st = await inspectBackup(sink, id, opts);
  if (st.state === 'complete') return st.manifest;
  if (st.state === 'incomplete') {
    throw new NotFoundError(
      `backup "${id}" in ${sink.description} is incomplete (no ${MANIFEST_FILE}: it was interrupted); take it again with the same id, or restore from another backup`,
      { reason: 'BACKUP_INCOMPLETE' },
    );
  }
  throw new NotFoundError(`backup "${id}" does not exist in ${sink.description}; list the backups there and pick an existing id`, {
    reason: 'BACKUP_NOT_FOUND',
  });
}

export interface BackupSummary {
  id: string;
  finishedAt: string;
  server: ServerVersion;
  nodeGroups: number;
  keys: number;
  bytes: number;
}

/**
 * The complete backups in a sink, by id. Incomplete ones (no manifest) and damaged ones
 * (a manifest that does not parse) are not listed: a restore could not use them.
 */
export async function listBackups(sink: BackupSink, opts: SinkCallOptions = {}): Promise<BackupSummary[]> {
  const { prefixes } = await sink.list('', opts);
  const out: BackupSummary[] = [];
  for (const id of prefixes) {
    let st: BackupState;
    try {
      st = await inspectBackup(sink, checkBackupId(id), opts);
    } catch (err) {
      if (err instanceof AgentCallError && (err.reason === 'DATA_LOSS' || err.reason === 'INVALID_ARGUMENT')) continue;
      throw err;
    }
    if (st.state !== 'complete') continue;
    const m = st.manifest;
    out.push({ id, finishedAt: m.finishedAt, server: m.server, nodeGroups: m.totals.nodeGroups, keys: m.totals.keys, bytes: m.totals.bytes });
  }
  return out;
}

/**
 * Deletes backup `id`, complete or not. Idempotent: `deleted` is false when there was
 * nothing. The manifest goes first, so a deletion that is interrupted leaves an
 * incomplete backup (never listed), not a complete-looking one with missing files.
 * Safety invariant 4 (a backup named by restoreFromBackup is never deleted) is the
 * planner's: it never asks for that deletion.
 */
export async function deleteBackup(sink: BackupSink, id: string, opts: SinkCallOptions = {}): Promise<{ deleted: boolean }> {
  const st = await inspectBackup(sink, checkBackupId(id), opts).catch((err: unknown) => {
    if (err instanceof AgentCallError && err.reason === 'DATA_LOSS') return { state: 'incomplete' as const, objects: [] };
    throw err;
  });
  if (st.state === 'absent') return { deleted: false };
  await sink.delete(manifestKey(id), opts);
  await sink.deletePrefix(backupPrefix(id), opts);
  return { deleted: true };
}

/** DATA_LOSS when a file's digest differs from what the manifest recorded. */
export function checkFileDigest(manifest: BackupManifest, group: NodeGroupRecord, actual: ObjectDigest): void {
  const f = group.file;
  if (actual.sha256 === f.sha256 && actual.bytes === f.bytes) return;
  throw new DataLossError(
    `backup "${manifest.backupId}": file ${f.name} is damaged: expected sha256 ${f.sha256} (${f.bytes} bytes), ` +
      `actual sha256 ${actual.sha256} (${actual.bytes} bytes). Nothing was restored from it; restore from another backup, ` +
      'or delete this one and take it again',
    { reason: 'CHECKSUM_MISMATCH', details: { file: f.name, expectedSha256: f.sha256, actualSha256: actual.sha256 } },
  );
}

/**
 * Reads every file of backup `id` and compares its size and SHA-256 with the manifest.
 * NOT_FOUND when the backup is absent or incomplete; DATA_LOSS naming the file, the
 * expected and the actual sha256 on a mismatch or a missing file.
 */
export async function verifyBackup(sink: BackupSink, id: string, opts: SinkCallOptions = {}): Promise<BackupManifest> {
  const manifest = await readBackupManifest(sink, id, opts);
  for (const g of manifest.nodeGroups) {
    let actual: ObjectDigest;
    try {
      actual = await sink.digest(`${backupPrefix(id)}${g.file.name}`, opts);
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new DataLossError(
          `backup "${id}": file ${g.file.name} is missing (expected sha256 ${g.file.sha256}, ${g.file.bytes} bytes); the backup cannot be restored: delete it and take it again`,
          { reason: 'FILE_MISSING', details: { file: g.file.name, expectedSha256: g.file.sha256 } },
        );
      }
      throw err;
    }
    checkFileDigest(manifest, g, actual);
  }
  return manifest;
}

// ---------------------------------------------------------------------------------
// Taking a backup

export interface BackupProgress {
  phase: 'observe' | 'save' | 'copy' | 'manifest' | 'done';
  nodeGroupsTotal: number;
  nodeGroupsSaved: number;
  nodeGroupsCopied: number;
  bytesCopied: number;
}

export interface CreateBackupOptions {
  /** Addresses of cluster members (any reachable member suffices; the rest are discovered). */
  cluster: NodeAddress[];
  /** A DNS-1123 label; the backup's name in the sink. */
  backupId: string;
  sink: BackupSink;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: BackupProgress) => void) | undefined;
  /** How long to wait for the nodes to agree on the topology. @default 10000 */
  agreementTimeoutMs?: number | undefined;
  /** How long one primary's BGSAVE may take. @default 600000 */
  saveTimeoutMs?: number | undefined;
  /** Poll interval while a BGSAVE runs. @default 10 */
  pollMs?: number | undefined;
}

export interface CreateBackupResult {
  manifest: BackupManifest;
  /** False when a complete backup with this id existed already: nothing was done. */
  created: boolean;
  /** True when an incomplete backup with this id was found and removed first. */
  cleanedIncomplete: boolean;
  ms: number;
  /** Time per phase (0 when nothing was done). */
  timings: { observeMs: number; saveMs: number; copyMs: number; manifestMs: number };
}

/** How much of an RDB file is read to find its key counts. */
const HEADER_BYTES = 1 << 20;

interface Snapshot {
  /** LASTSAVE of the save, seconds since the epoch. */
  lastSave: number;
  /** DBSIZE right after the save: the fallback key count. */
  dbsize: number;
  file: string;
  server: ServerVersion;
}

/**
 * Backs up the cluster reached through `cluster` into `sink` as backup `backupId`.
 * Idempotent: a complete backup with the same id is returned as it is (`created:
 * false`); an incomplete one is removed and taken again. On any failure (or abort)
 * everything written under the id is removed and the error says what failed.
 */
export async function createBackup(opts: CreateBackupOptions): Promise<CreateBackupResult> {
  const what = `backup "${opts.backupId}"`;
  const started = Date.now();
  const id = checkBackupId(opts.backupId);
  const { sink, signal } = opts;
  if (opts.cluster.length === 0) throw new InvalidArgumentError('cluster', 'no node address given; pass at least one member of the cluster');
  throwIfStopped(signal, what);
  const timings = { observeMs: 0, saveMs: 0, copyMs: 0, manifestMs: 0 };

  const existing = await inspectBackup(sink, id, { signal });
  if (existing.state === 'complete') return { manifest: existing.manifest, created: false, cleanedIncomplete: false, ms: Date.now() - started, timings };
  // Anything else under the id is the rest of an interrupted attempt.
  await sink.deletePrefix(backupPrefix(id), { signal });

  const progress: BackupProgress = { phase: 'observe', nodeGroupsTotal: 0, nodeGroupsSaved: 0, nodeGroupsCopied: 0, bytesCopied: 0 };
  try {
    // 1. The agreed topology, with no slot in the middle of a move.
    report(opts.onProgress, { ...progress });
    let t0 = Date.now();
    let obs = await observeCluster(opts.cluster, { signal });
    if (!obs.agreed) {
      refuseWhileMigrating(obs.disagreements, what);
      obs = await waitForAgreementObservation(opts.cluster, { signal, timeoutMs: opts.agreementTimeoutMs ?? 10_000, op: 'createBackup' });
    }
    if (obs.unassignedSlots > 0) {
      throw new FailedPreconditionError(
        `${what}: ${obs.unassignedSlots} of 16384 slots are not assigned to any primary, so the cluster is not completely formed; finish forming it, then back it up`,
        { reason: 'CLUSTER_INCOMPLETE' },
      );
    }
    const topology = obs.topology;
    const groups = primariesOf(topology)
      .filter((p) => p.slotCount > 0)
      .sort((a, b) => (normalRanges(a.slots)[0]?.start ?? 0) - (normalRanges(b.slots)[0]?.start ?? 0));
    progress.nodeGroupsTotal = groups.length;
    timings.observeMs = Date.now() - t0;

    // 2. BGSAVE on every primary at once (the points in time differ by milliseconds).
    progress.phase = 'save';
    report(opts.onProgress, { ...progress });
    t0 = Date.now();
    // When one save fails the others stop waiting (their BGSAVE itself runs on).
    const saves = new AbortController();
    const stopSaves = (): void => saves.abort(signal?.reason);
    signal?.addEventListener('abort', stopSaves, { once: true });
    let snapshots: Snapshot[];
    try {
      snapshots = await Promise.all(
        groups.map(async (p) => {
          try {
            const s = await snapshot(p, { ...opts, signal: saves.signal });
            progress.nodeGroupsSaved++;
            report(opts.onProgress, { ...progress });
            return s;
          } catch (err) {
            saves.abort(err);
            throw err;
          }
        }),
      );
    } finally {
      signal?.removeEventListener('abort', stopSaves);
    }
    timings.saveMs = Date.now() - t0;

    // 3. Copy each snapshot into the sink.
    progress.phase = 'copy';
    t0 = Date.now();
    const records: NodeGroupRecord[] = [];
    for (const [index, p] of groups.entries()) {
      const snap = snapshots[index];
      if (snap === undefined) continue;
      records.push(await copySnapshot(index, p, snap, replicasOf(topology, p.id).length, opts, progress));
      progress.nodeGroupsCopied++;
      report(opts.onProgress, { ...progress });
    }
    timings.copyMs = Date.now() - t0;

    // 4. The same primaries with the same slots as at the start, else a slot may be in
    // two snapshots or in none.
    await checkTopologyUnchanged(opts.cluster, groups, signal, what);

    // 5. The manifest, last and atomically: from now on the backup exists.
    progress.phase = 'manifest';
    report(opts.onProgress, { ...progress });
    t0 = Date.now();
    const newest = records.reduce((a, b) => (b.rdbVersion > a.rdbVersion ? b : a));
    const manifest: BackupManifest = {
      kind: MANIFEST_KIND,
      schemaVersion: MANIFEST_SCHEMA_VERSION,
      backupId: id,
      engine: 'redis',
      server: newest.server,
      rdbVersion: newest.rdbVersion,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString(),
      consistency: CONSISTENCY_TEXT,
      nodeGroups: records,
      totals: {
        nodeGroups: records.length,
        keys: records.reduce((n, r) => n + r.keys, 0),
        bytes: records.reduce((n, r) => n + r.file.bytes, 0),
      },
    };
    throwIfStopped(signal, what);
    await sink.putBytes(manifestKey(id), serializeManifest(manifest), { signal });
    timings.manifestMs = Date.now() - t0;
    progress.phase = 'done';
    report(opts.onProgress, { ...progress });
    return { manifest, created: true, cleanedIncomplete: existing.state === 'incomplete', ms: Date.now() - started, timings };
  } catch (err) {
    // Remove what this attempt wrote: without a manifest it is useless. The abort is
    // over, so the clean-up runs without the signal.
    await sink.deletePrefix(backupPrefix(id)).catch(() => undefined);
    throw asStatusError(err, signal, what);
  }
}

function refuseWhileMigrating(disagreements: string[], what: string): void {
  const moving = disagreements.filter((d) => /\b(migrating|importing)\b/.test(d));
  if (moving.length === 0) return;
  throw new UnavailableError(
    `${what}: cannot start while slots are moving between node groups (${moving.slice(0, 5).join('; ')}${moving.length > 5 ? '; …' : ''}); ` +
      'a backup taken now could miss or duplicate the keys of those slots. Retry when the move has finished',
    { reason: 'SLOTS_MIGRATING' },
  );
}

async function checkTopologyUnchanged(addrs: NodeAddress[], groups: TopologyNode[], signal: AbortSignal | undefined, what: string): Promise<void> {
  const after = await observeCluster(addrs, { signal });
  const changes: string[] = [];
  for (const g of groups) {
    const now = findNode(after.topology, g.id);
    const was = `primary with ${rangesText(normalRanges(g.slots))}`;
    const is = now === undefined ? 'gone' : now.role === 'primary' ? `primary with ${rangesText(normalRanges(now.slots))}` : 'a replica';
    if (is !== was) changes.push(`${describeNode(g.id, formatAddr(g.addr))} was ${was}, is ${is}`);
    if (now && (now.migrating.length > 0 || now.importing.length > 0)) changes.push(`${describeNode(g.id, formatAddr(g.addr))} has slots in a move`);
  }
  if (changes.length === 0) return;
  throw new UnavailableError(
    `${what}: the topology changed while the backup ran (${changes.join('; ')}), so a slot may be in two snapshots or in none; the partial backup was removed. Retry the backup`,
    { reason: 'TOPOLOGY_CHANGED' },
  );
}

/**
 * BGSAVE on one primary, waiting until it has finished: `rdb_saves` (or LASTSAVE on a
 * server without that counter) moved past its value before our BGSAVE, no save is in
 * progress, and the last save's status is ok. A save already running was started
 * before this backup, so its snapshot is older than the call: it is waited out and
 * then our own BGSAVE is started. During an AOF rewrite, BGSAVE SCHEDULE runs the save
 * right after it.
 */
async function snapshot(p: TopologyNode, opts: CreateBackupOptions): Promise<Snapshot> {
  const op = 'createBackup';
  const signal = opts.signal;
  const pollMs = opts.pollMs ?? 10;
  const timeoutMs = opts.saveTimeoutMs ?? 600_000;
  const who = describeNode(p.id, formatAddr(p.addr));
  return onNode(
    p.addr,
    op,
    async (c) => {
      const persistence = async (): Promise<Record<string, string>> => parseInfo(await command<string>(c, 'INFO', 'persistence'));
      const server = serverVersionFromInfo(parseInfo(await command<string>(c, 'INFO', 'server')));
      const [, dir] = await command<[string, string]>(c, 'CONFIG', 'GET', 'dir');
      const [, dbfilename] = await command<[string, string]>(c, 'CONFIG', 'GET', 'dbfilename');
      const deadline = Date.now() + timeoutMs;
      const timedOut = (doing: string): DeadlineExceededError =>
        new DeadlineExceededError(
          `${who}: ${doing} did not finish within ${Math.round(timeoutMs / 1000)} s; check the node's log and disk, or raise saveTimeoutMs`,
          { reason: 'SAVE_TIMEOUT' },
        );

      let before: Record<string, string>;
      for (;;) {
        before = await persistence();
        if (before['rdb_bgsave_in_progress'] !== '1') {
          try {
            await command(c, 'BGSAVE');
            break;
          } catch (err) {
            const text = replyErrorText(err) ?? '';
            if (/AOF|append only/i.test(text)) {
              await command(c, 'BGSAVE', 'SCHEDULE');
              break;
            }
            if (!/already in progress/i.test(text)) throw err;
          }
        }
        if (Date.now() > deadline) throw timedOut('a BGSAVE that was already running');
        await sleep(pollMs, signal, `backup "${opts.backupId}"`);
      }

      const savesBefore = before['rdb_saves'] === undefined ? undefined : Number(before['rdb_saves']);
      const lastBefore = Number(before['rdb_last_save_time'] ?? 0);
      for (;;) {
        const now = await persistence();
        const last = Number(now['rdb_last_save_time'] ?? 0);
        const moved = savesBefore === undefined ? last > lastBefore : Number(now['rdb_saves']) > savesBefore && last >= lastBefore;
        if (now['rdb_bgsave_in_progress'] === '0' && moved) {
          if (now['rdb_last_bgsave_status'] !== 'ok') {
            throw new FailedPreconditionError(
              `${who}: BGSAVE failed (rdb_last_bgsave_status:${now['rdb_last_bgsave_status'] ?? '?'}); see the node's log — usually its data directory is full or not writable`,
              { reason: 'SAVE_FAILED' },
            );
          }
          const dbsize = await command<number>(c, 'DBSIZE');
          return { lastSave: last, dbsize, file: path.resolve(dir, dbfilename), server };
        }
        if (Date.now() > deadline) throw timedOut('BGSAVE');
        await sleep(pollMs, signal, `backup "${opts.backupId}"`);
      }
    },
    { signal, nodeId: p.id, commandTimeoutMs: 10_000 },
  );
}

/** Copies one snapshot into the sink and returns its manifest record. */
async function copySnapshot(
  index: number,
  p: TopologyNode,
  snap: Snapshot,
  replicas: number,
  opts: CreateBackupOptions,
  progress: BackupProgress,
): Promise<NodeGroupRecord> {
  const who = describeNode(p.id, formatAddr(p.addr));
  const name = rdbFileName(index, p.id);
  let handle: FileHandle;
  try {
    handle = await open(snap.file, 'r');
  } catch (err) {
    throw new FailedPreconditionError(
      `${who}: cannot read its RDB file ${snap.file} (${(err as Error).message}); the local engine reads it from this machine, so the node must run here with its data directory readable by the agent`,
      { reason: 'RDB_UNREADABLE', cause: err },
    );
  }
  try {
    // The header and the copy come from the same open file, so they describe the same
    // snapshot even if another save replaces the file meanwhile.
    const head = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const header = parseRdbHeader(head.subarray(0, bytesRead), `the RDB file of ${who}`);
    const size = (await handle.stat()).size;
    const digest = await opts.sink.putStream(`${backupPrefix(opts.backupId)}${name}`, readChunks(handle, progress), { signal: opts.signal });
    if (digest.bytes !== size) {
      throw new UnavailableError(`${who}: its RDB file changed size while it was copied (${size} → ${digest.bytes} bytes); retry the backup`, {
        reason: 'RDB_CHANGED',
      });
    }
    const slots: SlotRange[] = normalRanges(p.slots);
    return {
      index,
      primaryId: p.id,
      primaryAddr: formatAddr(p.addr),
      replicas,
      slots,
      slotCount: p.slotCount,
      keys: header.keys ?? snap.dbsize,
      keysWithExpiry: header.keys === undefined ? null : (header.expires ?? null),
      keysSource: header.keys === undefined ? 'dbsize' : 'rdb',
      server: snap.server,
      rdbVersion: header.rdbVersion,
      savedAt: new Date(snap.lastSave * 1000).toISOString(),
      file: { name, bytes: digest.bytes, sha256: digest.sha256 },
    };
  } finally {
    await handle.close();
  }
}

/** The whole file from the start, in 1 MiB chunks (plain reads: see LocalDirectorySink.putStream). */
async function* readChunks(handle: FileHandle, progress: BackupProgress): AsyncGenerator<Buffer> {
  for (let position = 0; ; ) {
    const buf = Buffer.allocUnsafe(1 << 20);
    const { bytesRead } = await handle.read(buf, 0, buf.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    progress.bytesCopied += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}
