// The simulated world's ghosts (world.ts, "Ghosts"): members that are gone but that other
// members still know — reported as failed members once flagged failed, forgotten one
// member at a time by ForgetNode, brought back by gossip to a member whose 60 s ban ended
// while another still knew them, and gone only once every member forgot them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FailedPreconditionError, UnavailableError } from '../../proto/status.ts';
import { DEFAULT_WORLD_PARAMS, FORGET_BAN_MS } from './world.ts';
import { formCluster, key, makeKit, startNodes, type Kit } from './world-test-kit.ts';

const job = { jobId: 't' };
const TIMEOUT = DEFAULT_WORLD_PARAMS.nodeTimeoutMs;

/** failed_members of a node, as its agent reports it ('' when none). */
async function failedMembers(kit: Kit, id: string): Promise<string> {
  const s = await kit.drive(kit.provider.agent(id).getState({}));
  return s.state?.dataNodes[0]?.engineParams['failed_members'] ?? '';
}

async function digests(kit: Kit, ids: string[]): Promise<string[]> {
  return Promise.all(ids.map(async (id) => (await kit.drive(kit.provider.agent(id).getState({}))).state?.dataNodes[0]?.engineParams['topology_digest'] ?? ''));
}

function forget(kit: Kit, on: string, engineNodeId: string): Promise<{ changed: boolean }> {
  return kit.drive(kit.provider.agent(on).forgetNode({ job, nodeId: on, engineNodeId }, key())).then((r) => ({ changed: r.outcome?.changed === true }));
}

/** Two node groups of two, formed: vm-1 and vm-3 primaries, vm-2 and vm-4 their replicas. */
async function twoByTwo(): Promise<Kit> {
  const kit = makeKit({ convergeMs: 0 });
  await startNodes(kit, [
    ['vm-1', 'vm-2'],
    ['vm-3', 'vm-4'],
  ]);
  await formCluster(kit, [
    ['vm-1', 'vm-2'],
    ['vm-3', 'vm-4'],
  ]);
  return kit;
}

/** Two groups of two; vm-4 (a replica) crashes and is removed while down: a ghost. */
async function withGhost(): Promise<{ kit: Kit; ghost: string }> {
  const kit = await twoByTwo();
  const ghost = kit.world.vm('vm-4')?.nodes.get('vm-4')?.engineId ?? '';
  kit.world.crashNode('vm-4');
  await kit.drive(kit.provider.agent('vm-4').removeNode({ job, nodeId: 'vm-4' }, key()));
  return { kit, ghost };
}

const MEMBERS = ['vm-1', 'vm-2', 'vm-3'];

