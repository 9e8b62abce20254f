// ForgetNode and the failed_members observation, over real gRPC with real agents
// (RedisBackend) and real redis-server 7.0 / valkey-server 8.0 processes. vm-a runs three
// primaries and a replica of an empty primary ("ghost") that runs on vm-b; the ghost is
// killed with SIGKILL, as a lost VM's node would be, and the cluster flags it `fail`.
// Then what the leader observes (failed_members on every member) and what ForgetNode
// does: the members forget it (changed, then no change), and it refuses the node
// itself, a live member, the replica's own primary, a failed primary that serves slots
// and a stopped local node. Every agent is stopped, every data node killed by pid and
// every temporary directory removed, even on failure.
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { startAgent, type RunningAgent } from '../../agent/daemon.ts';
import { RedisBackend } from '../../agent/engines/redis/redis-backend.ts';
import { command, withNode } from '../../agent/engines/redis/redis-connection.ts';
import { Leftovers, killServer, tempDir } from '../../agent/engines/redis/test-servers.ts';
import { parseClusterNodes } from '../../agent/engines/redis/topology.ts';
import { AgentClient } from '../../operator/agent-client/agent-client.ts';
import { FailedPreconditionError, NotFoundError } from '../../proto/status.ts';
import type { DataNode__Output } from '../../proto/generated/coxswain/agent/v1/DataNode.ts';
import { freePorts } from '../support/ports.ts';

const SECRET = 'e2e-cluster-secret-0a1b2c3d4e5f6789';
const job = (step: string): { jobId: string; stepId: string } => ({ jobId: 'forget', stepId: step });
const SHARES = [
  { start: 0, end: 5460 },
  { start: 5461, end: 10922 },
  { start: 10923, end: 16383 },
];
const PRIMARIES = ['p0', 'p1', 'p2'];

interface InProcessAgent {
  id: string;
  backend: RedisBackend;
  agent: RunningAgent;
  client: AgentClient;
}

/** Asserts that `p` rejects with FAILED_PRECONDITION of `reason` and a message matching `text`. */
async function refused(p: Promise<unknown>, reason: string, text: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof FailedPreconditionError, String(err));
    assert.equal(err.reason, reason, err.message);
    assert.match(err.message, text);
    return true;
  });
}

