import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { plan } from './plan.ts';
import { converge } from './testing/converge.ts';
import { Model } from './testing/model.ts';
import { clusterAt, downNode, lines, nodeOf, stepsOf, vmOf } from './testing/test-cluster.ts';
import { dataNodes, slotCount, type ObservedCluster, type SlotRange } from '../model/observed.ts';
import type { Step } from '../model/step.ts';
import { rangesCover, rangesDisjoint } from '../../common/slot-ranges.ts';
import { isBalanced } from './slots.ts';

const d = exampleDesired();

/** ng3 added to a 3×2 cluster: its two nodes up but not joined. */
function withNewGroup(): ObservedCluster {
  const c = clusterAt(d);
  for (const [id, zone] of [['vm-7', 'zone-a'], ['vm-8', 'zone-b']] as const) {
    const vm = structuredClone(vmOf(c, 'vm-2'));
    Object.assign(vm, { id, zone, nodeGroup: 3 });
    Object.assign(vm.dataNodes[0]!, { id, vmId: id, nodeGroup: 3, role: 'none', primaryId: undefined, inSync: false, topologyDigest: `alone-${id}` });
    c.vms.push(vm);
  }
  return c;
}

test('a new group: its first node joins as a primary without slots, via an existing primary', () => {
  const p = plan({ ...d, nodeGroups: 4 }, withNewGroup());
  assert.deepEqual(lines(p), ['join vm-7 as a primary via vm-1']);
  assert.deepEqual(stepsOf(p, 'joinPrimary')[0]?.slots, []);
});

test('slots move into a new group only once its replicas are in sync; one move per source and target', () => {
  const c = withNewGroup();
  Object.assign(nodeOf(c, 'vm-7'), { role: 'primary', topologyDigest: 'topology-1' });
  Object.assign(nodeOf(c, 'vm-8'), { role: 'replica', primaryId: 'vm-7', inSync: false, topologyDigest: 'topology-1' });
  const to = { ...d, nodeGroups: 4 };
  assert.deepEqual(stepsOf(plan(to, c), 'moveData'), []);
  nodeOf(c, 'vm-8').inSync = true;
  const moves = stepsOf(plan(to, c), 'moveData');
  assert.deepEqual(moves, [{ kind: 'moveData', vmId: 'vm-1', fromId: 'vm-1', toId: 'vm-7', slots: [{ start: 4096, end: 5461 }] }]);
});

test('scale in: the group going away moves its slots to the groups with the biggest deficit, the rest last', () => {
  const to = { ...d, id: 6, nodeGroups: 2 };
  const c = clusterAt(d);
  const first = stepsOf(plan(to, c), 'moveData');
  assert.deepEqual(first, [{ kind: 'moveData', vmId: 'vm-5', fromId: 'vm-5', toId: 'vm-3', slots: [{ start: 13653, end: 16383 }] }]);
  // vm-5 now serves 10923-13652 (2730 slots), vm-3 5462-10922 + 13653-16383.
  nodeOf(c, 'vm-5').slots = [{ start: 10923, end: 13652 }];
  nodeOf(c, 'vm-3').slots = [{ start: 5462, end: 10922 }, { start: 13653, end: 16383 }];
  assert.deepEqual(stepsOf(plan(to, c), 'moveData'), [{ kind: 'moveData', vmId: 'vm-5', fromId: 'vm-5', toId: 'vm-1', slots: [{ start: 10923, end: 13652 }] }]);
});

test('invariant 3: no node of a group going away is removed while its primary serves slots', () => {
  const to = { ...d, id: 6, nodeGroups: 2 };
  const p = plan(to, clusterAt(d));
  assert.deepEqual(stepsOf(p, 'removeNode'), []);
  assert.deepEqual(stepsOf(p, 'deleteVm'), []);
});

test('a drained group: replicas first, then the primary, then the VMs', () => {
  const to = { ...d, id: 6, nodeGroups: 2 };
  const c = clusterAt(d);
  nodeOf(c, 'vm-5').slots = [];
  nodeOf(c, 'vm-1').slots = [{ start: 0, end: 8191 }];
  nodeOf(c, 'vm-3').slots = [{ start: 8192, end: 16383 }];
  assert.deepEqual(lines(plan(to, c)), ['remove data node vm-6 from the cluster']);
  vmOf(c, 'vm-6').dataNodes = [];
  assert.deepEqual(lines(plan(to, c)), ['delete VM vm-6', 'remove data node vm-5 from the cluster']);
});

