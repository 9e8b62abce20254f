import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import type { Desired } from '../../desired-state/types.ts';
import { strangers, type ObservedCluster } from '../model/observed.ts';
import { describeStep, type Step } from '../model/step.ts';
import { Batch } from './batch.ts';
import { differences } from './differences.ts';
import { checkStepSafety } from './invariants.ts';
import { computeLayout } from './layout.ts';
import { plan } from './plan.ts';
import { restorePending } from './restore.ts';
import { converge } from './testing/converge.ts';
import { Model } from './testing/model.ts';
import { clusterAt, downNode, engineIdOf, lines, nodeOf, stepsOf, vmOf } from './testing/test-cluster.ts';
import { ClusterView } from './view.ts';

const d = exampleDesired();
const GHOST = '1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d';
const ALL = ['vm-1', 'vm-2', 'vm-3', 'vm-4', 'vm-5', 'vm-6'];

/** Every up member of `c` reports `ids` as failed members. */
function report(c: ObservedCluster, ...ids: string[]): ObservedCluster {
  for (const vm of c.vms) for (const n of vm.dataNodes) if (n.up) n.failedMembers = [...ids].sort();
  return c;
}

function diff(desired: Desired, c: ObservedCluster): string[] {
  const view = new ClusterView(desired, c);
  return differences({
    desired,
    view,
    layout: computeLayout(view, desired.running),
    batch: new Batch(true),
    running: desired.running,
    forming: false,
    restorePending: restorePending(view),
    upgradeFirst: new Set(),
  });
}

test('strangers: failed members some up node reports that no observed node is, sorted, once each', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-1').failedMembers = ['ffff', GHOST];
  nodeOf(c, 'vm-2').failedMembers = [GHOST, engineIdOf('vm-4')];
  downNode(c, 'vm-3');
  nodeOf(c, 'vm-3').failedMembers = ['from-a-down-node'];
  assert.deepEqual(strangers(c), [GHOST, 'ffff']);
});

test('a stranger: every up member forgets it, in one step that runs alone among topology work', () => {
  const c = report(clusterAt(d), GHOST);
  const p = plan(d, c);
  assert.deepEqual(stepsOf(p, 'forgetNode'), [{ kind: 'forgetNode', engineNodeId: GHOST, nodeIds: ALL }]);
  assert.deepEqual(lines(p), ['forget failed node 1a2b3c4d… on vm-1, vm-2, vm-3, vm-4, vm-5, vm-6']);
  assert.match(p.next[0]?.why ?? '', /no VM of the cluster runs \(6 members report it/);
  assert.equal(p.done, false);
  assert.deepEqual(checkStepSafety(d, c, [p.next[0]?.step as Step]), []);
});

test('a stranger only some members still report (the others forgot it): all are asked again', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-5').failedMembers = [GHOST];
  assert.deepEqual(stepsOf(plan(d, c), 'forgetNode'), [{ kind: 'forgetNode', engineNodeId: GHOST, nodeIds: ALL }]);
});

test('a stranger while an agent is down: no forget (the hidden node may be it), the agent is repaired, not done', () => {
  const c = report(clusterAt(d), GHOST);
  Object.assign(vmOf(c, 'vm-4'), { agentUp: false, dataNodes: [] });
  const p = plan(d, c);
  assert.deepEqual(stepsOf(p, 'forgetNode'), []);
  assert.deepEqual(lines(p), ['restart the agent of vm-4 (agentRunningSince 1)']);
  assert.ok(p.waiting.some((w) => w.includes('failed nodes no VM runs are forgotten once every agent answers') && w.includes('vm-4 is without an answering agent')), p.waiting.join('\n'));
  assert.equal(p.done, false);
});

test('a stranger while a VM is being created: nothing but waiting, not done', () => {
  const c = report(clusterAt(d), GHOST);
  Object.assign(vmOf(c, 'vm-6'), { state: 'creating', agentUp: false, dataNodes: [] });
  const p = plan(d, c);
  assert.deepEqual(p.next, []);
  assert.equal(p.done, false);
  assert.ok(p.waiting.includes('VMs still being created: vm-6'));
  assert.ok(p.waiting.some((w) => w.includes('vm-6 is creating')), p.waiting.join('\n'));
});

test('a stranger while a node is down: the node starts first (a down member would gossip the stranger back)', () => {
  const c = report(clusterAt(d), GHOST);
  downNode(c, 'vm-2');
  const p = plan(d, c);
  assert.deepEqual(stepsOf(p, 'forgetNode'), []);
  assert.deepEqual(lines(p), ['start data node vm-2 (version 7.0, node group 0, runningSince 1)']);
  assert.equal(p.done, false);
});

test('a replica that follows the stranger: not forgotten (the agent refuses to forget its own primary), waited for', () => {
  const c = report(clusterAt(d), GHOST);
  nodeOf(c, 'vm-6').primaryId = undefined;
  const p = plan(d, c);
  assert.deepEqual(stepsOf(p, 'forgetNode'), []);
  assert.ok(p.waiting.some((w) => w.includes('the primary of replica vm-6 is not an observed node')), p.waiting.join('\n'));
  assert.equal(p.done, false);
});

test('no stranger: nothing to forget, done', () => {
  const p = plan(d, clusterAt(d));
  assert.deepEqual(p, { next: [], done: true, waiting: [], remaining: 0, blocked: [] });
});

