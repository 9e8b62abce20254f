// A restore marker matches exactly the backup, sink and set of target nodes it was
// written for, in any order of the nodes, and nothing else.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { findRestoreMarker, writeRestoreMarker } from './restore-markers.ts';
import { tempDir } from './test-servers.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

test('a marker is found for the same backup, sink and nodes only', async () => {
  const dir = await tempDir('coxswain-markers-');
  try {
    const target = { backupId: 'b1', sinkPath: '/backups', engineNodeIds: [A, B] };
    assert.equal(await findRestoreMarker(dir, target), undefined);
    const written = await writeRestoreMarker(dir, target, { keysInCluster: 42, message: 'Restored backup b1' });
    assert.deepEqual(written.engineNodeIds, [A, B]);
    const found = await findRestoreMarker(dir, { ...target, engineNodeIds: [B, A] });
    assert.equal(found?.keysInCluster, 42);
    assert.equal(found?.backupId, 'b1');
    assert.equal(await findRestoreMarker(dir, { ...target, backupId: 'b2' }), undefined, 'another backup');
    assert.equal(await findRestoreMarker(dir, { ...target, sinkPath: '/elsewhere' }), undefined, 'another sink');
    assert.equal(await findRestoreMarker(dir, { ...target, engineNodeIds: [A, C] }), undefined, 'other nodes (a cluster built again)');
    assert.equal(await findRestoreMarker(dir, { ...target, engineNodeIds: [A] }), undefined, 'fewer nodes');
    assert.equal(await findRestoreMarker(dir, { ...target, engineNodeIds: [A, ''] }), undefined, 'a node without engine id');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