test('a drained group with a node down waits for it (its slots cannot be seen)', () => {
  const to = { ...d, id: 6, nodeGroups: 2 };
  const c = clusterAt(d);
  nodeOf(c, 'vm-5').slots = [];
  nodeOf(c, 'vm-1').slots = [{ start: 0, end: 8191 }];
  nodeOf(c, 'vm-3').slots = [{ start: 8192, end: 16383 }];
  downNode(c, 'vm-5');
  const p = plan(to, c);
  assert.deepEqual(lines(p), ['start data node vm-5 (version 7.0, node group 2, runningSince 1)']);
});

test('balanced means within ±1 of 16384/n: 5462/5461/5461 and 5461/5462/5461 need no move', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-1').slots = [{ start: 0, end: 5460 }];
  nodeOf(c, 'vm-3').slots = [{ start: 5461, end: 10922 }];
  assert.equal(plan(d, c).done, true);
  nodeOf(c, 'vm-1').slots = [{ start: 0, end: 5459 }];
  nodeOf(c, 'vm-3').slots = [{ start: 5460, end: 10922 }];
  assert.deepEqual(stepsOf(plan(d, c), 'moveData'), [{ kind: 'moveData', vmId: 'vm-3', fromId: 'vm-3', toId: 'vm-1', slots: [{ start: 10921, end: 10922 }] }]);
});

test('topology changes wait until the members agree; other steps do not', () => {
  const to = { ...d, id: 6, nodeGroups: 2, agentRunningSince: 1 };
  const c = clusterAt(d);
  nodeOf(c, 'vm-4').topologyDigest = 'older-view';
  downNode(c, 'vm-2');
  const p = plan(to, c);
  assert.deepEqual(lines(p), ['start data node vm-2 (version 7.0, node group 0, runningSince 1)']);
  assert.ok(p.waiting.includes('the nodes do not agree on the topology yet'));
});

test('scale out and in converge (model)', () => {
  const m = Model.from(clusterAt(d));
  const out = converge({ ...d, id: 6, nodeGroups: 5 }, m);
  const inn = converge({ ...d, id: 7, nodeGroups: 1 }, m);
  assert.ok(out.rounds <= 12, `scale out took ${out.rounds} rounds`);
  assert.ok(inn.rounds <= 12, `scale in took ${inn.rounds} rounds`);
});

/** Nodes `ids` run (and have) version 8.0. */
function onVersion8(c: ObservedCluster, ...ids: string[]): void {
  for (const id of ids) {
    Object.assign(nodeOf(c, id), { version: '8.0' });
    vmOf(c, id).installedVersions = ['7.0', '8.0'];
  }
}

test('version order: slots never move from a primary on a newer version to one on an older version', () => {
  // Scale in with an upgrade: the group going away already runs 8.0, the others 7.0.
  const to = { ...d, id: 6, nodeGroups: 2, version: '8.0' as const };
  const c = clusterAt(d);
  onVersion8(c, 'vm-5', 'vm-6');
  const p = plan(to, c);
  assert.deepEqual(stepsOf(p, 'moveData'), []);
  assert.ok(p.waiting.some((w) => /move into a node group only once its primary runs that version/.test(w) && /ng0/.test(w) && /ng1/.test(w)), p.waiting.join('\n'));
  // The targets' rolling upgrade goes ahead meanwhile (it does not wait for the balance).
  assert.ok(p.next.length > 0, 'the upgrade of ng0 and ng1 is planned');
  assert.ok(stepsOf(p, 'ensureVersion').some((s) => s.vmId === 'vm-2' || s.vmId === 'vm-4'), lines(p).join('\n'));
  // ng1 upgraded: its primary takes the slots, ng0 (still on 7.0) does not.
  onVersion8(c, 'vm-3', 'vm-4');
  assert.deepEqual(stepsOf(plan(to, c), 'moveData'), [{ kind: 'moveData', vmId: 'vm-5', fromId: 'vm-5', toId: 'vm-3', slots: [{ start: 13653, end: 16383 }] }]);
});

