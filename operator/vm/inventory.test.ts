// The inventory file: a round trip keeps every field, a missing file is an empty
// inventory, and a damaged one is refused with the file named and what to do.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { VmStateFileError } from './errors.ts';
import { INVENTORY_FILE, loadInventory, removeInventory, saveInventory, type InventoryEntry } from './inventory.ts';

const entry = (id: string, over: Partial<InventoryEntry> = {}): InventoryEntry => ({
  id,
  zone: 'zone-a',
  vmType: 'small',
  storageGiB: 10,
  nodeGroup: 0,
  temporary: false,
  agentRunningSince: 1,
  host: '127.0.0.1',
  agentPort: 7101,
  dataPort: 7001,
  intent: 'running',
  createdAt: '2024-01-01T00:00:00.000Z',
  ...over,
});

test('save then load returns the same entries, sorted by id; the file is 0600 and no temporary file is left', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-inv-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const vmsDir = path.join(dir, 'vms');
  assert.deepEqual(loadInventory(vmsDir), []);
  const b = entry('vm-b', { zone: 'zone-b', agentPort: 7102, dataPort: 7002, intent: 'stopped', temporary: true, vmType: 'large' });
  const a = entry('vm-a');
  await saveInventory(vmsDir, [b, a]);
  assert.deepEqual(loadInventory(vmsDir), [a, b]);
  assert.equal((await stat(path.join(vmsDir, INVENTORY_FILE))).mode & 0o777, 0o600);
  assert.deepEqual(await readdir(vmsDir), [INVENTORY_FILE]);
  await removeInventory(vmsDir);
  assert.deepEqual(loadInventory(vmsDir), []);
});

test('a damaged inventory is refused with the file named and what to do', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-inv-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, INVENTORY_FILE);
  const cases: Array<[string, RegExp]> = [
    ['{ not json', /is not valid JSON/],
    [JSON.stringify({ format: 2, vms: [] }), /has format 2; this Coxswain reads format 1 only/],
    [JSON.stringify({ format: 1 }), /has no "vms" list/],
    [JSON.stringify({ format: 1, vms: [entry('vm-a'), entry('vm-a')] }), /lists VM vm-a twice/],
    [JSON.stringify({ format: 1, vms: [{ ...entry('vm-a'), dataPort: 70000 }] }), /vms\[0\] \(vm-a\) needs ports/],
    [JSON.stringify({ format: 1, vms: [{ ...entry('vm-a'), vmType: 'huge' }] }), /unknown vmType "huge"/],
  ];
  for (const [content, pattern] of cases) {
    await writeFile(file, content);
    assert.throws(
      () => loadInventory(dir),
      (err: unknown) => {
        assert.ok(err instanceof VmStateFileError, `${content}: ${String(err)}`);
        assert.match(err.message, pattern);
        assert.ok(err.message.startsWith(file), err.message);
        return true;
      },
    );
  }
  assert.equal(await readFile(file, 'utf8'), cases.at(-1)![0], 'loading never rewrites the file');
});
