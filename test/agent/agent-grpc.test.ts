// End to end: real agents (RedisBackend) over real gRPC on loopback, driven through the
// leader's AgentClient, with real redis-server processes. Every agent is stopped, every
// data node killed by pid and every temporary directory removed, even on failure.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import { closeCluster } from '../support/close-cluster.ts';
import { pino } from 'pino';
import { startAgent, type RunningAgent } from '../../agent/daemon.ts';
import { RedisBackend } from '../../agent/engines/redis/redis-backend.ts';
import { Leftovers, tempDir } from '../../agent/engines/redis/test-servers.ts';
import { isRunning } from '../../common/process-inspect.ts';
import { RawAgentClient } from '../../agent/test-harness.ts';
import { AgentClient } from '../../operator/agent-client/agent-client.ts';
import { InvalidArgumentError, StaleLeaderError, UnauthenticatedError } from '../../proto/status.ts';
import type { DataNode__Output } from '../../proto/generated/coxswain/agent/v1/DataNode.ts';
import { freePorts } from '../support/ports.ts';
import { killChild, spawnAgent, writeSecret as writeSecretFile } from './spawn-agent.ts';

const SECRET = 'e2e-cluster-secret-0a1b2c3d4e5f6789';
const job = (step: string): { jobId: string; stepId: string } => ({ jobId: 'e2e', stepId: step });

interface InProcessAgent {
  id: string;
  dataDir: string;
  backend: RedisBackend;
  agent: RunningAgent;
  client: AgentClient;
}

function writeSecret(dir: string): Promise<string> {
  return writeSecretFile(dir, SECRET);
}

function clusterClient(nodes: { host: string; port: number }[]): Cluster {
  const c = new Cluster(nodes, { redisOptions: { connectTimeout: 2000 }, clusterRetryStrategy: (n) => (n > 20 ? null : 100) });
  c.on('error', () => undefined);
  return c;
}

function nodeOf(nodes: readonly DataNode__Output[], id: string): DataNode__Output {
  const n = nodes.find((x) => x.id === id);
  assert.ok(n, `data node ${id} is reported`);
  return n;
}

