import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDIS_SLOTS } from '../model/observed.ts';
import { slotsIn as rangesSize, rangesText } from '../../common/slot-ranges.ts';
import { isBalanced, markRanges, shareCount, shareRange, unownedRanges } from './slots.ts';

test('shares are contiguous, cover every slot once, the first groups take the remainder', () => {
  for (const n of [1, 2, 3, 5, 7, 1000, 16384]) {
    let next = 0;
    let total = 0;
    for (let g = 0; g < n; g++) {
      const r = shareRange(g, n);
      assert.ok(r !== undefined, `n=${n} g=${g}`);
      assert.equal(r.start, next);
      assert.equal(r.end - r.start + 1, shareCount(g, n));
      next = r.end + 1;
      total += shareCount(g, n);
    }
    assert.equal(total, REDIS_SLOTS);
  }
  assert.deepEqual(shareRange(0, 3), { start: 0, end: 5461 });
  assert.deepEqual(shareRange(1, 3), { start: 5462, end: 10922 });
  assert.deepEqual(shareRange(2, 3), { start: 10923, end: 16383 });
  assert.equal(shareCount(3, 3), 0);
  assert.equal(shareRange(16384, 16385), undefined);
});

test('balanced: within ±1 of 16384/n, groups going away empty', () => {
  assert.ok(isBalanced(new Map([[0, 5462], [1, 5461], [2, 5461]]), 3));
  assert.ok(isBalanced(new Map([[0, 5461], [1, 5462], [2, 5461]]), 3));
  assert.ok(!isBalanced(new Map([[0, 5460], [1, 5462], [2, 5462]]), 3));
  assert.ok(!isBalanced(new Map([[0, 8192], [1, 8192], [2, 0]]), 3), 'a new empty group is not balanced');
  assert.ok(!isBalanced(new Map([[0, 8192], [1, 8191], [2, 1]]), 2), 'a group going away still holds a slot');
  assert.ok(isBalanced(new Map([[0, 8192], [1, 8192], [2, 0]]), 2));
  assert.ok(!isBalanced(new Map([[0, 16384]]), 2), 'a wanted group without any node is not balanced');
});

test('unowned ranges within a share', () => {
  const owned = new Uint8Array(REDIS_SLOTS);
  markRanges(owned, [{ start: 10, end: 19 }, { start: 30, end: 30 }]);
  assert.deepEqual(unownedRanges(owned, { start: 0, end: 40 }), [
    { start: 0, end: 9 },
    { start: 20, end: 29 },
    { start: 31, end: 40 },
  ]);
  assert.deepEqual(unownedRanges(owned, { start: 10, end: 19 }), []);
  assert.equal(rangesSize([{ start: 0, end: 9 }, { start: 20, end: 20 }]), 11);
  assert.equal(rangesText([{ start: 0, end: 9 }, { start: 20, end: 20 }]), '0-9, 20');
});
