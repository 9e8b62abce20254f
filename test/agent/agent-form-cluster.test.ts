// Founding a 3 × 2 cluster exactly as the leader does it, through the contract, over
// real gRPC with real agents (RedisBackend) and real redis-server 7.0 processes:
//   1. StartDataNode on every agent (with the leader's labels);
//   2. ng0's primary: JoinNode(PRIMARY_WITHOUT_DATA, no cluster_member, its share);
//   3. ng1's and ng2's primaries IN PARALLEL: JoinNode(cluster_member = ng0's primary,
//      their shares);
//   4. the replicas IN PARALLEL: JoinNode(REPLICA).
// Then what the leader observes: every node's topology_digest equal, replicas in sync,
// cluster_state ok, the labels; a repeat changes nothing; slots that are served cannot
// be claimed. The phases are timed and printed beside the bare `--cluster create`
// baseline (docs/redis-cluster.md). Every agent is stopped, every data node killed by
// pid and every temporary directory removed, even on failure.
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import { closeCluster } from '../support/close-cluster.ts';
import { pino } from 'pino';
import { startAgent, type RunningAgent } from '../../agent/daemon.ts';
import { RedisBackend } from '../../agent/engines/redis/redis-backend.ts';
import { Leftovers, tempDir } from '../../agent/engines/redis/test-servers.ts';
import { AgentClient } from '../../operator/agent-client/agent-client.ts';
import { FailedPreconditionError } from '../../proto/status.ts';
import type { DataNode__Output } from '../../proto/generated/coxswain/agent/v1/DataNode.ts';
import { freePorts } from '../support/ports.ts';

const SECRET = 'e2e-cluster-secret-0a1b2c3d4e5f6789';
const job = (step: string): { jobId: string; stepId: string } => ({ jobId: 'form', stepId: step });
const SHARES = [
  { start: 0, end: 5460 },
  { start: 5461, end: 10922 },
  { start: 10923, end: 16383 },
];
/**
 * The leader starts the data nodes, observes them, then founds the cluster: more than
 * the 2 s in which a freshly started Redis primary does not judge its cluster state,
 * so the founding below waits that long too (the realistic, slower case).
 */
const PAUSE_AFTER_START_MS = 2500;