for (const version of ['7.0', '8.0'] as const) {
  test(`${version}: a killed node is reported in failed_members; ForgetNode makes each member forget it, and refuses what is not a dead, slotless member`, { timeout: 120_000 }, async () => {
    const leftovers = new Leftovers();
    const root = await tempDir(`coxswain-forget-${version}-`);
    leftovers.dirs.add(root);
    const secretFile = path.join(root, 'cluster-secret');
    await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });
    await chmod(secretFile, 0o600);
    const agents: InProcessAgent[] = [];
    try {
      for (const id of ['vm-a', 'vm-b']) {
        const dataDir = path.join(root, id);
        await mkdir(dataDir, { recursive: true });
        leftovers.baseDirs.add(path.join(dataDir, 'nodes'));
        const backend = await RedisBackend.open({ dir: dataDir, supervisor: { adoptedPollMs: 200, stopGraceMs: 10_000 } });
        const agent = await startAgent({ agentId: id, zone: 'zone-0', dataDir, secretFile, backend, logger: pino({ level: 'silent' }), shutdownTimeoutMs: 2000 });
        agents.push({ id, backend, agent, client: new AgentClient({ endpoint: agent.endpoint, secret: SECRET, epoch: () => 1, deadlineMs: 60_000, maxAttempts: 1 }) });
      }
      const [a, b] = agents as [InProcessAgent, InProcessAgent];
      const ports = await freePorts(5, { withBus: true });
      const placement = [
        ...PRIMARIES.map((id, k) => ({ id, agent: a, port: ports[k]!, group: k })),
        { id: 'ghost', agent: b, port: ports[3]!, group: 3 },
        { id: 'r', agent: a, port: ports[4]!, group: 3 },
      ];
      const at = (id: string): (typeof placement)[number] => placement.find((p) => p.id === id)!;
      const engineIds = new Map<string, string>();
      const pids = new Map<string, number>();
      await Promise.all(
        placement.map(async (p) => {
          const r = await p.agent.client.startDataNode({ job: job(`start ${p.id}`), nodeId: p.id, port: p.port, version, nodeGroup: p.group });
          leftovers.pids.add(r.node!.pid);
          pids.set(p.id, r.node!.pid);
          engineIds.set(p.id, r.node!.engineNodeId);
        }),
      );
      const idOf = (id: string): string => engineIds.get(id)!;

      // Three primaries (one, then two through it), an empty primary on vm-b, and a
      // replica of it on vm-a.
      await a.client.joinNode({ job: job('found'), nodeId: 'p0', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [SHARES[0]!] });
      const member = { host: '127.0.0.1', port: at('p0').port, engineNodeId: idOf('p0') };
      await Promise.all(
        [1, 2].map((k) => a.client.joinNode({ job: job(`join p${k}`), nodeId: `p${k}`, role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', clusterMember: member, assignSlots: [SHARES[k]!] })),
      );
      const ghost = await b.client.joinNode({ job: job('join ghost'), nodeId: 'ghost', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', clusterMember: member });
      assert.equal(ghost.node?.role, 'NODE_ROLE_PRIMARY');
      assert.deepEqual(ghost.node?.slots, []);
      const replica = await a.client.joinNode({
        job: job('join r'),
        nodeId: 'r',
        role: 'JOIN_ROLE_REPLICA',
        clusterMember: member,
        replicaOf: { host: '127.0.0.1', port: at('ghost').port, engineNodeId: idOf('ghost') },
      });
      assert.equal(replica.node?.primaryEngineNodeId, idOf('ghost'));
      const nodesOfA = async (): Promise<Map<string, DataNode__Output>> =>
        new Map((await a.client.getState()).state!.dataNodes.map((n) => [n.id, n]));
      for (const n of (await nodesOfA()).values()) assert.equal(n.engineParams['failed_members'], undefined, `${n.id}: no failed member yet`);

      // The ghost's VM is lost: its node is killed, and the cluster flags it fail.
      const killedAt = performance.now();
      await killServer(pids.get('ghost')!);
      let nodes = await nodesOfA();
      for (let i = 0; i < 150 && [...nodes.values()].some((n) => n.engineParams['failed_members'] !== idOf('ghost')); i++) {
        await sleep(200);
        nodes = await nodesOfA();
      }
      for (const id of [...PRIMARIES, 'r']) assert.equal(nodes.get(id)?.engineParams['failed_members'], idOf('ghost'), `${id} reports the ghost as failed`);
      console.log(`${version}: the ghost was flagged fail by every member ${((performance.now() - killedAt) / 1000).toFixed(1)} s after the kill`);

      // Refusals.
      const forget = (nodeId: string, engineNodeId: string, step = `forget on ${nodeId}`): ReturnType<AgentClient['forgetNode']> =>
        a.client.forgetNode({ job: job(step), nodeId, engineNodeId });
      await refused(forget('p0', idOf('p0')), 'NOT_FAILED', /data node p0 itself/);
      await refused(forget('p0', idOf('p1')), 'NOT_FAILED', /does not flag it failed.*RemoveNode on the agent that runs it/s);
      await refused(forget('r', idOf('ghost')), 'WRONG_ROLE', /data node r is its replica/);
      await assert.rejects(forget('nope', idOf('ghost')), NotFoundError);
      const unknown = 'abcdef0123456789abcdef0123456789abcdef01';
      const nothing = await forget('p0', unknown);
      assert.equal(nothing.outcome?.changed, false);
      assert.equal(nothing.outcome?.message, `Data node p0 does not know node ${unknown}; nothing to forget`);

      // Every primary forgets the ghost (within the 60 s ban of each other). Valkey 8.0,
      // like Redis 7.2 and later, gossips the ban to the other members, so a
      // later primary may have forgotten it already by the time it is asked: that answer
      // is "nothing to forget", changed false. The first one asked must do the work, and
      // on Redis 7.0 (no such gossip) every one.
      for (const [k, id] of PRIMARIES.entries()) {
        const res = await forget(id, idOf('ghost'));
        const forgot = new RegExp(`^Data node ${id} forgot failed node ${idOf('ghost').slice(0, 8)}… \\(127\\.0\\.0\\.1:${at('ghost').port}\\)$`);
        if (version === '7.0' || k === 0 || res.outcome?.changed === true) {
          assert.equal(res.outcome?.changed, true, res.outcome?.message);
          assert.match(res.outcome?.message ?? '', forgot);
        } else {
          assert.equal(res.outcome?.message, `Data node ${id} does not know node ${idOf('ghost')}; nothing to forget`);
        }
        assert.equal(res.node?.id, id);
        assert.equal(res.node?.engineParams['failed_members'], undefined, `${id}: no failed member left`);
      }
      for (const id of PRIMARIES) {
        const text = await withNode({ host: '127.0.0.1', port: at(id).port }, (c) => command<string>(c, 'CLUSTER', 'NODES'));
        assert.ok(!parseClusterNodes(String(text)).some((r) => r.id === idOf('ghost')), `${id} does not list the ghost any more`);
        const again = await forget(id, idOf('ghost'), `forget again on ${id}`);
        assert.equal(again.outcome?.changed, false);
        assert.match(again.outcome?.message ?? '', /nothing to forget/);
      }
      nodes = await nodesOfA();
      for (const id of PRIMARIES) assert.equal(nodes.get(id)?.engineParams['failed_members'], undefined);
      assert.equal(nodes.get('r')?.engineParams['failed_members'], idOf('ghost'), 'the replica still knows its primary');

      // A failed primary that serves slots is not forgotten, and not reported as a failed member.
      await killServer(pids.get('p2')!);
      let flagged = false;
      for (let i = 0; i < 150 && !flagged; i++) {
        const text = await withNode({ host: '127.0.0.1', port: at('p0').port }, (c) => command<string>(c, 'CLUSTER', 'NODES'));
        flagged = parseClusterNodes(String(text)).some((x) => x.id === idOf('p2') && x.flags.includes('fail'));
        if (!flagged) await sleep(200);
      }
      assert.ok(flagged, 'p0 flags the killed p2 fail');
      await refused(forget('p0', idOf('p2')), 'NOT_EMPTY', /serves slots 10923-16383/);
      assert.equal((await nodesOfA()).get('p0')?.engineParams['failed_members'], undefined);

      // A stopped local node cannot forget.
      await a.client.stopDataNode({ job: job('stop r'), nodeId: 'r' });
      await refused(forget('r', idOf('ghost')), 'FAILED_PRECONDITION', /data node r is not running/);
    } finally {
      for (const x of agents) {
        x.client.close();
        await x.agent.stop().catch(() => undefined);
        await x.backend.close().catch(() => undefined);
      }
      await leftovers.cleanup();
    }
  });
}
