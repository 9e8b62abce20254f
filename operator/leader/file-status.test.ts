// status.file brought up to date: a pending edit the reconciler later accepted is
// 'accepted', one it refused when validating it again is 'refused' with the reason;
// the id of a text is read even when the text is not valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatusFile } from '../model/status.ts';
import { idInText, withFileStatus } from './file-status.ts';
import { fakeStatus } from './test-fakes.ts';

const pending: StatusFile = { path: '/d/f.jsonc', id: 3, sha256: 'x', outcome: 'pending', reason: null, readAt: '' };

test('a pending edit stays pending while it waits, and becomes accepted or refused as the reconciler decides', () => {
  assert.equal(withFileStatus(fakeStatus({ acceptedId: 2, pendingId: 3 }), pending).file?.outcome, 'pending');
  assert.equal(withFileStatus(fakeStatus({ acceptedId: 3 }), pending).file?.outcome, 'accepted');
  const refused = withFileStatus(fakeStatus({ acceptedId: 2, lastRefusal: { id: 3, reason: 'f.jsonc:4:3: error: $.name: …', at: '' } }), pending).file;
  assert.equal(refused?.outcome, 'refused');
  assert.equal(refused?.reason, 'f.jsonc:4:3: error: $.name: …');
  assert.equal(withFileStatus(fakeStatus(), null).file, null, 'not read yet');
  const ignored: StatusFile = { ...pending, outcome: 'ignored', reason: 'r' };
  assert.deepEqual(withFileStatus(fakeStatus({ acceptedId: 5 }), ignored).file, ignored, 'other outcomes are as read');
});

test('idInText: the top-level id of any text, or null', () => {
  assert.equal(idInText('{ // c\n "id": 7, "replicationFactor": 99 }'), 7);
  assert.equal(idInText('{ "id": "7" }'), null);
  assert.equal(idInText('[1]'), null);
  assert.equal(idInText('{ "id": 1.5'), null);
  assert.equal(idInText(undefined), null);
});
