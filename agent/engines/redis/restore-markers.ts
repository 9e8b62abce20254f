// Restore markers: which backup this agent restored into which target nodes, so that a
// RestoreBackup repeated after it succeeded answers `changed: false` instead of being
// refused because the cluster is no longer empty (the leader repeats a step whose
// answer it did not get; safety invariant 5).
//
// A marker names the backup (id and sink) and the engine node ids of the local nodes
// the restore was asked to fill. The engine ids tie it to those very nodes: a cluster
// built again from new nodes (new engine ids) has no marker, and there a non-empty
// cluster is still refused (restore.ts). One file per marker under `<dir>/restores/`,
// written atomically once the restore finished; its name is a hash of the key, its
// content says what it is for people.
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readTextIfExists, writeFileAtomic } from '../../../common/atomic-file.ts';

export const RESTORE_MARKER_DIR = 'restores';

/** What identifies a finished restore. */
export interface RestoreTarget {
  backupId: string;
  /** The sink's path as the request gave it. */
  sinkPath: string;
  /** Engine node ids of the local nodes restored into (any order). */
  engineNodeIds: readonly string[];
}

/** A marker as stored. */
export interface RestoreMarker extends RestoreTarget {
  format: 1;
  restoredAt: string;
  keysInCluster: number;
  message: string;
}

function fileOf(dir: string, t: RestoreTarget): string {
  const key = JSON.stringify([t.backupId, t.sinkPath, [...t.engineNodeIds].sort()]);
  return path.join(dir, RESTORE_MARKER_DIR, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
}

function sameTarget(m: RestoreMarker, t: RestoreTarget): boolean {
  const a = [...m.engineNodeIds].sort();
  const b = [...t.engineNodeIds].sort();
  return m.backupId === t.backupId && m.sinkPath === t.sinkPath && a.length === b.length && a.every((id, i) => id === b[i]);
}

/** The marker of a finished restore of exactly this backup into exactly these nodes, or undefined. */
export async function findRestoreMarker(dir: string, target: RestoreTarget): Promise<RestoreMarker | undefined> {
  if (target.engineNodeIds.some((id) => id === '')) return undefined; // a node without engine id cannot have been restored into
  const text = await readTextIfExists(fileOf(dir, target));
  if (text === undefined) return undefined;
  const value = JSON.parse(text) as RestoreMarker;
  return value.format === 1 && Array.isArray(value.engineNodeIds) && sameTarget(value, target) ? value : undefined;
}

/** Records that the restore of `target` finished. */
export async function writeRestoreMarker(dir: string, target: RestoreTarget, result: { keysInCluster: number; message: string }): Promise<RestoreMarker> {
  const marker: RestoreMarker = {
    format: 1,
    backupId: target.backupId,
    sinkPath: target.sinkPath,
    engineNodeIds: [...target.engineNodeIds].sort(),
    restoredAt: new Date().toISOString(),
    keysInCluster: result.keysInCluster,
    message: result.message,
  };
  await mkdir(path.join(dir, RESTORE_MARKER_DIR), { recursive: true, mode: 0o700 });
  await writeFileAtomic(fileOf(dir, target), `${JSON.stringify(marker, null, 2)}\n`, 0o600);
  return marker;
}