interface InProcessAgent {
  id: string;
  backend: RedisBackend;
  agent: RunningAgent;
  client: AgentClient;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

test('the leader founds 3 primaries (one, then two in parallel) and 3 replicas (in parallel) through JoinNode', { timeout: 90_000 }, async () => {
  const leftovers = new Leftovers();
  const root = await tempDir('coxswain-form-');
  leftovers.dirs.add(root);
  const secretFile = path.join(root, 'cluster-secret');
  await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });
  await chmod(secretFile, 0o600);
  const agents: InProcessAgent[] = [];
  let redis: Cluster | undefined;
  try {
    for (const [i, id] of ['vm-0', 'vm-1', 'vm-2'].entries()) {
      const dataDir = path.join(root, id);
      await mkdir(dataDir, { recursive: true });
      leftovers.baseDirs.add(path.join(dataDir, 'nodes'));
      const backend = await RedisBackend.open({ dir: dataDir, supervisor: { adoptedPollMs: 200, stopGraceMs: 10_000 } });
      const agent = await startAgent({ agentId: id, zone: `zone-${i}`, dataDir, secretFile, backend, logger: pino({ level: 'silent' }), shutdownTimeoutMs: 2000 });
      agents.push({ id, backend, agent, client: new AgentClient({ endpoint: agent.endpoint, secret: SECRET, epoch: () => 1, deadlineMs: 60_000, maxAttempts: 1 }) });
    }
    const ports = await freePorts(6, { withBus: true });
    // Primary ng<k>-p on vm-k, its replica ng<k>-r on vm-(k+1).
    const placement = [0, 1, 2].flatMap((k) => [
      { id: `ng${k}-p`, agent: agents[k]!, port: ports[2 * k]!, group: k },
      { id: `ng${k}-r`, agent: agents[(k + 1) % 3]!, port: ports[2 * k + 1]!, group: k },
    ]);
    const at = (id: string): (typeof placement)[number] => placement.find((p) => p.id === id)!;
    const labels = (group: number): Record<string, string> => ({ 'coxswain.io/running-since': '1', 'coxswain.io/config': '{}', 'coxswain.io/test-group': String(group) });

    const t0 = performance.now();
    await Promise.all(
      placement.map(async (p) => {
        const r = await p.agent.client.startDataNode({ job: job(`start ${p.id}`), nodeId: p.id, port: p.port, version: '7.0', nodeGroup: p.group, labels: labels(p.group) });
        assert.equal(r.node?.role, 'NODE_ROLE_NONE');
        assert.deepEqual(r.node?.labels, labels(p.group));
        leftovers.pids.add(r.node!.pid);
      }),
    );
    const startMs = performance.now() - t0;
    await sleep(PAUSE_AFTER_START_MS);

    const t1 = performance.now();
    const founder = await at('ng0-p').agent.client.joinNode({ job: job('found'), nodeId: 'ng0-p', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [SHARES[0]!] });
    assert.equal(founder.outcome?.changed, true);
    assert.deepEqual(founder.node?.slots, [SHARES[0]]);
    const member = { host: '127.0.0.1', port: at('ng0-p').port, engineNodeId: founder.node!.engineNodeId };
    const t2 = performance.now();
    const primaries = await Promise.all(
      [1, 2].map((k) =>
        at(`ng${k}-p`).agent.client.joinNode({ job: job(`join ng${k}-p`), nodeId: `ng${k}-p`, role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', clusterMember: member, assignSlots: [SHARES[k]!] }),
      ),
    );
    const t3 = performance.now();
    const engineIds = new Map<string, string>([['ng0-p', founder.node!.engineNodeId]]);
    for (const [i, r] of primaries.entries()) {
      assert.equal(r.outcome?.changed, true);
      assert.equal(r.node?.role, 'NODE_ROLE_PRIMARY');
      assert.deepEqual(r.node?.slots, [SHARES[i + 1]]);
      engineIds.set(`ng${i + 1}-p`, r.node!.engineNodeId);
    }
    await Promise.all(
      [0, 1, 2].map(async (k) => {
        const p = at(`ng${k}-p`);
        const r = await at(`ng${k}-r`).agent.client.joinNode({
          job: job(`join ng${k}-r`),
          nodeId: `ng${k}-r`,
          role: 'JOIN_ROLE_REPLICA',
          replicaOf: { host: '127.0.0.1', port: p.port, engineNodeId: engineIds.get(p.id)! },
        });
        assert.equal(r.node?.role, 'NODE_ROLE_REPLICA');
        assert.equal(r.node?.primaryEngineNodeId, engineIds.get(p.id));
      }),
    );
    const t4 = performance.now();

    // What the leader observes now: one digest everywhere, replicas in sync, cluster_state ok.
    const nodes: DataNode__Output[] = (await Promise.all(agents.map(async (a) => (await a.client.getState()).state!.dataNodes))).flat();
    const t5 = performance.now();
    assert.equal(nodes.length, 6);
    const digests = new Set(nodes.map((n) => n.engineParams['topology_digest']));
    assert.equal(digests.size, 1, `one topology digest on all nodes: ${[...digests].join(', ')}`);
    assert.match([...digests][0] ?? '', /^[0-9a-f]{16}$/);
    for (const n of nodes) {
      assert.equal(n.engineParams['cluster_state'], 'ok', `${n.id} cluster_state`);
      assert.equal(n.engineParams['known_nodes'], '6', `${n.id} knows every node`);
      assert.deepEqual(n.labels, labels(n.nodeGroup), `${n.id} labels`);
      if (n.role === 'NODE_ROLE_REPLICA') {
        assert.equal(n.engineParams['in_sync'], 'yes', `${n.id} in sync`);
        assert.equal(n.engineParams['master_link_status'], 'up');
      } else {
        assert.equal(n.engineParams['in_sync'], undefined);
      }
    }

    const form = t4 - t1;
    console.log(
      [
        `form 3x2 through JoinNode: start 6 nodes ${seconds(startMs)} (then ${seconds(PAUSE_AFTER_START_MS)} as the leader observes)`,
        `  found ng0 ${seconds(t2 - t1)}; ng1 + ng2 in parallel ${seconds(t3 - t2)}; 3 replicas in parallel ${seconds(t4 - t3)}`,
        `  formed, agreed, cluster_state ok, replicas in sync: ${seconds(form)} after the founding (GetState of 3 agents: ${(t5 - t4).toFixed(0)} ms)`,
        '  baseline (docs/redis-cluster.md, redis-cli --cluster create): 1.0 s + 2-4 s to cluster_state:ok + 1.6-3.1 s to agreement = 4.6-8.1 s',
      ].join('\n'),
    );

    // The cluster serves: a cluster client writes and reads through any node.
    redis = new Cluster([{ host: '127.0.0.1', port: at('ng2-r').port }], { redisOptions: { connectTimeout: 2000 } });
    redis.on('error', () => undefined);
    for (let i = 0; i < 200; i++) await redis.set(`k${i}`, `v${i}`);
    assert.equal(await redis.get('k123'), 'v123');

    // Repeats change nothing (the leader repeats a step whose answer it missed).
    const again = await at('ng1-p').agent.client.joinNode({ job: job('join ng1-p'), nodeId: 'ng1-p', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', clusterMember: member, assignSlots: [SHARES[1]!] });
    assert.equal(again.outcome?.changed, false);
    const foundAgain = await at('ng0-p').agent.client.joinNode({ job: job('found'), nodeId: 'ng0-p', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [SHARES[0]!] });
    assert.equal(foundAgain.outcome?.changed, false);

    // A new primary may not claim served slots: FAILED_PRECONDITION naming the owner.
    const [extraPort] = (await freePorts(1, { withBus: true })) as [number];
    const extra = await agents[0]!.client.startDataNode({ job: job('start extra'), nodeId: 'extra', port: extraPort, version: '7.0', nodeGroup: 3 });
    leftovers.pids.add(extra.node!.pid);
    await assert.rejects(
      agents[0]!.client.joinNode({ job: job('join extra'), nodeId: 'extra', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', clusterMember: member, assignSlots: [{ start: 6000, end: 6010 }] }),
      (err: unknown) => {
        assert.ok(err instanceof FailedPreconditionError, String(err));
        assert.equal(err.reason, 'SLOTS_OWNED');
        assert.match(err.message, new RegExp(`6000-6010 by node ${engineIds.get('ng1-p')!.slice(0, 8)}`));
        return true;
      },
    );
    // Nothing happened: the node did not join, the slots stay ng1's.
    const ng1 = (await at('ng1-p').agent.client.getState()).state!.dataNodes.find((n) => n.id === 'ng1-p');
    assert.deepEqual(ng1?.slots, [SHARES[1]]);
    const extraNode = (await agents[0]!.client.getState()).state!.dataNodes.find((n) => n.id === 'extra');
    assert.equal(extraNode?.role, 'NODE_ROLE_NONE');
  } finally {
    if (redis !== undefined) await closeCluster(redis);
    for (const a of agents) {
      a.client.close();
      await a.agent.stop().catch(() => undefined);
      await a.backend.close().catch(() => undefined);
    }
    await leftovers.cleanup();
  }
});
