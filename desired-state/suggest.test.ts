import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closest } from './suggest.ts';

const fields = ['replicationFactor', 'maxReplicationFactor', 'nodeGroups', 'name', 'id', 'version'];

test('closest: a misspelt field finds its name', () => {
  assert.equal(closest('replicationFactr', fields), 'replicationFactor');
  assert.equal(closest('nodegroups', fields), 'nodeGroups');
  assert.equal(closest('node_groups', fields), 'nodeGroups');
  assert.equal(closest('versoin', fields), 'version');
});

test('closest: nothing close gives no suggestion', () => {
  assert.equal(closest('colour', fields), undefined);
  assert.equal(closest('ix', fields), undefined);
  assert.equal(closest('zzzzzzzzzz', fields), undefined);
});