test('a node of the cluster flagged failed is never forgotten: its agent reports it (down), or hides it (agent down)', () => {
  // vm-4 is down; the others flag it failed. Its agent still reports it: not a stranger.
  const c = clusterAt(d);
  downNode(c, 'vm-4');
  report(c, engineIdOf('vm-4'));
  assert.deepEqual(strangers(c), []);
  assert.deepEqual(stepsOf(plan(d, c), 'forgetNode'), []);
  // The whole VM is lost to sight (agent down): its id looks like a stranger's, but the guard holds it back.
  const hidden = clusterAt(d);
  Object.assign(vmOf(hidden, 'vm-4'), { state: 'failed', agentUp: false, dataNodes: [] });
  report(hidden, engineIdOf('vm-4'));
  assert.deepEqual(strangers(hidden), [engineIdOf('vm-4')]);
  const p = plan(d, hidden);
  assert.deepEqual(stepsOf(p, 'forgetNode'), []);
  assert.equal(p.done, false);
  // An up node some member still flags failed (it just came back): never a stranger either.
  const back = report(clusterAt(d), engineIdOf('vm-3'));
  assert.deepEqual(strangers(back), []);
  assert.deepEqual(stepsOf(plan(d, back), 'forgetNode'), []);
});

test('done is false while a stranger is reported, whatever else holds', () => {
  const c = report(clusterAt(d), GHOST);
  assert.deepEqual(diff(d, c), ['failed node 1a2b3c4d… is still known to the cluster']);
  // Stopping: a node that still runs and reports it is not done with it either.
  const off = { ...d, running: false };
  const stopping = clusterAt(off);
  assert.deepEqual(diff(off, stopping), []);
  const n = nodeOf(stopping, 'vm-1');
  Object.assign(n, { up: true, role: 'primary', topologyDigest: 't', failedMembers: [GHOST] });
  assert.ok(diff(off, stopping).includes('failed node 1a2b3c4d… is still known to the cluster'));
});

test('two strangers: one per batch (each uses every member\'s VM), the other counted as left', () => {
  const other = '0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa';
  const c = report(clusterAt(d), GHOST, other);
  const p = plan(d, c);
  assert.deepEqual(lines(p), ['forget failed node 0000aaaa… on vm-1, vm-2, vm-3, vm-4, vm-5, vm-6']);
  assert.ok(p.remaining >= 2);
});

test('a stranger beside other work: the forget goes first, alone among claimed steps; the work follows', () => {
  const c = clusterAt(d);
  nodeOf(c, 'vm-4').runningSince = 0; // a rolling restart of vm-4 is due
  const work = lines(plan(d, c));
  assert.notDeepEqual(work, []);
  report(c, GHOST);
  const p = plan(d, c);
  assert.deepEqual(lines(p), ['forget failed node 1a2b3c4d… on vm-1, vm-2, vm-3, vm-4, vm-5, vm-6']);
  // Once forgotten, the restart goes ahead.
  for (const vm of c.vms) for (const n of vm.dataNodes) delete n.failedMembers;
  assert.deepEqual(lines(plan(d, c)), work);
});

test('a new cluster (still forming) or a stopped one: no forget', () => {
  const stopped = { ...d, running: false };
  const c = clusterAt(stopped);
  assert.deepEqual(stepsOf(plan(stopped, c), 'forgetNode'), []);
  const forming = report(clusterAt(d, { formed: false }), GHOST);
  for (const vm of forming.vms) for (const n of vm.dataNodes) if (n.nodeGroup === 2) n.slots = [];
  assert.deepEqual(stepsOf(plan(d, forming), 'forgetNode'), []);
});

test('the safety checker refuses a forget of a node of the cluster, of a hidden node, or of one nobody reports', () => {
  const c = report(clusterAt(d), GHOST);
  const forget = (engineNodeId: string, nodeIds = ALL): Step => ({ kind: 'forgetNode', engineNodeId, nodeIds });
  assert.deepEqual(checkStepSafety(d, c, [forget(GHOST)]), []);
  assert.match(checkStepSafety(d, c, [forget(engineIdOf('vm-2'))]).join('\n'), /engine id of data node vm-2 on vm-2: a node of the cluster is never forgotten/);
  assert.match(checkStepSafety(d, c, [forget('not-reported')]).join('\n'), /no up node reports it as a failed member/);
  const hidden = report(clusterAt(d), GHOST);
  Object.assign(vmOf(hidden, 'vm-3'), { agentUp: false, dataNodes: [] });
  assert.match(checkStepSafety(d, hidden, [forget(GHOST, ['vm-1', 'vm-2'])]).join('\n'), /vm-3 is without an answering agent: the node it hides may be the one forgotten/);
  // It uses every named node's VM: no other step on them in the same batch.
  const stop: Step = { kind: 'stopDataNode', vmId: 'vm-2', nodeId: 'vm-2' };
  assert.match(checkStepSafety(d, c, [forget(GHOST), stop]).join('\n'), /2 steps act on vm-2 in one batch/);
  assert.equal(describeStep(forget(GHOST, ['vm-1'])), 'forget failed node 1a2b3c4d… on vm-1');
});

test('the model world: a ghost is forgotten by every member, and then the plan is done', () => {
  const m = Model.from(clusterAt(d), { preinstalled: ['7.0'] });
  m.addGhost(GHOST);
  const r = converge(d, m);
  assert.deepEqual([...m.ghosts.keys()], []);
  assert.ok(r.log.some((l) => l.includes('forget failed node 1a2b3c4d…')), r.log.join('\n'));
});

test('the model world: a ghost while a VM has failed — the agent first, then the forget', () => {
  const m = Model.from(clusterAt(d), { preinstalled: ['7.0'] });
  m.addGhost(GHOST);
  m.failVm('vm-3');
  const r = converge(d, m);
  assert.deepEqual([...m.ghosts.keys()], []);
  const first = r.log.findIndex((l) => l.includes('forget failed node'));
  const repair = r.log.findIndex((l) => l.includes('restart the agent of vm-3'));
  assert.ok(repair >= 0 && first > repair, r.log.join('\n'));
});