test('version order: a new group on a newer version that took too many slots gets them back only after the upgrade', () => {
  // ng1 (new, 8.0) serves every slot; ng0 (7.0, its replica vm-2 already on 8.0) none.
  const from = { ...d, nodeGroups: 1 };
  const to = { ...d, id: 6, nodeGroups: 2, version: '8.0' as const };
  const c = clusterAt({ ...from, nodeGroups: 2 });
  onVersion8(c, 'vm-2', 'vm-3', 'vm-4');
  nodeOf(c, 'vm-3').slots = [{ start: 0, end: 16383 }];
  nodeOf(c, 'vm-1').slots = [];
  const p = plan(to, c);
  assert.deepEqual(stepsOf(p, 'moveData'), []);
  // ng0's primary hands over to its upgraded replica first.
  assert.deepEqual(stepsOf(p, 'failover'), [{ kind: 'failover', vmId: 'vm-2', nodeId: 'vm-2' }]);
  Object.assign(nodeOf(c, 'vm-2'), { role: 'primary', primaryId: undefined, inSync: false });
  Object.assign(nodeOf(c, 'vm-1'), { role: 'replica', primaryId: 'vm-2', inSync: true });
  assert.deepEqual(stepsOf(plan(to, c), 'moveData'), [{ kind: 'moveData', vmId: 'vm-3', fromId: 'vm-3', toId: 'vm-2', slots: [{ start: 8192, end: 16383 }] }]);
});

test('slots move from an older version to a newer one (scale out during an upgrade)', () => {
  const c = withNewGroup();
  Object.assign(nodeOf(c, 'vm-7'), { role: 'primary', topologyDigest: 'topology-1' });
  Object.assign(nodeOf(c, 'vm-8'), { role: 'replica', primaryId: 'vm-7', inSync: true, topologyDigest: 'topology-1' });
  onVersion8(c, 'vm-7', 'vm-8');
  for (const vm of c.vms) vm.installedVersions = ['7.0', '8.0'];
  const moves = stepsOf(plan({ ...d, nodeGroups: 4, version: '8.0' }, c), 'moveData');
  assert.deepEqual(moves, [{ kind: 'moveData', vmId: 'vm-1', fromId: 'vm-1', toId: 'vm-7', slots: [{ start: 4096, end: 5461 }] }]);
});

for (const rf of [1, 2]) {
  test(`version order, running false (rf ${rf}): the older target is upgraded for the move, then everything stops`, () => {
    // Scale in while stopping: the group going away already runs 8.0, the one that stays 7.0.
    const from = exampleDesired({ nodeGroups: 2, replicationFactor: rf, backups: [] });
    const c = clusterAt(from);
    for (const vm of c.vms) if (vm.nodeGroup === 1) onVersion8(c, vm.id);
    const to = { ...from, id: 6, nodeGroups: 1, version: '8.0' as const, running: false };
    const first = plan(to, c);
    assert.deepEqual(stepsOf(first, 'moveData'), []);
    assert.ok(first.next.length > 0, 'the upgrade of ng0 goes ahead although running is false');
    const m = Model.from(c);
    converge(to, m, { maxRounds: 40 });
    const end = m.observe();
    assert.deepEqual(end.vms.map((vm) => vm.nodeGroup), new Array<number>(rf).fill(0));
    assert.ok(end.vms.every((vm) => vm.dataNodes.every((n) => !n.up && n.version === '8.0')), 'every node stopped, on 8.0');
  });
}

/** ng3 added and ready for slots: vm-7 its primary, vm-8 its replica in sync. */
function withReadyNewGroup(): ObservedCluster {
  const c = withNewGroup();
  Object.assign(nodeOf(c, 'vm-7'), { role: 'primary', topologyDigest: 'topology-1' });
  Object.assign(nodeOf(c, 'vm-8'), { role: 'replica', primaryId: 'vm-7', inSync: true, topologyDigest: 'topology-1' });
  return c;
}

