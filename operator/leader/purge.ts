// `coxswain down --purge`: after the VM provider removed the VMs (agents, data nodes and
// their data), the rest of the cluster's state goes too: history, journal, facts, secret,
// epoch, log. Backups are kept: they are meant to outlive a cluster (a new cluster can be
// filled from one with restoreFromBackup), and a person deletes a backup by removing it
// from "backups" while the cluster runs. So every local sink the history ever named that
// lies inside the state directory survives the purge; the directory itself is removed
// when nothing is left in it.
import { readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { DesiredStateHistory } from '../../desired-state/history.ts';
import type { StateLayout } from './state-layout.ts';

/** Absolute directories of every local backup sink the history ever named. */
export function backupSinkDirs(history: DesiredStateHistory, stateDir: string): string[] {
  const dirs = new Set<string>();
  for (const entry of history.list()) {
    const sinks = [...entry.desired.backups.map((b) => b.sink), ...(entry.desired.restoreFromBackup === undefined ? [] : [entry.desired.restoreFromBackup.sink])];
    for (const sink of sinks) if (sink.type === 'local') dirs.add(path.resolve(stateDir, sink.path));
  }
  return [...dirs].sort();
}

export interface PurgeResult {
  /** Backup directories kept inside the state directory. */
  keptBackups: string[];
}

/**
 * Removes the state directory's own entries (state-layout.ts: history/, journal/, vms/,
 * leader/, secret, leader.json, leader.log, leader.pid) except `keep` (backup sinks and
 * the directories that lead to them, and files the caller removes last, like the lock).
 * Nothing else in the directory is touched: a state directory given by mistake as a
 * directory that holds other files (--state-dir . in a project) keeps those files.
 */
export async function purgeStateDir(layout: StateLayout, keep: { backupDirs: string[]; files: string[] }): Promise<PurgeResult> {
  const root = layout.stateDir;
  const keptBackups = keep.backupDirs.filter((d) => isInside(d, root));
  const protectedPaths = [...keptBackups, ...keep.files.map((f) => path.resolve(f))];
  const own = [layout.historyDir, layout.journalDir, layout.vmsDir, layout.leaderDir, layout.secretFile, layout.adminFile, layout.logFile, layout.pidFile];
  for (const entry of own) {
    if (protectedPaths.includes(entry)) continue;
    if (protectedPaths.some((p) => isInside(p, entry))) await removeExcept(entry, protectedPaths);
    else await rm(entry, { recursive: true, force: true });
  }
  return { keptBackups };
}

/** Removes `dir` if it is empty now (after the lock file went); true when it did. */
export async function removeIfEmpty(dir: string): Promise<boolean> {
  return rmdir(dir).then(
    () => true,
    () => false,
  );
}

async function removeExcept(dir: string, protectedPaths: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (protectedPaths.includes(full)) continue;
    if (entry.isDirectory() && protectedPaths.some((p) => isInside(p, full))) {
      await removeExcept(full, protectedPaths);
      continue;
    }
    await rm(full, { recursive: true, force: true });
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
