import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REDIS_SLOTS, slotsCovered } from './observed.ts';

test('slotsCovered counts each slot once, and none outside 0 … 16383', () => {
  assert.equal(slotsCovered([]), 0);
  assert.equal(slotsCovered([{ start: 0, end: 16383 }]), REDIS_SLOTS);
  assert.equal(slotsCovered([{ start: 100, end: 199 }, { start: 0, end: 99 }]), 200, 'adjacent, in any order');
  assert.equal(slotsCovered([{ start: 0, end: 99 }, { start: 50, end: 149 }, { start: 60, end: 70 }]), 150, 'overlaps once');
  assert.equal(slotsCovered([{ start: 10, end: 5 }]), 0, 'an empty range');
  assert.equal(slotsCovered([{ start: -10, end: 9 }, { start: 16380, end: 20000 }]), 14, 'clipped to the slot space');
});