const overlap = (a: readonly SlotRange[], b: readonly SlotRange[]): boolean => a.some((x) => b.some((y) => x.start <= y.end && y.start <= x.end));
const slotsByNode = (o: ObservedCluster): Record<string, SlotRange[]> => Object.fromEntries(dataNodes(o).map((n) => [n.id, n.slots]));

test('invariant 5: a move repeated after it happened moves nothing more, and no later plan moves its slots again', () => {
  const to = { ...d, nodeGroups: 4 };
  const m = Model.from(withReadyNewGroup());
  const before = m.observe();
  const [move, ...others] = stepsOf(plan(to, before), 'moveData');
  assert.ok(move !== undefined && others.length === 0);
  assert.deepEqual(move.slots, [{ start: 4096, end: 5461 }]);
  m.apply(move);
  m.tick();
  const after = m.observe();
  // A new leader whose observation predates the move plans the very same step …
  assert.deepEqual(stepsOf(plan(to, before), 'moveData'), [move]);
  // … and carrying it out again changes nothing (a count would have moved 1366 more slots).
  m.apply(move);
  m.tick();
  assert.deepEqual(slotsByNode(m.observe()), slotsByNode(after));
  assert.equal(slotCount(nodeOf(after, 'vm-1')), 4096);
  // Plans from the observation after the move never name its slots again.
  let o = after;
  for (let round = 0; round < 10; round++) {
    const p = plan(to, o);
    for (const next of stepsOf(p, 'moveData')) assert.ok(!overlap(next.slots, move.slots), `${JSON.stringify(next)} moves slots of the first move again`);
    for (const s of p.next) m.apply(s.step);
    m.tick();
    o = m.observe();
  }
  assert.equal(plan(to, o).done, true);
});

/** Plans and applies until done, checking every move against the observation it was planned from. */
function balanceByRanges(to: typeof d, m: Model): number {
  let moves = 0;
  for (let round = 0; round < 80; round++) {
    const o = m.observe();
    const p = plan(to, o);
    if (p.done) return moves;
    const batch: Extract<Step, { kind: 'moveData' }>[] = stepsOf(p, 'moveData');
    for (const [i, mv] of batch.entries()) {
      const from = nodeOf(o, mv.fromId);
      assert.ok(mv.slots.length > 0, 'a move names slots');
      assert.ok(rangesDisjoint(mv.slots), `${JSON.stringify(mv.slots)} names a slot twice`);
      assert.ok(rangesCover(from.slots, mv.slots), `${mv.fromId} does not serve all of ${JSON.stringify(mv.slots)}`);
      for (const other of batch.slice(i + 1)) assert.ok(!overlap(mv.slots, other.slots), 'two moves of a batch name the same slot');
      moves++;
    }
    for (const s of p.next) m.apply(s.step);
    m.tick();
  }
  assert.fail('no convergence in 80 rounds');
}

function groupCounts(o: ObservedCluster): Map<number, number> {
  const counts = new Map<number, number>();
  for (const n of dataNodes(o)) counts.set(n.nodeGroup, (counts.get(n.nodeGroup) ?? 0) + slotCount(n));
  return counts;
}

for (const groups of [1, 2, 4, 5, 7]) {
  test(`moves to ${groups} node groups name disjoint slots their source serves, and balance the groups`, () => {
    const m = Model.from(clusterAt(d));
    const to = { ...d, id: 6, nodeGroups: groups };
    assert.ok(balanceByRanges(to, m) > 0);
    const counts = groupCounts(m.observe());
    assert.ok(isBalanced(counts, groups), JSON.stringify([...counts]));
    assert.equal([...counts.values()].reduce((a, b) => a + b, 0), 16384);
  });
}

test('fragmented, unbalanced slots: the moves name exact ranges of their sources and balance the groups', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-1').slots = [{ start: 0, end: 1000 }, { start: 3000, end: 9000 }];
  nodeOf(c, 'vm-3').slots = [{ start: 1001, end: 2999 }, { start: 9001, end: 12000 }, { start: 16000, end: 16383 }];
  nodeOf(c, 'vm-5').slots = [{ start: 12001, end: 15999 }];
  const m = Model.from(c);
  assert.ok(balanceByRanges(d, m) > 0);
  assert.ok(isBalanced(groupCounts(m.observe()), 3));
});
