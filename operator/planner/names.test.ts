import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareIds, listIds, plural, vmId, vmNumber } from './names.ts';

test('vmNumber reads vm-<n> and refuses other forms', () => {
  assert.equal(vmNumber('vm-1'), 1);
  assert.equal(vmNumber('vm-10023'), 10023);
  assert.equal(vmNumber('vm-'), -1);
  assert.equal(vmNumber('node-3'), -1);
  assert.equal(vmNumber('vm-3x'), -1);
  assert.equal(vmId(7), 'vm-7');
});

test('compareIds orders by number, then by text', () => {
  assert.deepEqual(['vm-10', 'vm-2', 'vm-1', 'other', 'vm-33'].sort(compareIds), ['other', 'vm-1', 'vm-2', 'vm-10', 'vm-33']);
});

test('listIds names a few ids and counts the rest', () => {
  assert.equal(listIds([]), '');
  assert.equal(listIds(['vm-1']), 'vm-1');
  assert.equal(listIds(['vm-1', 'vm-2']), 'vm-1 and vm-2');
  assert.equal(listIds(['a', 'b', 'c', 'd', 'e', 'f', 'g'], 3), 'a, b, c and 4 more');
  assert.equal(plural(1, 'node'), '1 node');
  assert.equal(plural(2, 'replica'), '2 replicas');
});
