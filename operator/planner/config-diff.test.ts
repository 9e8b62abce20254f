import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configKey } from '../model/observed.ts';
import { desiredConfigStrings, diffConfig, parseConfigKey } from './config-diff.ts';

const want = desiredConfigStrings({ 'maxmemory-policy': 'allkeys-lru', 'io-threads': 2, timeout: 10 });
const wantKey = configKey(want);

test('desired config becomes sorted strings, and its configKey is the same', () => {
  assert.deepEqual(Object.keys(want), ['io-threads', 'maxmemory-policy', 'timeout']);
  assert.equal(want['io-threads'], '2');
  assert.equal(wantKey, configKey({ 'maxmemory-policy': 'allkeys-lru', 'io-threads': 2, timeout: 10 }));
});

test('equal labels: nothing to do', () => {
  assert.deepEqual(diffConfig('redis', wantKey, want, wantKey), { equal: true, live: {}, restart: [] });
});

test('a changed or added live parameter is applied live', () => {
  const node = configKey({ 'maxmemory-policy': 'noeviction', 'io-threads': '2' });
  const d = diffConfig('redis', node, want, wantKey);
  assert.equal(d.equal, false);
  assert.deepEqual(d.live, { 'maxmemory-policy': 'allkeys-lru', timeout: '10' });
  assert.deepEqual(d.restart, []);
});

test('a restart-only parameter, a removed parameter, an unreadable label: restart', () => {
  const node = configKey({ 'maxmemory-policy': 'allkeys-lru', 'io-threads': '4', timeout: '10', hz: '20' });
  const d = diffConfig('redis', node, want, wantKey);
  assert.deepEqual(d.live, {});
  assert.equal(d.restart.length, 2);
  assert.match(d.restart[0] ?? '', /"hz" was removed/);
  assert.match(d.restart[1] ?? '', /"io-threads" changes from "4" to "2"/);
  assert.match(diffConfig('redis', 'garbage', want, wantKey).restart[0] ?? '', /cannot be read/);
  assert.equal(parseConfigKey('{"a":1}'), undefined);
  assert.equal(parseConfigKey('[]'), undefined);
  assert.deepEqual(parseConfigKey('{"a":"1"}'), { a: '1' });
});

test('a label that is not a JSON object of strings cannot be read', () => {
  for (const label of ['null', '"text"', '7', '[["a","1"]]', '{"a":null}']) assert.equal(parseConfigKey(label), undefined, label);
  assert.deepEqual(parseConfigKey('{}'), {});
});

test('a label that differs only in form: equal, nothing to set, nothing to restart', () => {
  const sameValuesOtherOrder = JSON.stringify({ timeout: '10', 'maxmemory-policy': 'allkeys-lru', 'io-threads': '2' });
  assert.notEqual(sameValuesOtherOrder, wantKey);
  assert.deepEqual(diffConfig('redis', sameValuesOtherOrder, want, wantKey), { equal: true, live: {}, restart: [] });
});

test('a new restart-only parameter is restarted for, and said to be new', () => {
  const node = configKey({ 'maxmemory-policy': 'allkeys-lru', timeout: '10' });
  const d = diffConfig('redis', node, want, wantKey);
  assert.equal(d.equal, false);
  assert.deepEqual(d.live, {});
  assert.deepEqual(d.restart, ['config "io-threads" is new to "2" (applied by a restart)']);
});

test('an unknown parameter name needs a restart', () => {
  const withUnknown = { ...want, 'no-such-parameter': 'x' };
  const d = diffConfig('redis', wantKey, withUnknown, configKey(withUnknown));
  assert.deepEqual(d.live, {});
  assert.equal(d.restart.length, 1);
});
