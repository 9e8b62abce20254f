import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SLOT_COUNT, normalRanges, rangesCover, rangesDisjoint, rangesText, rangesToSlots, slotsCovered, slotsIn, slotsToRanges } from './slot-ranges.ts';

test('slotsCovered counts each slot once, and none outside 0 … 16383', () => {
  assert.equal(slotsCovered([]), 0);
  assert.equal(slotsCovered([{ start: 0, end: 16383 }]), SLOT_COUNT);
  assert.equal(slotsCovered([{ start: 100, end: 199 }, { start: 0, end: 99 }]), 200, 'adjacent, in any order');
  assert.equal(slotsCovered([{ start: 0, end: 99 }, { start: 50, end: 149 }, { start: 60, end: 70 }]), 150, 'overlaps once');
  assert.equal(slotsCovered([{ start: 10, end: 5 }]), 0, 'an empty range');
  assert.equal(slotsCovered([{ start: -10, end: 9 }, { start: 16380, end: 20000 }]), 14, 'clipped to the slot space');
});

test('slotsIn counts what the ranges name; normalRanges sorts and merges overlapping and adjacent ranges', () => {
  assert.equal(slotsIn([{ start: 0, end: 9 }, { start: 5, end: 5 }]), 11);
  assert.deepEqual(normalRanges([{ start: 10, end: 19 }, { start: 0, end: 9 }, { start: 15, end: 30 }, { start: 40, end: 40 }]), [
    { start: 0, end: 30 },
    { start: 40, end: 40 },
  ]);
});

test('rangesCover: split, unsorted owned ranges cover what they hold together, and not one slot more', () => {
  const owned = [{ start: 50, end: 99 }, { start: 0, end: 49 }];
  assert.ok(rangesCover(owned, [{ start: 10, end: 60 }]));
  assert.ok(rangesCover(owned, [{ start: 0, end: 99 }]));
  assert.ok(!rangesCover(owned, [{ start: 0, end: 100 }]));
  assert.ok(!rangesCover([{ start: 0, end: 9 }, { start: 11, end: 20 }], [{ start: 5, end: 15 }]), 'slot 10 is missing');
  assert.ok(rangesCover(owned, []), 'nothing wanted');
});

test('rangesDisjoint, slots ⇄ ranges, and the text for messages', () => {
  assert.ok(rangesDisjoint([{ start: 10, end: 19 }, { start: 0, end: 9 }]));
  assert.ok(!rangesDisjoint([{ start: 0, end: 10 }, { start: 10, end: 19 }]));
  assert.deepEqual(slotsToRanges([5, 3, 4, 9, 4]), [{ start: 3, end: 5 }, { start: 9, end: 9 }]);
  assert.deepEqual(rangesToSlots([{ start: 3, end: 5 }, { start: 9, end: 9 }]), [3, 4, 5, 9]);
  assert.equal(rangesText([{ start: 0, end: 99 }, { start: 200, end: 200 }]), '0-99, 200');
  assert.equal(rangesText([]), 'no slots');
});
