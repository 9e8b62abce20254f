// The slot plans of test/support/rebalance.ts and the even split of
// test/support/form-cluster.ts, on topologies written by hand (no servers). Moved from
// agent/engines/redis/cluster-ops.test.ts with the code they test.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Topology, TopologyNode } from '../../agent/engines/redis/topology.ts';
import { evenSlotRanges } from './form-cluster.ts';
import { planDrain, planRebalance } from './rebalance.ts';

function primary(id: string, ranges: [number, number][]): TopologyNode {
  const slots = ranges.map(([start, end]) => ({ start, end }));
  return {
    id,
    addr: { host: '127.0.0.1', port: 1 },
    busPort: 10001,
    role: 'primary',
    primaryId: null,
    slots,
    slotCount: slots.reduce((n, r) => n + r.end - r.start + 1, 0),
    flags: ['master'],
    configEpoch: 1,
    migrating: [],
    importing: [],
    reachable: true,
  };
}

describe('slot plans (no servers)', () => {
  test('evenSlotRanges covers 0-16383 for 1, 2 and 3 primaries', () => {
    assert.deepEqual(evenSlotRanges(1), [{ start: 0, end: 16383 }]);
    assert.deepEqual(evenSlotRanges(2), [{ start: 0, end: 8191 }, { start: 8192, end: 16383 }]);
    assert.deepEqual(evenSlotRanges(3), [{ start: 0, end: 5460 }, { start: 5461, end: 10921 }, { start: 10922, end: 16383 }]);
  });

  test('planRebalance gives an empty primary its share; an even cluster plans nothing', () => {
    const t: Topology = { nodes: evenSlotRanges(3).map((r, i) => primary(`p${i}`, [[r.start, r.end]])).concat(primary('new', [])) };
    const moves = planRebalance(t);
    assert.equal(moves.reduce((n, m) => n + m.slots.length, 0), 4096);
    assert.ok(moves.every((m) => m.toId === 'new'));
    const after: Topology = {
      nodes: t.nodes.map((n) => {
        const gone = new Set(moves.filter((m) => m.fromId === n.id).flatMap((m) => m.slots));
        const got = moves.filter((m) => m.toId === n.id).flatMap((m) => m.slots);
        const slots = [...n.slots.flatMap((r) => Array.from({ length: r.end - r.start + 1 }, (_, k) => r.start + k)).filter((x) => !gone.has(x)), ...got];
        return { ...n, slots: slotsToRangesLocal(slots), slotCount: slots.length };
      }),
    };
    assert.deepEqual(planRebalance(after), []);
  });

  test('planDrain spreads a primary over the others, fewest first, in contiguous runs', () => {
    const t: Topology = { nodes: [primary('a', [[0, 4999]]), primary('b', [[5000, 9999]]), primary('c', [[10000, 12000]]), primary('x', [[12001, 16383]])] };
    const moves = planDrain(t, 'x');
    const got = new Map(moves.map((m) => [m.toId, m.slots.length]));
    assert.equal(moves.reduce((n, m) => n + m.slots.length, 0), 4383);
    // c had 2001, a and b 5000: c is filled up to 5000 first (2999), then the other
    // 1384 are shared (462, 461, 461): everyone ends at 5461 or 5462.
    assert.deepEqual([...got.entries()].sort(), [['a', 462], ['b', 461], ['c', 3460]]);
    for (const m of moves) assert.equal(m.slots[m.slots.length - 1]! - m.slots[0]! + 1, m.slots.length, 'contiguous');
    assert.deepEqual(planDrain(t, 'nobody'), []);
  });
});

function slotsToRangesLocal(slots: number[]): { start: number; end: number }[] {
  const sorted = [...slots].sort((a, b) => a - b);
  const out: { start: number; end: number }[] = [];
  for (const x of sorted) {
    const last = out[out.length - 1];
    if (last && x === last.end + 1) last.end = x;
    else out.push({ start: x, end: x });
  }
  return out;
}