describe('ghosts in the simulated world', () => {
  it('a member removed while down stays known; once flagged failed every member reports it, until all forget it', async () => {
    const { kit, ghost } = await withGhost();
    assert.equal(kit.world.ghosts().length, 1);
    assert.deepEqual(await Promise.all(MEMBERS.map((id) => failedMembers(kit, id))), ['', '', ''], 'not flagged failed yet');
    await kit.wait(TIMEOUT);
    assert.deepEqual(await Promise.all(MEMBERS.map((id) => failedMembers(kit, id))), [ghost, ghost, ghost]);
    assert.equal(new Set(await digests(kit, MEMBERS)).size, 1, 'they agree: all know it');
    for (const id of MEMBERS) assert.deepEqual(await forget(kit, id, ghost), { changed: true });
    assert.deepEqual(await Promise.all(MEMBERS.map((id) => failedMembers(kit, id))), ['', '', '']);
    assert.deepEqual(kit.world.ghosts(), []);
    assert.equal(new Set(await digests(kit, MEMBERS)).size, 1);
    await kit.wait(FORGET_BAN_MS + 1000);
    assert.deepEqual(kit.world.ghosts(), [], 'nobody is left to bring it back');
    assert.deepEqual(await forget(kit, 'vm-1', ghost), { changed: false }, 'a node it does not know: nothing to do');
    assert.equal(kit.world.violations.length, 0);
  });

  it('a member that did not forget it brings it back to the others once their ban ends', async () => {
    const { kit, ghost } = await withGhost();
    await kit.wait(TIMEOUT);
    await forget(kit, 'vm-1', ghost);
    await forget(kit, 'vm-2', ghost);
    assert.deepEqual(await Promise.all(MEMBERS.map((id) => failedMembers(kit, id))), ['', '', ghost]);
    assert.notEqual(new Set(await digests(kit, MEMBERS)).size, 1, 'the members disagree while only some forgot it');
    await kit.wait(FORGET_BAN_MS);
    assert.deepEqual(await Promise.all(MEMBERS.map((id) => failedMembers(kit, id))), [ghost, ghost, ghost], 'vm-3 gossiped it back');
    assert.equal(new Set(await digests(kit, MEMBERS)).size, 1);
    // All three within the ban: gone for good.
    for (const id of MEMBERS) await forget(kit, id, ghost);
    await kit.wait(FORGET_BAN_MS + 1000);
    assert.deepEqual(kit.world.ghosts(), []);
  });

  it('a member that restarts loses its ban and learns the ghost again from one that still knows it', async () => {
    const { kit, ghost } = await withGhost();
    await kit.wait(TIMEOUT);
    await forget(kit, 'vm-2', ghost);
    assert.equal(await failedMembers(kit, 'vm-2'), '');
    kit.world.crashNode('vm-2');
    const port = kit.world.vm('vm-2')?.record.dataPort ?? 0;
    await kit.drive(kit.provider.agent('vm-2').startDataNode({ job, nodeId: 'vm-2', port, version: '7.0', nodeGroup: 0 }, key()));
    assert.equal(await failedMembers(kit, 'vm-2'), ghost);
  });

  it('refuses what the agent refuses (the node itself, a node not flagged failed); forgetting a node that still exists is a violation', async () => {
    const { kit, ghost } = await withGhost();
    const self = kit.world.vm('vm-1')?.nodes.get('vm-1')?.engineId ?? '';
    await assert.rejects(forget(kit, 'vm-1', self), (e: unknown) => e instanceof FailedPreconditionError && e.reason === 'NOT_FAILED');
    await assert.rejects(forget(kit, 'vm-1', ghost), (e: unknown) => e instanceof FailedPreconditionError && e.reason === 'NOT_FAILED', 'before node-timeout');
    // vm-2, a replica, crashes: flagged failed after node-timeout, but its VM still runs it.
    const replica = kit.world.vm('vm-2')?.nodes.get('vm-2')?.engineId ?? '';
    kit.world.crashNode('vm-2');
    await kit.wait(TIMEOUT);
    assert.equal(await failedMembers(kit, 'vm-3'), [ghost, replica].sort().join(','));
    assert.deepEqual(await forget(kit, 'vm-3', ghost), { changed: true });
    assert.equal(kit.world.violations.length, 0);
    await forget(kit, 'vm-3', replica);
    assert.deepEqual(
      kit.world.violations.map((v) => v.check),
      ['forgot-live-node'],
    );
  });

  it('a replica is not made to forget its own primary (WRONG_ROLE)', async () => {
    const kit = makeKit({ convergeMs: 0 });
    await startNodes(kit, [['vm-1', 'vm-2'], ['vm-3']]);
    await formCluster(kit, [['vm-1', 'vm-2'], ['vm-3']]);
    // vm-1's slots go to vm-3, so vm-1 is an empty primary with replica vm-2; then it dies.
    const e1 = kit.world.vm('vm-1')?.nodes.get('vm-1')?.engineId ?? '';
    const e3 = kit.world.vm('vm-3')?.nodes.get('vm-3')?.engineId ?? '';
    const n1 = kit.world.vm('vm-1')?.nodes.get('vm-1');
    assert.ok(n1 !== undefined);
    const slots = kit.world.slotsOf(n1);
    await kit.drive(
      kit.provider.agent('vm-1').moveData({ job, sourceNodeId: 'vm-1', target: { host: 'sim-vm-3', port: kit.world.vm('vm-3')?.record.dataPort ?? 0, engineNodeId: e3 }, slots: { ranges: slots } }, key()),
    );
    kit.world.crashNode('vm-1');
    await kit.wait(TIMEOUT);
    assert.equal(await failedMembers(kit, 'vm-2'), e1);
    await assert.rejects(forget(kit, 'vm-2', e1), (e: unknown) => e instanceof FailedPreconditionError && e.reason === 'WRONG_ROLE');
  });

  it('RemoveNode waits for a member that is down until the cluster flags it failed; that member then brings the removed node back', async () => {
    const kit = await twoByTwo();
    const removed = kit.world.vm('vm-4')?.nodes.get('vm-4')?.engineId ?? '';
    kit.world.crashNode('vm-2');
    await assert.rejects(kit.drive(kit.provider.agent('vm-4').removeNode({ job, nodeId: 'vm-4' }, key())), (e: unknown) => e instanceof UnavailableError && e.reason === 'UNREACHABLE');
    await kit.wait(TIMEOUT);
    await kit.drive(kit.provider.agent('vm-4').removeNode({ job, nodeId: 'vm-4' }, key()));
    assert.equal(kit.world.ghosts().length, 1, 'vm-2 (down) still knows vm-4');
    await kit.wait(FORGET_BAN_MS);
    const port = kit.world.vm('vm-2')?.record.dataPort ?? 0;
    await kit.drive(kit.provider.agent('vm-2').startDataNode({ job, nodeId: 'vm-2', port, version: '7.0', nodeGroup: 0 }, key()));
    assert.deepEqual(await Promise.all(['vm-1', 'vm-2', 'vm-3'].map((id) => failedMembers(kit, id))), [removed, removed, removed]);
  });

  it('a stranger joins through a running member and dies; with no member running it cannot join', async () => {
    const kit = makeKit({ convergeMs: 0 });
    assert.equal(kit.world.strangerJoinsAndDies(), false);
    await startNodes(kit, [['vm-1'], ['vm-2']]);
    await formCluster(kit, [['vm-1'], ['vm-2']]);
    assert.equal(kit.world.strangerJoinsAndDies(), true);
    const [stranger] = kit.world.ghosts();
    assert.ok(stranger !== undefined);
    assert.equal(kit.world.unflaggedGhosts().length, 1);
    await kit.wait(TIMEOUT);
    assert.deepEqual(kit.world.unflaggedGhosts(), []);
    assert.deepEqual(await Promise.all(['vm-1', 'vm-2'].map((id) => failedMembers(kit, id))), [stranger.engineId, stranger.engineId]);
  });
});