test('agents over gRPC run a Redis cluster: start, form, replicate, write, fail over, stop/start, fence, dedupe', { timeout: 90_000 }, async (t) => {
  const leftovers = new Leftovers();
  const root = await tempDir('coxswain-agent-grpc-');
  leftovers.dirs.add(root);
  const secretFile = await writeSecret(root);
  const agents: InProcessAgent[] = [];
  const clients: AgentClient[] = [];
  const redisClients: Cluster[] = [];
  let epoch = 1;
  try {
    for (const [i, id] of ['vm-0', 'vm-1', 'vm-2'].entries()) {
      const dataDir = path.join(root, id);
      await mkdir(dataDir, { recursive: true });
      leftovers.baseDirs.add(path.join(dataDir, 'nodes'));
      const backend = await RedisBackend.open({ dir: dataDir, supervisor: { adoptedPollMs: 200, stopGraceMs: 10_000 } });
      const agent = await startAgent({
        agentId: id,
        zone: `zone-${i}`,
        dataDir,
        secretFile,
        backend,
        logger: pino({ level: 'silent' }),
        shutdownTimeoutMs: 2000,
      });
      const client = new AgentClient({ endpoint: agent.endpoint, secret: SECRET, epoch: () => epoch, deadlineMs: 60_000 });
      agents.push({ id, dataDir, backend, agent, client });
    }
    const [a0, a1, a2] = agents as [InProcessAgent, InProcessAgent, InProcessAgent];
    const ports = await freePorts(6, { withBus: true });
    // Primary p<k> of node group k on agent k; its replica r<k> on agent k+1.
    const placement = [0, 1, 2].flatMap((k) => [
      { id: `p${k}`, agent: agents[k]!, port: ports[2 * k]!, group: k },
      { id: `r${k}`, agent: agents[(k + 1) % 3]!, port: ports[2 * k + 1]!, group: k },
    ]);
    const addr = (id: string): { host: string; port: number } => ({ host: '127.0.0.1', port: placement.find((p) => p.id === id)!.port });

    await t.test('EnsureVersion and StartDataNode on every agent; the same idempotency key runs StartDataNode once', async () => {
      for (const a of agents) {
        const r = await a.client.ensureVersion({ job: job('ensure'), version: '7.0' });
        assert.deepEqual(r.installed?.programs, ['redis-server', 'redis-cli']);
      }
      const p0 = placement[0]!;
      const request = { job: job('start p0'), nodeId: p0.id, port: p0.port, version: '7.0', nodeGroup: p0.group };
      const first = await p0.agent.client.startDataNode(request, { idempotencyKey: 'start-p0' });
      const replay = await p0.agent.client.startDataNode(request, { idempotencyKey: 'start-p0' });
      // The replay returns the recorded outcome (changed: true, same pid); a second
      // execution would have answered "already running" with changed: false.
      assert.equal(first.outcome?.changed, true);
      assert.deepEqual(replay, first);
      const fresh = await p0.agent.client.startDataNode(request, { idempotencyKey: 'start-p0-again' });
      assert.equal(fresh.outcome?.changed, false);
      assert.equal(fresh.node?.pid, first.node?.pid);

      await Promise.all(
        placement.slice(1).map(async (p) => {
          const r = await p.agent.client.startDataNode({ job: job(`start ${p.id}`), nodeId: p.id, port: p.port, version: '7.0', nodeGroup: p.group });
          assert.equal(r.node?.up, true);
          assert.equal(r.node?.role, 'NODE_ROLE_NONE');
        }),
      );
      for (const a of agents) {
        const s = (await a.client.getState()).state!;
        assert.equal(s.agentId, a.id);
        assert.equal(s.dataNodes.length, 2);
        assert.ok(s.dataNodes.every((n) => n.up && n.pid > 0));
      }
    });

    const engineIds = new Map<string, string>();
    await t.test('JoinNode founds the cluster, joins two empty primaries, MoveData splits the slots, replicas join', async () => {
      // The contract's way to form N primaries: the founder takes every slot
      // (assign_slots without cluster_member), the others join empty, MoveData evens out.
      const thirds = [
        { start: 0, end: 5460 },
        { start: 5461, end: 10922 },
        { start: 10923, end: 16383 },
      ];
      const founder = await a0.client.joinNode({ job: job('join p0'), nodeId: 'p0', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [{ start: 0, end: 16383 }] });
      assert.equal(founder.node?.role, 'NODE_ROLE_PRIMARY');
      assert.deepEqual(founder.node?.slots, [{ start: 0, end: 16383 }]);
      engineIds.set('p0', founder.node!.engineNodeId);
      for (const k of [1, 2]) {
        const a = agents[k]!;
        const r = await a.client.joinNode({
          job: job(`join p${k}`),
          nodeId: `p${k}`,
          role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA',
          clusterMember: { ...addr('p0'), engineNodeId: engineIds.get('p0')! },
        });
        assert.equal(r.outcome?.changed, true);
        assert.equal(r.node?.role, 'NODE_ROLE_PRIMARY');
        assert.deepEqual(r.node?.slots, []);
        engineIds.set(`p${k}`, r.node!.engineNodeId);
      }
      for (const k of [1, 2]) {
        const moved = await a0.client.moveData({
          job: job(`move to p${k}`),
          sourceNodeId: 'p0',
          target: { ...addr(`p${k}`), engineNodeId: engineIds.get(`p${k}`)! },
          slots: { ranges: [thirds[k]!] },
        });
        assert.equal(moved.outcome?.changed, true);
        assert.deepEqual(moved.moved, [thirds[k]]);
      }
      const p0State = nodeOf((await a0.client.getState()).state!.dataNodes, 'p0');
      assert.deepEqual(p0State.slots, [thirds[0]]);
      // Repeating a join changes nothing.
      const repeat = await a1.client.joinNode({ job: job('join p1'), nodeId: 'p1', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', clusterMember: { ...addr('p0'), engineNodeId: engineIds.get('p0')! } });
      assert.equal(repeat.outcome?.changed, false);
      const repeatMove = await a0.client.moveData({
        job: job('move to p1'),
        sourceNodeId: 'p0',
        target: { ...addr('p1'), engineNodeId: engineIds.get('p1')! },
        slots: { ranges: [thirds[1]!] },
      });
      assert.equal(repeatMove.outcome?.changed, false);
      // Slots a third node serves (thirds[1] is p1's, not p0's nor p2's): the whole move is
      // refused and nothing moves (the simulated world, test/generative/world.ts, does the same).
      await assert.rejects(
        a0.client.moveData({
          job: job('move p1 slots to p2'),
          sourceNodeId: 'p0',
          target: { ...addr('p2'), engineNodeId: engineIds.get('p2')! },
          slots: { ranges: [thirds[0]!, thirds[1]!] },
        }),
        (err: unknown) => {
          assert.ok(err instanceof InvalidArgumentError, String(err));
          return true;
        },
      );
      assert.deepEqual(nodeOf((await a0.client.getState()).state!.dataNodes, 'p0').slots, [thirds[0]]);

      await Promise.all(
        [0, 1, 2].map(async (k) => {
          const host = agents[(k + 1) % 3]!;
          const primary = engineIds.get(`p${k}`)!;
          const r = await host.client.joinNode({
            job: job(`join r${k}`),
            nodeId: `r${k}`,
            role: 'JOIN_ROLE_REPLICA',
            clusterMember: { ...addr('p0'), engineNodeId: engineIds.get('p0')! },
            replicaOf: { ...addr(`p${k}`), engineNodeId: primary },
          });
          assert.equal(r.node?.role, 'NODE_ROLE_REPLICA');
          assert.equal(r.node?.primaryEngineNodeId, primary);
          engineIds.set(`r${k}`, r.node!.engineNodeId);
        }),
      );
      const s1 = (await a1.client.getState()).state!;
      assert.equal(nodeOf(s1.dataNodes, 'r0').primaryEngineNodeId, engineIds.get('p0'));
      assert.equal(nodeOf(s1.dataNodes, 'p1').engineParams['cluster_state'], 'ok');
    });

    await t.test('keys written with an ioredis Cluster client survive a Failover', async () => {
      const writer = clusterClient([addr('p0')]);
      redisClients.push(writer);
      for (let i = 0; i < 300; i++) await writer.set(`key:${i}`, `value-${i}`);
      assert.equal(await writer.get('key:7'), 'value-7');

      // r0 (on vm-1) replaces p0 (on vm-0).
      const r = await a1.client.failover({ job: job('failover r0'), nodeId: 'r0' });
      assert.equal(r.outcome?.changed, true);
      assert.equal(r.formerPrimaryEngineNodeId, engineIds.get('p0'));
      assert.equal(r.node?.role, 'NODE_ROLE_PRIMARY');
      assert.deepEqual(r.node?.slots, [{ start: 0, end: 5460 }]);
      const again = await a1.client.failover({ job: job('failover r0'), nodeId: 'r0' });
      assert.equal(again.outcome?.changed, false);
      const s0 = (await a0.client.getState()).state!;
      assert.equal(nodeOf(s0.dataNodes, 'p0').role, 'NODE_ROLE_REPLICA');

      const reader = clusterClient([addr('p1')]);
      redisClients.push(reader);
      for (let i = 0; i < 300; i += 37) assert.equal(await reader.get(`key:${i}`), `value-${i}`);
      await reader.set('after-failover', 'yes');
      assert.equal(await reader.get('after-failover'), 'yes');
    });

    await t.test('StopDataNode and StartDataNode keep the node, its role and its data', async () => {
      const stopped = await a0.client.stopDataNode({ job: job('stop p0'), nodeId: 'p0' });
      assert.equal(stopped.outcome?.changed, true);
      assert.equal(stopped.node?.up, false);
      assert.equal(stopped.node?.pid, 0);
      const p0 = placement[0]!;
      const started = await a0.client.startDataNode({ job: job('restart p0'), nodeId: 'p0', port: p0.port, version: '7.0', nodeGroup: 0 });
      assert.equal(started.outcome?.changed, true);
      assert.equal(started.node?.up, true);
      assert.equal(started.node?.engineNodeId, engineIds.get('p0'));
      // Back as a replica of r0 (its nodes.conf is kept).
      let role = started.node?.role;
      for (let i = 0; i < 100 && role !== 'NODE_ROLE_REPLICA'; i++) {
        await sleep(100);
        role = nodeOf((await a0.client.getState()).state!.dataNodes, 'p0').role;
      }
      assert.equal(role, 'NODE_ROLE_REPLICA');
    });

    await t.test('CreateBackup, ListBackups and DeleteBackup through a local sink', async () => {
      const sink = { local: { path: path.join(root, 'backups') } };
      const created = await a0.client.createBackup({ job: job('backup'), backupId: 'b1', sink });
      assert.equal(created.outcome?.changed, true);
      assert.equal(created.backup?.status, 'BACKUP_STATUS_COMPLETE');
      assert.equal(created.backup?.parts.length, 3);
      const again = await a0.client.createBackup({ job: job('backup'), backupId: 'b1', sink });
      assert.equal(again.outcome?.changed, false);
      assert.deepEqual((await a0.client.listBackups({ sink })).backups.map((b) => b.backupId), ['b1']);
      assert.deepEqual((await a0.client.getState()).state!.backups.map((b) => b.backupId), ['b1']);
      assert.equal((await a0.client.deleteBackup({ job: job('delete backup'), backupId: 'b1', sink })).outcome?.changed, true);
      assert.equal((await a0.client.deleteBackup({ job: job('delete backup'), backupId: 'b1', sink })).outcome?.changed, false);
      assert.deepEqual((await a0.client.listBackups({ sink })).backups, []);
    });

    await t.test('a missing or wrong credential is UNAUTHENTICATED; a stale epoch is FAILED_PRECONDITION', async () => {
      const wrong = new AgentClient({ endpoint: a2.agent.endpoint, secret: 'not-the-secret-at-all-123', epoch: () => epoch, maxAttempts: 1 });
      clients.push(wrong);
      await assert.rejects(wrong.getState(), UnauthenticatedError);
      const raw = new RawAgentClient(a2.agent.endpoint);
      try {
        const missing = await raw.call('GetState', {}, { authorization: undefined, epoch: String(epoch) });
        assert.equal(missing.ok, false);
        if (!missing.ok) assert.equal(missing.error.code, 16); // UNAUTHENTICATED
      } finally {
        raw.close();
      }

      epoch = 5;
      await a2.client.getState();
      const stale = new AgentClient({ endpoint: a2.agent.endpoint, secret: SECRET, epoch: () => 4, maxAttempts: 1 });
      clients.push(stale);
      await assert.rejects(stale.stopDataNode({ job: job('stale stop'), nodeId: 'p2' }), (err: unknown) => {
        assert.ok(err instanceof StaleLeaderError);
        assert.equal(err.code, 9); // FAILED_PRECONDITION
        return true;
      });
      // The stale call had no effect.
      assert.equal(nodeOf((await a2.client.getState()).state!.dataNodes, 'p2').up, true);
    });
  } finally {
    await Promise.all(redisClients.map(closeCluster));
    for (const c of clients) c.close();
    for (const a of agents) {
      a.client.close();
      await a.agent.stop().catch(() => undefined);
      await a.backend.close().catch(() => undefined);
    }
    await leftovers.cleanup();
  }
});

test('coxswain agent killed with SIGKILL: its data nodes keep serving and the next agent adopts the same pids', { timeout: 60_000 }, async () => {
  const leftovers = new Leftovers();
  const root = await tempDir('coxswain-agent-kill-');
  leftovers.dirs.add(root);
  const secretFile = await writeSecret(root);
  const dataDir = path.join(root, 'agent');
  leftovers.baseDirs.add(path.join(dataDir, 'nodes'));
  const children: ChildProcess[] = [];
  const clients: AgentClient[] = [];
  let writer: Cluster | undefined;
  const args = ['--data-dir', dataDir, '--secret-file', secretFile, '--agent-id', 'vm-k', '--zone', 'zone-k'];
  try {
    const first = await spawnAgent(args, path.join(root, 'first.log'));
    children.push(first.child);
    const c1 = new AgentClient({ endpoint: first.endpoint, secret: SECRET, epoch: () => 1, deadlineMs: 30_000 });
    clients.push(c1);
    const ports = await freePorts(2, { withBus: true });
    const pids = new Map<string, number>();
    for (const [i, id] of ['solo', 'solo-r'].entries()) {
      const r = await c1.startDataNode({ job: job(`start ${id}`), nodeId: id, port: ports[i]!, version: '7.0', nodeGroup: 0 });
      pids.set(id, r.node!.pid);
      leftovers.pids.add(r.node!.pid);
    }
    const primary = await c1.joinNode({ job: job('found'), nodeId: 'solo', role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', assignSlots: [{ start: 0, end: 16383 }] });
    await c1.joinNode({
      job: job('replica'),
      nodeId: 'solo-r',
      role: 'JOIN_ROLE_REPLICA',
      clusterMember: { host: '127.0.0.1', port: ports[0]!, engineNodeId: primary.node!.engineNodeId },
      replicaOf: { host: '127.0.0.1', port: ports[0]!, engineNodeId: primary.node!.engineNodeId },
    });
    writer = clusterClient([{ host: '127.0.0.1', port: ports[0]! }]);
    for (let i = 0; i < 100; i++) await writer.set(`k:${i}`, `v${i}`);

    first.child.kill('SIGKILL');
    await new Promise((resolve) => (first.child.exitCode !== null || first.child.signalCode !== null ? resolve(undefined) : first.child.once('exit', resolve)));
    for (const pid of pids.values()) assert.ok(await isRunning(pid), `data node pid ${pid} survives the agent's SIGKILL`);
    assert.equal(await writer.get('k:42'), 'v42');

    const second = await spawnAgent(args, path.join(root, 'second.log'));
    children.push(second.child);
    const c2 = new AgentClient({ endpoint: second.endpoint, secret: SECRET, epoch: () => 1, deadlineMs: 30_000 });
    clients.push(c2);
    const state = (await c2.getState()).state!;
    assert.equal(state.agentId, 'vm-k');
    for (const [id, pid] of pids) {
      const n = nodeOf(state.dataNodes, id);
      assert.equal(n.pid, pid, `${id} adopted with the same pid`);
      assert.equal(n.up, true);
    }
    assert.equal(nodeOf(state.dataNodes, 'solo-r').role, 'NODE_ROLE_REPLICA');
    for (let i = 0; i < 100; i += 9) assert.equal(await writer.get(`k:${i}`), `v${i}`);

    // A graceful stop (SIGTERM) leaves the data nodes running too.
    const exited = new Promise<number | null>((resolve) => second.child.once('exit', (code) => resolve(code)));
    second.child.kill('SIGTERM');
    assert.equal(await exited, 0);
    for (const pid of pids.values()) assert.ok(await isRunning(pid), `data node pid ${pid} survives the agent's SIGTERM`);
  } finally {
    if (writer !== undefined) await closeCluster(writer);
    for (const c of clients) c.close();
    for (const child of children) await killChild(child);
    await leftovers.cleanup();
  }
});
