// The agent's list of known backups survives a restart (a new registry on the same
// directory), follows what a sink listing finds, and a damaged file is set aside.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { BackupInfo } from '../../../proto/generated/coxswain/agent/v1/BackupInfo.ts';
import { BACKUP_REGISTRY_FILE, BackupRegistry } from './backup-registry.ts';
import { tempDir } from './test-servers.ts';

function info(id: string, sinkPath: string): BackupInfo {
  return { backupId: id, sink: { local: { path: sinkPath } }, status: 'BACKUP_STATUS_COMPLETE', createdAt: '2024-01-01T00:00:00.000Z', parts: [{ nodeGroup: 0, dataNodeId: 'p0', sizeBytes: '10' }], detail: '' };
}

test('known backups are saved and found again by a new registry on the same directory', async () => {
  const dir = await tempDir('coxswain-registry-');
  try {
    const first = await BackupRegistry.open(dir);
    assert.deepEqual(first.list(), []);
    await first.set(info('b2', 's'));
    await first.set(info('b1', 's'));
    const second = await BackupRegistry.open(dir);
    assert.deepEqual(second.list().map((b) => b.backupId), ['b1', 'b2']);
    assert.deepEqual(second.list()[0], info('b1', 's'));
    await second.remove(['b2', 'never-there']);
    assert.deepEqual((await BackupRegistry.open(dir)).list().map((b) => b.backupId), ['b1']);

    // A sink listing adds what it found and forgets that sink's backups it no longer holds.
    const third = await BackupRegistry.open(dir);
    await third.set(info('other-sink', 't'));
    await third.reconcileSink('s', [info('b3', 's')]);
    assert.deepEqual((await BackupRegistry.open(dir)).list().map((b) => b.backupId), ['b3', 'other-sink']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a damaged file: an empty list, a warning, the file kept aside', async () => {
  const dir = await tempDir('coxswain-registry-');
  try {
    await writeFile(path.join(dir, BACKUP_REGISTRY_FILE), '{"format":1,"backups":[{"backu');
    const warnings: string[] = [];
    const registry = await BackupRegistry.open(dir, { warn: (_f, m) => void warnings.push(m) });
    assert.deepEqual(registry.list(), []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /Could not read the list of known backups/);
    assert.equal(await readFile(path.join(dir, `${BACKUP_REGISTRY_FILE}.unreadable`), 'utf8'), '{"format":1,"backups":[{"backu');
    await registry.set(info('b1', 's'));
    assert.deepEqual((await BackupRegistry.open(dir)).list().map((b) => b.backupId), ['b1']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
